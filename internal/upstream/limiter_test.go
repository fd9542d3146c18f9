package upstream_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/upstream"
)

// limiterContract is what every Limiter must do. newLimiter returns a fresh
// limiter with the given limits (fresh keys).
func limiterContract(t *testing.T, newLimiter func(t *testing.T, l upstream.Limits) upstream.Limiter) {
	ctx := context.Background()

	t.Run("burst then reservation", func(t *testing.T) {
		lim := newLimiter(t, upstream.Limits{Burst: 5, Window: time.Second, Margin: -1, FirstInFlight: -1})
		for i := range 5 {
			r, err := lim.Reserve(ctx, "k", 0)
			if err != nil || !r.OK || r.Delay > 20*time.Millisecond {
				t.Fatalf("call %d: %+v, %v; want immediate", i, r, err)
			}
		}
		r, err := lim.Reserve(ctx, "k", 0)
		if err != nil || r.OK || r.Daily || r.Delay < 900*time.Millisecond || r.Delay > time.Second {
			t.Fatalf("6th fail-fast: %+v, %v; want refused with ~1s", r, err)
		}
		r, err = lim.Reserve(ctx, "k", 2*time.Second)
		if err != nil || !r.OK || r.Delay < 900*time.Millisecond {
			t.Fatalf("6th waiting: %+v, %v; want a slot ~1s ahead", r, err)
		}
		// The 7th queues behind the 6th's reservation too.
		r, err = lim.Reserve(ctx, "k", 2*time.Second)
		if err != nil || !r.OK || r.Delay < 900*time.Millisecond {
			t.Fatalf("7th waiting: %+v, %v", r, err)
		}
		if r, _ := lim.Reserve(ctx, "other", 0); !r.OK {
			t.Fatalf("another key shares the budget: %+v", r)
		}
	})

	t.Run("daily", func(t *testing.T) {
		lim := newLimiter(t, upstream.Limits{Burst: -1, Daily: 3, FirstInFlight: -1})
		for range 3 {
			if r, err := lim.Reserve(ctx, "k", 0); err != nil || !r.OK {
				t.Fatalf("%+v, %v", r, err)
			}
		}
		r, err := lim.Reserve(ctx, "k", time.Hour)
		if err != nil || r.OK || !r.Daily || r.Delay <= 0 || r.Delay > 24*time.Hour {
			t.Fatalf("4th: %+v, %v; want a daily refusal until midnight UTC", r, err)
		}
	})

	t.Run("block", func(t *testing.T) {
		lim := newLimiter(t, upstream.Limits{Burst: 100, Window: time.Second, FirstInFlight: -1})
		if err := lim.Block(ctx, "k", 500*time.Millisecond, false); err != nil {
			t.Fatal(err)
		}
		r, err := lim.Reserve(ctx, "k", 0)
		if err != nil || r.OK || r.Daily || r.Delay < 400*time.Millisecond {
			t.Fatalf("after block: %+v, %v", r, err)
		}
		r, err = lim.Reserve(ctx, "k", time.Second)
		if err != nil || !r.OK || r.Delay < 400*time.Millisecond {
			t.Fatalf("after block, waiting: %+v, %v", r, err)
		}
		// A shorter block does not shorten a longer one.
		_ = lim.Block(ctx, "k", time.Millisecond, false)
		if r, _ := lim.Reserve(ctx, "k", 0); r.OK {
			t.Fatalf("a shorter block lifted the longer: %+v", r)
		}
		if err := lim.Block(ctx, "d", time.Hour, true); err != nil {
			t.Fatal(err)
		}
		if r, _ := lim.Reserve(ctx, "d", 2*time.Hour); r.OK || !r.Daily {
			t.Fatalf("after daily block: %+v", r)
		}
	})

	t.Run("concurrent reservations never exceed the window", func(t *testing.T) {
		lim := newLimiter(t, upstream.Limits{Burst: 10, Window: 500 * time.Millisecond, Margin: -1, FirstInFlight: -1})
		var mu sync.Mutex
		var slots []time.Time
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() {
				r, err := lim.Reserve(ctx, "k", 10*time.Second)
				// The slot is relative to the moment the limiter decided,
				// just before Reserve returned (goroutines may start late on
				// a loaded machine, so the test's start time would not do).
				at := time.Now().Add(r.Delay)
				if err != nil || !r.OK {
					t.Errorf("%+v, %v", r, err)
					return
				}
				mu.Lock()
				slots = append(slots, at)
				mu.Unlock()
			})
		}
		wg.Wait()
		// Slot times carry the latency of each Reserve's answer, a few ms.
		if n := maxInWindow(slots, 500*time.Millisecond-30*time.Millisecond); n > 10 {
			t.Fatalf("%d slots within one window; limit 10", n)
		}
	})
}

// limiterAdvertContract: following the provider's advertisement.
func limiterAdvertContract(t *testing.T, newLimiter func(t *testing.T, l upstream.Limits) upstream.Limiter) {
	ctx := context.Background()
	answer := func(max, remaining int, interval time.Duration) upstream.Answer {
		return upstream.Answer{Answered: true, Max: max, Remaining: remaining, Interval: interval}
	}
	granted := func(lim upstream.Limiter, key string, n int) (ok int, last upstream.Reservation) {
		for range n {
			r, err := lim.Reserve(ctx, key, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !r.OK {
				return ok, r
			}
			ok++
			last = r
		}
		return ok, last
	}

	t.Run("cautious start until the first answer", func(t *testing.T) {
		lim := newLimiter(t, upstream.Limits{Burst: 100, Window: time.Minute, FirstInFlight: 1})
		first, err := lim.Reserve(ctx, "k", 0)
		if err != nil || !first.OK {
			t.Fatalf("first call: %+v %v", first, err)
		}
		if r, _ := lim.Reserve(ctx, "k", time.Minute); r.OK || !r.Pending {
			t.Fatalf("second call while the first is unanswered: %+v; want pending", r)
		}
		// A failure without an answer frees the slot but teaches nothing.
		if err := lim.Done(ctx, "k", first, upstream.Answer{Max: -1, Remaining: -1}); err != nil {
			t.Fatal(err)
		}
		second, _ := lim.Reserve(ctx, "k", 0)
		if !second.OK {
			t.Fatalf("after a failed first call: %+v", second)
		}
		if r, _ := lim.Reserve(ctx, "k", 0); !r.Pending {
			t.Fatalf("still unknown: %+v; want pending", r)
		}
		_ = lim.Done(ctx, "k", second, answer(10, 8, time.Minute))
		if n, r := granted(lim, "k", 20); n != 8 || r.Pending {
			t.Fatalf("after the first answer: %d granted, then %+v; want the 8 the provider said remain", n, r)
		}
	})

	t.Run("advertised max below the configured burst", func(t *testing.T) {
		lim := newLimiter(t, upstream.Limits{Burst: 100, Window: time.Minute, FirstInFlight: -1})
		r, _ := lim.Reserve(ctx, "k", 0)
		_ = lim.Done(ctx, "k", r, answer(5, -1, time.Minute))
		if n, r := granted(lim, "k", 20); n != 4 || r.Delay <= 0 {
			t.Fatalf("%d granted after an advertised 5 per minute (1 spent), then %+v; want 4", n, r)
		}
	})

	t.Run("remaining counts the calls in flight", func(t *testing.T) {
		lim := newLimiter(t, upstream.Limits{Burst: 100, Window: time.Minute, FirstInFlight: -1})
		var rs []upstream.Reservation
		for range 6 {
			r, _ := lim.Reserve(ctx, "k", 0)
			rs = append(rs, r)
		}
		// The first answer says 10 remain; 5 calls are still in flight,
		// which the provider may not have counted.
		_ = lim.Done(ctx, "k", rs[0], answer(100, 10, time.Minute))
		if n, _ := granted(lim, "k", 20); n != 5 {
			t.Fatalf("%d granted; want 10 remaining - 5 in flight = 5", n)
		}
		// A later answer cannot raise the cap within the window.
		_ = lim.Done(ctx, "k", rs[1], answer(100, 50, time.Minute))
		if n, _ := granted(lim, "k", 20); n != 0 {
			t.Fatalf("%d granted after a higher Remaining; want 0", n)
		}
	})
}

func TestMemoryLimiterAdvert(t *testing.T) {
	limiterAdvertContract(t, func(_ *testing.T, l upstream.Limits) upstream.Limiter {
		return upstream.NewMemoryLimiter(l, nil)
	})
}

func TestRedisLimiterAdvert(t *testing.T) {
	c, prefix := redisClient(t)
	limiterAdvertContract(t, func(_ *testing.T, l upstream.Limits) upstream.Limiter {
		return upstream.NewRedisLimiter(c, prefix+randHex()+":", l)
	})
}

func TestFallbackLimiterAdvert(t *testing.T) {
	c, prefix := redisClient(t)
	limiterAdvertContract(t, func(_ *testing.T, l upstream.Limits) upstream.Limiter {
		return upstream.NewFallbackLimiter(upstream.NewRedisLimiter(c, prefix+randHex()+":", l), upstream.NewMemoryLimiter(l, nil), nil)
	})
}

// maxInWindow returns the most times falling in any half-open window
// (t-w, t].
func maxInWindow(ts []time.Time, w time.Duration) int {
	best := 0
	for _, t := range ts {
		n := 0
		for _, u := range ts {
			if u.After(t.Add(-w)) && !u.After(t) {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

func TestMemoryLimiter(t *testing.T) {
	limiterContract(t, func(_ *testing.T, l upstream.Limits) upstream.Limiter {
		return upstream.NewMemoryLimiter(l, nil)
	})
}

func TestRedisLimiter(t *testing.T) {
	c, prefix := redisClient(t)
	limiterContract(t, func(_ *testing.T, l upstream.Limits) upstream.Limiter {
		return upstream.NewRedisLimiter(c, prefix+randHex()+":", l)
	})
}

func TestFallbackLimiterContract(t *testing.T) {
	c, prefix := redisClient(t)
	limiterContract(t, func(_ *testing.T, l upstream.Limits) upstream.Limiter {
		return upstream.NewFallbackLimiter(upstream.NewRedisLimiter(c, prefix+randHex()+":", l), upstream.NewMemoryLimiter(l, nil), nil)
	})
}

func TestMemoryLimiterClock(t *testing.T) {
	now := time.Date(2025, 1, 1, 23, 59, 59, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	lim := upstream.NewMemoryLimiter(upstream.Limits{Burst: 2, Window: 10 * time.Second, Daily: 2, Margin: -1, FirstInFlight: -1}, clock)
	ctx := context.Background()
	for range 2 {
		if r, _ := lim.Reserve(ctx, "k", 0); !r.OK {
			t.Fatal("refused within budget")
		}
	}
	r, _ := lim.Reserve(ctx, "k", time.Minute)
	if r.OK || !r.Daily || r.Delay != time.Second {
		t.Fatalf("daily refusal: %+v; want 1s to midnight", r)
	}
	mu.Lock()
	now = now.Add(2 * time.Second) // a new UTC day; the burst window still holds both
	mu.Unlock()
	r, _ = lim.Reserve(ctx, "k", time.Minute)
	if !r.OK || r.Delay != 8*time.Second {
		t.Fatalf("new day: %+v; want a slot in 8s (burst window)", r)
	}
}
