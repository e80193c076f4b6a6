package cloudsim
import ("testing";"time";"os";"path/filepath";"bytes";"net/http";"net/http/httptest";"strconv";"strings")
func TestZZCorpus(t *testing.T) {
	dir := os.Getenv("CORPUS")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		lines := strings.SplitN(string(raw), "\n", 4)
		s := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
		body, err := strconv.Unquote(s)
		if err != nil { t.Log("skip", f, err); continue }
		sim, _ := New(Options{PAT: testPAT, Clock: NewManualClock(t0), Seed: 1})
		req := httptest.NewRequest(http.MethodPost, "/v1/graphql", bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "pat "+testPAT)
		st := time.Now()
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		if d := time.Since(st); d > 50*time.Millisecond { t.Logf("%s %v len=%d %.200q", filepath.Base(f), d, len(body), body) }
	}
}
