package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/crmgate/crmgate/internal/telemetry"
)

func TestFlowWindow(t *testing.T) {
	for _, c := range []struct {
		maxBody int64
		want    int32
	}{
		{0, 64 << 10}, {1 << 10, 64 << 10}, {4 << 20, 4 << 20}, {1 << 40, 1 << 30},
	} {
		if got := flowWindow(c.maxBody); got != c.want {
			t.Errorf("flowWindow(%d) = %d, want %d", c.maxBody, got, c.want)
		}
	}
}

// TestMuxRouteLabels: requests served by the server's own mux are counted
// under their route pattern (method dropped, path parameters as written),
// and a path nothing serves as "unmatched".
func TestMuxRouteLabels(t *testing.T) {
	m := telemetry.NewMetrics()
	s := newTestServer(t, Config{Metrics: m, Routes: map[string]http.Handler{
		"GET /v0/connect/{provider}/callback": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }),
	}}, nil)
	for _, path := range []string{"/healthz", "/healthz", "/v0/connect/ghl/callback", "/nothing-here"} {
		get(t, s.Handler(), path)
	}
	for _, c := range []struct {
		route, status string
		want          float64
	}{
		{"/healthz", "200", 2},
		{"/v0/connect/{provider}/callback", "204", 1},
		{telemetry.RouteUnmatched, "404", 1},
	} {
		line := fmt.Sprintf("crmgate_http_requests_total{method=\"GET\",route=%q,status=%q} %v\n", c.route, c.status, c.want)
		if _, body := get(t, m.Handler(), "/metrics"); !strings.Contains(body, line) {
			t.Errorf("metrics lack %q", line)
		}
	}
}
