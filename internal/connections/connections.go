// Package connections turns a caller's connection id into an open
// crm.Provider: it loads the connection and its connector config from the
// store (scoped to the caller's organisation), opens the registered
// connector's provider and wraps it with the schema cache.
package connections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
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

// Resolver opens providers for connections. Opened providers are kept
// in-process for a short while (connTTL), so the hot path does not query
// the store on every call; changes made through this replica take effect at
// once (Forget), changes made through another replica within connTTL.
type Resolver struct {
	store      store.Store
	connectors Registry
	schemas    *schemacache.Wrapper
	connTTL    time.Duration
	log        *slog.Logger
	obs        cache.Observer
	now        func() time.Time

	mu        sync.Mutex
	open      map[string]opened // by organisation + "/" + connection id
	lastSweep time.Time         // when expired entries were last dropped
}

// opened is what the hot path needs of an opened connection: its provider
// (which holds what it needs of the connection's settings and
// credentials). The connection row itself is not kept: with thousands of
// connections its decoded settings and secrets were a large part of the
// gateway's heap.
type opened struct {
	p       crm.Provider
	expires time.Time
}

// maxOpen bounds the in-process table of opened connections.
const maxOpen = 100_000

// NewResolver returns a Resolver. Schemas are cached in schemas for
// schemaTTL; opened connections are reused for connTTL (0 disables that).
func NewResolver(s store.Store, connectors Registry, schemas schemacache.Tiers, schemaTTL, connTTL time.Duration, log *slog.Logger) *Resolver {
	return &Resolver{store: s, connectors: connectors, schemas: schemacache.NewWrapper(schemas, schemaTTL, log), connTTL: connTTL, log: log,
		now: time.Now, open: map[string]opened{}}
}

// ForgetAll empties the in-process table (after a connector config changed).
func (r *Resolver) ForgetAll() {
	r.mu.Lock()
	r.open = map[string]opened{}
	r.mu.Unlock()
}

// Forget drops a connection from the in-process table (after it changed).
func (r *Resolver) Forget(orgID, id string) {
	r.mu.Lock()
	delete(r.open, orgID+"/"+id)
	r.mu.Unlock()
}

// Connector returns the registered connector of this name.
func (r *Resolver) Connector(name string) (crm.Connector, bool) {
	c, ok := r.connectors[name]
	return c, ok
}

// Open returns the provider of connection id in organisation orgID.
// A missing connection, or one of another organisation, is NotFound.
func (r *Resolver) Open(ctx context.Context, orgID, id string) (crm.Provider, error) {
	key := orgID + "/" + id
	if r.connTTL > 0 {
		r.mu.Lock()
		o, ok := r.open[key]
		r.mu.Unlock()
		if ok && r.now().Before(o.expires) {
			r.observe(ctx, "hit")
			return o.p, nil
		}
		r.observe(ctx, "miss")
	}
	conn, err := r.store.GetConnection(ctx, orgID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.New(codes.NotFound, "CONNECTION_NOT_FOUND", "connection %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load connection: %w", err)
	}
	if conn.Status == store.ConnectionNeedsReauth {
		return nil, apierr.New(codes.FailedPrecondition, "CONNECTION_NEEDS_REAUTH",
			"connection %q needs re-authorisation by its owner: %s", id, conn.StatusMessage)
	}
	p, err := r.OpenConnection(ctx, conn)
	if err != nil {
		return nil, err
	}
	if r.connTTL > 0 {
		now := r.now()
		r.mu.Lock()
		if now.Sub(r.lastSweep) >= r.connTTL {
			// Expired entries are dropped once per TTL (O(n) per TTL, not
			// per call), so the table holds about the connections used in
			// the last TTL rather than every connection ever opened.
			r.lastSweep = now
			for k, o := range r.open {
				if !now.Before(o.expires) {
					delete(r.open, k)
				}
			}
		}
		if len(r.open) >= maxOpen {
			r.open = map[string]opened{}
		}
		r.open[key] = opened{p: p, expires: now.Add(r.connTTL)}
		r.mu.Unlock()
	}
	return p, nil
}

// WithObserver makes r report each lookup of its table of opened
// connections as cache "connection" (metrics); it returns r.
func (r *Resolver) WithObserver(o cache.Observer) *Resolver {
	r.obs = o
	return r
}

func (r *Resolver) observe(ctx context.Context, result string) {
	if r.obs != nil {
		r.obs.CacheLookup(ctx, "connection", result)
	}
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
	p, err := connector.Open(Params(cfg, conn))
	if err != nil {
		return nil, fmt.Errorf("open %s connection %s: %w", cfg.ConnectorName, conn.ID, err)
	}
	return r.schemas.Wrap(p, "schema:"+conn.ID+":"+accountHash(cfg, conn)+":"), nil
}

// accountHash identifies the provider account a connection points at (its
// public settings and its config's), so moving a connection to another
// account (location, base URL) never serves the old account's cached
// schema. Token rotations do not change it.
func accountHash(cfg store.ConnectorConfig, conn store.Connection) string {
	h := sha256.New()
	for _, m := range []map[string]string{cfg.Settings, conn.Settings} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if strings.HasPrefix(k, "token_") { // OAuth bookkeeping, not the account
				continue
			}
			_, _ = fmt.Fprintf(h, "%q=%q;", k, m[k])
		}
		_, _ = h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// Params is what a connector needs to open a connection.
func Params(cfg store.ConnectorConfig, conn store.Connection) crm.ConnectionParams {
	return crm.ConnectionParams{
		OrganisationID:    conn.OrganisationID,
		ConnectionID:      conn.ID,
		ConnectorConfigID: cfg.ID,
		ConfigSettings:    cfg.Settings,
		ConfigSecrets:     cfg.Secrets,
		Settings:          conn.Settings,
		Credentials:       conn.Credentials,
	}
}

// ConnectorName returns the name of the connector ("ghl") of connection id
// in organisation orgID, for messages naming the provider (e.g. a
// capability it lacks). It reads the store: not for the hot path.
func (r *Resolver) ConnectorName(ctx context.Context, orgID, id string) (string, error) {
	conn, err := r.store.GetConnection(ctx, orgID, id)
	if err != nil {
		return "", fmt.Errorf("load connection: %w", err)
	}
	cfg, err := r.store.GetConnectorConfig(ctx, orgID, conn.ConnectorConfigID)
	if err != nil {
		return "", fmt.Errorf("load connector config of connection %s: %w", id, err)
	}
	return cfg.ConnectorName, nil
}
