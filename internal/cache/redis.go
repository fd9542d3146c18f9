package cache

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Cache stored in Redis. Every key is stored as prefix+key, so
// several users (or test runs) can share one database.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

var _ Cache = (*Redis)(nil)

// NewRedis returns a Cache over client, prefixing every key with prefix
// verbatim (include a separator, e.g. "crmgate:"). The caller keeps
// ownership of client and closes it.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// Get returns the value under key, ErrMiss if absent, or a wrapped error if
// Redis failed.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	s, err := r.client.Get(ctx, r.prefix+key).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, ErrMiss
	case err != nil:
		return nil, fmt.Errorf("cache: redis get: %w", err)
	}
	// Convert the string ourselves: StringCmd.Bytes aliases the string's
	// memory, and callers are allowed to mutate what Get returns.
	return []byte(s), nil
}

// Set stores value under key for ttl. A ttl below one millisecond is
// rounded up to it (Redis expiry granularity with PX).
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errBadTTL
	}
	if err := r.client.Set(ctx, r.prefix+key, value, ttl).Err(); err != nil {
		return fmt.Errorf("cache: redis set: %w", err)
	}
	return nil
}

// Delete removes the keys. Several keys are deleted with one DEL each in a
// single pipeline rather than one multi-key DEL, which a Redis Cluster
// would reject when the keys hash to different slots.
func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	var err error
	switch len(keys) {
	case 0:
		return nil
	case 1:
		err = r.client.Del(ctx, r.prefix+keys[0]).Err()
	default:
		_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Del(ctx, r.prefix+k)
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("cache: redis delete: %w", err)
	}
	return nil
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("cache: redis ping: %w", err)
	}
	return nil
}

// Client-side defaults applied by OpenRedis unless the URL sets them. They
// are short because the cache is an optimisation: a slow or dead Redis
// should turn into a quick error (and a fallback), not a slow request.
const (
	redisDialTimeout  = 2 * time.Second
	redisReadTimeout  = time.Second
	redisWriteTimeout = time.Second
	redisPoolTimeout  = time.Second
	redisMaxRetries   = 1 // one retry covers a pooled connection broken by a Redis restart
)

// OpenRedis returns a client for a redis://, rediss:// or unix:// URL
// (see redis.ParseURL for the query parameters it accepts). It performs no
// I/O, so it succeeds while Redis is down and connects on first use; call
// Redis.Ping to check the server. ctx is not used at present.
//
// Unless the URL sets them (dial_timeout, read_timeout, write_timeout,
// pool_timeout, max_retries), OpenRedis uses timeouts of 2s to dial, 1s to
// read, write or wait for a pooled connection, and one retry. A failed dial
// is not retried within an attempt, context deadlines bound socket I/O, and
// the pool keeps go-redis's default size (pool_size, 10 per GOMAXPROCS), no
// idle connections are opened in advance.
func OpenRedis(_ context.Context, rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// *url.Error repeats the URL, password included; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("cache: invalid redis URL: %w", err)
	}
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("cache: invalid redis URL: %w", err)
	}
	q := u.Query()
	if !q.Has("dial_timeout") {
		opt.DialTimeout = redisDialTimeout
	}
	if !q.Has("read_timeout") {
		opt.ReadTimeout = redisReadTimeout
	}
	if !q.Has("write_timeout") {
		opt.WriteTimeout = redisWriteTimeout
	}
	if !q.Has("pool_timeout") {
		opt.PoolTimeout = redisPoolTimeout
	}
	if !q.Has("max_retries") {
		opt.MaxRetries = redisMaxRetries
	}
	opt.DialerRetries = 1
	opt.ContextTimeoutEnabled = true
	return redis.NewClient(opt), nil
}
