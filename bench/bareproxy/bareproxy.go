// Package bareproxy is the benchmark's floor for a gateway hop: a bare
// net/http/httputil reverse proxy in front of the upstream, nothing else
// (no authentication, no decoding, no logging). The bench runs it twice:
// as its own process (bench/cmd/bareproxy), as a gateway runs, and inside
// the bench process for reference.
package bareproxy

import (
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
)

// Handler proxies every request to target. Its transport keeps up to
// idleConns idle connections to the target, so it does not churn
// connections under load; failures reach the client as 502s and are
// logged on errLog (nil: discarded).
func Handler(target *url.URL, idleConns int, errLog *log.Logger) http.Handler {
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.SetXForwarded() // as a proxy in front of a real service would
		if pr.Out.Body != nil && pr.Out.ContentLength > 0 {
			pr.Out.Body = &declaredBody{ReadCloser: pr.Out.Body, left: pr.Out.ContentLength}
		}
	}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = idleConns
	tr.MaxIdleConnsPerHost = idleConns
	rp.Transport = tr
	if errLog == nil {
		errLog = log.New(io.Discard, "", 0)
	}
	rp.ErrorLog = errLog
	return rp
}

// declaredBody answers io.EOF once the declared length of a request body
// has been read, without reading the inbound body again. net/http's
// transport reads once more past Content-Length to check the body was not
// longer; when the upstream answers first, the server has already closed
// the inbound body on writing the answer's headers, that read fails, and
// the transport tears down the upstream connection with the answer half
// copied: the client gets "unexpected EOF" (golang/go#40747). Seen here on
// list 100 records (an 80 KB answer to a POST), a few times per thousand.
type declaredBody struct {
	io.ReadCloser
	left int64
}

func (b *declaredBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
