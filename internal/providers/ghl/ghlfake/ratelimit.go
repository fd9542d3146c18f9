package ghlfake

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Rate-limit response headers, as HighLevel sends them on every answer.
const (
	HeaderRateLimitMax            = "X-RateLimit-Max"
	HeaderRateLimitRemaining      = "X-RateLimit-Remaining"
	HeaderRateLimitInterval       = "X-RateLimit-Interval-Milliseconds"
	HeaderRateLimitDaily          = "X-RateLimit-Limit-Daily"
	HeaderRateLimitDailyRemaining = "X-RateLimit-Daily-Remaining"
)

// UnlimitedBurst is the X-RateLimit-Max a fake without a burst limit
// (Options.BurstLimit < 0) advertises: a client following the
// advertisement (as the gateway does) is then not slowed by a limit the
// fake does not enforce. With a burst limit, the headers advertise exactly
// what is enforced (e.g. BurstLimit 20, BurstWindow 2s: X-RateLimit-Max 20,
// X-RateLimit-Interval-Milliseconds 2000).
const UnlimitedBurst = 1_000_000

// limiter enforces HighLevel's per-location limits: a sliding burst window
// and a daily budget (reset at midnight UTC). Only requests it admits use
// budget; a 429 does not.
type limiter struct {
	burst       int // <= 0: disabled
	window      time.Duration
	daily       int // <= 0: disabled
	headerBurst int
	headerDaily int

	mu   sync.Mutex
	locs map[string]*locBudget
}

type locBudget struct {
	hits     []time.Time // admitted requests inside the window, oldest first
	day      string      // UTC date the daily count belongs to
	dayCount int
}

func newLimiter(opts Options) *limiter {
	l := &limiter{
		burst:  opts.BurstLimit,
		window: opts.BurstWindow,
		daily:  opts.DailyLimit,
		locs:   make(map[string]*locBudget),
	}
	if l.burst == 0 {
		l.burst = DefaultBurstLimit
	}
	if l.window <= 0 {
		l.window = DefaultBurstWindow
	}
	if l.daily == 0 {
		l.daily = DefaultDailyLimit
	}
	l.headerBurst, l.headerDaily = l.burst, l.daily
	if l.burst < 0 {
		l.headerBurst = UnlimitedBurst
	}
	if l.daily < 0 {
		l.headerDaily = DefaultDailyLimit
	}
	return l
}

// allow admits or refuses one request of the location at now, and writes
// the rate-limit headers either way.
func (l *limiter) allow(loc string, now time.Time, h http.Header) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.locs[loc]
	if b == nil {
		b = &locBudget{}
		l.locs[loc] = b
	}

	// Drop hits that left the window.
	cut := now.Add(-l.window)
	i := 0
	for i < len(b.hits) && !b.hits[i].After(cut) {
		i++
	}
	if i > 0 {
		b.hits = append(b.hits[:0], b.hits[i:]...)
	}
	day := now.UTC().Format(time.DateOnly)
	if b.day != day {
		b.day, b.dayCount = day, 0
	}

	allowed := true
	if l.daily > 0 && b.dayCount >= l.daily {
		allowed = false
	}
	if l.burst > 0 && len(b.hits) >= l.burst {
		allowed = false
	}
	if allowed {
		if l.burst > 0 {
			b.hits = append(b.hits, now)
		}
		b.dayCount++
	}

	remaining := l.headerBurst
	if l.burst > 0 {
		remaining = l.burst - len(b.hits)
	}
	dailyRemaining := l.headerDaily
	if l.daily > 0 {
		dailyRemaining = max(l.daily-b.dayCount, 0)
	}
	l.writeHeaders(h, remaining, dailyRemaining)
	return allowed
}

// writeStaticHeaders writes the headers of an answer that used no budget
// (no location is known: 401, unknown route).
func (l *limiter) writeStaticHeaders(h http.Header) {
	l.writeHeaders(h, l.headerBurst, l.headerDaily)
}

func (l *limiter) writeHeaders(h http.Header, remaining, dailyRemaining int) {
	h.Set(HeaderRateLimitMax, strconv.Itoa(l.headerBurst))
	h.Set(HeaderRateLimitRemaining, strconv.Itoa(remaining))
	h.Set(HeaderRateLimitInterval, strconv.FormatInt(l.window.Milliseconds(), 10))
	h.Set(HeaderRateLimitDaily, strconv.Itoa(l.headerDaily))
	h.Set(HeaderRateLimitDailyRemaining, strconv.Itoa(dailyRemaining))
}
