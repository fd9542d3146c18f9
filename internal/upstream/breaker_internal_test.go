package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The breaker runs on gobreaker's clock (time.Now): these tests wait out
// short OpenFor and Window durations; they assert states and call counts,
// never how long anything took.

func newTestBreaker(t *testing.T, p BreakerPolicy) (*Breaker, *atomic.Int32, *atomic.Int32, string) {
	t.Helper()
	var status, calls atomic.Int32
	status.Store(200)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path == "/slow" {
			<-release
		}
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return NewBreaker(http.DefaultTransport, p, nil), &status, &calls, srv.URL
}

func get(b http.RoundTripper, url string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	resp, err := b.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// waitState waits (up to 5s) for host's circuit to reach want.
func waitState(t *testing.T, b *Breaker, host string, want BreakerState) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for b.State(host) != want {
		if time.Now().After(deadline) {
			t.Fatalf("state %v; want %v", b.State(host), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type recordingObserver struct {
	NopObserver
	mu      sync.Mutex
	changes []string
}

func (o *recordingObserver) BreakerChanged(provider string, from, to BreakerState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.changes = append(o.changes, provider+":"+from.String()+">"+to.String())
}

func TestBreakerConsecutiveOpenHalfOpenClose(t *testing.T) {
	const openFor = 100 * time.Millisecond
	b, status, calls, url := newTestBreaker(t, BreakerPolicy{Consecutive: 3, OpenFor: openFor})
	obs := &recordingObserver{}
	b.obs = obs
	status.Store(503)
	for range 3 {
		if code, err := get(b, url); err != nil || code != 503 {
			t.Fatalf("%d %v", code, err)
		}
	}
	if s := b.State(url); s != StateOpen {
		t.Fatalf("state %v after 3 failures; want open", s)
	}
	n := calls.Load()
	_, err := get(b, url)
	var co *CircuitOpenError
	if !errors.As(err, &co) || co.RetryAfter <= 0 || co.RetryAfter > openFor || co.Host != url || calls.Load() != n {
		t.Fatalf("open circuit: %v (calls %d->%d); want CircuitOpenError for %s without a call", err, n, calls.Load(), url)
	}

	// Half-open: one probe; its failure re-opens.
	waitState(t, b, url, StateHalfOpen)
	if code, _ := get(b, url); code != 503 {
		t.Fatalf("probe: %d", code)
	}
	if s := b.State(url); s != StateOpen {
		t.Fatalf("state %v after a failed probe; want open", s)
	}

	// The next probe succeeds: closed.
	waitState(t, b, url, StateHalfOpen)
	status.Store(200)
	if code, err := get(b, url); code != 200 || err != nil {
		t.Fatalf("probe: %d %v", code, err)
	}
	if s := b.State(url); s != StateClosed {
		t.Fatalf("state %v after a good probe; want closed", s)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := []string{"unknown:closed>open", "unknown:open>half-open", "unknown:half-open>open", "unknown:open>half-open", "unknown:half-open>closed"}
	if len(obs.changes) != len(want) {
		t.Fatalf("observed %v; want %v", obs.changes, want)
	}
	for i := range want {
		if obs.changes[i] != want[i] {
			t.Fatalf("observed %v; want %v", obs.changes, want)
		}
	}
}

func TestBreakerHalfOpenAdmitsOneProbe(t *testing.T) {
	b, status, calls, url := newTestBreaker(t, BreakerPolicy{Consecutive: 1, OpenFor: 50 * time.Millisecond})
	status.Store(500)
	_, _ = get(b, url)
	waitState(t, b, url, StateHalfOpen)
	status.Store(200)
	n := calls.Load()
	go func() { _, _ = get(b, url+"/slow") }() // the probe, held by the server until the test ends
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() == n {
		if time.Now().After(deadline) {
			t.Fatal("the probe never reached the server")
		}
		time.Sleep(time.Millisecond)
	}
	_, err := get(b, url)
	var co *CircuitOpenError
	if !errors.As(err, &co) {
		t.Fatalf("second concurrent probe admitted: %v", err)
	}
	if co.Host != url || co.RetryAfter <= 0 {
		t.Errorf("CircuitOpenError %+v; want host %q and a RetryAfter", co, url)
	}
	if got := b.State(url); got != StateHalfOpen {
		t.Errorf("State(%q) = %v, want half-open", url, got)
	}
}

func TestBreakerRatio(t *testing.T) {
	b, status, _, url := newTestBreaker(t, BreakerPolicy{MinCalls: 20, FailureRatio: 0.5, Consecutive: 100})
	for i := range 19 {
		if i%2 == 0 {
			status.Store(500)
		} else {
			status.Store(200)
		}
		_, _ = get(b, url)
	}
	if s := b.State(url); s != StateClosed {
		t.Fatalf("opened below MinCalls: %v", s)
	}
	status.Store(500)
	_, _ = get(b, url) // 20 calls, 11 failures
	if s := b.State(url); s != StateOpen {
		t.Fatalf("state %v at 11/20 failures; want open", s)
	}
}

func TestBreakerIgnores4xxAndOldFailures(t *testing.T) {
	b, status, _, url := newTestBreaker(t, BreakerPolicy{MinCalls: 4, Consecutive: 100})
	status.Store(429)
	for range 10 {
		_, _ = get(b, url)
	}
	status.Store(404)
	for range 10 {
		_, _ = get(b, url)
	}
	if s := b.State(url); s != StateClosed {
		t.Fatalf("4xx opened the circuit: %v", s)
	}
	// Failures that left the window do not count.
	const window = 200 * time.Millisecond
	b2, status2, _, url2 := newTestBreaker(t, BreakerPolicy{MinCalls: 4, Consecutive: 100, Window: window})
	status2.Store(500)
	for range 3 {
		_, _ = get(b2, url2)
	}
	time.Sleep(window + window/breakerBuckets)
	status2.Store(200)
	_, _ = get(b2, url2)
	if s := b2.State(url2); s != StateClosed {
		t.Fatalf("stale failures opened the circuit: %v", s)
	}
	// Within the window they do: 3 failures of 4 calls.
	status2.Store(500)
	for range 3 {
		_, _ = get(b2, url2)
	}
	if s := b2.State(url2); s != StateOpen {
		t.Fatalf("state %v at 3/4 failures in the window; want open", s)
	}
}

func TestBreakerNeutralErrors(t *testing.T) {
	for _, err := range []error{&RateLimitedError{}, context.Canceled, &waitError{context.DeadlineExceeded}} {
		if got := outcomeOf(nil, err); !errors.Is(got, errNeutral) {
			t.Errorf("%v counted as %v; rate-limit refusals and cancellations must not count", err, got)
		}
	}
	if got := outcomeOf(nil, &attemptTimeoutError{cause: context.DeadlineExceeded}); !errors.Is(got, errCallFailed) {
		t.Error("a timeout counts as a failure")
	}
	for code, want := range map[int]error{200: nil, 404: nil, 429: nil, 500: errCallFailed, 501: nil, 503: errCallFailed, 505: nil} {
		if got := outcomeOf(&http.Response{StatusCode: code}, nil); !errors.Is(got, want) {
			t.Errorf("%d counted as %v; want %v", code, got, want)
		}
	}
}

func TestBreakerNeutralCallsDoNotTrip(t *testing.T) {
	b := NewBreaker(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, &RateLimitedError{Budget: "k"}
	}), BreakerPolicy{Consecutive: 2}, nil)
	for range 10 {
		if _, err := get(b, "http://provider.test/x"); !errors.As(err, new(*RateLimitedError)) {
			t.Fatalf("got %v", err)
		}
	}
	if s := b.State("http://provider.test"); s != StateClosed {
		t.Fatalf("rate-limit refusals opened the circuit: %v", s)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestBreakerCallerShaped500IsNeutral: a 500 answered to a request the
// caller wrote (passthrough) does not open the host's circuit; a 503 does.
func TestBreakerCallerShaped500IsNeutral(t *testing.T) {
	b, status, _, url := newTestBreaker(t, BreakerPolicy{Consecutive: 3, OpenFor: time.Minute})
	shaped := WithCall(context.Background(), Call{CallerShaped: true})
	send := func() {
		t.Helper()
		req, _ := http.NewRequestWithContext(shaped, http.MethodGet, url, nil)
		resp, err := b.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	status.Store(500)
	for range 5 {
		send()
	}
	if s := b.State(url); s != StateClosed {
		t.Fatalf("state %v after caller-shaped 500s; want closed", s)
	}
	status.Store(503)
	for range 3 {
		send()
	}
	if s := b.State(url); s != StateOpen {
		t.Fatalf("state %v after caller-shaped 503s; want open", s)
	}
}
