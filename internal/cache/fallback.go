package cache

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

const (
	// fallbackProbeEvery is how often a down primary is tried again. In
	// between, calls go straight to the fallback, so a hung Redis delays
	// one call per interval by a timeout rather than every call.
	fallbackProbeEvery = time.Second
	// fallbackWarnEvery rate-limits "redis unavailable" while it stays down.
	fallbackWarnEvery = 10 * time.Second
	// fallbackMaxPending bounds the keys remembered for invalidation on
	// recovery (see fallbackCache.pending).
	fallbackMaxPending = 10_000
)

// NewFallback returns a Cache that uses primary (Redis) and, when primary
// fails with anything other than ErrMiss, serves from fallback (an
// in-process Memory) instead, so a dead Redis degrades to in-process
// caching rather than failed requests. Set and Delete go to both caches;
// Get reads the fallback only while the primary is failing. log gets a
// warning "redis unavailable" when the primary starts failing (repeated at
// most every 10s while it keeps failing) and "redis recovered" when it works
// again; nil discards them.
//
// While the primary is down it is skipped, and one call per second probes
// it. On recovery the fallback is emptied (if it has a Clear method, as
// Memory does) and the keys written while down are first deleted from the
// primary, because their writes there failed or were skipped and it may
// still hold older values.
//
// Consistency trade-off: while Redis is down each replica caches on its
// own, so an invalidation made on one replica is not seen by the others
// until their entries expire; during an outage callers may read values up
// to one TTL stale. The fallback also holds values written while Redis was
// up, which a transient Redis error or the next outage may serve although
// another replica has since invalidated them (again bounded by the TTL).
// After recovery nothing from the outage is served: the fallback is cleared
// and the primary's copies of keys written meanwhile are deleted (up to
// 10,000 keys; beyond that, the recovery log line reports how many
// invalidations were dropped and those keys may be stale until they
// expire). Deletes reach the primary even if ctx is cancelled, so an
// invalidation is not lost because the request that made it went away.
func NewFallback(primary, fallback Cache, log *slog.Logger) Cache {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &fallbackCache{
		primary:   primary,
		secondary: fallback,
		log:       log,
		now:       time.Now,
		pending:   make(map[string]uint64),
	}
}

// fallbackCache is the Cache NewFallback returns. The state machine: up
// (use the primary) until a primary call fails for a reason other than the
// caller's context; then down (use the fallback, probing the primary once
// per fallbackProbeEvery) until a probe succeeds with nothing pending.
type fallbackCache struct {
	primary, secondary Cache
	log                *slog.Logger
	now                func() time.Time

	mu         sync.Mutex
	down       bool      // primary failed and has not recovered yet
	downSince  time.Time // when down became true
	probing    bool      // a call is probing the down primary
	lastProbe  time.Time // when the last probe started
	lastWarn   time.Time // when "redis unavailable" was last logged
	suppressed int       // failures not logged since lastWarn
	// pending holds keys whose write to the primary failed or was skipped
	// while it was down, each with the sequence number of its latest such
	// write, so a replay only forgets keys not written again meanwhile.
	pending map[string]uint64
	seq     uint64
	dropped int // pending keys not recorded because pending was full
}

func (f *fallbackCache) Get(ctx context.Context, key string) ([]byte, error) {
	if use, probe := f.begin(ctx, nil); use {
		v, err := f.primary.Get(ctx, key)
		if f.end(ctx, "get", probe, err, nil) {
			return v, err
		}
	}
	return f.secondary.Get(ctx, key)
}

func (f *fallbackCache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		// Reject up front: the primary's error would look like an outage.
		return errBadTTL
	}
	keys := []string{key}
	if use, probe := f.begin(ctx, keys); use {
		f.end(ctx, "set", probe, f.primary.Set(ctx, key, value, ttl), keys)
	}
	return f.secondary.Set(ctx, key, value, ttl)
}

func (f *fallbackCache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	if use, probe := f.begin(ctx, keys); use {
		f.end(ctx, "delete", probe, f.primary.Delete(ctx, keys...), keys)
	}
	// Always, even if the primary succeeded: the fallback may hold the key
	// from a Set, and must not serve it in a later outage.
	return f.secondary.Delete(ctx, keys...)
}

// begin reports whether this call should use the primary: always while the
// primary is up, and while it is down for one call per fallbackProbeEvery,
// the probe, which first deletes the pending keys from the primary. When the
// primary is skipped, keys (those the call writes) become pending.
// A call for which begin returned use must report to end, passing probe.
func (f *fallbackCache) begin(ctx context.Context, keys []string) (use, probe bool) {
	f.mu.Lock()
	if !f.down {
		f.mu.Unlock()
		return true, false
	}
	if f.probing || f.now().Sub(f.lastProbe) < fallbackProbeEvery {
		f.addPending(keys)
		f.mu.Unlock()
		return false, false
	}
	f.probing, f.lastProbe = true, f.now()
	replay := maps.Clone(f.pending)
	f.mu.Unlock()

	if len(replay) > 0 {
		rctx := context.WithoutCancel(ctx)
		if err := f.primary.Delete(rctx, slices.Collect(maps.Keys(replay))...); err != nil {
			f.end(rctx, "delete", true, err, keys)
			return false, false
		}
		f.mu.Lock()
		for k, s := range replay {
			if f.pending[k] == s {
				delete(f.pending, k)
			}
		}
		f.mu.Unlock()
	}
	return true, true
}

// end records the outcome err of a primary call allowed by begin, and
// reports whether it succeeded (nil or ErrMiss). Only a probe's success
// ends an outage: a call that began before the primary went down may still
// succeed afterwards. keys are those the call wrote; on failure they become
// pending.
func (f *fallbackCache) end(ctx context.Context, op string, probe bool, err error, keys []string) bool {
	ok := err == nil || errors.Is(err, ErrMiss)
	var (
		warn, recovered bool
		suppressed      int
		dropped         int
		downFor         time.Duration
	)

	f.mu.Lock()
	if probe {
		f.probing = false
	}
	now := f.now()
	switch {
	case ok:
		if probe {
			if len(f.pending) == 0 {
				recovered, downFor, dropped = true, now.Sub(f.downSince), f.dropped
				f.down, f.dropped, f.suppressed = false, 0, 0
				if c, canClear := f.secondary.(interface{ Clear() }); canClear {
					c.Clear() // under f.mu so no call sees "up" with stale entries
				}
			} else {
				// Keys were written while this probe ran: replay them now.
				f.lastProbe = time.Time{}
			}
		}
	case ctx.Err() != nil:
		// The caller gave up, which says nothing about the primary. Only
		// Get and Set get here (Delete ignores cancellation); a cancelled
		// Set is treated as never made, as it would be without a fallback.
	default:
		f.addPending(keys)
		switch {
		case !f.down:
			f.down, f.downSince, f.lastProbe = true, now, now
			warn = true
		case now.Sub(f.lastWarn) >= fallbackWarnEvery:
			warn = true
		default:
			f.suppressed++
		}
		if warn {
			suppressed, f.suppressed, f.lastWarn = f.suppressed, 0, now
		}
	}
	f.mu.Unlock()

	switch {
	case warn:
		f.log.LogAttrs(ctx, slog.LevelWarn, "redis unavailable",
			slog.String("op", op), slog.Any("error", err),
			slog.String("serving_from", "in-process cache"),
			slog.Int("failures_not_logged", suppressed))
	case recovered && dropped > 0:
		f.log.LogAttrs(ctx, slog.LevelWarn, "redis recovered",
			slog.Duration("down_for", downFor),
			slog.Int("invalidations_dropped", dropped))
	case recovered:
		f.log.LogAttrs(ctx, slog.LevelInfo, "redis recovered",
			slog.Duration("down_for", downFor))
	}
	return ok
}

// addPending records keys for deletion from the primary on recovery.
// f.mu must be held.
func (f *fallbackCache) addPending(keys []string) {
	for _, k := range keys {
		if _, ok := f.pending[k]; !ok && len(f.pending) >= fallbackMaxPending {
			f.dropped++
			continue
		}
		f.seq++
		f.pending[k] = f.seq
	}
}
