package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	passthroughv1 "github.com/crmgate/crmgate/gen/crmgate/passthrough/v1"
	"github.com/crmgate/crmgate/internal/app"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/telemetry"
)

// seenRequest is what the fake received.
type seenRequest struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// recordingFake serves a GHL fake and keeps every request it got.
type recordingFake struct {
	next http.Handler
	mu   sync.Mutex
	seen []seenRequest
}

func (f *recordingFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), b})
	f.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(b))
	f.next.ServeHTTP(w, r)
}

func (f *recordingFake) last(t *testing.T) seenRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		t.Fatal("the fake got no request")
	}
	return f.seen[len(f.seen)-1]
}

func (f *recordingFake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

// TestPassthrough drives /v0/passthrough/{path...} and its gRPC twin
// against the GHL fake through the whole gateway.
func TestPassthrough(t *testing.T) {
	t.Parallel()
	fake := ghlfake.New(ghlfake.Options{BurstLimit: -1, DailyLimit: -1})
	rec := &recordingFake{next: fake}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	f := &fakeGHL{Server: fake, URL: srv.URL}
	const maxBody = 64 << 10
	g := newGateway(t, gwOptions{maxBodyBytes: maxBody})
	tn := g.newTenant(t, f, "org-pt-"+randHex(6), 0)
	callerAuth := "Bearer caller-own-" + randHex(16)
	g.addSecret(callerAuth, "the caller's own Authorization header")

	h := hdr(tn.key, tn.connID)
	h["Authorization"] = callerAuth
	h["X-Custom"] = "kept"
	h["Cookie"] = "session=caller"

	// Direct calls to the fake, with the connection's token: what the
	// passthrough must answer byte for byte.
	direct := func(method, path string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, f.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tn.token)
		req.Header.Set("Version", "2021-07-28")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	provider := func(r response) {
		t.Helper()
		if o := r.header.Get("X-Crmgate-Origin"); o != "provider" {
			t.Errorf("X-Crmgate-Origin = %q, want provider", o)
		}
		for _, k := range []string{"Set-Cookie", "Www-Authenticate", "Authorization"} {
			if r.header.Get(k) != "" {
				t.Errorf("answer carries %s", k)
			}
		}
	}

	var contactID string
	t.Run("POST with a body", func(t *testing.T) {
		r := g.do(t, "POST", "/v0/passthrough/contacts/", h, map[string]any{
			"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "locationId": tn.location,
		})
		if r.status != http.StatusCreated {
			t.Fatalf("POST contacts/: %d %s", r.status, r.raw)
		}
		provider(r)
		contactID = str(at(r.body, "contact", "id"))
		if contactID == "" || str(at(r.body, "contact", "email")) != "ada@example.com" {
			t.Fatalf("created contact: %s", r.raw)
		}
		seen := rec.last(t)
		if seen.method != "POST" || seen.path != "/contacts/" {
			t.Errorf("fake got %s %s", seen.method, seen.path)
		}
		var sent map[string]any
		if err := json.Unmarshal(seen.body, &sent); err != nil || sent["firstName"] != "Ada" {
			t.Errorf("fake got body %q", seen.body)
		}
		if ct := seen.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("fake got Content-Type %q", ct)
		}
	})

	t.Run("GET answers the fake's body", func(t *testing.T) {
		r := g.do(t, "GET", "/v0/passthrough/contacts/?locationId="+tn.location, h, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET contacts/: %d %s", r.status, r.raw)
		}
		provider(r)
		seen := rec.last(t)
		st, want := direct("GET", "/contacts/?locationId="+tn.location)
		if st != http.StatusOK || !bytes.Equal(r.raw, want) {
			t.Errorf("passthrough answered %q,\nthe fake answers %d %q", r.raw, st, want)
		}
		if !strings.Contains(string(r.raw), contactID) {
			t.Errorf("list lacks the contact made: %s", r.raw)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q", ct)
		}
		if seen.path != "/contacts/" || seen.query != "locationId="+tn.location {
			t.Errorf("fake got %s ? %s", seen.path, seen.query)
		}
		// The connection's token, never the caller's; none of the
		// gateway's headers; the caller's own headers kept.
		if a := seen.header.Get("Authorization"); a != "Bearer "+tn.token {
			t.Errorf("fake got Authorization %q, want the connection's token", a)
		}
		for _, k := range []string{"X-Apikey", "X-Connection-Id", "Cookie"} {
			if v := seen.header.Get(k); v != "" {
				t.Errorf("fake got %s: %q", k, v)
			}
		}
		if seen.header.Get("X-Custom") != "kept" || seen.header.Get("Version") != "2021-07-28" {
			t.Errorf("fake got headers %v", seen.header)
		}
	})

	t.Run("the caller's Version is kept", func(t *testing.T) {
		hv := hdr(tn.key, tn.connID)
		hv["Version"] = "2021-04-15"
		if r := g.do(t, "GET", "/v0/passthrough/contacts/"+contactID, hv, nil); r.status != http.StatusOK {
			t.Fatalf("GET contact: %d %s", r.status, r.raw)
		}
		if v := rec.last(t).header.Get("Version"); v != "2021-04-15" {
			t.Errorf("fake got Version %q", v)
		}
	})

	t.Run("the provider's 404 passed through", func(t *testing.T) {
		r := g.do(t, "GET", "/v0/passthrough/no/such/route", h, nil)
		if r.status != http.StatusNotFound {
			t.Fatalf("unknown route: %d %s", r.status, r.raw)
		}
		provider(r)
		st, want := direct("GET", "/no/such/route")
		if st != http.StatusNotFound || !bytes.Equal(r.raw, want) {
			t.Errorf("passthrough answered %q, the fake %d %q", r.raw, st, want)
		}
		// A provider error of a write too (422: unknown property), unchanged.
		r = g.do(t, "PUT", "/v0/passthrough/contacts/"+contactID, h, map[string]any{"locationId": tn.location})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.raw), "locationId should not exist") {
			t.Errorf("PUT with locationId: %d %s", r.status, r.raw)
		}
		provider(r)
	})

	t.Run("PUT and DELETE", func(t *testing.T) {
		r := g.do(t, "PUT", "/v0/passthrough/contacts/"+contactID, h, map[string]any{"firstName": "Augusta"})
		if r.status != http.StatusOK || str(at(r.body, "contact", "firstName")) != "Augusta" {
			t.Fatalf("PUT contact: %d %s", r.status, r.raw)
		}
		r = g.do(t, "DELETE", "/v0/passthrough/contacts/"+contactID, h, nil)
		if r.status != http.StatusOK {
			t.Fatalf("DELETE contact: %d %s", r.status, r.raw)
		}
		if r = g.do(t, "GET", "/v0/passthrough/contacts/"+contactID, h, nil); r.status < 400 {
			t.Errorf("deleted contact answered %d", r.status)
		}
	})

	t.Run("Idempotency-Key: a repeated POST is sent once", func(t *testing.T) {
		hk := hdr(tn.key, tn.connID)
		hk["Idempotency-Key"] = "pt-" + randHex(12)
		body := map[string]any{"firstName": "Once", "email": "once@example.com", "locationId": tn.location}
		before := rec.count()
		first := g.do(t, "POST", "/v0/passthrough/contacts/", hk, body)
		hk["X-Request-Id"] = "another-request-id" // not part of the request
		again := g.do(t, "POST", "/v0/passthrough/contacts/", hk, body)
		if first.status != http.StatusCreated || again.status != http.StatusCreated || !bytes.Equal(first.raw, again.raw) {
			t.Fatalf("first %d %s, repeat %d %s", first.status, first.raw, again.status, again.raw)
		}
		if n := rec.count() - before; n != 1 {
			t.Errorf("the fake got %d requests for a POST repeated with its Idempotency-Key, want 1", n)
		}
		if again.header.Get("Grpc-Metadata-Idempotent-Replayed") != "true" || again.header.Get("X-Crmgate-Origin") != "provider" {
			t.Errorf("repeat headers %v", again.header)
		}
		body["firstName"] = "Other"
		if r := g.do(t, "POST", "/v0/passthrough/contacts/", hk, body); r.status != http.StatusUnprocessableEntity || str(at(r.body, "details", "reason")) != "IDEMPOTENCY_KEY_REUSED" {
			t.Errorf("same key, other body: %d %s", r.status, r.raw)
		}
	})

	t.Run("escapes are 400 and reach no provider", func(t *testing.T) {
		before := rec.count()
		for path, why := range map[string]string{
			"/v0/passthrough/../core/connections":        "dot segment",
			"/v0/passthrough/contacts/../../oauth/token": "dot segment",
			"/v0/passthrough/%2e%2e/admin":               "dot segment",
			"/v0/passthrough/.%2E/admin":                 "dot segment",
			"/v0/passthrough/%252e%252e/admin":           "dot segment",
			"/v0/passthrough/contacts/./x":               "dot segment",
			"/v0/passthrough//evil.example/x":            "'//'",
			"/v0/passthrough/http://evil.example/x":      "absolute URL",
			"/v0/passthrough/https:evil.example":         "absolute URL",
			"/v0/passthrough/a%2fb":                      "'/'",
			"/v0/passthrough/..%2f..%2fadmin":            "'/'",
			"/v0/passthrough/a%5cb":                      "backslash",
			"/v0/passthrough/a%00b":                      "control",
			"/v0/passthrough/contacts//x":                "empty segments",
			"/v0/passthrough/":                           "required",
			"/v0/passthrough/oauth/token":                "OAuth",
		} {
			r := g.do(t, "GET", path, h, nil)
			if r.status != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", path, r.status, r.raw)
				continue
			}
			if str(at(r.body, "details", "origin")) != "gateway" || !strings.Contains(str(r.body["message"]), why) {
				t.Errorf("%s: %s; want a gateway error naming %q", path, r.raw, why)
			}
			if r.header.Get("X-Crmgate-Origin") != "" {
				t.Errorf("%s: a gateway error marked as the provider's", path)
			}
		}
		if n := rec.count() - before; n != 0 {
			t.Errorf("the fake got %d requests from refused paths", n)
		}
	})

	t.Run("gateway errors", func(t *testing.T) {
		noKey := map[string]string{"x-connection-id": tn.connID}
		if r := g.do(t, "GET", "/v0/passthrough/contacts/", noKey, nil); r.status != http.StatusUnauthorized || str(at(r.body, "details", "origin")) != "gateway" {
			t.Errorf("no x-apikey: %d %s", r.status, r.raw)
		}
		wrong := hdr("cgk_wrong-key-0123456789", tn.connID)
		if r := g.do(t, "GET", "/v0/passthrough/contacts/", wrong, nil); r.status != http.StatusUnauthorized {
			t.Errorf("wrong x-apikey: %d %s", r.status, r.raw)
		}
		if r := g.do(t, "GET", "/v0/passthrough/contacts/", hdr(tn.key, ""), nil); r.status != http.StatusBadRequest || !strings.Contains(str(r.body["message"]), "x-connection-id") {
			t.Errorf("no x-connection-id: %d %s", r.status, r.raw)
		}
		if r := g.do(t, "GET", "/v0/passthrough/contacts/", hdr(tn.key, "conn_nope"), nil); r.status != http.StatusNotFound {
			t.Errorf("unknown connection: %d %s", r.status, r.raw)
		}
		r := g.do(t, "OPTIONS", "/v0/passthrough/contacts/", h, nil)
		if r.status != http.StatusMethodNotAllowed || !strings.Contains(r.header.Get("Allow"), "PATCH") {
			t.Errorf("OPTIONS: %d %v %s", r.status, r.header, r.raw)
		}
		r = g.do(t, "POST", "/v0/passthrough/contacts/", h, rawBody(bytes.Repeat([]byte("x"), maxBody+1)))
		if r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("body over the limit: %d %s", r.status, r.raw)
		}
		ht := hdr(tn.key, tn.connID)
		ht["Grpc-Timeout"] = "soon"
		if r := g.do(t, "GET", "/v0/passthrough/contacts/", ht, nil); r.status != http.StatusBadRequest || !strings.Contains(str(r.body["message"]), "Grpc-Timeout") {
			t.Errorf("bad Grpc-Timeout: %d %s", r.status, r.raw)
		}
		r = g.do(t, "GET", "/v0/passthrough/contacts/?a=%zz", h, nil)
		if r.status != http.StatusBadRequest || !strings.Contains(str(r.body["message"]), "query") {
			t.Errorf("bad query: %d %s", r.status, r.raw)
		}
	})

	t.Run("gRPC twin", func(t *testing.T) {
		client := passthroughv1.NewPassthroughServiceClient(g.conn)
		ctx := metadata.AppendToOutgoingContext(context.Background(), "x-apikey", tn.key, "x-connection-id", tn.connID)
		resp, err := client.Passthrough(ctx, &passthroughv1.PassthroughRequest{
			Method: "post", Path: "contacts/",
			Headers: []*passthroughv1.Header{{Name: "Content-Type", Value: "application/json"}, {Name: "Authorization", Value: callerAuth}},
			Body:    []byte(`{"firstName":"Grace","email":"grace@example.com","locationId":"` + tn.location + `"}`),
		})
		if err != nil || resp.GetStatus() != http.StatusCreated {
			t.Fatalf("gRPC POST: %v %v", resp, err)
		}
		if a := rec.last(t).header.Get("Authorization"); a != "Bearer "+tn.token {
			t.Errorf("fake got Authorization %q over gRPC", a)
		}
		resp, err = client.Passthrough(ctx, &passthroughv1.PassthroughRequest{Method: "GET", Path: "/contacts/", Query: "locationId=" + tn.location})
		if err != nil || resp.GetStatus() != http.StatusOK {
			t.Fatalf("gRPC GET: %v %v", resp, err)
		}
		if _, want := direct("GET", "/contacts/?locationId="+tn.location); !bytes.Equal(resp.GetBody(), want) {
			t.Errorf("gRPC body %q, the fake answers %q", resp.GetBody(), want)
		}
		ct := ""
		for _, kv := range resp.GetHeaders() {
			if kv.GetName() == "Content-Type" {
				ct = kv.GetValue()
			}
			if kv.GetName() == "Set-Cookie" || kv.GetName() == "Content-Length" {
				t.Errorf("gRPC answer header %s", kv.GetName())
			}
		}
		if !strings.HasPrefix(ct, "application/json") {
			t.Errorf("gRPC answer headers %v", resp.GetHeaders())
		}
		// The provider's 404 is an answer, not an error.
		resp, err = client.Passthrough(ctx, &passthroughv1.PassthroughRequest{Method: "GET", Path: "no/such/route"})
		if err != nil || resp.GetStatus() != http.StatusNotFound {
			t.Errorf("gRPC unknown route: %v %v", resp, err)
		}
		// Bad input is INVALID_ARGUMENT naming the problem.
		for _, req := range []*passthroughv1.PassthroughRequest{
			{Method: "GET", Path: "../admin"},
			{Method: "GET", Path: "%2E%2e/admin"},
			{Method: "GET", Path: "//evil.example"},
			{Method: "GET", Path: "contacts/", Headers: []*passthroughv1.Header{{Name: "X-Evil", Value: "a\r\nHost: evil"}}},
			{Method: "HEAD", Path: "contacts/"},
			{Method: "GET", Path: "contacts?x=1"},
		} {
			_, err := client.Passthrough(ctx, req)
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("gRPC %v: %v, want InvalidArgument", req, err)
			}
		}
		noKey := metadata.AppendToOutgoingContext(context.Background(), "x-connection-id", tn.connID)
		if _, err := client.Passthrough(noKey, &passthroughv1.PassthroughRequest{Method: "GET", Path: "contacts/"}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("gRPC without x-apikey: %v", err)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		fams := g.scrape(t)
		const svc = "crmgate.passthrough.v1.PassthroughService"
		for _, c := range []struct {
			name   string
			labels map[string]string
		}{
			{"crmgate_upstream_requests_total", map[string]string{"provider": "ghl", "endpoint": "GET passthrough", "status": "200"}},
			{"crmgate_upstream_requests_total", map[string]string{"provider": "ghl", "endpoint": "POST passthrough", "status": "201"}},
			{"crmgate_upstream_requests_total", map[string]string{"provider": "ghl", "endpoint": "GET passthrough", "status": "404"}},
			{"crmgate_http_requests_total", map[string]string{"method": "GET", "route": "/v0/passthrough/{path...}", "status": "200"}},
			{"crmgate_http_requests_total", map[string]string{"method": "GET", "route": "/v0/passthrough/{path...}", "status": "400"}},
			{"crmgate_rpc_requests_total", map[string]string{"transport": "rest", "service": svc, "method": "Passthrough", "code": "OK"}},
			{"crmgate_rpc_requests_total", map[string]string{"transport": "grpc", "service": svc, "method": "Passthrough", "code": "InvalidArgument"}},
		} {
			if sample(fams, c.name, c.labels) < 1 {
				t.Errorf("%s%v did not move", c.name, c.labels)
			}
		}
	})
}

// TestPassthroughRateLimited: over a spent budget a fail-fast passthrough
// call is the gateway's 429 (standard body, origin gateway), not sent.
func TestPassthroughRateLimited(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	g := newGateway(t, gwOptions{env: map[string]string{"GATEWAY_RATE_LIMIT_BURST": "2", "GATEWAY_RATE_LIMIT_WINDOW": "10s"}})
	tn := g.newTenant(t, f, "org-pt429-"+randHex(6), -1)
	h := hdr(tn.key, tn.connID)
	h["x-crmgate-wait"] = "0"
	var got *response
	for i := 0; i < 6 && got == nil; i++ {
		r := g.do(t, "GET", "/v0/passthrough/contacts/?locationId="+tn.location, h, nil)
		switch r.status {
		case http.StatusTooManyRequests:
			got = &r
		case http.StatusOK:
		default:
			t.Fatalf("call %d: %d %s", i, r.status, r.raw)
		}
	}
	if got == nil {
		t.Fatal("no 429 after 6 fail-fast calls over a budget of 2")
	}
	if str(at(got.body, "details", "origin")) != "gateway" || str(at(got.body, "details", "reason")) != "RATE_LIMITED" || got.header.Get("Retry-After") == "" {
		t.Errorf("429: %v %s", got.header, got.raw)
	}
	if f.RateLimitedCount() != 0 {
		t.Errorf("the fake refused %d calls: the gateway sent them", f.RateLimitedCount())
	}
}

// TestPassthroughProviderFailures: the provider's 500 is answered as it
// came and does not open the host's circuit (it speaks about the
// caller's request); repeated 503s do, and the open circuit is the
// gateway's 503 CIRCUIT_OPEN in crmgate's error body, sent nowhere.
func TestPassthroughProviderFailures(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	g := newGateway(t, gwOptions{})
	tn := g.newTenant(t, f, "org-pt5xx-"+randHex(6), -1)
	path := "/v0/passthrough/contacts/?locationId=" + tn.location
	// A REST deadline (Grpc-Timeout) bounds the call: a slow provider is a 504.
	f.SetFaults(ghlfake.FaultConfig{RateSlow: 1, SlowDelay: 2 * time.Second})
	ht := hdr(tn.key, tn.connID)
	ht["Grpc-Timeout"] = "100m"
	start := time.Now()
	if r := g.doAllow5xx(t, "GET", path, ht, nil); r.status != http.StatusGatewayTimeout || r.header.Get("X-Crmgate-Origin") != "" {
		t.Errorf("slow provider under Grpc-Timeout 100m: %d %v %s", r.status, r.header, r.raw)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("Grpc-Timeout 100m answered after %s", d)
	}
	f.SetFaults(ghlfake.FaultConfig{Rate500: 1})
	for i := 0; i < 25; i++ {
		r := g.doAllow5xx(t, "GET", path, hdr(tn.key, tn.connID), nil)
		if r.status != http.StatusInternalServerError || r.header.Get("X-Crmgate-Origin") != "provider" {
			t.Fatalf("call %d under 500s: %d %v %s", i, r.status, r.header, r.raw)
		}
	}
	if n := f.FaultCounts().Status500; n != 25 {
		t.Errorf("the fake answered %d 500s, want 25 (one per call, none refused by the breaker)", n)
	}
	f.SetFaults(ghlfake.FaultConfig{Rate503: 1})
	var open *response
	for i := 0; i < 20 && open == nil; i++ {
		r := g.doAllow5xx(t, "GET", path, hdr(tn.key, tn.connID), nil)
		if r.status == http.StatusServiceUnavailable && r.header.Get("X-Crmgate-Origin") == "" {
			open = &r
		}
	}
	if open == nil {
		t.Fatal("20 calls under 503s did not open the circuit")
	}
	checkErrorBody(t, "circuit open", *open)
	if str(at(open.body, "details", "reason")) != "CIRCUIT_OPEN" || str(at(open.body, "details", "origin")) != "gateway" {
		t.Errorf("open circuit: %s", open.raw)
	}
}

// TestPassthroughTracing: a REST passthrough call continuing the caller's
// traceparent makes a server span named after the route and a GHL client
// span "ghl GET passthrough" in the same trace, never the raw path.
func TestPassthroughTracing(t *testing.T) {
	t.Parallel()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	e := newEnv(t, gwOptions{build: []app.Option{app.WithTracing(telemetry.NewTracingWith(tp))}}, -1)
	const traceID, peer = "0af7651916cd43dd8448eb211c80319d", "b7ad6b7169203332"
	h := hdr(e.tn.key, e.tn.connID)
	h["traceparent"] = "00-" + traceID + "-" + peer + "-01"
	if r := e.g.do(t, "GET", "/v0/passthrough/contacts/?locationId="+e.tn.location, h, nil); r.status != http.StatusOK {
		t.Fatalf("passthrough: %d %s", r.status, r.raw)
	}
	var server, client bool
	for _, s := range sr.Ended() {
		if s.SpanContext().TraceID().String() != traceID {
			continue
		}
		switch {
		case s.SpanKind() == trace.SpanKindServer && s.Name() == "GET /v0/passthrough/{path...}":
			server = true
		case s.SpanKind() == trace.SpanKindClient && s.Name() == "ghl GET passthrough":
			client = true
		}
		if strings.Contains(s.Name(), e.tn.location) {
			t.Errorf("span name %q carries the query", s.Name())
		}
	}
	if !server || !client {
		t.Errorf("server span %v, GHL client span %v in trace %s", server, client, traceID)
	}
}
