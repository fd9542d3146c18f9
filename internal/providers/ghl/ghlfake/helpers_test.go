package ghlfake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testLoc     = "ve9EPM428h8vShlRW1KT"
	testToken   = "pit-test-token"
	otherLoc    = "Q9DT3OAqEXDLYuob1G32"
	otherToken  = "pit-other-token"
	testVersion = "2021-07-28"
)

// fakeClock is a controllable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 2, 4, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a fake behind an httptest server with two locations and a token
// for each.
type env struct {
	t     *testing.T
	fake  *Server
	srv   *httptest.Server
	clock *fakeClock
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	clock := newFakeClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.BurstLimit == 0 {
		opts.BurstLimit = -1 // most tests make many calls
	}
	fake := New(opts)
	fake.AddToken(testToken, testLoc)
	fake.AddToken(otherToken, otherLoc)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return &env{t: t, fake: fake, srv: srv, clock: clock}
}

// resp is a decoded answer.
type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call sends a request with the test token and version. body may be nil, a
// string (sent as is) or a value (sent as JSON).
func (e *env) call(method, path string, body any) resp {
	e.t.Helper()
	return e.callWith(method, path, body, map[string]string{
		"Authorization": "Bearer " + testToken,
		"Version":       testVersion,
	})
}

func (e *env) callWith(method, path string, body any, headers map[string]string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	out := resp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	if err := json.Unmarshal(raw, &out.body); err != nil {
		e.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, raw)
	}
	return out
}

// must checks the status and returns the body.
func (r resp) must(t *testing.T, status int) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r.body
}

// wantError checks an error answer's status and exact body.
func (r resp) wantError(t *testing.T, status int, want map[string]any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if !reflect.DeepEqual(normalize(r.body), normalize(want)) {
		t.Fatalf("body %s, want %s", r.raw, mustJSON(want))
	}
}

// wantStatus checks an error answer's status and its statusCode field, and
// that message contains substr.
func (r resp) wantStatus(t *testing.T, status int, substr string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if got, _ := r.body["statusCode"].(float64); int(got) != status {
		t.Fatalf("statusCode %v, want %d: %s", r.body["statusCode"], status, r.raw)
	}
	text := r.raw
	if msg, ok := r.body["message"].(string); ok {
		text = msg
	}
	if !strings.Contains(text, substr) {
		t.Fatalf("answer %s does not contain %q", r.raw, substr)
	}
}

func normalize(v any) any {
	var out any
	_ = json.Unmarshal([]byte(mustJSON(v)), &out)
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// obj and arr dig into decoded JSON.
func obj(t *testing.T, v any, key string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not an object: %v", v)
	}
	o, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("%q is not an object in %s", key, mustJSON(m))
	}
	return o
}

func arr(t *testing.T, v any, key string) []any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not an object: %v", v)
	}
	a, ok := m[key].([]any)
	if !ok {
		t.Fatalf("%q is not an array in %s", key, mustJSON(m))
	}
	return a
}

func str(t *testing.T, m map[string]any, key string) string {
	t.Helper()
	s, ok := m[key].(string)
	if !ok {
		t.Fatalf("%q is not a string in %s", key, mustJSON(m))
	}
	return s
}

// requireKeys fails unless m has every key.
func requireKeys(t *testing.T, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("missing %q in %s", k, mustJSON(m))
		}
	}
}
