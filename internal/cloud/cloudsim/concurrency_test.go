package cloudsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// tryPost is post for goroutines other than the test's, which must not
// call t.Fatal.
func tryPost(url string, body gqlBody) (int, []byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "pat "+testPAT)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// TestConcurrentClients hammers one simulator from many goroutines while
// the clock moves and faults are injected; run with -race it checks the
// locking, and the counters must add up afterwards.
func TestConcurrentClients(t *testing.T) {
	e := newSim(t, func(o *Options) { o.TaskDuration = 10 * time.Millisecond; o.CreationDuration = 20 * time.Millisecond })
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := map[string]int{}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("conc-%d", w)
			for i := range rounds {
				switch i % 5 {
				case 0:
					e.sim.Inject(Fault{Op: "projects", Kind: FaultServerError})
				case 1:
					e.clock.Advance(7 * time.Millisecond)
				case 2:
					e.sim.Project(name)
					e.sim.Jobs(name)
				}
				queries := []struct {
					op, q string
					vars  map[string]any
				}{
					{"createGitHubPreviewApp", createMutation, map[string]any{"name": name, "token": "t"}},
					{"projects", byName, map[string]any{"n": name}},
				}
				for _, c := range queries {
					status, body, err := tryPost(e.url, gqlBody{Query: c.q, Variables: c.vars})
					if err != nil {
						t.Error(err)
						return
					}
					var resp struct {
						Data   map[string]any `json:"data"`
						Errors []any          `json:"errors"`
					}
					if status == 200 && json.Unmarshal(body, &resp) == nil && resp.Errors == nil {
						mu.Lock()
						ok[c.op]++
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	if got := e.sim.Count("createGitHubPreviewApp"); got != workers*rounds || ok["createGitHubPreviewApp"] != got {
		t.Errorf("creates: executed %d, answered %d, want %d", got, ok["createGitHubPreviewApp"], workers*rounds)
	}
	if got, want := e.sim.Count("projects"), ok["projects"]; got != want || e.sim.Requests("projects") != workers*rounds {
		t.Errorf("projects: executed %d, answered ok %d, requests %d", got, want, e.sim.Requests("projects"))
	}
	// Whatever the interleaving, once time has passed every job is over:
	// superseded ones skipped, finished deployments complete, and the last
	// job of each name a successful deployment.
	e.clock.Advance(time.Hour)
	for w := range workers {
		jobs := e.sim.Jobs(fmt.Sprintf("conc-%d", w))
		for _, j := range jobs {
			switch {
			case j.Status == StatusSkipped:
			case j.Status == StatusSuccess && j.Kind == KindCreation:
			case j.Status == StatusSuccess && j.Kind == KindDeployment && len(j.Tasks) == len(deploymentTasks):
			default:
				t.Errorf("worker %d: job %s %s with %d tasks", w, j.Kind, j.Status, len(j.Tasks))
			}
		}
		if last := jobs[len(jobs)-1]; last.Kind != KindDeployment || last.Status != StatusSuccess {
			t.Errorf("worker %d: last job %s %s", w, last.Kind, last.Status)
		}
	}
}
