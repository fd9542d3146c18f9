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
	// 250ms, negative means none. It is added to the provider's advertised
	// interval too.
	Margin time.Duration
	// FirstInFlight is how many calls may be in flight on a budget no
	// answer has been seen for yet (cautious start: the provider's own
	// figures are unknown until its first answer): 0 means 1, negative
	// means no cautious start.
	FirstInFlight int
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
	if l.FirstInFlight == 0 {
		l.FirstInFlight = 1
	}
	return l
}

// advSpan is the pacing window of an advertised interval (the configured
// Window when the provider named none).
func (l Limits) advSpan(interval time.Duration) time.Duration {
	if interval <= 0 {
		interval = l.Window
	}
	return interval + l.Margin
}

// inflightLease bounds how long a reservation counts as in flight when its
// Done never comes (a replica died mid-call): longer than any wait for a
// slot plus an attempt.
const inflightLease = 2 * time.Minute

// pendingPoll is how soon a call held by the cautious start tries again.
const pendingPoll = 20 * time.Millisecond

// span is the pacing window: Window plus Margin.
func (l Limits) span() time.Duration { return l.Window + l.Margin }

// Reservation is a Limiter's answer. When OK, the caller owns a slot and
// must wait Delay before sending, and hand the reservation back to Done
// when the call ends. Otherwise no slot was taken and Delay is how long
// until one is expected to free; Daily tells the daily budget is the
// reason; Pending tells the budget is unknown and its first calls are
// still unanswered (cautious start): ask again after Delay.
type Reservation struct {
	OK      bool
	Delay   time.Duration
	Daily   bool
	Pending bool
	// ID names the slot for Done; 0: none to release.
	ID int64
	// shared: granted by a FallbackLimiter's shared limiter.
	shared bool
}

// Answer is what a call's answer told of its budget, for Limiter.Done.
type Answer struct {
	// Answered: the provider answered (false: the call failed without an
	// answer, so it tells nothing).
	Answered bool
	// Max, Remaining and Interval are the burst figures the answer
	// advertised (X-RateLimit-Max, X-RateLimit-Remaining,
	// X-RateLimit-Interval-Milliseconds): -1, -1 and 0 when absent.
	Max, Remaining int
	Interval       time.Duration
}

// Limiter paces calls per budget key. Implementations must be safe for
// concurrent use, and shared by every replica when they are to share a
// budget.
//
// A key is paced by the tighter of its configured Limits and what the
// provider last advertised for it (Done): at most Burst calls per Window
// and at most the advertised Max per advertised Interval (both sliding,
// plus Margin); while an advertised Remaining is in force (one interval
// from the answer), at most Remaining minus the calls then in flight —
// which the provider may not have counted yet — are sent. Until a key's
// first answer, at most FirstInFlight calls are in flight.
type Limiter interface {
	// Reserve takes the earliest free slot of key's budget if it is at most
	// maxWait away (maxWait 0: only a slot free now). It never blocks
	// beyond one round trip to its store; an error means the store failed.
	Reserve(ctx context.Context, key string, maxWait time.Duration) (Reservation, error)
	// Block makes key's budget unavailable for d from now (burst) or, with
	// daily, its daily budget; it is how the provider's own figures
	// (X-RateLimit-Remaining: 0, a 429) are followed.
	Block(ctx context.Context, key string, d time.Duration, daily bool) error
	// Done ends an OK reservation r of key once its call ended, with what
	// the answer advertised; an error means the store failed.
	Done(ctx context.Context, key string, r Reservation, a Answer) error
}

// LimitsReporter is an optional capability of a Limiter: the configured
// Limits it applies (RateLimit logs when the provider advertises others).
type LimitsReporter interface {
	Limits() Limits
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

	mu     sync.Mutex
	keys   map[string]*memBudget
	nextID int64
}

// never is an instant long past: no block.
const never = math.MinInt64

type memBudget struct {
	log        []int64 // granted slots (since epoch), ascending, may lie in the future
	day        int64   // UTC day number of dayCount
	dayCount   int
	blockUntil int64 // since epoch; never: not blocked
	dailyUntil int64

	seen     bool            // an answer came
	advMax   int             // advertised burst; 0: none
	advSpan  int64           // advertised interval plus margin
	capLeft  int             // calls that may still go before capUntil
	capUntil int64           // end of the advertised Remaining's window; never: no cap
	inflight map[int64]int64 // reservation id -> lease end
}

var (
	_ Limiter        = (*MemoryLimiter)(nil)
	_ LimitsReporter = (*MemoryLimiter)(nil)
)

// Limits implements LimitsReporter.
func (m *MemoryLimiter) Limits() Limits { return m.limits }

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
	if !b.seen && m.limits.FirstInFlight > 0 && b.inFlight(n) >= m.limits.FirstInFlight {
		return Reservation{Delay: pendingPoll, Pending: true}, nil
	}
	at := m.slot(b, n)
	if d := time.Duration(at - n); d > maxWait {
		return Reservation{Delay: d}, nil
	}
	m.take(b, at)
	if b.capUntil > at {
		b.capLeft--
	}
	m.nextID++
	if b.inflight == nil {
		b.inflight = make(map[int64]int64)
	}
	b.inflight[m.nextID] = n + int64(inflightLease)
	return Reservation{OK: true, Delay: time.Duration(at - n), ID: m.nextID}, nil
}

// inFlight counts b's live reservations, dropping expired leases.
func (b *memBudget) inFlight(now int64) int {
	for id, until := range b.inflight {
		if until <= now {
			delete(b.inflight, id)
		}
	}
	return len(b.inflight)
}

// slot returns the earliest time a new request may go.
func (m *MemoryLimiter) slot(b *memBudget, now int64) int64 {
	at := now
	if b.blockUntil > at {
		at = b.blockUntil
	}
	at = max(at, windowFree(b.log, m.limits.Burst, int64(m.limits.span())))
	if b.advMax > 0 {
		at = max(at, windowFree(b.log, b.advMax, b.advSpan))
	}
	if b.capUntil > now && b.capLeft <= 0 {
		at = max(at, b.capUntil)
	}
	return at
}

// windowFree is when the sorted log leaves room for one more slot under
// limit per span (limit <= 0: no limit; never when there is room now).
func windowFree(log []int64, limit int, span int64) int64 {
	if n := len(log); limit > 0 && n >= limit {
		return log[n-limit] + span
	}
	return never
}

func (m *MemoryLimiter) take(b *memBudget, at int64) {
	// Keep the log sorted; slots are granted in non-decreasing order
	// except around a Block, which only ever moves them later.
	i := len(b.log)
	for i > 0 && b.log[i-1] > at {
		i--
	}
	b.log = append(b.log, 0)
	copy(b.log[i+1:], b.log[i:])
	b.log[i] = at
	b.dayCount++
}

// Done implements Limiter.
func (m *MemoryLimiter) Done(_ context.Context, key string, r Reservation, a Answer) error {
	now := m.now()
	n := m.since(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.budget(key, now, n)
	delete(b.inflight, r.ID)
	if !a.Answered {
		return nil
	}
	b.seen = true
	span := int64(m.limits.advSpan(a.Interval))
	if a.Max > 0 {
		b.advMax, b.advSpan = a.Max, span
	}
	if a.Remaining >= 0 {
		// The calls still in flight may not have reached the provider's
		// count yet: they spend from what it says remains.
		left := a.Remaining - b.inFlight(n)
		if b.capUntil <= n || left < b.capLeft {
			b.capLeft, b.capUntil = left, n+span
		}
	}
	return nil
}

// budget returns key's state, dropping what left the window (now is n
// since the epoch).
func (m *MemoryLimiter) budget(key string, now time.Time, n int64) *memBudget {
	b := m.keys[key]
	if b == nil {
		b = &memBudget{blockUntil: never, dailyUntil: never, capUntil: never}
		m.keys[key] = b
	}
	cut := n - max(int64(m.limits.span()), b.advSpan)
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
