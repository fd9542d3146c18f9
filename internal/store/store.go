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

// ConnectionFilter narrows ListConnections. Empty fields do not filter.
type ConnectionFilter struct {
	CustomerID        string
	ConnectorConfigID string
}

// Store is the durable store. Every method is scoped to an organisation
// where a row belongs to one: a row of another organisation is reported as
// ErrNotFound, never returned.
type Store interface {
	// EnsureOrganisation returns the organisation with this name, creating it
	// if new.
	EnsureOrganisation(ctx context.Context, name string) (Organisation, error)
	// GetOrganisation returns ErrNotFound if no such organisation.
	GetOrganisation(ctx context.Context, id string) (Organisation, error)

	// CreateAPIKey stores k (ID, Hash, OrganisationID required). A duplicate
	// hash answers ErrConflict.
	CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	// APIKeyByHash returns ErrNotFound if no key has this hash.
	APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)

	// CreateConnectorConfig stores c; ID and OrganisationID are required.
	CreateConnectorConfig(ctx context.Context, c ConnectorConfig) (ConnectorConfig, error)
	GetConnectorConfig(ctx context.Context, orgID, id string) (ConnectorConfig, error)
	ListConnectorConfigs(ctx context.Context, orgID string) ([]ConnectorConfig, error)
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
	ListConnections(ctx context.Context, orgID string, f ConnectionFilter) ([]Connection, error)
	// UpdateConnection writes Status, StatusMessage, Settings and Credentials
	// if the stored Version equals c.Version (else ErrConflict), and returns
	// the row with Version+1.
	UpdateConnection(ctx context.Context, c Connection) (Connection, error)
	DeleteConnection(ctx context.Context, orgID, id string) error

	// Close releases the backend's resources.
	Close() error
}
