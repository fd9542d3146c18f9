package upstream

import (
	"context"
	"math"
	"sync"
	"time"
)

// Defaults of Limits: HighLevel's per-location budget.
const (
	DefaultBurst       = 100
	DefaultBurstWindow = 10 * time.Second
	DefaultDaily       = 200_000
)

// Limits is the budget of every key of a Limiter.
type Limits struct {
	// Burst requests per Window (a sliding window): 0 means 100, negative
	// disables the burst limit.
	Burst int
	// Window of the burst limit: 0 means 10s.
	Window time.Duration
	// Daily requests per UTC day: 0 means 200,000, negative disables it.
	Daily int
	// Margin is added to Window when pacing, to absorb the jitter between
	// the moment a slot is granted and the moment the request reaches the
	// provider (which counts arrivals): 0 means Window/40 but at least
	// 250ms, negative means none.
	Margin time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.Burst == 0 {
		l.Burst = DefaultBurst
	}
	if l.Window <= 0 {
		l.Window = DefaultBurstWindow
	}
	if l.Daily == 0 {
		l.Daily = DefaultDaily
	}
	switch {
	case l.Margin == 0:
		// Scheduling jitter is absolute, not proportional to the window.
		l.Margin = max(l.Window/40, 250*time.Millisecond)
	case l.Margin < 0:
		l.Margin = 0
	}
	return l
}

// span is the pacing window: Window plus Margin.
func (l Limits) span() time.Duration { return l.Window + l.Margin }

// Reservation is a Limiter's answer. When OK, the caller owns a slot and
// must wait Delay before sending. Otherwise no slot was taken and Delay is
// how long until one is expected to free; Daily tells the daily budget is
// the reason.
type Reservation struct {
	OK    bool
	Delay time.Duration
	Daily bool
}

// Limiter paces calls per budget key. Implementations must be safe for
// concurrent use, and shared by every replica when they are to share a
// budget.
type Limiter interface {
	// Reserve takes the earliest free slot of key's budget if it is at most
	// maxWait away (maxWait 0: only a slot free now). It never blocks
	// beyond one round trip to its store; an error means the store failed.
	Reserve(ctx context.Context, key string, maxWait time.Duration) (Reservation, error)
	// Block makes key's budget unavailable for d from now (burst) or, with
	// daily, its daily budget; it is how the provider's own figures
	// (X-RateLimit-Remaining: 0, a 429) are followed.
	Block(ctx context.Context, key string, d time.Duration, daily bool) error
}

// MemoryLimiter is an in-process Limiter: a sliding-window log per key
// with reservations, and a daily counter reset at midnight UTC.
type MemoryLimiter struct {
	limits Limits
	now    func() time.Time
	// epoch is the limiter's first reading of now: instants are kept as
	// nanoseconds since it (8 bytes instead of a time.Time's 24, per slot
	// and per key; monotonic when now is, like time.Time's comparisons).
	epoch time.Time

	mu   sync.Mutex
	keys map[string]*memBudget
}

// never is an instant long past: no block.
const never = math.MinInt64

type memBudget struct {
	log        []int64 // granted slots (since epoch), ascending, may lie in the future
	day        int64   // UTC day number of dayCount
	dayCount   int
	blockUntil int64 // since epoch; never: not blocked
	dailyUntil int64
}

var _ Limiter = (*MemoryLimiter)(nil)

// NewMemoryLimiter returns an in-process Limiter; now nil means time.Now.
func NewMemoryLimiter(limits Limits, now func() time.Time) *MemoryLimiter {
	if now == nil {
		now = time.Now
	}
	return &MemoryLimiter{limits: limits.withDefaults(), now: now, epoch: now(), keys: make(map[string]*memBudget)}
}

// since is t as nanoseconds since the limiter's epoch.
func (m *MemoryLimiter) since(t time.Time) int64 { return int64(t.Sub(m.epoch)) }

// Reserve implements Limiter.
func (m *MemoryLimiter) Reserve(_ context.Context, key string, maxWait time.Duration) (Reservation, error) {
	now := m.now()
	n := m.since(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.budget(key, now, n)
	if n < b.dailyUntil {
		return Reservation{Delay: time.Duration(b.dailyUntil - n), Daily: true}, nil
	}
	if m.limits.Daily > 0 && b.dayCount >= m.limits.Daily {
		return Reservation{Delay: untilNextUTCDay(now), Daily: true}, nil
	}
	at := m.slot(b, n)
	if d := time.Duration(at - n); d > maxWait {
		return Reservation{Delay: d}, nil
	}
	m.take(b, at)
	return Reservation{OK: true, Delay: time.Duration(at - n)}, nil
}

// slot returns the earliest time a new request may go.
func (m *MemoryLimiter) slot(b *memBudget, now int64) int64 {
	at := now
	if b.blockUntil > at {
		at = b.blockUntil
	}
	if n, limit := len(b.log), m.limits.Burst; limit > 0 && n >= limit {
		if free := b.log[n-limit] + int64(m.limits.span()); free > at {
			at = free
		}
	}
	return at
}

func (m *MemoryLimiter) take(b *memBudget, at int64) {
	if m.limits.Burst > 0 {
		// Keep the log sorted; slots are granted in non-decreasing order
		// except around a Block, which only ever moves them later.
		i := len(b.log)
		for i > 0 && b.log[i-1] > at {
			i--
		}
		b.log = append(b.log, 0)
		copy(b.log[i+1:], b.log[i:])
		b.log[i] = at
	}
	b.dayCount++
}

// budget returns key's state, dropping what left the window (now is n
// since the epoch).
func (m *MemoryLimiter) budget(key string, now time.Time, n int64) *memBudget {
	b := m.keys[key]
	if b == nil {
		b = &memBudget{blockUntil: never, dailyUntil: never}
		m.keys[key] = b
	}
	cut := n - int64(m.limits.span())
	i := 0
	for i < len(b.log) && b.log[i] <= cut {
		i++
	}
	if i > 0 {
		// Reslice rather than shift: the next growth of the log copies only
		// the live slots, so dropping old ones costs O(1) amortised even
		// when the burst allows thousands of calls per window.
		b.log = b.log[i:]
	}
	if day := utcDay(now); day != b.day {
		b.day, b.dayCount = day, 0
	}
	return b
}

// Block implements Limiter.
func (m *MemoryLimiter) Block(_ context.Context, key string, d time.Duration, daily bool) error {
	if d <= 0 {
		return nil
	}
	now := m.now()
	n := m.since(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.budget(key, now, n)
	until := m.since(now.Add(d))
	if daily {
		if until > b.dailyUntil {
			b.dailyUntil = until
		}
	} else if until > b.blockUntil {
		b.blockUntil = until
	}
	return nil
}

// record notes a slot granted elsewhere (by the shared limiter), so that
// this in-process view already knows the replica's recent calls when it has
// to take over.
func (m *MemoryLimiter) record(key string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	b := m.budget(key, now, m.since(now))
	m.take(b, m.since(at))
}

func utcDay(t time.Time) int64 { return t.UnixMilli() / dayMillis }

const dayMillis = int64(24 * time.Hour / time.Millisecond)

func untilNextUTCDay(now time.Time) time.Duration {
	next := (utcDay(now) + 1) * dayMillis
	return time.Duration(next-now.UnixMilli()) * time.Millisecond
}
