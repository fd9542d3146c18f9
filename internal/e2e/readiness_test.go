package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/crmgate/crmgate/internal/testenv"
)

// TestReadinessFollowsRedisAndPostgres: a gateway on PostgreSQL and its
// own Redis is ready while both answer; with Redis down /readyz answers
// 503 and the gRPC health service NOT_SERVING (liveness stays 200, and
// the gateway keeps serving calls with its in-process fallbacks); with
// Redis back it is ready again.
func TestReadinessFollowsRedisAndPostgres(t *testing.T) {
	rs := testenv.StartRedis(t, 0)
	g := newGateway(t, gwOptions{postgres: true, env: map[string]string{"GATEWAY_REDIS_URL": rs.URL()}})
	health := healthpb.NewHealthClient(g.conn)
	check := func(want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, svc := range []string{"", "crmgate.crm.v1.CrmService"} {
			hr, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
			if err != nil || hr.GetStatus() != want {
				t.Errorf("gRPC health %q: %v %v, want %v", svc, hr, err, want)
			}
		}
	}
	if r := g.do(t, "GET", "/readyz", nil, nil); r.status != 200 {
		t.Fatalf("/readyz with PostgreSQL and Redis up: %d %s", r.status, r.raw)
	}
	check(healthpb.HealthCheckResponse_SERVING)

	rs.Kill()
	if r := g.doAllow5xx(t, "GET", "/readyz", nil, nil); r.status != 503 || r.body["status"] != "NOT_SERVING" {
		t.Errorf("/readyz with Redis down: %d %s", r.status, r.raw)
	}
	check(healthpb.HealthCheckResponse_NOT_SERVING)
	if r := g.do(t, "GET", "/healthz", nil, nil); r.status != 200 {
		t.Errorf("/healthz with Redis down: %d %s", r.status, r.raw)
	}

	rs.Restart()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := g.doAllow5xx(t, "GET", "/readyz", nil, nil)
		if r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after Redis came back: %d %s", r.status, r.raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
	check(healthpb.HealthCheckResponse_SERVING)
	if logs := g.logs.String(); !strings.Contains(logs, `"msg":"not ready"`) || !strings.Contains(logs, `"msg":"ready again"`) {
		t.Errorf("readiness transitions not logged")
	}
}
