package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/telemetry"
	"github.com/crmgate/crmgate/internal/upstream"
)

// callInfo collects what inner interceptors learn about a call (the
// caller's organisation, once authenticated) for the log line written by
// the outermost one.
type callInfo struct {
	mu  sync.Mutex
	org string
}

type callInfoKey struct{}

// noteOrg records the authenticated organisation for the call's log line.
func noteOrg(ctx context.Context, org string) {
	if ci, ok := ctx.Value(callInfoKey{}).(*callInfo); ok {
		ci.mu.Lock()
		ci.org = org
		ci.mu.Unlock()
	}
}

// call is one observed call, from its start.
type call struct {
	start     time.Time
	transport string
	method    string
	id        string
	info      *callInfo
	upstream  *upstream.Counter
}

// beginCall prepares ctx for an observed call: the request id (the
// REST layer's, else the caller's x-request-id if valid, else a new one,
// returned to gRPC callers as x-request-id header metadata), the call's
// info slot and its provider-attempt counter.
func beginCall(ctx context.Context, method string) (context.Context, *call) {
	c := &call{start: time.Now(), method: method, info: &callInfo{}}
	c.transport = telemetry.TransportFrom(ctx, telemetry.TransportGRPC)
	c.id = telemetry.RequestIDFrom(ctx)
	if c.id == "" {
		c.id = telemetry.RequestID(auth.MetadataValue(ctx, telemetry.HeaderRequestID))
		ctx = telemetry.WithRequestID(ctx, c.id)
	}
	if c.transport == telemetry.TransportGRPC {
		// Best effort: the header is sent with the first answer message or
		// the status, whichever comes first.
		_ = grpc.SetHeader(ctx, metadata.Pairs(telemetry.HeaderRequestID, c.id))
	}
	ctx = context.WithValue(ctx, callInfoKey{}, c.info)
	ctx, c.upstream = upstream.WithCounter(ctx)
	return ctx, c
}

// end records the call in m (may be nil) and writes its log line: request
// id, transport, RPC, status code, duration, provider attempts made,
// organisation and connection id when known, trace id when traced. Never
// metadata values or bodies: they may carry secrets.
func (c *call) end(ctx context.Context, log *slog.Logger, m *telemetry.Metrics, err error) {
	code := status.Code(err)
	d := time.Since(c.start)
	if m != nil {
		m.ObserveRPC(c.transport, c.method, code.String(), d)
	}
	level := slog.LevelInfo
	switch {
	case code == codes.Internal || code == codes.Unknown:
		level = slog.LevelError
	case public(c.method):
		level = slog.LevelDebug // health probes would drown the log
	}
	if !log.Enabled(ctx, level) {
		return
	}
	line := telemetry.RPCLine{
		RequestID:     c.id,
		Transport:     c.transport,
		RPC:           c.method,
		Code:          code.String(),
		Duration:      d,
		UpstreamCalls: c.upstream.Load(),
		TraceID:       telemetry.TraceID(ctx),
	}
	c.info.mu.Lock()
	line.Org = c.info.org
	c.info.mu.Unlock()
	if conn := auth.MetadataValue(ctx, auth.HeaderConnectionID); conn != "" {
		if !telemetry.ValidRequestID(conn) { // same bounded, safe charset
			conn = "(invalid)"
		}
		line.ConnectionID = conn
	}
	telemetry.LogRPC(ctx, log, level, line)
}

// observeUnary is the outermost unary interceptor: request id, metrics
// (telemetry.Metrics; nil: none) and one log line per call.
func observeUnary(log *slog.Logger, m *telemetry.Metrics) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, c := beginCall(ctx, info.FullMethod)
		resp, err := handler(ctx, req)
		c.end(ctx, log, m, err)
		return resp, err
	}
}

// observeStream is observeUnary for streams (one line per stream).
func observeStream(log *slog.Logger, m *telemetry.Metrics) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, c := beginCall(ss.Context(), info.FullMethod)
		err := handler(srv, withStreamContext(ss, ctx))
		c.end(ctx, log, m, err)
		return err
	}
}

// outgoingHeaderMatcher decides which gRPC header metadata become REST
// answer headers: x-request-id is left out (the HTTP layer set
// X-Request-Id on every answer already, routing errors included); the
// rest keep grpc-gateway's default (Grpc-Metadata-<key>).
func outgoingHeaderMatcher(key string) (string, bool) {
	if strings.EqualFold(key, telemetry.HeaderRequestID) {
		return "", false
	}
	return runtime.MetadataHeaderPrefix + key, true
}

// tracingServerOption gives a gRPC server a span per call (an empty
// option when tracing is off).
func tracingServerOption(t *telemetry.Tracing) grpc.ServerOption {
	if h := t.GRPCServerHandler(); h != nil {
		return grpc.StatsHandler(h)
	}
	return grpc.EmptyServerOption{}
}

// gatewayRoutes names each REST call's route pattern (metrics label and
// span name) once grpc-gateway matched it.
func gatewayRoutes(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if p, ok := runtime.HTTPPattern(r.Context()); ok {
			telemetry.MarkRoute(r, telemetry.GatewayRoute(p.String()))
		}
		next(w, r, params)
	}
}

// muxRoutes names the route pattern of requests served by mux's own
// routes ("/healthz", "/metrics", OAuth callbacks...); the REST facade
// (mounted at "/") names its own with gatewayRoutes.
//
// The route is named after the handler ran, from the pattern ServeMux
// leaves in r.Pattern, rather than by a second match beforehand
// (mux.Handler cost ~1.4% of a REST get record's CPU): the middleware
// reads it once the handler returns.
func muxRoutes(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if p := r.Pattern; p != "" && p != "/" {
			if i := strings.IndexByte(p, ' '); i >= 0 {
				p = p[i+1:] // the method is a label of its own
			}
			telemetry.MarkRoute(r, p)
		}
	})
}
