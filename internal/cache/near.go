package cache

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Near is an in-process near cache in front of a shared cache (Redis):
// reads are served from process memory when possible, so the hot path
// makes no network round trip; writes and deletes go to both tiers, and
// deletes are broadcast to every replica through an Invalidator so their
// near copies are dropped too. Near entries live at most localTTL, which
// bounds staleness if a broadcast is lost.
type Near struct {
	local    *Memory
	remote   Cache
	localTTL time.Duration
	bus      Invalidator
	log      *slog.Logger
	// gen counts evictions; a value read from the remote tier is kept
	// locally only if no eviction happened while it was being read, so a
	// broadcast racing a read cannot leave a stale local copy.
	gen atomic.Uint64
}

var (
	_ Cache   = (*Near)(nil)
	_ Fresher = (*Near)(nil)
)

// Invalidator broadcasts deleted keys to the other replicas.
type Invalidator interface {
	Publish(ctx context.Context, keys []string) error
}

// NewNear returns a near cache over remote; bus may be nil (one replica).
func NewNear(local *Memory, remote Cache, localTTL time.Duration, bus Invalidator, log *slog.Logger) *Near {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Near{local: local, remote: remote, localTTL: localTTL, bus: bus, log: log}
}

// Get reads the near tier, then the remote one (filling the near tier).
func (n *Near) Get(ctx context.Context, key string) ([]byte, error) {
	if v, err := n.local.Get(ctx, key); err == nil {
		return v, nil
	}
	g := n.gen.Load()
	v, err := n.remote.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if n.gen.Load() == g {
		_ = n.local.Set(ctx, key, v, n.localTTL) // Memory.Set fails only for ttl <= 0
	}
	return v, nil
}

// GetFresh implements Fresher: it reads the remote tier past the near copy
// and makes the near tier agree (refilled, or dropped on a miss).
func (n *Near) GetFresh(ctx context.Context, key string) ([]byte, error) {
	g := n.gen.Load()
	v, err := n.remote.Get(ctx, key)
	switch {
	case errors.Is(err, ErrMiss):
		n.gen.Add(1)
		_ = n.local.Delete(ctx, key)
	case err == nil && n.gen.Load() == g:
		_ = n.local.Set(ctx, key, v, n.localTTL)
	}
	return v, err
}

// Set writes both tiers; the near copy lives at most localTTL.
func (n *Near) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	_ = n.local.Set(ctx, key, value, min(ttl, n.localTTL))
	return n.remote.Set(ctx, key, value, ttl)
}

// Delete removes keys from both tiers and tells the other replicas.
func (n *Near) Delete(ctx context.Context, keys ...string) error {
	n.gen.Add(1)
	_ = n.local.Delete(ctx, keys...)
	err := n.remote.Delete(ctx, keys...)
	if n.bus != nil && len(keys) > 0 {
		if perr := n.bus.Publish(context.WithoutCancel(ctx), keys); perr != nil {
			n.log.WarnContext(ctx, "near cache: invalidation broadcast failed; other replicas may serve stale entries until they expire", "err", perr)
		}
	}
	return err
}

// Evict drops keys from the near tier only (what a broadcast does).
func (n *Near) Evict(keys ...string) {
	n.gen.Add(1)
	_ = n.local.Delete(context.Background(), keys...)
}

// Clear drops the whole near tier.
func (n *Near) Clear() {
	n.gen.Add(1)
	n.local.Clear()
}

// RedisBus broadcasts invalidations on a Redis pub/sub channel.
type RedisBus struct {
	client  redis.UniversalClient
	channel string
}

var _ Invalidator = (*RedisBus)(nil)

// NewRedisBus returns a bus on channel.
func NewRedisBus(client redis.UniversalClient, channel string) *RedisBus {
	return &RedisBus{client: client, channel: channel}
}

// Publish sends the keys, newline-separated.
func (b *RedisBus) Publish(ctx context.Context, keys []string) error {
	return b.client.Publish(ctx, b.channel, strings.Join(keys, "\n")).Err()
}

// Subscribe evicts broadcast keys from n until ctx is done. Whenever the
// subscription is (re)established the near tier is cleared, since
// broadcasts may have been missed while it was down.
func (b *RedisBus) Subscribe(ctx context.Context, n *Near) {
	sub := b.client.Subscribe(ctx, b.channel)
	defer func() { _ = sub.Close() }()
	for {
		msg, err := sub.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			n.Clear() // missed broadcasts are possible: start afresh
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			n.Clear()
		case *redis.Message:
			n.Evict(strings.Split(m.Payload, "\n")...)
		}
	}
}
