package upstream_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/upstream"
)

// recorder is an upstream.Observer keeping what it was told.
type recorder struct {
	mu       sync.Mutex
	attempts []string // provider endpoint status
	waits    []string // provider
	rejects  []string // provider reason
	changes  []string // provider from->to
}

var _ upstream.Observer = (*recorder)(nil)

func (r *recorder) UpstreamAttempt(_ context.Context, provider, endpoint, status string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d < 0 {
		status += " (negative duration)"
	}
	r.attempts = append(r.attempts, provider+" "+endpoint+" "+status)
}

func (r *recorder) RateLimitWaited(_ context.Context, provider string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, fmt.Sprintf("%s %v", provider, d > 0))
}

func (r *recorder) RateLimitRejected(_ context.Context, provider, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rejects = append(r.rejects, provider+" "+reason)
}

func (r *recorder) BreakerChanged(provider string, from, to upstream.BreakerState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, provider+" "+from.String()+"->"+to.String())
}

func (r *recorder) get(f func(*recorder) []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(f(r))
}

var testRoutes = upstream.NewRoutes(
	"GET /objects/{$}",
	"GET /objects/{key}",
	"POST /objects/{key}/records/search",
	"GET /objects/{key}/records/{id}",
	"PUT /objects/{key}/records/{id}",
)

func TestRoutesMatch(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/objects/", "GET /objects/"},
		{"GET", "/objects/custom_objects.pet", "GET /objects/{key}"},
		{"GET", "/objects/pet/records/6650f0a1b2", "GET /objects/{key}/records/{id}"},
		{"HEAD", "/objects/pet/records/6650f0a1b2", "GET /objects/{key}/records/{id}"},
		{"PUT", "/objects/pet/records/abc%2Fdef", "PUT /objects/{key}/records/{id}"},
		{"POST", "/objects/pet/records/search", "POST /objects/{key}/records/search"},
		{"DELETE", "/objects/pet/records/x", upstream.OtherEndpoint},    // method not in the table
		{"GET", "/objects/pet/records/x/extra", upstream.OtherEndpoint}, // no such route
		{"GET", "/contacts/123", upstream.OtherEndpoint},                // no such route
		{"GET", "/objects/x/../pet", "GET /objects/{key}"},              // unclean: named as cleaned
		{"GET", "/objects/pet/records/" + stringsRepeat("9", 500), "GET /objects/{key}/records/{id}"},
	} {
		req := httptest.NewRequest(tc.method, "http://provider.test"+tc.path, nil)
		if got := testRoutes.Match(req); got != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
	if got := (*upstream.Routes)(nil).Match(httptest.NewRequest("GET", "/x", nil)); got != upstream.OtherEndpoint {
		t.Errorf("nil routes: %q", got)
	}
}

func stringsRepeat(s string, n int) string {
	out := make([]byte, 0, len(s)*n)
	for range n {
		out = append(out, s...)
	}
	return string(out)
}

func TestObserveAttemptsAndCounter(t *testing.T) {
	s := &script{statuses: []int{503, 200}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	rec := &recorder{}
	rt := upstream.NewEndpoints(upstream.NewTransport(nil, upstream.Options{Retry: fastRetry(), Observer: rec}), "ghl", testRoutes)

	ctx, counter := upstream.WithCounter(context.Background())
	resp, err := do(t, rt, ctx, http.MethodGet, srv.URL+"/objects/pet/records/rec123", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	want := []string{"ghl GET /objects/{key}/records/{id} 503", "ghl GET /objects/{key}/records/{id} 200"}
	if got := rec.get(func(r *recorder) []string { return r.attempts }); !slices.Equal(got, want) {
		t.Errorf("attempts = %q, want %q", got, want)
	}
	if n := counter.Load(); n != 2 {
		t.Errorf("counter = %d, want 2 (one per attempt)", n)
	}

	// An adapter's own endpoint wins; an unknown route is "other".
	ctx2 := upstream.WithEndpoint(context.Background(), upstream.Endpoint{Provider: "ghl", Template: "GET /custom"})
	if _, err := do(t, rt, ctx2, http.MethodGet, srv.URL+"/whatever/1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := do(t, rt, context.Background(), http.MethodGet, srv.URL+"/whatever/1", nil); err != nil {
		t.Fatal(err)
	}
	got := rec.get(func(r *recorder) []string { return r.attempts })[2:]
	if want := []string{"ghl GET /custom 200", "ghl other 200"}; !slices.Equal(got, want) {
		t.Errorf("attempts = %q, want %q", got, want)
	}
}

func TestObserveFailedAttempts(t *testing.T) {
	rec := &recorder{}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{context.DeadlineExceeded, "timeout"},
		{fmt.Errorf("wrapped: %w", context.Canceled), "canceled"},
		{errors.New("connection refused"), "error"},
	} {
		o := upstream.NewObserve(roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, tc.err }), rec)
		req := httptest.NewRequest(http.MethodGet, "http://provider.test/objects/", nil)
		if _, err := o.RoundTrip(req); !errors.Is(err, tc.err) && err.Error() != tc.err.Error() {
			t.Fatalf("error changed: %v", err)
		}
		got := rec.get(func(r *recorder) []string { return r.attempts })
		if last := got[len(got)-1]; last != "unknown other "+tc.want {
			t.Errorf("%v: got %q, want status %q", tc.err, last, tc.want)
		}
	}
}

func TestObserveRateLimit(t *testing.T) {
	srv := httptest.NewServer(&script{statuses: []int{200}})
	t.Cleanup(srv.Close)
	rec := &recorder{}
	lim := upstream.NewMemoryLimiter(upstream.Limits{Burst: 1, Window: time.Minute, Daily: -1, Margin: -1}, nil)
	rt := upstream.NewEndpoints(upstream.NewTransport(nil, upstream.Options{Limiter: lim, Observer: rec, Retry: upstream.RetryPolicy{MaxAttempts: 1}}), "ghl", testRoutes)
	ctx := upstream.WithCall(context.Background(), upstream.Call{Budget: "ghl:cfg:loc"})
	if _, err := do(t, rt, ctx, http.MethodGet, srv.URL+"/objects/", nil); err != nil {
		t.Fatal(err)
	}
	failFast := upstream.WithCall(context.Background(), upstream.Call{Budget: "ghl:cfg:loc", FailFast: true})
	var rl *upstream.RateLimitedError
	if _, err := do(t, rt, failFast, http.MethodGet, srv.URL+"/objects/", nil); !errors.As(err, &rl) {
		t.Fatalf("want a rate-limited error, got %v", err)
	}
	if got := rec.get(func(r *recorder) []string { return r.rejects }); !slices.Equal(got, []string{"ghl burst"}) {
		t.Errorf("rejects = %q", got)
	}
	if got := rec.get(func(r *recorder) []string { return r.attempts }); len(got) != 1 {
		t.Errorf("a refused call is not an attempt: %q", got)
	}
}

func TestObserveRateLimitWait(t *testing.T) {
	srv := httptest.NewServer(&script{statuses: []int{200}})
	t.Cleanup(srv.Close)
	rec := &recorder{}
	// One slot per 20ms window, and a clock that stands still: the second
	// call is given the next window's slot, 20ms away.
	frozen := time.Now()
	lim := upstream.NewMemoryLimiter(upstream.Limits{Burst: 1, Window: 20 * time.Millisecond, Daily: -1, Margin: -1}, func() time.Time { return frozen })
	rt := upstream.NewEndpoints(upstream.NewTransport(nil, upstream.Options{Limiter: lim, Observer: rec}), "ghl", testRoutes)
	ctx := upstream.WithCall(context.Background(), upstream.Call{Budget: "ghl:cfg:loc2"})
	for range 2 {
		if _, err := do(t, rt, ctx, http.MethodGet, srv.URL+"/objects/", nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.get(func(r *recorder) []string { return r.waits }); !slices.Equal(got, []string{"ghl true"}) {
		t.Errorf("waits = %q, want one positive wait", got)
	}
}

func TestObserveBreaker(t *testing.T) {
	s := &script{statuses: []int{503}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	rec := &recorder{}
	rt := upstream.NewEndpoints(upstream.NewTransport(nil, upstream.Options{
		Observer: rec, Retry: upstream.RetryPolicy{MaxAttempts: 1},
		Breaker: upstream.BreakerPolicy{Consecutive: 2, OpenFor: time.Hour},
	}), "ghl", testRoutes)
	for range 2 {
		if _, err := do(t, rt, context.Background(), http.MethodGet, srv.URL+"/objects/", nil); err != nil {
			t.Fatal(err)
		}
	}
	var co *upstream.CircuitOpenError
	if _, err := do(t, rt, context.Background(), http.MethodGet, srv.URL+"/objects/", nil); !errors.As(err, &co) {
		t.Fatalf("want an open circuit, got %v", err)
	}
	if got := rec.get(func(r *recorder) []string { return r.changes }); !slices.Equal(got, []string{"ghl closed->open"}) {
		t.Errorf("changes = %q", got)
	}
}
