package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Rate-limit headers HighLevel sends on every answer.
const (
	HeaderRateLimitMax            = "X-RateLimit-Max"
	HeaderRateLimitRemaining      = "X-RateLimit-Remaining"
	HeaderRateLimitInterval       = "X-RateLimit-Interval-Milliseconds"
	HeaderRateLimitDaily          = "X-RateLimit-Limit-Daily"
	HeaderRateLimitDailyRemaining = "X-RateLimit-Daily-Remaining"
)

// Budget is a provider's own account of a budget key, as last seen in its
// rate-limit headers. A figure the provider did not send is -1.
type Budget struct {
	BurstLimit      int       `json:"burst_limit"`
	BurstRemaining  int       `json:"burst_remaining"`
	BurstIntervalMS int64     `json:"burst_interval_ms"`
	DailyLimit      int       `json:"daily_limit"`
	DailyRemaining  int       `json:"daily_remaining"`
	ObservedAt      time.Time `json:"observed_at"`
}

// The rate-limit headers' canonical keys (http.Header.Get would
// canonicalise the names above, allocating, on every lookup: "RateLimit"
// is not canonical).
const (
	keyRateLimitMax            = "X-Ratelimit-Max"
	keyRateLimitRemaining      = "X-Ratelimit-Remaining"
	keyRateLimitInterval       = "X-Ratelimit-Interval-Milliseconds"
	keyRateLimitDaily          = "X-Ratelimit-Limit-Daily"
	keyRateLimitDailyRemaining = "X-Ratelimit-Daily-Remaining"
)

// BudgetFromHeaders reads the X-RateLimit-* headers; ok is false when none
// is present.
func BudgetFromHeaders(h http.Header, at time.Time) (Budget, bool) {
	b := Budget{
		BurstLimit:      headerInt(h, keyRateLimitMax),
		BurstRemaining:  headerInt(h, keyRateLimitRemaining),
		BurstIntervalMS: int64(headerInt(h, keyRateLimitInterval)),
		DailyLimit:      headerInt(h, keyRateLimitDaily),
		DailyRemaining:  headerInt(h, keyRateLimitDailyRemaining),
		ObservedAt:      at.UTC(),
	}
	ok := b.BurstLimit >= 0 || b.BurstRemaining >= 0 || b.BurstIntervalMS >= 0 || b.DailyLimit >= 0 || b.DailyRemaining >= 0
	return b, ok
}

// headerValue is h.Get(key) for a key already in canonical form.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// headerInt parses a non-negative integer header (canonical key); -1 if
// absent or bad.
func headerInt(h http.Header, key string) int {
	v := strings.TrimSpace(headerValue(h, key))
	if v == "" {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// Budgets keeps the last Budget seen per key (what GET
// /v0/core/connections/{id}/rate_limit shows).
type Budgets interface {
	// Record stores b as key's latest figures.
	Record(ctx context.Context, key string, b Budget) error
	// Get returns key's latest figures; false if none were recorded (or
	// they expired). An error means the store failed.
	Get(ctx context.Context, key string) (Budget, bool, error)
}

// budgetTTL is how long a recorded Budget is kept: a little over a day, as
// the daily figure stays meaningful that long.
const budgetTTL = 25 * time.Hour

// MemoryBudgets is an in-process Budgets.
type MemoryBudgets struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]Budget
}

var _ Budgets = (*MemoryBudgets)(nil)

// NewMemoryBudgets returns an empty in-process Budgets; now nil means
// time.Now.
func NewMemoryBudgets(now func() time.Time) *MemoryBudgets {
	if now == nil {
		now = time.Now
	}
	return &MemoryBudgets{now: now, m: make(map[string]Budget)}
}

// Record implements Budgets.
func (m *MemoryBudgets) Record(_ context.Context, key string, b Budget) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.m[key]; ok && old.ObservedAt.After(b.ObservedAt) {
		return nil
	}
	m.m[key] = b
	return nil
}

// Get implements Budgets.
func (m *MemoryBudgets) Get(_ context.Context, key string) (Budget, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.m[key]
	if ok && m.now().Sub(b.ObservedAt) > budgetTTL {
		delete(m.m, key)
		return Budget{}, false, nil
	}
	return b, ok, nil
}

// RedisBudgets is a Budgets stored in Redis (JSON under prefix+"rlb:"+key,
// kept 25h), shared by replicas.
type RedisBudgets struct {
	client redis.UniversalClient
	prefix string
}

var _ Budgets = (*RedisBudgets)(nil)

// NewRedisBudgets returns a Budgets over client; the caller keeps
// ownership of client.
func NewRedisBudgets(client redis.UniversalClient, prefix string) *RedisBudgets {
	return &RedisBudgets{client: client, prefix: prefix}
}

// Record implements Budgets.
func (r *RedisBudgets) Record(ctx context.Context, key string, b Budget) error {
	v, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("upstream: encoding budget: %w", err)
	}
	if err := r.client.Set(ctx, r.prefix+"rlb:"+key, v, budgetTTL).Err(); err != nil {
		return fmt.Errorf("upstream: redis budgets: %w", err)
	}
	return nil
}

// Get implements Budgets.
func (r *RedisBudgets) Get(ctx context.Context, key string) (Budget, bool, error) {
	v, err := r.client.Get(ctx, r.prefix+"rlb:"+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return Budget{}, false, nil
	case err != nil:
		return Budget{}, false, fmt.Errorf("upstream: redis budgets: %w", err)
	}
	var b Budget
	if err := json.Unmarshal(v, &b); err != nil {
		return Budget{}, false, fmt.Errorf("upstream: decoding budget of %q: %w", key, err)
	}
	return b, true, nil
}
