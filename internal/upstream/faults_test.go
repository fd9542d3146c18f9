package upstream_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/providers/ghl"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/upstream"
)

const (
	loc   = "loc_faults"
	token = "pit-faults"
)

// arrivals wraps the fake, recording when each request arrived and its
// answer's status.
type arrivals struct {
	next http.Handler
	mu   sync.Mutex
	at   []time.Time
	by   map[int]int
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.at = append(a.at, time.Now())
	a.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w, code: 200}
	a.next.ServeHTTP(sw, r)
	a.mu.Lock()
	if a.by == nil {
		a.by = map[int]int{}
	}
	a.by[sw.code]++
	a.mu.Unlock()
}

func (a *arrivals) status(code int) int { a.mu.Lock(); defer a.mu.Unlock(); return a.by[code] }
func (a *arrivals) times() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.at...)
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) { w.code = c; w.ResponseWriter.WriteHeader(c) }

// Hijack keeps the fake's connection-reset fault working through the wrapper.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.ResponseWriter.(http.Hijacker).Hijack()
}

// startFake starts a seeded GHL fake behind an arrivals recorder.
func startFake(t *testing.T, opts ghlfake.Options, records int) (*ghlfake.Server, *arrivals, string) {
	t.Helper()
	fake := ghlfake.New(opts)
	fake.AddToken(token, loc)
	fake.SeedDemo(loc, records)
	rec := &arrivals{next: fake}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return fake, rec, srv.URL
}

func newClient(t *testing.T, url string, rt http.RoundTripper) *ghl.Client {
	t.Helper()
	c, err := ghl.NewClient(ghl.ClientOptions{BaseURL: url, LocationID: loc, Token: ghl.StaticToken(token), HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func recordIDs(t *testing.T, c *ghl.Client) []string {
	t.Helper()
	page, err := c.ListRecords(context.Background(), "pet", crm.RecordQuery{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(page.Items))
	for _, r := range page.Items {
		ids = append(ids, r.ID)
	}
	return ids
}

// TestIdempotentCallsSurviveTransientFaults: under 20% injected faults
// (429, 503, resets, hangs, slow answers), 1,000 mixed idempotent calls
// succeed (≥ 99.9%) and no 429 reaches a caller that waits.
func TestIdempotentCallsSurviveTransientFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite")
	}
	fake, rec, url := startFake(t, ghlfake.Options{BurstLimit: 10_000, BurstWindow: 20 * time.Millisecond}, 30)
	rt := upstream.NewTransport(nil, upstream.Options{
		Limiter:        upstream.NewMemoryLimiter(upstream.Limits{Burst: 10_000, Window: time.Second}, nil),
		Budgets:        upstream.NewMemoryBudgets(nil),
		Retry:          upstream.RetryPolicy{MaxAttempts: 6, BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond},
		AttemptTimeout: 300 * time.Millisecond,
		Breaker:        upstream.BreakerPolicy{MinCalls: 1000, Consecutive: 1000},
	})
	c := newClient(t, url, rt)
	ids := recordIDs(t, c)
	fake.SetFaults(ghlfake.FaultConfig{
		Rate429: 0.05, Rate503: 0.05, RateReset: 0.04, RateTimeout: 0.02, RateSlow: 0.04,
		SlowDelay: 20 * time.Millisecond, Seed: 42,
	})

	const calls, workers = 1000, 8
	var failed, surfaced429 atomic.Int32
	var firstErr atomic.Value
	var wg sync.WaitGroup
	next := atomic.Int32{}
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= calls {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				ctx = upstream.WithCall(ctx, upstream.Call{Budget: upstream.BudgetKey("ghl", "cfg", loc)})
				var err error
				switch i % 5 {
				case 0:
					_, err = c.GetRecord(ctx, "pet", ids[i%len(ids)])
				case 1:
					_, err = c.SearchRecords(upstream.WithIdempotent(ctx, true), "pet", crm.RecordQuery{Query: "Luna", PageSize: 5})
				case 2:
					_, err = c.UpdateRecord(ctx, "pet", ids[i%len(ids)], crm.RecordInput{Properties: map[string]any{"notes": fmt.Sprintf("call %d", i)}})
				case 3:
					_, err = c.ListObjects(ctx)
				case 4:
					_, err = c.GetSchema(ctx, "pet")
				}
				cancel()
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					var pe *crm.ProviderError
					var rl *upstream.RateLimitedError
					if errors.As(err, &pe) && pe.Status == 429 || errors.As(err, &rl) {
						surfaced429.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	fc := fake.FaultCounts()
	t.Logf("faults injected: %+v (%d in all over %d requests)", fc, fc.Total(), len(rec.times()))
	if fc.Total() < 150 {
		t.Errorf("only %d faults injected; the suite is meant to run under ~20%%", fc.Total())
	}
	if n := failed.Load(); n > calls/1000 {
		t.Errorf("%d of %d calls failed (first: %v); want ≥ 99.9%% success", n, calls, firstErr.Load())
	}
	if n := surfaced429.Load(); n != 0 {
		t.Errorf("%d callers that chose to wait saw a 429", n)
	}
}

// TestCreatesUnderFaultsNeverDuplicate: creates under faults — some of
// them hitting after the record was written — make exactly one record per
// success or unknown outcome, never a duplicate.
func TestCreatesUnderFaultsNeverDuplicate(t *testing.T) {
	fake, _, url := startFake(t, ghlfake.Options{BurstLimit: 10_000, BurstWindow: 100 * time.Millisecond}, 1)
	rt := upstream.NewTransport(nil, upstream.Options{
		Limiter:        upstream.NewMemoryLimiter(upstream.Limits{Burst: 10_000, Window: time.Second}, nil),
		Retry:          upstream.RetryPolicy{MaxAttempts: 6, BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond},
		AttemptTimeout: 300 * time.Millisecond,
		DisableBreaker: true,
	})
	c := newClient(t, url, rt)
	before := fake.RecordCount(loc, ghlfake.DemoObjectKey)
	fake.SetFaults(ghlfake.FaultConfig{Rate429: 0.1, Rate503: 0.05, RateReset: 0.05, RateTimeout: 0.05, Seed: 7, AfterWrite: true})

	const calls, workers = 200, 8
	var ok, unknown, other atomic.Int32
	var wg sync.WaitGroup
	next := atomic.Int32{}
	seen := sync.Map{}
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= calls {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				ctx = upstream.WithCall(ctx, upstream.Call{Budget: "ghl:cfg:" + loc})
				r, err := c.CreateRecord(ctx, "pet", crm.RecordInput{Properties: map[string]any{"name": fmt.Sprintf("create %d", i)}})
				cancel()
				var uo *upstream.UnknownOutcomeError
				var pe *crm.ProviderError
				switch {
				case err == nil:
					ok.Add(1)
					if _, dup := seen.LoadOrStore(r.ID, true); dup {
						t.Errorf("record %s returned twice", r.ID)
					}
				case errors.As(err, &uo):
					unknown.Add(1)
				case errors.As(err, &pe) && pe.Status == http.StatusServiceUnavailable:
					other.Add(1) // a 503 is not retried for a create; nothing was made
				default:
					t.Errorf("create %d: unexpected %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	fc := fake.FaultCounts()
	made := fake.RecordCount(loc, ghlfake.DemoObjectKey) - before
	t.Logf("faults %+v; ok %d, unknown %d, 503 %d, records made %d", fc, ok.Load(), unknown.Load(), other.Load(), made)
	if fc.AfterWrite == 0 || fc.Status429 == 0 {
		t.Fatalf("the faults did not hit: %+v", fc)
	}
	if int(unknown.Load()) != fc.AfterWrite {
		t.Errorf("%d unknown outcomes for %d faults after a write", unknown.Load(), fc.AfterWrite)
	}
	if want := int(ok.Load()) + fc.AfterWrite; made != want {
		t.Errorf("%d records made; want %d (one per success and per write whose answer was lost): a create was duplicated or lost", made, want)
	}
}

// TestCreateResetAfterWrite: the single-call form of the above.
func TestCreateResetAfterWrite(t *testing.T) {
	fake, _, url := startFake(t, ghlfake.Options{}, 1)
	c := newClient(t, url, upstream.NewTransport(nil, upstream.Options{Retry: fastRetry()}))
	before := fake.RecordCount(loc, ghlfake.DemoObjectKey)
	fake.SetFaults(ghlfake.FaultConfig{RateReset: 1, AfterWrite: true})
	fake.ResetCounts()
	_, err := c.CreateRecord(context.Background(), "pet", crm.RecordInput{Properties: map[string]any{"name": "Rex"}})
	var uo *upstream.UnknownOutcomeError
	if !errors.As(err, &uo) {
		t.Fatalf("got %v; want an UnknownOutcomeError", err)
	}
	if n := fake.RequestCount("POST /objects/{schemaKey}/records"); n != 1 {
		t.Errorf("the create was sent %d times", n)
	}
	if n := fake.RecordCount(loc, ghlfake.DemoObjectKey) - before; n != 1 {
		t.Errorf("%d records made; want 1", n)
	}
}

// TestBreakerOpensOnFailingProvider: a provider answering 500 opens the
// circuit; calls then fail fast without reaching it, and a probe closes it
// once the provider is healthy.
func TestBreakerOpensOnFailingProvider(t *testing.T) {
	fake, rec, url := startFake(t, ghlfake.Options{BurstLimit: -1}, 1)
	rt := upstream.NewTransport(nil, upstream.Options{
		Retry:   fastRetry(),
		Breaker: upstream.BreakerPolicy{Consecutive: 5, OpenFor: 200 * time.Millisecond},
	})
	c := newClient(t, url, rt)
	fake.SetFaults(ghlfake.FaultConfig{Rate500: 1})
	for range 5 {
		if _, err := c.ListObjects(context.Background()); err == nil {
			t.Fatal("a 500 succeeded")
		}
	}
	if s := rt.BreakerState(url); s != upstream.StateOpen {
		t.Fatalf("state %v after 5 failures", s)
	}
	n := len(rec.times())
	start := time.Now()
	_, err := c.ListObjects(context.Background())
	var co *upstream.CircuitOpenError
	if !errors.As(err, &co) || len(rec.times()) != n || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("open circuit: %v in %s, provider called %d more times", err, time.Since(start), len(rec.times())-n)
	}
	fake.SetFaults(ghlfake.FaultConfig{})
	time.Sleep(250 * time.Millisecond)
	if s := rt.BreakerState(url); s != upstream.StateHalfOpen {
		t.Fatalf("state %v after OpenFor", s)
	}
	if _, err := c.ListObjects(context.Background()); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if s := rt.BreakerState(url); s != upstream.StateClosed {
		t.Fatalf("state %v after a good probe", s)
	}
}

// TestRateLimitFollowsProviderHeaders: the provider's figures are
// recorded; X-RateLimit-Remaining: 0 blocks the budget for the interval, a
// spent daily budget until the next UTC day.
func TestRateLimitFollowsProviderHeaders(t *testing.T) {
	_, rec, url := startFake(t, ghlfake.Options{BurstLimit: 3, BurstWindow: 400 * time.Millisecond, DailyLimit: 5}, 1)
	budgets := upstream.NewMemoryBudgets(nil)
	rt := upstream.NewTransport(nil, upstream.Options{
		Limiter: upstream.NewMemoryLimiter(upstream.Limits{Burst: 1000, Window: time.Second}, nil),
		Budgets: budgets,
		Retry:   fastRetry(),
	})
	c := newClient(t, url, rt)
	key := upstream.BudgetKey("ghl", "cfg", loc)
	ctx := upstream.WithCall(context.Background(), upstream.Call{Budget: key})
	fast := upstream.WithCall(context.Background(), upstream.Call{Budget: key, FailFast: true})
	for range 3 {
		if _, err := c.ListObjects(ctx); err != nil {
			t.Fatal(err)
		}
	}
	b, ok, err := budgets.Get(ctx, key)
	if err != nil || !ok || b.BurstLimit != 3 || b.BurstRemaining != 0 || b.BurstIntervalMS != 400 || b.DailyLimit != 5 || b.DailyRemaining != 2 || b.ObservedAt.IsZero() {
		t.Fatalf("budget %+v %v %v", b, ok, err)
	}
	n := len(rec.times())
	_, err = c.ListObjects(fast)
	var rl *upstream.RateLimitedError
	if !errors.As(err, &rl) || rl.Daily || rl.RetryAfter < 300*time.Millisecond || len(rec.times()) != n {
		t.Fatalf("after remaining 0: %v; want a fail-fast RateLimitedError without a call", err)
	}
	// A waiting caller is paced past the block and succeeds without a 429.
	start := time.Now()
	if _, err := c.ListObjects(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("waited only %s", d)
	}
	if _, err := c.ListObjects(ctx); err != nil { // daily remaining now 0
		t.Fatal(err)
	}
	_, err = c.ListObjects(ctx)
	if !errors.As(err, &rl) || !rl.Daily {
		t.Fatalf("after daily remaining 0: %v; want a daily RateLimitedError", err)
	}
	if rec.status(429) != 0 {
		t.Errorf("the provider answered %d 429s", rec.status(429))
	}
}
