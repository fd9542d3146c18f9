package passthrough

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	ok := []struct{ in, want string }{
		{"contacts/", "/contacts/"},
		{"/contacts/", "/contacts/"},
		{"contacts", "/contacts"},
		{"/contacts/abc123/notes", "/contacts/abc123/notes"},
		{"objects/custom_objects.pet/records/search", "/objects/custom_objects.pet/records/search"},
		{"a/.../b", "/a/.../b"},         // not a dot segment
		{"a/..b/c.", "/a/..b/c."},       // neither
		{"a/%2e%2e%2e", "/a/..."},       // three dots, decoded
		{"users/a%20b", "/users/a%20b"}, // encoded space kept encoded
		{"users/caf%C3%A9", "/users/caf%C3%A9"},
		{"users/café", "/users/caf%C3%A9"}, // raw (gRPC) escaped
		{"users/100%25", "/users/100%25"},  // a literal %
		{"a/b:c", "/a/b:c"},                // a colon past the first segment
		{"a%3Ab", "/a%3Ab"},                // an encoded colon: a segment, not a scheme
		{"x/%3F", "/x/%3F"},                // an encoded '?' is data
	}
	for _, c := range ok {
		got, err := CleanPath(c.in)
		if err != nil || got != c.want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	bad := []struct{ in, why string }{
		{"", "required"},
		{"/", "required"},
		{"..", "dot segment"},
		{"../admin", "dot segment"},
		{"/contacts/../../v0/admin", "dot segment"},
		{"contacts/..", "dot segment"},
		{"contacts/.", "dot segment"},
		{"./contacts", "dot segment"},
		{"%2e%2e/admin", "dot segment"},
		{"%2E%2E/admin", "dot segment"},
		{".%2e/admin", "dot segment"},
		{"%2e./admin", "dot segment"},
		{"a/%2e", "dot segment"},
		{"%252e%252e/admin", "dot segment"},     // double-encoded
		{"%25252e%25252e/admin", "dot segment"}, // triple-encoded
		{"//evil.example/x", "'//'"},
		{"///evil.example", "'//'"},
		{"http://evil.example/x", "absolute URL"},
		{"https:evil.example", "absolute URL"},
		{"/HTTPS://evil.example", "absolute URL"},
		{"javascript:alert(1)", "absolute URL"},
		{"a//b", "empty segments"},
		{"a\\b", "backslash"},
		{"\\\\evil.example\\x", "backslash"},
		{"a%5cb", "backslash"},
		{"a%5Cb", "backslash"},
		{"..%5c..%5cadmin", "backslash"},
		{"..%2f..%2fadmin", "'/'"},
		{"a%2fb", "'/'"},
		{"a%2Fb", "'/'"},
		{"a%252fb", "'/'"},
		{"a%00b", "control"},
		{"a%0d%0aHost:%20x", "control"},
		{"a\nb", "control"},
		{"a b", "space"},
		{"contacts?x=1", "'?'"},
		{"contacts#x", "'#'"},
		{"a/%zz", "percent-encoding"},
		{"a/%", "percent-encoding"},
		{strings.Repeat("a/", MaxPathBytes), "longer"},
	}
	for _, c := range bad {
		got, err := CleanPath(c.in)
		if err == nil {
			t.Errorf("CleanPath(%q) = %q, want an error about %s", c.in, got, c.why)
			continue
		}
		if !strings.Contains(err.Error(), c.why) {
			t.Errorf("CleanPath(%q): %v; want it to mention %q", c.in, err, c.why)
		}
	}
}

// TestCleanPathStaysBelowBase: a clean path appended to a base URL with a
// path prefix parses to that host, under that prefix, with the path as is.
func TestCleanPathStaysBelowBase(t *testing.T) {
	for _, in := range []string{"contacts/", "a/b/c", "a/%2e%2e%2e", "users/caf%C3%A9", "a%3Ab", "x/%252e%252"} {
		p, err := CleanPath(in)
		if err != nil {
			t.Fatalf("CleanPath(%q): %v", in, err)
		}
		checkBelow(t, in, p)
	}
}

func checkBelow(t *testing.T, in, p string) {
	t.Helper()
	const base = "https://api.example/v2"
	u, err := url.Parse(base + p)
	if err != nil {
		t.Fatalf("%q -> %q: joined URL does not parse: %v", in, p, err)
	}
	if u.Scheme != "https" || u.Host != "api.example" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		t.Fatalf("%q -> %q: joined URL %s leaves the base", in, p, u)
	}
	if !strings.HasPrefix(u.Path, "/v2/") || u.EscapedPath() != "/v2"+p {
		t.Fatalf("%q -> %q: joined path %q (escaped %q) is not /v2%s", in, p, u.Path, u.EscapedPath(), p)
	}
	for _, seg := range strings.Split(strings.TrimPrefix(u.Path, "/"), "/") {
		if seg == "." || seg == ".." {
			t.Fatalf("%q -> %q: joined path %q has a dot segment", in, p, u.Path)
		}
	}
}

func TestCheckMethod(t *testing.T) {
	for _, m := range []string{"GET", "get", "Post", "PUT", "PATCH", "delete"} {
		if got, err := CheckMethod(m); err != nil || got != strings.ToUpper(m) {
			t.Errorf("CheckMethod(%q) = %q, %v", m, got, err)
		}
	}
	for _, m := range []string{"", "HEAD", "CONNECT", "TRACE", "OPTIONS", "GET /x"} {
		if _, err := CheckMethod(m); err == nil {
			t.Errorf("CheckMethod(%q): no error", m)
		}
	}
}

func TestCheckQuery(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"locationId=abc&limit=2": "locationId=abc&limit=2",
		"?locationId=abc":        "locationId=abc",
		"q=a%20b&x":              "q=a%20b&x",
	} {
		if got, err := CheckQuery(in); err != nil || got != want {
			t.Errorf("CheckQuery(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"a=b#c", "a=b c", "a=%zz", "a=1;b=2", "a=\n", "a=é", strings.Repeat("a", MaxQueryBytes+1)} {
		if _, err := CheckQuery(in); err == nil {
			t.Errorf("CheckQuery(%q): no error", in)
		}
	}
}

func TestFilterRequest(t *testing.T) {
	h := http.Header{}
	for _, k := range []string{"Authorization", "Cookie", "X-Apikey", "X-Connection-Id", "X-Admin-Key", "Idempotency-Key",
		"X-Crmgate-Wait", "X-Crmgate-Anything", "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Te",
		"Host", "Content-Length", "Accept-Encoding", "Proxy-Authorization", "X-Hop", "Traceparent", "X-Forwarded-For"} {
		h.Set(k, "v")
	}
	h.Set("Connection", "close, X-Hop")
	h.Set("Version", "2021-04-15")
	h.Set("Content-Type", "application/json")
	h.Add("X-Custom", "1")
	h.Add("X-Custom", "2")
	out := FilterRequest(h)
	if len(out) != 3 || out.Get("Version") != "2021-04-15" || out.Get("Content-Type") != "application/json" || len(out.Values("X-Custom")) != 2 {
		t.Errorf("FilterRequest kept %v; want Version, Content-Type and X-Custom (twice)", out)
	}
}

func TestFilterResponse(t *testing.T) {
	h := http.Header{}
	for _, k := range []string{"Set-Cookie", "Www-Authenticate", "Authorization", "Connection", "Transfer-Encoding", "Content-Length",
		"X-Request-Id", "Strict-Transport-Security", "Alt-Svc", "Access-Control-Allow-Origin", "Keep-Alive"} {
		h.Set(k, "v")
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Ratelimit-Remaining", "99")
	out := FilterResponse(h)
	if len(out) != 2 || out.Get("Content-Type") == "" || out.Get("X-Ratelimit-Remaining") != "99" {
		t.Errorf("FilterResponse kept %v", out)
	}
}

func TestRequestHeaders(t *testing.T) {
	h, err := RequestHeaders([]Header{{"version", "2021-04-15"}, {"authorization", "Bearer caller"}, {"x-custom", "a\tb"}})
	if err != nil || h.Get("Version") != "2021-04-15" || h.Get("Authorization") != "" || h.Get("X-Custom") != "a\tb" {
		t.Errorf("RequestHeaders = %v, %v", h, err)
	}
	for _, in := range [][]Header{
		{{"", "x"}},
		{{"bad name", "x"}},
		{{"x:y", "x"}},
		{{"x", "a\r\nInjected: 1"}},
		{{"x", "a\x00"}},
		make([]Header, MaxHeaders+1),
		{{"x", strings.Repeat("v", MaxHeaderBytes)}},
	} {
		if _, err := RequestHeaders(in); err == nil {
			t.Errorf("RequestHeaders(%.60v): no error", in)
		}
	}
}

// FuzzCleanPath: whatever the input, CleanPath answers an error or a path
// that, appended to a base URL, stays on its host and under its path, has
// no dot segment however often it is decoded, and is a fixed point.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"contacts/", "../x", "%2e%2e/x", "%252e%252e", "//h", "http://h", "a\\b", "a%2fb", "a%5c", "é/ü", "a%25", "x/%3F", "a%3Ab"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := CleanPath(in)
		if err != nil {
			return
		}
		checkBelow(t, in, p)
		for s, n := p, 0; n < 10; n++ {
			for _, seg := range strings.Split(s, "/") {
				if seg == "." || seg == ".." || strings.Contains(seg, "\\") {
					t.Fatalf("%q -> %q: decodes to %q, with a dot segment or backslash", in, p, s)
				}
			}
			d, err := url.PathUnescape(s)
			if err != nil || d == s {
				break
			}
			s = d
		}
		again, err := CleanPath(p)
		if err != nil || again != p {
			t.Fatalf("CleanPath(%q) = %q, but CleanPath(%q) = %q, %v", in, p, p, again, err)
		}
	})
}
