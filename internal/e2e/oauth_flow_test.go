package e2e

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	"github.com/crmgate/crmgate/internal/oauth"
	"github.com/crmgate/crmgate/internal/providers/ghl"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/store"
)

// TestOAuthConnectFlow: the authorize RPC's URL, the callback storing the
// connection encrypted, the redirect back, data calls through it, and a
// re-install updating the same connection.
func TestOAuthConnectFlow(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	g := newGateway(t, gwOptions{})
	a := newOAuthApp(t, g, f, nil)
	loc := "loc" + randHex(14)
	f.SeedDemo(loc, 4)

	// The authorization URL.
	r := a.authorize(t, "cust-1", "https://app.example/connected?tab=crm")
	au, err := url.Parse(str(r.body["authorization_url"]))
	if err != nil {
		t.Fatal(err)
	}
	q := au.Query()
	if au.Scheme+"://"+au.Host+au.Path != f.URL+"/oauth/chooselocation" || q.Get("response_type") != "code" || q.Get("client_id") != a.clientID ||
		q.Get("redirect_uri") != a.redirect || q.Get("scope") != ghl.DefaultScopes || len(q.Get("state")) < 40 {
		t.Errorf("authorization_url %s", au)
	}
	if strings.Contains(q.Get("state"), "cust-1") || strings.Contains(q.Get("state"), "app.example") {
		t.Error("the state shows what it carries")
	}
	exp, err := time.Parse(time.RFC3339, str(r.body["expires_at"]))
	if err != nil || time.Until(exp) < 14*time.Minute || time.Until(exp) > 16*time.Minute {
		t.Errorf("expires_at %v (%v)", r.body["expires_at"], err)
	}
	if cu := str(r.body["connect_url"]); !strings.HasPrefix(cu, g.httpURL+"/connect/ghl?token=") {
		t.Errorf("connect_url %q", cu)
	}

	// The whole flow, back to the return URL.
	h := a.connect(t, "cust-1", "https://app.example/connected?tab=crm", ghlfake.Install{LocationID: loc, CompanyID: "comp1", UserID: "user1"})
	if h.status != http.StatusSeeOther || h.location.Host != "app.example" || h.location.Query().Get("tab") != "crm" {
		t.Fatalf("callback answered %d %v", h.status, h.location)
	}
	connID := h.location.Query().Get("connection_id")
	a.registerSecrets(t)
	c := a.connection(t, connID)
	settings := obj(c["settings"])
	if c["auth_type"] != "oauth" || c["status"] != "active" || c["customer_id"] != "cust-1" || c["connector_config_id"] != a.configID ||
		settings["location_id"] != loc || settings["company_id"] != "comp1" || settings["user_id"] != "user1" ||
		settings["user_type"] != "Location" || settings["scopes"] != ghl.DefaultScopes || str(settings["token_expires_at"]) == "" {
		t.Errorf("connection %v", c)
	}
	if keys := arr(c["secret_keys"]); len(keys) != 2 || keys[0] != "access_token" || keys[1] != "refresh_token" {
		t.Errorf("secret_keys %v", keys)
	}
	// Stored encrypted: the raw row holds no token.
	if got := a.listPets(t, g, connID); got.status != http.StatusOK || len(arr(got.body["items"])) != 3 {
		t.Fatalf("list through the OAuth connection: %d %s", got.status, got.raw)
	}

	// Re-installing the same location for the same customer updates it.
	again := a.connectOK(t, "cust-1", "https://app.example/connected", ghlfake.Install{LocationID: loc, CompanyID: "comp1", UserID: "user2"})
	if again != connID {
		t.Errorf("re-install made connection %s, want %s", again, connID)
	}
	if s := obj(a.connection(t, connID)["settings"]); s["user_id"] != "user2" {
		t.Errorf("re-install did not update the settings: %v", s)
	}
	if got := a.listPets(t, g, connID); got.status != http.StatusOK {
		t.Errorf("after re-install: %d %s", got.status, got.raw)
	}
	// Another customer, same location: another connection.
	other := a.connectOK(t, "cust-2", "", ghlfake.Install{LocationID: loc})
	if other == connID {
		t.Error("another customer got the same connection")
	}
	list := g.do(t, "GET", coreBase+"/connections", hdr(a.key, ""), nil)
	if n := len(arr(list.body["items"])); n != 2 {
		t.Errorf("%d connections, want 2: %s", n, list.raw)
	}
	if s := f.OAuthStats(); s.CodeExchanges != 3 || s.Refreshes != 0 {
		t.Errorf("fake stats %+v", s)
	}
}

// TestOAuthStateAttacks: a tampered, forged, expired, replayed or missing
// state gets 400 and stores nothing; the code of a refused state is never
// exchanged.
func TestOAuthStateAttacks(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	g := newGateway(t, gwOptions{})
	a := newOAuthApp(t, g, f, nil)
	loc := "loc" + randHex(14)
	f.SetInstall(a.clientID, ghlfake.Install{LocationID: loc})

	// A real callback URL, not yet used.
	authURL := str(a.authorize(t, "cust-1", "https://app.example/back").body["authorization_url"])
	back := a.browserGet(t, authURL).location
	code, state := back.Query().Get("code"), back.Query().Get("state")
	g.addSecret(code, "code")
	g.addSecret(state, "state")
	callback := func(state string) hop {
		u := a.redirect + "?" + url.Values{"code": {code}, "state": {state}}.Encode()
		return a.browserGet(t, u)
	}
	wantRefused := func(name string, h hop, reason string) {
		t.Helper()
		if h.status != http.StatusBadRequest || h.location != nil || !strings.Contains(h.body, `data-code="`+reason+`"`) {
			t.Errorf("%s: %d %v %.300s, want a 400 page (%s)", name, h.status, h.location, h.body, reason)
		}
	}

	// Tampered: any flipped character.
	for _, i := range []int{0, 5, len(state) / 2, len(state) - 1} {
		b := []byte(state)
		b[i] ^= 1
		wantRefused("tampered", callback(string(b)), "invalid")
	}
	wantRefused("missing", a.browserGet(t, a.redirect+"?code="+url.QueryEscape(code)), "invalid")
	wantRefused("another connector's callback", a.browserGet(t, g.httpURL+"/connect/hubspot/callback?"+url.Values{"code": {code}, "state": {state}}.Encode()), "invalid")
	// Forged: sealed by another gateway (another key), for this org.
	forger := oauth.NewSealer(mustKeyring(t, secrets.GenerateKey()))
	forged, _ := forger.Seal(oauth.State{Purpose: oauth.PurposeAuthorize, OrganisationID: "x", CustomerID: "evil",
		ConnectorConfigID: a.configID, ConnectorName: "ghl", ExpiresAt: time.Now().Add(time.Hour).Unix()})
	wantRefused("forged", callback(forged), "invalid")
	// A connect page token is not a state.
	page := str(a.authorize(t, "cust-1", "").body["connect_url"])
	pu, _ := url.Parse(page)
	g.addSecret(pu.Query().Get("token"), "connect page token")
	wantRefused("connect page token", callback(pu.Query().Get("token")), "invalid")
	// Expired: sealed with the gateway's own keyring, in the past.
	real := oauth.NewSealer(mustKeyring(t, g.cfg.EncryptionKey))
	expired, _ := real.Seal(oauth.State{Purpose: oauth.PurposeAuthorize, OrganisationID: "x", CustomerID: "c",
		ConnectorConfigID: a.configID, ConnectorName: "ghl", ReturnURL: "https://app.example/back", ExpiresAt: time.Now().Add(-time.Second).Unix()})
	wantRefused("expired", callback(expired), "expired")
	if s := f.OAuthStats(); s.CodeExchanges != 0 || s.RefusedGrants != 0 {
		t.Errorf("a refused state reached the token endpoint: %+v", s)
	}

	// The genuine state works once; its replay is refused.
	h := callback(state)
	if h.status != http.StatusSeeOther || h.location.Query().Get("connection_id") == "" {
		t.Fatalf("genuine callback: %d %v", h.status, h.location)
	}
	a.registerSecrets(t)
	wantRefused("replayed", callback(state), "replayed")
	if n := len(arr(g.do(t, "GET", coreBase+"/connections", hdr(a.key, ""), nil).body["items"])); n != 1 {
		t.Errorf("%d connections stored, want 1", n)
	}
	if s := f.OAuthStats(); s.CodeExchanges != 1 {
		t.Errorf("fake stats %+v", s)
	}

	// The user declines: back to the return URL with error=.
	f.SetInstall(a.clientID, ghlfake.Install{LocationID: loc, Deny: true})
	authURL = str(a.authorize(t, "cust-9", "https://app.example/back").body["authorization_url"])
	back = a.browserGet(t, authURL).location
	g.addSecret(back.Query().Get("state"), "state")
	h = a.browserGet(t, back.String())
	if h.status != http.StatusSeeOther || h.location.Query().Get("error") != "access_denied" || h.location.Query().Get("connection_id") != "" {
		t.Errorf("declined: %d %v", h.status, h.location)
	}
}

func mustKeyring(t testing.TB, spec string) *secrets.Keyring {
	t.Helper()
	k, err := secrets.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestOAuthAuthorizeValidation: the authorize RPC's errors, both
// transports.
func TestOAuthAuthorizeValidation(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	g := newGateway(t, gwOptions{})
	a := newOAuthApp(t, g, f, nil)
	pit := g.newTenant(t, f, "org-pit-"+randHex(4), -1) // a config without OAuth settings
	forEachTransport(t, func(t *testing.T, tr string) {
		c := g.client(t, tr, a.key, "")
		req := func(mod func(*corev1.CreateAuthorizationUrlRequest)) *corev1.CreateAuthorizationUrlRequest {
			r := &corev1.CreateAuthorizationUrlRequest{ConnectorName: "ghl", ConnectorConfigId: a.configID, CustomerId: "c1"}
			mod(r)
			return r
		}
		for _, tc := range []struct {
			name  string
			req   *corev1.CreateAuthorizationUrlRequest
			code  codes.Code
			field string
		}{
			{"no customer", req(func(r *corev1.CreateAuthorizationUrlRequest) { r.CustomerId = "" }), codes.InvalidArgument, "customer_id"},
			{"bad return_url", req(func(r *corev1.CreateAuthorizationUrlRequest) { r.ReturnUrl = "javascript:alert(1)" }), codes.InvalidArgument, "return_url"},
			{"bad scope", req(func(r *corev1.CreateAuthorizationUrlRequest) { r.Scopes = []string{"a b"} }), codes.InvalidArgument, "scopes"},
			{"unknown connector", req(func(r *corev1.CreateAuthorizationUrlRequest) { r.ConnectorName = "hubspot" }), codes.InvalidArgument, "connector_name"},
			{"unknown config", req(func(r *corev1.CreateAuthorizationUrlRequest) { r.ConnectorConfigId = "ccfg_ghl_nosuch" }), codes.NotFound, ""},
		} {
			err := wantCode(t, second(c.CreateAuthorizationUrl(tc.req)), tc.code)
			if tc.field != "" && !err.hasField(tc.field) {
				t.Errorf("%s: %v, want a violation on %s", tc.name, err, tc.field)
			}
		}
		// A config without client_id/redirect_uri: FAILED_PRECONDITION naming what is missing.
		err := wantCode(t, second(g.client(t, tr, pit.key, "").CreateAuthorizationUrl(&corev1.CreateAuthorizationUrlRequest{
			ConnectorName: "ghl", ConnectorConfigId: pit.configID, CustomerId: "c1"})), codes.FailedPrecondition)
		if !strings.Contains(err.message, "redirect_uri") {
			t.Errorf("incomplete config: %v", err)
		}
		ok := must(c.CreateAuthorizationUrl(req(func(r *corev1.CreateAuthorizationUrlRequest) {
			r.Scopes = []string{"objects/record.readonly"}
		})))(t)
		if u, _ := url.Parse(ok.GetAuthorizationUrl()); u.Query().Get("scope") != "objects/record.readonly" {
			t.Errorf("scopes: %s", ok.GetAuthorizationUrl())
		}
	})
}

// TestOAuthNeedsReauth: an uninstalled app: the next refresh is refused,
// the connection shows needs_reauth, calls answer a 4xx naming it, GHL is
// not asked again; PIT connections keep working beside it; re-connecting
// re-activates the same connection.
func TestOAuthNeedsReauth(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	g := newGateway(t, gwOptions{})
	a := newOAuthApp(t, g, f, nil)
	pit := g.newTenant(t, f, a.org, 2) // same organisation, a PIT connection
	loc := "loc" + randHex(14)
	f.SeedDemo(loc, 2)
	connID := a.connectOK(t, "cust-1", "", ghlfake.Install{LocationID: loc})

	f.RevokeInstall(a.clientID, loc)
	for range 3 {
		r := a.listPets(t, g, connID)
		if r.status != http.StatusBadRequest || r.body["code"] != "FAILED_PRECONDITION" || !strings.Contains(str(r.body["message"]), connID) ||
			!strings.Contains(str(r.body["message"]), "re-authorisation") {
			t.Fatalf("after uninstall: %d %s", r.status, r.raw)
		}
	}
	c := a.connection(t, connID)
	if c["status"] != "needs_reauth" || !strings.Contains(str(c["status_message"]), "invalid_grant") {
		t.Errorf("connection %v", c)
	}
	if s := f.OAuthStats(); s.RefusedGrants != 1 || s.Refreshes != 0 {
		t.Errorf("fake stats %+v: want one refused refresh, then none", s)
	}
	// PIT connections are untouched; PATCH rotates a PIT.
	if r := g.do(t, "GET", crmBase+"/custom_objects/pet?page_size=1", hdr(pit.key, pit.connID), nil); r.status != http.StatusOK {
		t.Errorf("PIT connection: %d %s", r.status, r.raw)
	}
	newPIT := "pit-" + randHex(32)
	g.addSecret(newPIT, "rotated PIT")
	f.AddToken(newPIT, pit.location)
	f.RevokeToken(pit.token)
	if r := g.do(t, "PATCH", coreBase+"/connections/"+pit.connID, hdr(pit.key, ""), map[string]any{"settings": map[string]any{"private_integration_token": newPIT}}); r.status != http.StatusOK {
		t.Fatalf("rotate PIT: %d %s", r.status, r.raw)
	}
	if r := g.do(t, "GET", crmBase+"/custom_objects/pet?page_size=1", hdr(pit.key, pit.connID), nil); r.status != http.StatusOK {
		t.Errorf("PIT connection after rotation: %d %s", r.status, r.raw)
	}

	// The owner connects again: same connection, active, working.
	if again := a.connectOK(t, "cust-1", "", ghlfake.Install{LocationID: loc}); again != connID {
		t.Errorf("reconnect made %s, want %s", again, connID)
	}
	if c := a.connection(t, connID); c["status"] != "active" || c["status_message"] != "" {
		t.Errorf("after reconnect: %v", c)
	}
	if r := a.listPets(t, g, connID); r.status != http.StatusOK {
		t.Errorf("after reconnect: %d %s", r.status, r.raw)
	}
}

// TestOAuthRefreshOn401: GHL refuses a token the gateway believed fresh:
// one refresh, the call retried once, the caller sees success; the rotated
// refresh token is stored.
func TestOAuthRefreshOn401(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	g := newGateway(t, gwOptions{})
	a := newOAuthApp(t, g, f, nil)
	loc := "loc" + randHex(14)
	f.SeedDemo(loc, 2)
	connID := a.connectOK(t, "cust-1", "", ghlfake.Install{LocationID: loc})
	before, err := g.app.Store.GetConnection(context.Background(), a.orgID(t), connID)
	if err != nil {
		t.Fatal(err)
	}
	f.ExpireAccessTokens()
	for range 3 {
		if r := a.listPets(t, g, connID); r.status != http.StatusOK {
			t.Fatalf("after expiry: %d %s", r.status, r.raw)
		}
	}
	if s := f.OAuthStats(); s.Refreshes != 1 {
		t.Errorf("%d refreshes, want 1", s.Refreshes)
	}
	after, _ := g.app.Store.GetConnection(context.Background(), before.OrganisationID, connID)
	if after.Credentials["refresh_token"] == before.Credentials["refresh_token"] || after.Credentials["access_token"] == before.Credentials["access_token"] {
		t.Error("the rotated tokens were not stored")
	}
	if _, leased := after.Settings[oauth.SettingRefreshLease]; leased || after.Status != store.ConnectionActive {
		t.Errorf("after refresh: %+v", after.Settings)
	}
	a.registerSecrets(t)
	if n := f.RefreshTokenReuses(); n != 0 {
		t.Errorf("%d refresh token reuses", n)
	}
}

// orgID returns the id of the app's organisation.
func (a *oauthApp) orgID(t testing.TB) string {
	t.Helper()
	o, err := a.g.app.Store.EnsureOrganisation(context.Background(), a.org)
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// TestOAuthAgency: an agency (Company) install, then location connections
// minted from it (both transports), renewed by minting again.
func TestOAuthAgency(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	g := newGateway(t, gwOptions{})
	a := newOAuthApp(t, g, f, map[string]any{"user_type": "Company"})
	locs := []string{"loc" + randHex(14), "loc" + randHex(14)}
	for _, l := range locs {
		f.SeedDemo(l, 2)
	}
	agencyID := a.connectOK(t, "agency-cust", "", ghlfake.Install{UserType: "Company", CompanyID: "compX", ApprovedLocations: locs})
	c := a.connection(t, agencyID)
	if s := obj(c["settings"]); s["user_type"] != "Company" || s["company_id"] != "compX" || s["location_id"] != nil {
		t.Fatalf("agency connection %v", c)
	}
	// The agency connection itself works on no location: a clear 400 naming what to do.
	if r := a.listPets(t, g, agencyID); r.status != http.StatusBadRequest || r.body["code"] != "FAILED_PRECONDITION" || !strings.Contains(str(r.body["message"]), "/locations") {
		t.Errorf("data call on the agency connection: %d %s", r.status, r.raw)
	}
	if r := g.do(t, "POST", coreBase+"/connections/"+agencyID+"/check", hdr(a.key, ""), map[string]any{}); r.status != http.StatusOK || r.body["ok"] != true {
		t.Errorf("check agency: %d %s", r.status, r.raw)
	}
	t.Run("mint", func(t *testing.T) { // returns when both transports are done
		forEachTransport(t, func(t *testing.T, tr string) {
			testMintLocation(t, g, a, agencyID, map[string]string{REST: locs[0], GRPC: locs[1]}[tr], tr)
		})
	})
	// Minted tokens expire: renewed by minting again with the agency token.
	minted := f.OAuthStats().LocationTokens
	f.ExpireAccessTokens()
	list := g.do(t, "GET", coreBase+"/connections?customer_id=agency-cust", hdr(a.key, ""), nil)
	for _, it := range arr(list.body["items"]) {
		id := str(obj(it)["id"])
		if id == agencyID {
			continue
		}
		if r := a.listPets(t, g, id); r.status != http.StatusOK {
			t.Errorf("minted connection after expiry: %d %s", r.status, r.raw)
		}
	}
	a.registerSecrets(t)
	if s := f.OAuthStats(); s.LocationTokens != minted+2 || s.Refreshes != 1 || f.RefreshTokenReuses() != 0 {
		t.Errorf("fake stats %+v (minted before %d): want each location re-minted once, the agency token refreshed once", s, minted)
	}
}

func testMintLocation(t *testing.T, g *gateway, a *oauthApp, agencyID, loc, tr string) {
	cl := g.client(t, tr, a.key, "")
	got := must(cl.CreateLocationConnection(&corev1.CreateLocationConnectionRequest{Id: agencyID, LocationId: loc}))(t).GetConnection()
	s := settingStrings(got)
	if got.GetAuthType() != "oauth" || got.GetCustomerId() != "agency-cust" || s["location_id"] != loc || s["agency_connection_id"] != agencyID ||
		!slices.Equal(got.GetSecretKeys(), []string{"access_token"}) {
		t.Fatalf("minted %v", got)
	}
	a.registerSecrets(t)
	if r := a.listPets(t, g, got.GetId()); r.status != http.StatusOK {
		t.Errorf("minted connection: %d %s", r.status, r.raw)
	}
	again := must(cl.CreateLocationConnection(&corev1.CreateLocationConnectionRequest{Id: agencyID, LocationId: loc}))(t).GetConnection()
	if again.GetId() != got.GetId() {
		t.Errorf("minting again made %s, want %s", again.GetId(), got.GetId())
	}
	// Not approved, not an agency connection, unknown: 4xx.
	wantCode(t, second(cl.CreateLocationConnection(&corev1.CreateLocationConnectionRequest{Id: agencyID, LocationId: "locNotApproved"})), codes.InvalidArgument)
	wantCode(t, second(cl.CreateLocationConnection(&corev1.CreateLocationConnectionRequest{Id: got.GetId(), LocationId: loc})), codes.FailedPrecondition)
	wantCode(t, second(cl.CreateLocationConnection(&corev1.CreateLocationConnectionRequest{Id: "conn_ghl_nosuch", LocationId: loc})), codes.NotFound)
}

// TestOAuthSecretsNotLogged: a connect flow, a refresh after a 401 and a
// refused refresh, with the gateway logging at debug level: its log holds
// none of the client secret, codes, states, access or refresh tokens (the
// harness's check on every e2e gateway, made explicit here), yet tells what
// happened.
func TestOAuthSecretsNotLogged(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	g := newGateway(t, gwOptions{})
	a := newOAuthApp(t, g, f, nil)
	loc := "loc" + randHex(14)
	f.SeedDemo(loc, 1)
	connID := a.connectOK(t, "cust-1", "https://app.example/back", ghlfake.Install{LocationID: loc})
	f.ExpireAccessTokens()
	if r := a.listPets(t, g, connID); r.status != http.StatusOK {
		t.Fatalf("refresh on 401: %d %s", r.status, r.raw)
	}
	f.RevokeInstall(a.clientID, loc)
	f.ExpireAccessTokens()
	if r := a.listPets(t, g, connID); r.status != http.StatusBadRequest {
		t.Fatalf("after uninstall: %d %s", r.status, r.raw)
	}
	a.registerSecrets(t)
	secrets := append(f.IssuedSecrets(), a.secret, a.key)
	if len(secrets) < 7 {
		t.Fatalf("only %d secrets issued", len(secrets))
	}
	logs := g.logs.String()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("SECRET LEAK: the log contains a secret of length %d starting %.8q", len(s), s)
		}
	}
	for _, want := range []string{"oauth: connection installed", "oauth: access token refreshed", "oauth: connection needs re-authorisation", connID} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not tell %q", want)
		}
	}
}
