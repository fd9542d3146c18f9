package upstream_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/testenv"
	"github.com/crmgate/crmgate/internal/upstream"
)

// TestSharedLimiterAcrossReplicas: three gateway replicas (three Redis
// clients, three transports) firing 60 calls at once at one location with
// a budget of 20 per second: the provider never sees more than 20 requests
// in any one-second window, and answers no 429.
func TestSharedLimiterAcrossReplicas(t *testing.T) {
	url0 := testenv.RedisURL(t)
	prefix := "test:upstream:" + randHex() + ":"
	// Margin absorbs the jitter between a granted slot and the arrival at
	// the provider: 60 goroutines dialling new connections under -race on
	// two CPUs spread a burst over ~100ms (production: 250ms of 10s).
	limits := upstream.Limits{Burst: 20, Window: time.Second, Margin: 200 * time.Millisecond}
	fake, rec, url := startFake(t, ghlfake.Options{BurstLimit: 20, BurstWindow: time.Second}, 1)
	_ = fake
	key := upstream.BudgetKey("ghl", "cfg", loc)

	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for replica := range 3 {
		client, err := cache.OpenRedis(context.Background(), url0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.Close() })
		rt := upstream.NewTransport(nil, upstream.Options{
			Limiter: upstream.NewRedisLimiter(client, prefix, limits),
			Budgets: upstream.NewRedisBudgets(client, prefix),
			Retry:   upstream.RetryPolicy{MaxAttempts: 1}, // a 429 must show, not be retried away
		})
		c := newClient(t, url, rt)
		for i := range 20 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				ctx = upstream.WithCall(ctx, upstream.Call{Budget: key})
				if _, err := c.ListObjects(ctx); err != nil {
					errs <- fmt.Errorf("replica %d call %d: %w", replica, i, err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ts := rec.times()
	t.Logf("first burst spread over %s", ts[19].Sub(ts[0]))
	if len(ts) != 60 {
		t.Errorf("the provider saw %d requests; want 60", len(ts))
	}
	if n := maxInWindow(ts, time.Second); n > 20 {
		t.Errorf("the provider saw %d requests within one second; the budget is 20", n)
	}
	if n := rec.status(429); n != 0 {
		t.Errorf("the provider answered %d 429s", n)
	}

	// A fail-fast caller on a spent budget is refused at once.
	client, _ := cache.OpenRedis(context.Background(), url0)
	defer client.Close()
	lim := upstream.NewRedisLimiter(client, prefix, limits)
	for range 20 {
		_, _ = lim.Reserve(context.Background(), key, 0)
	}
	c := newClient(t, url, upstream.NewTransport(nil, upstream.Options{Limiter: lim}))
	start := time.Now()
	_, err := c.ListObjects(upstream.WithCall(context.Background(), upstream.Call{Budget: key, FailFast: true}))
	var rl *upstream.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("fail-fast: %v after %s", err, time.Since(start))
	}
	// And the figures GHL reported are shared.
	b, ok, err := upstream.NewRedisBudgets(client, prefix).Get(context.Background(), key)
	if err != nil || !ok || b.BurstLimit != 20 || b.BurstIntervalMS != 1000 {
		t.Fatalf("shared budget figures: %+v %v %v", b, ok, err)
	}
}

// TestLimiterSurvivesRedisOutage: the limiter and the budget figures keep
// working through a Redis that dies mid-test (in-process fallback), and go
// back to Redis when it returns.
func TestLimiterSurvivesRedisOutage(t *testing.T) {
	rs := testenv.StartRedis(t, 0)
	client, err := cache.OpenRedis(context.Background(), rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	limits := upstream.Limits{Burst: 1000, Window: time.Second}
	lim := upstream.NewFallbackLimiter(upstream.NewRedisLimiter(client, "t:", limits), upstream.NewMemoryLimiter(limits, nil), nil)
	budgets := upstream.NewFallbackBudgets(upstream.NewRedisBudgets(client, "t:"), upstream.NewMemoryBudgets(nil), nil)
	_, _, url := startFake(t, ghlfake.Options{}, 1)
	c := newClient(t, url, upstream.NewTransport(nil, upstream.Options{Limiter: lim, Budgets: budgets, Retry: fastRetry()}))
	key := upstream.BudgetKey("ghl", "cfg", loc)
	ctx := upstream.WithCall(context.Background(), upstream.Call{Budget: key})
	logKey := "t:rl:{" + key + "}:log"

	call := func(what string) {
		t.Helper()
		start := time.Now()
		if _, err := c.ListObjects(ctx); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s took %s", what, d)
		}
	}
	inRedis := func() int64 {
		probe := redis.NewClient(&redis.Options{Addr: rs.Addr()})
		defer probe.Close()
		n, _ := probe.ZCard(context.Background(), logKey).Result()
		return n
	}

	call("with redis")
	if n := inRedis(); n != 1 {
		t.Fatalf("redis holds %d slots; want 1", n)
	}
	rs.Kill()
	for i := range 5 {
		call(fmt.Sprintf("redis down, call %d", i))
	}
	if b, ok, err := budgets.Get(ctx, key); err != nil || !ok || b.BurstLimit != 100 {
		t.Fatalf("budget during the outage: %+v %v %v", b, ok, err)
	}
	rs.Restart() // an empty Redis comes back on the same port
	time.Sleep(1100 * time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for inRedis() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the limiter did not go back to redis")
		}
		call("after recovery")
		time.Sleep(100 * time.Millisecond)
	}
}
