package cache_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/cache/cachetest"
)

type lookups struct {
	mu  sync.Mutex
	got map[string]int // "cache result" -> count
}

func (l *lookups) CacheLookup(_ context.Context, name, result string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.got == nil {
		l.got = map[string]int{}
	}
	l.got[name+" "+result]++
}

func (l *lookups) count(k string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.got[k]
}

func TestObservedContract(t *testing.T) {
	cachetest.RunContractTests(t, func(*testing.T) cache.Cache {
		return cache.Observe(cache.NewMemory(1000), "schema", &lookups{})
	})
}

// failing is a backend whose every call fails.
type failing struct{}

func (failing) Get(context.Context, string) ([]byte, error) { return nil, errors.New("down") }
func (failing) Set(context.Context, string, []byte, time.Duration) error {
	return errors.New("down")
}
func (failing) Delete(context.Context, ...string) error { return errors.New("down") }

func TestObservedCounts(t *testing.T) {
	ctx := context.Background()
	l := &lookups{}
	c := cache.Observe(cache.NewMemory(10), "schema", l)
	if _, err := c.Get(ctx, "k"); !errors.Is(err, cache.ErrMiss) {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.Get(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Observe(failing{}, "oauth_token", l).Get(ctx, "k"); err == nil {
		t.Fatal("want the backend's error")
	}
	for k, want := range map[string]int{"schema hit": 2, "schema miss": 1, "schema error": 0, "oauth_token error": 1} {
		if got := l.count(k); got != want {
			t.Errorf("%s = %d, want %d", k, got, want)
		}
	}
	if c := cache.NewMemory(1); cache.Observe(c, "x", nil) != cache.Cache(c) {
		t.Error("a nil observer must leave the cache undecorated")
	}
}
