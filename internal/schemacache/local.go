package schemacache

import (
	"sync"
	"time"
)

// Local keeps decoded cache entries (object lists, schemas) in process
// memory, shared by every connection's Provider, so a hit costs a map
// lookup instead of a JSON decode. Keys carry the connection's epoch, so
// an invalidation makes them unreachable at once, like the encoded
// entries; unreachable entries expire after the Local's TTL or are dropped
// when the table is full.
//
// Values are shared between callers and must be treated as read-only.
type Local struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[string]localEntry
}

type localEntry struct {
	v       any
	expires time.Time
}

// NewLocal returns a Local holding at most maxEntries entries, each for at
// most ttl.
func NewLocal(maxEntries int, ttl time.Duration) *Local {
	return &Local{ttl: ttl, max: max(maxEntries, 1), now: time.Now, entries: map[string]localEntry{}}
}

func (l *Local) get(key string) (any, bool) {
	l.mu.Lock()
	e, ok := l.entries[key]
	l.mu.Unlock()
	if !ok || !l.now().Before(e.expires) {
		return nil, false
	}
	return e.v, true
}

// set stores v for min(ttl, the Local's TTL).
func (l *Local) set(key string, v any, ttl time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.entries[key]; !ok && len(l.entries) >= l.max {
		l.sweep(now)
	}
	l.entries[key] = localEntry{v: v, expires: now.Add(min(ttl, l.ttl))}
}

// sweep drops expired entries and, if that frees less than a tenth of the
// table, arbitrary others (map order) until it does. Called with mu held
// when the table is full, so its cost is spread over max/10 inserts.
func (l *Local) sweep(now time.Time) {
	for k, e := range l.entries {
		if !now.Before(e.expires) {
			delete(l.entries, k)
		}
	}
	for k := range l.entries {
		if len(l.entries) < l.max-l.max/10 {
			break
		}
		delete(l.entries, k)
	}
}

// Len reports how many entries are held (expired ones included until swept).
func (l *Local) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}
