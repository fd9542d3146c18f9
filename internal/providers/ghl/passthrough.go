package ghl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/upstream"
)

var (
	_ crm.Passthrough = (*Client)(nil)
	_ crm.Passthrough = (*agencyProvider)(nil)
)

// Passthrough implements crm.Passthrough: req goes to the client's base
// URL plus req.Path, with the connection's bearer token (a refused OAuth
// token is refreshed and the call repeated once, as for every call) and
// GHL's Version header (APIVersion unless the caller sent one: some GHL
// endpoints want another), through the client's transport (rate-limit
// budget of the location, retries of idempotent methods only, breaker,
// metrics and spans named "<METHOD> passthrough"). Any answer of GHL is
// returned as it is, whatever its status.
func (c *Client) Passthrough(ctx context.Context, req crm.PassthroughRequest) (crm.PassthroughResponse, error) {
	if !strings.HasPrefix(req.Path, "/") || strings.Contains(req.Path, "/../") || strings.HasSuffix(req.Path, "/..") || strings.HasPrefix(req.Path, "//") {
		return crm.PassthroughResponse{}, crm.Invalid("path", "must be a clean path below the base URL")
	}
	if strings.HasPrefix(req.Path, "/oauth/") || req.Path == "/oauth" {
		// The token endpoints are the gateway's business: a connection's
		// tokens are never handed out, nor new ones minted for callers.
		return crm.PassthroughResponse{}, crm.Invalid("path", "HighLevel's OAuth endpoints (/oauth/...) are not reachable through passthrough")
	}
	u := c.base + req.Path
	if req.RawQuery != "" {
		u += "?" + req.RawQuery
	}
	// Which budget this spends; never marked idempotent, so only GET, PUT
	// and DELETE are repeated on failures (and any call GHL refused with a
	// 429 or 503 before acting on it), as the transport decides by method.
	call, _ := upstream.CallFrom(ctx)
	if c.budget != "" {
		call.Budget = c.budget
	}
	call.Idempotent = false
	call.CallerShaped = true // a 500 of the caller's request does not trip the host's breaker
	ctx = upstream.WithCall(ctx, call)
	ctx = upstream.WithEndpoint(ctx, upstream.Endpoint{Provider: providerName, Template: req.Method + " passthrough"})

	tok, err := c.token.Token(ctx)
	if err != nil {
		return crm.PassthroughResponse{}, fmt.Errorf("ghl: getting token: %w", err)
	}
	for attempt := 0; ; attempt++ {
		resp, err := c.passOnce(ctx, req, u, tok)
		if err != nil {
			return crm.PassthroughResponse{}, err
		}
		if resp.Status == http.StatusUnauthorized && attempt == 0 {
			if rt, ok := c.token.(RefreshingToken); ok && !strings.Contains(strings.ToLower(errorMessage(resp.Body)), "scope") {
				c.log.DebugContext(ctx, "ghl refused the access token; refreshing it and retrying once", "method", req.Method, "path", "passthrough")
				if tok, err = rt.Refresh(ctx, tok); err != nil {
					return crm.PassthroughResponse{}, fmt.Errorf("ghl: refreshing a refused token: %w", err)
				}
				continue
			}
		}
		return resp, nil
	}
}

// passOnce makes one passthrough exchange.
func (c *Client) passOnce(ctx context.Context, req crm.PassthroughRequest, u, tok string) (crm.PassthroughResponse, error) {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body) // replayable: the transport may retry
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, u, body)
	if err != nil {
		return crm.PassthroughResponse{}, crm.Invalid("path", "not a valid request URL")
	}
	if hreq.URL.Host == "" || !strings.HasPrefix(hreq.URL.String(), c.base+"/") {
		// CleanPath made sure of it; this is the last line.
		return crm.PassthroughResponse{}, crm.Invalid("path", "must stay below the connection's base URL")
	}
	for k, vs := range req.Header {
		hreq.Header[k] = vs
	}
	if hreq.Header.Get("Version") == "" {
		hreq.Header["Version"] = versionHeader
	}
	if hreq.Header.Get("Accept") == "" {
		hreq.Header["Accept"] = jsonHeader
	}
	hreq.Header["Authorization"] = []string{"Bearer " + tok}

	debug := c.log.Enabled(ctx, slog.LevelDebug)
	start := time.Now()
	resp, err := c.hc.Do(hreq)
	if err != nil {
		if debug {
			c.log.DebugContext(ctx, "ghl passthrough request failed", "method", req.Method, "error", err)
		}
		return crm.PassthroughResponse{}, &crm.ProviderError{Provider: providerName, Cause: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	b, err := readBody(resp.Body, c.maxBody, resp.ContentLength)
	if err != nil {
		return crm.PassthroughResponse{}, &crm.ProviderError{Provider: providerName, Cause: fmt.Errorf("reading %s passthrough response: %w", req.Method, err)}
	}
	if debug {
		c.log.DebugContext(ctx, "ghl passthrough request", "method", req.Method, "status", resp.StatusCode, "duration", time.Since(start))
	}
	return crm.PassthroughResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// unwrapURLError drops the *url.Error around a transport failure: its text
// carries the request URL, query included, which may hold what the caller
// considers private; the cause keeps the transport's own error.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// Passthrough implements crm.Passthrough: an agency connection works on
// no location (see agencyProvider).
func (a *agencyProvider) Passthrough(context.Context, crm.PassthroughRequest) (crm.PassthroughResponse, error) {
	return crm.PassthroughResponse{}, a.err()
}
