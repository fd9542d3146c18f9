package cache_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/cache/cachetest"
	"github.com/crmgate/crmgate/internal/testenv"
)

func TestFallbackContractMemory(t *testing.T) {
	cachetest.RunContractTests(t, func(*testing.T) cache.Cache {
		return cache.NewFallback(cache.NewMemory(1000), cache.NewMemory(1000), nil)
	})
}

func TestFallbackContractRedis(t *testing.T) {
	testenv.RedisURL(t)
	cachetest.RunContractTests(t, func(t *testing.T) cache.Cache {
		return cache.NewFallback(cache.NewRedis(openTestRedis(t)), cache.NewMemory(1000), nil)
	})
}

// TestFallbackContractRedisDown runs the contract with Redis unreachable
// throughout: everything is served by the fallback.
func TestFallbackContractRedisDown(t *testing.T) {
	cachetest.RunContractTests(t, func(t *testing.T) cache.Cache {
		client, err := cache.OpenRedis(t.Context(), "redis://"+deadAddr(t)+"/0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.Close() })
		return cache.NewFallback(cache.NewRedis(client, "p:"), cache.NewMemory(1000), nil)
	})
}

// TestFallbackRedisOutage kills and restarts a real redis-server under a
// fallback cache.
func TestFallbackRedisOutage(t *testing.T) {
	srv := testenv.StartRedis(t, 0)
	ctx := t.Context()

	client, err := cache.OpenRedis(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	const prefix = "fb:"
	mem := cache.NewMemory(100)
	logs := &testenv.LogBuffer{}
	fb := cache.NewFallback(cache.NewRedis(client, prefix), mem,
		slog.New(slog.NewTextHandler(logs, nil)))

	get := func(key string) (string, error) {
		t.Helper()
		v, err := fb.Get(ctx, key)
		if err != nil && !errors.Is(err, cache.ErrMiss) {
			t.Fatalf("Get(%s) = %v; the fallback must not fail", key, err)
		}
		return string(v), err
	}
	set := func(key, value string) {
		t.Helper()
		if err := fb.Set(ctx, key, []byte(value), time.Minute); err != nil {
			t.Fatalf("Set(%s) = %v; the fallback must not fail", key, err)
		}
	}

	set("a", "a1")
	set("c", "c-old")
	if v, _ := get("a"); v != "a1" {
		t.Fatalf("Get(a) = %q before the outage", v)
	}

	srv.Kill()
	if v, err := get("a"); v != "a1" {
		t.Errorf("Get(a) while down = %q, %v; want a1 from the fallback", v, err)
	}
	set("b", "b-outage")
	set("c", "c-new")
	if err := fb.Delete(ctx, "a"); err != nil {
		t.Fatalf("Delete(a) while down = %v", err)
	}
	if v, _ := get("b"); v != "b-outage" {
		t.Errorf("Get(b) while down = %q, want b-outage", v)
	}
	if _, err := get("a"); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("Get(a) after Delete while down = %v, want ErrMiss", err)
	}
	if n := strings.Count(logs.String(), `msg="redis unavailable"`); n != 1 {
		t.Errorf("logged %d \"redis unavailable\" warnings, want 1; logs:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("no warning logged; logs:\n%s", logs)
	}

	srv.Restart() // empty: no persistence
	direct := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer direct.Close()
	// Put back the pre-outage values, as if Redis had kept its data (a
	// partition rather than a restart): they were deleted or overwritten
	// through the cache meanwhile and must not be served.
	for k, v := range map[string]string{"a": "a1", "c": "c-old"} {
		if err := direct.Set(ctx, prefix+k, v, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}

	// b is in the fallback only; once Get(b) misses, Redis answered.
	for deadline := time.Now().Add(15 * time.Second); ; {
		if _, err := get("b"); errors.Is(err, cache.ErrMiss) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still serving the fallback 15s after Redis returned; logs:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), `msg="redis recovered"`) {
		t.Errorf("recovery not logged; logs:\n%s", logs)
	}
	if n := mem.Len(); n != 0 {
		t.Errorf("fallback holds %d entries after recovery, want it cleared", n)
	}
	for _, k := range []string{"a", "c"} {
		if v, err := get(k); !errors.Is(err, cache.ErrMiss) {
			t.Errorf("Get(%s) after recovery = %q, %v; want ErrMiss (stale)", k, v, err)
		}
	}

	// Values come from Redis again.
	set("d", "d1")
	if v, err := direct.Get(ctx, prefix+"d").Result(); err != nil || v != "d1" {
		t.Errorf("Redis GET d = %q, %v; want d1", v, err)
	}
	if err := direct.Set(ctx, prefix+"d", "d-redis", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, _ := get("d"); v != "d-redis" {
		t.Errorf("Get(d) = %q, want d-redis from Redis", v)
	}
}

// TestFallbackFailsFastWhileDown checks that, Redis down, calls do not each
// wait on it.
func TestFallbackFailsFastWhileDown(t *testing.T) {
	client, err := cache.OpenRedis(t.Context(), "redis://"+deadAddr(t)+"/0")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	fb := cache.NewFallback(cache.NewRedis(client, "p:"), cache.NewMemory(10), nil)
	ctx := t.Context()
	_ = fb.Set(ctx, "k", []byte("v"), time.Minute)
	start := time.Now()
	for range 1000 {
		if v, err := fb.Get(ctx, "k"); err != nil || string(v) != "v" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 Gets with Redis down took %v", d)
	}
}
