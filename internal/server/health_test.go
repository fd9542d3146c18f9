package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/testenv"
)

// newTestServer builds a Server around unimplemented services; check is
// its readiness check.
func newTestServer(t *testing.T, cfg Config, logs io.Writer) *Server {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	s, err := New(cfg, crmv1.UnimplementedCrmServiceServer{}, corev1.UnimplementedCoreServiceServer{}, auth.NewAuthenticator(nil, time.Minute), log)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func grpcStatus(t *testing.T, s *Server, service string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	resp, err := s.health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		t.Fatalf("health check %q: %v", service, err)
	}
	return resp.GetStatus()
}

// TestReadinessFollowsTheCheck: /readyz and the gRPC health service (all
// names) follow the readiness check; /healthz (liveness) does not; the
// cause is logged once per transition and never answered.
func TestReadinessFollowsTheCheck(t *testing.T) {
	var failing atomic.Pointer[error]
	check := func(context.Context) error {
		if e := failing.Load(); e != nil {
			return *e
		}
		return nil
	}
	logs := &testenv.LogBuffer{}
	s := newTestServer(t, Config{Ready: check}, logs)
	h := s.Handler()

	if code, body := get(t, h, "/readyz"); code != 200 || !strings.Contains(body, `"SERVING"`) {
		t.Errorf("/readyz while ready: %d %s", code, body)
	}
	down := errors.New("store: dial tcp 10.0.0.7:5432: connection refused")
	failing.Store(&down)
	for range 3 {
		code, body := get(t, h, "/readyz")
		if code != 503 || !strings.Contains(body, "NOT_SERVING") || strings.Contains(body, "10.0.0.7") {
			t.Errorf("/readyz while the store is down: %d %s", code, body)
		}
	}
	for _, svc := range []string{"", "crmgate.crm.v1.CrmService", "crmgate.core.v1.CoreService"} {
		if got := grpcStatus(t, s, svc); got != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Errorf("gRPC health %q while the store is down: %v", svc, got)
		}
	}
	if code, _ := get(t, h, "/healthz"); code != 200 {
		t.Errorf("/healthz (liveness) while the store is down: %d", code)
	}
	if n := strings.Count(logs.String(), `"msg":"not ready"`); n != 1 {
		t.Errorf("%d 'not ready' log lines for one outage, want 1:\n%s", n, logs)
	}

	failing.Store(nil)
	if code, _ := get(t, h, "/readyz"); code != 200 {
		t.Errorf("/readyz after recovery: %d", code)
	}
	if got := grpcStatus(t, s, ""); got != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("gRPC health after recovery: %v", got)
	}
	if !strings.Contains(logs.String(), `"msg":"ready again"`) {
		t.Errorf("recovery not logged:\n%s", logs)
	}
}

// TestWatchUpdatesGRPCHealth: the periodic check alone (no /readyz call)
// moves the gRPC health status.
func TestWatchUpdatesGRPCHealth(t *testing.T) {
	var calls atomic.Int32
	s := newTestServer(t, Config{Ready: func(context.Context) error {
		calls.Add(1)
		return errors.New("redis: connection refused")
	}}, nil)
	stop := s.startLifecycle()
	defer stop()
	waitFor(t, "the watcher's first check", func() bool {
		return calls.Load() > 0 && grpcStatus(t, s, "") == healthpb.HealthCheckResponse_NOT_SERVING
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// serveSlow serves s with a /slow route that answers once release is
// closed, and starts one /slow call; it returns the call's outcome and
// Serve's.
func serveSlow(t *testing.T, lc Lifecycle) (s *Server, cancel func(), release chan struct{}, call <-chan error, served <-chan error) {
	t.Helper()
	release = make(chan struct{})
	entered := make(chan struct{})
	var once sync.Once
	s = newTestServer(t, Config{Lifecycle: lc, Routes: map[string]http.Handler{
		"GET /slow": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(entered) })
			select {
			case <-release:
				_, _ = io.WriteString(w, "done")
			case <-r.Context().Done():
			}
		}),
	}}, nil)
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancelCtx := context.WithCancel(context.Background())
	servedc := make(chan error, 1)
	go func() { servedc <- s.Serve(ctx, gl, hl) }()
	httpURL := "http://" + hl.Addr().String()
	callc := make(chan error, 1)
	go func() {
		resp, err := http.Get(httpURL + "/slow")
		if err != nil {
			callc <- err
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err == nil && (resp.StatusCode != 200 || string(body) != "done") {
			err = errors.New("answer " + resp.Status + " " + string(body))
		}
		callc <- err
	}()
	<-entered
	return s, cancelCtx, release, callc, servedc
}

// TestShutdownFinishesInFlightCalls: once shutdown starts, readiness is
// false at once, the in-flight call still completes, and Serve returns
// nil after it.
func TestShutdownFinishesInFlightCalls(t *testing.T) {
	s, cancel, release, call, served := serveSlow(t, Lifecycle{ShutdownGrace: time.Minute})
	cancel()
	waitFor(t, "readiness to go false", func() bool {
		return grpcStatus(t, s, "") == healthpb.HealthCheckResponse_NOT_SERVING && s.ready.probe(context.Background()) != nil
	})
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) while a call was in flight", err)
	default:
	}
	close(release)
	if err := <-call; err != nil {
		t.Errorf("in-flight call: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestShutdownGraceCutsLongCalls: a call outliving the grace period is
// cut, and Serve still returns.
func TestShutdownGraceCutsLongCalls(t *testing.T) {
	_, cancel, release, call, served := serveSlow(t, Lifecycle{ShutdownGrace: 50 * time.Millisecond})
	defer close(release)
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if err := <-call; err == nil {
		t.Error("a call outliving the grace period completed")
	}
}
