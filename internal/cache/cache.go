// Package cache defines a small byte cache with expiry. Backends: an
// in-process one (Memory) and Redis (NewRedis); a Noop one caches nothing.
// cachetest holds the contract suite every backend runs.
package cache

import (
	"context"
	"errors"
	"time"
)

// ErrMiss is returned by Get when the key is absent or expired.
var ErrMiss = errors.New("cache: miss")

// Cache stores byte values under string keys, each with a time to live.
// Implementations are safe for concurrent use. Any error other than ErrMiss
// means the backend failed (e.g. Redis unreachable); callers are expected to
// degrade to uncached behaviour on such errors.
type Cache interface {
	// Get returns the value or ErrMiss.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl (ttl > 0). It does not keep
	// value: the caller may reuse it once Set returns.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes the keys; absent keys are not an error.
	Delete(ctx context.Context, keys ...string) error
}

// Fresher is an optional capability of caches with an in-process tier in
// front of a shared one (Near): GetFresh reads the shared tier past the
// in-process copy, which may lag behind another replica's change until its
// invalidation broadcast arrives, and brings that copy up to date.
type Fresher interface {
	GetFresh(ctx context.Context, key string) ([]byte, error)
}
