package passthrough

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// Bounds of a passthrough request.
const (
	// MaxPathBytes bounds the provider path.
	MaxPathBytes = 2048
	// MaxQueryBytes bounds the query.
	MaxQueryBytes = 8192
	// MaxHeaders bounds how many headers a gRPC caller may send.
	MaxHeaders = 100
	// MaxHeaderBytes bounds the names and values of those headers together.
	MaxHeaderBytes = 64 << 10
)

// Methods are the HTTP methods a passthrough call may use.
var Methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// CheckMethod returns the method in upper case, or an error naming the
// methods allowed.
func CheckMethod(m string) (string, error) {
	u := strings.ToUpper(strings.TrimSpace(m))
	for _, k := range Methods {
		if u == k {
			return k, nil
		}
	}
	if m == "" {
		return "", errors.New("is required: one of " + strings.Join(Methods, ", "))
	}
	return "", fmt.Errorf("%q is not allowed: one of %s", clip(m), strings.Join(Methods, ", "))
}

// CleanPath checks a provider path — the part after /v0/passthrough, as
// escaped in the request URL (a leading '/' is optional) — and returns it
// in canonical escaped form, starting with "/", to be appended to the
// connection's base URL. It refuses everything that could make the joined
// URL leave the base URL or name another host, however it is encoded:
// absolute URLs ("https://host/..."), network-path references ("//host"),
// dot segments ("..", ".", also percent-encoded once or more: "%2e%2e",
// "%252e%252e"), empty segments ("a//b"), backslashes (raw or "%5c"),
// encoded slashes ("%2f"), control characters ("%00", "%0a"), a raw '?' or
// '#', and invalid percent-encoding. A trailing '/' is kept ("contacts/"
// and "contacts" are different paths to some providers).
func CleanPath(raw string) (string, error) {
	p := strings.TrimPrefix(raw, "/")
	if p == "" {
		return "", errors.New("is required: the provider path after /v0/passthrough/, e.g. contacts/")
	}
	if len(raw) > MaxPathBytes {
		return "", fmt.Errorf("is longer than %d bytes", MaxPathBytes)
	}
	if strings.HasPrefix(p, "/") {
		return "", errors.New("must not start with '//': a network-path reference names another host; the path is appended to the connection's base URL")
	}
	if hasScheme(p) {
		return "", errors.New("must not be an absolute URL (scheme:...): the path is appended to the connection's base URL, the host cannot be chosen")
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			return "", errors.New("must not contain a backslash")
		case c == '?':
			return "", errors.New("must not contain '?': send the query as the query")
		case c == '#':
			return "", errors.New("must not contain '#': fragments are not sent to providers")
		case c == ' ':
			return "", errors.New("must not contain a space (percent-encode it as %20)")
		case c < 0x20 || c == 0x7f:
			return "", errors.New("must not contain control characters")
		}
	}
	segs := strings.Split(p, "/")
	var b strings.Builder
	b.Grow(len(p) + 1)
	for i, seg := range segs {
		if seg == "" && i < len(segs)-1 {
			return "", errors.New("must not contain empty segments ('//')")
		}
		once, err := url.PathUnescape(seg)
		if err != nil {
			return "", fmt.Errorf("segment %d has invalid percent-encoding", i+1)
		}
		if err := checkSegment(once); err != nil {
			return "", fmt.Errorf("segment %d %w", i+1, err)
		}
		esc := url.PathEscape(once)
		if i == 0 {
			// A ':' stays encoded in the first segment, which would
			// otherwise read as a scheme ("a%3Ab" is not "a:b").
			esc = strings.ReplaceAll(esc, ":", "%3A")
		}
		b.WriteByte('/')
		b.WriteString(esc)
	}
	// The bound holds for the path sent too: percent-encoding can triple
	// a path's length, and a cleaned path must clean to itself.
	if b.Len() > MaxPathBytes {
		return "", fmt.Errorf("is longer than %d bytes once percent-encoded", MaxPathBytes)
	}
	return b.String(), nil
}

// hasScheme tells whether p starts with "scheme:" (RFC 3986: a letter,
// then letters, digits, '+', '-', '.').
func hasScheme(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}

// maxDecodes bounds how many layers of percent-encoding are peeled off a
// segment to look for what a provider decoding it again would see.
const maxDecodes = 8

// checkSegment checks one segment (decoded once), and what it decodes to
// when a server decodes it again and again: never a dot segment, a '/' or
// '\', a control character.
func checkSegment(s string) error {
	for n := 0; ; n++ {
		switch {
		case s == "." || s == "..":
			return errors.New("is a dot segment ('.' or '..', also when percent-encoded as %2e): the path cannot leave the base URL")
		case strings.Contains(s, "/"):
			return errors.New("contains an encoded '/' (%2f): segments cannot be split or joined by encoding")
		case strings.Contains(s, "\\"):
			return errors.New("contains an encoded backslash (%5c)")
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c == 0x7f {
				return errors.New("contains an encoded control character (e.g. %00, %0a)")
			}
		}
		if !strings.Contains(s, "%") {
			return nil
		}
		d, err := url.PathUnescape(s)
		if err != nil || d == s {
			return nil // a literal '%': a server decoding again sees no more
		}
		if n == maxDecodes {
			return errors.New("is percent-encoded too many times over")
		}
		s = d
	}
}

// CheckQuery checks a query (without '?'; a leading '?' is dropped) and
// returns it as given: printable ASCII only (everything else
// percent-encoded), no '#', valid percent-encoding, '&'-separated.
func CheckQuery(raw string) (string, error) {
	q := strings.TrimPrefix(raw, "?")
	if len(q) > MaxQueryBytes {
		return "", fmt.Errorf("is longer than %d bytes", MaxQueryBytes)
	}
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '#':
			return "", errors.New("must not contain '#'")
		case c <= 0x20 || c >= 0x7f:
			return "", errors.New("must be printable ASCII: percent-encode spaces, control and non-ASCII characters")
		}
	}
	if _, err := url.ParseQuery(q); err != nil {
		return "", fmt.Errorf("is not a valid query: %w", err)
	}
	return q, nil
}

// Request headers never sent to the provider (canonical keys): the
// caller's credentials (the adapter sends the connection's), the
// gateway's own headers, hop-by-hop headers, and those the HTTP client
// sets itself.
var droppedRequest = headerSet(
	// Credentials.
	"Authorization", "Proxy-Authorization", "Cookie",
	// The gateway's own.
	"X-Apikey", "X-Connection-Id", "X-Admin-Key", "Idempotency-Key", "X-Request-Id", "X-Crmgate-Wait",
	// Hop-by-hop (RFC 9110 7.6.1) and their kin.
	"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	// Set by the HTTP client for this request, or not the caller's to set.
	"Host", "Content-Length", "Expect", "Accept-Encoding",
	"Traceparent", "Tracestate", "Baggage",
	"Forwarded", "Via", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip",
)

// Response headers never answered to the caller: the provider's
// credentials and cookies, hop-by-hop headers, those the gateway sets, and
// those that would speak for the gateway's own origin (HSTS, Alt-Svc,
// CORS).
var droppedResponse = headerSet(
	"Authorization", "Proxy-Authorization", "Set-Cookie", "Set-Cookie2", "Www-Authenticate", "Proxy-Authenticate",
	"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Content-Length", "X-Request-Id",
	"Strict-Transport-Security", "Alt-Svc",
)

func headerSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[textproto.CanonicalMIMEHeaderKey(n)] = true
	}
	return m
}

// Header is one header as a gRPC caller sends it.
type Header struct {
	Name, Value string
}

// RequestHeaders checks the headers of a gRPC caller (names are HTTP
// tokens, values have no control characters) and returns those sent to
// the provider (see FilterRequest).
func RequestHeaders(in []Header) (http.Header, error) {
	if len(in) > MaxHeaders {
		return nil, fmt.Errorf("at most %d headers, got %d", MaxHeaders, len(in))
	}
	h := make(http.Header, len(in))
	size := 0
	for i, kv := range in {
		size += len(kv.Name) + len(kv.Value)
		if size > MaxHeaderBytes {
			return nil, fmt.Errorf("are larger than %d bytes together", MaxHeaderBytes)
		}
		if !validName(kv.Name) {
			return nil, fmt.Errorf("[%d]: name %q is not a valid header name", i, clip(kv.Name))
		}
		if !validValue(kv.Value) {
			return nil, fmt.Errorf("[%d] (%s): value must not contain control characters", i, clip(kv.Name))
		}
		h.Add(kv.Name, kv.Value)
	}
	return FilterRequest(h), nil
}

// FilterRequest returns the caller's headers the provider may see: h
// without the caller's credentials (Authorization, Cookie), the gateway's
// own headers (x-apikey, x-connection-id ...), hop-by-hop headers and the
// headers a Connection header names.
func FilterRequest(h http.Header) http.Header {
	return filter(h, droppedRequest, func(k string) bool { return strings.HasPrefix(k, "X-Crmgate-") })
}

// FilterResponse returns the provider's answer headers the caller may
// see: h without credentials and cookies (Set-Cookie, WWW-Authenticate
// ...), hop-by-hop headers, the headers a Connection header names,
// Content-Length (the gateway sets its own), X-Request-Id (the gateway's)
// and headers that would apply to the gateway's origin
// (Strict-Transport-Security, Alt-Svc, Access-Control-*).
func FilterResponse(h http.Header) http.Header {
	return filter(h, droppedResponse, func(k string) bool { return strings.HasPrefix(k, "Access-Control-") })
}

func filter(h http.Header, dropped map[string]bool, droppedPrefix func(string) bool) http.Header {
	named := map[string]bool{}
	for _, v := range h.Values("Connection") {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				named[textproto.CanonicalMIMEHeaderKey(n)] = true
			}
		}
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if dropped[ck] || named[ck] || droppedPrefix(ck) || strings.HasPrefix(ck, ":") {
			continue
		}
		out[ck] = append(out[ck], vs...)
	}
	return out
}

// validName tells an RFC 9110 token.
func validName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// validValue tells a header value without control characters (tab aside).
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
