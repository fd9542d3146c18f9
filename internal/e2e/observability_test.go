package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/app"
	"github.com/crmgate/crmgate/internal/telemetry"
)

// scrape reads the gateway's GET /metrics.
func (g *gateway) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	r := g.do(t, "GET", "/metrics", nil, nil)
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", r.status, r.header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(r.raw)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample sums the series of family name whose labels include want
// (counters and gauges: value; histograms: sample count).
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	var sum float64
series:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue series
			}
		}
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// rpcLines returns the gateway's "rpc" log lines.
func rpcLines(t *testing.T, g *gateway) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(g.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "rpc" {
			out = append(out, m)
		}
	}
	return out
}

func lineWithID(lines []map[string]any, id string) map[string]any {
	for _, l := range lines {
		if l["request_id"] == id {
			return l
		}
	}
	return nil
}

// TestObservability: REST and gRPC calls move the request, upstream,
// cache and idempotency metrics under bounded labels (no connection,
// record, location or organisation id anywhere in /metrics); every answer
// carries a request id (the caller's when valid); each call has one log
// line with request id, organisation, connection, RPC, code, duration and
// provider calls made.
func TestObservability(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 3)
	g, tn := e.g, e.tn
	h := hdr(tn.key, tn.connID)

	// REST: list, get (with the caller's request id), a 404, a create
	// repeated with the same Idempotency-Key.
	list := g.do(t, "GET", crmBase+"/custom_objects/pet", h, nil)
	if list.status != http.StatusOK {
		t.Fatalf("list: %d %s", list.status, list.raw)
	}
	recID := str(obj(arr(list.body["items"])[0])["id"])
	hGet := hdr(tn.key, tn.connID)
	hGet["X-Request-Id"] = "rest-req-1"
	got := g.do(t, "GET", crmBase+"/custom_objects/pet/"+recID, hGet, nil)
	if got.status != http.StatusOK || got.header.Get("X-Request-Id") != "rest-req-1" {
		t.Fatalf("get: %d, X-Request-Id %q", got.status, got.header.Values("X-Request-Id"))
	}
	if v := got.header.Values("X-Request-Id"); len(v) != 1 {
		t.Errorf("X-Request-Id sent %d times: %q", len(v), v)
	}
	for k := range got.header {
		if strings.Contains(strings.ToLower(k), "grpc-metadata-x-request-id") {
			t.Errorf("request id leaked as %s", k)
		}
	}
	hBad := hdr(tn.key, tn.connID)
	hBad["X-Request-Id"] = "bad id with spaces"
	missing := g.do(t, "GET", crmBase+"/custom_objects/pet/nosuchrecord123", hBad, nil)
	if missing.status != http.StatusNotFound {
		t.Fatalf("missing: %d %s", missing.status, missing.raw)
	}
	if id := missing.header.Get("X-Request-Id"); id == "" || id == hBad["X-Request-Id"] || !telemetry.ValidRequestID(id) {
		t.Errorf("an invalid caller id must be replaced, got %q", id)
	}
	// Even a route the gateway does not know answers with a request id.
	if r := g.do(t, "GET", "/v0/nowhere/at/all", nil, nil); r.header.Get("X-Request-Id") == "" {
		t.Errorf("404 route without X-Request-Id")
	}
	hIdem := hdr(tn.key, tn.connID)
	hIdem["Idempotency-Key"] = "obs-create-1"
	body := map[string]any{"record": map[string]any{"properties": map[string]any{"name": "Observed"}}}
	var createdID string
	for range 2 {
		r := g.do(t, "POST", crmBase+"/custom_objects/pet", hIdem, body)
		if r.status != http.StatusOK {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		createdID = str(obj(r.body["record"])["id"])
	}
	// The create read the schema; reading it again is a cache hit.
	if r := g.do(t, "GET", crmBase+"/metadata/objects/pet", h, nil); r.status != http.StatusOK {
		t.Fatalf("get object: %d %s", r.status, r.raw)
	}

	// gRPC: get with the caller's request id, returned in header metadata;
	// a call without one gets a generated one.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-apikey", tn.key, "x-connection-id", tn.connID, "x-request-id", "grpc-req-1")
	var md metadata.MD
	if _, err := g.crm.GetRecord(ctx, &crmv1.GetRecordRequest{ObjectName: "pet", Id: recID}, grpc.Header(&md)); err != nil {
		t.Fatal(err)
	}
	if v := md.Get("x-request-id"); len(v) != 1 || v[0] != "grpc-req-1" {
		t.Errorf("gRPC x-request-id header = %q, want the caller's", v)
	}
	ctx2 := metadata.AppendToOutgoingContext(context.Background(), "x-apikey", tn.key, "x-connection-id", tn.connID)
	md = nil
	_, err := g.crm.GetRecord(ctx2, &crmv1.GetRecordRequest{ObjectName: "pet", Id: "nosuchrecord456"}, grpc.Header(&md))
	if status.Code(err) != codes.NotFound {
		t.Fatalf("gRPC missing record: %v", err)
	}
	if v := md.Get("x-request-id"); len(v) != 1 || !telemetry.ValidRequestID(v[0]) {
		t.Errorf("gRPC generated x-request-id = %q", v)
	}
	if _, err := g.crm.ListRecords(ctx2, &crmv1.ListRecordsRequest{ObjectName: "pet"}); err != nil {
		t.Fatal(err)
	}

	// Calls carrying secrets the gateway does not know (a wrong API key, a
	// bearer token) are refused; their log lines hold none of them (the
	// harness searches the whole log for every registered secret when the
	// gateway stops; this checks the lines exist).
	wrongKey := "sk-wrong-" + randHex(24)
	g.addSecret(wrongKey, "wrong API key")
	bearer := "bearer-" + randHex(24)
	g.addSecret(bearer, "bearer token")
	hWrong := hdr(wrongKey, tn.connID)
	hWrong["Authorization"] = "Bearer " + bearer
	hWrong["X-Request-Id"] = "rest-wrong-key"
	if r := g.do(t, "GET", crmBase+"/custom_objects/pet/"+recID, hWrong, nil); r.status != http.StatusUnauthorized {
		t.Errorf("wrong key over REST: %d", r.status)
	}
	ctxWrong := metadata.AppendToOutgoingContext(context.Background(), "x-apikey", wrongKey, "authorization", "Bearer "+bearer, "x-request-id", "grpc-wrong-key")
	if _, err := g.crm.GetRecord(ctxWrong, &crmv1.GetRecordRequest{ObjectName: "pet", Id: recID}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("wrong key over gRPC: %v", err)
	}
	for _, id := range []string{"rest-wrong-key", "grpc-wrong-key"} {
		if l := lineWithID(rpcLines(t, g), id); l == nil || l["code"] != "Unauthenticated" {
			t.Errorf("no Unauthenticated log line for %s: %v", id, l)
		}
	}
	if l := g.leaks([]byte(g.logs.String())); len(l) > 0 {
		t.Errorf("SECRET LEAK in the log: %v", l)
	}

	fams := g.scrape(t)
	const crm = "crmgate.crm.v1.CrmService"
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"crmgate_rpc_requests_total", map[string]string{"transport": "rest", "service": crm, "method": "ListRecords", "code": "OK"}},
		{"crmgate_rpc_requests_total", map[string]string{"transport": "rest", "service": crm, "method": "GetRecord", "code": "NotFound"}},
		{"crmgate_rpc_requests_total", map[string]string{"transport": "grpc", "service": crm, "method": "GetRecord", "code": "OK"}},
		{"crmgate_rpc_requests_total", map[string]string{"transport": "grpc", "service": crm, "method": "GetRecord", "code": "NotFound"}},
		{"crmgate_rpc_duration_seconds", map[string]string{"transport": "grpc", "service": crm, "method": "ListRecords", "code": "OK"}},
		{"crmgate_http_requests_total", map[string]string{"method": "GET", "route": "/v0/unified/crm/custom_objects/{object_name}/{id}", "status": "200"}},
		{"crmgate_http_requests_total", map[string]string{"method": "GET", "route": "/v0/unified/crm/custom_objects/{object_name}/{id}", "status": "404"}},
		{"crmgate_http_requests_total", map[string]string{"method": "GET", "route": telemetry.RouteUnmatched, "status": "404"}},
		{"crmgate_http_request_duration_seconds", map[string]string{"method": "POST", "route": "/v0/unified/crm/custom_objects/{object_name}", "status": "200"}},
		{"crmgate_upstream_requests_total", map[string]string{"provider": "ghl", "endpoint": "GET /objects/{schemaKey}/records/{id}", "status": "200"}},
		{"crmgate_upstream_requests_total", map[string]string{"provider": "ghl", "endpoint": "POST /objects/{schemaKey}/records/search", "status": "200"}},
		{"crmgate_upstream_request_duration_seconds", map[string]string{"provider": "ghl", "endpoint": "GET /objects/{key}"}},
		{"crmgate_cache_lookups_total", map[string]string{"cache": "schema", "result": "hit"}},
		{"crmgate_cache_lookups_total", map[string]string{"cache": "schema", "result": "miss"}},
		{"crmgate_cache_lookups_total", map[string]string{"cache": "connection", "result": "hit"}},
		{"crmgate_idempotency_replays_total", map[string]string{"service": crm, "method": "CreateRecord"}},
		{"go_goroutines", nil},
		{"process_resident_memory_bytes", nil},
	} {
		if sample(fams, c.name, c.labels) < 1 {
			t.Errorf("%s%v did not move", c.name, c.labels)
		}
	}
	if n := sample(fams, "crmgate_idempotency_replays_total", nil); n != 1 {
		t.Errorf("idempotency replays = %v, want 1", n)
	}
	// go-grpc-middleware's standard gRPC server metrics, on the same
	// registry: the gRPC port's calls only (the REST calls above are not
	// gRPC calls), by type, service, method and final code.
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"grpc_server_handled_total", map[string]string{"grpc_type": "unary", "grpc_service": crm, "grpc_method": "GetRecord", "grpc_code": "OK"}, 1},
		{"grpc_server_handled_total", map[string]string{"grpc_type": "unary", "grpc_service": crm, "grpc_method": "GetRecord", "grpc_code": "NotFound"}, 1},
		{"grpc_server_handled_total", map[string]string{"grpc_type": "unary", "grpc_service": crm, "grpc_method": "GetRecord", "grpc_code": "Unauthenticated"}, 1},
		{"grpc_server_handled_total", map[string]string{"grpc_type": "unary", "grpc_service": crm, "grpc_method": "ListRecords", "grpc_code": "OK"}, 1},
		{"grpc_server_started_total", map[string]string{"grpc_type": "unary", "grpc_service": crm, "grpc_method": "GetRecord"}, 3},
		{"grpc_server_handling_seconds", map[string]string{"grpc_type": "unary", "grpc_service": crm, "grpc_method": "ListRecords"}, 1},
	} {
		if got := sample(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Bounded labels: no id of any kind in any label value.
	var orgID string
	if l := lineWithID(rpcLines(t, g), "rest-req-1"); l != nil {
		orgID, _ = l["org"].(string)
	}
	forbidden := map[string]string{
		orgID:     "organisation id",
		tn.connID: "connection id", recID: "record id", createdID: "created record id",
		tn.location: "location id", tn.org: "organisation", tn.key: "API key",
		"nosuchrecord": "requested record id", "rest-req-1": "request id", "grpc-req-1": "request id",
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				for v, what := range forbidden {
					if v != "" && strings.Contains(l.GetValue(), v) {
						t.Errorf("%s label %s=%q holds a %s", name, l.GetName(), l.GetValue(), what)
					}
				}
			}
		}
	}

	// One log line per call, with its facts.
	lines := rpcLines(t, g)
	for _, c := range []struct {
		id, transport string
	}{{"rest-req-1", "rest"}, {"grpc-req-1", "grpc"}} {
		l := lineWithID(lines, c.id)
		if l == nil {
			t.Errorf("no rpc log line with request_id %s", c.id)
			continue
		}
		org, _ := l["org"].(string)
		if l["transport"] != c.transport || l["rpc"] != "/"+crm+"/GetRecord" || l["code"] != "OK" ||
			!strings.HasPrefix(org, "org_") || l["connection_id"] != tn.connID || l["level"] != "INFO" {
			t.Errorf("log line %v", l)
		}
		if n, _ := l["upstream_calls"].(float64); n < 1 {
			t.Errorf("log line counts %v upstream calls, want ≥ 1: %v", l["upstream_calls"], l)
		}
		if _, ok := l["duration_ms"].(float64); !ok {
			t.Errorf("log line without duration_ms: %v", l)
		}
	}
	if l := lineWithID(lines, missing.header.Get("X-Request-Id")); l == nil || l["code"] != "NotFound" {
		t.Errorf("the REST 404 has no log line under its generated request id: %v", l)
	}
}

// TestTracing: with a span recorder as tracer provider, a REST call and a
// gRPC call each make a server span continuing the caller's traceparent,
// with a child span for the GHL call in the same trace; no span attribute
// holds a secret.
func TestTracing(t *testing.T) {
	t.Parallel()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	e := newEnv(t, gwOptions{build: []app.Option{app.WithTracing(telemetry.NewTracingWith(tp))}}, 2)
	g, tn := e.g, e.tn
	list := g.do(t, "GET", crmBase+"/custom_objects/pet", hdr(tn.key, tn.connID), nil)
	if list.status != http.StatusOK {
		t.Fatalf("list: %d %s", list.status, list.raw)
	}
	recID := str(obj(arr(list.body["items"])[0])["id"])

	const (
		restTrace = "0af7651916cd43dd8448eb211c80319c"
		restPeer  = "b7ad6b7169203331"
		grpcTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
		grpcPeer  = "00f067aa0ba902b7"
	)
	h := hdr(tn.key, tn.connID)
	h["traceparent"] = "00-" + restTrace + "-" + restPeer + "-01"
	if r := g.do(t, "GET", crmBase+"/custom_objects/pet/"+recID, h, nil); r.status != http.StatusOK {
		t.Fatalf("REST get: %d %s", r.status, r.raw)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-apikey", tn.key, "x-connection-id", tn.connID,
		"traceparent", "00-"+grpcTrace+"-"+grpcPeer+"-01")
	if _, err := g.crm.GetRecord(ctx, &crmv1.GetRecordRequest{ObjectName: "pet", Id: recID}); err != nil {
		t.Fatal(err)
	}

	spans := sr.Ended()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	for _, c := range []struct {
		transport, traceID, peer string
		kind                     trace.SpanKind
		name                     string
	}{
		{"REST", restTrace, restPeer, trace.SpanKindServer, "GET /v0/unified/crm/custom_objects/{object_name}/{id}"},
		{"gRPC", grpcTrace, grpcPeer, trace.SpanKindServer, "crmgate.crm.v1.CrmService/GetRecord"},
	} {
		var server, upstream sdktrace.ReadOnlySpan
		for _, s := range spans {
			if s.SpanContext().TraceID().String() != c.traceID {
				continue
			}
			switch {
			case s.SpanKind() == trace.SpanKindServer && s.Parent().SpanID().String() == c.peer:
				server = s
			case s.SpanKind() == trace.SpanKindClient && s.Name() == "ghl GET /objects/{schemaKey}/records/{id}":
				upstream = s
			}
		}
		if server == nil {
			t.Errorf("%s: no server span continuing traceparent %s-%s (%d spans)", c.transport, c.traceID, c.peer, len(spans))
			continue
		}
		if server.Name() != c.name {
			t.Errorf("%s: server span named %q, want %q", c.transport, server.Name(), c.name)
		}
		if upstream == nil {
			t.Errorf("%s: no GHL client span in trace %s", c.transport, c.traceID)
			continue
		}
		// The GHL span descends from the server span.
		found := false
		for p := upstream.Parent().SpanID(); p.IsValid(); {
			if p == server.SpanContext().SpanID() {
				found = true
				break
			}
			parent, ok := byID[p]
			if !ok {
				break
			}
			p = parent.Parent().SpanID()
		}
		if !found {
			t.Errorf("%s: the GHL span is not a descendant of the server span", c.transport)
		}
	}
	// SQL statements have spans too (creating the tenant wrote rows).
	sql := 0
	for _, s := range spans {
		for _, a := range s.Attributes() {
			if a.Key == "db.statement" || a.Key == "db.query.text" {
				sql++
			}
		}
	}
	if sql == 0 {
		t.Errorf("no SQL span recorded")
	}
	// No secret in any span (names, attributes, events).
	for _, s := range spans {
		var b strings.Builder
		b.WriteString(s.Name())
		for _, a := range s.Attributes() {
			b.WriteString(" " + string(a.Key) + "=" + a.Value.String())
		}
		for _, ev := range s.Events() {
			for _, a := range ev.Attributes {
				b.WriteString(" " + a.Value.String())
			}
		}
		if l := g.leaks([]byte(b.String())); len(l) > 0 {
			t.Errorf("span %q holds %v", s.Name(), l)
		}
	}
}
