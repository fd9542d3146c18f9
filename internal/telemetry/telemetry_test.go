package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/crmgate/crmgate/internal/telemetry"
	"github.com/crmgate/crmgate/internal/upstream"
)

func TestValidRequestID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", false},
		{"abc", true},
		{"4b3c1f0e-8a8d-4e3a-9c43-2b1f9a0e7d11", true},
		{"01HZX3Q7Y8J9K0M1N2P3Q4R5S6", true},
		{"Root=1-5759e988-bd862e3fe1be46a994272793", true},
		{"a/b+c=d@e:f.g_h", true},
		{strings.Repeat("a", telemetry.MaxRequestIDLen), true},
		{strings.Repeat("a", telemetry.MaxRequestIDLen+1), false},
		{"has space", false},
		{`quote"`, false},
		{"new\nline", false},
		{"tab\t", false},
		{"<script>", false},
		{"ünïcode", false},
		{"semi;colon", false},
	} {
		if got := telemetry.ValidRequestID(tc.in); got != tc.want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRequestID(t *testing.T) {
	if got := telemetry.RequestID("caller-id-1"); got != "caller-id-1" {
		t.Errorf("a valid id must be kept, got %q", got)
	}
	a, b := telemetry.RequestID("bad id"), telemetry.RequestID("")
	for _, id := range []string{a, b} {
		if len(id) != 32 || !telemetry.ValidRequestID(id) {
			t.Errorf("generated id %q: want 32 valid characters", id)
		}
	}
	if a == b {
		t.Errorf("two generated ids are equal: %q", a)
	}
}

func TestRedactAttr(t *testing.T) {
	var buf bytes.Buffer
	log := telemetry.NewLogger(&buf, slog.LevelDebug)
	log.Info("x",
		"access_token", "at-secret-1",
		"refresh_token", "rt-secret-2",
		"client_secret", "cs-secret-3",
		"x-apikey", "key-secret-4",
		"Authorization", "whatever-5",
		"password", "pw-secret-6",
		"header", "Bearer bearer-secret-7",
		"other", "basic basic-secret-8",
		slog.Group("settings", "private_integration_token", "pit-secret-9", "location_id", "loc-1"),
		"connection_id", "conn-1",
		"request_id", "req-1",
		"upstream_calls", 2,
	)
	out := buf.String()
	for _, s := range []string{"at-secret-1", "rt-secret-2", "cs-secret-3", "key-secret-4", "whatever-5", "pw-secret-6", "bearer-secret-7", "basic-secret-8", "pit-secret-9"} {
		if strings.Contains(out, s) {
			t.Errorf("log line holds %q: %s", s, out)
		}
	}
	for _, s := range []string{"loc-1", "conn-1", "req-1", `"upstream_calls":2`} {
		if !strings.Contains(out, s) {
			t.Errorf("log line lost %q: %s", s, out)
		}
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not one JSON line: %v: %s", err, out)
	}
}

func TestGatewayRoute(t *testing.T) {
	for in, want := range map[string]string{
		"/v0/crm/objects/{object_name=*}/records/{id=*}": "/v0/crm/objects/{object_name}/records/{id}",
		"/v0/core/connections":                           "/v0/core/connections",
	} {
		if got := telemetry.GatewayRoute(in); got != want {
			t.Errorf("GatewayRoute(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTracingEnabled(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"OTEL_SERVICE_NAME": "x"}, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "console"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, false},
	} {
		got := telemetry.TracingEnabled(func(k string) string { return tc.env[k] })
		if got != tc.want {
			t.Errorf("%v: enabled = %v, want %v", tc.env, got, tc.want)
		}
	}
	tr, err := telemetry.NewTracing(context.Background(), func(string) string { return "" })
	if err != nil || tr.Enabled() {
		t.Fatalf("no OTEL_* variables: enabled %v, err %v", tr.Enabled(), err)
	}
	// Off, the helpers hand back what they were given: zero overhead.
	h := http.NotFoundHandler()
	if got := tr.HTTPHandler(h); got == nil || tr.GRPCServerHandler() != nil {
		t.Errorf("disabled tracing must not instrument")
	}
	if rt := tr.Transport(http.DefaultTransport); rt != http.DefaultTransport {
		t.Errorf("disabled tracing wrapped the transport")
	}
}

func TestMetricsObservers(t *testing.T) {
	m := telemetry.NewMetrics()
	ctx := context.Background()
	m.ObserveRPC("grpc", "/crmgate.crm.v1.CrmService/GetRecord", "OK", time.Millisecond)
	m.ObserveRPC("rest", "/crmgate.crm.v1.CrmService/GetRecord", "NotFound", time.Millisecond)
	m.UpstreamAttempt(ctx, "ghl", "GET /objects/{key}", "200", time.Millisecond)
	m.UpstreamAttempt(ctx, "ghl", "GET /objects/{key}", "200", time.Millisecond)
	m.RateLimitWaited(ctx, "ghl", time.Second)
	m.RateLimitRejected(ctx, "ghl", "daily")
	m.BreakerChanged("ghl", upstream.StateClosed, upstream.StateOpen)
	m.BreakerChanged("ghl", upstream.StateOpen, upstream.StateHalfOpen)
	m.CacheLookup(ctx, "schema", "hit")
	m.TokenRefresh(ctx, "failed")
	m.IdempotentReplay(ctx, "/crmgate.crm.v1.CrmService/CreateRecord")

	want := `
# HELP crmgate_rpc_requests_total Calls of the API's RPCs by transport (grpc, rest), service, method and gRPC status code.
# TYPE crmgate_rpc_requests_total counter
crmgate_rpc_requests_total{code="NotFound",method="GetRecord",service="crmgate.crm.v1.CrmService",transport="rest"} 1
crmgate_rpc_requests_total{code="OK",method="GetRecord",service="crmgate.crm.v1.CrmService",transport="grpc"} 1
# HELP crmgate_upstream_requests_total HTTP exchanges with CRM providers (each retry counts) by provider, endpoint template and status (HTTP code, or timeout, canceled, error).
# TYPE crmgate_upstream_requests_total counter
crmgate_upstream_requests_total{endpoint="GET /objects/{key}",provider="ghl",status="200"} 2
# HELP crmgate_upstream_ratelimit_rejections_total Provider calls refused for want of rate-limit budget by provider and reason (burst, daily).
# TYPE crmgate_upstream_ratelimit_rejections_total counter
crmgate_upstream_ratelimit_rejections_total{provider="ghl",reason="daily"} 1
# HELP crmgate_upstream_circuits_open Provider hosts whose circuit breaker is not closed (open or half-open), by provider.
# TYPE crmgate_upstream_circuits_open gauge
crmgate_upstream_circuits_open{provider="ghl"} 1
# HELP crmgate_upstream_circuit_transitions_total Circuit breaker state changes by provider and new state (open, half-open, closed).
# TYPE crmgate_upstream_circuit_transitions_total counter
crmgate_upstream_circuit_transitions_total{provider="ghl",state="half-open"} 1
crmgate_upstream_circuit_transitions_total{provider="ghl",state="open"} 1
# HELP crmgate_cache_lookups_total Cache reads by cache (schema, oauth_token) and result (hit, miss, error).
# TYPE crmgate_cache_lookups_total counter
crmgate_cache_lookups_total{cache="schema",result="hit"} 1
# HELP crmgate_oauth_token_refreshes_total Calls to providers' token endpoints to refresh OAuth access tokens, by result (ok, failed).
# TYPE crmgate_oauth_token_refreshes_total counter
crmgate_oauth_token_refreshes_total{result="failed"} 1
# HELP crmgate_idempotency_replays_total Calls answered from a kept outcome (a repeated Idempotency-Key), by service and method.
# TYPE crmgate_idempotency_replays_total counter
crmgate_idempotency_replays_total{method="CreateRecord",service="crmgate.crm.v1.CrmService"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"crmgate_rpc_requests_total", "crmgate_upstream_requests_total", "crmgate_upstream_ratelimit_rejections_total",
		"crmgate_upstream_circuits_open", "crmgate_upstream_circuit_transitions_total", "crmgate_cache_lookups_total",
		"crmgate_oauth_token_refreshes_total", "crmgate_idempotency_replays_total"); err != nil {
		t.Error(err)
	}
	m.BreakerChanged("ghl", upstream.StateHalfOpen, upstream.StateClosed)
	if v := value(t, m, "crmgate_upstream_circuits_open", map[string]string{"provider": "ghl"}); v != 0 {
		t.Errorf("circuits open after closing = %v, want 0", v)
	}
}

// value reads one series of a metric family (0 if absent).
func value(t *testing.T, m *telemetry.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range s.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue series
				}
			}
			switch {
			case s.GetCounter() != nil:
				return s.GetCounter().GetValue()
			case s.GetGauge() != nil:
				return s.GetGauge().GetValue()
			case s.GetHistogram() != nil:
				return float64(s.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

func TestMetricsHandlerServesRuntimeCollectors(t *testing.T) {
	m := telemetry.NewMetrics()
	m.CacheLookup(context.Background(), "schema", "miss")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "crmgate_cache_lookups_total"} {
		if rec.Code != 200 || !strings.Contains(body, name) {
			t.Errorf("/metrics (%d) lacks %s", rec.Code, name)
		}
	}
}

func TestHTTPMiddleware(t *testing.T) {
	m := telemetry.NewMetrics()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v0/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		telemetry.MarkRoute(r, "/v0/things/{id}")
		if telemetry.TransportFrom(r.Context(), "") != telemetry.TransportREST {
			t.Errorf("transport not marked")
		}
		if got := r.Header.Get(telemetry.HeaderRequestID); got != telemetry.RequestIDFrom(r.Context()) || got == "" {
			t.Errorf("request id header %q, context %q", got, telemetry.RequestIDFrom(r.Context()))
		}
		w.WriteHeader(http.StatusTeapot)
	})
	h := telemetry.HTTPMiddleware(mux, m, nil)

	for _, tc := range []struct {
		path, reqID string
		keep        bool
	}{
		{"/v0/things/rec_123", "caller-1", true},
		{"/v0/things/rec_456", "not valid!", false},
		{"/v0/nothing/here", "", false},
	} {
		req := httptest.NewRequest("GET", tc.path, nil)
		if tc.reqID != "" {
			req.Header.Set("X-Request-Id", tc.reqID)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get("X-Request-Id")
		if tc.keep && got != tc.reqID || !tc.keep && (got == tc.reqID || !telemetry.ValidRequestID(got)) {
			t.Errorf("%s with %q: answered X-Request-Id %q", tc.path, tc.reqID, got)
		}
	}
	if got := value(t, m, "crmgate_http_requests_total", map[string]string{"method": "GET", "route": "/v0/things/{id}", "status": "418"}); got != 2 {
		t.Errorf("route counter = %v, want 2", got)
	}
	if got := value(t, m, "crmgate_http_requests_total", map[string]string{"method": "GET", "route": telemetry.RouteUnmatched, "status": "404"}); got != 1 {
		t.Errorf("unmatched counter = %v, want 1", got)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), "rec_") {
		t.Errorf("a raw id leaked into a label:\n%s", rec.Body.String())
	}
}

func TestHTTPMiddlewareTracing(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	tr := telemetry.NewTracingWith(tp)
	var inner string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v0/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		telemetry.MarkRoute(r, "/v0/things/{id}")
		inner = telemetry.TraceID(r.Context())
		_, _ = io.WriteString(w, "ok")
	})
	h := telemetry.HTTPMiddleware(mux, nil, tr)
	req := httptest.NewRequest("GET", "/v0/things/rec_1", nil)
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	// Probes are not traced.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))

	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Name() != "GET /v0/things/{id}" {
		t.Errorf("span name %q", s.Name())
	}
	if s.SpanContext().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || s.Parent().SpanID().String() != "b7ad6b7169203331" {
		t.Errorf("the caller's traceparent was not continued: trace %s parent %s", s.SpanContext().TraceID(), s.Parent().SpanID())
	}
	if inner != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("handler saw trace %q", inner)
	}
}
