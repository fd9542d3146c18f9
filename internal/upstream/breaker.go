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

	"github.com/sony/gobreaker/v2"
)

// BreakerPolicy configures the circuit breaker; zero fields take the
// defaults named.
type BreakerPolicy struct {
	// Window over which failures are counted (rolling, in ten buckets): 0
	// means 10s.
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

// breakerBuckets is how many buckets the rolling window has.
const breakerBuckets = 10

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

func stateOf(s gobreaker.State) BreakerState {
	switch s {
	case gobreaker.StateOpen:
		return StateOpen
	case gobreaker.StateHalfOpen:
		return StateHalfOpen
	}
	return StateClosed
}

// Breaker is the RoundTripper keeping one circuit per provider host
// (scheme://host), in process (each replica judges the provider by its own
// calls), on github.com/sony/gobreaker: it opens on sustained 5xx answers
// (501 and 505 excepted), timeouts and connection errors (at least
// FailureRatio of at least MinCalls in Window, or Consecutive failures in a
// row), then answers *CircuitOpenError at once for OpenFor, then lets
// Probes calls through; their success closes it, a failure opens it again.
// 4xx answers (429 included) count as successes; cancelled calls and calls
// refused by the rate limiter do not count.
type Breaker struct {
	next   http.RoundTripper
	policy BreakerPolicy
	log    *slog.Logger
	obs    Observer

	mu    sync.Mutex
	hosts map[hostKey]*circuit
}

// hostKey names a provider host (scheme://host) without building the
// string on every call.
type hostKey struct{ scheme, host string }

func hostKeyOf(u *url.URL) hostKey { return hostKey{u.Scheme, u.Host} }

func (k hostKey) String() string { return k.scheme + "://" + k.host }

// circuit is one host's breaker. openedAt and trip are only touched from
// gobreaker's callbacks, which it runs under its own lock.
type circuit struct {
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	mu       sync.Mutex // guards openedAt for RetryAfter
	openedAt time.Time
	trip     gobreaker.Counts // the counts that opened it, for the log
}

// Outcomes reported to gobreaker: a failure, or a call that does not count
// (nil is a success).
var (
	errCallFailed = errors.New("upstream: provider call failed")
	errNeutral    = errors.New("upstream: call not counted")
)

// NewBreaker returns the breaker RoundTripper over next; log gets a
// warning when a circuit opens and a line when it closes; nil discards.
func NewBreaker(next http.RoundTripper, p BreakerPolicy, log *slog.Logger) *Breaker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Breaker{next: next, policy: p.withDefaults(), log: log, obs: NopObserver{}, hosts: make(map[hostKey]*circuit)}
}

// circuit returns host's circuit, making it on first use; provider names it
// for the Observer.
func (b *Breaker) circuit(host hostKey, provider string) *circuit {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c := b.hosts[host]; c != nil {
		return c
	}
	c := &circuit{}
	p := b.policy
	name := host.String()
	c.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         name,
		MaxRequests:  uint32(p.Probes), //nolint:gosec // a small positive count
		Interval:     p.Window,
		BucketPeriod: p.Window / breakerBuckets,
		Timeout:      p.OpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool {
			calls := n.TotalSuccesses + n.TotalFailures
			trip := int(n.ConsecutiveFailures) >= p.Consecutive ||
				(int(calls) >= p.MinCalls && float64(n.TotalFailures) >= p.FailureRatio*float64(calls))
			if trip {
				c.trip = n
			}
			return trip
		},
		IsExcluded: func(err error) bool { return errors.Is(err, errNeutral) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			switch to {
			case gobreaker.StateOpen:
				c.mu.Lock()
				c.openedAt = time.Now()
				c.mu.Unlock()
				if from == gobreaker.StateHalfOpen {
					b.log.Warn("circuit re-opened: probe failed", "host", name, "open_for", p.OpenFor)
				} else {
					b.log.Warn("circuit opened: provider failing", "host", name,
						"calls", c.trip.TotalSuccesses+c.trip.TotalFailures, "failures", c.trip.TotalFailures,
						"consecutive", c.trip.ConsecutiveFailures, "open_for", p.OpenFor)
				}
			case gobreaker.StateClosed:
				b.log.Info("circuit closed", "host", name)
			}
			b.obs.BreakerChanged(provider, stateOf(from), stateOf(to))
		},
	})
	b.hosts[host] = c
	return c
}

// State returns the state of host's circuit (host as scheme://host).
func (b *Breaker) State(host string) BreakerState {
	scheme, h, ok := strings.Cut(host, "://")
	if !ok {
		return StateClosed
	}
	b.mu.Lock()
	c := b.hosts[hostKey{scheme, h}]
	b.mu.Unlock()
	if c == nil {
		return StateClosed
	}
	return stateOf(c.cb.State())
}

// RoundTrip implements http.RoundTripper.
func (b *Breaker) RoundTrip(req *http.Request) (*http.Response, error) {
	host := hostKeyOf(req.URL)
	c := b.circuit(host, EndpointFrom(req.Context()).Provider)
	done, err := c.cb.Allow()
	if err != nil {
		closeBody(req)
		return nil, b.openError(c, host, err)
	}
	resp, err := b.next.RoundTrip(req)
	outcome := outcomeOf(resp, err)
	if outcome != nil && err == nil && resp.StatusCode == http.StatusInternalServerError {
		if call, _ := CallFrom(req.Context()); call.CallerShaped {
			outcome = errNeutral
		}
	}
	done(outcome)
	return resp, err
}

// openError is the *CircuitOpenError of a refused call: RetryAfter runs to
// the end of OpenFor, or (half-open, probes under way) a tenth of it.
func (b *Breaker) openError(c *circuit, host hostKey, err error) error {
	retry := b.policy.OpenFor / 10
	if errors.Is(err, gobreaker.ErrOpenState) {
		c.mu.Lock()
		retry = max(time.Until(c.openedAt.Add(b.policy.OpenFor)), 0)
		c.mu.Unlock()
	}
	return &CircuitOpenError{Host: host.String(), RetryAfter: retry}
}

// outcomeOf is what a call tells the breaker: nil (success), errCallFailed
// or errNeutral.
func outcomeOf(resp *http.Response, err error) error {
	if err != nil {
		var rl *RateLimitedError
		var we *waitError
		if errors.As(err, &rl) || errors.As(err, &we) || errors.Is(err, context.Canceled) {
			return errNeutral
		}
		return errCallFailed
	}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented && resp.StatusCode != http.StatusHTTPVersionNotSupported {
		return errCallFailed
	}
	return nil
}
