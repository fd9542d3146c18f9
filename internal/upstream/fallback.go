package upstream

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

const (
	// fallbackProbeEvery is how often a failing shared store is tried
	// again; in between, calls go straight to the in-process fallback, so a
	// hung Redis costs one timeout per interval, not one per call.
	fallbackProbeEvery = time.Second
	// fallbackWarnEvery rate-limits the "unavailable" warning.
	fallbackWarnEvery = 10 * time.Second
)

// health tracks whether a shared store works, for the fallbacks.
type health struct {
	what string
	log  *slog.Logger
	now  func() time.Time

	mu       sync.Mutex
	down     bool
	retryAt  time.Time
	lastWarn time.Time
}

// usePrimary tells whether to try the shared store now.
func (h *health) usePrimary() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.down || !h.now().Before(h.retryAt)
}

func (h *health) failed(ctx context.Context, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.retryAt = now.Add(fallbackProbeEvery)
	if !h.down || now.Sub(h.lastWarn) >= fallbackWarnEvery {
		h.log.WarnContext(ctx, h.what+" unavailable; using the in-process fallback", "err", err)
		h.lastWarn = now
	}
	h.down = true
}

func (h *health) ok(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		h.down = false
		h.log.InfoContext(ctx, h.what+" recovered")
	}
}

// FallbackLimiter uses a shared Limiter (Redis) and, while it fails, an
// in-process MemoryLimiter, so a dead Redis never fails a call. It also
// records every slot the shared limiter grants in the in-process one, so
// at a switch-over the replica still knows its own recent calls.
//
// Trade-off: during an outage each replica paces on its own, so N replicas
// may together spend up to N times the budget of one (configure the
// fallback's Limits as a share if that matters; the provider's headers and
// 429s are still followed through Block, which reaches both). After
// recovery the shared log does not know the outage's calls; they age out
// within one window.
type FallbackLimiter struct {
	primary  Limiter
	fallback *MemoryLimiter
	h        *health
}

var (
	_ Limiter        = (*FallbackLimiter)(nil)
	_ LimitsReporter = (*FallbackLimiter)(nil)
)

// NewFallbackLimiter returns primary guarded by fallback; log gets a
// warning when primary starts failing (repeated at most every 10s) and a
// line when it recovers; nil discards them.
func NewFallbackLimiter(primary Limiter, fallback *MemoryLimiter, log *slog.Logger) *FallbackLimiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &FallbackLimiter{primary: primary, fallback: fallback, h: &health{what: "shared rate limiter", log: log, now: time.Now}}
}

// Reserve implements Limiter.
func (f *FallbackLimiter) Reserve(ctx context.Context, key string, maxWait time.Duration) (Reservation, error) {
	if f.h.usePrimary() {
		r, err := f.primary.Reserve(ctx, key, maxWait)
		if err == nil {
			f.h.ok(ctx)
			if r.OK {
				f.fallback.record(key, f.fallback.now().Add(r.Delay))
				r.shared = true
			}
			return r, nil
		}
		if ctx.Err() != nil {
			return Reservation{}, ctx.Err()
		}
		f.h.failed(ctx, err)
	}
	return f.fallback.Reserve(ctx, key, maxWait)
}

// Block implements Limiter: it blocks both limiters.
func (f *FallbackLimiter) Block(ctx context.Context, key string, d time.Duration, daily bool) error {
	_ = f.fallback.Block(ctx, key, d, daily)
	if f.h.usePrimary() {
		if err := f.primary.Block(ctx, key, d, daily); err != nil {
			if ctx.Err() == nil {
				f.h.failed(ctx, err)
			}
		} else {
			f.h.ok(ctx)
		}
	}
	return nil
}

// Done implements Limiter: it ends the reservation where it was granted,
// and tells both limiters what the answer advertised.
func (f *FallbackLimiter) Done(ctx context.Context, key string, r Reservation, a Answer) error {
	if !r.shared {
		return f.fallback.Done(ctx, key, r, a)
	}
	_ = f.fallback.Done(ctx, key, Reservation{}, a)
	if f.h.usePrimary() {
		if err := f.primary.Done(ctx, key, r, a); err != nil {
			if ctx.Err() == nil {
				f.h.failed(ctx, err)
			}
		} else {
			f.h.ok(ctx)
		}
	}
	return nil
}

// Limits implements LimitsReporter: the fallback's.
func (f *FallbackLimiter) Limits() Limits { return f.fallback.Limits() }

// FallbackBudgets uses a shared Budgets (Redis) and, while it fails, an
// in-process one. Every Record also goes to the in-process store, so Get
// during an outage answers what this replica saw last.
type FallbackBudgets struct {
	primary  Budgets
	fallback Budgets
	h        *health
}

var _ Budgets = (*FallbackBudgets)(nil)

// NewFallbackBudgets returns primary guarded by fallback; log as for
// NewFallbackLimiter.
func NewFallbackBudgets(primary, fallback Budgets, log *slog.Logger) *FallbackBudgets {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &FallbackBudgets{primary: primary, fallback: fallback, h: &health{what: "shared rate-limit budgets", log: log, now: time.Now}}
}

// Record implements Budgets; it fails only if the in-process store does.
func (f *FallbackBudgets) Record(ctx context.Context, key string, b Budget) error {
	if err := f.fallback.Record(ctx, key, b); err != nil {
		return err
	}
	if f.h.usePrimary() {
		if err := f.primary.Record(ctx, key, b); err != nil {
			if ctx.Err() == nil {
				f.h.failed(ctx, err)
			}
		} else {
			f.h.ok(ctx)
		}
	}
	return nil
}

// Get implements Budgets: the shared figures, or this replica's while the
// shared store fails.
func (f *FallbackBudgets) Get(ctx context.Context, key string) (Budget, bool, error) {
	if f.h.usePrimary() {
		b, ok, err := f.primary.Get(ctx, key)
		if err == nil {
			f.h.ok(ctx)
			if ok {
				return b, true, nil
			}
			return f.fallback.Get(ctx, key)
		}
		if ctx.Err() != nil {
			return Budget{}, false, ctx.Err()
		}
		f.h.failed(ctx, err)
	}
	return f.fallback.Get(ctx, key)
}
