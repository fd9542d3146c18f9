package cache_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/cache/cachetest"
	"github.com/crmgate/crmgate/internal/testenv"
)

// openTestRedis opens a client to the test Redis (skipping if there is
// none) and returns it with a fresh key prefix; at cleanup it deletes every
// key under the prefix and closes the client.
func openTestRedis(t *testing.T) (redis.UniversalClient, string) {
	t.Helper()
	client, err := cache.OpenRedis(t.Context(), testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	prefix := "crmgate-test:" + rand.Text() + ":"
	t.Cleanup(func() {
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleanup: scan %s*: %v", prefix, err)
			return
		}
		for _, k := range keys {
			if err := client.Del(ctx, k).Err(); err != nil {
				t.Errorf("cleanup: del %s: %v", k, err)
			}
		}
	})
	return client, prefix
}

func TestRedisContract(t *testing.T) {
	testenv.RedisURL(t) // skip once here rather than in every subtest
	cachetest.RunContractTests(t, func(t *testing.T) cache.Cache {
		return cache.NewRedis(openTestRedis(t))
	})
}

func TestRedisPrefixAndTTL(t *testing.T) {
	client, prefix := openTestRedis(t)
	c := cache.NewRedis(client, prefix)
	ctx := t.Context()
	if err := c.Set(ctx, "k", []byte("v"), 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if v, err := client.Get(ctx, prefix+"k").Result(); err != nil || v != "v" {
		t.Fatalf("GET %sk = %q, %v; want the value under the prefixed key", prefix, v, err)
	}
	if n, err := client.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS k = %d, %v; the unprefixed key must not be written", n, err)
	}
	// Millisecond precision: 1.5s must not be rounded to whole seconds.
	if pttl, err := client.PTTL(ctx, prefix+"k").Result(); err != nil || pttl <= time.Second || pttl > 1500*time.Millisecond {
		t.Errorf("PTTL = %v, %v; want in (1s, 1.5s]", pttl, err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping = %v", err)
	}
}

// deadAddr returns a local address where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestRedisDownReturnsErrors(t *testing.T) {
	client, err := cache.OpenRedis(t.Context(), "redis://"+deadAddr(t)+"/0")
	if err != nil {
		t.Fatalf("OpenRedis with Redis down = %v; it must be lazy", err)
	}
	defer client.Close()
	c := cache.NewRedis(client, "p:")
	ctx := t.Context()

	start := time.Now()
	_, err = c.Get(ctx, "k")
	if err == nil || errors.Is(err, cache.ErrMiss) {
		t.Errorf("Get = %v, want a backend error (not ErrMiss)", err)
	}
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err == nil {
		t.Error("Set = nil, want an error")
	}
	if err := c.Delete(ctx, "a", "b"); err == nil {
		t.Error("Delete = nil, want an error")
	}
	if err := c.Ping(ctx); err == nil {
		t.Error("Ping = nil, want an error")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("failing against a refused port took %v; timeouts/retries are too long", d)
	}
}

func TestOpenRedisOptions(t *testing.T) {
	opts := func(url string) *redis.Options {
		t.Helper()
		c, err := cache.OpenRedis(t.Context(), url)
		if err != nil {
			t.Fatalf("OpenRedis(%q) = %v", url, err)
		}
		defer c.Close()
		return c.(*redis.Client).Options()
	}

	o := opts("redis://127.0.0.1:6379/2")
	if o.DialTimeout != 2*time.Second || o.ReadTimeout != time.Second || o.WriteTimeout != time.Second ||
		o.PoolTimeout != time.Second || o.MaxRetries != 1 || o.DB != 2 || !o.ContextTimeoutEnabled {
		t.Errorf("defaults: dial %v read %v write %v pool %v retries %d db %d ctxTimeout %v",
			o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries, o.DB, o.ContextTimeoutEnabled)
	}

	o = opts("redis://127.0.0.1:6379/0?dial_timeout=5s&read_timeout=3s&write_timeout=4s&pool_timeout=6s&max_retries=3&pool_size=7")
	if o.DialTimeout != 5*time.Second || o.ReadTimeout != 3*time.Second || o.WriteTimeout != 4*time.Second ||
		o.PoolTimeout != 6*time.Second || o.MaxRetries != 3 || o.PoolSize != 7 {
		t.Errorf("URL overrides: dial %v read %v write %v pool %v retries %d size %d",
			o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries, o.PoolSize)
	}
}

func TestOpenRedisBadURLHidesPassword(t *testing.T) {
	for _, url := range []string{
		"redis://user:s3cret@127.0.0.1:6379/0?bogus=1",
		"redis://user:s3cret@127.0.0.1:bad port/0",
		"http://user:s3cret@127.0.0.1:6379/0",
	} {
		_, err := cache.OpenRedis(t.Context(), url)
		if err == nil {
			t.Errorf("OpenRedis(%q) = nil error", url)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("OpenRedis error leaks the password: %v", err)
		}
	}
}
