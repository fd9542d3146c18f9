package upstream_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crmgate/crmgate/internal/upstream"
)

// Micro-benchmarks of the provider transport against a loopback server
// answering a GHL-sized record (0.8 KB) with HighLevel's rate-limit
// headers: "bare" is the plain http.Transport, "stack" the whole resilient
// transport the gateway uses (Endpoints → BodyLimit → Retry → Breaker →
// RateLimit → Observe → AttemptTimeout → http.Transport, in-process
// limiter and budgets), so the difference is what our layers cost per
// call (go test -run '^$' -bench Transport -benchmem ./internal/upstream).

var benchBody = []byte(`{"record":{"id":"6b02d7d9cc77358d7720bda2","owner":[],"followers":[],"properties":{"age":0,"birthday":"2010-01-01","email":"owner0@example.com","name":"Buddy 0","notes":"Demo pet number 0.","phone":"+15550000000","price":{"currency":"default","value":50},"species":"dog","tags":["friendly","playful"],"vaccinated":["rabies"]},"dateAdded":"2026-11-22T11:54:01.264Z","dateUpdated":"2026-11-22T11:54:01.264Z","locationId":"benchLocation0000000","objectId":"6b02d7d9cc77358d7720bda1","objectKey":"custom_objects.pet","createdBy":{"channel":"API","createdAt":"2026-11-22T11:54:01.264Z","source":"PUBLIC_API","sourceId":"4c96523de1368c275bd9"}}}`)

func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h[http.CanonicalHeaderKey(upstream.HeaderRateLimitMax)] = []string{"1000000000"}
		h[http.CanonicalHeaderKey(upstream.HeaderRateLimitRemaining)] = []string{"999999999"}
		h[http.CanonicalHeaderKey(upstream.HeaderRateLimitInterval)] = []string{"10000"}
		h[http.CanonicalHeaderKey(upstream.HeaderRateLimitDaily)] = []string{"1000000000"}
		h[http.CanonicalHeaderKey(upstream.HeaderRateLimitDailyRemaining)] = []string{"999999999"}
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
		}
		_, _ = w.Write(benchBody)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchBase() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

func BenchmarkTransport(b *testing.B) {
	srv := benchServer(b)
	routes := upstream.NewRoutes("GET /objects/{schemaKey}/records/{id}", "POST /objects/{schemaKey}/records")
	stack := func() http.RoundTripper {
		limits := upstream.Limits{Burst: 1_000_000_000, Daily: 1_000_000_000}
		return upstream.NewEndpoints(upstream.NewTransport(benchBase(), upstream.Options{
			Limiter: upstream.NewMemoryLimiter(limits, nil),
			Budgets: upstream.NewMemoryBudgets(nil),
		}), "ghl", routes)
	}
	ctx := upstream.WithCall(context.Background(), upstream.Call{Budget: upstream.BudgetKey("ghl", "cfg", "loc")})
	ctx, _ = upstream.WithCounter(ctx)
	ctx, cancel := context.WithCancel(ctx) // a cancellable parent, like an incoming call's
	b.Cleanup(cancel)
	payload := []byte(`{"locationId":"benchLocation0000000","properties":{"name":"Rex","species":"dog","age":4}}`)
	for _, tc := range []struct {
		name   string
		method string
		rt     func() http.RoundTripper
	}{
		{"get/bare", http.MethodGet, func() http.RoundTripper { return benchBase() }},
		{"get/stack", http.MethodGet, stack},
		{"create/bare", http.MethodPost, func() http.RoundTripper { return benchBase() }},
		{"create/stack", http.MethodPost, stack},
	} {
		b.Run(tc.name, func(b *testing.B) {
			hc := &http.Client{Transport: tc.rt()}
			url := srv.URL + "/objects/custom_objects.pet/records/6b02d7d9cc77358d7720bda2"
			if tc.method == http.MethodPost {
				url = srv.URL + "/objects/custom_objects.pet/records"
			}
			b.ReportAllocs()
			for b.Loop() {
				var body io.Reader
				if tc.method == http.MethodPost {
					body = bytes.NewReader(payload)
				}
				req, err := http.NewRequestWithContext(ctx, tc.method, url, body)
				if err != nil {
					b.Fatal(err)
				}
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !strings.HasPrefix(string(got), `{"record"`) {
					b.Fatalf("%d %q %v", resp.StatusCode, got, err)
				}
			}
		})
	}
}
