package upstream

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Call is what the middleware needs to know about one provider call. The
// zero value is a sensible default: no rate-limit budget, idempotency
// inferred from the HTTP method, and waiting for budget up to the
// transport's MaxWait.
type Call struct {
	// Budget is the rate-limit key the call spends from, e.g.
	// BudgetKey("ghl", configID, locationID). Empty: the call is not rate
	// limited (nor are the provider's rate-limit headers recorded).
	Budget string
	// Idempotent marks a call that may be repeated without changing the
	// outcome, e.g. a search sent as POST. GET, HEAD, OPTIONS, PUT and
	// DELETE are idempotent whatever this says; POST and PATCH only when it
	// is true.
	Idempotent bool
	// FailFast makes the call fail at once with a *RateLimitedError when no
	// budget is available now, instead of waiting (header x-crmgate-wait: 0).
	FailFast bool
	// MaxWait, if positive, replaces the transport's MaxWait for this call
	// (still bounded by the context deadline).
	MaxWait time.Duration
	// CallerShaped marks a request the caller wrote itself (passthrough):
	// a 500 it gets says something about the request, not about the
	// provider host's health, so it is neutral to the breaker — one
	// caller's bad request must not open the host's circuit for every
	// tenant. Transport failures, timeouts and 502/503/504 still count.
	CallerShaped bool
}

type callKey struct{}

// WithCall returns ctx carrying c for the upstream middleware.
func WithCall(ctx context.Context, c Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// CallFrom returns the Call carried by ctx, if any.
func CallFrom(ctx context.Context) (Call, bool) {
	c, ok := ctx.Value(callKey{}).(Call)
	return c, ok
}

// WithIdempotent returns ctx with the Call it carries (or the zero Call)
// marked idempotent or not. An adapter uses it per request, e.g. for a
// search sent as POST, while the budget and the wait preference are set
// once per incoming request with WithCall.
func WithIdempotent(ctx context.Context, idempotent bool) context.Context {
	c, _ := CallFrom(ctx)
	c.Idempotent = idempotent
	return WithCall(ctx, c)
}

// BudgetKey joins the parts of a rate-limit key with ':', e.g.
// BudgetKey("ghl", connectorConfigID, locationID).
func BudgetKey(provider string, parts ...string) string {
	return provider + ":" + strings.Join(parts, ":")
}

// idempotent tells whether req may be sent more than once.
func idempotent(req *http.Request, c Call) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return c.Idempotent
}
