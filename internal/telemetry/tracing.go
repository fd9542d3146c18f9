package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc/stats"

	"github.com/crmgate/crmgate/internal/upstream"
)

// ServiceName is the default OpenTelemetry service.name (OTEL_SERVICE_NAME
// overrides it).
const ServiceName = "crmgate"

// Tracing is crmgate's OpenTelemetry tracing: a tracer provider and the
// W3C trace-context propagator, passed explicitly to the instrumentation
// (nothing is set globally). Disabled, it is a no-op provider and every
// helper returns what it was given, so tracing costs nothing.
type Tracing struct {
	enabled  bool
	tp       trace.TracerProvider
	prop     propagation.TextMapPropagator
	shutdown func(context.Context) error
}

// TracingEnabled tells whether the standard OpenTelemetry variables ask
// for traces: OTEL_TRACES_EXPORTER set to something other than "none", or
// an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) — and OTEL_SDK_DISABLED not "true".
func TracingEnabled(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	exp := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))
	if exp == "none" {
		return false
	}
	return exp != "" || getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// NewTracing builds tracing from the standard OTEL_* variables (read
// through getenv for the on/off decision; the exporter and the SDK read
// the process environment as their specifications say): off unless
// TracingEnabled; on, spans are batched to the exporter OTEL_TRACES_EXPORTER
// names (default "otlp", protocol OTEL_EXPORTER_OTLP_PROTOCOL, default
// http/protobuf), sampled per OTEL_TRACES_SAMPLER (default: parent-based,
// always on).
func NewTracing(ctx context.Context, getenv func(string) string) (*Tracing, error) {
	if !TracingEnabled(getenv) {
		return Disabled(), nil
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(ServiceName)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
		resource.WithTelemetrySDK(),
		resource.WithHost(),
	)
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	t := NewTracingWith(tp)
	t.shutdown = tp.Shutdown
	return t, nil
}

// Disabled is tracing turned off.
func Disabled() *Tracing {
	return &Tracing{tp: tracenoop.NewTracerProvider(), prop: propagation.TraceContext{}, shutdown: func(context.Context) error { return nil }}
}

// NewTracingWith is tracing on, recording to tp (e.g. a test's span
// recorder); Shutdown leaves tp alone.
func NewTracingWith(tp trace.TracerProvider) *Tracing {
	return &Tracing{
		enabled:  true,
		tp:       tp,
		prop:     propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		shutdown: func(context.Context) error { return nil },
	}
}

// Enabled tells whether spans are recorded.
func (t *Tracing) Enabled() bool { return t != nil && t.enabled }

// TracerProvider is the provider (a no-op one when disabled).
func (t *Tracing) TracerProvider() trace.TracerProvider { return t.tp }

// Propagator is the W3C trace-context (and baggage) propagator.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return t.prop }

// Shutdown flushes and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// untraced HTTP paths: probes and scrapes would drown the traces.
func untraced(r *http.Request) bool {
	switch r.URL.Path {
	case "/metrics", "/healthz", "/readyz":
		return true
	}
	return false
}

// HTTPHandler wraps next with a server span per request, continuing the
// caller's W3C traceparent. The span is named by method and route pattern
// once the route is known (see MarkRoute). Disabled: next itself.
func (t *Tracing) HTTPHandler(next http.Handler) http.Handler {
	if !t.Enabled() {
		return next
	}
	return otelhttp.NewHandler(next, "http",
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.prop),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithFilter(func(r *http.Request) bool { return !untraced(r) }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return spanName(r) }),
	)
}

// Transport wraps a provider transport with a client span per attempt,
// named after the provider and endpoint template (upstream.EndpointFrom),
// never the raw path. Disabled: base itself.
func (t *Tracing) Transport(base http.RoundTripper) http.RoundTripper {
	if !t.Enabled() {
		return base
	}
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.prop),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			e := upstream.EndpointFrom(r.Context())
			return e.Provider + " " + e.Template
		}),
	)
}

// GRPCServerHandler is the gRPC stats handler making a server span per
// call, continuing the caller's traceparent metadata; nil when disabled.
func (t *Tracing) GRPCServerHandler() stats.Handler {
	if !t.Enabled() {
		return nil
	}
	return otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(t.tp),
		otelgrpc.WithPropagators(t.prop),
		otelgrpc.WithMeterProvider(metricnoop.NewMeterProvider()),
		// Health probes would drown the traces.
		otelgrpc.WithFilter(func(info *stats.RPCTagInfo) bool {
			return !strings.HasPrefix(info.FullMethodName, "/grpc.health.v1.Health/")
		}),
	)
}

// TraceID returns the trace id of ctx's span, or "" without one.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}

// routeAttr is the span attribute naming the matched route.
var routeAttr = attribute.Key("http.route")
