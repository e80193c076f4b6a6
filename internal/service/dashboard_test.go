package service_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

// getWith sends GET url with extra headers and returns the status.
func getWith(t *testing.T, url string, header map[string]string, user, pass string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDashboardOnlyOnLoopbackListener: without DASHBOARD_PASSWORD the
// dashboard is not served by a listener open to the network, even to a
// client connecting from 127.0.0.1 (a proxy or sidecar on the host would);
// it is served on DASHBOARD_LISTEN_ADDR's loopback listener, which refuses
// requests a proxy forwarded.
func TestDashboardOnlyOnLoopbackListener(t *testing.T) {
	s := newSims(t)
	env := s.env(t, storetest.SQLitePath(t))
	env["DASHBOARD_LISTEN_ADDR"] = "127.0.0.1:0"
	deps := fastDeps(t)
	public := listenOn(t, "0.0.0.0:0")
	deps.Listener = public
	svc := start(t, load(t, env), deps)
	if !strings.HasPrefix(svc.url, "http://127.0.0.1:") {
		t.Fatalf("base URL %s", svc.url)
	}
	if got := getWith(t, svc.url+"/", nil, "", ""); got != http.StatusForbidden {
		t.Fatalf("dashboard on the public listener from 127.0.0.1: %d, want 403", got)
	}
	if got := getWith(t, svc.url+"/healthz", nil, "", ""); got != http.StatusOK {
		t.Fatalf("healthz: %d", got)
	}
}

func TestDashboardListenerRefusesProxiedRequests(t *testing.T) {
	s := newSims(t)
	env := s.env(t, storetest.SQLitePath(t))
	deps := fastDeps(t)
	dash := listener(t)
	deps.DashboardListener = dash
	start(t, load(t, env), deps)
	url := "http://" + dash.Addr().String() + "/"
	if got := getWith(t, url, nil, "", ""); got != http.StatusOK {
		t.Fatalf("dashboard listener: %d, want 200", got)
	}
	for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-IP"} {
		if got := getWith(t, url, map[string]string{h: "203.0.113.7"}, "", ""); got != http.StatusForbidden {
			t.Errorf("dashboard listener with %s: %d, want 403", h, got)
		}
	}
	if got := getWith(t, "http://"+dash.Addr().String()+"/webhook", nil, "", ""); got != http.StatusNotFound {
		t.Errorf("the dashboard listener serves /webhook: %d", got)
	}
}

func TestDashboardPasswordOnPublicListener(t *testing.T) {
	s := newSims(t)
	env := s.env(t, storetest.SQLitePath(t))
	env["DASHBOARD_PASSWORD"] = "dash-s3cret"
	deps := fastDeps(t)
	public := listenOn(t, "0.0.0.0:0")
	deps.Listener = public
	svc := start(t, load(t, env), deps)
	if got := getWith(t, svc.url+"/", nil, "", ""); got != http.StatusUnauthorized {
		t.Fatalf("without the password: %d, want 401", got)
	}
	if got := getWith(t, svc.url+"/", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "any", "dash-s3cret"); got != http.StatusOK {
		t.Fatalf("with the password, through a proxy: %d, want 200", got)
	}
}
