package upstream

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Observer is told what the provider transport does, for metrics. Its
// labels are bounded by construction: provider names come from wiring,
// endpoints from a route table (Endpoints), statuses are HTTP codes or a
// few words. Implementations must be cheap and safe for concurrent use;
// they are called on the hot path, some under the breaker's lock.
type Observer interface {
	// UpstreamAttempt: one HTTP exchange with the provider ended (a retry
	// is a new attempt). status is the HTTP status code ("200") or
	// "timeout", "canceled", "error" when no answer came; d runs to the
	// answer's headers.
	UpstreamAttempt(ctx context.Context, provider, endpoint, status string, d time.Duration)
	// RateLimitWaited: a call queued d for its rate-limit budget.
	RateLimitWaited(ctx context.Context, provider string, d time.Duration)
	// RateLimitRejected: a call was refused for want of budget; reason is
	// "burst" or "daily".
	RateLimitRejected(ctx context.Context, provider, reason string)
	// BreakerChanged: one host's circuit of provider went from one state
	// to another.
	BreakerChanged(provider string, from, to BreakerState)
}

// NopObserver observes nothing.
type NopObserver struct{}

var _ Observer = NopObserver{}

// UpstreamAttempt implements Observer.
func (NopObserver) UpstreamAttempt(context.Context, string, string, string, time.Duration) {}

// RateLimitWaited implements Observer.
func (NopObserver) RateLimitWaited(context.Context, string, time.Duration) {}

// RateLimitRejected implements Observer.
func (NopObserver) RateLimitRejected(context.Context, string, string) {}

// BreakerChanged implements Observer.
func (NopObserver) BreakerChanged(string, BreakerState, BreakerState) {}

// Endpoint names a provider call for metrics and traces: the provider and
// the route template the request matched, e.g. "GET /objects/{key}" (never
// the raw path: ids would make unbounded label values).
type Endpoint struct {
	Provider string
	Template string
}

// Labels used when a request carries no Endpoint, or matched no route.
const (
	UnknownProvider = "unknown"
	OtherEndpoint   = "other"
)

type endpointKey struct{}

// WithEndpoint returns ctx naming the provider call it is used for. An
// adapter may set it per request; Endpoints sets it from a route table.
func WithEndpoint(ctx context.Context, e Endpoint) context.Context {
	return context.WithValue(ctx, endpointKey{}, e)
}

// EndpointFrom returns the Endpoint of ctx, with UnknownProvider and
// OtherEndpoint filling what is not known.
func EndpointFrom(ctx context.Context) Endpoint {
	e, _ := ctx.Value(endpointKey{}).(Endpoint)
	if e.Provider == "" {
		e.Provider = UnknownProvider
	}
	if e.Template == "" {
		e.Template = OtherEndpoint
	}
	return e
}

// Routes matches provider request paths against a table of templates
// written as http.ServeMux patterns, e.g. "GET /objects/{key}" or
// "GET /objects/{$}" (exactly "/objects/"). It is safe for concurrent use.
type Routes struct {
	mux *http.ServeMux
}

// NewRoutes builds the table; it panics on an invalid or conflicting
// pattern (a programming error in a static table).
func NewRoutes(patterns ...string) *Routes {
	mux := http.NewServeMux()
	nop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, p := range patterns {
		mux.Handle(p, nop)
	}
	return &Routes{mux: mux}
}

// Match returns the template req matches ("{$}" left out), or OtherEndpoint.
func (r *Routes) Match(req *http.Request) string {
	if r == nil {
		return OtherEndpoint
	}
	_, p := r.mux.Handler(req)
	if p == "" || !strings.Contains(p, " ") {
		// No match, or a redirect the mux made up (not one of ours).
		return OtherEndpoint
	}
	return strings.TrimSuffix(p, "{$}")
}

// Endpoints is the RoundTripper naming each request's Endpoint (provider
// and route template) in its context, unless the adapter named it, for
// the transport's metrics and traces. Put it outermost, around the shared
// provider transport, one per provider.
type Endpoints struct {
	next     http.RoundTripper
	provider string
	routes   *Routes
}

// NewEndpoints returns the naming RoundTripper for provider over next.
func NewEndpoints(next http.RoundTripper, provider string, routes *Routes) *Endpoints {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Endpoints{next: next, provider: provider, routes: routes}
}

// RoundTrip implements http.RoundTripper.
func (t *Endpoints) RoundTrip(req *http.Request) (*http.Response, error) {
	e, ok := req.Context().Value(endpointKey{}).(Endpoint)
	if ok && e.Provider != "" && e.Template != "" {
		return t.next.RoundTrip(req)
	}
	if e.Provider == "" {
		e.Provider = t.provider
	}
	if e.Template == "" {
		e.Template = t.routes.Match(req)
	}
	return t.next.RoundTrip(req.WithContext(WithEndpoint(req.Context(), e)))
}

// Counter counts the provider attempts made for one incoming call.
type Counter struct{ n atomic.Int64 }

// Load returns the count.
func (c *Counter) Load() int64 { return c.n.Load() }

type counterKey struct{}

// WithCounter returns ctx carrying a fresh Counter that every provider
// attempt made with ctx (or a context derived from it) increments.
func WithCounter(ctx context.Context) (context.Context, *Counter) {
	c := &Counter{}
	return context.WithValue(ctx, counterKey{}, c), c
}

// Observe is the RoundTripper reporting each attempt to an Observer and
// counting it in the context's Counter (see WithCounter). NewTransport
// puts it just outside AttemptTimeout, so it sees every attempt that
// passed the breaker and the rate limiter.
type Observe struct {
	next http.RoundTripper
	obs  Observer
}

// NewObserve returns the observing RoundTripper; obs nil: NopObserver.
func NewObserve(next http.RoundTripper, obs Observer) *Observe {
	if obs == nil {
		obs = NopObserver{}
	}
	return &Observe{next: next, obs: obs}
}

// RoundTrip implements http.RoundTripper.
func (t *Observe) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if c, ok := ctx.Value(counterKey{}).(*Counter); ok {
		c.n.Add(1)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	e := EndpointFrom(ctx)
	t.obs.UpstreamAttempt(ctx, e.Provider, e.Template, attemptStatus(resp, err), time.Since(start))
	return resp, err
}

// attemptStatus is the bounded status label of an attempt.
func attemptStatus(resp *http.Response, err error) string {
	switch {
	case err == nil:
		return statusText(resp.StatusCode)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "error"
}

// statusText is strconv.Itoa(code) without an allocation for the usual
// codes.
func statusText(code int) string {
	switch code {
	case http.StatusOK:
		return "200"
	case http.StatusCreated:
		return "201"
	case http.StatusNoContent:
		return "204"
	case http.StatusBadRequest:
		return "400"
	case http.StatusUnauthorized:
		return "401"
	case http.StatusForbidden:
		return "403"
	case http.StatusNotFound:
		return "404"
	case http.StatusConflict:
		return "409"
	case http.StatusUnprocessableEntity:
		return "422"
	case http.StatusTooManyRequests:
		return "429"
	case http.StatusInternalServerError:
		return "500"
	case http.StatusBadGateway:
		return "502"
	case http.StatusServiceUnavailable:
		return "503"
	case http.StatusGatewayTimeout:
		return "504"
	}
	return strconv.Itoa(code)
}
