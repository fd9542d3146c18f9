package ghl

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/upstream"
)

// TestPassthrough: the adapter sends the path below its base URL with the
// connection's token and GHL's Version (the caller's if given), answers
// any status as it came, refreshes a refused OAuth token once, refuses
// the OAuth endpoints, and goes through the resilient transport: a GET is
// retried on a 503, a POST answered 502 is not repeated.
func TestPassthrough(t *testing.T) {
	type seen struct{ method, uri, auth, version, body string }
	var (
		mu    sync.Mutex
		got   []seen
		fails = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Version"), string(b)})
		switch {
		case r.Header.Get("Authorization") != "Bearer at-new":
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"statusCode":401,"message":"Invalid token: access token is invalid"}`))
		case r.URL.Path == "/base/flaky" && fails[r.Method] < 1:
			fails[r.Method]++
			code := http.StatusServiceUnavailable
			if r.Method == http.MethodPost {
				code = http.StatusBadGateway
			}
			w.WriteHeader(code)
		case r.URL.Path == "/base/missing":
			w.Header().Set("Set-Cookie", "a=b")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"statusCode":404,"message":"nope"}`))
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer srv.Close()
	tr := upstream.NewTransport(srv.Client().Transport, upstream.Options{Retry: upstream.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}})
	tok := &stubRefreshing{tok: "at-old", next: "at-new"}
	c, err := NewClient(ClientOptions{BaseURL: srv.URL + "/base/", LocationID: "loc1", Token: tok, HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	reset := func() { mu.Lock(); got = nil; mu.Unlock() }

	resp, err := c.Passthrough(ctx, crm.PassthroughRequest{Method: "POST", Path: "/contacts/", RawQuery: "a=1", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"x":1}`)})
	if err != nil || resp.Status != http.StatusCreated || string(resp.Body) != `{"ok":true}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("POST: %+v %v", resp, err)
	}
	if len(got) != 2 || got[0].auth != "Bearer at-old" || got[1] != (seen{"POST", "/base/contacts/?a=1", "Bearer at-new", APIVersion, `{"x":1}`}) || len(tok.rejected) != 1 {
		t.Errorf("requests %+v, refreshes %v", got, tok.rejected)
	}

	reset()
	resp, err = c.Passthrough(ctx, crm.PassthroughRequest{Method: "GET", Path: "/missing", Header: http.Header{"Version": {"2021-04-15"}}})
	if err != nil || resp.Status != http.StatusNotFound || string(resp.Body) != `{"statusCode":404,"message":"nope"}` {
		t.Errorf("404: %+v %v", resp, err)
	}
	if len(got) != 1 || got[0].version != "2021-04-15" {
		t.Errorf("requests %+v", got)
	}

	reset()
	if resp, err = c.Passthrough(ctx, crm.PassthroughRequest{Method: "GET", Path: "/flaky"}); err != nil || resp.Status != http.StatusCreated || len(got) != 2 {
		t.Errorf("GET after a 503: %+v %v, %d requests (want a retry)", resp, err, len(got))
	}
	reset()
	_, err = c.Passthrough(ctx, crm.PassthroughRequest{Method: "POST", Path: "/flaky", Body: []byte("{}")})
	var uo *upstream.UnknownOutcomeError
	if !errors.As(err, &uo) || len(got) != 1 {
		t.Errorf("POST answered 502: %v, %d requests (want one, unknown outcome)", err, len(got))
	}

	reset()
	for _, p := range []string{"/oauth/token", "/oauth/locationToken", "/oauth", "/a/../b", "//evil"} {
		if _, err := c.Passthrough(ctx, crm.PassthroughRequest{Method: "POST", Path: p}); !errors.Is(err, crm.ErrInvalidArgument) {
			t.Errorf("%s: %v, want invalid argument", p, err)
		}
	}
	if len(got) != 0 {
		t.Errorf("refused paths sent %d requests", len(got))
	}
}
