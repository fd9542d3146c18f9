package schemacache_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/schemacache"
)

// Replica b's near copy of the epoch lags behind a's write (the broadcast
// has not arrived): RefreshSchema notices from the shared epoch and loads
// the current schema; when b is current it reports false without calling
// the provider.
func TestRefreshSchemaFollowsTheSharedEpoch(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	remote := cache.NewMemory(100) // Redis
	inner := &counting{props: []crm.Property{{ID: "name"}}}
	replica := func() *schemacache.Provider {
		near := cache.NewNear(cache.NewMemory(100), remote, time.Minute, nil, log) // no bus: broadcasts never arrive
		return schemacache.Wrap(inner, schemacache.Tiers{Epochs: near, Data: remote, Local: schemacache.NewLocal(100, time.Minute)}, "s:", time.Hour, log)
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
	inner := &counting{}
	p := schemacache.Wrap(inner, schemacache.Tiers{Epochs: cache.NewMemory(10), Local: schemacache.NewLocal(10, time.Minute)}, "s:", time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, refreshed, err := p.RefreshSchema(context.Background(), "pet"); err != nil || refreshed || inner.gets.Load() != 0 {
		t.Fatalf("refreshed=%v err=%v gets=%d, want no re-read", refreshed, err, inner.gets.Load())
	}
}
