package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// RetryPolicy configures retries; zero fields take the defaults named.
type RetryPolicy struct {
	// MaxAttempts per call, the first included: 0 means 4; 1 disables
	// retries.
	MaxAttempts int
	// BaseDelay of the exponential backoff: 0 means 100ms. Attempt n
	// (n ≥ 1) waits a uniformly random time in [0, min(MaxDelay,
	// BaseDelay·2^(n-1))) ("full jitter").
	BaseDelay time.Duration
	// MaxDelay caps one backoff: 0 means 5s.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After (or 429 interval) honoured;
	// a longer one is returned to the caller as is: 0 means 30s.
	MaxRetryAfter time.Duration
	// MinAttempt is the least time an attempt is assumed to need; a retry
	// is not started unless the context deadline leaves the wait plus
	// max(MinAttempt, duration of the previous attempt): 0 means 50ms.
	MinAttempt time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 100 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 5 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 30 * time.Second
	}
	if p.MinAttempt <= 0 {
		p.MinAttempt = 50 * time.Millisecond
	}
	return p
}

// Retry is the RoundTripper that repeats failed attempts.
//
// Idempotent calls (see Call.Idempotent) are retried on a burst 429
// (after Retry-After, else X-RateLimit-Interval-Milliseconds), on 502, 503
// and 504 (after the backoff, or a longer Retry-After) and on connection
// errors and attempt timeouts (after the backoff). A daily 429
// (X-RateLimit-Daily-Remaining: 0) is never retried.
//
// Non-idempotent calls (creates) are retried only when the provider cannot
// have acted: the connection failed before the request was written (seen
// with httptrace), or a 429 or 503 refused it. A failure after it was written — a
// timeout, a reset, a body cut short, or a 502/504 — is returned as
// *UnknownOutcomeError and never retried.
//
// A retry is never started when the request body cannot be replayed
// (Body set without GetBody) or the context deadline would not leave time
// for it (see RetryPolicy.MinAttempt); the last answer is returned then.
type Retry struct {
	next   http.RoundTripper
	policy RetryPolicy
	log    *slog.Logger
}

// NewRetry returns the retrying RoundTripper over next; log gets one debug
// line per retry; nil discards.
func NewRetry(next http.RoundTripper, p RetryPolicy, log *slog.Logger) *Retry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Retry{next: next, policy: p.withDefaults(), log: log}
}

// sendTrace tells whether a request may have reached the provider.
type sendTrace struct {
	traced atomic.Bool // the transport reports through httptrace
	wrote  atomic.Bool // the whole request was written
}

func (s *sendTrace) hooks() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) { s.traced.Store(true) },
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				s.wrote.Store(true)
			}
		},
	}
}

// maybeSent is true unless the transport reported it never wrote the
// request (a transport without httptrace support is assumed to have sent).
func (s *sendTrace) maybeSent() bool { return !s.traced.Load() || s.wrote.Load() }

// RoundTrip implements http.RoundTripper.
func (t *Retry) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	c, _ := CallFrom(ctx)
	idem := idempotent(req, c)
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil

	for attempt := 1; ; attempt++ {
		areq, err := t.attemptRequest(req, attempt)
		if err != nil {
			return nil, err
		}
		var st *sendTrace
		if !idem {
			// Only a non-idempotent call asks whether it was sent (decide).
			st = &sendTrace{}
			areq = areq.WithContext(httptrace.WithClientTrace(areq.Context(), st.hooks()))
		}
		start := time.Now()
		resp, err := t.next.RoundTrip(areq)
		took := time.Since(start)

		delay, retry, resp, err := t.decide(req, idem, st, attempt, resp, err)
		if !retry || !replayable || attempt >= t.policy.MaxAttempts || !t.fits(ctx, delay, took) {
			if !idem && err == nil && resp != nil {
				resp.Body = &outcomeBody{ReadCloser: resp.Body, req: req}
			}
			return resp, err
		}
		why := "error"
		if resp != nil {
			why = resp.Status
			drain(resp)
		} else if err != nil {
			why = err.Error()
		}
		t.log.DebugContext(ctx, "retrying provider call", "method", req.Method, "host", req.URL.Host,
			"attempt", attempt, "after", delay, "cause", why)
		if serr := sleep(ctx, delay); serr != nil {
			return nil, fmt.Errorf("upstream: %w while waiting to retry %s %s (last: %s)", serr, req.Method, req.URL.Redacted(), why)
		}
	}
}

// attemptRequest returns the request of attempt n: the original first,
// then clones with a fresh body.
func (t *Retry) attemptRequest(req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 1 {
		return req, nil
	}
	r := req.Clone(req.Context())
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("upstream: replaying request body: %w", err)
		}
		r.Body = body
	}
	return r, nil
}

// decide classifies one attempt's result: whether to retry and after how
// long; it may turn the result into an *UnknownOutcomeError. st is nil
// for an idempotent call (whether it was sent does not matter then).
func (t *Retry) decide(req *http.Request, idem bool, st *sendTrace, attempt int, resp *http.Response, err error) (time.Duration, bool, *http.Response, error) {
	ctx := req.Context()
	if err != nil {
		var (
			rl *RateLimitedError
			co *CircuitOpenError
			we *waitError
		)
		if errors.As(err, &rl) || errors.As(err, &co) || errors.As(err, &we) || errors.Is(err, ErrBodyTooLarge) {
			return 0, false, nil, err
		}
		if !idem && st.maybeSent() {
			return 0, false, nil, &UnknownOutcomeError{Method: req.Method, URL: urlNoQuery(req), Cause: err}
		}
		if ctx.Err() != nil {
			return 0, false, nil, err
		}
		return t.backoff(attempt), true, nil, err
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		if headerValue(resp.Header, keyRateLimitDailyRemaining) == "0" {
			return 0, false, resp, nil
		}
		d := retryAfter(resp.Header, time.Now())
		if d <= 0 {
			if b, ok := BudgetFromHeaders(resp.Header, time.Now()); ok && b.BurstIntervalMS > 0 {
				d = time.Duration(b.BurstIntervalMS) * time.Millisecond
			}
		}
		if d > t.policy.MaxRetryAfter {
			return 0, false, resp, nil
		}
		// A 429 is a refusal before any processing: even a create may go again.
		return max(d+jitter(d/10), t.backoff(attempt)), true, resp, nil
	case !idem && (code == http.StatusBadGateway || code == http.StatusGatewayTimeout):
		drain(resp)
		return 0, false, nil, &UnknownOutcomeError{Method: req.Method, URL: urlNoQuery(req), Status: code}
	// 503 is the provider saying it could not take the request (HighLevel
	// answers it before processing), so even a create may go again; a 502
	// or 504 comes from a proxy that may have forwarded it (above).
	case code == http.StatusServiceUnavailable || (idem && (code == http.StatusBadGateway || code == http.StatusGatewayTimeout)):
		d := t.backoff(attempt)
		if ra := retryAfter(resp.Header, time.Now()); ra > d {
			if ra > t.policy.MaxRetryAfter {
				return 0, false, resp, nil
			}
			d = ra
		}
		return d, true, resp, nil
	}
	return 0, false, resp, nil
}

// backoff is the full-jitter delay before attempt n+1.
func (t *Retry) backoff(attempt int) time.Duration {
	ceil := t.policy.BaseDelay << min(attempt-1, 30)
	if ceil <= 0 || ceil > t.policy.MaxDelay {
		ceil = t.policy.MaxDelay
	}
	return jitter(ceil)
}

// fits tells whether a retry after delay can finish before ctx's deadline.
func (t *Retry) fits(ctx context.Context, delay, last time.Duration) bool {
	dl, ok := ctx.Deadline()
	if !ok {
		return ctx.Err() == nil
	}
	return time.Until(dl) >= delay+max(last, t.policy.MinAttempt)
}

// jitter returns a uniformly random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d) //nolint:gosec // backoff jitter needs no cryptographic randomness
}

// drain reads a little of a discarded body, so its connection can be
// reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

func urlNoQuery(req *http.Request) string {
	u := *req.URL
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// outcomeBody turns a failed read of a create's answer into an
// *UnknownOutcomeError: the provider acted, but what it made is lost.
type outcomeBody struct {
	io.ReadCloser
	req *http.Request
}

func (b *outcomeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, ErrBodyTooLarge) {
		var uo *UnknownOutcomeError
		if !errors.As(err, &uo) {
			err = &UnknownOutcomeError{Method: b.req.Method, URL: urlNoQuery(b.req), Cause: err}
		}
	}
	return n, err
}
