package cache

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"
)

// evictionSample is how many entries Set inspects when the cache is full:
// expired ones among them are dropped, and if none were expired the one
// closest to expiry goes. This is the sampled approximation Redis uses for
// maxmemory eviction; it keeps Set O(1) instead of scanning every entry.
const evictionSample = 8

// errBadTTL is returned by Set for a ttl that is not positive.
var errBadTTL = errors.New("cache: ttl must be positive")

// Memory is an in-process Cache holding at most a fixed number of entries.
// Expired entries are removed lazily (when read, or when a full cache needs
// room). Values are copied on Set and Get, so callers may reuse or mutate
// their slices freely. The zero value is not usable; see NewMemory.
type Memory struct {
	max  int
	now  func() time.Time
	base time.Time // expiries are kept as offsets from it

	mu      sync.Mutex
	entries map[string]memEntry
}

type memEntry struct {
	value   []byte
	expires time.Duration // since Memory.base: a third of a time.Time, in every slot
}

var _ Cache = (*Memory)(nil)

// NewMemory returns an in-process cache holding at most maxEntries entries.
// It panics if maxEntries < 1.
func NewMemory(maxEntries int) *Memory {
	return NewMemoryWithClock(maxEntries, time.Now)
}

// NewMemoryWithClock is NewMemory with the clock used for expiry, for tests.
func NewMemoryWithClock(maxEntries int, now func() time.Time) *Memory {
	if maxEntries < 1 {
		panic("cache: NewMemory: maxEntries must be at least 1")
	}
	return &Memory{max: maxEntries, now: now, base: now(), entries: make(map[string]memEntry)}
}

// Get returns a copy of the value stored under key, or ErrMiss.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok {
		return nil, ErrMiss
	}
	if m.since(m.now()) >= e.expires {
		delete(m.entries, key)
		return nil, ErrMiss
	}
	return clone(e.value), nil
}

// Set stores a copy of value under key for ttl, evicting an entry if the
// cache is full.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errBadTTL
	}
	value = clone(value) // copy outside the lock
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if _, ok := m.entries[key]; !ok && len(m.entries) >= m.max {
		m.evict(now)
	}
	m.entries[key] = memEntry{value: value, expires: m.expiry(now, ttl)}
	return nil
}

// evict frees at least one slot, looking at a sample of entries only. Map
// iteration starts at a random position, which makes the sample random
// enough for this purpose. m.mu must be held.
func (m *Memory) evict(now time.Time) {
	var (
		victim   string
		earliest time.Duration
		freed    bool
		seen     int
	)
	t := m.since(now)
	for k, e := range m.entries {
		if t >= e.expires {
			delete(m.entries, k) // deleting during range is allowed
			freed = true
		} else if seen == 0 || e.expires < earliest {
			victim, earliest = k, e.expires
		}
		if seen++; seen >= evictionSample {
			break
		}
	}
	if !freed {
		delete(m.entries, victim)
	}
}

// since is t as an offset from m.base (monotonic when both readings are).
func (m *Memory) since(t time.Time) time.Duration { return t.Sub(m.base) }

// expiry is the offset at which an entry set at now for ttl expires.
func (m *Memory) expiry(now time.Time, ttl time.Duration) time.Duration {
	d := m.since(now)
	if d > 0 && ttl > math.MaxInt64-d {
		return math.MaxInt64
	}
	return d + ttl
}

// Delete removes the keys; absent keys are ignored.
func (m *Memory) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.entries, k)
	}
	return nil
}

// Clear removes every entry.
func (m *Memory) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.entries)
}

// Len reports the number of stored entries, including expired ones not yet
// removed.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// clone copies b, returning a non-nil slice even for empty input so a hit on
// an empty value is never confused with a nil result.
func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}
