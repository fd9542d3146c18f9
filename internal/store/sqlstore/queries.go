package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/crmgate/crmgate/internal/store"
)

// Tables holding ciphertexts; the names are also the AAD prefixes.
const (
	connectorConfigsTable = "connector_configs"
	connectionsTable      = "connections"
)

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// ---- organisations ---------------------------------------------------------

const orgColumns = `id, name, created_at`

func scanOrganisation(sc scanner) (store.Organisation, error) {
	var o store.Organisation
	err := sc.Scan(&o.ID, &o.Name, timeCol{&o.CreatedAt})
	return o, err
}

// EnsureOrganisation returns the organisation named name, creating it (with
// an "org_..." id) if new. Concurrent calls for one name agree on one row.
func (s *Store) EnsureOrganisation(ctx context.Context, name string) (store.Organisation, error) {
	if err := required("ensure organisation", "name", name); err != nil {
		return store.Organisation{}, err
	}
	o, err := s.organisationBy(ctx, "name", name)
	if !errors.Is(err, store.ErrNotFound) {
		return o, err
	}
	// Insert unless a concurrent caller just did, then read whichever won.
	if _, err := s.db.ExecContext(ctx, s.rebind(
		`INSERT INTO organisations (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`),
		newOrganisationID(), name, s.timeArg(s.stamp())); err != nil {
		return store.Organisation{}, fmt.Errorf("sqlstore: create organisation: %w", err)
	}
	return s.organisationBy(ctx, "name", name)
}

// GetOrganisation returns the organisation with this id.
func (s *Store) GetOrganisation(ctx context.Context, id string) (store.Organisation, error) {
	return s.organisationBy(ctx, "id", id)
}

// organisationBy reads the organisation whose column (a constant: "id" or
// "name") equals value.
func (s *Store) organisationBy(ctx context.Context, column, value string) (store.Organisation, error) {
	o, err := scanOrganisation(s.db.QueryRowContext(ctx,
		s.rebind(`SELECT `+orgColumns+` FROM organisations WHERE `+column+` = ?`), value))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Organisation{}, notFound(fmt.Sprintf("organisation %s %q", column, value))
	}
	if err != nil {
		return store.Organisation{}, fmt.Errorf("sqlstore: get organisation: %w", err)
	}
	return o, nil
}

// ---- API keys --------------------------------------------------------------

// CreateAPIKey stores k with CreatedAt set to now. A duplicate id or hash
// answers ErrConflict, an unknown organisation ErrNotFound.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) (store.APIKey, error) {
	if err := required("create api key", "ID", k.ID, "OrganisationID", k.OrganisationID); err != nil {
		return store.APIKey{}, err
	}
	if len(k.Hash) == 0 {
		return store.APIKey{}, errors.New("sqlstore: create api key: Hash is required")
	}
	k.Hash = append([]byte(nil), k.Hash...)
	k.CreatedAt = s.stamp()
	_, err := s.db.ExecContext(ctx, s.rebind(
		`INSERT INTO api_keys (id, organisation_id, name, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
		k.ID, k.OrganisationID, k.Name, k.Hash, k.Prefix, s.timeArg(k.CreatedAt))
	switch v, constraint := s.classify(err); {
	case err == nil:
		return k, nil
	case v == uniqueViolation:
		return store.APIKey{}, conflict(fmt.Sprintf("api key %q: duplicate id or hash", k.ID), constraint)
	case v == foreignKeyViolation:
		return store.APIKey{}, notFound(fmt.Sprintf("organisation %q", k.OrganisationID))
	default:
		return store.APIKey{}, fmt.Errorf("sqlstore: create api key %q: %w", k.ID, err)
	}
}

// APIKeyByHash returns the key with this hash.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	var k store.APIKey
	err := s.db.QueryRowContext(ctx, s.rebind(
		`SELECT id, organisation_id, name, hash, prefix, created_at FROM api_keys WHERE hash = ?`), hash).
		Scan(&k.ID, &k.OrganisationID, &k.Name, &k.Hash, &k.Prefix, timeCol{&k.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return store.APIKey{}, notFound("api key")
	}
	if err != nil {
		return store.APIKey{}, fmt.Errorf("sqlstore: get api key: %w", err)
	}
	return k, nil
}

// ---- connector configs -----------------------------------------------------

const configColumns = `id, organisation_id, connector_name, settings, secrets_enc, created_at, updated_at`

func (s *Store) scanConnectorConfig(sc scanner) (store.ConnectorConfig, error) {
	var c store.ConnectorConfig
	var settings, secretsEnc string
	if err := sc.Scan(&c.ID, &c.OrganisationID, &c.ConnectorName, &settings, &secretsEnc,
		timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}); err != nil {
		return store.ConnectorConfig{}, err
	}
	var err error
	if c.Settings, err = decodeMap(settings); err != nil {
		return store.ConnectorConfig{}, fmt.Errorf("sqlstore: connector config %q: bad settings: %w", c.ID, err)
	}
	if c.Secrets, err = s.unseal(connectorConfigsTable, c.ID, secretsEnc); err != nil {
		return store.ConnectorConfig{}, err
	}
	return c, nil
}

// CreateConnectorConfig stores c with CreatedAt and UpdatedAt set to now.
// A duplicate id answers ErrConflict, an unknown organisation ErrNotFound.
func (s *Store) CreateConnectorConfig(ctx context.Context, c store.ConnectorConfig) (store.ConnectorConfig, error) {
	if err := required("create connector config",
		"ID", c.ID, "OrganisationID", c.OrganisationID, "ConnectorName", c.ConnectorName); err != nil {
		return store.ConnectorConfig{}, err
	}
	settings, err := encodeMap(c.Settings)
	if err != nil {
		return store.ConnectorConfig{}, fmt.Errorf("sqlstore: connector config %q: encode settings: %w", c.ID, err)
	}
	secretsEnc, err := s.seal(connectorConfigsTable, c.ID, c.Secrets)
	if err != nil {
		return store.ConnectorConfig{}, err
	}
	now := s.stamp()
	out, err := s.scanConnectorConfig(s.db.QueryRowContext(ctx, s.rebind(
		`INSERT INTO connector_configs (`+configColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+configColumns),
		c.ID, c.OrganisationID, c.ConnectorName, settings, secretsEnc, s.timeArg(now), s.timeArg(now)))
	switch v, constraint := s.classify(err); {
	case err == nil:
		return out, nil
	case v == uniqueViolation:
		return store.ConnectorConfig{}, conflict(fmt.Sprintf("connector config %q exists", c.ID), constraint)
	case v == foreignKeyViolation:
		return store.ConnectorConfig{}, notFound(fmt.Sprintf("organisation %q", c.OrganisationID))
	default:
		return store.ConnectorConfig{}, fmt.Errorf("sqlstore: create connector config %q: %w", c.ID, err)
	}
}

// GetConnectorConfig returns the organisation's connector config id.
func (s *Store) GetConnectorConfig(ctx context.Context, orgID, id string) (store.ConnectorConfig, error) {
	c, err := s.scanConnectorConfig(s.db.QueryRowContext(ctx, s.rebind(
		`SELECT `+configColumns+` FROM connector_configs WHERE organisation_id = ? AND id = ?`), orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.ConnectorConfig{}, notFound(fmt.Sprintf("connector config %q", id))
	}
	if err != nil {
		return store.ConnectorConfig{}, fmt.Errorf("sqlstore: get connector config %q: %w", id, err)
	}
	return c, nil
}

// ListConnectorConfigs returns the organisation's connector configs, oldest
// first.
func (s *Store) ListConnectorConfigs(ctx context.Context, orgID string) ([]store.ConnectorConfig, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(
		`SELECT `+configColumns+` FROM connector_configs WHERE organisation_id = ? ORDER BY created_at, id`), orgID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list connector configs: %w", err)
	}
	defer rows.Close()
	var out []store.ConnectorConfig
	for rows.Next() {
		c, err := s.scanConnectorConfig(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list connector configs: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list connector configs: %w", err)
	}
	return out, nil
}

// UpdateConnectorConfig replaces the Settings and Secrets of the config
// (c.OrganisationID, c.ID) and sets UpdatedAt to now; other fields of c are
// ignored. It returns the stored row.
func (s *Store) UpdateConnectorConfig(ctx context.Context, c store.ConnectorConfig) (store.ConnectorConfig, error) {
	settings, err := encodeMap(c.Settings)
	if err != nil {
		return store.ConnectorConfig{}, fmt.Errorf("sqlstore: connector config %q: encode settings: %w", c.ID, err)
	}
	secretsEnc, err := s.seal(connectorConfigsTable, c.ID, c.Secrets)
	if err != nil {
		return store.ConnectorConfig{}, err
	}
	out, err := s.scanConnectorConfig(s.db.QueryRowContext(ctx, s.rebind(
		`UPDATE connector_configs SET settings = ?, secrets_enc = ?, updated_at = ?
		 WHERE organisation_id = ? AND id = ? RETURNING `+configColumns),
		settings, secretsEnc, s.timeArg(s.stamp()), c.OrganisationID, c.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.ConnectorConfig{}, notFound(fmt.Sprintf("connector config %q", c.ID))
	}
	if err != nil {
		return store.ConnectorConfig{}, fmt.Errorf("sqlstore: update connector config %q: %w", c.ID, err)
	}
	return out, nil
}

// DeleteConnectorConfig deletes the organisation's config id; ErrConflict
// while connections use it (the foreign key decides, so there is no race
// with a concurrent CreateConnection).
func (s *Store) DeleteConnectorConfig(ctx context.Context, orgID, id string) error {
	res, err := s.db.ExecContext(ctx, s.rebind(
		`DELETE FROM connector_configs WHERE organisation_id = ? AND id = ?`), orgID, id)
	if v, constraint := s.classify(err); v == foreignKeyViolation {
		return conflict(fmt.Sprintf("connector config %q is used by connections", id), constraint)
	}
	return s.deleted(res, err, "connector config", id)
}

// deleted interprets a DELETE's result: zero rows is ErrNotFound.
func (s *Store) deleted(res sql.Result, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("sqlstore: delete %s %q: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: delete %s %q: %w", what, id, err)
	}
	if n == 0 {
		return notFound(fmt.Sprintf("%s %q", what, id))
	}
	return nil
}

// ---- customers -------------------------------------------------------------

// EnsureCustomer records customerID for the organisation (idempotent). An
// unknown organisation answers ErrNotFound.
func (s *Store) EnsureCustomer(ctx context.Context, orgID, customerID string) error {
	return s.ensureCustomer(ctx, s.db, orgID, customerID)
}

func (s *Store) ensureCustomer(ctx context.Context, q querier, orgID, customerID string) error {
	if err := required("ensure customer", "organisation id", orgID, "customer id", customerID); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, s.rebind(
		`INSERT INTO customers (organisation_id, id, created_at) VALUES (?, ?, ?)
		 ON CONFLICT (organisation_id, id) DO NOTHING`),
		orgID, customerID, s.timeArg(s.stamp()))
	if v, _ := s.classify(err); v == foreignKeyViolation {
		return notFound(fmt.Sprintf("organisation %q", orgID))
	}
	if err != nil {
		return fmt.Errorf("sqlstore: ensure customer %q: %w", customerID, err)
	}
	return nil
}

// ---- connections -----------------------------------------------------------

const connectionColumns = `id, organisation_id, connector_config_id, connector_name, customer_id, auth_type,
	status, status_message, settings, credentials_enc, version, created_at, updated_at`

func (s *Store) scanConnection(sc scanner) (store.Connection, error) {
	var c store.Connection
	var settings, credentialsEnc string
	if err := sc.Scan(&c.ID, &c.OrganisationID, &c.ConnectorConfigID, &c.ConnectorName, &c.CustomerID,
		&c.AuthType, &c.Status, &c.StatusMessage, &settings, &credentialsEnc, &c.Version,
		timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}); err != nil {
		return store.Connection{}, err
	}
	var err error
	if c.Settings, err = decodeMap(settings); err != nil {
		return store.Connection{}, fmt.Errorf("sqlstore: connection %q: bad settings: %w", c.ID, err)
	}
	if c.Credentials, err = s.unseal(connectionsTable, c.ID, credentialsEnc); err != nil {
		return store.Connection{}, err
	}
	return c, nil
}

// CreateConnection stores c with Version 1 and CreatedAt/UpdatedAt now; an
// empty Status becomes store.ConnectionActive and an empty ConnectorName
// the config's (a different one is refused). The customer is ensured in the
// same transaction. A config that is missing or of another organisation
// answers ErrNotFound, a duplicate id ErrConflict.
func (s *Store) CreateConnection(ctx context.Context, c store.Connection) (store.Connection, error) {
	if err := required("create connection", "ID", c.ID, "OrganisationID", c.OrganisationID,
		"ConnectorConfigID", c.ConnectorConfigID, "CustomerID", c.CustomerID); err != nil {
		return store.Connection{}, err
	}
	if c.Status == "" {
		c.Status = store.ConnectionActive
	}
	settings, err := encodeMap(c.Settings)
	if err != nil {
		return store.Connection{}, fmt.Errorf("sqlstore: connection %q: encode settings: %w", c.ID, err)
	}
	credentialsEnc, err := s.seal(connectionsTable, c.ID, c.Credentials)
	if err != nil {
		return store.Connection{}, err
	}
	now := s.stamp()
	var out store.Connection
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var configConnector string
		err := tx.QueryRowContext(ctx, s.rebind(
			`SELECT connector_name FROM connector_configs WHERE organisation_id = ? AND id = ?`),
			c.OrganisationID, c.ConnectorConfigID).Scan(&configConnector)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(fmt.Sprintf("connector config %q", c.ConnectorConfigID))
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create connection %q: read connector config: %w", c.ID, err)
		}
		switch c.ConnectorName {
		case "":
			c.ConnectorName = configConnector
		case configConnector:
		default:
			return fmt.Errorf("sqlstore: create connection %q: connector %q does not match connector config %q (%q)",
				c.ID, c.ConnectorName, c.ConnectorConfigID, configConnector)
		}
		if err := s.ensureCustomer(ctx, tx, c.OrganisationID, c.CustomerID); err != nil {
			return err
		}
		out, err = s.scanConnection(tx.QueryRowContext(ctx, s.rebind(
			`INSERT INTO connections (`+connectionColumns+`)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING `+connectionColumns),
			c.ID, c.OrganisationID, c.ConnectorConfigID, c.ConnectorName, c.CustomerID, c.AuthType,
			c.Status, c.StatusMessage, settings, credentialsEnc, s.timeArg(now), s.timeArg(now)))
		if v, constraint := s.classify(err); v == uniqueViolation {
			return conflict(fmt.Sprintf("connection %q exists", c.ID), constraint)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create connection %q: %w", c.ID, err)
		}
		return nil
	})
	if err != nil {
		return store.Connection{}, err
	}
	return out, nil
}

// GetConnection returns the organisation's connection id.
func (s *Store) GetConnection(ctx context.Context, orgID, id string) (store.Connection, error) {
	c, err := s.scanConnection(s.db.QueryRowContext(ctx, s.rebind(
		`SELECT `+connectionColumns+` FROM connections WHERE organisation_id = ? AND id = ?`), orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Connection{}, notFound(fmt.Sprintf("connection %q", id))
	}
	if err != nil {
		return store.Connection{}, fmt.Errorf("sqlstore: get connection %q: %w", id, err)
	}
	return c, nil
}

// ListConnections returns the organisation's connections matching f, oldest
// first.
func (s *Store) ListConnections(ctx context.Context, orgID string, f store.ConnectionFilter) ([]store.Connection, error) {
	q := `SELECT ` + connectionColumns + ` FROM connections WHERE organisation_id = ?`
	args := []any{orgID}
	if f.CustomerID != "" {
		q += ` AND customer_id = ?`
		args = append(args, f.CustomerID)
	}
	if f.ConnectorConfigID != "" {
		q += ` AND connector_config_id = ?`
		args = append(args, f.ConnectorConfigID)
	}
	q += ` ORDER BY created_at, id`
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list connections: %w", err)
	}
	defer rows.Close()
	var out []store.Connection
	for rows.Next() {
		c, err := s.scanConnection(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list connections: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list connections: %w", err)
	}
	return out, nil
}

// UpdateConnection writes c's Status, StatusMessage, Settings and
// Credentials if the stored Version equals c.Version, in one conditional
// UPDATE (so concurrent updaters of one version: exactly one wins). It
// returns the stored row, whose Version is c.Version+1. Other fields of c
// are ignored.
func (s *Store) UpdateConnection(ctx context.Context, c store.Connection) (store.Connection, error) {
	if err := required("update connection", "Status", c.Status); err != nil {
		return store.Connection{}, err
	}
	settings, err := encodeMap(c.Settings)
	if err != nil {
		return store.Connection{}, fmt.Errorf("sqlstore: connection %q: encode settings: %w", c.ID, err)
	}
	credentialsEnc, err := s.seal(connectionsTable, c.ID, c.Credentials)
	if err != nil {
		return store.Connection{}, err
	}
	out, err := s.scanConnection(s.db.QueryRowContext(ctx, s.rebind(
		`UPDATE connections
		 SET status = ?, status_message = ?, settings = ?, credentials_enc = ?, version = version + 1, updated_at = ?
		 WHERE organisation_id = ? AND id = ? AND version = ?
		 RETURNING `+connectionColumns),
		c.Status, c.StatusMessage, settings, credentialsEnc, s.timeArg(s.stamp()), c.OrganisationID, c.ID, c.Version))
	if err == nil {
		return out, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Connection{}, fmt.Errorf("sqlstore: update connection %q: %w", c.ID, err)
	}
	// No row matched: missing, or another version.
	var stored int64
	err = s.db.QueryRowContext(ctx, s.rebind(
		`SELECT version FROM connections WHERE organisation_id = ? AND id = ?`), c.OrganisationID, c.ID).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Connection{}, notFound(fmt.Sprintf("connection %q", c.ID))
	}
	if err != nil {
		return store.Connection{}, fmt.Errorf("sqlstore: update connection %q: %w", c.ID, err)
	}
	return store.Connection{}, fmt.Errorf("sqlstore: update connection %q: version %d is stale (stored %d): %w",
		c.ID, c.Version, stored, store.ErrConflict)
}

// DeleteConnection deletes the organisation's connection id.
func (s *Store) DeleteConnection(ctx context.Context, orgID, id string) error {
	res, err := s.db.ExecContext(ctx, s.rebind(
		`DELETE FROM connections WHERE organisation_id = ? AND id = ?`), orgID, id)
	return s.deleted(res, err, "connection", id)
}
