package upstream_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/upstream"
)

// script serves the statuses in order (the last one repeats), counting calls.
type script struct {
	calls    atomic.Int32
	statuses []int
	headers  map[string]string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.calls.Add(1)) - 1
	code := s.statuses[min(n, len(s.statuses)-1)]
	for k, v := range s.headers {
		w.Header().Set(k, v)
	}
	_, _ = io.Copy(io.Discard, r.Body)
	w.WriteHeader(code)
	_, _ = io.WriteString(w, `{"ok":true}`)
}

func fastRetry() upstream.RetryPolicy {
	return upstream.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
}

func do(t *testing.T, rt http.RoundTripper, ctx context.Context, method, url string, body []byte) (*http.Response, error) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err == nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

func TestRetryIdempotentRecovers(t *testing.T) {
	for _, code := range []int{502, 503, 504, 429} {
		s := &script{statuses: []int{code, code, 200}}
		srv := httptest.NewServer(s)
		rt := upstream.NewRetry(http.DefaultTransport, fastRetry(), nil)
		resp, err := do(t, rt, context.Background(), http.MethodGet, srv.URL, nil)
		if err != nil || resp.StatusCode != 200 || s.calls.Load() != 3 {
			t.Errorf("%d: %v %v after %d calls; want 200 after 3", code, resp, err, s.calls.Load())
		}
		srv.Close()
	}
}

// A 503 is the provider refusing before processing: even a create goes
// again.
func TestRetryCreateOn503(t *testing.T) {
	s := &script{statuses: []int{503, 200}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	rt := upstream.NewRetry(http.DefaultTransport, fastRetry(), nil)
	resp, err := do(t, rt, context.Background(), http.MethodPost, srv.URL, []byte(`{"a":1}`))
	if err != nil || resp.StatusCode != 200 || s.calls.Load() != 2 {
		t.Fatalf("%v %v after %d calls; want 200 after 2", resp, err, s.calls.Load())
	}
}

func TestRetryGivesUp(t *testing.T) {
	s := &script{statuses: []int{503}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	rt := upstream.NewRetry(http.DefaultTransport, upstream.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond}, nil)
	resp, err := do(t, rt, context.Background(), http.MethodGet, srv.URL, nil)
	if err != nil || resp.StatusCode != 503 || s.calls.Load() != 3 {
		t.Fatalf("%v %v after %d calls; want the last 503 after 3", resp, err, s.calls.Load())
	}
	if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), "ok") {
		t.Errorf("last answer's body lost: %q", b)
	}
}

func TestRetryNotOn(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    int
		headers map[string]string
		method  string
	}{
		{"daily 429", 429, map[string]string{upstream.HeaderRateLimitDailyRemaining: "0"}, http.MethodGet},
		{"500", 500, nil, http.MethodGet},
		{"404", 404, nil, http.MethodGet},
		{"retry-after beyond the cap", 503, map[string]string{"Retry-After": "3600"}, http.MethodGet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{statuses: []int{tc.code, 200}, headers: tc.headers}
			srv := httptest.NewServer(s)
			defer srv.Close()
			rt := upstream.NewRetry(http.DefaultTransport, fastRetry(), nil)
			resp, err := do(t, rt, context.Background(), tc.method, srv.URL, []byte(`{}`))
			if err != nil || resp.StatusCode != tc.code || s.calls.Load() != 1 {
				t.Fatalf("%v %v after %d calls; want %d, not retried", resp, err, s.calls.Load(), tc.code)
			}
		})
	}
}

func TestRetryCreateOn429(t *testing.T) {
	s := &script{statuses: []int{429, 201}, headers: map[string]string{upstream.HeaderRateLimitInterval: "20"}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	rt := upstream.NewRetry(http.DefaultTransport, fastRetry(), nil)
	start := time.Now()
	resp, err := do(t, rt, context.Background(), http.MethodPost, srv.URL, []byte(`{"a":1}`))
	if err != nil || resp.StatusCode != 201 || s.calls.Load() != 2 {
		t.Fatalf("%v %v after %d calls; a 429 refused the create, so it may go again", resp, err, s.calls.Load())
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("retried after %s; the interval header said 20ms", d)
	}
}

func TestRetryHonoursDeadline(t *testing.T) {
	s := &script{statuses: []int{503}, headers: map[string]string{"Retry-After": "1"}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	rt := upstream.NewRetry(http.DefaultTransport, upstream.RetryPolicy{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	resp, err := do(t, rt, ctx, http.MethodGet, srv.URL, nil)
	if err != nil || resp.StatusCode != 503 || s.calls.Load() != 1 {
		t.Fatalf("%v %v after %d calls", resp, err, s.calls.Load())
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("took %s: a retry that cannot finish before the deadline must not be waited for", d)
	}
}

func TestRetryNeedsReplayableBody(t *testing.T) {
	s := &script{statuses: []int{503, 200}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	rt := upstream.NewRetry(http.DefaultTransport, fastRetry(), nil)
	req, _ := http.NewRequest(http.MethodPut, srv.URL, io.NopCloser(strings.NewReader("x"))) // no GetBody
	resp, err := rt.RoundTrip(req)
	if err != nil || resp.StatusCode != 503 || s.calls.Load() != 1 {
		t.Fatalf("%v %v after %d calls; an unreplayable body must not be retried", resp, err, s.calls.Load())
	}
	resp.Body.Close()
	// With GetBody, the body is sent again in full.
	var bodies []string
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		if len(bodies) == 1 {
			w.WriteHeader(503)
		}
	}))
	defer srv2.Close()
	resp, err = do(t, rt, context.Background(), http.MethodPut, srv2.URL, []byte("payload"))
	if err != nil || resp.StatusCode != 200 || len(bodies) != 2 || bodies[1] != "payload" {
		t.Fatalf("%v %v bodies %q", resp, err, bodies)
	}
}

// resetAfterRead reads the request, then resets the connection.
func resetAfterRead(calls *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		_ = conn.(*net.TCPConn).SetLinger(0)
		_ = conn.Close()
	}
}

func TestUnknownOutcome(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(resetAfterRead(&calls))
	defer srv.Close()
	rt := upstream.NewRetry(http.DefaultTransport, fastRetry(), nil)

	_, err := do(t, rt, context.Background(), http.MethodPost, srv.URL, []byte(`{"create":1}`))
	var uo *upstream.UnknownOutcomeError
	if !errors.As(err, &uo) || calls.Load() != 1 {
		t.Fatalf("POST reset after sending: %v after %d calls; want UnknownOutcomeError after 1", err, calls.Load())
	}

	calls.Store(0)
	_, err = do(t, rt, context.Background(), http.MethodGet, srv.URL, nil)
	if errors.As(err, &uo) || calls.Load() != 4 {
		t.Fatalf("GET reset: %v after %d calls; want a plain error after 4 attempts", err, calls.Load())
	}

	// A 504 from a proxy after a create is an unknown outcome too.
	s := &script{statuses: []int{504}}
	srv504 := httptest.NewServer(s)
	defer srv504.Close()
	_, err = do(t, rt, context.Background(), http.MethodPost, srv504.URL, []byte(`{}`))
	if !errors.As(err, &uo) || uo.Status != 504 || s.calls.Load() != 1 {
		t.Fatalf("POST 504: %v after %d calls", err, s.calls.Load())
	}

	// A timeout after sending: unknown, and errors.Is still sees the deadline.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer hang.Close()
	rt = upstream.NewRetry(upstream.NewAttemptTimeout(http.DefaultTransport, 50*time.Millisecond), fastRetry(), nil)
	_, err = do(t, rt, context.Background(), http.MethodPost, hang.URL, []byte(`{}`))
	if !errors.As(err, &uo) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("POST timeout: %v", err)
	}
}

// TestCreateRetriedWhenNeverSent: a connection that fails before the
// request is written cannot have created anything, so a create goes again.
func TestCreateRetriedWhenNeverSent(t *testing.T) {
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(201)
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close() // nothing listens there: the dial is refused
	var attempts atomic.Int32
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if attempts.Add(1) == 1 {
			req = req.Clone(req.Context())
			req.URL.Host = dead
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	rt := upstream.NewRetry(base, fastRetry(), nil)
	resp, err := do(t, rt, context.Background(), http.MethodPost, srv.URL, []byte(`{}`))
	if err != nil || resp.StatusCode != 201 || got.Load() != 1 || attempts.Load() != 2 {
		t.Fatalf("%v %v; server got %d, attempts %d", resp, err, got.Load(), attempts.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestBodyLimit(t *testing.T) {
	big := strings.Repeat("x", 2048)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("chunked") {
			w.(http.Flusher).Flush() // no Content-Length
		}
		_, _ = io.WriteString(w, big)
	}))
	defer srv.Close()
	rt := upstream.NewBodyLimit(http.DefaultTransport, 1024)

	_, err := do(t, rt, context.Background(), http.MethodGet, srv.URL, nil)
	if !errors.Is(err, upstream.ErrBodyTooLarge) {
		t.Fatalf("declared length over the limit: %v", err)
	}
	resp, err := do(t, rt, context.Background(), http.MethodGet, srv.URL+"?chunked=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	var tl *upstream.BodyTooLargeError
	if !errors.As(err, &tl) || tl.Limit != 1024 || len(b) != 1024 {
		t.Fatalf("streamed body: read %d bytes, err %v", len(b), err)
	}
	rt = upstream.NewBodyLimit(http.DefaultTransport, 4096)
	resp, err = do(t, rt, context.Background(), http.MethodGet, srv.URL+"?chunked=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 2048 {
		t.Fatalf("within the limit: %d bytes, %v", len(b), err)
	}
}
