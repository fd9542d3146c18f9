package ghl

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/oauth"
	"github.com/crmgate/crmgate/internal/upstream"
)

// Connector config keys.
const (
	ConfigClientID     = "client_id"
	ConfigClientSecret = "client_secret" // secret
	ConfigBaseURL      = "base_url"
)

// Connection setting keys.
const (
	SettingLocationID = "location_id"
	// SettingPrivateIntegrationToken is a PIT (secret; auth type "pit").
	SettingPrivateIntegrationToken = "private_integration_token"
	// SettingAccessToken and SettingRefreshToken are a location's OAuth
	// tokens (secret; auth type "oauth").
	SettingAccessToken  = "access_token"
	SettingRefreshToken = "refresh_token"
)

// Auth types reported by CheckConnection.
const (
	AuthPIT   = "pit"
	AuthOAuth = "oauth"
)

var (
	configKeys = map[string]bool{
		ConfigClientID: false, ConfigClientSecret: true, ConfigBaseURL: false,
		ConfigAuthorizeURL: false, ConfigRedirectURI: false, ConfigScopes: false, ConfigUserType: false,
	}
	connKeys = map[string]bool{
		SettingLocationID: false, SettingPrivateIntegrationToken: true,
		SettingAccessToken: true, SettingRefreshToken: true,
		SettingCompanyID: false, SettingUserID: false, SettingUserType: false, SettingScopes: false,
		SettingAgencyConnectionID: false, SettingTokenExpiresAt: false, SettingTokenRefreshLease: false,
	}
)

// ConnectorOptions configures a Connector.
type ConnectorOptions struct {
	// DefaultBaseURL is the base_url of configs that give none; empty means
	// DefaultBaseURL (HighLevel's API host).
	DefaultBaseURL string
	// HTTPClient is shared by every Client opened; nil means a client with a
	// 60s timeout.
	HTTPClient *http.Client
	// Logger is handed to every Client; nil discards.
	Logger *slog.Logger
	// Tokens refreshes OAuth connections' access tokens (internal/oauth.Manager).
	// Nil: OAuth connections use their stored access token as it is.
	Tokens OAuthTokens
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Connector is the GHL connector: it validates GHL connector configs and
// connections and opens Clients.
type Connector struct {
	defaultBaseURL string
	hc             *http.Client
	log            *slog.Logger
	tokens         OAuthTokens
	now            func() time.Time
}

var _ crm.Connector = (*Connector)(nil)

// NewConnector returns the GHL connector.
func NewConnector(opts ConnectorOptions) *Connector {
	c := &Connector{defaultBaseURL: opts.DefaultBaseURL, hc: opts.HTTPClient, log: opts.Logger, tokens: opts.Tokens, now: opts.Now}
	if c.now == nil {
		c.now = time.Now
	}
	if c.defaultBaseURL == "" {
		c.defaultBaseURL = DefaultBaseURL
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: defaultTimeout}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Name is "ghl".
func (c *Connector) Name() string { return providerName }

// merge overlays in on prev (absent keys keep their previous values, an
// empty value clears the key), rejecting unknown keys and trimming spaces.
func merge(in map[string]string, prev *crm.SplitSettings, known map[string]bool, knownList string) (map[string]string, []crm.FieldViolation) {
	out := map[string]string{}
	if prev != nil {
		for k, v := range prev.Public {
			out[k] = v
		}
		for k, v := range prev.Secret {
			out[k] = v
		}
	}
	var vs []crm.FieldViolation
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := known[k]; !ok {
			vs = append(vs, crm.FieldViolation{Field: k, Description: "unknown setting; known: " + knownList})
			continue
		}
		if v := strings.TrimSpace(in[k]); v != "" {
			out[k] = v
		} else {
			delete(out, k)
		}
	}
	return out, vs
}

// split sorts a merged settings map into public and secret values.
func split(m map[string]string, known map[string]bool) crm.SplitSettings {
	s := crm.SplitSettings{Public: map[string]string{}, Secret: map[string]string{}}
	for k, v := range m {
		secret, ok := known[k]
		switch {
		case !ok:
		case secret:
			s.Secret[k] = v
		default:
			s.Public[k] = v
		}
	}
	return s
}

// checkToken rejects values that cannot go into an Authorization header.
func checkToken(v string) error {
	for _, r := range v {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("must not contain spaces or control characters")
		}
	}
	return nil
}

// CheckConfig validates a connector config: base_url (default: the
// connector's default base URL; an absolute http(s) URL without query),
// and for OAuth client_id with client_secret (secret), authorize_url
// (default DefaultAuthorizeURL), redirect_uri (the gateway's callback as
// registered with the marketplace app), scopes (default DefaultScopes) and
// user_type (Location, the default, or Company). Defaults other than
// base_url apply when used and are not stored. On update, absent keys keep
// their previous values and an empty value clears a key.
func (c *Connector) CheckConfig(in map[string]string, prev *crm.SplitSettings) (crm.SplitSettings, error) {
	m, vs := merge(in, prev, configKeys, "authorize_url, base_url, client_id, client_secret, redirect_uri, scopes, user_type")
	if m[ConfigBaseURL] == "" {
		m[ConfigBaseURL] = c.defaultBaseURL
	}
	if _, err := checkBaseURL(m[ConfigBaseURL]); err != nil {
		vs = append(vs, crm.FieldViolation{Field: ConfigBaseURL, Description: err.Error()})
	}
	switch {
	case m[ConfigClientID] != "" && m[ConfigClientSecret] == "":
		vs = append(vs, crm.FieldViolation{Field: ConfigClientSecret, Description: "required with client_id"})
	case m[ConfigClientID] == "" && m[ConfigClientSecret] != "":
		vs = append(vs, crm.FieldViolation{Field: ConfigClientID, Description: "required with client_secret"})
	}
	for _, k := range []string{ConfigClientID, ConfigClientSecret} {
		if err := checkToken(m[k]); err != nil {
			vs = append(vs, crm.FieldViolation{Field: k, Description: err.Error()})
		}
	}
	if v := m[ConfigAuthorizeURL]; v != "" {
		if err := checkAbsoluteURL(v, false); err != nil {
			vs = append(vs, crm.FieldViolation{Field: ConfigAuthorizeURL, Description: err.Error()})
		}
	}
	if v := m[ConfigRedirectURI]; v != "" {
		if err := checkAbsoluteURL(v, true); err != nil {
			vs = append(vs, crm.FieldViolation{Field: ConfigRedirectURI, Description: err.Error()})
		}
	}
	if v := m[ConfigScopes]; v != "" {
		if err := checkScopes(strings.Fields(v)); err != nil {
			vs = append(vs, crm.FieldViolation{Field: ConfigScopes, Description: err.Error()})
		}
		m[ConfigScopes] = normScopes(v)
	}
	switch m[ConfigUserType] {
	case "", UserTypeLocation, UserTypeCompany:
	default:
		vs = append(vs, crm.FieldViolation{Field: ConfigUserType, Description: "must be Location or Company"})
	}
	if len(vs) > 0 {
		return crm.SplitSettings{}, &crm.ValidationError{Violations: vs}
	}
	return split(m, configKeys), nil
}

// checkAbsoluteURL accepts an absolute http(s) URL without fragment or
// user info; query allows a query string.
func checkAbsoluteURL(s string, query bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("must be an absolute http or https URL")
	case u.Host == "":
		return fmt.Errorf("must name a host")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("must not have a fragment")
	case u.User != nil:
		return fmt.Errorf("must not carry user info")
	case !query && (u.RawQuery != "" || u.ForceQuery):
		return fmt.Errorf("must not have a query")
	}
	return nil
}

// checkScopes accepts GHL scope names such as objects/record.readonly.
func checkScopes(scopes []string) error {
	if len(scopes) > 200 {
		return fmt.Errorf("too many scopes")
	}
	for _, s := range scopes {
		if len(s) > 128 {
			return fmt.Errorf("scope %.32q... is too long", s)
		}
		for _, r := range s {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._/-:", r)) {
				return fmt.Errorf("scope %q: invalid character %q", s, r)
			}
		}
	}
	return nil
}

// CheckScopes validates scope names asked for in a connect flow.
func (c *Connector) CheckScopes(scopes []string) error { return checkScopes(scopes) }

// CheckConnection validates connection settings: location_id (required,
// except for an agency connection, user_type Company, which needs
// company_id) and either private_integration_token (secret; auth type
// "pit") or the OAuth tokens access_token / refresh_token (secret; auth
// type "oauth") with the OAuth settings the connect flow stores
// (company_id, user_id, user_type, scopes, agency_connection_id,
// token_expires_at). On update, absent keys keep their previous values and
// an empty value clears a key (clear the PIT to switch a connection to
// OAuth).
func (c *Connector) CheckConnection(in map[string]string, prev *crm.SplitSettings) (crm.SplitSettings, string, error) {
	m, vs := merge(in, prev, connKeys, "access_token, agency_connection_id, company_id, location_id, private_integration_token, refresh_token, scopes, token_expires_at, user_id, user_type")
	switch m[SettingUserType] {
	case UserTypeCompany:
		if err := checkLocationID(m[SettingCompanyID]); err != nil {
			vs = append(vs, crm.FieldViolation{Field: SettingCompanyID, Description: err.Error() + " (user_type Company)"})
		}
		if m[SettingLocationID] != "" {
			vs = append(vs, crm.FieldViolation{Field: SettingLocationID, Description: "an agency (Company) connection has no location"})
		}
	case "", UserTypeLocation:
		if err := checkLocationID(m[SettingLocationID]); err != nil {
			vs = append(vs, crm.FieldViolation{Field: SettingLocationID, Description: err.Error()})
		}
	default:
		vs = append(vs, crm.FieldViolation{Field: SettingUserType, Description: "must be Location or Company"})
	}
	for _, k := range []string{SettingCompanyID, SettingUserID, SettingAgencyConnectionID} {
		if v := m[k]; v != "" {
			if err := checkLocationID(v); err != nil {
				vs = append(vs, crm.FieldViolation{Field: k, Description: err.Error()})
			}
		}
	}
	if v := m[SettingTokenExpiresAt]; v != "" {
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			vs = append(vs, crm.FieldViolation{Field: SettingTokenExpiresAt, Description: "must be an RFC 3339 time"})
		}
	}
	for _, k := range []string{SettingPrivateIntegrationToken, SettingAccessToken, SettingRefreshToken} {
		if err := checkToken(m[k]); err != nil {
			vs = append(vs, crm.FieldViolation{Field: k, Description: err.Error()})
		}
	}
	auth := ""
	oauthCreds := m[SettingAccessToken] != "" || m[SettingRefreshToken] != ""
	pit := m[SettingPrivateIntegrationToken] != ""
	switch {
	case oauthCreds && pit:
		vs = append(vs, crm.FieldViolation{Field: SettingPrivateIntegrationToken, Description: "cannot be combined with access_token/refresh_token: give one kind of credential"})
	case oauthCreds:
		auth = AuthOAuth
	case pit:
		auth = AuthPIT
		if m[SettingUserType] == UserTypeCompany {
			vs = append(vs, crm.FieldViolation{Field: SettingUserType, Description: "a private integration token works on one location: user_type Company needs OAuth tokens"})
		}
	default:
		vs = append(vs, crm.FieldViolation{Field: SettingPrivateIntegrationToken, Description: "required (or access_token/refresh_token for OAuth)"})
	}
	if len(vs) > 0 {
		return crm.SplitSettings{}, "", &crm.ValidationError{Violations: vs}
	}
	return split(m, connKeys), auth, nil
}

// Open returns a provider for one connection; it does no I/O. Settings
// give location_id, Credentials the token; ConfigSettings may give
// base_url. An OAuth connection's access token comes from the token
// manager (ConnectorOptions.Tokens), which refreshes it when due and after
// GHL refused it; an agency (Company) connection opens a provider that can
// only Check its token.
func (c *Connector) Open(p crm.ConnectionParams) (crm.Provider, error) {
	base := p.ConfigSettings[ConfigBaseURL]
	if base == "" {
		base = c.defaultBaseURL
	}
	var tok TokenSource
	oauthCreds := p.Credentials[SettingAccessToken] != "" || p.Credentials[SettingRefreshToken] != ""
	switch {
	case p.Credentials[SettingPrivateIntegrationToken] != "":
		tok = StaticToken(p.Credentials[SettingPrivateIntegrationToken])
	case oauthCreds && c.tokens != nil && p.OrganisationID != "" && p.ConnectionID != "":
		cfg := oauth.Config{Settings: p.ConfigSettings, Secrets: p.ConfigSecrets}
		tok = &managedToken{
			tokens:  c.tokens,
			ref:     oauth.Ref{OrganisationID: p.OrganisationID, ConnectionID: p.ConnectionID},
			refresh: c.Refresher(cfg, p.OrganisationID),
		}
	case p.Credentials[SettingAccessToken] != "":
		tok = StaticToken(p.Credentials[SettingAccessToken])
	case p.Credentials[SettingRefreshToken] != "":
		return nil, fmt.Errorf("ghl: connection %s: OAuth token refresh without a token manager: %w", p.ConnectionID, crm.ErrUnsupported)
	default:
		return nil, crm.Invalid(SettingPrivateIntegrationToken, "connection %s has no credentials", p.ConnectionID)
	}
	if p.Settings[SettingUserType] == UserTypeCompany {
		return &agencyProvider{token: tok, connectionID: p.ConnectionID}, nil
	}
	lg := c.log
	if p.ConnectionID != "" {
		lg = lg.With("connection_id", p.ConnectionID)
	}
	return NewClient(ClientOptions{
		BaseURL:    base,
		LocationID: p.Settings[SettingLocationID],
		Token:      tok,
		HTTPClient: c.hc,
		Logger:     lg,
		// GHL limits each app per location.
		RateLimitKey: c.RateLimitKey(p),
	})
}

var _ crm.RateLimited = (*Connector)(nil)

// RateLimitKey implements crm.RateLimited: GHL limits each marketplace app
// (connector config) per location.
func (c *Connector) RateLimitKey(p crm.ConnectionParams) string {
	return upstream.BudgetKey(providerName, p.ConnectorConfigID, p.Settings[SettingLocationID])
}
