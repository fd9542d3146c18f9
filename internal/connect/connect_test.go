package connect_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/connect"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/oauth"
	"github.com/crmgate/crmgate/internal/store"
)

// stubFlow answers what a test sets.
type stubFlow struct {
	page     oauth.Page
	pageErr  error
	startURL string
	startErr error
	res      oauth.Result
	err      error
	got      []string // what Complete was called with
}

func (s *stubFlow) OpenPage(context.Context, string) (oauth.Page, error) { return s.page, s.pageErr }
func (s *stubFlow) StartFromPage(context.Context, string) (string, error) {
	return s.startURL, s.startErr
}
func (s *stubFlow) Complete(_ context.Context, connector, state, code, providerError string) (oauth.Result, error) {
	s.got = []string{connector, state, code, providerError}
	return s.res, s.err
}

func serve(t *testing.T, f *stubFlow) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for p, h := range connect.New(f, map[string]string{"ghl": "HighLevel"}, nil).Routes() {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := noFollow.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestConnectPage(t *testing.T) {
	f := &stubFlow{page: oauth.Page{OrganisationName: `<script>alert("x")</script>`,
		State: oauth.State{ID: "1", ConnectorName: "ghl", CustomerID: "c1", ExpiresAt: time.Now().Add(time.Hour).Unix()}}}
	srv := serve(t, f)
	resp, body := get(t, srv.URL+"/connect/ghl?token=abc")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="connect"`) || !strings.Contains(body, `action="ghl/start"`) || !strings.Contains(body, `value="abc"`) {
		t.Fatalf("page %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Error("the organisation name is not escaped")
	}
	for h, want := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if resp.Header.Get(h) != want {
			t.Errorf("%s: %q", h, resp.Header.Get(h))
		}
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("CSP %q", resp.Header.Get("Content-Security-Policy"))
	}
	// A token for another connector, an expired one: 400.
	if resp, _ := get(t, srv.URL+"/connect/hubspot?token=abc"); resp.StatusCode != 400 {
		t.Errorf("other connector: %d", resp.StatusCode)
	}
	f.pageErr = oauth.ErrExpiredState
	if resp, body := get(t, srv.URL+"/connect/ghl?token=abc"); resp.StatusCode != 400 || !strings.Contains(body, "expired") {
		t.Errorf("expired: %d %s", resp.StatusCode, body)
	}
}

func TestConnectStart(t *testing.T) {
	f := &stubFlow{startURL: "https://marketplace.example/oauth?state=x"}
	srv := serve(t, f)
	resp, err := noFollow.PostForm(srv.URL+"/connect/ghl/start", url.Values{"token": {"abc"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != f.startURL {
		t.Errorf("start: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	f.startErr = oauth.ErrInvalidState
	resp, _ = noFollow.PostForm(srv.URL+"/connect/ghl/start", url.Values{"token": {"abc"}})
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("bad token: %d", resp.StatusCode)
	}
}

func TestConnectCallback(t *testing.T) {
	st := oauth.State{ID: "s1", ConnectorName: "ghl", ReturnURL: "https://app.example/back?x=1"}
	f := &stubFlow{res: oauth.Result{State: st, Connection: store.Connection{ID: "conn_ghl_1"}}}
	srv := serve(t, f)

	resp, _ := get(t, srv.URL+"/connect/ghl/callback?code=c&state=s")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Host != "app.example" || loc.Query().Get("x") != "1" || loc.Query().Get("connection_id") != "conn_ghl_1" {
		t.Errorf("success: %d %s", resp.StatusCode, loc)
	}
	if strings.Join(f.got, ",") != "ghl,s,c," {
		t.Errorf("Complete got %q", f.got)
	}

	for _, tc := range []struct {
		err    error
		code   string
		status int
	}{
		{oauth.ErrAccessDenied, "access_denied", 400},
		{oauth.ErrInvalidGrant, "invalid_grant", 400},
		{&crm.ProviderError{Provider: "ghl", Status: 503}, "provider_error", 502},
		{errors.New("boom"), "server_error", 500},
	} {
		f.err = tc.err
		f.res.State = st
		resp, _ := get(t, srv.URL+"/connect/ghl/callback?code=c&state=s")
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != tc.code || loc.Query().Get("connection_id") != "" {
			t.Errorf("%v: %d %s", tc.err, resp.StatusCode, loc)
		}
		// Without a return URL: the result page, with the status.
		f.res.State.ReturnURL = ""
		resp, body := get(t, srv.URL+"/connect/ghl/callback?code=c&state=s")
		if resp.StatusCode != tc.status || !strings.Contains(body, `data-code="`+tc.code+`"`) {
			t.Errorf("%v page: %d %s", tc.err, resp.StatusCode, body)
		}
	}

	// A refused state: 400, never a redirect.
	for _, err := range []error{oauth.ErrInvalidState, oauth.ErrExpiredState, oauth.ErrReplayedState} {
		f.res, f.err = oauth.Result{}, err
		resp, _ := get(t, srv.URL+"/connect/ghl/callback?code=c&state=s")
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Errorf("%v: %d", err, resp.StatusCode)
		}
	}
	// The ledger cannot answer: 503.
	f.err = errors.New("redis down")
	if resp, _ := get(t, srv.URL+"/connect/ghl/callback?code=c&state=s"); resp.StatusCode != 503 {
		t.Errorf("ledger down: %d", resp.StatusCode)
	}
}
