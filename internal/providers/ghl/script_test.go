package ghl

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

const (
	testLoc   = "loc1"
	testToken = "pit-secret-token"
)

// exchange is one request the adapter must send and the answer it gets.
type exchange struct {
	method string
	// path is the escaped request path.
	path string
	// query is the exact query expected (nil: none).
	query url.Values
	// body is the JSON body expected: inline JSON, "@name" for
	// testdata/name.json, or "" for no body.
	body string

	status int               // 0 means 200
	resp   string            // answer body
	header map[string]string // answer headers
}

// script serves a fixed sequence of exchanges and checks every request.
type script struct {
	t  *testing.T
	mu sync.Mutex
	ex []exchange
	i  int
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.t
	t.Helper()
	body, _ := io.ReadAll(r.Body)
	if s.i >= len(s.ex) {
		t.Errorf("unexpected request %s %s %s", r.Method, r.URL, body)
		http.Error(w, `{"message":"unexpected"}`, http.StatusTeapot)
		return
	}
	ex := s.ex[s.i]
	s.i++
	where := ex.method + " " + ex.path
	if r.Method != ex.method || r.URL.EscapedPath() != ex.path {
		t.Errorf("request %d: got %s %s, want %s", s.i, r.Method, r.URL.EscapedPath(), where)
	}
	checkHeaders(t, where, r, ex.body != "")
	gotQ := r.URL.Query()
	if len(gotQ) == 0 {
		gotQ = nil
	}
	if !reflect.DeepEqual(gotQ, ex.query) {
		t.Errorf("%s: query %v, want %v", where, gotQ, ex.query)
	}
	checkJSON(t, where, body, ex.body)
	for k, v := range ex.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	st := ex.status
	if st == 0 {
		st = http.StatusOK
	}
	w.WriteHeader(st)
	_, _ = io.WriteString(w, ex.resp)
}

// checkHeaders asserts the headers every GHL request carries.
func checkHeaders(t *testing.T, where string, r *http.Request, hasBody bool) {
	t.Helper()
	want := map[string]string{
		"Version":       "2021-07-28",
		"Authorization": "Bearer " + testToken,
		"Accept":        "application/json",
	}
	if hasBody {
		want["Content-Type"] = "application/json"
	}
	for k, v := range want {
		if got := r.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: header %s = %q, want %q", where, k, got, v)
		}
	}
}

// checkJSON compares a request body with the expected JSON.
func checkJSON(t *testing.T, where string, got []byte, want string) {
	t.Helper()
	if want == "" {
		if len(got) != 0 {
			t.Errorf("%s: unexpected body %s", where, got)
		}
		return
	}
	if name, ok := strings.CutPrefix(want, "@"); ok {
		b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		if err != nil {
			t.Errorf("golden %s: %v", name, err)
			return
		}
		want = string(b)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: body is not JSON: %v: %s", where, err, got)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Errorf("%s: expected body is not JSON: %v", where, err)
		return
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", "  ")
		wi, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("%s: body\n%s\nwant\n%s", where, gi, wi)
	}
}

// newScripted returns a Client talking to a server that expects exactly
// the given exchanges, in order.
func newScripted(t *testing.T, ex ...exchange) *Client {
	t.Helper()
	s := &script{t: t, ex: ex}
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.i != len(s.ex) {
			t.Errorf("%d of %d expected requests sent; next missing: %s %s", s.i, len(s.ex), s.ex[s.i].method, s.ex[s.i].path)
		}
	})
	c, err := NewClient(ClientOptions{BaseURL: srv.URL + "/", LocationID: testLoc, Token: StaticToken(testToken), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// q builds a query from key, value pairs.
func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func locQ(kv ...string) url.Values { return q(append([]string{"locationId", testLoc}, kv...)...) }

// Canned GHL answers.

func objectJSON(key string, standard bool, primary string) string {
	o := map[string]any{
		"id": "obj_" + key, "standard": standard, "key": key,
		"labels":      map[string]any{"singular": "Pet", "plural": "Pets"},
		"description": "Pets of customers", "locationId": testLoc,
		"primaryDisplayProperty": primary,
		"dateAdded":              "2024-07-11T10:00:00.123Z", "dateUpdated": "2024-07-12T11:30:00.456Z",
		"searchableProperties": []string{primary},
	}
	b, _ := json.Marshal(o)
	return string(b)
}

func fieldJSON(objectKey, id, name, dataType, parent string, extra map[string]any) string {
	f := map[string]any{
		"id": "fld_" + id, "locationId": testLoc, "name": name, "showInForms": true,
		"objectKey": objectKey, "dataType": dataType, "parentId": parent,
		"fieldKey": objectKey + "." + id, "dateAdded": "2024-07-11T10:00:00.123Z", "dateUpdated": "2024-07-11T10:00:00.123Z",
	}
	for k, v := range extra {
		f[k] = v
	}
	b, _ := json.Marshal(f)
	return string(b)
}

func wrap(key string, v string) string { return `{"` + key + `":` + v + `}` }
