package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Stats counts jobs (of every kind) by River state: "available",
// "scheduled", "running", "retryable", "completed", ... (queue depth for
// /metrics).
func (c *Client) Stats(ctx context.Context) (map[string]int, error) {
	counts, err := countByState(ctx, c.e.executor())
	if err != nil {
		return nil, fmt.Errorf("counting jobs: %w", err)
	}
	out := make(map[string]int, len(counts))
	for _, s := range rivertype.JobStates() {
		out[string(s)] = counts[s]
	}
	return out, nil
}

// PendingJob is a reconcile job that has not finished.
type PendingJob struct {
	PRKey       string
	JobID       int64
	State       string // available, scheduled, running, retryable or pending
	ScheduledAt time.Time
	Attempt     int
	// Position is 1 for the job that runs next; running jobs are 0.
	Position int
}

// Pending lists unfinished reconcile jobs in the order they will run
// (running first), for the dashboard's queue positions.
func (c *Client) Pending(ctx context.Context) ([]PendingJob, error) {
	jobs, err := c.pendingJobs(ctx, pendingStates...)
	if err != nil {
		return nil, err
	}
	out := make([]PendingJob, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, PendingJob{PRKey: j.key, JobID: j.row.ID, State: string(j.row.State),
			ScheduledAt: j.row.ScheduledAt, Attempt: j.row.Attempt})
	}
	// Running jobs first (rank 0), then the others in the order they will run.
	rank := func(j PendingJob) int {
		if j.State == string(rivertype.JobStateRunning) {
			return 0
		}
		return 1
	}
	slices.SortFunc(out, func(a, b PendingJob) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), a.ScheduledAt.Compare(b.ScheduledAt), cmp.Compare(a.JobID, b.JobID))
	})
	pos := 0
	for i := range out {
		if rank(out[i]) > 0 {
			pos++
			out[i].Position = pos
		}
	}
	return out, nil
}

type keyedJob struct {
	key string
	row *rivertype.JobRow
}

func (c *Client) pendingJobs(ctx context.Context, states ...rivertype.JobState) ([]keyedJob, error) {
	params := river.NewJobListParams().Kinds(KindReconcile).States(states...).First(10000)
	var out []keyedJob
	for {
		res, err := c.e.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("listing jobs: %w", err)
		}
		for _, row := range res.Jobs {
			var a ReconcileArgs
			if err := json.Unmarshal(row.EncodedArgs, &a); err != nil {
				continue // not ours to judge; River will fail it
			}
			out = append(out, keyedJob{key: a.PRKey, row: row})
		}
		if len(res.Jobs) < 10000 || res.LastCursor == nil {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}

// RegisterMetrics registers a collector of queue depth by state
// (hasura_preview_jobs{state}), read from the database at scrape time.
func (c *Client) RegisterMetrics(reg prometheus.Registerer) error {
	return reg.Register(&statsCollector{c: c, desc: prometheus.NewDesc(
		"hasura_preview_jobs", "River jobs by state.", []string{"state"}, nil)})
}

type statsCollector struct {
	c    *Client
	desc *prometheus.Desc
}

func (s *statsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

func (s *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stats, err := s.c.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(s.desc, err)
		return
	}
	for state, n := range stats {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(n), state)
	}
}
