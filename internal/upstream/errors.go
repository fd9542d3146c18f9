package upstream

import (
	"errors"
	"fmt"
	"time"
)

// RateLimitedError: the call was not sent because the budget it spends from
// has no room now (FailFast) or not within the wait allowed. RetryAfter is
// when a slot is expected to free; Daily tells that the daily budget, not
// the burst window, is spent (so retrying soon cannot help).
type RateLimitedError struct {
	Budget     string
	RetryAfter time.Duration
	Daily      bool
}

func (e *RateLimitedError) Error() string {
	what := "burst"
	if e.Daily {
		what = "daily"
	}
	return fmt.Sprintf("upstream: %s rate limit of %q reached; retry after %s", what, e.Budget, e.RetryAfter.Round(time.Millisecond))
}

// UnknownOutcomeError: a non-idempotent call (a create) was sent, but no
// answer came (timeout, connection reset, body cut, or a 502/504 from a
// proxy), so the provider may or may not have performed it. It is never
// retried automatically. Cause keeps the transport error, so
// errors.Is(err, context.DeadlineExceeded) still holds after a timeout.
type UnknownOutcomeError struct {
	Method string
	URL    string // without query
	Status int    // the proxy's 502/504, 0 when no answer came
	Cause  error
}

func (e *UnknownOutcomeError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("upstream: outcome of %s %s unknown: the provider answered %d after the request was sent", e.Method, e.URL, e.Status)
	}
	return fmt.Sprintf("upstream: outcome of %s %s unknown: no answer after the request was sent: %v", e.Method, e.URL, e.Cause)
}

func (e *UnknownOutcomeError) Unwrap() error { return e.Cause }

// CircuitOpenError: the provider host has been failing and the breaker
// answers for it without calling it. RetryAfter is when it will let a probe
// through.
type CircuitOpenError struct {
	Host       string
	RetryAfter time.Duration
}

func (e *CircuitOpenError) Error() string {
	return fmt.Sprintf("upstream: circuit open for %s after repeated failures; retry after %s", e.Host, e.RetryAfter.Round(time.Millisecond))
}

// ErrBodyTooLarge is matched (errors.Is) by *BodyTooLargeError.
var ErrBodyTooLarge = errors.New("upstream: response body too large")

// BodyTooLargeError: the provider's response body exceeded the limit; it is
// returned by RoundTrip (Content-Length known) or by the body's Read.
type BodyTooLargeError struct {
	Limit int64
}

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("upstream: response body larger than %d bytes", e.Limit)
}

// Is makes errors.Is(err, ErrBodyTooLarge) hold.
func (e *BodyTooLargeError) Is(target error) bool { return target == ErrBodyTooLarge }
