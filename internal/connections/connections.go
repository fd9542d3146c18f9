// Package connections turns a caller's connection id into an open
// crm.Provider: it loads the connection and its connector config from the
// store (scoped to the caller's organisation), opens the registered
// connector's provider and wraps it with the schema cache.
package connections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/schemacache"
	"github.com/crmgate/crmgate/internal/store"
)

// Registry maps connector names to connectors; cmd/gateway builds it.
type Registry map[string]crm.Connector

// Resolver opens providers for connections.
type Resolver struct {
	store      store.Store
	connectors Registry
	cache      cache.Cache
	schemaTTL  time.Duration
	log        *slog.Logger
}

// NewResolver returns a Resolver. c caches schemas for schemaTTL.
func NewResolver(s store.Store, connectors Registry, c cache.Cache, schemaTTL time.Duration, log *slog.Logger) *Resolver {
	return &Resolver{store: s, connectors: connectors, cache: c, schemaTTL: schemaTTL, log: log}
}

// Connector returns the registered connector of this name.
func (r *Resolver) Connector(name string) (crm.Connector, bool) {
	c, ok := r.connectors[name]
	return c, ok
}

// Open returns the provider of connection id in organisation orgID.
// A missing connection, or one of another organisation, is NotFound.
func (r *Resolver) Open(ctx context.Context, orgID, id string) (crm.Provider, store.Connection, error) {
	conn, err := r.store.GetConnection(ctx, orgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.Connection{}, apierr.New(codes.NotFound, "CONNECTION_NOT_FOUND", "connection %q not found", id)
	}
	if err != nil {
		return nil, store.Connection{}, fmt.Errorf("load connection: %w", err)
	}
	if conn.Status == store.ConnectionNeedsReauth {
		return nil, conn, apierr.New(codes.FailedPrecondition, "CONNECTION_NEEDS_REAUTH",
			"connection %q needs re-authorisation by its owner: %s", id, conn.StatusMessage)
	}
	p, err := r.OpenConnection(ctx, conn)
	return p, conn, err
}

// OpenConnection opens the provider of a loaded connection.
func (r *Resolver) OpenConnection(ctx context.Context, conn store.Connection) (crm.Provider, error) {
	cfg, err := r.store.GetConnectorConfig(ctx, conn.OrganisationID, conn.ConnectorConfigID)
	if err != nil {
		return nil, fmt.Errorf("load connector config of connection %s: %w", conn.ID, err)
	}
	connector, ok := r.connectors[cfg.ConnectorName]
	if !ok {
		return nil, apierr.New(codes.FailedPrecondition, "CONNECTOR_UNAVAILABLE", "connector %q is not enabled on this gateway", cfg.ConnectorName)
	}
	p, err := connector.Open(crm.ConnectionParams{
		ConnectionID:   conn.ID,
		ConfigSettings: cfg.Settings,
		ConfigSecrets:  cfg.Secrets,
		Settings:       conn.Settings,
		Credentials:    conn.Credentials,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s connection %s: %w", cfg.ConnectorName, conn.ID, err)
	}
	return schemacache.Wrap(p, r.cache, "schema:"+conn.ID+":", r.schemaTTL, r.log), nil
}
