package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// Lifecycle configures readiness and graceful shutdown.
type Lifecycle struct {
	// ReadinessInterval is how often the gRPC health service re-runs the
	// readiness check (Config.Ready); 0 means 5s. /readyz checks on each
	// request.
	ReadinessInterval time.Duration
	// ShutdownDelay: once shutdown starts, the gateway reports not ready
	// but keeps serving for this long, so load balancers stop sending new
	// calls before the listeners close.
	ShutdownDelay time.Duration
	// ShutdownGrace bounds how long in-flight calls may take to finish
	// after the delay; 0 means 20s. Calls still running then are cut.
	ShutdownGrace time.Duration
}

// readyCheckTimeout bounds one readiness check.
const readyCheckTimeout = 2 * time.Second

// readiness is the gateway's readiness: the check's last outcome, or
// "shutting down" once draining starts. It feeds /readyz and the gRPC
// health service (the empty service name and both crmgate services).
type readiness struct {
	check    func(context.Context) error // nil: always ready
	health   *health.Server
	log      *slog.Logger
	services []string // names the gRPC health service answers for
	draining atomic.Bool

	mu    sync.Mutex
	ready *bool // last outcome; nil before the first check
}

func newReadiness(check func(context.Context) error, hs *health.Server, log *slog.Logger) *readiness {
	return &readiness{check: check, health: hs, log: log,
		services: []string{"", crmv1.CrmService_ServiceDesc.ServiceName, corev1.CoreService_ServiceDesc.ServiceName}}
}

// probe runs the readiness check once and records its outcome.
func (r *readiness) probe(ctx context.Context) error {
	if r.draining.Load() {
		return errShuttingDown
	}
	var err error
	if r.check != nil {
		cctx, cancel := context.WithTimeout(ctx, readyCheckTimeout)
		err = r.check(cctx)
		cancel()
	}
	r.record(ctx, err)
	return err
}

var errShuttingDown = errors.New("shutting down")

// record updates the gRPC health status and logs transitions only, so a
// probe every few seconds against a dead database logs once.
func (r *readiness) record(ctx context.Context, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.draining.Load() {
		return // health.Shutdown has set NOT_SERVING for good
	}
	ok := err == nil
	status := healthpb.HealthCheckResponse_SERVING
	if !ok {
		status = healthpb.HealthCheckResponse_NOT_SERVING
	}
	for _, svc := range r.services {
		r.health.SetServingStatus(svc, status)
	}
	if r.ready != nil && *r.ready == ok {
		return
	}
	switch {
	case !ok:
		r.log.WarnContext(ctx, "not ready", "err", err)
	case r.ready != nil:
		r.log.InfoContext(ctx, "ready again")
	}
	r.ready = &ok
}

// watch re-runs the check every interval until ctx is done.
func (r *readiness) watch(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		_ = r.probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// drain makes the gateway report not ready from now on.
func (r *readiness) drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.draining.Store(true)
	r.health.Shutdown() // every service NOT_SERVING, later updates ignored
}

// healthz is liveness: the process is up and serving HTTP. It stays 200
// while draining, so an orchestrator does not kill a replica that is
// finishing its calls.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"SERVING"}`+"\n")
}

// readyz is readiness: 200 when the store (and Redis, when configured)
// answer and the gateway is not shutting down, else 503. The reason is
// logged, not returned.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.ready.probe(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		if errors.Is(err, errShuttingDown) {
			_, _ = io.WriteString(w, `{"status":"NOT_SERVING","reason":"shutting down"}`+"\n")
			return
		}
		_, _ = io.WriteString(w, `{"status":"NOT_SERVING"}`+"\n")
		return
	}
	_, _ = io.WriteString(w, `{"status":"SERVING"}`+"\n")
}

// startLifecycle starts the readiness watcher; it stops when shutdown
// begins.
func (s *Server) startLifecycle() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ready.watch(ctx, s.cfg.Lifecycle.ReadinessInterval)
	}()
	return func() { cancel(); <-done }
}

// shutdown drains the gateway: readiness false at once (/readyz 503, gRPC
// health NOT_SERVING), serving on for ShutdownDelay, then the listeners
// close and in-flight calls get up to ShutdownGrace to finish; calls
// still running then are cut.
func (s *Server) shutdown(httpSrv *http.Server, stopWatch func()) {
	lc := s.cfg.Lifecycle
	grace := lc.ShutdownGrace
	if grace <= 0 {
		grace = 20 * time.Second
	}
	stopWatch()
	s.ready.drain()
	s.log.Info("shutting down: not ready; draining in-flight calls", "delay", lc.ShutdownDelay.String(), "grace", grace.String())
	if lc.ShutdownDelay > 0 {
		time.Sleep(lc.ShutdownDelay)
	}
	graceCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()

	httpDone := make(chan struct{})
	go func() {
		defer close(httpDone)
		if err := httpSrv.Shutdown(graceCtx); err != nil {
			s.log.Warn("http: in-flight calls cut at the end of the grace period", "err", err)
			_ = httpSrv.Close()
		}
	}()
	grpcDone := make(chan struct{})
	go func() {
		defer close(grpcDone)
		s.grpc.GracefulStop()
	}()
	<-httpDone
	select {
	case <-grpcDone:
	case <-graceCtx.Done():
		s.log.Warn("grpc: in-flight calls cut at the end of the grace period")
		s.grpc.Stop()
		<-grpcDone
	}
	s.log.Info("shut down")
}
