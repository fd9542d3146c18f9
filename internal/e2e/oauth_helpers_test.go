package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
)

// oauthApp is an organisation with a GHL marketplace app registered at the
// fake and a ghl connector config for it, whose redirect URI is g's
// callback.
type oauthApp struct {
	g        *gateway
	f        *fakeGHL
	org      string
	key      string
	clientID string
	secret   string
	configID string
	redirect string
}

// newOAuthApp registers an app at the fake and creates its connector
// config through REST; extra adds config keys (e.g. user_type).
func newOAuthApp(t testing.TB, g *gateway, f *fakeGHL, extra map[string]any) *oauthApp {
	t.Helper()
	a := &oauthApp{
		g: g, f: f, org: "org-" + randHex(6), clientID: "client-" + randHex(8), secret: "csecret-" + randHex(24),
		redirect: g.httpURL + "/connect/ghl/callback",
	}
	a.key = g.apiKey(t, a.org)
	g.addSecret(a.secret, "client_secret")
	f.RegisterOAuthApp(ghlfake.OAuthApp{ClientID: a.clientID, ClientSecret: a.secret, RedirectURIs: []string{a.redirect}})
	cfg := map[string]any{
		"base_url": f.URL, "client_id": a.clientID, "client_secret": a.secret,
		"redirect_uri": a.redirect, "authorize_url": f.URL + "/oauth/chooselocation",
	}
	for k, v := range extra {
		cfg[k] = v
	}
	r := g.do(t, "POST", coreBase+"/connector_configs", hdr(a.key, ""), map[string]any{"connector_name": "ghl", "config": cfg})
	if r.status != http.StatusOK {
		t.Fatalf("create oauth connector config: %d %s", r.status, r.raw)
	}
	a.configID = str(r.body["id"])
	return a
}

// authorize calls POST /v0/core/connect/ghl/authorize and returns the answer.
func (a *oauthApp) authorize(t testing.TB, customer, returnURL string) response {
	t.Helper()
	body := map[string]any{"connector_config_id": a.configID, "customer_id": customer}
	if returnURL != "" {
		body["return_url"] = returnURL
	}
	r := a.g.do(t, "POST", coreBase+"/connect/ghl/authorize", hdr(a.key, ""), body)
	if r.status != http.StatusOK {
		t.Fatalf("authorize: %d %s", r.status, r.raw)
	}
	return r
}

// hop is one answer seen by the browser.
type hop struct {
	status   int
	location *url.URL
	body     string
}

// browserGet is one GET as a browser sends it, without following
// redirects. The gateway's answers are checked for secrets.
func (a *oauthApp) browserGet(t testing.TB, u string) hop {
	t.Helper()
	hc := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	h := hop{status: resp.StatusCode, body: string(b)}
	if l := resp.Header.Get("Location"); l != "" {
		h.location, err = resp.Request.URL.Parse(l)
		if err != nil {
			t.Fatalf("bad Location %q", l)
		}
	}
	if strings.HasPrefix(u, a.g.httpURL) {
		if leaks := a.g.leaks(b); len(leaks) > 0 {
			t.Errorf("SECRET LEAK: GET %s answered a page containing %v", u, leaks)
		}
	}
	return h
}

// connect runs a whole connect flow for customer: the authorization URL,
// the fake's authorization page (approving in), the gateway's callback. It
// returns the callback's answer.
func (a *oauthApp) connect(t testing.TB, customer, returnURL string, in ghlfake.Install) hop {
	t.Helper()
	a.f.SetInstall(a.clientID, in)
	authURL := str(a.authorize(t, customer, returnURL).body["authorization_url"])
	back := a.browserGet(t, authURL)
	if back.status != http.StatusFound || back.location == nil || !strings.HasPrefix(back.location.String(), a.redirect+"?") {
		t.Fatalf("the fake's authorization page answered %d, Location %v", back.status, back.location)
	}
	a.g.addSecret(back.location.Query().Get("code"), "authorization code")
	a.g.addSecret(back.location.Query().Get("state"), "state")
	return a.browserGet(t, back.location.String())
}

var connIDRe = regexp.MustCompile(`id="connection-id">([^<]+)<`)

// connectOK runs connect and returns the new connection's id (from the
// return URL's connection_id, or the result page).
func (a *oauthApp) connectOK(t testing.TB, customer, returnURL string, in ghlfake.Install) string {
	t.Helper()
	h := a.connect(t, customer, returnURL, in)
	if returnURL != "" {
		if h.status != http.StatusSeeOther || h.location == nil || h.location.Query().Get("connection_id") == "" {
			t.Fatalf("callback: %d %v %.300s", h.status, h.location, h.body)
		}
		a.registerSecrets(t)
		return h.location.Query().Get("connection_id")
	}
	m := connIDRe.FindStringSubmatch(h.body)
	if h.status != http.StatusOK || m == nil {
		t.Fatalf("callback: %d %.500s", h.status, h.body)
	}
	a.registerSecrets(t)
	return m[1]
}

// registerSecrets makes every token the fake issued a secret the gateway
// must never log or answer.
func (a *oauthApp) registerSecrets(t testing.TB) {
	t.Helper()
	for _, s := range a.f.IssuedSecrets() {
		a.g.addSecret(s, "GHL OAuth token or code")
	}
}

// connection reads a connection through REST.
func (a *oauthApp) connection(t testing.TB, id string) map[string]any {
	t.Helper()
	r := a.g.do(t, "GET", coreBase+"/connections/"+id, hdr(a.key, ""), nil)
	if r.status != http.StatusOK {
		t.Fatalf("get connection %s: %d %s", id, r.status, r.raw)
	}
	return r.body
}

// listPets lists pet records through a connection and returns the answer.
func (a *oauthApp) listPets(t testing.TB, g *gateway, connID string) response {
	t.Helper()
	return g.do(t, "GET", crmBase+"/custom_objects/pet?page_size=3", hdr(a.key, connID), nil)
}
