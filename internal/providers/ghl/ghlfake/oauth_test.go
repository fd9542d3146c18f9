package ghlfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	oauthClient   = "client-abc"
	oauthSecret   = "secret-abc"
	oauthRedirect = "https://gw.example/connect/ghl/callback"
)

// postForm posts a form to the fake and decodes the JSON answer.
func (e *env) postForm(path, bearer string, form url.Values, contentType string) resp {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", contentType)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Version", testVersion)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	out := resp{status: r.StatusCode, header: r.Header, raw: string(b)}
	_ = json.Unmarshal(b, &out.body)
	return out
}

const formType = "application/x-www-form-urlencoded"

// authorize follows the authorization page and returns its redirect.
func (e *env) authorize(q url.Values) (*url.URL, int) {
	e.t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := hc.Get(e.srv.URL + "/oauth/chooselocation?" + q.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	r.Body.Close()
	loc, _ := url.Parse(r.Header.Get("Location"))
	return loc, r.StatusCode
}

func authQuery() url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {oauthClient}, "redirect_uri": {oauthRedirect}, "scope": {"a b"}, "state": {"xyz"}}
}

func TestOAuthCodeFlow(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.RegisterOAuthApp(OAuthApp{ClientID: oauthClient, ClientSecret: oauthSecret, RedirectURIs: []string{oauthRedirect}})

	// No install configured, unknown client, unregistered redirect: 400.
	if _, st := e.authorize(authQuery()); st != 400 {
		t.Errorf("no install: %d", st)
	}
	e.fake.SetInstall(oauthClient, Install{LocationID: testLoc, UserID: "u1"})
	q := authQuery()
	q.Set("redirect_uri", "https://evil.example/cb")
	if _, st := e.authorize(q); st != 400 {
		t.Errorf("foreign redirect_uri: %d", st)
	}
	loc, st := e.authorize(authQuery())
	if st != http.StatusFound || loc.Query().Get("state") != "xyz" || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", st, loc)
	}
	code := loc.Query().Get("code")

	exchange := func(form url.Values) resp {
		base := url.Values{"client_id": {oauthClient}, "client_secret": {oauthSecret}, "grant_type": {"authorization_code"},
			"code": {code}, "user_type": {"Location"}, "redirect_uri": {oauthRedirect}}
		for k, v := range form {
			base[k] = v
		}
		return e.postForm("/oauth/token", "", base, formType)
	}
	if r := exchange(url.Values{"redirect_uri": {"https://other.example/cb"}}); r.status != 400 {
		t.Errorf("redirect mismatch: %d %s", r.status, r.raw)
	}
	if r := exchange(url.Values{"client_secret": {"nope"}}); r.status != 401 || r.body["error"] != "invalid_client" {
		t.Errorf("bad secret: %d %s", r.status, r.raw)
	}
	if r := e.postForm("/oauth/token", "", url.Values{"client_id": {oauthClient}}, "application/json"); r.status != 400 {
		t.Errorf("JSON body: %d", r.status)
	}
	if r := e.postForm("/oauth/token", "", url.Values{"client_id": {oauthClient}}, formType); r.status != 422 {
		t.Errorf("missing fields: %d %s", r.status, r.raw)
	}
	r := exchange(nil)
	if r.status != 200 || r.body["locationId"] != testLoc || r.body["userType"] != "Location" || r.body["expires_in"] != float64(86399) ||
		r.body["scope"] != "a b" || r.body["userId"] != "u1" || r.body["refresh_token"] == "" {
		t.Fatalf("exchange: %d %s", r.status, r.raw)
	}
	at, rt := r.body["access_token"].(string), r.body["refresh_token"].(string)
	if again := exchange(nil); again.status != 401 || again.body["error"] != "invalid_grant" {
		t.Errorf("code reused: %d %s", again.status, again.raw)
	}
	// The access token works on the location's API.
	if got := e.callAs(at, "GET", "/objects/?locationId="+testLoc, nil); got.status != 200 {
		t.Errorf("API with the access token: %d", got.status)
	}

	// Refresh rotates; the spent token is refused and counted.
	refresh := func(tok string) resp {
		return e.postForm("/oauth/token", "", url.Values{"client_id": {oauthClient}, "client_secret": {oauthSecret},
			"grant_type": {"refresh_token"}, "refresh_token": {tok}, "user_type": {"Location"}}, formType)
	}
	r2 := refresh(rt)
	if r2.status != 200 || r2.body["refresh_token"] == rt || r2.body["access_token"] == at {
		t.Fatalf("refresh: %d %s", r2.status, r2.raw)
	}
	if r3 := refresh(rt); r3.status != 401 || r3.body["error"] != "invalid_grant" {
		t.Errorf("reuse: %d %s", r3.status, r3.raw)
	}
	if e.fake.RefreshTokenReuses() != 1 {
		t.Errorf("reuses %d", e.fake.RefreshTokenReuses())
	}
	if s := e.fake.OAuthStats(); s.Refreshes != 1 || s.CodeExchanges != 1 || s.Authorizations != 1 || s.RefusedGrants != 2 {
		t.Errorf("stats %+v", s)
	}
	if n := e.fake.RequestCount(RouteOAuthToken); n < 5 {
		t.Errorf("token route count %d", n)
	}

	// Expiry: the old access token keeps working until it expires.
	if got := e.callAs(at, "GET", "/objects/?locationId="+testLoc, nil); got.status != 200 {
		t.Errorf("old token after refresh: %d", got.status)
	}
	e.clock.Advance(DefaultAccessTokenTTL)
	if got := e.callAs(at, "GET", "/objects/?locationId="+testLoc, nil); got.status != 401 {
		t.Errorf("expired token: %d", got.status)
	}
	newAT := r2.body["access_token"].(string)
	e.fake.ExpireAccessTokens()
	if got := e.callAs(newAT, "GET", "/objects/?locationId="+testLoc, nil); got.status != 401 {
		t.Errorf("ExpireAccessTokens: %d", got.status)
	}
	// Uninstall: refresh tokens refused.
	e.fake.RevokeInstall(oauthClient, testLoc)
	if r4 := refresh(r2.body["refresh_token"].(string)); r4.status != 401 || r4.body["error"] != "invalid_grant" {
		t.Errorf("after uninstall: %d %s", r4.status, r4.raw)
	}
	if e.fake.RefreshTokenReuses() != 1 {
		t.Errorf("a revoked token counted as reuse")
	}
}

func TestOAuthDeny(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.RegisterOAuthApp(OAuthApp{ClientID: oauthClient, ClientSecret: oauthSecret, RedirectURIs: []string{oauthRedirect}})
	e.fake.SetInstall(oauthClient, Install{LocationID: testLoc, Deny: true})
	loc, st := e.authorize(authQuery())
	if st != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" || loc.Query().Get("state") != "xyz" {
		t.Errorf("deny: %d %s", st, loc)
	}
}

func TestOAuthLocationToken(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.RegisterOAuthApp(OAuthApp{ClientID: oauthClient, ClientSecret: oauthSecret})
	agencyAT, _ := e.fake.IssueTokens(oauthClient, Install{UserType: "Company", CompanyID: "comp1", ApprovedLocations: []string{otherLoc}})
	locAT, _ := e.fake.IssueTokens(oauthClient, Install{LocationID: testLoc, CompanyID: "comp1"})
	form := url.Values{"companyId": {"comp1"}, "locationId": {otherLoc}}

	if r := e.postForm("/oauth/locationToken", locAT, form, formType); r.status != 401 {
		t.Errorf("with a Location token: %d", r.status)
	}
	if r := e.postForm("/oauth/locationToken", agencyAT, url.Values{"companyId": {"comp1"}}, formType); r.status != 422 {
		t.Errorf("missing locationId: %d", r.status)
	}
	if r := e.postForm("/oauth/locationToken", agencyAT, url.Values{"companyId": {"comp1"}, "locationId": {testLoc}}, formType); r.status != 400 {
		t.Errorf("unapproved location: %d", r.status)
	}
	r := e.postForm("/oauth/locationToken", agencyAT, form, formType)
	if r.status != 200 || r.body["locationId"] != otherLoc || r.body["refresh_token"] != nil {
		t.Fatalf("location token: %d %s", r.status, r.raw)
	}
	if got := e.callAs(r.body["access_token"].(string), "GET", "/objects/?locationId="+otherLoc, nil); got.status != 200 {
		t.Errorf("minted token on its location: %d", got.status)
	}
	// The Company token itself works on no location.
	if got := e.callAs(agencyAT, "GET", "/objects/?locationId="+otherLoc, nil); got.status != 401 {
		t.Errorf("Company token on a location: %d", got.status)
	}
	e.fake.SetTokenLatency(30 * time.Millisecond)
	start := time.Now()
	e.postForm("/oauth/locationToken", agencyAT, form, formType)
	if time.Since(start) < 30*time.Millisecond {
		t.Error("SetTokenLatency ignored")
	}
}

// callAs calls the API with another bearer token.
func (e *env) callAs(token, method, path string, body any) resp {
	e.t.Helper()
	return e.callWith(method, path, body, map[string]string{"Authorization": "Bearer " + token, "Version": testVersion})
}
