package cache_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/cache/cachetest"
)

// countingCache counts Gets reaching the remote tier.
type countingCache struct {
	cache.Cache
	gets atomic.Int32
}

func (c *countingCache) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets.Add(1)
	return c.Cache.Get(ctx, key)
}

func TestNearContract(t *testing.T) {
	cachetest.RunContractTests(t, func(t *testing.T) cache.Cache {
		return cache.NewNear(cache.NewMemory(1000), cache.NewMemory(1000), time.Minute, nil, nil)
	})
}

func TestNearServesFromMemory(t *testing.T) {
	ctx := context.Background()
	remote := &countingCache{Cache: cache.NewMemory(100)}
	n := cache.NewNear(cache.NewMemory(100), remote, time.Minute, nil, nil)
	if err := n.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if v, err := n.Get(ctx, "k"); err != nil || string(v) != "v" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	if remote.gets.Load() != 0 {
		t.Fatalf("remote reads = %d, want 0 after a local write", remote.gets.Load())
	}
	// A value first seen remotely is fetched once, then served locally.
	_ = remote.Set(ctx, "r", []byte("x"), time.Hour)
	for range 3 {
		_, _ = n.Get(ctx, "r")
	}
	if remote.gets.Load() != 1 {
		t.Fatalf("remote reads = %d, want 1", remote.gets.Load())
	}
}

func TestNearRedisInvalidationAcrossReplicas(t *testing.T) {
	client, prefix := openTestRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus := cache.NewRedisBus(client, prefix+"invalidate")
	newReplica := func() *cache.Near {
		n := cache.NewNear(cache.NewMemory(100), cache.NewRedis(client, prefix), time.Hour, bus, nil)
		go bus.Subscribe(ctx, n)
		return n
	}
	a, b := newReplica(), newReplica()
	time.Sleep(200 * time.Millisecond) // let both subscriptions establish
	if err := a.Set(ctx, "schema", []byte("v1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Get(ctx, "schema"); err != nil || string(v) != "v1" {
		t.Fatalf("replica b Get = %q, %v", v, err)
	}
	// b now holds a near copy; a deletes: b must stop serving it.
	if err := a.Delete(ctx, "schema"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := b.Get(ctx, "schema")
		if errors.Is(err, cache.ErrMiss) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica b still serves a deleted key (err=%v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
