package upstream

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMaxWait is how long a call may queue for budget by default.
const DefaultMaxWait = 30 * time.Second

// recordEvery throttles how often one replica writes a key's figures to
// Budgets (one write per key per second; a 429 or an exhausted figure is
// always written).
const recordEvery = time.Second

// RateLimitOptions configures NewRateLimit.
type RateLimitOptions struct {
	// Limiter paces calls; nil: calls are not paced (headers are still
	// recorded).
	Limiter Limiter
	// Budgets records the provider's X-RateLimit-* figures; nil: not kept.
	Budgets Budgets
	// MaxWait is how long a call may wait for a slot (further bounded by
	// its context deadline and Call.MaxWait): 0 means 30s.
	MaxWait time.Duration
	// Logger gets a warning when the limiter fails (the call then goes
	// unpaced); nil discards.
	Logger *slog.Logger
	// Observer is told of waits and rejections; nil: NopObserver.
	Observer Observer
}

// RateLimit is the RoundTripper that spends a call's budget (Call.Budget)
// before sending it, and follows the provider's rate-limit headers: their
// figures are recorded in Budgets; a 429, or X-RateLimit-Remaining: 0,
// blocks the budget for Retry-After or the interval; a daily 429, or
// X-RateLimit-Daily-Remaining: 0, blocks the daily budget until the next
// UTC day. Calls without a budget key pass through.
type RateLimit struct {
	next    http.RoundTripper
	limiter Limiter
	budgets Budgets
	maxWait time.Duration
	log     *slog.Logger
	obs     Observer

	mu         sync.Mutex
	recorded   map[string]time.Time // key -> last write to budgets
	advertised map[string]advert    // key -> last advertisement logged
}

// advert is a provider's advertised burst limit.
type advert struct {
	max      int
	interval time.Duration
}

// NewRateLimit returns the rate-limiting RoundTripper over next.
func NewRateLimit(next http.RoundTripper, o RateLimitOptions) *RateLimit {
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = NopObserver{}
	}
	return &RateLimit{next: next, limiter: o.Limiter, budgets: o.Budgets, maxWait: o.MaxWait, log: o.Logger, obs: o.Observer,
		recorded: make(map[string]time.Time), advertised: make(map[string]advert)}
}

// waitError is a context ending while a call waited for budget; the
// breaker does not count it as a provider failure.
type waitError struct{ err error }

func (e *waitError) Error() string {
	return "upstream: gave up waiting for rate-limit budget: " + e.err.Error()
}
func (e *waitError) Unwrap() error { return e.err }

// RoundTrip implements http.RoundTripper.
func (t *RateLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	c, _ := CallFrom(ctx)
	if c.Budget == "" {
		return t.next.RoundTrip(req)
	}
	var r Reservation
	if t.limiter != nil {
		var err error
		if r, err = t.acquire(ctx, c); err != nil {
			closeBody(req)
			return nil, err
		}
	}
	resp, err := t.next.RoundTrip(req)
	var b Budget
	var ok bool
	if err == nil {
		b, ok = BudgetFromHeaders(resp.Header, time.Now())
	}
	if r.OK {
		a := Answer{Answered: err == nil, Max: -1, Remaining: -1}
		if ok {
			a.Max, a.Remaining = b.BurstLimit, b.BurstRemaining
			if b.BurstIntervalMS > 0 {
				a.Interval = time.Duration(b.BurstIntervalMS) * time.Millisecond
			}
		}
		// The slot must be released even when the caller gave up.
		if derr := t.limiter.Done(context.WithoutCancel(ctx), c.Budget, r, a); derr != nil {
			t.log.DebugContext(ctx, "releasing a rate-limit slot failed", "budget", c.Budget, "err", derr)
		}
	}
	if err == nil {
		t.follow(ctx, c.Budget, resp, b, ok)
	}
	return resp, err
}

// acquire reserves a slot of c's budget and waits for it. Without an
// error the reservation is OK, or zero when the limiter failed (the call
// then goes unpaced).
func (t *RateLimit) acquire(ctx context.Context, c Call) (Reservation, error) {
	wait := t.maxWait
	if c.MaxWait > 0 {
		wait = c.MaxWait
	}
	if c.FailFast {
		wait = 0
	}
	if dl, ok := ctx.Deadline(); ok {
		wait = max(min(wait, time.Until(dl)), 0)
	}
	start := time.Now()
	deadline := start.Add(wait)
	polled := false
	for {
		r, err := t.limiter.Reserve(ctx, c.Budget, wait)
		if err != nil {
			if ctx.Err() != nil {
				return Reservation{}, &waitError{ctx.Err()}
			}
			// Never fail a call because the limiter's store is down.
			t.log.WarnContext(ctx, "rate limiter failed; sending unpaced", "budget", c.Budget, "err", err)
			return Reservation{}, nil
		}
		if r.Pending {
			// Cautious start: the budget's first calls are unanswered.
			if left := time.Until(deadline); left > 0 {
				if err := sleep(ctx, min(r.Delay, left)); err != nil {
					return Reservation{}, &waitError{err}
				}
				wait = max(time.Until(deadline), 0)
				polled = true
				continue
			}
		}
		if !r.OK {
			reason := "burst"
			if r.Daily {
				reason = "daily"
			}
			t.obs.RateLimitRejected(ctx, EndpointFrom(ctx).Provider, reason)
			return Reservation{}, &RateLimitedError{Budget: c.Budget, RetryAfter: r.Delay, Daily: r.Daily}
		}
		if r.Delay > 0 || polled {
			t.obs.RateLimitWaited(ctx, EndpointFrom(ctx).Provider, time.Since(start)+r.Delay)
		}
		if err := sleep(ctx, r.Delay); err != nil {
			t.releaseUnsent(ctx, c.Budget, r)
			return Reservation{}, &waitError{err}
		}
		return r, nil
	}
}

// releaseUnsent hands back the slot of a call given up before it was sent.
func (t *RateLimit) releaseUnsent(ctx context.Context, key string, r Reservation) {
	if err := t.limiter.Done(context.WithoutCancel(ctx), key, r, Answer{Max: -1, Remaining: -1}); err != nil {
		t.log.DebugContext(ctx, "releasing a rate-limit slot failed", "budget", key, "err", err)
	}
}

// follow records the provider's figures and blocks the budget when the
// provider says it is spent.
func (t *RateLimit) follow(ctx context.Context, key string, resp *http.Response, b Budget, ok bool) {
	now := b.ObservedAt
	if !ok {
		now = time.Now()
	}
	if ok && b.BurstLimit > 0 {
		t.noteAdvert(ctx, key, b)
	}
	limited := resp.StatusCode == http.StatusTooManyRequests
	spent := ok && (b.BurstRemaining == 0 || b.DailyRemaining == 0)
	if ok && t.budgets != nil && t.shouldRecord(key, now, limited || spent) {
		if err := t.budgets.Record(ctx, key, b); err != nil {
			t.log.DebugContext(ctx, "recording rate-limit budget failed", "budget", key, "err", err)
		}
	}
	if t.limiter == nil || !(limited || spent) {
		return
	}
	interval := DefaultBurstWindow
	if ok && b.BurstIntervalMS > 0 {
		interval = time.Duration(b.BurstIntervalMS) * time.Millisecond
	}
	daily := ok && b.DailyRemaining == 0
	var d time.Duration
	switch {
	case daily:
		d = untilNextUTCDay(now)
	case limited:
		if d = retryAfter(resp.Header, now); d <= 0 {
			d = interval
		}
	default: // burst remaining 0 on a success
		d = interval
	}
	if err := t.limiter.Block(ctx, key, d, daily); err != nil {
		t.log.DebugContext(ctx, "blocking rate-limit budget failed", "budget", key, "err", err)
	}
}

// noteAdvert logs, once per change, a provider advertising a burst limit
// other than the one configured (the limiter follows the tighter).
func (t *RateLimit) noteAdvert(ctx context.Context, key string, b Budget) {
	lr, ok := t.limiter.(LimitsReporter)
	if !ok {
		return
	}
	a := advert{max: b.BurstLimit, interval: time.Duration(max(b.BurstIntervalMS, 0)) * time.Millisecond}
	t.mu.Lock()
	last, seen := t.advertised[key]
	if !seen || last != a {
		if len(t.advertised) > 100_000 {
			clear(t.advertised)
		}
		t.advertised[key] = a
	}
	t.mu.Unlock()
	l := lr.Limits()
	if (seen && last == a) || (a.max == l.Burst && (a.interval == 0 || a.interval == l.Window)) {
		return
	}
	t.log.InfoContext(ctx, "provider advertises a burst limit other than configured; pacing by the tighter",
		"budget", key, "advertised_max", a.max, "advertised_interval", a.interval,
		"configured_max", l.Burst, "configured_window", l.Window)
}

func (t *RateLimit) shouldRecord(key string, now time.Time, force bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if last, ok := t.recorded[key]; ok && !force && now.Sub(last) < recordEvery {
		return false
	}
	if len(t.recorded) > 100_000 { // bound the map; forgetting only costs a write
		clear(t.recorded)
	}
	t.recorded[key] = now
	return true
}

// retryAfter parses Retry-After (seconds or an HTTP date); 0 if absent.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 86400*2 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// closeBody closes a request body a RoundTripper will not send, as the
// RoundTripper contract asks.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
