// Package ghl is crmgate's HighLevel (GoHighLevel, "GHL") provider adapter.
//
// It speaks HighLevel's API v2 (Version header 2021-07-28) as described by
// HighLevel's own OpenAPI specs (objects, custom-fields, associations) and
// maps it onto the provider-neutral types of internal/crm. See
// docs/type-mapping.md for the field-type mapping and the naming rules.
package ghl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/upstream"
)

// Wire constants.
const (
	// APIVersion is sent as the Version header on every request.
	APIVersion = "2021-07-28"
	// DefaultBaseURL is HighLevel's API host.
	DefaultBaseURL = "https://services.leadconnectorhq.com"
	// MaxResponseBytes bounds how much of a successful response body is read.
	MaxResponseBytes = 16 << 20
	// maxErrorBodyBytes bounds how much of an error body is read.
	maxErrorBodyBytes = 64 << 10
	// defaultTimeout is the timeout of the HTTP client made when none is given.
	defaultTimeout = 60 * time.Second
	providerName   = "ghl"
)

// Compile-time checks: Client serves the whole provider contract.
var (
	_ crm.Provider           = (*Client)(nil)
	_ crm.SchemaReader       = (*Client)(nil)
	_ crm.SchemaWriter       = (*Client)(nil)
	_ crm.RecordReader       = (*Client)(nil)
	_ crm.RecordWriter       = (*Client)(nil)
	_ crm.AssociationManager = (*Client)(nil)
)

// TokenSource yields the bearer token for a request. Implementations must be
// safe for concurrent use.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// StaticToken is a TokenSource that always answers the same token, e.g. a
// Private Integration Token.
type StaticToken string

// Token returns the token itself.
func (t StaticToken) Token(context.Context) (string, error) {
	if t == "" {
		return "", errors.New("empty token")
	}
	return string(t), nil
}

// ClientOptions configures a Client.
type ClientOptions struct {
	// BaseURL is the API root, e.g. DefaultBaseURL; it may carry a path
	// prefix. Required.
	BaseURL string
	// LocationID is the sub-account every call works on. Required.
	LocationID string
	// Token yields the bearer token. Required.
	Token TokenSource
	// HTTPClient sends the requests; nil means a client with a 60s timeout.
	HTTPClient *http.Client
	// Logger gets one debug line per request (never a token); nil discards.
	Logger *slog.Logger
	// RateLimitKey names the rate-limit budget the calls spend (see
	// internal/upstream); empty means none.
	RateLimitKey string
}

// Client is one GHL location, seen through the provider-neutral interfaces.
// It is safe for concurrent use.
type Client struct {
	base       string // without trailing slash
	locationID string
	token      TokenSource
	hc         *http.Client
	log        *slog.Logger
	maxBody    int64 // MaxResponseBytes; smaller in tests
	budget     string
}

// NewClient checks o and returns a Client. It does no I/O.
func NewClient(o ClientOptions) (*Client, error) {
	base, err := checkBaseURL(o.BaseURL)
	if err != nil {
		return nil, crm.Invalid("base_url", "%v", err)
	}
	if err := checkLocationID(o.LocationID); err != nil {
		return nil, crm.Invalid("location_id", "%v", err)
	}
	if o.Token == nil {
		return nil, crm.Invalid("token", "a token source is required")
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	lg := o.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Client{base: base, locationID: o.LocationID, token: o.Token, hc: hc, log: lg, maxBody: MaxResponseBytes, budget: o.RateLimitKey}, nil
}

// LocationID returns the location the client works on.
func (c *Client) LocationID() string { return c.locationID }

// Check verifies the credentials with a cheap authenticated call.
func (c *Client) Check(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodGet, "/objects/", c.locQuery(), nil, nil)
	return err
}

// checkBaseURL accepts an absolute http(s) URL without query or fragment and
// returns it without its trailing slash.
func checkBaseURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("must be an absolute http or https URL")
	}
	if u.Host == "" {
		return "", errors.New("must name a host")
	}
	if u.RawQuery != "" || u.ForceQuery {
		return "", errors.New("must not have a query")
	}
	if u.Fragment != "" {
		return "", errors.New("must not have a fragment")
	}
	if u.User != nil {
		return "", errors.New("must not carry user info")
	}
	return strings.TrimRight(s, "/"), nil
}

// checkLocationID accepts GHL-like ids: letters, digits, '_' and '-'.
func checkLocationID(s string) error {
	if s == "" {
		return errors.New("required")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("invalid character %q", r)
		}
	}
	return nil
}

func (c *Client) locQuery() url.Values {
	return url.Values{"locationId": {c.locationID}}
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// do sends one request. body, if not nil, is sent as JSON. On a 2xx answer
// the body is decoded into out (if not nil) and returned raw. Any other
// answer is a *crm.ProviderError; so is a transport failure (Status 0, with
// the cause, so context errors stay visible to errors.Is). A 401 on a
// token that can be refreshed (OAuth) refreshes it once and repeats the
// request once; a 401 about scopes is not a token problem and is returned.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any) ([]byte, error) {
	b, status, err := c.doRaw(ctx, method, path, q, body)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := decodeAnswer(method, path, status, b, out); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// decodeAnswer decodes a 2xx body into out as do does.
func decodeAnswer(method, path string, status int, b []byte, out any) error {
	return answerError(method, path, status, decodeJSON(b, out))
}

// answerError is the ProviderError of an answer that did not decode (nil
// for nil).
func answerError(method, path string, status int, err error) error {
	if err == nil {
		return nil
	}
	return &crm.ProviderError{Provider: providerName, Cause: fmt.Errorf("decoding %s %s response (HTTP %d): %w", method, path, status, err)}
}

// decodeRecordAnswer is decodeAnswer for the record answers of the hot
// path (get, create, update and search records), decoded by
// encoding/json/v2's implementation (github.com/go-json-experiment/json)
// with encoding/json's leniency (names matched case-insensitively,
// duplicate names and invalid UTF-8 accepted): about twice as fast as
// encoding/json on a page of 100 records, whose properties stay JSON
// (BenchmarkClientCall/search_100, docs/benchmarks.md).
func decodeRecordAnswer(method, path string, status int, b []byte, out any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return answerError(method, path, status, errors.New("empty body"))
	}
	return answerError(method, path, status, jsonv2.Unmarshal(b, out, jsonv2.MatchCaseInsensitiveNames(true), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)))
}

// doRaw is do without the decoding: the 2xx body and its status.
func (c *Client) doRaw(ctx context.Context, method, path string, q url.Values, body any) ([]byte, int, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var payload []byte
	if body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			return nil, 0, fmt.Errorf("ghl: encoding %s %s: %w", method, path, err)
		}
		payload = bytes.TrimRight(buf.Bytes(), "\n")
	}
	tok, err := c.token.Token(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("ghl: getting token: %w", err)
	}
	for attempt := 0; ; attempt++ {
		b, status, err := c.send(ctx, method, path, u, payload, body != nil, tok)
		if status == http.StatusUnauthorized && attempt == 0 {
			if rt, ok := c.token.(RefreshingToken); ok && !scopeRefusal(err) {
				c.log.DebugContext(ctx, "ghl refused the access token; refreshing it and retrying once", "method", method, "path", path)
				if tok, err = rt.Refresh(ctx, tok); err != nil {
					return nil, 0, fmt.Errorf("ghl: refreshing a refused token: %w", err)
				}
				continue
			}
		}
		if err != nil {
			return nil, 0, err
		}
		return b, status, nil
	}
}

// scopeRefusal tells GHL's 401 "The token is not authorized for this
// scope." (a missing scope: refreshing cannot help) from a refused token.
func scopeRefusal(err error) bool {
	var pe *crm.ProviderError
	return errors.As(err, &pe) && strings.Contains(strings.ToLower(pe.Message), "scope")
}

// send makes one HTTP exchange and returns the 2xx body, or the error with
// the status (0 if no answer).
func (c *Client) send(ctx context.Context, method, path, u string, payload []byte, hasBody bool, tok string) ([]byte, int, error) {
	var rd io.Reader
	if hasBody {
		rd = bytes.NewReader(payload)
	}
	// Tell the resilience transport which budget this spends and whether a
	// repeat is harmless: record and contact search are POSTs that only read.
	prev, had := upstream.CallFrom(ctx)
	call := prev
	if c.budget != "" {
		call.Budget = c.budget
	}
	call.Idempotent = call.Idempotent || method != http.MethodPost || strings.HasSuffix(path, "/records/search") || path == "/contacts/search"
	if !had || call != prev {
		ctx = upstream.WithCall(ctx, call)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, 0, fmt.Errorf("ghl: building %s %s: %w", method, path, err)
	}
	// Canonical keys set directly (Header.Set would canonicalise each);
	// the constant values are shared, never written to.
	h := req.Header
	h["Version"] = versionHeader
	h["Authorization"] = []string{"Bearer " + tok}
	h["Accept"] = jsonHeader
	if hasBody {
		h["Content-Type"] = jsonHeader
	}

	debug := c.log.Enabled(ctx, slog.LevelDebug)
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		if debug {
			c.log.DebugContext(ctx, "ghl request failed", "method", method, "path", path, "error", err)
		}
		return nil, 0, &crm.ProviderError{Provider: providerName, Cause: err}
	}
	drained := false
	defer func() {
		if !drained {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBodyBytes))
		}
		resp.Body.Close()
	}()
	if debug {
		c.log.DebugContext(ctx, "ghl request", "method", method, "path", path, "status", resp.StatusCode, "duration", time.Since(start))
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
		return nil, resp.StatusCode, providerError(resp, b)
	}
	b, err := readBody(resp.Body, c.maxBody, resp.ContentLength)
	if err != nil {
		return nil, resp.StatusCode, &crm.ProviderError{Provider: providerName, Cause: fmt.Errorf("reading %s %s response: %w", method, path, err)}
	}
	drained = true // read to its end
	return b, resp.StatusCode, nil
}

// Header values every request carries (len = cap = 1: an Add appends to
// a copy).
var (
	versionHeader = []string{APIVersion}
	jsonHeader    = []string{"application/json"}
)

// errResponseTooLarge is the cause when a response exceeds MaxResponseBytes.
var errResponseTooLarge = errors.New("response body too large")

// readBounded reads r to its end, failing with errResponseTooLarge past
// limit bytes.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	return readBody(r, limit, -1)
}

// readBody is readBounded for a body of declared size (the response's
// Content-Length; -1 unknown): a declared size within limit is read into
// one buffer of that size (one byte more for the read that meets the
// end), instead of growing one from 512 bytes.
func readBody(r io.Reader, limit, size int64) ([]byte, error) {
	n := int64(512)
	if size >= 0 && size < limit {
		n = size + 1
	}
	b := make([]byte, 0, min(n, limit+1))
	for {
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("%w: more than %d bytes", errResponseTooLarge, limit)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		room := b[len(b):cap(b)]
		if left := limit + 1 - int64(len(b)); int64(len(room)) > left {
			room = room[:left]
		}
		m, err := r.Read(room)
		b = b[:len(b)+m]
		if err == io.EOF { //nolint:errorlint // io.EOF is returned unwrapped by contract
			if int64(len(b)) > limit {
				return nil, fmt.Errorf("%w: more than %d bytes", errResponseTooLarge, limit)
			}
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// decodeJSON decodes one JSON value from b with a json.Decoder; an empty
// body decodes as nothing.
func decodeJSON(b []byte, out any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("empty body")
	}
	// One value, nothing after it (Unmarshal checks the whole input).
	return json.Unmarshal(b, out)
}

// providerError builds the *crm.ProviderError of a non-2xx answer.
func providerError(resp *http.Response, body []byte) *crm.ProviderError {
	pe := &crm.ProviderError{
		Provider: providerName,
		Status:   resp.StatusCode,
		Message:  publicMessage(errorMessage(body)),
	}
	if pe.Message == "" {
		pe.Message = http.StatusText(resp.StatusCode)
		if pe.Message == "" {
			pe.Message = "HTTP " + strconv.Itoa(resp.StatusCode)
		}
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		pe.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
		if resp.Header.Get("X-RateLimit-Daily-Remaining") == "0" {
			// The daily budget is spent: retrying within the burst
			// interval cannot help.
			pe.Message += " (daily rate limit exhausted)"
		} else if pe.RetryAfter == 0 {
			if ms, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("X-RateLimit-Interval-Milliseconds")), 10, 64); err == nil && ms > 0 {
				pe.RetryAfter = time.Duration(ms) * time.Millisecond
			}
		}
	case http.StatusServiceUnavailable:
		pe.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
	}
	return pe
}

// errorMessage extracts GHL's message from an error body: `message` is a
// string or an array of strings (422); `error` is the fallback.
func errorMessage(body []byte) string {
	var eb struct {
		Message json.RawMessage `json:"message"`
		Error   json.RawMessage `json:"error"`
		// Meta of a duplicate contact (400 "This location does not allow
		// duplicated contacts."): the contact it duplicates.
		Meta struct {
			ContactID     string `json:"contactId"`
			MatchingField string `json:"matchingField"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(body, &eb); err != nil {
		return ""
	}
	m := jsonText(eb.Message)
	if m == "" {
		return jsonText(eb.Error)
	}
	if id := eb.Meta.ContactID; id != "" && len(id) <= 128 {
		m += " (the contact " + strconv.Quote(id)
		if f := eb.Meta.MatchingField; f != "" && len(f) <= 64 {
			m += " has this " + strconv.Quote(f)
		}
		m += ")"
	}
	return m
}

// jsonText renders a JSON string or array of strings as text.
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var list []any
	if json.Unmarshal(raw, &list) == nil {
		parts := make([]string, 0, len(list))
		for _, v := range list {
			switch v := v.(type) {
			case string:
				if v = strings.TrimSpace(v); v != "" {
					parts = append(parts, v)
				}
			case nil:
			default:
				b, _ := json.Marshal(v)
				parts = append(parts, string(b))
			}
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// parseTime parses GHL's timestamps (RFC 3339, usually with milliseconds);
// anything else gives the zero time.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
