package upstream

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// BreakerPolicy configures the circuit breaker; zero fields take the
// defaults named.
type BreakerPolicy struct {
	// Window over which failures are counted: 0 means 10s.
	Window time.Duration
	// MinCalls in the window before FailureRatio applies: 0 means 20.
	MinCalls int
	// FailureRatio that opens the circuit: 0 means 0.5.
	FailureRatio float64
	// Consecutive failures that open the circuit whatever the ratio: 0
	// means 10.
	Consecutive int
	// OpenFor is how long an open circuit refuses calls before letting
	// probes through (half-open): 0 means 5s.
	OpenFor time.Duration
	// Probes is how many calls a half-open circuit lets through at once,
	// and how many must succeed to close it: 0 means 1.
	Probes int
}

func (p BreakerPolicy) withDefaults() BreakerPolicy {
	if p.Window <= 0 {
		p.Window = 10 * time.Second
	}
	if p.MinCalls <= 0 {
		p.MinCalls = 20
	}
	if p.FailureRatio <= 0 || p.FailureRatio > 1 {
		p.FailureRatio = 0.5
	}
	if p.Consecutive <= 0 {
		p.Consecutive = 10
	}
	if p.OpenFor <= 0 {
		p.OpenFor = 5 * time.Second
	}
	if p.Probes <= 0 {
		p.Probes = 1
	}
	return p
}

// BreakerState is the state of one host's circuit.
type BreakerState int

// Circuit states.
const (
	StateClosed BreakerState = iota
	StateOpen
	StateHalfOpen
)

func (s BreakerState) String() string {
	switch s {
	case StateOpen:
		return "open"
	case StateHalfOpen:
		return "half-open"
	}
	return "closed"
}

// Breaker is the RoundTripper keeping one circuit per provider host
// (scheme://host): it opens on sustained 5xx answers, timeouts and
// connection errors (at least FailureRatio of at least MinCalls in Window,
// or Consecutive failures in a row), then answers *CircuitOpenError at once
// for OpenFor, then lets Probes calls through; their success closes it, a
// failure opens it again. 4xx answers (429 included) count as successes;
// cancelled calls and calls refused by the rate limiter do not count.
type Breaker struct {
	next   http.RoundTripper
	policy BreakerPolicy
	log    *slog.Logger
	obs    Observer
	now    func() time.Time

	mu    sync.Mutex
	hosts map[hostKey]*circuit
}

// hostKey names a provider host (scheme://host) without building the
// string on every call.
type hostKey struct{ scheme, host string }

func hostKeyOf(u *url.URL) hostKey { return hostKey{u.Scheme, u.Host} }

func (k hostKey) String() string { return k.scheme + "://" + k.host }

const breakerBuckets = 10

type circuit struct {
	provider  string // of the first request to the host, for the Observer
	state     BreakerState
	gen       uint64 // bumped on every state change
	openedAt  time.Time
	inflight  int // half-open probes under way
	successes int // half-open probes that succeeded
	consec    int
	buckets   [breakerBuckets]bucket
}

type bucket struct {
	start           time.Time
	calls, failures int
}

// NewBreaker returns the breaker RoundTripper over next; log gets a
// warning when a circuit opens and a line when it closes; nil discards.
func NewBreaker(next http.RoundTripper, p BreakerPolicy, log *slog.Logger) *Breaker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Breaker{next: next, policy: p.withDefaults(), log: log, obs: NopObserver{}, now: time.Now, hosts: make(map[hostKey]*circuit)}
}

// State returns the state of host's circuit (host as scheme://host).
func (b *Breaker) State(host string) BreakerState {
	scheme, h, ok := strings.Cut(host, "://")
	if !ok {
		return StateClosed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.hosts[hostKey{scheme, h}]
	if c == nil {
		return StateClosed
	}
	if c.state == StateOpen && !b.now().Before(c.openedAt.Add(b.policy.OpenFor)) {
		return StateHalfOpen
	}
	return c.state
}

// RoundTrip implements http.RoundTripper.
func (b *Breaker) RoundTrip(req *http.Request) (*http.Response, error) {
	host := hostKeyOf(req.URL)
	gen, err := b.allow(host, EndpointFrom(req.Context()).Provider)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := b.next.RoundTrip(req)
	b.done(req.Context(), host, gen, outcomeOf(resp, err))
	return resp, err
}

type outcome int

const (
	neutral outcome = iota
	success
	failure
)

func outcomeOf(resp *http.Response, err error) outcome {
	if err != nil {
		var rl *RateLimitedError
		var we *waitError
		if errors.As(err, &rl) || errors.As(err, &we) || errors.Is(err, context.Canceled) {
			return neutral
		}
		return failure
	}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented && resp.StatusCode != http.StatusHTTPVersionNotSupported {
		return failure
	}
	return success
}

func (b *Breaker) allow(host hostKey, provider string) (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.hosts[host]
	if c == nil {
		c = &circuit{provider: provider}
		b.hosts[host] = c
	}
	defer b.observe(c, c.state)
	now := b.now()
	if c.state == StateOpen {
		reopen := c.openedAt.Add(b.policy.OpenFor)
		if now.Before(reopen) {
			return 0, &CircuitOpenError{Host: host.String(), RetryAfter: reopen.Sub(now)}
		}
		c.setState(StateHalfOpen)
	}
	if c.state == StateHalfOpen {
		if c.inflight >= b.policy.Probes {
			return 0, &CircuitOpenError{Host: host.String(), RetryAfter: b.policy.OpenFor / 10}
		}
		c.inflight++
	}
	return c.gen, nil
}

func (b *Breaker) done(ctx context.Context, host hostKey, gen uint64, o outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.hosts[host]
	if c == nil || c.gen != gen {
		return // admitted under an earlier state; its result is stale
	}
	defer b.observe(c, c.state)
	now := b.now()
	switch c.state {
	case StateHalfOpen:
		c.inflight--
		switch o {
		case failure:
			c.open(now)
			b.log.WarnContext(ctx, "circuit re-opened: probe failed", "host", host.String(), "open_for", b.policy.OpenFor)
		case success:
			if c.successes++; c.successes >= b.policy.Probes {
				c.setState(StateClosed)
				c.buckets = [breakerBuckets]bucket{}
				c.consec = 0
				b.log.InfoContext(ctx, "circuit closed", "host", host.String())
			}
		}
	case StateClosed:
		if o == neutral {
			return
		}
		bk := c.bucket(now, b.policy.Window)
		bk.calls++
		if o == failure {
			bk.failures++
			c.consec++
		} else {
			c.consec = 0
		}
		calls, failures := c.totals(now, b.policy.Window)
		if c.consec >= b.policy.Consecutive ||
			(calls >= b.policy.MinCalls && float64(failures) >= b.policy.FailureRatio*float64(calls)) {
			c.open(now)
			b.log.WarnContext(ctx, "circuit opened: provider failing", "host", host.String(),
				"calls", calls, "failures", failures, "consecutive", c.consec, "open_for", b.policy.OpenFor)
		}
	}
}

// observe tells the Observer if c left state from (b.mu held).
func (b *Breaker) observe(c *circuit, from BreakerState) {
	if c.state != from {
		b.obs.BreakerChanged(c.provider, from, c.state)
	}
}

func (c *circuit) setState(s BreakerState) {
	c.state = s
	c.gen++
	c.inflight, c.successes = 0, 0
}

func (c *circuit) open(now time.Time) {
	c.setState(StateOpen)
	c.openedAt = now
}

// bucket returns the bucket of now, recycling a stale one.
func (c *circuit) bucket(now time.Time, window time.Duration) *bucket {
	width := window / breakerBuckets
	start := now.Truncate(width)
	bk := &c.buckets[(start.UnixNano()/int64(width))%breakerBuckets]
	if !bk.start.Equal(start) {
		*bk = bucket{start: start}
	}
	return bk
}

func (c *circuit) totals(now time.Time, window time.Duration) (calls, failures int) {
	cut := now.Add(-window)
	for _, bk := range c.buckets {
		if bk.start.After(cut) {
			calls += bk.calls
			failures += bk.failures
		}
	}
	return calls, failures
}
