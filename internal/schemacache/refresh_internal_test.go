package schemacache

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/crm"
)

// shared is a schema reader/writer standing for the provider behind two
// replicas.
type shared struct {
	gets  atomic.Int32
	props []crm.Property
}

func (g *shared) Check(context.Context) error                       { return nil }
func (g *shared) ListObjects(context.Context) ([]crm.Object, error) { return nil, nil }
func (g *shared) GetSchema(context.Context, string) (crm.Schema, error) {
	g.gets.Add(1)
	return crm.Schema{Object: crm.Object{Name: "pet"}, Properties: append([]crm.Property(nil), g.props...)}, nil
}

func (g *shared) CreateObject(context.Context, crm.ObjectInput) (crm.Schema, error) {
	return crm.Schema{}, nil
}

func (g *shared) UpdateObject(context.Context, string, crm.ObjectPatch) (crm.Object, error) {
	return crm.Object{}, nil
}

func (g *shared) CreateProperty(_ context.Context, _ string, p crm.Property) (crm.Property, error) {
	g.props = append(g.props, p)
	return p, nil
}

func (g *shared) UpdateProperty(context.Context, string, string, crm.PropertyPatch) (crm.Property, error) {
	return crm.Property{}, nil
}
func (g *shared) DeleteProperty(context.Context, string, string) error { return nil }

// Replica b's near copy of the epoch lags behind a's write (the broadcast
// has not arrived): RefreshSchema notices from the shared epoch and loads
// the current schema; when b is current it reports false without calling
// the provider.
func TestRefreshSchemaFollowsTheSharedEpoch(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	remote := cache.NewMemory(100) // Redis
	inner := &shared{props: []crm.Property{{ID: "name"}}}
	replica := func() *Provider {
		near := cache.NewNear(cache.NewMemory(100), remote, time.Minute, nil, log) // no bus: broadcasts never arrive
		return Wrap(inner, Tiers{Epochs: near, Data: remote, Local: NewLocal(100, time.Minute)}, "s:", time.Hour, log)
	}
	a, b := replica(), replica()
	if _, err := b.GetSchema(ctx, "pet"); err != nil {
		t.Fatal(err)
	}
	if _, refreshed, err := b.RefreshSchema(ctx, "pet"); err != nil || refreshed {
		t.Fatalf("current cache: refreshed=%v err=%v, want false", refreshed, err)
	}
	if _, err := a.CreateProperty(ctx, "pet", crm.Property{ID: "color"}); err != nil {
		t.Fatal(err)
	}
	stale, err := b.GetSchema(ctx, "pet")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := stale.Property("color"); ok {
		t.Fatal("test set-up: b should still serve its stale copy")
	}
	gets := inner.gets.Load()
	fresh, refreshed, err := b.RefreshSchema(ctx, "pet")
	if err != nil || !refreshed {
		t.Fatalf("stale cache: refreshed=%v err=%v, want true", refreshed, err)
	}
	if _, ok := fresh.Property("color"); !ok {
		t.Fatal("refreshed schema lacks the new property")
	}
	if got, _ := b.GetSchema(ctx, "pet"); len(got.Properties) != 2 {
		t.Fatalf("after the refresh b serves %d properties, want 2", len(got.Properties))
	}
	if n := inner.gets.Load() - gets; n != 1 {
		t.Fatalf("refresh made %d provider reads, want 1", n)
	}
	if _, refreshed, _ := b.RefreshSchema(ctx, "pet"); refreshed {
		t.Fatal("a second refresh found the cache stale again")
	}
}

// One replica (an in-process epoch cache): never stale, never re-read.
func TestRefreshSchemaOneReplica(t *testing.T) {
	inner := &shared{}
	p := Wrap(inner, Tiers{Epochs: cache.NewMemory(10), Local: NewLocal(10, time.Minute)}, "s:", time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, refreshed, err := p.RefreshSchema(context.Background(), "pet"); err != nil || refreshed || inner.gets.Load() != 0 {
		t.Fatalf("refreshed=%v err=%v gets=%d, want no re-read", refreshed, err, inner.gets.Load())
	}
}
