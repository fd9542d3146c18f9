package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/testenv"
)

var errDown = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

// flaky is a primary whose data (a Memory) survives while it fails, as with
// a network partition, and which counts calls.
type flaky struct {
	data *Memory

	mu    sync.Mutex
	err   error
	calls int
}

func (p *flaky) check(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if err := ctx.Err(); err != nil {
		return err
	}
	return p.err
}

func (p *flaky) setErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

func (p *flaky) callCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

func (p *flaky) Get(ctx context.Context, key string) ([]byte, error) {
	if err := p.check(ctx); err != nil {
		return nil, err
	}
	return p.data.Get(ctx, key)
}

func (p *flaky) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := p.check(ctx); err != nil {
		return err
	}
	return p.data.Set(ctx, key, value, ttl)
}

func (p *flaky) Delete(ctx context.Context, keys ...string) error {
	if err := p.check(ctx); err != nil {
		return err
	}
	return p.data.Delete(ctx, keys...)
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logBuffer collects JSON log records; safe for concurrent use.
type logBuffer struct{ testenv.LogBuffer }

// records returns the logged records with message msg.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad log line %q: %v", line, err)
		}
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

type fallbackFixture struct {
	f         *fallbackCache
	primary   *flaky
	secondary *Memory
	clock     *testClock
	logs      *logBuffer
}

func newFallbackFixture() *fallbackFixture {
	fx := &fallbackFixture{
		primary:   &flaky{data: NewMemory(100_000)},
		secondary: NewMemory(100_000),
		clock:     &testClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		logs:      &logBuffer{},
	}
	fx.f = NewFallback(fx.primary, fx.secondary, slog.New(slog.NewJSONHandler(fx.logs, nil))).(*fallbackCache)
	fx.f.now = fx.clock.Now
	return fx
}

func (fx *fallbackFixture) wantGet(t *testing.T, key, want string) {
	t.Helper()
	v, err := fx.f.Get(t.Context(), key)
	if want == "" {
		if !errors.Is(err, ErrMiss) {
			t.Fatalf("Get(%s) = %q, %v; want ErrMiss", key, v, err)
		}
		return
	}
	if err != nil || string(v) != want {
		t.Fatalf("Get(%s) = %q, %v; want %q", key, v, err, want)
	}
}

func (fx *fallbackFixture) mustSet(t *testing.T, key, value string) {
	t.Helper()
	if err := fx.f.Set(t.Context(), key, []byte(value), time.Hour); err != nil {
		t.Fatalf("Set(%s) = %v; the fallback must not fail", key, err)
	}
}

func TestFallbackOutageAndRecovery(t *testing.T) {
	fx := newFallbackFixture()
	ctx := t.Context()
	fx.mustSet(t, "a", "a1")
	fx.mustSet(t, "c", "c-old")
	fx.wantGet(t, "a", "a1")

	fx.primary.setErr(errDown)
	fx.wantGet(t, "a", "a1") // first failure: served from the warm fallback
	if n := len(fx.logs.records(t, "redis unavailable")); n != 1 {
		t.Fatalf("%d warnings after the first failure, want 1; logs:\n%s", n, fx.logs)
	}

	// Within the probe interval the primary is not called at all.
	calls := fx.primary.callCount()
	fx.mustSet(t, "b", "b-outage")
	fx.mustSet(t, "c", "c-new")
	if err := fx.f.Delete(ctx, "a"); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	fx.wantGet(t, "a", "")
	fx.wantGet(t, "b", "b-outage")
	fx.wantGet(t, "c", "c-new")
	if n := fx.primary.callCount(); n != calls {
		t.Errorf("primary called %d times while down within the probe interval", n-calls)
	}

	// A probe a second later fails quietly; ten seconds on it warns again.
	fx.clock.Advance(fallbackProbeEvery)
	fx.wantGet(t, "b", "b-outage")
	if n := fx.primary.callCount(); n != calls+1 {
		t.Errorf("probe made %d primary calls, want 1 (it fails replaying)", n-calls)
	}
	if n := len(fx.logs.records(t, "redis unavailable")); n != 1 {
		t.Errorf("%d warnings within 10s, want 1", n)
	}
	fx.clock.Advance(fallbackWarnEvery)
	fx.wantGet(t, "b", "b-outage")
	warnings := fx.logs.records(t, "redis unavailable")
	if len(warnings) != 2 {
		t.Fatalf("%d warnings after 11s down, want 2; logs:\n%s", len(warnings), fx.logs)
	}
	if w := warnings[1]; w["level"] != "WARN" || w["failures_not_logged"] != 1.0 || !strings.Contains(fmt.Sprint(w["error"]), "refused") {
		t.Errorf("second warning = %v", w)
	}

	// Recovery is noticed by the next probe, not before.
	fx.primary.setErr(nil)
	fx.wantGet(t, "b", "b-outage")
	fx.clock.Advance(fallbackProbeEvery)
	fx.wantGet(t, "b", "") // from the primary, which never had b
	recovered := fx.logs.records(t, "redis recovered")
	if len(recovered) != 1 || recovered[0]["level"] != "INFO" {
		t.Fatalf("recovery records = %v; logs:\n%s", recovered, fx.logs)
	}
	if n := fx.secondary.Len(); n != 0 {
		t.Errorf("fallback holds %d entries after recovery, want it cleared", n)
	}
	// Keys written while down were deleted from the primary, which kept
	// their pre-outage values: a (deleted) and c (overwritten) must not
	// come back.
	fx.wantGet(t, "a", "")
	fx.wantGet(t, "c", "")
	if n := len(fx.f.pending); n != 0 {
		t.Errorf("%d keys still pending after recovery", n)
	}

	fx.mustSet(t, "d", "d1")
	if v, err := fx.primary.data.Get(ctx, "d"); err != nil || string(v) != "d1" {
		t.Errorf("primary Get(d) after recovery = %q, %v", v, err)
	}
}

func TestFallbackCancelledCallerIsNotAnOutage(t *testing.T) {
	fx := newFallbackFixture()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _ = fx.f.Get(ctx, "k")
	_ = fx.f.Set(ctx, "k", []byte("v"), time.Hour)
	if fx.f.down || fx.logs.String() != "" {
		t.Fatalf("cancelled calls marked the primary down (down=%v); logs:\n%s", fx.f.down, fx.logs)
	}
	// Delete reaches the primary despite the cancelled context.
	if err := fx.primary.data.Set(t.Context(), "x", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := fx.f.Delete(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.primary.data.Get(t.Context(), "x"); !errors.Is(err, ErrMiss) {
		t.Errorf("primary still has x after Delete with a cancelled context: %v", err)
	}
}

func TestFallbackRejectsBadTTLWithoutOutage(t *testing.T) {
	fx := newFallbackFixture()
	if err := fx.f.Set(t.Context(), "k", []byte("v"), 0); err == nil {
		t.Error("Set with ttl 0 = nil, want an error")
	}
	if fx.f.down || fx.primary.callCount() != 0 {
		t.Errorf("bad ttl reached the primary (down=%v)", fx.f.down)
	}
}

func TestFallbackOnlyProbeEndsOutage(t *testing.T) {
	fx := newFallbackFixture()
	ctx := t.Context()
	use, probe := fx.f.begin(ctx, nil) // a call in flight as the primary dies
	if !use || probe {
		t.Fatalf("begin while up = %v, %v", use, probe)
	}
	fx.primary.setErr(errDown)
	fx.wantGet(t, "k", "")
	fx.f.end(ctx, "get", probe, nil, nil) // the in-flight call succeeds late
	if !fx.f.down {
		t.Error("a late success of a call begun before the outage ended it")
	}
}

func TestFallbackPendingIsBounded(t *testing.T) {
	fx := newFallbackFixture()
	ctx := t.Context()
	fx.primary.setErr(errDown)
	fx.wantGet(t, "k", "")
	const extra = 5
	keys := make([]string, fallbackMaxPending+extra)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
	}
	if err := fx.f.Delete(ctx, keys...); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.f.pending); n != fallbackMaxPending {
		t.Errorf("pending = %d keys, want capped at %d", n, fallbackMaxPending)
	}
	fx.primary.setErr(nil)
	fx.clock.Advance(fallbackProbeEvery)
	fx.wantGet(t, "k", "")
	r := fx.logs.records(t, "redis recovered")
	if len(r) != 1 || r[0]["level"] != "WARN" || r[0]["invalidations_dropped"] != float64(extra) {
		t.Errorf("recovery records = %v", r)
	}
}

// TestFallbackFlapping runs calls while the primary flips between failing
// and working, for the race detector; no call may fail.
func TestFallbackFlapping(t *testing.T) {
	fx := newFallbackFixture()
	ctx := t.Context()
	stop := make(chan struct{})
	var flipper sync.WaitGroup
	flipper.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			if i%2 == 0 {
				fx.primary.setErr(errDown)
			} else {
				fx.primary.setErr(nil)
			}
			fx.clock.Advance(fallbackProbeEvery / 2)
		}
	})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				k := fmt.Sprint("k", (g+i)%5)
				var err error
				switch i % 3 {
				case 0:
					err = fx.f.Set(ctx, k, []byte("v"), time.Hour)
				case 1:
					_, err = fx.f.Get(ctx, k)
					if errors.Is(err, ErrMiss) {
						err = nil
					}
				case 2:
					err = fx.f.Delete(ctx, k)
				}
				if err != nil {
					t.Errorf("call failed: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	flipper.Wait()
}
