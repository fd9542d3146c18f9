package ghl

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/oauth"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
)

const (
	testClientID = "client-1"
	testSecret   = "csecret-1"
	testRedirect = "https://gw.example/connect/ghl/callback"
)

func oauthFake(t *testing.T) (*ghlfake.Server, *httptest.Server) {
	t.Helper()
	f := ghlfake.New(ghlfake.Options{BurstLimit: -1})
	f.RegisterOAuthApp(ghlfake.OAuthApp{ClientID: testClientID, ClientSecret: testSecret, RedirectURIs: []string{testRedirect}})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func oauthConfig(base string) oauth.Config {
	return oauth.Config{
		Settings: map[string]string{ConfigBaseURL: base, ConfigClientID: testClientID, ConfigRedirectURI: testRedirect, ConfigAuthorizeURL: base + "/oauth/chooselocation"},
		Secrets:  map[string]string{ConfigClientSecret: testSecret},
	}
}

// authorizeCode goes through the fake's authorization page and returns the
// code it redirects with.
func authorizeCode(t *testing.T, c *Connector, cfg oauth.Config, state string) string {
	t.Helper()
	u, err := c.AuthorizeURL(cfg, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(loc.String(), testRedirect+"?") || loc.Query().Get("state") != state {
		t.Fatalf("authorize redirected to %s", loc)
	}
	return loc.Query().Get("code")
}

func TestCheckConfigOAuth(t *testing.T) {
	c := NewConnector(ConnectorOptions{})
	ok := map[string]string{
		"client_id": "cid", "client_secret": "s", "redirect_uri": "https://gw.example/connect/ghl/callback",
		"authorize_url": "https://marketplace.leadconnectorhq.com/v2/oauth/chooselocation", "scopes": "  objects/record.readonly   objects/schema.readonly ",
		"user_type": "Company",
	}
	got, err := c.CheckConfig(ok, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Public["scopes"] != "objects/record.readonly objects/schema.readonly" || got.Public["user_type"] != "Company" || got.Secret["client_secret"] != "s" {
		t.Errorf("got %+v", got)
	}
	if _, ok := got.Public["authorize_url"]; !ok {
		t.Error("authorize_url not kept")
	}
	for field, bad := range map[string]string{
		"redirect_uri":  "https://gw.example/cb#frag",
		"authorize_url": "https://x.example/a?b=c",
		"scopes":        "objects/record.readonly <script>",
		"user_type":     "Agency",
		"client_id":     "c id",
	} {
		in := map[string]string{"client_id": "cid", "client_secret": "s", field: bad}
		_, err := c.CheckConfig(in, nil)
		violationOn(t, err, field)
	}
	if _, err := c.CheckConfig(map[string]string{"redirect_uri": "http://127.0.0.1:8080/connect/ghl/callback?x=1"}, nil); err != nil {
		t.Errorf("redirect_uri with a query: %v", err)
	}
}

func TestCheckConnectionOAuth(t *testing.T) {
	c := NewConnector(ConnectorOptions{})
	got, auth, err := c.CheckConnection(map[string]string{
		"user_type": "Company", "company_id": "comp1", "user_id": "u1", "access_token": "at", "refresh_token": "rt",
		"scopes": "a b", "token_expires_at": "2030-01-02T03:04:05Z",
	}, nil)
	if err != nil || auth != AuthOAuth || got.Public["company_id"] != "comp1" || len(got.Secret) != 2 {
		t.Fatalf("company connection: %+v %q %v", got, auth, err)
	}
	for name, tc := range map[string]struct {
		in    map[string]string
		field string
	}{
		"company without company_id": {map[string]string{"user_type": "Company", "access_token": "at"}, "company_id"},
		"company with a location":    {map[string]string{"user_type": "Company", "company_id": "c", "location_id": "l", "access_token": "at"}, "location_id"},
		"company with a PIT":         {map[string]string{"user_type": "Company", "company_id": "c", "private_integration_token": "p"}, "user_type"},
		"bad user type":              {map[string]string{"user_type": "Agency", "location_id": "l", "access_token": "at"}, "user_type"},
		"bad expiry":                 {map[string]string{"location_id": "l", "access_token": "at", "token_expires_at": "tomorrow"}, "token_expires_at"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := c.CheckConnection(tc.in, nil)
			violationOn(t, err, tc.field)
		})
	}
}

func TestAuthorizeURL(t *testing.T) {
	c := NewConnector(ConnectorOptions{})
	cfg := oauth.Config{Settings: map[string]string{"client_id": "cid", "redirect_uri": testRedirect}, Secrets: map[string]string{"client_secret": "s"}}
	u, err := c.AuthorizeURL(cfg, "st4te", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := url.Parse(u)
	q := p.Query()
	if !strings.HasPrefix(u, DefaultAuthorizeURL+"?") || q.Get("response_type") != "code" || q.Get("client_id") != "cid" ||
		q.Get("redirect_uri") != testRedirect || q.Get("scope") != DefaultScopes || q.Get("state") != "st4te" {
		t.Errorf("authorize URL %s", u)
	}
	u, _ = c.AuthorizeURL(cfg, "s", []string{"a/b.readonly", "c"})
	if p, _ := url.Parse(u); p.Query().Get("scope") != "a/b.readonly c" {
		t.Errorf("scopes: %s", u)
	}
	delete(cfg.Settings, "redirect_uri")
	if _, err := c.AuthorizeURL(cfg, "s", nil); !errors.Is(err, oauth.ErrNotConfigured) || !strings.Contains(err.Error(), "redirect_uri") {
		t.Errorf("no redirect_uri: %v", err)
	}
}

func TestExchangeAndRefresh(t *testing.T) {
	f, srv := oauthFake(t)
	c := NewConnector(ConnectorOptions{HTTPClient: srv.Client()})
	cfg := oauthConfig(srv.URL)
	f.SetInstall(testClientID, ghlfake.Install{LocationID: "locA", CompanyID: "compA", UserID: "userA"})
	code := authorizeCode(t, c, cfg, "s1")

	in, err := c.Exchange(context.Background(), cfg, code)
	if err != nil {
		t.Fatal(err)
	}
	if in.Identity["location_id"] != "locA" || in.Settings["company_id"] != "compA" || in.Settings["user_id"] != "userA" ||
		in.Settings["user_type"] != "Location" || in.Settings["token_expires_at"] == "" || in.Settings["scopes"] != DefaultScopes ||
		in.Credentials["access_token"] == "" || in.Credentials["refresh_token"] == "" {
		t.Fatalf("install %+v", in)
	}
	if f.AccessTokenLocation(in.Credentials["access_token"]) != "locA" {
		t.Error("the access token does not work for the location")
	}
	// The code is single-use.
	if _, err := c.Exchange(context.Background(), cfg, code); !errors.Is(err, oauth.ErrInvalidGrant) {
		t.Errorf("code reused: %v", err)
	}

	refresh := c.Refresher(cfg, "org1")
	cur := oauth.Current{Settings: in.Settings, Credentials: in.Credentials}
	g, err := refresh(context.Background(), cur)
	if err != nil || g.AccessToken == "" || g.RefreshToken == "" || g.RefreshToken == in.Credentials["refresh_token"] {
		t.Fatalf("refresh: %+v, %v", g, err)
	}
	if d := time.Until(g.ExpiresAt); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("expires in %v", d)
	}
	// The spent refresh token is refused as invalid_grant (and recorded).
	if _, err := refresh(context.Background(), cur); !errors.Is(err, oauth.ErrInvalidGrant) {
		t.Errorf("spent refresh token: %v", err)
	}
	if f.RefreshTokenReuses() != 1 {
		t.Errorf("reuses = %d", f.RefreshTokenReuses())
	}
	// A wrong client secret is not the connection's fault.
	bad := oauthConfig(srv.URL)
	bad.Secrets = map[string]string{ConfigClientSecret: "wrong"}
	_, err = c.Refresher(bad, "org1")(context.Background(), oauth.Current{Settings: in.Settings, Credentials: map[string]string{"refresh_token": g.RefreshToken}})
	var pe *crm.ProviderError
	if errors.Is(err, oauth.ErrInvalidGrant) || !errors.As(err, &pe) || pe.Status != 401 {
		t.Errorf("wrong secret: %v", err)
	}
	// No refresh token: nothing to refresh with.
	if _, err := refresh(context.Background(), oauth.Current{Settings: in.Settings, Credentials: map[string]string{"access_token": "x"}}); !errors.Is(err, oauth.ErrInvalidGrant) {
		t.Errorf("no refresh token: %v", err)
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Error("an error shows the client secret")
	}
}

// fixedTokens is an OAuthTokens that answers one token.
type fixedTokens struct{ tok string }

func (f fixedTokens) Token(context.Context, oauth.Ref, oauth.RefreshFunc, string) (string, error) {
	return f.tok, nil
}

func TestAgencyInstallAndMint(t *testing.T) {
	f, srv := oauthFake(t)
	cfg := oauthConfig(srv.URL)
	cfg.Settings[ConfigUserType] = UserTypeCompany
	c := NewConnector(ConnectorOptions{HTTPClient: srv.Client()})
	f.SetInstall(testClientID, ghlfake.Install{UserType: "Company", CompanyID: "compB", ApprovedLocations: []string{"locB1", "locB2"}})
	agency, err := c.Exchange(context.Background(), cfg, authorizeCode(t, c, cfg, "s"))
	if err != nil {
		t.Fatal(err)
	}
	if agency.Identity["company_id"] != "compB" || agency.Settings["user_type"] != "Company" || agency.Settings["location_id"] != "" {
		t.Fatalf("agency install %+v", agency)
	}
	if f.AccessTokenLocation(agency.Credentials["access_token"]) != "" {
		t.Error("a Company token works on a location")
	}
	cur := oauth.Current{Settings: agency.Settings, Credentials: agency.Credentials}
	loc, err := c.MintLocation(context.Background(), cfg, "conn_agency", cur, agency.Credentials["access_token"], "locB2")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Identity["location_id"] != "locB2" || loc.Settings["agency_connection_id"] != "conn_agency" || loc.Credentials["refresh_token"] != "" ||
		f.AccessTokenLocation(loc.Credentials["access_token"]) != "locB2" {
		t.Fatalf("minted %+v", loc)
	}
	if _, err := c.MintLocation(context.Background(), cfg, "conn_agency", cur, agency.Credentials["access_token"], "locZ"); err == nil {
		t.Error("minted a location the install did not approve")
	}
	if _, err := c.MintLocation(context.Background(), cfg, "conn_x", oauth.Current{Settings: map[string]string{"user_type": "Location"}}, "t", "locB1"); !errors.Is(err, oauth.ErrNotAgency) {
		t.Errorf("from a location connection: %v", err)
	}

	// A minted connection is renewed by minting again with the agency's token.
	c2 := NewConnector(ConnectorOptions{HTTPClient: srv.Client(), Tokens: fixedTokens{agency.Credentials["access_token"]}})
	g, err := c2.Refresher(cfg, "org1")(context.Background(), oauth.Current{Settings: loc.Settings, Credentials: loc.Credentials})
	if err != nil || g.AccessToken == "" || g.AccessToken == loc.Credentials["access_token"] || g.RefreshToken != "" {
		t.Fatalf("renew minted: %+v %v", g, err)
	}
	if s := f.OAuthStats(); s.LocationTokens != 2 {
		t.Errorf("stats %+v", s)
	}

	// The agency connection opens as a provider that can only check.
	p, err := c2.Open(crm.ConnectionParams{OrganisationID: "org1", ConnectionID: "conn_agency", ConfigSettings: cfg.Settings, ConfigSecrets: cfg.Secrets,
		Settings: agency.Settings, Credentials: agency.Credentials})
	if err != nil {
		t.Fatal(err)
	}
	var ae *apierr.Error
	if _, err := p.(crm.SchemaReader).ListObjects(context.Background()); !errors.As(err, &ae) || ae.Code != codes.FailedPrecondition || !strings.Contains(ae.Message, "/locations") {
		t.Errorf("an agency connection's data call: %v", err)
	}
	if err := p.Check(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestGrantRefused(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   bool
	}{
		{401, `{"statusCode":401,"message":"Invalid grant: refresh token is invalid","error":"invalid_grant"}`, true},
		{400, `{"error":"invalid_grant","error_description":"This refresh token has been used"}`, true},
		{400, `{"statusCode":400,"message":"Invalid refresh token"}`, true},
		{401, `{"statusCode":401,"message":"Invalid client credentials","error":"invalid_client"}`, false},
		{400, `{"statusCode":400,"message":"client_secret is wrong"}`, false},
		{500, `{"error":"invalid_grant"}`, false},
		{422, `{"statusCode":422,"message":["refresh_token should not be empty"]}`, false},
	} {
		if got := grantRefused(tc.status, []byte(tc.body), "/oauth/token"); got != tc.want {
			t.Errorf("%d %s: %v", tc.status, tc.body, got)
		}
	}
	if grantRefused(401, []byte(`{"error":"invalid_grant"}`), "/oauth/locationToken") {
		t.Error("locationToken failures are not refused grants")
	}
}

// stubRefreshing is a RefreshingToken that records refreshes.
type stubRefreshing struct {
	mu       sync.Mutex
	tok      string
	next     string
	rejected []string
}

func (s *stubRefreshing) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, nil
}

func (s *stubRefreshing) Refresh(_ context.Context, rejected string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected = append(s.rejected, rejected)
	s.tok = s.next
	return s.tok, nil
}

// TestClientRefreshesOnce401: a 401 refreshes the token once and repeats
// the request once (with its body); a second 401 is returned; a 401 about
// scopes refreshes nothing.
func TestClientRefreshesOnce401(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	good := "at-new"
	scope := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		b := make([]byte, 100)
		n, _ := r.Body.Read(b)
		seen = append(seen, r.Header.Get("Authorization")+"|"+string(b[:n]))
		switch {
		case scope:
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"statusCode":401,"message":"The token is not authorized for this scope."}`))
		case r.Header.Get("Authorization") != "Bearer "+good:
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"statusCode":401,"message":"Invalid token: access token is invalid","error":"Unauthorized"}`))
		default:
			_, _ = w.Write([]byte(`{"record":{"id":"r1","properties":{}}}`))
		}
	}))
	defer srv.Close()
	tok := &stubRefreshing{tok: "at-old", next: "at-new"}
	c, err := NewClient(ClientOptions{BaseURL: srv.URL, LocationID: "loc1", Token: tok, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if _, err := c.do(context.Background(), http.MethodPost, "/objects/x/records", nil, map[string]string{"a": "b"}, &out); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != `Bearer at-old|{"a":"b"}` || seen[1] != `Bearer at-new|{"a":"b"}` || len(tok.rejected) != 1 || tok.rejected[0] != "at-old" {
		t.Errorf("requests %q, refreshes %q", seen, tok.rejected)
	}

	// Refused again after the refresh: one refresh, one retry, then the 401.
	seen, good = nil, "never"
	tok.next = "at-newer"
	_, err = c.do(context.Background(), http.MethodGet, "/objects/", nil, nil, nil)
	var pe *crm.ProviderError
	if !errors.As(err, &pe) || pe.Status != 401 || len(seen) != 2 || len(tok.rejected) != 2 {
		t.Errorf("second 401: %v, %d requests, %d refreshes", err, len(seen), len(tok.rejected))
	}

	// A scope refusal: no refresh.
	seen, scope = nil, true
	_, err = c.do(context.Background(), http.MethodGet, "/objects/", nil, nil, nil)
	if !errors.As(err, &pe) || pe.Status != 401 || len(seen) != 1 || len(tok.rejected) != 2 {
		t.Errorf("scope 401: %v, %d requests, %d refreshes", err, len(seen), len(tok.rejected))
	}
}

// countingTransport counts the requests that went through it.
type countingTransport struct {
	mu   sync.Mutex
	n    int
	base http.RoundTripper
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	t.n++
	t.mu.Unlock()
	return t.base.RoundTrip(r)
}

// TestTokenRequestsOnTheWire: the code exchange and the refresh (through
// x/oauth2) send GHL's form — client credentials in the body, never a Basic
// header, user_type on both grants — through the connector's HTTP client,
// and GHL's extra answer fields reach the install.
func TestTokenRequestsOnTheWire(t *testing.T) {
	var (
		mu    sync.Mutex
		forms []url.Values
		auths []string
		reply = `{"access_token":"at1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt1","scope":"a  b","userType":"Location","locationId":"locW","companyId":"compW","userId":"userW"}`
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.URL.Path != "/oauth/token" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", 400)
			return
		}
		mu.Lock()
		forms = append(forms, r.PostForm)
		auths = append(auths, r.Header.Get("Authorization"))
		body := reply
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	ct := &countingTransport{base: srv.Client().Transport}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewConnector(ConnectorOptions{HTTPClient: &http.Client{Transport: ct}, Now: func() time.Time { return now }})
	cfg := oauthConfig(srv.URL)

	in, err := c.Exchange(context.Background(), cfg, "code-1")
	if err != nil {
		t.Fatal(err)
	}
	if in.Identity["location_id"] != "locW" || in.Settings["company_id"] != "compW" || in.Settings["user_id"] != "userW" ||
		in.Settings["scopes"] != "a b" || in.Settings["token_expires_at"] != oauth.FormatExpiry(now.Add(time.Hour)) ||
		in.Credentials["access_token"] != "at1" || in.Credentials["refresh_token"] != "rt1" {
		t.Fatalf("install %+v", in)
	}

	mu.Lock()
	reply = `{"access_token":"at2","expires_in":7200,"scope":"a","userType":"Company","companyId":"compW"}`
	mu.Unlock()
	cur := oauth.Current{Settings: map[string]string{"user_type": "Company"}, Credentials: map[string]string{"refresh_token": "rt1"}}
	g, err := c.Refresher(cfg, "org1")(context.Background(), cur)
	if err != nil {
		t.Fatal(err)
	}
	if g.AccessToken != "at2" || g.RefreshToken != "" || !g.ExpiresAt.Equal(now.Add(2*time.Hour)) || g.Settings["scopes"] != "a" {
		t.Errorf("grant %+v (an answer without refresh_token keeps the stored one)", g)
	}

	want := []map[string]string{
		{"grant_type": "authorization_code", "code": "code-1", "user_type": "Location", "redirect_uri": testRedirect, "client_id": testClientID, "client_secret": testSecret},
		{"grant_type": "refresh_token", "refresh_token": "rt1", "user_type": "Company", "redirect_uri": testRedirect, "client_id": testClientID, "client_secret": testSecret},
	}
	if len(forms) != 2 || ct.n != 2 {
		t.Fatalf("%d requests, %d through the connector's client", len(forms), ct.n)
	}
	for i, w := range want {
		if len(forms[i]) != len(w) {
			t.Errorf("request %d: form %v", i, forms[i])
		}
		for k, v := range w {
			if forms[i].Get(k) != v {
				t.Errorf("request %d: %s = %q, want %q", i, k, forms[i].Get(k), v)
			}
		}
		if auths[i] != "" {
			t.Errorf("request %d: Authorization %q", i, auths[i])
		}
	}

	// A 2xx answer that is no token is the provider's fault, not a grant refusal.
	mu.Lock()
	reply = `{"token_type":"Bearer"}`
	mu.Unlock()
	_, err = c.Exchange(context.Background(), cfg, "code-2")
	var pe *crm.ProviderError
	if errors.Is(err, oauth.ErrInvalidGrant) || !errors.As(err, &pe) || pe.Status != http.StatusOK {
		t.Errorf("no access_token: %v", err)
	}
	// No answer at all: a transport failure (Status 0).
	srv.Close()
	_, err = c.Refresher(cfg, "org1")(context.Background(), cur)
	if !errors.As(err, &pe) || pe.Status != 0 || errors.Is(err, oauth.ErrInvalidGrant) {
		t.Errorf("server gone: %v", err)
	}
}
