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
// authorize_url?response_type=code&client_id=&redirect_uri=&scope=&state=.
func (c *Connector) AuthorizeURL(cfg oauth.Config, state string, scopes []string) (string, error) {
	if err := oauthReady(cfg, true); err != nil {
		return "", err
	}
	base := cfg.Settings[ConfigAuthorizeURL]
	if base == "" {
		base = DefaultAuthorizeURL
	}
	scope := strings.Join(scopes, " ")
	if scope == "" {
		scope = scopesOf(cfg)
	}
	q := url.Values{
		"response_type": {"code"},
		"client_id":     {cfg.Settings[ConfigClientID]},
		"redirect_uri":  {cfg.Settings[ConfigRedirectURI]},
		"scope":         {scope},
		"state":         {state},
	}
	return base + "?" + q.Encode(), nil
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
	tr, err := c.tokenCall(ctx, c.baseOf(cfg.Settings), "/oauth/token", "", url.Values{
		"client_id":     {cfg.Settings[ConfigClientID]},
		"client_secret": {cfg.Secrets[ConfigClientSecret]},
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"user_type":     {userType},
		"redirect_uri":  {cfg.Settings[ConfigRedirectURI]},
	})
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
	tr, err := c.tokenCall(ctx, c.baseOf(cfg.Settings), "/oauth/locationToken", agencyToken, url.Values{
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
		form := url.Values{
			"client_id":     {cfg.Settings[ConfigClientID]},
			"client_secret": {cfg.Secrets[ConfigClientSecret]},
			"grant_type":    {"refresh_token"},
			"refresh_token": {rt},
			"user_type":     {userType},
		}
		if r := cfg.Settings[ConfigRedirectURI]; r != "" {
			form.Set("redirect_uri", r)
		}
		tr, err := c.tokenCall(ctx, c.baseOf(cfg.Settings), "/oauth/token", "", form)
		if err != nil {
			return oauth.Grant{}, err
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

// tokenCall POSTs a form to an OAuth endpoint: /oauth/token (no bearer) or
// /oauth/locationToken (the agency token as bearer, and the Version
// header). Errors: a refused grant wraps oauth.ErrInvalidGrant; any other
// non-2xx answer is a *crm.ProviderError. Nothing returned or logged
// carries a token or the client secret.
func (c *Connector) tokenCall(ctx context.Context, base, path, bearer string, form url.Values) (tokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, fmt.Errorf("ghl: building POST %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Version", APIVersion)
	}
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
		pe := providerError(resp, body)
		if grantRefused(resp.StatusCode, body, path) {
			return tokenResponse{}, fmt.Errorf("%w: %w", oauth.ErrInvalidGrant, pe)
		}
		return tokenResponse{}, pe
	}
	var tr tokenResponse
	if err := decodeJSON(body, &tr); err != nil {
		return tokenResponse{}, &crm.ProviderError{Provider: providerName, Cause: fmt.Errorf("decoding POST %s response (HTTP %d): %w", path, resp.StatusCode, err)}
	}
	if tr.AccessToken == "" {
		return tokenResponse{}, &crm.ProviderError{Provider: providerName, Status: resp.StatusCode, Message: "the token answer has no access_token"}
	}
	if err := checkToken(tr.AccessToken); err != nil {
		return tokenResponse{}, &crm.ProviderError{Provider: providerName, Status: resp.StatusCode, Message: "the token answer's access_token is malformed"}
	}
	if err := checkToken(tr.RefreshToken); err != nil {
		return tokenResponse{}, &crm.ProviderError{Provider: providerName, Status: resp.StatusCode, Message: "the token answer's refresh_token is malformed"}
	}
	return tr, nil
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
