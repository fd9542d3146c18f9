package upstream

import (
	"io"
	"net/http"
)

// DefaultMaxResponseBytes bounds response bodies by default (16 MiB).
const DefaultMaxResponseBytes = 16 << 20

// BodyLimit is the RoundTripper bounding response bodies: a declared
// Content-Length over the limit fails RoundTrip at once; otherwise the body
// fails its Read with *BodyTooLargeError as soon as the limit is passed, so
// an oversized body is never buffered whole.
type BodyLimit struct {
	next  http.RoundTripper
	limit int64
}

// NewBodyLimit returns the RoundTripper over next; limit ≤ 0 means
// DefaultMaxResponseBytes.
func NewBodyLimit(next http.RoundTripper, limit int64) *BodyLimit {
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	return &BodyLimit{next: next, limit: limit}
}

// RoundTrip implements http.RoundTripper.
func (t *BodyLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.limit {
		_ = resp.Body.Close()
		return nil, &BodyTooLargeError{Limit: t.limit}
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: t.limit, limit: t.limit}
	return resp, nil
}

type limitedBody struct {
	io.ReadCloser
	left, limit int64
	err         error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.left {
		n = int(b.left)
		b.left = 0
		b.err = &BodyTooLargeError{Limit: b.limit}
		return n, b.err
	}
	b.left -= int64(n)
	return n, err
}
