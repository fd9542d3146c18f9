package cache

import (
	"context"
	"errors"
	"time"
)

// Observer is told the outcome of each Get of an observed cache (metrics).
// result is "hit", "miss" or "error". Implementations must be cheap and
// safe for concurrent use.
type Observer interface {
	CacheLookup(ctx context.Context, cache, result string)
}

// Observed is the Cache decorator reporting every Get's outcome under a
// name given at wiring time (e.g. "schema", "oauth_token"), so one shared
// backend can be watched per use.
type Observed struct {
	next Cache
	name string
	obs  Observer
}

var _ Cache = (*Observed)(nil)

// Observe returns next observed as name; obs nil returns next itself.
func Observe(next Cache, name string, obs Observer) Cache {
	if obs == nil {
		return next
	}
	return &Observed{next: next, name: name, obs: obs}
}

// Get implements Cache.
func (o *Observed) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := o.next.Get(ctx, key)
	switch {
	case err == nil:
		o.obs.CacheLookup(ctx, o.name, "hit")
	case errors.Is(err, ErrMiss):
		o.obs.CacheLookup(ctx, o.name, "miss")
	default:
		o.obs.CacheLookup(ctx, o.name, "error")
	}
	return v, err
}

// Set implements Cache.
func (o *Observed) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return o.next.Set(ctx, key, value, ttl)
}

// Delete implements Cache.
func (o *Observed) Delete(ctx context.Context, keys ...string) error {
	return o.next.Delete(ctx, keys...)
}
