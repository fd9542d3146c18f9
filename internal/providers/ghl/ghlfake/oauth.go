package ghlfake

// The OAuth side of the fake: HighLevel's marketplace authorization page
// (for tests, an auto-approving GET /oauth/chooselocation), the token
// endpoint POST /oauth/token (authorization_code and refresh_token grants)
// and POST /oauth/locationToken (agency token -> location token), per
// apps/oauth.json and the facts in shared/ghl-openapi/README.md.
//
// Where the specs are silent, the fake does this:
//   - Refresh tokens rotate and are single-use (README: "a rotated refresh
//     token is spent"). A spent, revoked or unknown refresh token, and a
//     spent, expired or unknown code, answer 401 in the UnauthorizedDTO shape
//     with error "invalid_grant":
//     {"statusCode":401,"message":"Invalid grant: refresh token is invalid","error":"invalid_grant"}.
//     Every use of a spent refresh token is also recorded (RefreshTokenReuses):
//     a correct client never does it, and tests assert so.
//   - Wrong client credentials answer 401 with error "invalid_client".
//   - Access tokens live SetAccessTokenTTL (default 86399s, as the README
//     says); an expired or revoked one answers the usual 401 "Invalid token:
//     access token is invalid" on every API route. A refresh leaves the old
//     access token valid until it expires (HighLevel's are JWTs).
//   - Codes are single-use and live 10 minutes; the code exchange must send
//     the redirect_uri the authorization used, and a user_type matching the
//     install (Location or Company).
//   - The token endpoint takes only application/x-www-form-urlencoded
//     bodies (400 otherwise) and needs no Version header;
//     /oauth/locationToken needs the Version header and a Company token as
//     bearer, and answers no refresh token (its spec has none).
//   - The authorization page approves at once what SetInstall configured for
//     the client id and redirects (302) to redirect_uri?code=...&state=...,
//     passing state through verbatim; an unknown client, an unregistered
//     redirect_uri or a missing install answer 400.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OAuth route names for RequestCount.
const (
	RouteOAuthAuthorize     = "GET /oauth/chooselocation"
	RouteOAuthToken         = "POST /oauth/token"         //nolint:gosec // a route name, not a credential
	RouteOAuthLocationToken = "POST /oauth/locationToken" //nolint:gosec // a route name, not a credential
)

// DefaultAccessTokenTTL is how long access tokens live (expires_in 86399).
const DefaultAccessTokenTTL = 86399 * time.Second

const codeTTL = 10 * time.Minute

// OAuthApp is a marketplace app registered with the fake.
type OAuthApp struct {
	ClientID     string
	ClientSecret string
	// RedirectURIs are the registered redirect URIs (exact match).
	RedirectURIs []string
}

// Install is what the authorization page approves for a client (as if the
// user had picked it), or what IssueTokens grants directly.
type Install struct {
	// UserType is "Location" (default) or "Company".
	UserType   string
	LocationID string // Location installs
	CompanyID  string
	UserID     string
	// ApprovedLocations may get location tokens from a Company install;
	// empty means any location.
	ApprovedLocations []string
	// Deny makes the authorization page redirect with error=access_denied.
	Deny bool
}

// OAuthStats counts what the OAuth endpoints did.
type OAuthStats struct {
	Authorizations int // codes issued by the authorization page
	CodeExchanges  int // successful authorization_code grants
	Refreshes      int // successful refresh_token grants
	RefusedGrants  int // refresh_token and authorization_code grants answered invalid_grant
	LocationTokens int // successful /oauth/locationToken answers
}

type oauthGrant struct {
	client            string
	userType          string
	locationID        string
	companyID         string
	userID            string
	scope             string
	approvedLocations []string
}

type oauthCode struct {
	grant       oauthGrant
	redirectURI string
	expires     time.Time
	used        bool
}

type oauthAccess struct {
	grant   oauthGrant
	expires time.Time
	revoked bool
}

type oauthRefresh struct {
	grant   oauthGrant
	spent   bool
	revoked bool
}

type oauthState struct {
	apps     map[string]OAuthApp
	installs map[string]Install
	codes    map[string]*oauthCode
	access   map[string]*oauthAccess
	refresh  map[string]*oauthRefresh
	ttl      time.Duration
	latency  time.Duration
	stats    OAuthStats
	reuses   int
}

const (
	userTypeLocation = "Location"
	userTypeCompany  = "Company"
)

// oauthLocked returns the OAuth state; s.mu must be held.
func (s *Server) oauthLocked() *oauthState {
	if s.oauth == nil {
		s.oauth = &oauthState{
			apps: map[string]OAuthApp{}, installs: map[string]Install{}, codes: map[string]*oauthCode{},
			access: map[string]*oauthAccess{}, refresh: map[string]*oauthRefresh{}, ttl: DefaultAccessTokenTTL,
		}
	}
	return s.oauth
}

// oauthExpired reports whether token is an OAuth access token that expired
// or was revoked; s.mu must be held.
func (s *Server) oauthExpired(token string) bool {
	if s.oauth == nil {
		return false
	}
	a, ok := s.oauth.access[token]
	return ok && (a.revoked || !s.now().Before(a.expires))
}

// RegisterOAuthApp registers (or replaces) a marketplace app.
func (s *Server) RegisterOAuthApp(app OAuthApp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthLocked().apps[app.ClientID] = app
}

// SetInstall sets what the authorization page approves for clientID.
func (s *Server) SetInstall(clientID string, in Install) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthLocked().installs[clientID] = in
}

// SetAccessTokenTTL sets the lifetime of access tokens issued from now on.
func (s *Server) SetAccessTokenTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthLocked().ttl = d
}

// SetTokenLatency delays every answer of the OAuth endpoints by d (to
// widen race windows in tests).
func (s *Server) SetTokenLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthLocked().latency = d
}

// ExpireAccessTokens makes every OAuth access token issued so far expired.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, a := range s.oauthLocked().access {
		if a.expires.After(now) {
			a.expires = now
		}
	}
}

// RevokeInstall uninstalls the app of clientID from a location (or, with
// a company id, a company): its access tokens answer 401 and its refresh
// tokens invalid_grant.
func (s *Server) RevokeInstall(clientID, locationOrCompanyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.oauthLocked()
	hit := func(g oauthGrant) bool {
		return g.client == clientID && (g.locationID == locationOrCompanyID || g.companyID == locationOrCompanyID)
	}
	for _, a := range st.access {
		if hit(a.grant) {
			a.revoked = true
		}
	}
	for _, r := range st.refresh {
		if hit(r.grant) {
			r.revoked = true
		}
	}
}

// IssueTokens grants an install directly, as a code exchange would, and
// returns its access and refresh tokens.
func (s *Server) IssueTokens(clientID string, in Install) (accessToken, refreshToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.grantOf(clientID, in, "")
	at, rt, _ := s.issueLocked(g, true)
	return at, rt
}

// OAuthStats returns the OAuth counters.
func (s *Server) OAuthStats() OAuthStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oauthLocked().stats
}

// RefreshTokenReuses returns how many times a spent refresh token was
// presented again. A client that never loses a rotated token keeps it 0.
func (s *Server) RefreshTokenReuses() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oauthLocked().reuses
}

// IssuedSecrets returns every code, access token and refresh token the
// OAuth endpoints issued (for tests that search logs for secrets).
func (s *Server) IssuedSecrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.oauthLocked()
	out := make([]string, 0, len(st.codes)+len(st.access)+len(st.refresh))
	for k := range st.codes {
		out = append(out, k)
	}
	for k := range st.access {
		out = append(out, k)
	}
	for k := range st.refresh {
		out = append(out, k)
	}
	return out
}

// AccessTokenLocation returns the location an unexpired access token
// works on ("" if none): for tests.
func (s *Server) AccessTokenLocation(token string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oauthExpired(token) {
		return ""
	}
	return s.tokens[token]
}

func (s *Server) grantOf(clientID string, in Install, scope string) oauthGrant {
	g := oauthGrant{
		client: clientID, userType: in.UserType, locationID: in.LocationID, companyID: in.CompanyID,
		userID: in.UserID, scope: scope, approvedLocations: slices.Clone(in.ApprovedLocations),
	}
	if g.userType == "" {
		g.userType = userTypeLocation
	}
	if g.userID == "" {
		g.userID = s.ids.shortID()
	}
	if g.companyID == "" {
		g.companyID = "comp" + s.ids.shortID()[:16]
	}
	if g.scope == "" {
		g.scope = "objects/schema.readonly objects/record.readonly"
	}
	return g
}

func randToken(prefix string) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// issueLocked mints an access token (and a refresh token if withRefresh)
// for g; s.mu must be held.
func (s *Server) issueLocked(g oauthGrant, withRefresh bool) (at, rt string, ttl time.Duration) {
	st := s.oauthLocked()
	at = randToken("ghl-at-")
	st.access[at] = &oauthAccess{grant: g, expires: s.now().Add(st.ttl)}
	if g.userType == userTypeLocation {
		s.ensureLocation(g.locationID)
		s.tokens[at] = g.locationID
	}
	if withRefresh {
		rt = randToken("ghl-rt-")
		st.refresh[rt] = &oauthRefresh{grant: g}
	}
	return at, rt, st.ttl
}

// serveOAuth answers the /oauth/ routes.
func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + r.URL.Path
	s.mu.Lock()
	s.total++
	latency := s.oauthLocked().latency
	switch route {
	case RouteOAuthAuthorize, RouteOAuthToken, RouteOAuthLocationToken:
		s.counts[route]++
	}
	s.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	switch route {
	case RouteOAuthAuthorize:
		s.authorize(w, r)
	case RouteOAuthToken:
		s.tokenEndpoint(w, r)
	case RouteOAuthLocationToken:
		s.locationToken(w, r)
	default:
		writeJSON(w, http.StatusNotFound, notFoundRouteBody{Message: fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path), Error: "Not Found", StatusCode: http.StatusNotFound})
	}
}

// authorize is the marketplace's chooselocation page, approving at once.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	st := s.oauthLocked()
	app, known := st.apps[q.Get("client_id")]
	in, installed := st.installs[q.Get("client_id")]
	s.mu.Unlock()
	redirect := q.Get("redirect_uri")
	switch {
	case q.Get("response_type") != "code":
		writeJSON(w, http.StatusBadRequest, messageBody{http.StatusBadRequest, "response_type must be code"})
		return
	case !known:
		writeJSON(w, http.StatusBadRequest, messageBody{http.StatusBadRequest, "Invalid client_id"})
		return
	case !slices.Contains(app.RedirectURIs, redirect):
		writeJSON(w, http.StatusBadRequest, messageBody{http.StatusBadRequest, "redirect_uri is not registered for this app"})
		return
	case !installed:
		writeJSON(w, http.StatusBadRequest, messageBody{http.StatusBadRequest, "no location to choose (the test set no install)"})
		return
	}
	target, err := url.Parse(redirect)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, messageBody{http.StatusBadRequest, "redirect_uri is not a URL"})
		return
	}
	back := target.Query()
	if in.Deny {
		back.Set("error", "access_denied")
	} else {
		code := randToken("code-")
		s.mu.Lock()
		g := s.grantOf(app.ClientID, in, q.Get("scope"))
		st.codes[code] = &oauthCode{grant: g, redirectURI: redirect, expires: s.now().Add(codeTTL)}
		st.stats.Authorizations++
		s.mu.Unlock()
		back.Set("code", code)
	}
	if v, ok := q["state"]; ok {
		back["state"] = v
	}
	target.RawQuery = back.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound) //nolint:gosec // redirect_uri is one the app registered
}

// oauthError answers the token endpoint's errors.
func oauthError(w http.ResponseWriter, status int, message, code string) {
	writeJSON(w, status, errorBody{StatusCode: status, Message: message, Error: code})
}

func invalidGrant(w http.ResponseWriter, what string) {
	oauthError(w, http.StatusUnauthorized, "Invalid grant: "+what+" is invalid", "invalid_grant")
}

// readForm parses a form-encoded body.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		writeJSON(w, http.StatusBadRequest, messageBody{http.StatusBadRequest, "Content-Type must be application/x-www-form-urlencoded"})
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, messageBody{http.StatusBadRequest, "Could not parse the form body"})
		return nil, false
	}
	return r.PostForm, true
}

type tokenAnswer struct {
	AccessToken       string   `json:"access_token"`
	TokenType         string   `json:"token_type"`
	ExpiresIn         int64    `json:"expires_in"`
	RefreshToken      string   `json:"refresh_token,omitempty"`
	Scope             string   `json:"scope"`
	UserType          string   `json:"userType,omitempty"`
	LocationID        string   `json:"locationId,omitempty"`
	CompanyID         string   `json:"companyId,omitempty"`
	ApprovedLocations []string `json:"approvedLocations,omitempty"`
	UserID            string   `json:"userId"`
}

func answerOf(g oauthGrant, at, rt string, ttl time.Duration) tokenAnswer {
	a := tokenAnswer{
		AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(ttl / time.Second), RefreshToken: rt,
		Scope: g.scope, UserType: g.userType, CompanyID: g.companyID, UserID: g.userID,
	}
	if g.userType == userTypeCompany {
		a.ApprovedLocations = g.approvedLocations
	} else {
		a.LocationID = g.locationID
	}
	return a
}

// tokenEndpoint is POST /oauth/token.
func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	var missing []string
	for _, k := range []string{"client_id", "client_secret", "grant_type"} {
		if form.Get(k) == "" {
			missing = append(missing, k+" should not be empty")
		}
	}
	if len(missing) > 0 {
		rep := unprocessable(missing...)
		writeJSON(w, rep.status, rep.body)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.oauthLocked()
	app, known := st.apps[form.Get("client_id")]
	if !known || app.ClientSecret != form.Get("client_secret") {
		oauthError(w, http.StatusUnauthorized, "Invalid client credentials", "invalid_client")
		return
	}
	userType := form.Get("user_type")
	switch form.Get("grant_type") {
	case "authorization_code":
		c, found := st.codes[form.Get("code")]
		switch {
		case !found || c.used || !s.now().Before(c.expires) || c.grant.client != app.ClientID:
			st.stats.RefusedGrants++
			invalidGrant(w, "authorization code")
			return
		case form.Get("redirect_uri") != c.redirectURI:
			writeJSON(w, http.StatusBadRequest, messageBody{http.StatusBadRequest, "redirect_uri does not match the authorization request"})
			return
		case userType != "" && userType != c.grant.userType:
			writeJSON(w, http.StatusBadRequest, messageBody{http.StatusBadRequest, "user_type does not match the installation (" + c.grant.userType + ")"})
			return
		}
		c.used = true
		at, rt, ttl := s.issueLocked(c.grant, true)
		st.stats.CodeExchanges++
		writeJSON(w, http.StatusOK, answerOf(c.grant, at, rt, ttl))
	case "refresh_token":
		old, found := st.refresh[form.Get("refresh_token")]
		switch {
		case found && old.spent:
			st.reuses++
			st.stats.RefusedGrants++
			invalidGrant(w, "refresh token")
			return
		case !found || old.revoked || old.grant.client != app.ClientID:
			st.stats.RefusedGrants++
			invalidGrant(w, "refresh token")
			return
		case userType != "" && userType != old.grant.userType:
			writeJSON(w, http.StatusBadRequest, messageBody{http.StatusBadRequest, "user_type does not match the token (" + old.grant.userType + ")"})
			return
		}
		old.spent = true
		at, rt, ttl := s.issueLocked(old.grant, true)
		st.stats.Refreshes++
		writeJSON(w, http.StatusOK, answerOf(old.grant, at, rt, ttl))
	default:
		rep := unprocessable("grant_type must be one of the following values: authorization_code, refresh_token, client_credentials")
		writeJSON(w, rep.status, rep.body)
	}
}

// locationToken is POST /oauth/locationToken.
func (s *Server) locationToken(w http.ResponseWriter, r *http.Request) {
	if !acceptedVersions[r.Header.Get("Version")] {
		writeJSON(w, http.StatusUnauthorized, errorBody{StatusCode: http.StatusUnauthorized, Message: "version header was not found."})
		return
	}
	token, _ := bearerToken(r.Header.Get("Authorization"))
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.oauthLocked()
	a, found := st.access[token]
	if !found || s.oauthExpired(token) {
		writeJSON(w, http.StatusUnauthorized, errorBody{http.StatusUnauthorized, invalidTokenMessage, "Unauthorized"})
		return
	}
	if a.grant.userType != userTypeCompany {
		writeJSON(w, http.StatusUnauthorized, errorBody{http.StatusUnauthorized, "This route is not yet supported by the IAM Service.", "Unauthorized"})
		return
	}
	var missing []string
	for _, k := range []string{"companyId", "locationId"} {
		if strings.TrimSpace(form.Get(k)) == "" {
			missing = append(missing, k+" should not be empty")
		}
	}
	if len(missing) > 0 {
		rep := unprocessable(missing...)
		writeJSON(w, rep.status, rep.body)
		return
	}
	loc := form.Get("locationId")
	if form.Get("companyId") != a.grant.companyID {
		writeJSON(w, http.StatusBadRequest, messageBody{http.StatusBadRequest, "companyId does not match the token"})
		return
	}
	if len(a.grant.approvedLocations) > 0 && !slices.Contains(a.grant.approvedLocations, loc) {
		writeJSON(w, http.StatusBadRequest, messageBody{http.StatusBadRequest, "The app is not installed on this location"})
		return
	}
	g := a.grant
	g.userType, g.locationID, g.approvedLocations = userTypeLocation, loc, nil
	at, _, ttl := s.issueLocked(g, false)
	st.stats.LocationTokens++
	ans := answerOf(g, at, "", ttl)
	ans.UserType, ans.CompanyID = "", ""
	writeJSON(w, http.StatusOK, ans)
}
