package upstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// reserveScript is one atomic reservation: a sliding-window log (a sorted
// set of granted slot times, some possibly in the future) plus a daily
// counter and the blocks set from the provider's headers (a hash). Time is
// Redis's own clock, so replicas with skewed clocks still agree.
//
// KEYS[1] log, KEYS[2] meta {day, n, seq, bu (burst blocked until ms),
// du (daily blocked until ms)}; ARGV: burst, span ms, daily, max wait ms.
// Returns {ok, delay ms, daily}.
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local burst = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local daily = tonumber(ARGV[3])
local maxwait = tonumber(ARGV[4])
local day = math.floor(now / 86400000)
local meta = redis.call('HMGET', KEYS[2], 'day', 'n', 'bu', 'du')
local n = 0
if tonumber(meta[1]) == day then n = tonumber(meta[2]) or 0 end
local du = tonumber(meta[4]) or 0
if du > now then return {0, du - now, 1} end
if daily > 0 and n >= daily then return {0, (day + 1) * 86400000 - now, 1} end
local at = now
local bu = tonumber(meta[3]) or 0
if bu > at then at = bu end
if burst > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
  local cnt = redis.call('ZCARD', KEYS[1])
  if cnt >= burst then
    local e = redis.call('ZRANGE', KEYS[1], cnt - burst, cnt - burst, 'WITHSCORES')
    local free = tonumber(e[2]) + span
    if free > at then at = free end
  end
end
if at - now > maxwait then return {0, at - now, 0} end
local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
if burst > 0 then
  redis.call('ZADD', KEYS[1], at, at .. ':' .. seq)
  redis.call('PEXPIRE', KEYS[1], at - now + span + 1000)
end
redis.call('HSET', KEYS[2], 'day', day, 'n', n + 1)
redis.call('PEXPIRE', KEYS[2], 172800000)
return {1, at - now, 0}
`)

// blockScript raises a block deadline (never lowers it).
// KEYS[1] meta; ARGV: field (bu or du), duration ms.
var blockScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[2])
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1])) or 0
if until_ms > cur then redis.call('HSET', KEYS[1], ARGV[1], until_ms) end
redis.call('PEXPIRE', KEYS[1], 172800000)
return 1
`)

// RedisLimiter is a Limiter whose state lives in Redis, shared by every
// replica using the same client database and prefix. Each Reserve is
// exactly one round trip (one Lua script, EVALSHA).
type RedisLimiter struct {
	client redis.UniversalClient
	prefix string
	limits Limits
}

var _ Limiter = (*RedisLimiter)(nil)

// NewRedisLimiter returns a Limiter over client; every key is stored under
// prefix (include a separator, e.g. "crmgate:"). The caller keeps ownership
// of client. Keys use a hash tag per budget, so a Redis Cluster works.
func NewRedisLimiter(client redis.UniversalClient, prefix string, limits Limits) *RedisLimiter {
	return &RedisLimiter{client: client, prefix: prefix, limits: limits.withDefaults()}
}

func (r *RedisLimiter) keys(key string) []string {
	base := r.prefix + "rl:{" + key + "}"
	return []string{base + ":log", base + ":meta"}
}

// Reserve implements Limiter.
func (r *RedisLimiter) Reserve(ctx context.Context, key string, maxWait time.Duration) (Reservation, error) {
	res, err := reserveScript.Run(ctx, r.client, r.keys(key),
		r.limits.Burst, r.limits.span().Milliseconds(), r.limits.Daily, maxWait.Milliseconds()).Int64Slice()
	if err != nil {
		return Reservation{}, fmt.Errorf("upstream: redis rate limiter: %w", err)
	}
	if len(res) != 3 {
		return Reservation{}, errors.New("upstream: redis rate limiter: unexpected script answer")
	}
	return Reservation{OK: res[0] == 1, Delay: time.Duration(res[1]) * time.Millisecond, Daily: res[2] == 1}, nil
}

// Block implements Limiter.
func (r *RedisLimiter) Block(ctx context.Context, key string, d time.Duration, daily bool) error {
	if d <= 0 {
		return nil
	}
	field := "bu"
	if daily {
		field = "du"
	}
	if err := blockScript.Run(ctx, r.client, r.keys(key)[1:], field, d.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("upstream: redis rate limiter: %w", err)
	}
	return nil
}
