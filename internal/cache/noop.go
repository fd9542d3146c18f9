package cache

import (
	"context"
	"time"
)

// Noop is a Cache that stores nothing: Get always returns ErrMiss. It is for
// running with caching switched off.
type Noop struct{}

var _ Cache = Noop{}

// Get always returns ErrMiss.
func (Noop) Get(context.Context, string) ([]byte, error) { return nil, ErrMiss }

// Set discards the value. Like the other backends it rejects a ttl that is
// not positive, so misuse shows up even with caching off.
func (Noop) Set(_ context.Context, _ string, _ []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errBadTTL
	}
	return nil
}

// Delete does nothing.
func (Noop) Delete(context.Context, ...string) error { return nil }
