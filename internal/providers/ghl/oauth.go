package ghl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"

	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/oauth"
)

// OAuth connector config keys (besides client_id, client_secret and
// base_url, which is also the token endpoint's host).
const (
	// ConfigAuthorizeURL is the authorization page; default
	// DefaultAuthorizeURL (white-label apps use
	// https://marketplace.leadconnectorhq.com/v2/oauth/chooselocation).
	ConfigAuthorizeURL = "authorize_url"
	// ConfigRedirectURI is the gateway's callback exactly as registered with
	// the marketplace app, e.g. https://gw.example.com/connect/ghl/callback.
	ConfigRedirectURI = "redirect_uri"
	// ConfigScopes are the default scopes, separated by spaces; default
	// DefaultScopes.
	ConfigScopes = "scopes"
	// ConfigUserType is the token type asked for at the code exchange:
	// "Location" (default; sub-account apps) or "Company" (agency apps).
	ConfigUserType = "user_type"
)

// OAuth connection settings (non-secret), besides location_id. The tokens
// are the secret credentials access_token and refresh_token.
const (
	SettingCompanyID = "company_id"
	SettingUserID    = "user_id"
	// SettingUserType is "Location" or "Company" (an agency connection,
	// which serves only to mint location connections).
	SettingUserType = "user_type"
	// SettingScopes are the granted scopes, separated by spaces.
	SettingScopes = "scopes"
	// SettingAgencyConnectionID marks a location connection minted from an
	// agency connection: it has no refresh token of its own and is renewed
	// by minting again (POST /oauth/locationToken).
	SettingAgencyConnectionID = "agency_connection_id"
	// SettingTokenExpiresAt and SettingTokenRefreshLease are kept by the
	// token manager (internal/oauth).
	SettingTokenExpiresAt    = oauth.SettingExpiresAt
	SettingTokenRefreshLease = oauth.SettingRefreshLease
)

// User types of GHL tokens.
const (
	UserTypeLocation = "Location"
	UserTypeCompany  = "Company"
)

// DefaultAuthorizeURL is HighLevel's authorization page.
const DefaultAuthorizeURL = "https://marketplace.gohighlevel.com/v2/oauth/chooselocation"

// DefaultScopes are the scopes the gateway's unified CRM API needs.
const DefaultScopes = "objects/schema.readonly objects/schema.write objects/record.readonly objects/record.write " +
	"locations/customFields.readonly locations/customFields.write associations.readonly associations.write " +
	"associations/relation.readonly associations/relation.write"

// OAuthTokens hands out connections' OAuth access tokens, refreshing them
// through the RefreshFunc given; internal/oauth.Manager implements it.
type OAuthTokens interface {
	Token(ctx context.Context, ref oauth.Ref, refresh oauth.RefreshFunc, rejected string) (string, error)
}

// Compile-time checks: the connector serves the OAuth connect flow.
var (
	_ oauth.Provider       = (*Connector)(nil)
	_ oauth.LocationMinter = (*Connector)(nil)
)

// ---------------------------------------------------------------------------
// The connect flow (oauth.Provider)

// RedirectURI returns the config's redirect_uri.
func (c *Connector) RedirectURI(cfg oauth.Config) string { return cfg.Settings[ConfigRedirectURI] }

// AuthorizeURL returns the authorization page URL:
// authorize_url?client_id=&redirect_uri=&response_type=code&scope=&state=.
func (c *Connector) AuthorizeURL(cfg oauth.Config, state string, scopes []string) (string, error) {
	if err := oauthReady(cfg, true); err != nil {
		return "", err
	}
	conf := c.oauth2Config(cfg)
	if len(scopes) > 0 {
		conf.Scopes = scopes
	}
	return conf.AuthCodeURL(state), nil
}

// DefaultScopes returns the config's default scopes.
func (c *Connector) DefaultScopes(cfg oauth.Config) []string { return strings.Fields(scopesOf(cfg)) }

func scopesOf(cfg oauth.Config) string {
	if s := cfg.Settings[ConfigScopes]; s != "" {
		return s
	}
	return DefaultScopes
}

// oauthReady reports what a config lacks for OAuth, as a FailedPrecondition.
func oauthReady(cfg oauth.Config, redirect bool) error {
	var missing []string
	if cfg.Settings[ConfigClientID] == "" {
		missing = append(missing, ConfigClientID)
	}
	if cfg.Secrets[ConfigClientSecret] == "" {
		missing = append(missing, ConfigClientSecret)
	}
	if redirect && cfg.Settings[ConfigRedirectURI] == "" {
		missing = append(missing, ConfigRedirectURI)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: the ghl connector config has no %s", oauth.ErrNotConfigured, strings.Join(missing, ", "))
	}
	return nil
}

// Exchange trades an authorization code for tokens at POST
// {base_url}/oauth/token (grant_type=authorization_code).
func (c *Connector) Exchange(ctx context.Context, cfg oauth.Config, code string) (oauth.Install, error) {
	if err := oauthReady(cfg, true); err != nil {
		return oauth.Install{}, err
	}
	userType := cfg.Settings[ConfigUserType]
	if userType == "" {
		userType = UserTypeLocation
	}
	start := c.now()
	tok, err := c.oauth2Config(cfg).Exchange(c.tokenContext(ctx, nil), code, oauth2.SetAuthURLParam("user_type", userType))
	c.logToken(ctx, "authorization_code", start, err)
	if err != nil {
		return oauth.Install{}, tokenError(err)
	}
	tr, err := answerOf(tok)
	if err != nil {
		return oauth.Install{}, err
	}
	if tr.RefreshToken == "" {
		return oauth.Install{}, &crm.ProviderError{Provider: providerName, Status: http.StatusOK, Message: "the token answer has no refresh_token"}
	}
	settings := map[string]string{
		SettingCompanyID:      tr.CompanyID,
		SettingUserID:         tr.UserID,
		SettingScopes:         normScopes(tr.Scope),
		SettingTokenExpiresAt: oauth.FormatExpiry(tr.expiresAt(c.now())),
	}
	in := oauth.Install{
		Settings:    settings,
		Credentials: map[string]string{SettingAccessToken: tr.AccessToken, SettingRefreshToken: tr.RefreshToken},
	}
	switch {
	case strings.EqualFold(tr.UserType, UserTypeCompany) || (tr.UserType == "" && tr.LocationID == "" && tr.CompanyID != ""):
		if tr.CompanyID == "" {
			return oauth.Install{}, &crm.ProviderError{Provider: providerName, Status: http.StatusOK, Message: "the Company token answer has no companyId"}
		}
		settings[SettingUserType] = UserTypeCompany
		in.Identity = map[string]string{SettingUserType: UserTypeCompany, SettingCompanyID: tr.CompanyID}
		in.Account = "HighLevel agency " + tr.CompanyID
	default:
		if err := checkLocationID(tr.LocationID); err != nil {
			return oauth.Install{}, &crm.ProviderError{Provider: providerName, Status: http.StatusOK, Message: "the Location token answer has no valid locationId"}
		}
		settings[SettingUserType] = UserTypeLocation
		settings[SettingLocationID] = tr.LocationID
		in.Identity = map[string]string{SettingLocationID: tr.LocationID}
		in.Account = "HighLevel location " + tr.LocationID
	}
	dropEmpty(settings)
	return in, nil
}

// IsAgency reports whether connection settings are an agency (Company)
// connection's.
func (c *Connector) IsAgency(settings map[string]string) bool {
	return settings[SettingUserType] == UserTypeCompany && settings[SettingCompanyID] != ""
}

// MintLocation mints a location token from an agency (Company) connection
// with POST {base_url}/oauth/locationToken and returns the install of a
// location connection renewed through that agency connection.
func (c *Connector) MintLocation(ctx context.Context, cfg oauth.Config, agencyID string, agency oauth.Current, agencyToken, locationID string) (oauth.Install, error) {
	if !c.IsAgency(agency.Settings) {
		return oauth.Install{}, fmt.Errorf("%w: connection %q is not a GHL agency (Company) connection", oauth.ErrNotAgency, agencyID)
	}
	if err := checkLocationID(locationID); err != nil {
		return oauth.Install{}, crm.Invalid("location_id", "%v", err)
	}
	g, err := c.mint(ctx, cfg, agency.Settings[SettingCompanyID], locationID, agencyToken)
	if err != nil {
		return oauth.Install{}, err
	}
	settings := map[string]string{
		SettingLocationID:         locationID,
		SettingCompanyID:          agency.Settings[SettingCompanyID],
		SettingUserType:           UserTypeLocation,
		SettingAgencyConnectionID: agencyID,
		SettingTokenExpiresAt:     oauth.FormatExpiry(g.ExpiresAt),
	}
	for k, v := range g.Settings {
		settings[k] = v
	}
	dropEmpty(settings)
	return oauth.Install{
		Identity:    map[string]string{SettingLocationID: locationID},
		Settings:    settings,
		Credentials: map[string]string{SettingAccessToken: g.AccessToken},
		Account:     "HighLevel location " + locationID,
	}, nil
}

// mint calls /oauth/locationToken.
func (c *Connector) mint(ctx context.Context, cfg oauth.Config, companyID, locationID, agencyToken string) (oauth.Grant, error) {
	tr, err := c.locationToken(ctx, c.baseOf(cfg.Settings), agencyToken, url.Values{
		"companyId":  {companyID},
		"locationId": {locationID},
	})
	if err != nil {
		return oauth.Grant{}, err
	}
	if tr.LocationID != "" && tr.LocationID != locationID {
		return oauth.Grant{}, &crm.ProviderError{Provider: providerName, Status: http.StatusOK, Message: "the location token is for another location"}
	}
	return oauth.Grant{
		AccessToken: tr.AccessToken,
		ExpiresAt:   tr.expiresAt(c.now()),
		Settings:    map[string]string{SettingUserID: tr.UserID, SettingScopes: normScopes(tr.Scope)},
	}, nil
}

// Refresher returns the RefreshFunc of the connections of cfg in
// organisation orgID: the refresh_token grant, or for a location connection
// minted from an agency connection, minting again with the agency's token.
func (c *Connector) Refresher(cfg oauth.Config, orgID string) oauth.RefreshFunc {
	var refresh oauth.RefreshFunc
	refresh = func(ctx context.Context, cur oauth.Current) (oauth.Grant, error) {
		if parent := cur.Settings[SettingAgencyConnectionID]; parent != "" {
			if c.tokens == nil {
				return oauth.Grant{}, errors.New("ghl: no token manager to renew a minted location token")
			}
			ref := oauth.Ref{OrganisationID: orgID, ConnectionID: parent}
			tok, err := c.tokens.Token(ctx, ref, refresh, "")
			if err != nil {
				return oauth.Grant{}, fmt.Errorf("ghl: token of agency connection %s: %w", parent, err)
			}
			g, err := c.mint(ctx, cfg, cur.Settings[SettingCompanyID], cur.Settings[SettingLocationID], tok)
			var pe *crm.ProviderError
			if errors.As(err, &pe) && pe.Status == http.StatusUnauthorized {
				if tok, err = c.tokens.Token(ctx, ref, refresh, tok); err != nil {
					return oauth.Grant{}, fmt.Errorf("ghl: token of agency connection %s: %w", parent, err)
				}
				g, err = c.mint(ctx, cfg, cur.Settings[SettingCompanyID], cur.Settings[SettingLocationID], tok)
			}
			return g, err
		}
		rt := cur.Credentials[SettingRefreshToken]
		if rt == "" {
			return oauth.Grant{}, fmt.Errorf("%w: the connection has no refresh token", oauth.ErrInvalidGrant)
		}
		if err := oauthReady(cfg, false); err != nil {
			return oauth.Grant{}, err
		}
		userType := cur.Settings[SettingUserType]
		if userType == "" {
			userType = UserTypeLocation
		}
		extra := url.Values{"user_type": {userType}}
		if r := cfg.Settings[ConfigRedirectURI]; r != "" {
			extra.Set("redirect_uri", r)
		}
		start := c.now()
		tok, err := c.oauth2Config(cfg).TokenSource(c.tokenContext(ctx, extra), &oauth2.Token{RefreshToken: rt}).Token()
		c.logToken(ctx, "refresh_token", start, err)
		if err != nil {
			return oauth.Grant{}, tokenError(err)
		}
		tr, err := answerOf(tok)
		if err != nil {
			return oauth.Grant{}, err
		}
		if tr.RefreshToken == rt {
			tr.RefreshToken = "" // none in the answer: x/oauth2 hands back the one sent
		}
		return oauth.Grant{
			AccessToken:  tr.AccessToken,
			RefreshToken: tr.RefreshToken,
			ExpiresAt:    tr.expiresAt(c.now()),
			Settings:     map[string]string{SettingScopes: normScopes(tr.Scope)},
		}, nil
	}
	return refresh
}

// ---------------------------------------------------------------------------
// The token endpoint

// oauth2Config is the x/oauth2 view of a connector config. HighLevel's
// token endpoint, {base_url}/oauth/token, takes the client credentials in
// the form body (shared/ghl-openapi: GetAccessCodebodyDto), never in a
// Basic Authorization header: AuthStyleInParams, so x/oauth2 does not probe.
func (c *Connector) oauth2Config(cfg oauth.Config) *oauth2.Config {
	authorize := cfg.Settings[ConfigAuthorizeURL]
	if authorize == "" {
		authorize = DefaultAuthorizeURL
	}
	return &oauth2.Config{
		ClientID:     cfg.Settings[ConfigClientID],
		ClientSecret: cfg.Secrets[ConfigClientSecret],
		RedirectURL:  cfg.Settings[ConfigRedirectURI],
		Scopes:       strings.Fields(scopesOf(cfg)),
		Endpoint: oauth2.Endpoint{
			AuthURL:   authorize,
			TokenURL:  c.baseOf(cfg.Settings) + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// tokenContext hands x/oauth2 the connector's HTTP client (with the
// upstream transport, and in tests the fake's), through oauth2.HTTPClient.
// Non-empty extra are form parameters added to refresh_token requests.
func (c *Connector) tokenContext(ctx context.Context, extra url.Values) context.Context {
	hc := c.hc
	if len(extra) > 0 {
		cp := *c.hc
		base := cp.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		cp.Transport = refreshParams{base: base, extra: extra}
		hc = &cp
	}
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}

// refreshParams adds form parameters to the refresh_token requests that
// x/oauth2 sends: its refresh takes none of a caller's
// (golang/oauth2#521), and HighLevel's own SDK sends user_type with every
// refresh.
type refreshParams struct {
	base  http.RoundTripper
	extra url.Values
}

func (t refreshParams) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil {
		return t.base.RoundTrip(r)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTokenBody))
	_ = r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("ghl: reading the token request: %w", err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("ghl: the token request is no form: %w", err)
	}
	if form.Get("grant_type") == "refresh_token" {
		for k, v := range t.extra {
			if !form.Has(k) {
				form[k] = v
			}
		}
	}
	enc := form.Encode()
	out := r.Clone(r.Context())
	out.Body = io.NopCloser(strings.NewReader(enc))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(enc)), nil }
	out.ContentLength = int64(len(enc))
	return t.base.RoundTrip(out)
}

// tokenError maps a failure of x/oauth2 at /oauth/token: a refused grant
// wraps oauth.ErrInvalidGrant; any other non-2xx answer is a
// *crm.ProviderError with GHL's status and message; no answer is a
// *crm.ProviderError with the transport's cause. Nothing returned carries a
// token or the client secret (x/oauth2's errors hold the answer's body,
// which is not passed on).
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re) && re.Response != nil:
		pe := providerError(re.Response, re.Body)
		if grantRefused(re.Response.StatusCode, re.Body, "/oauth/token") {
			return fmt.Errorf("%w: %w", oauth.ErrInvalidGrant, pe)
		}
		return pe
	case isTransport(err):
		return &crm.ProviderError{Provider: providerName, Cause: err}
	default:
		// A 2xx answer x/oauth2 could not use (not JSON, no access_token).
		return &crm.ProviderError{Provider: providerName, Status: http.StatusOK, Message: "unusable token answer (" + err.Error() + ")"}
	}
}

// logToken logs a call of x/oauth2 at /oauth/token: the grant type, GHL's
// status (0: no answer) and the duration, never the error's text (x/oauth2
// puts the answer's body in it).
func (c *Connector) logToken(ctx context.Context, grant string, start time.Time, err error) {
	status := http.StatusOK
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re) && re.Response != nil:
		status = re.Response.StatusCode
	case err != nil && isTransport(err):
		status = 0
	}
	c.log.DebugContext(ctx, "ghl oauth request", "method", http.MethodPost, "path", "/oauth/token", "grant_type", grant, "status", status, "duration", c.now().Sub(start))
}

// isTransport tells an error of the HTTP round trip (or of the caller's
// context) from x/oauth2's complaints about an answer.
func isTransport(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// tokenResponse is GetAccessCodeSuccessfulResponseDto /
// GetLocationAccessTokenSuccessfulResponseDto.
type tokenResponse struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	ExpiresIn    json.Number     `json:"expires_in"`
	RefreshToken string          `json:"refresh_token"`
	Scope        string          `json:"scope"`
	UserType     string          `json:"userType"`
	LocationID   string          `json:"locationId"`
	CompanyID    string          `json:"companyId"`
	UserID       string          `json:"userId"`
	Approved     json.RawMessage `json:"approvedLocations"`
}

// answerOf reads GHL's fields of an x/oauth2 token (its Extra fields) and
// checks the tokens can go into an Authorization header.
func answerOf(tok *oauth2.Token) (tokenResponse, error) {
	str := func(k string) string {
		s, _ := tok.Extra(k).(string)
		return s
	}
	tr := tokenResponse{
		AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken,
		Scope: str("scope"), UserType: str("userType"), LocationID: str("locationId"), CompanyID: str("companyId"), UserID: str("userId"),
	}
	if tok.ExpiresIn > 0 {
		tr.ExpiresIn = json.Number(strconv.FormatInt(tok.ExpiresIn, 10))
	}
	return tr, tr.check(http.StatusOK)
}

// check rejects an answer without a usable access token.
func (t tokenResponse) check(status int) error {
	if t.AccessToken == "" {
		return &crm.ProviderError{Provider: providerName, Status: status, Message: "the token answer has no access_token"}
	}
	if err := checkToken(t.AccessToken); err != nil {
		return &crm.ProviderError{Provider: providerName, Status: status, Message: "the token answer's access_token is malformed"}
	}
	if err := checkToken(t.RefreshToken); err != nil {
		return &crm.ProviderError{Provider: providerName, Status: status, Message: "the token answer's refresh_token is malformed"}
	}
	return nil
}

// expiresAt turns expires_in into a time; an absent or bad value counts
// as GHL's documented day.
func (t tokenResponse) expiresAt(now time.Time) time.Time {
	secs, err := strconv.ParseFloat(t.ExpiresIn.String(), 64)
	if err != nil || secs <= 0 {
		secs = 86399
	}
	return now.Add(time.Duration(secs * float64(time.Second)))
}

const maxTokenBody = 64 << 10

// locationToken POSTs a form to /oauth/locationToken, which is no OAuth
// grant (x/oauth2 has nothing for it): the agency token as bearer, the
// Version header, companyId and locationId. A non-2xx answer is a
// *crm.ProviderError. Nothing returned or logged carries a token.
func (c *Connector) locationToken(ctx context.Context, base, bearer string, form url.Values) (tokenResponse, error) {
	const path = "/oauth/locationToken"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, fmt.Errorf("ghl: building POST %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Version", APIVersion)
	start := c.now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "ghl oauth request failed", "path", path, "error", err)
		return tokenResponse{}, &crm.ProviderError{Provider: providerName, Cause: err}
	}
	defer resp.Body.Close()
	body, err := readBounded(resp.Body, maxTokenBody)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxTokenBody))
	c.log.DebugContext(ctx, "ghl oauth request", "method", http.MethodPost, "path", path, "status", resp.StatusCode, "duration", c.now().Sub(start))
	if err != nil {
		return tokenResponse{}, &crm.ProviderError{Provider: providerName, Cause: fmt.Errorf("reading POST %s response: %w", path, err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return tokenResponse{}, providerError(resp, body)
	}
	var tr tokenResponse
	if err := decodeJSON(body, &tr); err != nil {
		return tokenResponse{}, &crm.ProviderError{Provider: providerName, Cause: fmt.Errorf("decoding POST %s response (HTTP %d): %w", path, resp.StatusCode, err)}
	}
	return tr, tr.check(resp.StatusCode)
}

// grantRefused tells a refused grant (OAuth invalid_grant: a spent, revoked
// or unknown refresh token or code) from other failures of the token
// endpoint, such as a wrong client secret (invalid_client), which must not
// be taken for the connection's fault.
func grantRefused(status int, body []byte, path string) bool {
	if path != "/oauth/token" || (status != http.StatusBadRequest && status != http.StatusUnauthorized) {
		return false
	}
	var eb struct {
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
		Message          json.RawMessage `json:"message"`
	}
	_ = json.Unmarshal(body, &eb)
	if strings.EqualFold(eb.Error, "invalid_grant") {
		return true
	}
	text := strings.ToLower(eb.ErrorDescription + " " + jsonText(eb.Message))
	if strings.Contains(text, "client") {
		return false
	}
	return strings.Contains(text, "invalid grant") || strings.Contains(text, "invalid_grant") ||
		strings.Contains(text, "refresh token") || strings.Contains(text, "authorization code")
}

func normScopes(s string) string { return strings.Join(strings.Fields(s), " ") }

func dropEmpty(m map[string]string) {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
}

// baseOf returns a config's API base URL, without trailing slash.
func (c *Connector) baseOf(settings map[string]string) string {
	base := settings[ConfigBaseURL]
	if base == "" {
		base = c.defaultBaseURL
	}
	return strings.TrimRight(base, "/")
}

// ---------------------------------------------------------------------------
// Token sources of OAuth connections

// RefreshingToken is a TokenSource that can replace a token the provider
// refused: the Client calls Refresh after a 401 and retries the call once.
type RefreshingToken interface {
	TokenSource
	// Refresh returns a token other than rejected, refreshing if need be.
	Refresh(ctx context.Context, rejected string) (string, error)
}

// managedToken is the TokenSource of an OAuth connection: its tokens come
// from the token manager, which refreshes them when due.
type managedToken struct {
	tokens  OAuthTokens
	ref     oauth.Ref
	refresh oauth.RefreshFunc
}

var _ RefreshingToken = (*managedToken)(nil)

func (t *managedToken) Token(ctx context.Context) (string, error) {
	return t.tokens.Token(ctx, t.ref, t.refresh, "")
}

func (t *managedToken) Refresh(ctx context.Context, rejected string) (string, error) {
	return t.tokens.Token(ctx, t.ref, t.refresh, rejected)
}

// agencyProvider is the provider of an agency (Company) connection: it
// works on no location, so it only checks that its token can be had; every
// data call answers FAILED_PRECONDITION pointing at location connections
// (CreateLocationConnection).
type agencyProvider struct {
	token        TokenSource
	connectionID string
}

var (
	_ crm.SchemaReader       = (*agencyProvider)(nil)
	_ crm.SchemaWriter       = (*agencyProvider)(nil)
	_ crm.RecordReader       = (*agencyProvider)(nil)
	_ crm.RecordWriter       = (*agencyProvider)(nil)
	_ crm.AssociationManager = (*agencyProvider)(nil)
)

func (a *agencyProvider) Check(ctx context.Context) error {
	_, err := a.token.Token(ctx)
	return err
}

func (a *agencyProvider) err() error {
	return apierr.New(codes.FailedPrecondition, "AGENCY_CONNECTION",
		"connection %q is a GHL agency (Company) connection, which works on no location: create a location connection from it with POST /v0/core/connections/%s/locations and use that", a.connectionID, a.connectionID)
}

func (a *agencyProvider) ListObjects(context.Context) ([]crm.Object, error) { return nil, a.err() }
func (a *agencyProvider) GetSchema(context.Context, string) (crm.Schema, error) {
	return crm.Schema{}, a.err()
}
func (a *agencyProvider) CreateObject(context.Context, crm.ObjectInput) (crm.Schema, error) {
	return crm.Schema{}, a.err()
}
func (a *agencyProvider) UpdateObject(context.Context, string, crm.ObjectPatch) (crm.Object, error) {
	return crm.Object{}, a.err()
}
func (a *agencyProvider) CreateProperty(context.Context, string, crm.Property) (crm.Property, error) {
	return crm.Property{}, a.err()
}
func (a *agencyProvider) UpdateProperty(context.Context, string, string, crm.PropertyPatch) (crm.Property, error) {
	return crm.Property{}, a.err()
}
func (a *agencyProvider) DeleteProperty(context.Context, string, string) error { return a.err() }
func (a *agencyProvider) GetRecord(context.Context, string, string) (crm.Record, error) {
	return crm.Record{}, a.err()
}
func (a *agencyProvider) ListRecords(context.Context, string, crm.RecordQuery) (crm.RecordPage, error) {
	return crm.RecordPage{}, a.err()
}
func (a *agencyProvider) SearchRecords(context.Context, string, crm.RecordQuery) (crm.RecordPage, error) {
	return crm.RecordPage{}, a.err()
}
func (a *agencyProvider) CreateRecord(context.Context, string, crm.RecordInput) (crm.Record, error) {
	return crm.Record{}, a.err()
}
func (a *agencyProvider) UpdateRecord(context.Context, string, string, crm.RecordInput) (crm.Record, error) {
	return crm.Record{}, a.err()
}
func (a *agencyProvider) DeleteRecord(context.Context, string, string) error { return a.err() }
func (a *agencyProvider) ListAssociationSchemas(context.Context) ([]crm.AssociationSchema, error) {
	return nil, a.err()
}
func (a *agencyProvider) CreateAssociationSchema(context.Context, crm.AssociationInput) (crm.AssociationSchema, []string, error) {
	return crm.AssociationSchema{}, nil, a.err()
}
func (a *agencyProvider) CreateRelation(context.Context, crm.Relation) (crm.Relation, error) {
	return crm.Relation{}, a.err()
}
func (a *agencyProvider) ListRelations(context.Context, string, string, int) (crm.RelationPage, error) {
	return crm.RelationPage{}, a.err()
}
func (a *agencyProvider) DeleteRelation(context.Context, string) error { return a.err() }
