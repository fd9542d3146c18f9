package cache_test

import (
	"errors"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/cache/cachetest"
)

func TestMemoryContract(t *testing.T) {
	cachetest.RunContractTests(t, func(*testing.T) cache.Cache { return cache.NewMemory(1000) })
}

// fakeClock is a settable clock for NewMemoryWithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryExpiryBoundary(t *testing.T) {
	clk := newFakeClock()
	m := cache.NewMemoryWithClock(10, clk.Now)
	ctx := t.Context()
	if err := m.Set(ctx, "k", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second - time.Nanosecond)
	if _, err := m.Get(ctx, "k"); err != nil {
		t.Fatalf("Get just before expiry = %v", err)
	}
	clk.Advance(time.Nanosecond)
	if _, err := m.Get(ctx, "k"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get at expiry = %v, want ErrMiss", err)
	}
	if n := m.Len(); n != 0 {
		t.Errorf("Len after lazy expiry = %d, want 0", n)
	}
}

// A ttl too long to add to the clock keeps the entry rather than wrapping
// around into the past.
func TestMemoryLongTTL(t *testing.T) {
	clk := newFakeClock()
	m := cache.NewMemoryWithClock(10, clk.Now)
	ctx := t.Context()
	clk.Advance(time.Hour)
	if err := m.Set(ctx, "k", []byte("v"), math.MaxInt64); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if _, err := m.Get(ctx, "k"); err != nil {
		t.Fatalf("Get = %v", err)
	}
}

func TestMemoryEvictsExpiredFirst(t *testing.T) {
	clk := newFakeClock()
	m := cache.NewMemoryWithClock(3, clk.Now)
	ctx := t.Context()
	set := func(k string, ttl time.Duration) {
		t.Helper()
		if err := m.Set(ctx, k, []byte(k), ttl); err != nil {
			t.Fatal(err)
		}
	}
	set("a", time.Hour)
	set("b", time.Second) // expires first
	set("c", time.Hour)
	clk.Advance(2 * time.Second)
	set("d", time.Hour)
	if n := m.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, err := m.Get(ctx, k); err != nil {
			t.Errorf("Get(%s) = %v, want a hit", k, err)
		}
	}
}

func TestMemoryEvictsSoonestToExpireWhenFull(t *testing.T) {
	m := cache.NewMemory(3) // below the eviction sample size: all are seen
	ctx := t.Context()
	for k, ttl := range map[string]time.Duration{"a": 3 * time.Hour, "b": time.Hour, "c": 2 * time.Hour} {
		if err := m.Set(ctx, k, []byte(k), ttl); err != nil {
			t.Fatal(err)
		}
	}
	// Overwriting a present key needs no room.
	if err := m.Set(ctx, "a", []byte("a2"), 3*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "b"); err != nil {
		t.Fatalf("overwrite evicted b: %v", err)
	}
	if err := m.Set(ctx, "d", []byte("d"), 4*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "b"); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("Get(b) = %v, want b (soonest to expire) evicted", err)
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, err := m.Get(ctx, k); err != nil {
			t.Errorf("Get(%s) = %v, want a hit", k, err)
		}
	}
}

func TestMemoryStaysBounded(t *testing.T) {
	const max = 100
	m := cache.NewMemory(max)
	for i := range 10 * max {
		if err := m.Set(t.Context(), strconv.Itoa(i), []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if n := m.Len(); n > max {
			t.Fatalf("Len = %d after %d sets, above max %d", n, i+1, max)
		}
	}
}

func TestMemoryClear(t *testing.T) {
	m := cache.NewMemory(10)
	ctx := t.Context()
	_ = m.Set(ctx, "k", []byte("v"), time.Hour)
	m.Clear()
	if _, err := m.Get(ctx, "k"); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("Get after Clear = %v, want ErrMiss", err)
	}
	if n := m.Len(); n != 0 {
		t.Errorf("Len after Clear = %d", n)
	}
}

func TestNewMemoryPanicsOnNonPositiveSize(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewMemory(0) did not panic")
		}
	}()
	cache.NewMemory(0)
}
