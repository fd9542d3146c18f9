// Package store defines crmgate's durable store: organisations, API keys,
// connector configs, customers and connections. Backends live in
// sub-packages (sqlstore serves SQLite and PostgreSQL); storetest holds the
// contract suite every backend runs.
//
// Secrets (client secrets, tokens) are handed to the store in plain form in
// the Secret* fields below and are encrypted at rest by the backend with the
// keyring it was built with; they come back decrypted.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them; callers test with errors.Is.
var (
	// ErrNotFound: the row does not exist, or belongs to another organisation.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness constraint would be violated, or a
	// compare-and-swap precondition did not hold.
	ErrConflict = errors.New("store: conflict")
)

// Organisation owns API keys, connector configs, customers and connections.
type Organisation struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// APIKey is an organisation's key. Only the SHA-256 hash of the key is
// stored; the key itself is shown once, when created.
type APIKey struct {
	ID             string
	OrganisationID string
	Name           string
	Hash           []byte // sha256 of the full key
	Prefix         string // first characters of the key, for display
	CreatedAt      time.Time
	// ExpiresAt is when the key stops working; zero: never. A rotated
	// key's is the end of its grace period.
	ExpiresAt time.Time
	// RevokedAt is when the key was revoked; zero: not revoked.
	RevokedAt time.Time
	// LastUsedAt is when the key last authenticated a call, as recorded by
	// TouchAPIKey; zero: never.
	LastUsedAt time.Time
	// ReplacedBy is the id of the key that replaced this one by rotation.
	ReplacedBy string
}

// API key states (APIKey.State).
const (
	APIKeyActive  = "active"
	APIKeyExpired = "expired"
	APIKeyRevoked = "revoked"
)

// State is the key's state at now: revoked, expired, or active.
func (k APIKey) State(now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return APIKeyRevoked
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return APIKeyExpired
	}
	return APIKeyActive
}

// Cursor is a position in a list ordered by (CreatedAt, ID): the last row
// of the previous page.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// Page selects a part of a list ordered by (CreatedAt, ID), oldest first:
// the rows after After (nil: from the first), at most Limit of them (0:
// all).
type Page struct {
	Limit int
	After *Cursor
}

// ConnectorConfig is an organisation's app registration for one provider
// (its OAuth client, API base URL ...). Settings holds the non-secret
// settings as provider-defined JSON; Secrets holds secret values by name
// (e.g. "client_secret"), encrypted at rest.
type ConnectorConfig struct {
	ID             string
	OrganisationID string
	ConnectorName  string // "ghl"
	Settings       map[string]string
	Secrets        map[string]string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Connection statuses.
const (
	ConnectionActive      = "active"
	ConnectionNeedsReauth = "needs_reauth"
)

// Connection is one customer's connection to one provider account.
// Settings are non-secret (location_id ...); Credentials are secret
// (private_integration_token, access_token, refresh_token ...) and encrypted
// at rest. Version increases by one on every update and serves
// compare-and-swap updates (see UpdateConnection).
type Connection struct {
	ID                string
	OrganisationID    string
	ConnectorConfigID string
	ConnectorName     string
	CustomerID        string
	AuthType          string // "pit" | "oauth"
	Status            string // ConnectionActive | ConnectionNeedsReauth
	StatusMessage     string
	Settings          map[string]string
	Credentials       map[string]string
	Version           int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// ConnectionFilter narrows ListConnections. Empty fields do not filter;
// the zero Page is every matching row.
type ConnectionFilter struct {
	CustomerID        string
	ConnectorConfigID string
	Page              Page
}

// Store is the durable store. Every method is scoped to an organisation
// where a row belongs to one: a row of another organisation is reported as
// ErrNotFound, never returned.
type Store interface {
	// EnsureOrganisation returns the organisation with this name, creating it
	// if new.
	EnsureOrganisation(ctx context.Context, name string) (Organisation, error)
	// CreateOrganisation stores o (ID and Name required); a name or id in
	// use answers ErrConflict.
	CreateOrganisation(ctx context.Context, o Organisation) (Organisation, error)
	// GetOrganisation returns ErrNotFound if no such organisation.
	GetOrganisation(ctx context.Context, id string) (Organisation, error)
	// ListOrganisations returns a page of the organisations.
	ListOrganisations(ctx context.Context, p Page) ([]Organisation, error)

	// CreateAPIKey stores k (ID, Hash, OrganisationID required; ExpiresAt
	// optional; the lifecycle fields start empty). A duplicate hash
	// answers ErrConflict.
	CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	// APIKeyByHash returns ErrNotFound if no key has this hash. Revoked and
	// expired keys are returned too: the caller decides.
	APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	// GetAPIKey returns the organisation's key id.
	GetAPIKey(ctx context.Context, orgID, id string) (APIKey, error)
	// ListAPIKeys returns a page of the organisation's keys, revoked and
	// expired ones included.
	ListAPIKeys(ctx context.Context, orgID string, p Page) ([]APIKey, error)
	// RevokeAPIKey sets RevokedAt to now unless already set, and returns
	// the key.
	RevokeAPIKey(ctx context.Context, orgID, id string) (APIKey, error)
	// RotateAPIKey replaces the organisation's key id by next (as
	// CreateAPIKey stores it), in one transaction: the old key's ReplacedBy
	// becomes next.ID and its ExpiresAt now+grace, or stays the earlier
	// expiry it had. A revoked, expired or already replaced key answers
	// ErrConflict (and nothing changes). It returns the old and the new key.
	RotateAPIKey(ctx context.Context, orgID, id string, next APIKey, grace time.Duration) (old, created APIKey, err error)
	// TouchAPIKey records that key id was used at at (kept if a later use
	// is recorded already).
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	// CreateConnectorConfig stores c; ID and OrganisationID are required.
	CreateConnectorConfig(ctx context.Context, c ConnectorConfig) (ConnectorConfig, error)
	GetConnectorConfig(ctx context.Context, orgID, id string) (ConnectorConfig, error)
	// ListConnectorConfigs returns a page of the organisation's configs.
	ListConnectorConfigs(ctx context.Context, orgID string, p Page) ([]ConnectorConfig, error)
	// UpdateConnectorConfig replaces Settings and Secrets of an existing config.
	UpdateConnectorConfig(ctx context.Context, c ConnectorConfig) (ConnectorConfig, error)
	// DeleteConnectorConfig answers ErrConflict while connections use it.
	DeleteConnectorConfig(ctx context.Context, orgID, id string) error

	// EnsureCustomer records a customer id of an organisation (idempotent).
	EnsureCustomer(ctx context.Context, orgID, customerID string) error

	// CreateConnection stores c (ID, OrganisationID, ConnectorConfigID of the
	// same organisation, CustomerID required; the customer is ensured).
	// A ConnectorConfigID of another organisation answers ErrNotFound.
	CreateConnection(ctx context.Context, c Connection) (Connection, error)
	GetConnection(ctx context.Context, orgID, id string) (Connection, error)
	// ListConnections returns the page f.Page of the organisation's
	// connections matching f.
	ListConnections(ctx context.Context, orgID string, f ConnectionFilter) ([]Connection, error)
	// UpdateConnection writes Status, StatusMessage, Settings and Credentials
	// if the stored Version equals c.Version (else ErrConflict), and returns
	// the row with Version+1.
	UpdateConnection(ctx context.Context, c Connection) (Connection, error)
	DeleteConnection(ctx context.Context, orgID, id string) error

	// Close releases the backend's resources.
	Close() error
}
