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

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestBreaker(t *testing.T, p BreakerPolicy) (*Breaker, *atomic.Int32, *atomic.Int32, *testClock, string) {
	t.Helper()
	var status, calls atomic.Int32
	status.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(srv.Close)
	clock := &testClock{t: time.Unix(1_700_000_000, 0)}
	b := NewBreaker(http.DefaultTransport, p, nil)
	b.now = clock.now
	return b, &status, &calls, clock, srv.URL
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

func TestBreakerConsecutiveOpenHalfOpenClose(t *testing.T) {
	b, status, calls, clock, url := newTestBreaker(t, BreakerPolicy{Consecutive: 3, OpenFor: time.Second})
	host := "http://" + url[len("http://"):]
	status.Store(503)
	for range 3 {
		if code, err := get(b, url); err != nil || code != 503 {
			t.Fatalf("%d %v", code, err)
		}
	}
	if s := b.State(host); s != StateOpen {
		t.Fatalf("state %v after 3 failures; want open", s)
	}
	n := calls.Load()
	_, err := get(b, url)
	var co *CircuitOpenError
	if !errors.As(err, &co) || co.RetryAfter != time.Second || calls.Load() != n {
		t.Fatalf("open circuit: %v (calls %d->%d); want CircuitOpenError without a call", err, n, calls.Load())
	}

	// Half-open: one probe; its failure re-opens.
	clock.advance(time.Second)
	if s := b.State(host); s != StateHalfOpen {
		t.Fatalf("state %v after OpenFor; want half-open", s)
	}
	if code, _ := get(b, url); code != 503 {
		t.Fatalf("probe: %d", code)
	}
	if s := b.State(host); s != StateOpen {
		t.Fatalf("state %v after a failed probe; want open", s)
	}

	// The next probe succeeds: closed.
	clock.advance(time.Second)
	status.Store(200)
	if code, err := get(b, url); code != 200 || err != nil {
		t.Fatalf("probe: %d %v", code, err)
	}
	if s := b.State(host); s != StateClosed {
		t.Fatalf("state %v after a good probe; want closed", s)
	}
}

func TestBreakerHalfOpenAdmitsOneProbe(t *testing.T) {
	b, _, _, clock, url := newTestBreaker(t, BreakerPolicy{Consecutive: 1, OpenFor: time.Second})
	host := "http://" + url[len("http://"):]
	// Open it by hand: one failure.
	key := hostKey{"http", url[len("http://"):]}
	gen, _ := b.allow(key, "p")
	b.done(context.Background(), key, gen, failure)
	clock.advance(time.Second)
	if _, err := b.allow(key, "p"); err != nil {
		t.Fatalf("first probe refused: %v", err)
	}
	var co *CircuitOpenError
	if _, err := b.allow(key, "p"); !errors.As(err, &co) {
		t.Fatalf("second concurrent probe admitted: %v", err)
	}
	if co.Host != host {
		t.Errorf("CircuitOpenError.Host = %q, want %q", co.Host, host)
	}
	if got := b.State(host); got != StateHalfOpen {
		t.Errorf("State(%q) = %v, want half-open", host, got)
	}
}

func TestBreakerRatio(t *testing.T) {
	b, status, _, _, url := newTestBreaker(t, BreakerPolicy{MinCalls: 20, FailureRatio: 0.5, Consecutive: 100})
	host := "http://" + url[len("http://"):]
	for i := range 19 {
		if i%2 == 0 {
			status.Store(500)
		} else {
			status.Store(200)
		}
		_, _ = get(b, url)
	}
	if s := b.State(host); s != StateClosed {
		t.Fatalf("opened below MinCalls: %v", s)
	}
	status.Store(500)
	_, _ = get(b, url) // 20 calls, 11 failures
	if s := b.State(host); s != StateOpen {
		t.Fatalf("state %v at 11/20 failures; want open", s)
	}
}

func TestBreakerIgnores4xxAndOldFailures(t *testing.T) {
	b, status, _, clock, url := newTestBreaker(t, BreakerPolicy{MinCalls: 4, Consecutive: 100, Window: 10 * time.Second})
	host := "http://" + url[len("http://"):]
	status.Store(429)
	for range 10 {
		_, _ = get(b, url)
	}
	status.Store(404)
	for range 10 {
		_, _ = get(b, url)
	}
	if s := b.State(host); s != StateClosed {
		t.Fatalf("4xx opened the circuit: %v", s)
	}
	// Failures that left the window do not count.
	b2, status2, _, clock2, url2 := newTestBreaker(t, BreakerPolicy{MinCalls: 4, Consecutive: 100, Window: 10 * time.Second})
	host2 := "http://" + url2[len("http://"):]
	status2.Store(500)
	for range 3 {
		_, _ = get(b2, url2)
	}
	clock2.advance(11 * time.Second)
	status2.Store(200)
	_, _ = get(b2, url2)
	if s := b2.State(host2); s != StateClosed {
		t.Fatalf("stale failures opened the circuit: %v", s)
	}
	_ = clock
}

func TestBreakerNeutralErrors(t *testing.T) {
	if outcomeOf(nil, &RateLimitedError{}) != neutral || outcomeOf(nil, context.Canceled) != neutral ||
		outcomeOf(nil, &waitError{context.DeadlineExceeded}) != neutral {
		t.Error("rate-limit refusals and cancellations must not count")
	}
	if outcomeOf(nil, &attemptTimeoutError{cause: context.DeadlineExceeded}) != failure {
		t.Error("a timeout counts as a failure")
	}
}
