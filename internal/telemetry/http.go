package telemetry

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Route label values of requests no pattern names.
const (
	RouteUnmatched = "unmatched"
)

type routeKey struct{}

// routeSlot is where the handler that matched the request (told by
// MarkRoute) leaves the route pattern for the middleware around it.
type routeSlot struct {
	mu    sync.Mutex
	route string
}

// MarkRoute names the route pattern r matched (e.g.
// "/v0/crm/objects/{object_name}/records/{id}"), for the HTTP metrics and
// the span's name. Call it from the router, never with a raw path.
func MarkRoute(r *http.Request, route string) {
	if s, ok := r.Context().Value(routeKey{}).(*routeSlot); ok {
		s.mu.Lock()
		s.route = route
		s.mu.Unlock()
	}
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetName(r.Method + " " + route)
		span.SetAttributes(routeAttr.String(route))
	}
}

// spanName is "METHOD route" once MarkRoute named the route, else the
// method alone.
func spanName(r *http.Request) string {
	if s, ok := r.Context().Value(routeKey{}).(*routeSlot); ok {
		s.mu.Lock()
		route := s.route
		s.mu.Unlock()
		if route != "" {
			return r.Method + " " + route
		}
	}
	return r.Method
}

// httpMethods bounds the method label.
var httpMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

func methodLabel(m string) string {
	if httpMethods[m] {
		return m
	}
	return "OTHER"
}

// HTTPMiddleware is the outermost HTTP layer: it takes the caller's
// X-Request-Id (when valid, else makes one), returns it on the answer and
// forwards it to the gRPC layer (as the request header the gateway
// forwards), marks the context as a REST call, starts the trace span
// (tracing may be nil), and records the request in m (may be nil) under
// the route pattern MarkRoute named ("unmatched" if none).
func HTTPMiddleware(next http.Handler, m *Metrics, tracing *Tracing) http.Handler {
	traced := tracing.HTTPHandler(next) // next itself when tracing is off
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := RequestID(r.Header.Get(HeaderRequestID))
		r.Header.Set(HeaderRequestID, id)
		w.Header().Set(HeaderRequestID, id)
		slot := &routeSlot{}
		ctx := context.WithValue(r.Context(), routeKey{}, slot)
		ctx = WithTransport(WithRequestID(ctx, id), TransportREST)
		sw := &statusWriter{ResponseWriter: w}
		traced.ServeHTTP(sw, r.WithContext(ctx))
		if m == nil {
			return
		}
		slot.mu.Lock()
		route := slot.route
		slot.mu.Unlock()
		if route == "" {
			route = RouteUnmatched
		}
		m.ObserveHTTP(methodLabel(r.Method), route, sw.status(), time.Since(start))
	})
}

// statusWriter remembers the status code; it keeps Flush (streamed REST
// answers) and Unwrap (http.ResponseController).
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// GatewayRoute turns a grpc-gateway pattern string
// ("/v0/crm/{object_name=*}/records") into a route label
// ("/v0/crm/{object_name}/records").
func GatewayRoute(pattern string) string {
	return strings.ReplaceAll(pattern, "=*}", "}")
}
