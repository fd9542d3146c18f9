// Package server wires crmgate's gRPC server and its REST facade.
//
// Two ports on purpose (as Cerbos and OpenFGA do): gRPC and HTTP/1.1 REST
// behave differently behind load balancers and TLS terminators, and
// multiplexing both on one port (cmux) is fragile. The REST facade
// (grpc-gateway) calls the services in-process through the same interceptor
// chain as a gRPC call (recovery, logging, error mapping, authentication,
// idempotency), as direct function calls (inprocConn): no network hop, no
// codec. Streaming RPCs (StreamRecords) are gRPC-only.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	goruntime "runtime"
	"slices"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	adminv1 "github.com/crmgate/crmgate/gen/crmgate/admin/v1"
	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	passthroughv1 "github.com/crmgate/crmgate/gen/crmgate/passthrough/v1"
	admingw "github.com/crmgate/crmgate/gen/gateway/crmgate/admin/v1"
	coregw "github.com/crmgate/crmgate/gen/gateway/crmgate/core/v1"
	crmgw "github.com/crmgate/crmgate/gen/gateway/crmgate/crm/v1"
	"github.com/crmgate/crmgate/gen/openapi"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/grpccodec"
	"github.com/crmgate/crmgate/internal/restjson"
	"github.com/crmgate/crmgate/internal/telemetry"
)

// DefaultMaxBodyBytes bounds REST request bodies.
const DefaultMaxBodyBytes = 4 << 20

// Config configures the server.
type Config struct {
	MaxBodyBytes int64
	// Ready reports readiness for /readyz and gRPC health (e.g. a store
	// ping); nil means ready.
	Ready func(context.Context) error
	// Lifecycle: readiness re-checks and graceful shutdown (health.go).
	Lifecycle Lifecycle
	// MaxInFlight bounds the calls served at once (REST and gRPC); over
	// it a call waits up to InFlightQueueWait, then fails UNAVAILABLE
	// (GATEWAY_OVERLOADED). 0 means no bound.
	MaxInFlight       int
	InFlightQueueWait time.Duration
	// Routes adds HTTP routes outside /v0 (e.g. OAuth callbacks).
	Routes map[string]http.Handler
	// Unary interceptors run after authentication, in order (e.g.
	// idempotency).
	Unary []grpc.UnaryServerInterceptor
	// Metrics records calls (RPC and HTTP) and is served at GET /metrics;
	// nil: neither.
	Metrics *telemetry.Metrics
	// Tracing makes a span per call (otelgrpc, otelhttp); nil or disabled:
	// none.
	Tracing *telemetry.Tracing
	// Admin serves AdminService (/v0/admin); nil: not served.
	Admin *Admin
	// Passthrough serves PassthroughService over gRPC and, through it,
	// the REST route /v0/passthrough/{path...} (passthroughHandler); nil:
	// neither.
	Passthrough passthroughv1.PassthroughServiceServer
}

// Admin is the Admin API: the service and the check of its x-admin-key
// (an AdminAuthenticator without a hash refuses every call as disabled).
type Admin struct {
	Service adminv1.AdminServiceServer
	Auth    *auth.AdminAuthenticator
}

// Server is the gRPC server plus the REST handler.
type Server struct {
	cfg     Config
	log     *slog.Logger
	grpc    *grpc.Server
	health  *health.Server
	ready   *readiness
	handler http.Handler
	// patterns are the http.ServeMux patterns of the HTTP routes besides
	// the REST facade ("/").
	patterns []string
}

// New builds the server around the two services.
func New(cfg Config, crmSvc crmv1.CrmServiceServer, coreSvc corev1.CoreServiceServer, authn *auth.Authenticator, log *slog.Logger) (*Server, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	s := &Server{cfg: cfg, log: log}
	unary := []grpc.UnaryServerInterceptor{observeUnary(log, cfg.Metrics), recovery.UnaryServerInterceptor(recovered(log)), errorsUnary(log)}
	var limitStream []grpc.StreamServerInterceptor
	if lim := newInflight(cfg.MaxInFlight, cfg.InFlightQueueWait); lim != nil {
		// After error mapping (its answer is a gateway error), before
		// authentication (shedding load costs nothing else).
		unary = append(unary, lim.unary())
		limitStream = append(limitStream, lim.stream())
	}
	streams := streamInterceptors(authn, log, limitStream...)
	promUnary, promStream := grpcMetrics(cfg.Metrics)
	var adminAuth *auth.AdminAuthenticator
	if cfg.Admin != nil {
		adminAuth = cfg.Admin.Auth
	}
	unary = append(unary, authUnary(authn, adminAuth), callOptionsUnary())
	unary = append(unary, cfg.Unary...)
	// gRPC messages get the body limit; REST bodies are checked by
	// limitBody and reach the services without a gRPC message limit.
	s.grpc = grpc.NewServer(
		grpc.MaxRecvMsgSize(int(cfg.MaxBodyBytes)),
		// Calls run on a pool of long-lived goroutines whose stacks have
		// already grown, instead of a new goroutine per call growing its
		// stack through the interceptors and the HTTP client
		// (runtime.newstack was ~7% of a get record's CPU).
		grpc.NumStreamWorkers(streamWorkers()),
		// Fixed flow-control windows, as large as the biggest request
		// allowed, instead of grpc-go's bandwidth-delay estimation: that
		// sends a PING (one more write, and a read of its ack) after the
		// first request on an idle connection, i.e. on most calls at low
		// load. Windows only matter for what clients send, and a unary
		// request is at most MaxBodyBytes.
		grpc.InitialWindowSize(flowWindow(cfg.MaxBodyBytes)),
		grpc.InitialConnWindowSize(flowWindow(cfg.MaxBodyBytes)),
		// Messages are marshalled by vtprotobuf's generated code
		// (internal/grpccodec): grpc-go's reflection-based codec took 42%
		// of a list call's CPU.
		grpc.ForceServerCodecV2(grpccodec.New()),
		grpc.ChainUnaryInterceptor(slices.Concat(promUnary, unary)...),
		grpc.ChainStreamInterceptor(slices.Concat(promStream, []grpc.StreamServerInterceptor{observeStream(log, cfg.Metrics)}, streams)...),
		tracingServerOption(cfg.Tracing),
	)
	crmv1.RegisterCrmServiceServer(s.grpc, crmSvc)
	corev1.RegisterCoreServiceServer(s.grpc, coreSvc)
	services := map[*grpc.ServiceDesc]any{
		&crmv1.CrmService_ServiceDesc:   crmSvc,
		&corev1.CoreService_ServiceDesc: coreSvc,
	}
	if cfg.Admin != nil {
		adminv1.RegisterAdminServiceServer(s.grpc, cfg.Admin.Service)
		services[&adminv1.AdminService_ServiceDesc] = cfg.Admin.Service
	}
	if cfg.Passthrough != nil {
		passthroughv1.RegisterPassthroughServiceServer(s.grpc, cfg.Passthrough)
		services[&passthroughv1.PassthroughService_ServiceDesc] = cfg.Passthrough
	}
	s.health = health.NewServer()
	s.ready = newReadiness(cfg.Ready, s.health, log)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)

	direct := newInprocConn(chainUnary(unary...), services)

	routes, err := restRoutes(cfg.Admin != nil)
	if err != nil {
		return nil, fmt.Errorf("REST routes: %w", err)
	}
	gw := runtime.NewServeMux(
		runtime.WithIncomingHeaderMatcher(headerMatcher),
		runtime.WithOutgoingHeaderMatcher(outgoingHeaderMatcher),
		runtime.WithMiddlewares(gatewayRoutes, rejectUnknownQuery(routes)),
		// A POST form to a GET route is not served as that GET (nor is
		// X-HTTP-Method-Override honoured): a wrong method is a 405.
		runtime.WithDisablePathLengthFallback(),
		// Keep %2F inside path parameters escaped, so "a%2Fb" is one
		// (invalid) parameter answered 400, not a different route.
		runtime.WithUnescapingMode(runtime.UnescapingModeAllExceptReserved),
		// One marshaler for every route: protojson's JSON (proto names,
		// every field written), compact (internal/restjson).
		runtime.WithMarshalerOption(runtime.MIMEWildcard, restjson.New()),
		// Answers carry their Content-Length instead of being chunked:
		// clients can size their buffers, and a page takes fewer writes.
		runtime.WithWriteContentLength(),
		runtime.WithErrorHandler(apierr.GatewayErrorHandler),
		runtime.WithRoutingErrorHandler(apierr.RoutingErrorHandler(routes.Allow)),
	)
	ctx := context.Background()
	if err := crmgw.RegisterCrmServiceHandlerClient(ctx, gw, crmv1.NewCrmServiceClient(direct)); err != nil {
		return nil, fmt.Errorf("register crm gateway: %w", err)
	}
	if err := coregw.RegisterCoreServiceHandlerClient(ctx, gw, corev1.NewCoreServiceClient(direct)); err != nil {
		return nil, fmt.Errorf("register core gateway: %w", err)
	}
	if cfg.Admin != nil {
		if err := admingw.RegisterAdminServiceHandlerClient(ctx, gw, adminv1.NewAdminServiceClient(direct)); err != nil {
			return nil, fmt.Errorf("register admin gateway: %w", err)
		}
	}

	mux := http.NewServeMux()
	handle := func(pattern string, h http.Handler) {
		mux.Handle(pattern, h)
		s.patterns = append(s.patterns, pattern)
	}
	handle("GET /healthz", http.HandlerFunc(s.healthz))
	handle("GET /readyz", http.HandlerFunc(s.readyz))
	handle("GET /openapi.json", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi.JSON)
	}))
	for pattern, h := range cfg.Routes {
		handle(pattern, h)
	}
	if cfg.Metrics != nil {
		handle("GET /metrics", cfg.Metrics.Handler())
	}
	mux.Handle("/", limitBody(cfg.MaxBodyBytes, gw))
	root := muxRoutes(mux)
	if cfg.Passthrough != nil {
		root = servePassthrough(passthroughHandler(passthroughv1.NewPassthroughServiceClient(direct), cfg.MaxBodyBytes), root)
		s.patterns = append(s.patterns, passthroughRoute)
	}
	// Outermost: request id, REST metrics and the HTTP span.
	s.handler = telemetry.HTTPMiddleware(root, cfg.Metrics, cfg.Tracing)
	return s, nil
}

// forwarded request headers (as gRPC metadata of the same name).
var forwarded = map[string]bool{
	auth.HeaderAPIKey: true, auth.HeaderConnectionID: true, auth.HeaderAdminKey: true,
	"idempotency-key": true, "x-crmgate-wait": true, "x-request-id": true,
}

func headerMatcher(key string) (string, bool) {
	k := strings.ToLower(key)
	if forwarded[k] {
		return k, true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// limitBody answers 413 for bodies over max, before any decoding.
func limitBody(maxBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > maxBytes {
			tooLarge(w, maxBytes)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBytes+1))
		if err != nil {
			apierr.WriteBody(w, http.StatusBadRequest, apierr.Body{Code: code.Code_INVALID_ARGUMENT.String(), Message: "could not read request body", Details: apierr.Details{Origin: apierr.OriginGateway, Reason: "BODY_UNREADABLE"}})
			return
		}
		if int64(len(body)) > maxBytes {
			tooLarge(w, maxBytes)
			return
		}
		// The JSON decoder reads one value and would ignore what follows
		// it; a body must be exactly one JSON value.
		if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
			apierr.WriteBody(w, http.StatusBadRequest, apierr.Body{Code: code.Code_INVALID_ARGUMENT.String(), Message: "request body is not one valid JSON value", Details: apierr.Details{Origin: apierr.OriginGateway, Reason: "MALFORMED_JSON"}})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

func tooLarge(w http.ResponseWriter, maxBytes int64) {
	apierr.WriteBody(w, http.StatusRequestEntityTooLarge, apierr.BodyTooLarge(maxBytes))
}

// HTTPRoutes lists the http.ServeMux patterns ("GET /healthz") of the
// HTTP routes besides the REST facade, which serves the protos'
// google.api.http rules under "/".
func (s *Server) HTTPRoutes() []string { return slices.Clone(s.patterns) }

// Handler is the HTTP handler (REST, /healthz, /readyz, /openapi.json).
func (s *Server) Handler() http.Handler { return s.handler }

// GRPC is the gRPC server (for tests that serve it themselves).
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Serve serves gRPC on grpcLis and HTTP on httpLis until ctx is done, then
// shuts down gracefully (see shutdown): not ready, then HTTP and gRPC drained.
func (s *Server) Serve(ctx context.Context, grpcLis, httpLis net.Listener) error {
	httpSrv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	go func() { errc <- s.grpc.Serve(grpcLis) }()
	go func() {
		if err := httpSrv.Serve(httpLis); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	stopWatch := s.startLifecycle()
	s.log.Info("serving", "grpc", grpcLis.Addr().String(), "http", httpLis.Addr().String())

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		s.log.Error("server failed", "err", err)
	}
	s.shutdown(httpSrv, stopWatch)
	return err
}

// streamWorkers is the gRPC server's worker pool size: four per CPU the Go
// scheduler uses (calls mostly wait on the provider).
func streamWorkers() uint32 {
	return uint32(min(max(goruntime.GOMAXPROCS(0), 1), 1024) * 4) //nolint:gosec // bounded to 1..4096 above
}

// flowWindow is the gRPC flow-control window for a body limit: the limit,
// at least 64 KiB (HTTP/2's default, below which grpc-go would keep its
// estimation on) and at most 1 GiB.
func flowWindow(maxBody int64) int32 {
	return int32(min(max(maxBody, 64<<10), 1<<30)) //nolint:gosec // bounded to [64 KiB, 1 GiB] just above
}
