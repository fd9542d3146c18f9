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
// connections under load; failures reach the client as 502s.
func Handler(target *url.URL, idleConns int) http.Handler {
	rp := httputil.NewSingleHostReverseProxy(target)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = idleConns
	tr.MaxIdleConnsPerHost = idleConns
	rp.Transport = tr
	rp.ErrorLog = log.New(io.Discard, "", 0) // counted by the client
	return rp
}
