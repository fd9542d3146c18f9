package upstream

import (
	"log/slog"
	"net/http"
	"time"
)

// DefaultAttemptTimeout bounds one attempt by default.
const DefaultAttemptTimeout = 15 * time.Second

// Options configures NewTransport. The zero value gives: no pacing (no
// Limiter), no recorded budgets, up to 4 attempts with 100ms–5s full-jitter
// backoff, a breaker per host opening at ≥50% failures of ≥20 calls in
// 10s or 10 failures in a row for 5s, 15s per attempt, 16 MiB per body.
type Options struct {
	// Limiter paces calls that carry a Call.Budget; nil: no pacing. Use a
	// FallbackLimiter over a RedisLimiter for replicas sharing a budget.
	Limiter Limiter
	// Budgets records the provider's X-RateLimit-* figures per budget key;
	// nil: not recorded.
	Budgets Budgets
	// MaxWait is how long a call may queue for budget: 0 means 30s (always
	// bounded by the context deadline; Call.FailFast makes it 0).
	MaxWait time.Duration
	// Retry configures retries (see RetryPolicy for the defaults).
	Retry RetryPolicy
	// Breaker configures the circuit breaker (see BreakerPolicy).
	Breaker BreakerPolicy
	// DisableBreaker leaves the breaker out.
	DisableBreaker bool
	// AttemptTimeout bounds one attempt: 0 means 15s, negative none. The
	// caller's context deadline bounds the whole call, retries included.
	AttemptTimeout time.Duration
	// MaxResponseBytes bounds a response body: 0 means 16 MiB.
	MaxResponseBytes int64
	// Logger gets retries (debug), breaker changes and limiter failures
	// (warn); nil discards.
	Logger *slog.Logger
	// Observer is told of every attempt, rate-limit wait and rejection,
	// and breaker change (metrics); nil: NopObserver.
	Observer Observer
	// Wrap, if set, wraps base (inside the attempt timeout), e.g. with a
	// tracing transport making one span per attempt.
	Wrap func(http.RoundTripper) http.RoundTripper
}

// Transport is the composed resilient RoundTripper made by NewTransport.
// It is safe for concurrent use; share one per provider so that every
// connection's calls feed the same breaker and limiter.
type Transport struct {
	rt      http.RoundTripper
	breaker *Breaker // nil when disabled
}

// NewTransport composes, from the outside in:
//
//	BodyLimit → Retry → Breaker → RateLimit → Observe → AttemptTimeout → [Wrap] → base
//
// Retry is outermost so each attempt passes the breaker (every attempt
// counts, and an open circuit stops the retries) and takes its own slot of
// rate-limit budget. base nil means http.DefaultTransport.
//
// The caller's context bounds everything, queueing and retries included;
// an http.Client.Timeout around this transport does too, so keep it at
// least MaxWait plus an attempt, or rely on the context deadline.
func NewTransport(base http.RoundTripper, o Options) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	switch {
	case o.AttemptTimeout == 0:
		o.AttemptTimeout = DefaultAttemptTimeout
	case o.AttemptTimeout < 0:
		o.AttemptTimeout = 0
	}
	if o.Observer == nil {
		o.Observer = NopObserver{}
	}
	if o.Wrap != nil {
		base = o.Wrap(base)
	}
	var rt http.RoundTripper = NewAttemptTimeout(base, o.AttemptTimeout)
	rt = NewObserve(rt, o.Observer)
	rt = NewRateLimit(rt, RateLimitOptions{Limiter: o.Limiter, Budgets: o.Budgets, MaxWait: o.MaxWait, Logger: o.Logger, Observer: o.Observer})
	t := &Transport{}
	if !o.DisableBreaker {
		t.breaker = NewBreaker(rt, o.Breaker, o.Logger)
		t.breaker.obs = o.Observer
		rt = t.breaker
	}
	rt = NewRetry(rt, o.Retry, o.Logger)
	t.rt = NewBodyLimit(rt, o.MaxResponseBytes)
	return t
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.rt.RoundTrip(req)
}

// BreakerState reports the circuit of a provider host ("https://host");
// StateClosed when the breaker is disabled.
func (t *Transport) BreakerState(host string) BreakerState {
	if t.breaker == nil {
		return StateClosed
	}
	return t.breaker.State(host)
}
