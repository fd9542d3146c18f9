package schemacache_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/schemacache"
)

// counting is a provider with schema read/write that counts reads.
type counting struct {
	lists, gets atomic.Int32
	props       []crm.Property
}

func (c *counting) Check(context.Context) error { return nil }
func (c *counting) ListObjects(context.Context) ([]crm.Object, error) {
	c.lists.Add(1)
	return []crm.Object{{Name: "pet", Type: crm.ObjectCustom}}, nil
}

func (c *counting) GetSchema(_ context.Context, name string) (crm.Schema, error) {
	c.gets.Add(1)
	if name != "pet" {
		return crm.Schema{}, crm.ErrNotFound
	}
	return crm.Schema{Object: crm.Object{Name: "pet"}, Properties: append([]crm.Property(nil), c.props...)}, nil
}

func (c *counting) CreateObject(context.Context, crm.ObjectInput) (crm.Schema, error) {
	return crm.Schema{}, nil
}

func (c *counting) UpdateObject(context.Context, string, crm.ObjectPatch) (crm.Object, error) {
	return crm.Object{}, nil
}

func (c *counting) CreateProperty(_ context.Context, _ string, p crm.Property) (crm.Property, error) {
	c.props = append(c.props, p)
	return p, nil
}

func (c *counting) UpdateProperty(context.Context, string, string, crm.PropertyPatch) (crm.Property, error) {
	return crm.Property{}, nil
}
func (c *counting) DeleteProperty(context.Context, string, string) error { return nil }

// broken is a cache that always fails, like an unreachable Redis.
type broken struct{}

func (broken) Get(context.Context, string) ([]byte, error)              { return nil, errors.New("down") }
func (broken) Set(context.Context, string, []byte, time.Duration) error { return errors.New("down") }
func (broken) Delete(context.Context, ...string) error                  { return errors.New("down") }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// tierSets are the tier combinations the gateway uses (and the plain one).
func tierSets() map[string]func() schemacache.Tiers {
	return map[string]func() schemacache.Tiers{
		"encoded only": func() schemacache.Tiers { c := cache.NewMemory(100); return schemacache.Tiers{Epochs: c, Data: c} },
		"local only (one replica)": func() schemacache.Tiers {
			return schemacache.Tiers{Epochs: cache.NewMemory(100), Local: schemacache.NewLocal(100, time.Minute)}
		},
		"local over shared (replicas)": func() schemacache.Tiers {
			return schemacache.Tiers{Epochs: cache.NewMemory(100), Data: cache.NewMemory(100), Local: schemacache.NewLocal(100, time.Minute)}
		},
	}
}

func TestCachesAndInvalidates(t *testing.T) {
	for name, tiers := range tierSets() {
		t.Run(name, func(t *testing.T) { testCachesAndInvalidates(t, tiers()) })
	}
}

func testCachesAndInvalidates(t *testing.T, tiers schemacache.Tiers) {
	ctx := context.Background()
	inner := &counting{props: []crm.Property{{ID: "name", Type: crm.TypeText}}}
	p := schemacache.Wrap(inner, tiers, "schema:c1:", time.Minute, discard)

	for range 3 {
		if _, err := p.GetSchema(ctx, "pet"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.ListObjects(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if inner.gets.Load() != 1 || inner.lists.Load() != 1 {
		t.Fatalf("inner called gets=%d lists=%d, want 1 and 1", inner.gets.Load(), inner.lists.Load())
	}
	if _, err := p.CreateProperty(ctx, "pet", crm.Property{ID: "age", Type: crm.TypeNumber}); err != nil {
		t.Fatal(err)
	}
	s, err := p.GetSchema(ctx, "pet")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Property("age"); !ok || inner.gets.Load() != 2 {
		t.Fatalf("after a property write the schema must be refetched (gets=%d, has age=%v)", inner.gets.Load(), ok)
	}
	// Errors are not cached.
	for range 2 {
		if _, err := p.GetSchema(ctx, "dog"); !errors.Is(err, crm.ErrNotFound) {
			t.Fatalf("want ErrNotFound, got %v", err)
		}
	}
	if inner.gets.Load() != 4 {
		t.Fatalf("not-found answers must not be cached (gets=%d)", inner.gets.Load())
	}
}

func TestScopesAreSeparate(t *testing.T) {
	ctx := context.Background()
	c := cache.NewMemory(100)
	a, b := &counting{}, &counting{}
	pa := schemacache.WrapShared(a, c, "schema:a:", time.Minute, discard)
	pb := schemacache.WrapShared(b, c, "schema:b:", time.Minute, discard)
	_, _ = pa.GetSchema(ctx, "pet")
	_, _ = pb.GetSchema(ctx, "pet")
	if a.gets.Load() != 1 || b.gets.Load() != 1 {
		t.Fatal("two connections must not share cache entries")
	}
}

func TestBrokenCacheDegrades(t *testing.T) {
	ctx := context.Background()
	inner := &counting{}
	p := schemacache.WrapShared(inner, broken{}, "s:", time.Minute, discard)
	for range 2 {
		if _, err := p.GetSchema(ctx, "pet"); err != nil {
			t.Fatalf("a failing cache must not fail the call: %v", err)
		}
	}
	if inner.gets.Load() != 2 {
		t.Fatalf("gets = %d, want 2 (uncached)", inner.gets.Load())
	}
	if _, err := p.CreateProperty(ctx, "pet", crm.Property{ID: "x"}); err != nil {
		t.Fatalf("invalidation failure must not fail the write: %v", err)
	}
}

func TestUnsupportedCapabilities(t *testing.T) {
	p := schemacache.WrapShared(&counting{}, cache.Noop{}, "s:", time.Minute, discard)
	if _, err := p.GetRecord(context.Background(), "pet", "1"); !errors.Is(err, crm.ErrUnsupported) {
		t.Fatalf("want ErrUnsupported for a capability the provider lacks, got %v", err)
	}
}

// Two replicas share epochs and encoded entries; each has its own decoded
// tier. A schema one fetched is served to the other without a provider
// call, and a write through one is seen by the other at its next read.
func TestReplicasShareAndInvalidate(t *testing.T) {
	ctx := context.Background()
	epochs, data := cache.NewMemory(100), cache.NewMemory(100)
	inner := &counting{props: []crm.Property{{ID: "name", Type: crm.TypeText}}}
	replica := func() *schemacache.Provider {
		return schemacache.Wrap(inner, schemacache.Tiers{Epochs: epochs, Data: data, Local: schemacache.NewLocal(100, time.Minute)}, "schema:c1:", time.Minute, discard)
	}
	a, b := replica(), replica()
	if _, err := a.GetSchema(ctx, "pet"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetSchema(ctx, "pet"); err != nil {
		t.Fatal(err)
	}
	if inner.gets.Load() != 1 {
		t.Fatalf("provider called %d times, want 1 (b reads a's encoded entry)", inner.gets.Load())
	}
	if _, err := a.CreateProperty(ctx, "pet", crm.Property{ID: "age", Type: crm.TypeNumber}); err != nil {
		t.Fatal(err)
	}
	s, err := b.GetSchema(ctx, "pet")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Property("age"); !ok {
		t.Fatal("b served its stale decoded schema after a's write")
	}
}

func TestLocalExpiresAndStaysBounded(t *testing.T) {
	ctx := context.Background()
	inner := &counting{}
	local := schemacache.NewLocal(20, 30*time.Millisecond)
	p := schemacache.Wrap(inner, schemacache.Tiers{Epochs: cache.NewMemory(100), Local: local}, "s:", time.Minute, discard)
	if _, err := p.GetSchema(ctx, "pet"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(40 * time.Millisecond)
	if _, err := p.GetSchema(ctx, "pet"); err != nil {
		t.Fatal(err)
	}
	if inner.gets.Load() != 2 {
		t.Fatalf("gets = %d, want 2 (the decoded entry expired)", inner.gets.Load())
	}
	for i := range 100 {
		q := schemacache.Wrap(&counting{}, schemacache.Tiers{Epochs: cache.NewMemory(10), Local: local}, fmt.Sprintf("c%d:", i), time.Minute, discard)
		if _, err := q.GetSchema(ctx, "pet"); err != nil {
			t.Fatal(err)
		}
	}
	if n := local.Len(); n > 20 {
		t.Fatalf("local holds %d entries, max 20", n)
	}
}
