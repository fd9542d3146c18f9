package ghl

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/crmgate/crmgate/internal/crm"
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
	configKeys = map[string]bool{ConfigClientID: false, ConfigClientSecret: true, ConfigBaseURL: false}
	connKeys   = map[string]bool{
		SettingLocationID: false, SettingPrivateIntegrationToken: true,
		SettingAccessToken: true, SettingRefreshToken: true,
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
}

// Connector is the GHL connector: it validates GHL connector configs and
// connections and opens Clients.
type Connector struct {
	defaultBaseURL string
	hc             *http.Client
	log            *slog.Logger
}

var _ crm.Connector = (*Connector)(nil)

// NewConnector returns the GHL connector.
func NewConnector(opts ConnectorOptions) *Connector {
	c := &Connector{defaultBaseURL: opts.DefaultBaseURL, hc: opts.HTTPClient, log: opts.Logger}
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

// CheckConfig validates a connector config: client_id, client_secret
// (secret) and base_url (default: the connector's default base URL; an
// absolute http(s) URL without query). client_id and client_secret go
// together (they are for the OAuth flow). On update, absent keys keep their
// previous values and an empty value clears a key.
func (c *Connector) CheckConfig(in map[string]string, prev *crm.SplitSettings) (crm.SplitSettings, error) {
	m, vs := merge(in, prev, configKeys, "base_url, client_id, client_secret")
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
	if err := checkToken(m[ConfigClientSecret]); err != nil {
		vs = append(vs, crm.FieldViolation{Field: ConfigClientSecret, Description: err.Error()})
	}
	if len(vs) > 0 {
		return crm.SplitSettings{}, &crm.ValidationError{Violations: vs}
	}
	return split(m, configKeys), nil
}

// CheckConnection validates connection settings: location_id (required)
// and either private_integration_token (secret; auth type "pit") or the
// OAuth tokens access_token / refresh_token (secret; auth type "oauth").
// On update, absent keys keep their previous values and an empty value
// clears a key (clear the PIT to switch a connection to OAuth).
func (c *Connector) CheckConnection(in map[string]string, prev *crm.SplitSettings) (crm.SplitSettings, string, error) {
	m, vs := merge(in, prev, connKeys, "access_token, location_id, private_integration_token, refresh_token")
	if err := checkLocationID(m[SettingLocationID]); err != nil {
		vs = append(vs, crm.FieldViolation{Field: SettingLocationID, Description: err.Error()})
	}
	for _, k := range []string{SettingPrivateIntegrationToken, SettingAccessToken, SettingRefreshToken} {
		if err := checkToken(m[k]); err != nil {
			vs = append(vs, crm.FieldViolation{Field: k, Description: err.Error()})
		}
	}
	auth := ""
	oauth := m[SettingAccessToken] != "" || m[SettingRefreshToken] != ""
	pit := m[SettingPrivateIntegrationToken] != ""
	switch {
	case oauth && pit:
		vs = append(vs, crm.FieldViolation{Field: SettingPrivateIntegrationToken, Description: "cannot be combined with access_token/refresh_token: give one kind of credential"})
	case oauth:
		auth = AuthOAuth
	case pit:
		auth = AuthPIT
	default:
		vs = append(vs, crm.FieldViolation{Field: SettingPrivateIntegrationToken, Description: "required (or access_token/refresh_token for OAuth)"})
	}
	if len(vs) > 0 {
		return crm.SplitSettings{}, "", &crm.ValidationError{Violations: vs}
	}
	return split(m, connKeys), auth, nil
}

// Open returns a Client for one connection; it does no I/O. Settings give
// location_id, Credentials the token; ConfigSettings may give base_url.
func (c *Connector) Open(p crm.ConnectionParams) (crm.Provider, error) {
	base := p.ConfigSettings[ConfigBaseURL]
	if base == "" {
		base = c.defaultBaseURL
	}
	var tok TokenSource
	switch {
	case p.Credentials[SettingPrivateIntegrationToken] != "":
		tok = StaticToken(p.Credentials[SettingPrivateIntegrationToken])
	case p.Credentials[SettingAccessToken] != "":
		// TODO(oauth): a refreshing TokenSource using refresh_token and the
		// config's client_id/client_secret.
		tok = StaticToken(p.Credentials[SettingAccessToken])
	case p.Credentials[SettingRefreshToken] != "":
		return nil, fmt.Errorf("ghl: connection %s: OAuth token refresh: %w", p.ConnectionID, crm.ErrUnsupported)
	default:
		return nil, crm.Invalid(SettingPrivateIntegrationToken, "connection %s has no credentials", p.ConnectionID)
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
	})
}
