// Package schemacache is a caching decorator around a crm.Provider: object
// lists and object schemas (object + properties) are cached per
// connection, and every schema write made through the decorator
// invalidates what it changes. Cache failures degrade to uncached calls.
//
// Three tiers (Tiers): decoded values in process (Local), encoded values in
// a cache shared by the replicas (Redis), and per-connection epochs in a
// cache whose deletes reach every replica (the near cache over Redis, whose
// invalidations are broadcast). A hit in steady state is an epoch read and a
// map lookup in process: no network round trip, no decoding.
package schemacache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/crm"
)

// Provider wraps a crm.Provider. It implements every capability interface;
// those the wrapped provider lacks answer crm.ErrUnsupported.
//
// One is kept per open connection, so it holds only what is the
// connection's own: the wrapped provider and its keys; the tiers are
// shared (Wrapper).
type Provider struct {
	inner crm.Provider
	w     *Wrapper
	// epochKey is scope + "epoch"; the scope (prefix) is its head, so one
	// string holds both.
	epochKey string
}

// Wrapper wraps providers with caching in one set of tiers.
type Wrapper struct {
	epochs cache.Cache
	data   cache.Cache // nil: data lives in local only
	local  *Local      // nil: decode on every hit
	obs    cache.Observer
	ttl    time.Duration
	log    *slog.Logger
}

var (
	_ crm.Provider           = (*Provider)(nil)
	_ crm.SchemaReader       = (*Provider)(nil)
	_ crm.SchemaWriter       = (*Provider)(nil)
	_ crm.SchemaRefresher    = (*Provider)(nil)
	_ crm.RecordReader       = (*Provider)(nil)
	_ crm.RecordWriter       = (*Provider)(nil)
	_ crm.AssociationManager = (*Provider)(nil)
)

// Tiers are where the decorator keeps what it caches.
type Tiers struct {
	// Epochs holds each connection's current epoch; invalidation deletes
	// it. It must be the cache every replica reads and invalidates through
	// (one in-process Memory for a single replica; the near cache over
	// Redis for several). Required.
	Epochs cache.Cache
	// Data holds encoded (compressed JSON) entries: Redis, shared between
	// replicas, or an in-process Memory. Nil keeps entries in Local only.
	Data cache.Cache
	// Local holds decoded entries in process, a bounded hot set in front
	// of Data. Nil decodes Data's bytes on every hit.
	Local *Local
	// Observer is told each schema read's outcome as cache "schema": a
	// "hit" (Local or Data) or a "miss" (the provider was called); nil:
	// none.
	Observer cache.Observer
}

// NewWrapper returns a Wrapper caching in t; entries live for ttl.
func NewWrapper(t Tiers, ttl time.Duration, log *slog.Logger) *Wrapper {
	return &Wrapper{epochs: t.Epochs, data: t.Data, local: t.Local, obs: t.Observer, ttl: ttl, log: log}
}

// Wrap returns inner with schema caching under keys starting with scope
// (e.g. "schema:<connection id>:").
func (w *Wrapper) Wrap(inner crm.Provider, scope string) *Provider {
	return &Provider{inner: inner, w: w, epochKey: scope + epochSuffix}
}

// Wrap returns inner with schema caching under keys starting with scope
// (e.g. "schema:<connection id>:"); entries live for ttl.
func Wrap(inner crm.Provider, t Tiers, scope string, ttl time.Duration, log *slog.Logger) *Provider {
	return NewWrapper(t, ttl, log).Wrap(inner, scope)
}

// WrapShared is Wrap with one cache for epochs and encoded entries and no
// decoded tier (tests, tools).
func WrapShared(inner crm.Provider, c cache.Cache, scope string, ttl time.Duration, log *slog.Logger) *Provider {
	return Wrap(inner, Tiers{Epochs: c, Data: c}, scope, ttl, log)
}

// Unwrap returns the wrapped provider.
func (p *Provider) Unwrap() crm.Provider { return p.inner }

// Keys. Entries live under an epoch: prefix + "epoch" holds a random
// value, and data keys are prefix + epoch + ":" + what. Invalidation deletes
// the epoch, so every entry of the connection becomes unreachable at once.
// This also closes the race of a read that fetched the old schema before a
// write and stores it after the write's invalidation: it stores it under
// the old epoch, which no reader uses again (a new epoch is random).
const epochSuffix = "epoch"

// prefix is the connection's scope.
func (p *Provider) prefix() string { return p.epochKey[:len(p.epochKey)-len(epochSuffix)] }

// epoch returns the current epoch, starting a new one if there is none.
func (p *Provider) epoch(ctx context.Context) string {
	if v, err := p.w.epochs.Get(ctx, p.epochKey); err == nil && len(v) > 0 {
		return string(v)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	e := hex.EncodeToString(b)
	if err := p.w.epochs.Set(ctx, p.epochKey, []byte(e), p.w.ttl); err != nil {
		p.w.log.WarnContext(ctx, "schema cache: set epoch failed", "err", err)
	}
	return e
}

func objectsKey(epoch string) string        { return epoch + ":objects" }
func schemaKey(epoch, object string) string { return epoch + ":schema:" + object }

// load returns the cached value under the current epoch, or fetches,
// stores and returns it. Values from Local are shared: read-only.
func load[T any](ctx context.Context, p *Provider, key func(epoch string) string, fetch func() (T, error)) (T, error) {
	k := p.prefix() + key(p.epoch(ctx))
	if p.w.local != nil {
		if v, ok := p.w.local.get(k); ok {
			if t, ok := v.(T); ok {
				p.observe(ctx, "hit")
				return t, nil
			}
		}
	}
	if p.w.data != nil {
		if raw, err := p.w.data.Get(ctx, k); err == nil {
			var v T
			if err := decode(raw, &v); err == nil {
				if p.w.local != nil {
					if s, ok := any(&v).(*crm.Schema); ok {
						compact(s)
					}
					p.w.local.set(k, v, p.w.ttl)
				}
				p.observe(ctx, "hit")
				return v, nil
			}
			p.w.log.WarnContext(ctx, "schema cache: undecodable entry, refetching", "key", k)
		} else if !errors.Is(err, cache.ErrMiss) {
			p.w.log.WarnContext(ctx, "schema cache: get failed, calling provider", "err", err)
		}
	}
	p.observe(ctx, "miss")
	v, err := fetch()
	if err != nil {
		return v, err
	}
	p.store(ctx, k, v)
	return v, nil
}

func (p *Provider) observe(ctx context.Context, result string) {
	if p.w.obs != nil {
		p.w.obs.CacheLookup(ctx, "schema", result)
	}
}

// store keeps v under k in the decoded and encoded tiers.
func (p *Provider) store(ctx context.Context, k string, v any) {
	if p.w.local != nil {
		p.w.local.set(k, v, p.w.ttl)
	}
	if p.w.data != nil {
		// The entry is written into a pooled buffer and handed to Set,
		// which does not keep it (cache.Cache): the in-process Memory
		// copies it once, at its exact size; Redis sends it.
		e := encoders.Get().(*encoder)
		defer e.release()
		if raw, err := e.encode(v); err == nil {
			if err := p.w.data.Set(ctx, k, raw, p.w.ttl); err != nil {
				p.w.log.WarnContext(ctx, "schema cache: set failed", "err", err)
			}
		}
	}
}

// RefreshSchema implements crm.SchemaRefresher. The cached schema can only
// be stale when this replica's copy of the connection's epoch lags behind
// the shared one (another replica changed the schema and its invalidation
// broadcast has not arrived yet): it reads the shared epoch (one Redis
// read, no provider call) and, if it differs, drops the stale copy and
// loads the schema under the current epoch. With one replica (an epoch
// cache without a shared tier) the cache is never stale: it reports false.
func (p *Provider) RefreshSchema(ctx context.Context, objectName string) (crm.Schema, bool, error) {
	f, ok := p.w.epochs.(cache.Fresher)
	if !ok {
		return crm.Schema{}, false, nil
	}
	local := p.epoch(ctx)
	shared, err := f.GetFresh(ctx, p.epochKey)
	switch {
	case err == nil && string(shared) == local:
		return crm.Schema{}, false, nil // up to date: the request really disagrees
	case err != nil && !errors.Is(err, cache.ErrMiss):
		p.w.log.WarnContext(ctx, "schema cache: shared epoch unreadable; keeping the cached schema", "err", err)
		return crm.Schema{}, false, nil
	}
	p.observe(ctx, "stale")
	s, err := p.GetSchema(ctx, objectName)
	return s, err == nil, err
}

// invalidate drops every cached entry of the connection (after a write).
func (p *Provider) invalidate(ctx context.Context) {
	if err := p.w.epochs.Delete(ctx, p.epochKey); err != nil {
		p.w.log.WarnContext(ctx, "schema cache: invalidation failed", "err", err)
	}
}

// Check implements crm.Provider.
func (p *Provider) Check(ctx context.Context) error { return p.inner.Check(ctx) }

// ListObjects implements crm.SchemaReader, cached.
func (p *Provider) ListObjects(ctx context.Context) ([]crm.Object, error) {
	r, ok := p.inner.(crm.SchemaReader)
	if !ok {
		return nil, crm.ErrUnsupported
	}
	return load(ctx, p, objectsKey, func() ([]crm.Object, error) { return r.ListObjects(ctx) })
}

// GetSchema implements crm.SchemaReader, cached.
func (p *Provider) GetSchema(ctx context.Context, objectName string) (crm.Schema, error) {
	r, ok := p.inner.(crm.SchemaReader)
	if !ok {
		return crm.Schema{}, crm.ErrUnsupported
	}
	return load(ctx, p, func(e string) string { return schemaKey(e, objectName) }, func() (crm.Schema, error) { return r.GetSchema(ctx, objectName) })
}

func (p *Provider) writer() (crm.SchemaWriter, error) {
	w, ok := p.inner.(crm.SchemaWriter)
	if !ok {
		return nil, crm.ErrUnsupported
	}
	return w, nil
}

// CreateObject implements crm.SchemaWriter and invalidates the object list.
func (p *Provider) CreateObject(ctx context.Context, in crm.ObjectInput) (crm.Schema, error) {
	w, err := p.writer()
	if err != nil {
		return crm.Schema{}, err
	}
	s, err := w.CreateObject(ctx, in)
	p.invalidate(ctx)
	return s, err
}

// UpdateObject implements crm.SchemaWriter and invalidates the object.
func (p *Provider) UpdateObject(ctx context.Context, objectName string, patch crm.ObjectPatch) (crm.Object, error) {
	w, err := p.writer()
	if err != nil {
		return crm.Object{}, err
	}
	o, err := w.UpdateObject(ctx, objectName, patch)
	p.invalidate(ctx)
	return o, err
}

// CreateProperty implements crm.SchemaWriter and invalidates the object's schema.
func (p *Provider) CreateProperty(ctx context.Context, objectName string, prop crm.Property) (crm.Property, error) {
	w, err := p.writer()
	if err != nil {
		return crm.Property{}, err
	}
	out, err := w.CreateProperty(ctx, objectName, prop)
	p.invalidate(ctx)
	return out, err
}

// UpdateProperty implements crm.SchemaWriter and invalidates the object's schema.
func (p *Provider) UpdateProperty(ctx context.Context, objectName, propertyID string, patch crm.PropertyPatch) (crm.Property, error) {
	w, err := p.writer()
	if err != nil {
		return crm.Property{}, err
	}
	out, err := w.UpdateProperty(ctx, objectName, propertyID, patch)
	p.invalidate(ctx)
	return out, err
}

// DeleteProperty implements crm.SchemaWriter and invalidates the object's schema.
func (p *Provider) DeleteProperty(ctx context.Context, objectName, propertyID string) error {
	w, err := p.writer()
	if err != nil {
		return err
	}
	err = w.DeleteProperty(ctx, objectName, propertyID)
	p.invalidate(ctx)
	return err
}

func (p *Provider) recordReader() (crm.RecordReader, error) {
	r, ok := p.inner.(crm.RecordReader)
	if !ok {
		return nil, crm.ErrUnsupported
	}
	return r, nil
}

func (p *Provider) recordWriter() (crm.RecordWriter, error) {
	r, ok := p.inner.(crm.RecordWriter)
	if !ok {
		return nil, crm.ErrUnsupported
	}
	return r, nil
}

func (p *Provider) associations() (crm.AssociationManager, error) {
	r, ok := p.inner.(crm.AssociationManager)
	if !ok {
		return nil, crm.ErrUnsupported
	}
	return r, nil
}

// GetRecord passes through.
func (p *Provider) GetRecord(ctx context.Context, objectName, id string) (crm.Record, error) {
	r, err := p.recordReader()
	if err != nil {
		return crm.Record{}, err
	}
	return r.GetRecord(ctx, objectName, id)
}

// ListRecords passes through.
func (p *Provider) ListRecords(ctx context.Context, objectName string, q crm.RecordQuery) (crm.RecordPage, error) {
	r, err := p.recordReader()
	if err != nil {
		return crm.RecordPage{}, err
	}
	return r.ListRecords(ctx, objectName, q)
}

// SearchRecords passes through.
func (p *Provider) SearchRecords(ctx context.Context, objectName string, q crm.RecordQuery) (crm.RecordPage, error) {
	r, err := p.recordReader()
	if err != nil {
		return crm.RecordPage{}, err
	}
	return r.SearchRecords(ctx, objectName, q)
}

// CreateRecord passes through.
func (p *Provider) CreateRecord(ctx context.Context, objectName string, in crm.RecordInput) (crm.Record, error) {
	w, err := p.recordWriter()
	if err != nil {
		return crm.Record{}, err
	}
	return w.CreateRecord(ctx, objectName, in)
}

// UpdateRecord passes through.
func (p *Provider) UpdateRecord(ctx context.Context, objectName, id string, in crm.RecordInput) (crm.Record, error) {
	w, err := p.recordWriter()
	if err != nil {
		return crm.Record{}, err
	}
	return w.UpdateRecord(ctx, objectName, id, in)
}

// DeleteRecord passes through.
func (p *Provider) DeleteRecord(ctx context.Context, objectName, id string) error {
	w, err := p.recordWriter()
	if err != nil {
		return err
	}
	return w.DeleteRecord(ctx, objectName, id)
}

// ListAssociationSchemas passes through.
func (p *Provider) ListAssociationSchemas(ctx context.Context) ([]crm.AssociationSchema, error) {
	a, err := p.associations()
	if err != nil {
		return nil, err
	}
	return a.ListAssociationSchemas(ctx)
}

// CreateAssociationSchema passes through.
func (p *Provider) CreateAssociationSchema(ctx context.Context, in crm.AssociationInput) (crm.AssociationSchema, []string, error) {
	a, err := p.associations()
	if err != nil {
		return crm.AssociationSchema{}, nil, err
	}
	return a.CreateAssociationSchema(ctx, in)
}

// CreateRelation passes through.
func (p *Provider) CreateRelation(ctx context.Context, r crm.Relation) (crm.Relation, error) {
	a, err := p.associations()
	if err != nil {
		return crm.Relation{}, err
	}
	return a.CreateRelation(ctx, r)
}

// ListRelations passes through.
func (p *Provider) ListRelations(ctx context.Context, recordID, cursor string, pageSize int) (crm.RelationPage, error) {
	a, err := p.associations()
	if err != nil {
		return crm.RelationPage{}, err
	}
	return a.ListRelations(ctx, recordID, cursor, pageSize)
}

// DeleteRelation passes through.
func (p *Provider) DeleteRelation(ctx context.Context, relationID string) error {
	a, err := p.associations()
	if err != nil {
		return err
	}
	return a.DeleteRelation(ctx, relationID)
}
