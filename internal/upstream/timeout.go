package upstream

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// AttemptTimeout is the RoundTripper bounding one attempt — sending,
// waiting and reading the body — to a duration, within the caller's own
// deadline. It is what lets a retry follow a provider that hangs.
type AttemptTimeout struct {
	next http.RoundTripper
	d    time.Duration
}

// NewAttemptTimeout returns the RoundTripper over next; d ≤ 0 disables it.
func NewAttemptTimeout(next http.RoundTripper, d time.Duration) *AttemptTimeout {
	return &AttemptTimeout{next: next, d: d}
}

// attemptTimeoutError: an attempt got no (complete) answer within the
// attempt timeout. errors.Is(err, context.DeadlineExceeded) holds.
type attemptTimeoutError struct {
	d     time.Duration
	cause error
}

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("upstream: no answer within %s: %v", e.d, e.cause)
}

func (e *attemptTimeoutError) Unwrap() []error { return []error{e.cause, context.DeadlineExceeded} }

// RoundTrip implements http.RoundTripper.
func (t *AttemptTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.d <= 0 {
		return t.next.RoundTrip(req)
	}
	parent := req.Context()
	deadline := time.Now().Add(t.d)
	if dl, ok := parent.Deadline(); ok && dl.Before(deadline) {
		// The caller's deadline comes first: the attempt's context would
		// only be a cancel-only copy ending with the caller's (whose end
		// is no attempt timeout), so there is nothing to add.
		return t.next.RoundTrip(req)
	}
	ctx, cancel := context.WithDeadline(parent, deadline)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		timedOut := ctx.Err() != nil && parent.Err() == nil
		cancel()
		if timedOut {
			return nil, &attemptTimeoutError{d: t.d, cause: err}
		}
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel, ctx: ctx, parent: parent, d: t.d}
	return resp, nil
}

// cancelBody releases the attempt's context when the body is closed and
// names a timeout that cuts the body short.
type cancelBody struct {
	io.ReadCloser
	cancel      context.CancelFunc
	ctx, parent context.Context
	d           time.Duration
}

func (b *cancelBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() != nil && b.parent.Err() == nil { //nolint:errorlint // io.EOF is returned unwrapped by contract
		err = &attemptTimeoutError{d: b.d, cause: err}
	}
	return n, err
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
