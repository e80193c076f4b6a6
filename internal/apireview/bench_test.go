package apireview

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"
)

// benchProject generates a v3 project of n tables over two databases and
// 50 roles: each table has select for 10 roles (the 50 in turn), insert,
// update and delete for 2, two relationships, and every tenth an event
// trigger; plus 50 actions and one migration per ten tables. head changes
// 5% of the rules (a lost conjunct), adds 10 tables, drops 5 and adds a
// destructive migration.
func benchProject(n int, head bool) fstest.MapFS {
	const roles = 50
	m := fstest.MapFS{
		"config.yaml": {Data: []byte("version: 3\nmetadata_directory: metadata\n")},
		"metadata/databases/databases.yaml": {Data: []byte(
			"- name: default\n  kind: postgres\n  tables: \"!include default/tables/tables.yaml\"\n" +
				"- name: other\n  kind: postgres\n  tables: \"!include other/tables/tables.yaml\"\n")},
	}
	lists := map[string]*strings.Builder{"default": {}, "other": {}}
	total := n
	if head {
		total += 10
	}
	for i := 0; i < total; i++ {
		if head && i >= 5 && i < 10 {
			continue // dropped
		}
		db := "default"
		if i%2 == 1 {
			db = "other"
		}
		name := fmt.Sprintf("t%04d", i)
		var b strings.Builder
		fmt.Fprintf(&b, "table:\n  schema: public\n  name: %s\n", name)
		fmt.Fprintf(&b, "object_relationships:\n- name: owner\n  using:\n    foreign_key_constraint_on: owner_id\n")
		fmt.Fprintf(&b, "array_relationships:\n- name: children\n  using:\n    foreign_key_constraint_on:\n      column: parent_id\n      table:\n        schema: public\n        name: t%04d\n", (i+1)%n)
		b.WriteString("select_permissions:\n")
		for k := 0; k < 10; k++ {
			role := (i*10 + k) % roles
			loose := head && i%20 == 0 && k == 0
			fmt.Fprintf(&b, "- role: role%02d\n  permission:\n    columns:\n    - id\n    - name\n    - owner_id\n    - created_at\n    filter:\n      _and:\n      - owner_id:\n          _eq: X-Hasura-User-Id\n", role)
			if !loose {
				b.WriteString("      - deleted_at:\n          _is_null: true\n")
			}
			b.WriteString("    allow_aggregations: true\n")
		}
		for _, op := range []string{"insert", "update", "delete"} {
			fmt.Fprintf(&b, "%s_permissions:\n", op)
			for k := 0; k < 2; k++ {
				role := (i*10 + k) % roles
				fmt.Fprintf(&b, "- role: role%02d\n  permission:\n", role)
				switch op {
				case "insert":
					b.WriteString("    check:\n      owner_id:\n        _eq: X-Hasura-User-Id\n    columns:\n    - name\n    set:\n      owner_id: x-hasura-User-Id\n")
				case "update":
					b.WriteString("    columns:\n    - name\n    filter:\n      owner_id:\n        _eq: X-Hasura-User-Id\n    check: null\n")
				default:
					b.WriteString("    filter:\n      owner_id:\n        _eq: X-Hasura-User-Id\n")
				}
			}
		}
		if i%10 == 0 {
			fmt.Fprintf(&b, "event_triggers:\n- name: %s_changed\n  definition:\n    enable_manual: false\n    update:\n      columns: '*'\n  retry_conf:\n    num_retries: 0\n    interval_sec: 10\n    timeout_sec: 60\n  webhook_from_env: EVENTS_URL\n", name)
		}
		m[fmt.Sprintf("metadata/databases/%s/tables/public_%s.yaml", db, name)] = &fstest.MapFile{Data: []byte(b.String())}
		fmt.Fprintf(lists[db], "- \"!include public_%s.yaml\"\n", name)
		if i%10 == 0 {
			m[fmt.Sprintf("migrations/%s/%d_create_%s/up.sql", db, 1600000000000+i, name)] = &fstest.MapFile{Data: []byte(
				fmt.Sprintf("CREATE TABLE public.%s (id serial PRIMARY KEY, name text, owner_id text, parent_id int, created_at timestamptz DEFAULT now(), deleted_at timestamptz);\nCOMMENT ON TABLE public.%s IS 'it''s a table; DROP it? no';\n", name, name))}
		}
	}
	for db, l := range lists {
		m["metadata/databases/"+db+"/tables/tables.yaml"] = &fstest.MapFile{Data: []byte(l.String())}
	}
	var acts strings.Builder
	acts.WriteString("actions:\n")
	for a := 0; a < 50; a++ {
		fmt.Fprintf(&acts, "- name: action%02d\n  definition:\n    kind: synchronous\n    handler: '{{ACTIONS_URL}}/a%02d'\n  permissions:\n  - role: role%02d\n", a, a, a)
	}
	m["metadata/actions.yaml"] = &fstest.MapFile{Data: []byte(acts.String())}
	if head {
		m["migrations/default/1700000000000_cleanup/up.sql"] = &fstest.MapFile{Data: []byte("ALTER TABLE public.t0002 DROP COLUMN deleted_at;\nDELETE FROM public.t0004;\n")}
	}
	return m
}

func projectBytes(m fstest.MapFS) int {
	n := 0
	for _, f := range m {
		n += len(f.Data)
	}
	return n
}

// BenchmarkLoadOneSide is the baseline: reading one side only.
func BenchmarkLoadOneSide(b *testing.B) {
	head := benchProject(1000, true)
	b.ReportAllocs()
	b.SetBytes(int64(projectBytes(head)))
	cpu := cpuTime()
	for b.Loop() {
		if p := Load(head, Limits{}); len(p.Tables) != 1005 {
			b.Fatalf("%d tables, problems %v", len(p.Tables), p.Problems)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(peakHeap(func() { Load(head, Limits{}) })/(1<<20), "peak-heap-MiB")
}

// BenchmarkReview is the whole review of a 1,000-table, 50-role project:
// both sides read, diffed and rendered. peak-heap-MiB is the largest live
// heap seen during one more run, sampled every millisecond.
func BenchmarkReview(b *testing.B) {
	benchReview(b, benchProject(1000, false), benchProject(1000, true))
}

// BenchmarkReviewEveryFileChanged is the worst case for LoadPair: every
// file of head differs from base (a trailing comment), so nothing is
// shared and both sides are parsed in full.
func BenchmarkReviewEveryFileChanged(b *testing.B) {
	head := benchProject(1000, true)
	for p, f := range head {
		if strings.HasSuffix(p, ".yaml") {
			f.Data = append(f.Data, "# touched\n"...)
		}
	}
	benchReview(b, benchProject(1000, false), head)
}

func benchReview(b *testing.B, base, head fstest.MapFS) {
	review := func() *Report {
		bp, hp := LoadPair(base, head, Limits{})
		r := Diff(bp, hp, Options{})
		_ = r.Markdown()
		return r
	}
	r := review()
	if len(r.Problems) > 0 || len(r.Tables) != 15 || len(r.Migrations) != 2 || len(r.Permissions) != 50+160+80 || r.Warnings != 50+160+1 {
		b.Fatalf("unexpected review: %s %v", r.Summary, r.Problems)
	}
	b.ReportAllocs()
	b.SetBytes(int64(projectBytes(base) + projectBytes(head)))
	cpu := cpuTime()
	for b.Loop() {
		review()
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(peakHeap(func() { review() })/(1<<20), "peak-heap-MiB")
}

// peakHeap runs f after a GC and returns the largest HeapAlloc sampled.
func peakHeap(f func()) float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	peak := ms.HeapAlloc
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			var s runtime.MemStats
			runtime.ReadMemStats(&s)
			peak = max(peak, s.HeapAlloc)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return float64(peak)
}

// cpuTime is the process's user+system CPU time in nanoseconds: on a
// shared machine it moves far less than wall time. It includes the GC's
// background work.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
