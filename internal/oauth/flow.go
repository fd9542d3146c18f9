package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/store"
)

// AuthTypeOAuth is the auth type of connections the flow stores.
const AuthTypeOAuth = "oauth"

// Config is a connector config as a Provider sees it.
type Config struct {
	Settings map[string]string
	Secrets  map[string]string
}

// Install is what a provider grants: the settings and credentials of a
// connection.
type Install struct {
	// Identity names the provider account (e.g. {"location_id": "..."}):
	// an OAuth connection of the same organisation, connector config and
	// customer whose settings hold all these pairs is the same connection,
	// updated by a re-install instead of duplicated.
	Identity    map[string]string
	Settings    map[string]string
	Credentials map[string]string
	// Account describes the account for people, e.g. "HighLevel location X".
	Account string
}

// Provider is a connector's OAuth side (ghl.Connector implements it).
type Provider interface {
	// RedirectURI is the config's registered callback ("" if none).
	RedirectURI(cfg Config) string
	// DefaultScopes are the scopes asked for when a flow names none.
	DefaultScopes(cfg Config) []string
	// CheckScopes validates scope names a caller asks for.
	CheckScopes(scopes []string) error
	// AuthorizeURL is the provider's authorization page for cfg, carrying
	// state and asking for scopes. ErrNotConfigured if cfg lacks settings.
	AuthorizeURL(cfg Config, state string, scopes []string) (string, error)
	// Exchange trades an authorization code for an install.
	Exchange(ctx context.Context, cfg Config, code string) (Install, error)
	// Refresher returns how connections of cfg in organisation orgID are
	// refreshed.
	Refresher(cfg Config, orgID string) RefreshFunc
}

// LocationMinter is a Provider that mints sub-account connections from an
// agency connection (GHL: POST /oauth/locationToken).
type LocationMinter interface {
	// IsAgency reports whether a connection's settings are an agency's.
	IsAgency(settings map[string]string) bool
	MintLocation(ctx context.Context, cfg Config, agencyID string, agency Current, agencyToken, locationID string) (Install, error)
}

// FlowOptions configures a Flow.
type FlowOptions struct {
	Store  store.Store
	Sealer *Sealer
	Ledger Ledger
	Tokens *Manager
	// Providers finds the OAuth side of a registered connector.
	Providers func(connectorName string) (Provider, bool)
	// StateTTL is how long an authorization URL and a connect page link
	// stay valid (default 15m).
	StateTTL time.Duration
	// Changed is told about every connection the flow creates or updates
	// (e.g. to drop in-process copies); may be nil.
	Changed func(orgID, connectionID string)
	Logger  *slog.Logger
	Now     func() time.Time
}

// DefaultStateTTL is the default FlowOptions.StateTTL.
const DefaultStateTTL = 15 * time.Minute

// Flow runs OAuth connect flows: it starts them (authorization URL, connect
// page link), completes them (the callback: state check, code exchange,
// connection stored) and mints location connections from agency ones.
type Flow struct {
	o FlowOptions
}

// NewFlow returns a Flow.
func NewFlow(o FlowOptions) *Flow {
	if o.StateTTL <= 0 {
		o.StateTTL = DefaultStateTTL
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Changed == nil {
		o.Changed = func(string, string) {}
	}
	return &Flow{o: o}
}

// StartRequest asks for an authorization URL.
type StartRequest struct {
	OrganisationID    string
	ConnectorName     string
	ConnectorConfigID string
	CustomerID        string
	ReturnURL         string
	Scopes            []string
}

// Started is where to send the customer.
type Started struct {
	// AuthorizationURL is the provider's page, with a single-use state.
	AuthorizationURL string
	// ConnectURL is the gateway's connect page (GET /connect/{name}?token=),
	// derived from the config's redirect URI; "" if that does not end in
	// /callback.
	ConnectURL string
	ExpiresAt  time.Time
}

func configNotFound(id string) error {
	return apierr.New(codes.NotFound, "CONNECTOR_CONFIG_NOT_FOUND", "connector config %q not found", id)
}

func notConfigured(err error) error {
	e := apierr.New(codes.FailedPrecondition, "CONNECTOR_CONFIG_INCOMPLETE", "%s", strings.TrimPrefix(err.Error(), ErrNotConfigured.Error()+": "))
	e.Cause = err
	return e
}

// loadConfig loads a connector config of the organisation with its OAuth
// provider. connectorName, if not empty, must be the config's connector.
func (f *Flow) loadConfig(ctx context.Context, orgID, configID, connectorName string) (store.ConnectorConfig, Provider, error) {
	cfg, err := f.o.Store.GetConnectorConfig(ctx, orgID, configID)
	if errors.Is(err, store.ErrNotFound) {
		return store.ConnectorConfig{}, nil, configNotFound(configID)
	}
	if err != nil {
		return store.ConnectorConfig{}, nil, fmt.Errorf("oauth: load connector config %s: %w", configID, err)
	}
	if connectorName != "" && cfg.ConnectorName != connectorName {
		return store.ConnectorConfig{}, nil, crm.Invalid("connector_config_id", "is a %s connector config, not %s", cfg.ConnectorName, connectorName)
	}
	p, ok := f.o.Providers(cfg.ConnectorName)
	if !ok {
		return store.ConnectorConfig{}, nil, apierr.New(codes.FailedPrecondition, "OAUTH_UNSUPPORTED", "connector %q does not support OAuth connections on this gateway", cfg.ConnectorName)
	}
	return cfg, p, nil
}

func asConfig(c store.ConnectorConfig) Config {
	return Config{Settings: c.Settings, Secrets: c.Secrets}
}

// CheckReturnURL validates a return URL: absolute http(s), no fragment.
func CheckReturnURL(s string) error {
	if len(s) > 2048 {
		return errors.New("is longer than 2048 characters")
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must be an absolute http or https URL")
	case u.Host == "":
		return errors.New("must name a host")
	case u.User != nil:
		return errors.New("must not carry user info")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return errors.New("must not have a fragment")
	}
	return nil
}

// Start checks a request and returns the authorization URL and the connect
// page link, both carrying the request sealed.
func (f *Flow) Start(ctx context.Context, req StartRequest) (Started, error) {
	cfg, p, err := f.loadConfig(ctx, req.OrganisationID, req.ConnectorConfigID, req.ConnectorName)
	if err != nil {
		return Started{}, err
	}
	if req.ReturnURL != "" {
		if err := CheckReturnURL(req.ReturnURL); err != nil {
			return Started{}, crm.Invalid("return_url", "%v", err)
		}
	}
	if err := p.CheckScopes(req.Scopes); err != nil {
		return Started{}, crm.Invalid("scopes", "%v", err)
	}
	exp := f.o.Now().Add(f.o.StateTTL)
	st := State{
		Purpose: PurposeAuthorize, OrganisationID: req.OrganisationID, CustomerID: req.CustomerID,
		ConnectorConfigID: cfg.ID, ConnectorName: cfg.ConnectorName,
		ReturnURL: req.ReturnURL, Scopes: req.Scopes, ExpiresAt: exp.Unix(),
	}
	authURL, err := f.authorizeURL(p, cfg, st)
	if err != nil {
		return Started{}, err
	}
	out := Started{AuthorizationURL: authURL, ExpiresAt: st.Expires()}
	if page := connectPageURL(p.RedirectURI(asConfig(cfg))); page != "" {
		st.Purpose, st.ID = PurposeConnectPage, ""
		tok, err := f.o.Sealer.Seal(st)
		if err != nil {
			return Started{}, err
		}
		out.ConnectURL = page + "?" + url.Values{"token": {tok}}.Encode()
	}
	return out, nil
}

// authorizeURL seals st as a fresh authorize state and builds the URL.
func (f *Flow) authorizeURL(p Provider, cfg store.ConnectorConfig, st State) (string, error) {
	st.Purpose, st.ID = PurposeAuthorize, ""
	state, err := f.o.Sealer.Seal(st)
	if err != nil {
		return "", err
	}
	u, err := p.AuthorizeURL(asConfig(cfg), state, st.Scopes)
	if errors.Is(err, ErrNotConfigured) {
		return "", notConfigured(err)
	}
	return u, err
}

// connectPageURL is the redirect URI without its final /callback.
func connectPageURL(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.RawQuery != "" || !strings.HasSuffix(u.Path, "/callback") {
		return ""
	}
	u.Path = strings.TrimSuffix(u.Path, "/callback")
	u.RawPath = ""
	return u.String()
}

// Page describes a connect page.
type Page struct {
	State            State
	OrganisationName string
}

// OpenPage checks a connect page token.
func (f *Flow) OpenPage(ctx context.Context, token string) (Page, error) {
	st, err := f.o.Sealer.Open(token, PurposeConnectPage, f.o.Now())
	if err != nil {
		return Page{}, err
	}
	org, err := f.o.Store.GetOrganisation(ctx, st.OrganisationID)
	if err != nil {
		return Page{}, fmt.Errorf("oauth: connect page: %w", err)
	}
	return Page{State: st, OrganisationName: org.Name}, nil
}

// StartFromPage checks a connect page token and returns a fresh
// authorization URL for it (the page's Connect button).
func (f *Flow) StartFromPage(ctx context.Context, token string) (string, error) {
	page, err := f.o.Sealer.Open(token, PurposeConnectPage, f.o.Now())
	if err != nil {
		return "", err
	}
	cfg, p, err := f.loadConfig(ctx, page.OrganisationID, page.ConnectorConfigID, page.ConnectorName)
	if err != nil {
		return "", err
	}
	st := page
	st.ExpiresAt = f.o.Now().Add(f.o.StateTTL).Unix()
	return f.authorizeURL(p, cfg, st)
}

// Result is the outcome of a callback.
type Result struct {
	// State is the verified state (zero if the state was refused).
	State      State
	Connection store.Connection
	Created    bool
	Account    string
}

// Complete handles the provider's redirect back to the callback of
// connectorName: it opens and spends the state (ErrInvalidState — also for
// a state of another connector —, ErrExpiredState, ErrReplayedState:
// nothing else happens), then exchanges the code and stores the connection: a
// connection of the same account, customer and config is updated, never
// duplicated. providerError is the redirect's error parameter, if any.
func (f *Flow) Complete(ctx context.Context, connectorName, stateToken, code, providerError string) (Result, error) {
	st, err := f.o.Sealer.Open(stateToken, PurposeAuthorize, f.o.Now())
	if err != nil {
		return Result{}, err
	}
	if st.ConnectorName != connectorName {
		return Result{}, fmt.Errorf("%w: the state is for connector %q", ErrInvalidState, st.ConnectorName)
	}
	if err := f.o.Ledger.Spend(ctx, st.ID, st.Expires()); err != nil {
		if errors.Is(err, ErrReplayedState) {
			return Result{}, err
		}
		return Result{}, fmt.Errorf("oauth: cannot check the state is unused: %w", err)
	}
	res := Result{State: st}
	if providerError != "" {
		return res, fmt.Errorf("%w: %.64s", ErrAccessDenied, providerError)
	}
	if code == "" {
		return res, fmt.Errorf("%w: no code in the callback", ErrAccessDenied)
	}
	cfg, p, err := f.loadConfig(ctx, st.OrganisationID, st.ConnectorConfigID, st.ConnectorName)
	if err != nil {
		return res, err
	}
	in, err := p.Exchange(ctx, asConfig(cfg), code)
	if errors.Is(err, ErrNotConfigured) {
		return res, notConfigured(err)
	}
	if err != nil {
		return res, err
	}
	conn, created, err := f.upsert(ctx, cfg, st.CustomerID, in)
	if err != nil {
		return res, err
	}
	res.Connection, res.Created, res.Account = conn, created, in.Account
	f.o.Logger.InfoContext(ctx, "oauth: connection installed", "connection_id", conn.ID, "organisation_id", st.OrganisationID,
		"customer_id", st.CustomerID, "connector_config_id", cfg.ID, "created", created)
	return res, nil
}

// MintLocation creates (or updates) a location connection minted from the
// agency connection agencyID; customerID empty means the agency's customer.
func (f *Flow) MintLocation(ctx context.Context, orgID, agencyID, locationID, customerID string) (store.Connection, error) {
	agency, err := f.o.Store.GetConnection(ctx, orgID, agencyID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Connection{}, apierr.New(codes.NotFound, "CONNECTION_NOT_FOUND", "connection %q not found", agencyID)
	}
	if err != nil {
		return store.Connection{}, fmt.Errorf("oauth: load connection %s: %w", agencyID, err)
	}
	notAgency := apierr.New(codes.FailedPrecondition, "NOT_AN_AGENCY_CONNECTION",
		"connection %q is not an OAuth agency (Company) connection; location connections are minted from one", agencyID)
	if agency.AuthType != AuthTypeOAuth {
		return store.Connection{}, notAgency
	}
	if agency.Status == store.ConnectionNeedsReauth {
		return store.Connection{}, needsReauthError(agency.ID, agency.StatusMessage)
	}
	cfg, p, err := f.loadConfig(ctx, orgID, agency.ConnectorConfigID, "")
	if err != nil {
		return store.Connection{}, err
	}
	minter, ok := p.(LocationMinter)
	if !ok || !minter.IsAgency(agency.Settings) {
		return store.Connection{}, notAgency
	}
	if customerID == "" {
		customerID = agency.CustomerID
	}
	ref := Ref{OrganisationID: orgID, ConnectionID: agency.ID}
	refresh := p.Refresher(asConfig(cfg), orgID)
	cur := Current{Settings: agency.Settings, Credentials: agency.Credentials}
	tok, err := f.o.Tokens.Token(ctx, ref, refresh, "")
	if err != nil {
		return store.Connection{}, err
	}
	in, err := minter.MintLocation(ctx, asConfig(cfg), agency.ID, cur, tok, locationID)
	var pe *crm.ProviderError
	if errors.As(err, &pe) && pe.Status == http.StatusUnauthorized {
		// The agency token was refused: refresh it once and try again.
		if tok, err = f.o.Tokens.Token(ctx, ref, refresh, tok); err != nil {
			return store.Connection{}, err
		}
		in, err = minter.MintLocation(ctx, asConfig(cfg), agency.ID, cur, tok, locationID)
	}
	switch {
	case errors.Is(err, ErrNotAgency):
		return store.Connection{}, notAgency
	case errors.Is(err, ErrNotConfigured):
		return store.Connection{}, notConfigured(err)
	case err != nil:
		return store.Connection{}, err
	}
	conn, created, err := f.upsert(ctx, cfg, customerID, in)
	if err != nil {
		return store.Connection{}, err
	}
	f.o.Logger.InfoContext(ctx, "oauth: location connection minted", "connection_id", conn.ID, "agency_connection_id", agency.ID, "created", created)
	return conn, nil
}

// upsert stores an install as the connection of (config, customer,
// account): the existing OAuth connection whose settings match the
// install's identity is updated (credentials and settings replaced,
// re-activated); else one is created, under an id derived from the account
// so that two concurrent installs cannot create two.
func (f *Flow) upsert(ctx context.Context, cfg store.ConnectorConfig, customerID string, in Install) (store.Connection, bool, error) {
	org := cfg.OrganisationID
	list, err := f.o.Store.ListConnections(ctx, org, store.ConnectionFilter{CustomerID: customerID, ConnectorConfigID: cfg.ID})
	if err != nil {
		return store.Connection{}, false, fmt.Errorf("oauth: list connections: %w", err)
	}
	for _, c := range list {
		if c.AuthType == AuthTypeOAuth && matches(c.Settings, in.Identity) {
			out, err := f.update(ctx, c, in)
			return out, false, err
		}
	}
	now := f.o.Now().UTC()
	id := installID(cfg.ConnectorName, org, cfg.ID, customerID, in.Identity)
	created, err := f.o.Store.CreateConnection(ctx, store.Connection{
		ID: id, OrganisationID: org, ConnectorConfigID: cfg.ID, ConnectorName: cfg.ConnectorName,
		CustomerID: customerID, AuthType: AuthTypeOAuth, Status: store.ConnectionActive,
		Settings: maps.Clone(in.Settings), Credentials: maps.Clone(in.Credentials), CreatedAt: now, UpdatedAt: now,
	})
	if errors.Is(err, store.ErrConflict) {
		// Created meanwhile (a concurrent install), or an older connection
		// under this id that no longer matches: update it.
		cur, gerr := f.o.Store.GetConnection(ctx, org, id)
		if gerr != nil {
			return store.Connection{}, false, fmt.Errorf("oauth: connection %s: %w", id, gerr)
		}
		out, err := f.update(ctx, cur, in)
		return out, false, err
	}
	if err != nil {
		return store.Connection{}, false, fmt.Errorf("oauth: create connection: %w", err)
	}
	f.o.Changed(org, created.ID)
	return created, true, nil
}

// update replaces a connection's settings and credentials by an install's,
// with the store's compare-and-swap (retried on conflict).
func (f *Flow) update(ctx context.Context, c store.Connection, in Install) (store.Connection, error) {
	for attempt := 0; ; attempt++ {
		next := c
		next.Settings, next.Credentials = maps.Clone(in.Settings), maps.Clone(in.Credentials)
		next.Status, next.StatusMessage = store.ConnectionActive, ""
		out, err := f.o.Store.UpdateConnection(ctx, next)
		if errors.Is(err, store.ErrConflict) && attempt < 10 {
			id := c.ID
			if c, err = f.o.Store.GetConnection(ctx, c.OrganisationID, id); err != nil {
				return store.Connection{}, fmt.Errorf("oauth: connection %s: %w", id, err)
			}
			continue
		}
		if err != nil {
			return store.Connection{}, fmt.Errorf("oauth: update connection %s: %w", c.ID, err)
		}
		f.o.Tokens.Forget(ctx, out.ID)
		f.o.Changed(out.OrganisationID, out.ID)
		return out, nil
	}
}

func matches(settings, identity map[string]string) bool {
	if len(identity) == 0 {
		return false
	}
	for k, v := range identity {
		if settings[k] != v {
			return false
		}
	}
	return true
}

// installID derives a connection id from the account it connects.
func installID(connector, org, configID, customerID string, identity map[string]string) string {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "%q|%q|%q", org, configID, customerID)
	keys := make([]string, 0, len(identity))
	for k := range identity {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		_, _ = fmt.Fprintf(h, "|%q=%q", k, identity[k])
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h.Sum(nil)[:15])
	return "conn_" + connector + "_" + strings.ToLower(enc)
}
