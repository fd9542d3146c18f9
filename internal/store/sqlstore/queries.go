package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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

// CreateOrganisation stores o with CreatedAt set to now; a name or id in
// use answers ErrConflict.
func (s *Store) CreateOrganisation(ctx context.Context, o store.Organisation) (store.Organisation, error) {
	if err := required("create organisation", "ID", o.ID, "Name", o.Name); err != nil {
		return store.Organisation{}, err
	}
	o.CreatedAt = s.stamp()
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO organisations (id, name, created_at) VALUES (?, ?, ?)`),
		o.ID, o.Name, s.timeArg(o.CreatedAt))
	if v, constraint := s.classify(err); v == uniqueViolation {
		return store.Organisation{}, conflict(fmt.Sprintf("organisation %q: name or id in use", o.Name), constraint)
	}
	if err != nil {
		return store.Organisation{}, fmt.Errorf("sqlstore: create organisation: %w", err)
	}
	return o, nil
}

// ListOrganisations returns the page p of the organisations.
func (s *Store) ListOrganisations(ctx context.Context, p store.Page) ([]store.Organisation, error) {
	q, args := s.paged(`SELECT `+orgColumns+` FROM organisations WHERE 1 = 1`, nil, p)
	return list(ctx, s, "organisations", q, args, scanOrganisation)
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

const apiKeyColumns = `id, organisation_id, name, hash, prefix, created_at, expires_at, revoked_at, last_used_at, replaced_by`

func scanAPIKey(sc scanner) (store.APIKey, error) {
	var k store.APIKey
	err := sc.Scan(&k.ID, &k.OrganisationID, &k.Name, &k.Hash, &k.Prefix, timeCol{&k.CreatedAt},
		nullTimeCol{&k.ExpiresAt}, nullTimeCol{&k.RevokedAt}, nullTimeCol{&k.LastUsedAt}, &k.ReplacedBy)
	return k, err
}

// CreateAPIKey stores k with CreatedAt set to now and ExpiresAt as given
// (the other lifecycle fields empty). A duplicate id or hash answers
// ErrConflict, an unknown organisation ErrNotFound.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) (store.APIKey, error) {
	return s.createAPIKey(ctx, s.db, k)
}

func (s *Store) createAPIKey(ctx context.Context, q querier, k store.APIKey) (store.APIKey, error) {
	if err := required("create api key", "ID", k.ID, "OrganisationID", k.OrganisationID); err != nil {
		return store.APIKey{}, err
	}
	if len(k.Hash) == 0 {
		return store.APIKey{}, errors.New("sqlstore: create api key: Hash is required")
	}
	k.Hash = append([]byte(nil), k.Hash...)
	k.CreatedAt = s.stamp()
	if !k.ExpiresAt.IsZero() {
		k.ExpiresAt = k.ExpiresAt.UTC().Truncate(time.Microsecond)
	}
	k.RevokedAt, k.LastUsedAt, k.ReplacedBy = time.Time{}, time.Time{}, ""
	_, err := q.ExecContext(ctx, s.rebind(
		`INSERT INTO api_keys (id, organisation_id, name, hash, prefix, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		k.ID, k.OrganisationID, k.Name, k.Hash, k.Prefix, s.timeArg(k.CreatedAt), s.nullTimeArg(k.ExpiresAt))
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
	k, err := scanAPIKey(s.db.QueryRowContext(ctx, s.rebind(
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ?`), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.APIKey{}, notFound("api key")
	}
	if err != nil {
		return store.APIKey{}, fmt.Errorf("sqlstore: get api key: %w", err)
	}
	return k, nil
}

// GetAPIKey returns the organisation's key id.
func (s *Store) GetAPIKey(ctx context.Context, orgID, id string) (store.APIKey, error) {
	return s.getAPIKey(ctx, s.db, orgID, id)
}

func (s *Store) getAPIKey(ctx context.Context, q querier, orgID, id string) (store.APIKey, error) {
	k, err := scanAPIKey(q.QueryRowContext(ctx, s.rebind(
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE organisation_id = ? AND id = ?`), orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.APIKey{}, notFound(fmt.Sprintf("api key %q", id))
	}
	if err != nil {
		return store.APIKey{}, fmt.Errorf("sqlstore: get api key %q: %w", id, err)
	}
	return k, nil
}

// ListAPIKeys returns the page p of the organisation's keys.
func (s *Store) ListAPIKeys(ctx context.Context, orgID string, p store.Page) ([]store.APIKey, error) {
	q, args := s.paged(`SELECT `+apiKeyColumns+` FROM api_keys WHERE organisation_id = ?`, []any{orgID}, p)
	return list(ctx, s, "api keys", q, args, func(sc scanner) (store.APIKey, error) { return scanAPIKey(sc) })
}

// RevokeAPIKey sets the key's RevokedAt to now, unless it is set already.
func (s *Store) RevokeAPIKey(ctx context.Context, orgID, id string) (store.APIKey, error) {
	k, err := scanAPIKey(s.db.QueryRowContext(ctx, s.rebind(
		`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE organisation_id = ? AND id = ? RETURNING `+apiKeyColumns),
		s.timeArg(s.stamp()), orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.APIKey{}, notFound(fmt.Sprintf("api key %q", id))
	}
	if err != nil {
		return store.APIKey{}, fmt.Errorf("sqlstore: revoke api key %q: %w", id, err)
	}
	return k, nil
}

// RotateAPIKey stores next and marks key id replaced by it, expiring at
// now+grace (or its earlier expiry), in one transaction. The old key's
// update is conditional on its still being unreplaced and unrevoked, so of
// concurrent rotations of one key exactly one wins.
func (s *Store) RotateAPIKey(ctx context.Context, orgID, id string, next store.APIKey, grace time.Duration) (store.APIKey, store.APIKey, error) {
	if grace < 0 {
		return store.APIKey{}, store.APIKey{}, errors.New("sqlstore: rotate api key: negative grace period")
	}
	if next.OrganisationID != orgID {
		return store.APIKey{}, store.APIKey{}, fmt.Errorf("sqlstore: rotate api key %q: the new key belongs to another organisation", id)
	}
	var old, created store.APIKey
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if old, err = s.getAPIKey(ctx, tx, orgID, id); err != nil {
			return err
		}
		now := s.stamp()
		switch old.State(now) {
		case store.APIKeyRevoked:
			return fmt.Errorf("sqlstore: rotate api key %q: it is revoked: %w", id, store.ErrConflict)
		case store.APIKeyExpired:
			return fmt.Errorf("sqlstore: rotate api key %q: it has expired: %w", id, store.ErrConflict)
		}
		if old.ReplacedBy != "" {
			return fmt.Errorf("sqlstore: rotate api key %q: it was replaced by %q already: %w", id, old.ReplacedBy, store.ErrConflict)
		}
		if created, err = s.createAPIKey(ctx, tx, next); err != nil {
			return err
		}
		expires := now.Add(grace)
		if !old.ExpiresAt.IsZero() && old.ExpiresAt.Before(expires) {
			expires = old.ExpiresAt
		}
		res, err := tx.ExecContext(ctx, s.rebind(
			`UPDATE api_keys SET replaced_by = ?, expires_at = ?
			 WHERE organisation_id = ? AND id = ? AND replaced_by = '' AND revoked_at IS NULL`),
			created.ID, s.timeArg(expires), orgID, id)
		if err != nil {
			return fmt.Errorf("sqlstore: rotate api key %q: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: rotate api key %q: %w", id, err)
		} else if n == 0 {
			return fmt.Errorf("sqlstore: rotate api key %q: changed concurrently: %w", id, store.ErrConflict)
		}
		old.ReplacedBy, old.ExpiresAt = created.ID, expires
		return nil
	})
	if err != nil {
		return store.APIKey{}, store.APIKey{}, err
	}
	return old, created, nil
}

// TouchAPIKey records a use of key id at at, unless a later one is
// recorded; an unknown id is not an error (the key may just have been
// deleted).
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	t := s.timeArg(at.UTC().Truncate(time.Microsecond))
	if _, err := s.db.ExecContext(ctx, s.rebind(
		`UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`), t, id, t); err != nil {
		return fmt.Errorf("sqlstore: touch api key %q: %w", id, err)
	}
	return nil
}

// ---- pages -----------------------------------------------------------------

// paged completes q (a SELECT ending in a WHERE clause) with the page p of
// the (created_at, id) order: the rows after p.After, at most p.Limit.
func (s *Store) paged(q string, args []any, p store.Page) (string, []any) {
	if p.After != nil {
		t := s.timeArg(p.After.CreatedAt.UTC().Truncate(time.Microsecond))
		q += ` AND (created_at > ? OR (created_at = ? AND id > ?))`
		args = append(args, t, t, p.After.ID)
	}
	q += ` ORDER BY created_at, id`
	if p.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, p.Limit)
	}
	return q, args
}

// list runs a SELECT and scans every row.
func list[T any](ctx context.Context, s *Store, what, q string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list %s: %w", what, err)
	}
	return out, nil
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

// ListConnectorConfigs returns the page p of the organisation's connector
// configs.
func (s *Store) ListConnectorConfigs(ctx context.Context, orgID string, p store.Page) ([]store.ConnectorConfig, error) {
	q, args := s.paged(`SELECT `+configColumns+` FROM connector_configs WHERE organisation_id = ?`, []any{orgID}, p)
	return list(ctx, s, "connector configs", q, args, s.scanConnectorConfig)
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

// ListConnections returns the page f.Page of the organisation's
// connections matching f.
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
	q, args = s.paged(q, args, f.Page)
	return list(ctx, s, "connections", q, args, s.scanConnection)
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
