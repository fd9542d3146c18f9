package upstream_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/providers/ghl"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/testenv"
	"github.com/crmgate/crmgate/internal/upstream"
)

// advertisedWindow is the fake's burst window in the advertised-limit
// tests: HighLevel documents 100 per 10 s; this stand-in enforces, and
// advertises, 20 per 2 s.
const (
	advertisedMax    = 20
	advertisedWindow = 2 * time.Second
)

// limiterSetups are the limiters the advertised-limit tests run with:
// in-process, and Redis shared by two replicas (two clients, two
// transports). Each returns one transport per replica; the gateway's
// configuration is the production default (100 per 10 s).
func limiterSetups(t *testing.T) map[string]func(t *testing.T) []*upstream.Transport {
	opts := func(l upstream.Limiter) upstream.Options {
		// One attempt: a 429 must fail the call, not be retried away.
		return upstream.Options{Limiter: l, Retry: upstream.RetryPolicy{MaxAttempts: 1}}
	}
	return map[string]func(t *testing.T) []*upstream.Transport{
		"memory": func(*testing.T) []*upstream.Transport {
			return []*upstream.Transport{upstream.NewTransport(nil, opts(upstream.NewMemoryLimiter(upstream.Limits{}, nil)))}
		},
		"redis, two replicas": func(t *testing.T) []*upstream.Transport {
			url := testenv.RedisURL(t)
			prefix := "test:upstream:" + randHex() + ":"
			var rts []*upstream.Transport
			for range 2 {
				client, err := cache.OpenRedis(context.Background(), url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { client.Close() })
				rts = append(rts, upstream.NewTransport(nil, opts(upstream.NewRedisLimiter(client, prefix, upstream.Limits{}))))
			}
			return rts
		},
	}
}

// TestBurstFollowsAdvertisedLimit: against a provider advertising (and
// enforcing) 20 requests per 2 s — smaller than the configured 100 per
// 10 s — a connection that has seen two answers sends a burst of 120 reads
// without drawing a single 429: all succeed, and the provider never sees
// more than 20 in one of its windows. Likewise for a first burst on a
// connection no answer was seen for yet.
func TestBurstFollowsAdvertisedLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("paced bursts of 120 calls")
	}
	for name, setup := range limiterSetups(t) {
		for _, earlier := range []int{2, 0} {
			t.Run(fmt.Sprintf("%s, %d earlier calls", name, earlier), func(t *testing.T) {
				burstFollowsAdvertisedLimit(t, setup(t), earlier)
			})
		}
	}
}

func burstFollowsAdvertisedLimit(t *testing.T, rts []*upstream.Transport, earlier int) {
	fake, rec, url := startFake(t, ghlfake.Options{BurstLimit: advertisedMax, BurstWindow: advertisedWindow, DailyLimit: -1}, 1)
	key := upstream.BudgetKey("ghl", "cfg", loc)
	var clients []*ghl.Client
	for _, rt := range rts {
		clients = append(clients, newClient(t, url, rt))
	}
	ctx := upstream.WithCall(context.Background(), upstream.Call{Budget: key})
	for i := range earlier {
		if _, err := clients[i%len(clients)].ListObjects(ctx); err != nil {
			t.Fatalf("earlier call %d: %v", i, err)
		}
	}
	const burst = 120
	var wg sync.WaitGroup
	errs := make(chan error, burst)
	for i := range burst {
		c := clients[i%len(clients)]
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			if _, err := c.ListObjects(ctx); err != nil {
				errs <- fmt.Errorf("call %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed++; failed <= 3 {
			t.Error(err)
		}
	}
	ts := rec.times()
	perWindow := maxInWindow(ts, advertisedWindow)
	t.Logf("%d requests reached the provider, at most %d in one %s window; %d answered 429; %d calls failed",
		len(ts), perWindow, advertisedWindow, fake.RateLimitedCount(), failed)
	if n := fake.RateLimitedCount(); n != 0 {
		t.Errorf("the provider answered %d 429s; want none", n)
	}
	if failed != 0 {
		t.Errorf("%d of %d calls failed", failed, burst)
	}
	if perWindow > advertisedMax {
		t.Errorf("the provider saw %d requests within one %s window; it advertises %d", perWindow, advertisedWindow, advertisedMax)
	}
}
