package upstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// reserveScript is one atomic reservation: a sliding-window log (a sorted
// set of granted slot times, some possibly in the future), the calls in
// flight (a sorted set of reservation ids by lease end), a daily counter,
// the blocks set from the provider's headers and its advertised figures (a
// hash). Time is Redis's own clock, so replicas with skewed clocks still
// agree.
//
// KEYS[1] log, KEYS[2] meta {day, n, seq, bu (burst blocked until ms), du
// (daily blocked until ms), seen (an answer came), am (advertised max), as
// (advertised interval + margin ms), cl (calls left under the advertised
// Remaining), cu (until when ms)}, KEYS[3] in flight; ARGV: burst, span ms,
// daily, max wait ms, first in flight, lease ms, poll ms.
// Returns {ok, delay ms, daily, pending, id}.
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local burst = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local daily = tonumber(ARGV[3])
local maxwait = tonumber(ARGV[4])
local first = tonumber(ARGV[5])
local day = math.floor(now / 86400000)
local meta = redis.call('HMGET', KEYS[2], 'day', 'n', 'bu', 'du', 'seen', 'am', 'as', 'cl', 'cu')
local n = 0
if tonumber(meta[1]) == day then n = tonumber(meta[2]) or 0 end
local du = tonumber(meta[4]) or 0
if du > now then return {0, du - now, 1, 0, 0} end
if daily > 0 and n >= daily then return {0, (day + 1) * 86400000 - now, 1, 0, 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if first > 0 and not meta[5] and redis.call('ZCARD', KEYS[3]) >= first then
  return {0, tonumber(ARGV[7]), 0, 1, 0}
end
local at = now
local bu = tonumber(meta[3]) or 0
if bu > at then at = bu end
local am = tonumber(meta[6]) or 0
local as = tonumber(meta[7]) or 0
local keep = span
if as > keep then keep = as end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - keep)
local cnt = redis.call('ZCARD', KEYS[1])
local function free(limit, sp)
  if limit > 0 and cnt >= limit then
    local e = redis.call('ZRANGE', KEYS[1], cnt - limit, cnt - limit, 'WITHSCORES')
    local f = tonumber(e[2]) + sp
    if f > at then at = f end
  end
end
free(burst, span)
free(am, as)
local cl = tonumber(meta[8]) or 0
local cu = tonumber(meta[9]) or 0
if cu > now and cl <= 0 and cu > at then at = cu end
if at - now > maxwait then return {0, at - now, 0, 0, 0} end
local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
redis.call('ZADD', KEYS[1], at, at .. ':' .. seq)
redis.call('PEXPIRE', KEYS[1], at - now + keep + 1000)
local lease = tonumber(ARGV[6])
redis.call('ZADD', KEYS[3], now + lease, seq)
redis.call('PEXPIRE', KEYS[3], lease + 1000)
if cu > at then redis.call('HINCRBY', KEYS[2], 'cl', -1) end
redis.call('HSET', KEYS[2], 'day', day, 'n', n + 1)
redis.call('PEXPIRE', KEYS[2], 172800000)
return {1, at - now, 0, 0, seq}
`)

// doneScript ends a reservation and records what its answer advertised.
// KEYS[1] meta, KEYS[2] in flight; ARGV: id, answered, max, remaining, span
// ms (the advertised interval, else the window, plus the margin).
var doneScript = redis.NewScript(`
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '1' then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max = tonumber(ARGV[3])
local remaining = tonumber(ARGV[4])
local span = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'seen', 1)
if max > 0 then redis.call('HSET', KEYS[1], 'am', max, 'as', span) end
if remaining >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  local left = remaining - redis.call('ZCARD', KEYS[2])
  local cur = redis.call('HMGET', KEYS[1], 'cl', 'cu')
  local cu = tonumber(cur[2]) or 0
  if cu <= now or left < (tonumber(cur[1]) or 0) then
    redis.call('HSET', KEYS[1], 'cl', left, 'cu', now + span)
  end
end
redis.call('PEXPIRE', KEYS[1], 172800000)
return 1
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

var (
	_ Limiter        = (*RedisLimiter)(nil)
	_ LimitsReporter = (*RedisLimiter)(nil)
)

// Limits implements LimitsReporter.
func (r *RedisLimiter) Limits() Limits { return r.limits }

// NewRedisLimiter returns a Limiter over client; every key is stored under
// prefix (include a separator, e.g. "crmgate:"). The caller keeps ownership
// of client. Keys use a hash tag per budget, so a Redis Cluster works.
func NewRedisLimiter(client redis.UniversalClient, prefix string, limits Limits) *RedisLimiter {
	return &RedisLimiter{client: client, prefix: prefix, limits: limits.withDefaults()}
}

func (r *RedisLimiter) keys(key string) []string {
	base := r.prefix + "rl:{" + key + "}"
	return []string{base + ":log", base + ":meta", base + ":inflight"}
}

// Reserve implements Limiter.
func (r *RedisLimiter) Reserve(ctx context.Context, key string, maxWait time.Duration) (Reservation, error) {
	res, err := reserveScript.Run(ctx, r.client, r.keys(key),
		r.limits.Burst, r.limits.span().Milliseconds(), r.limits.Daily, maxWait.Milliseconds(),
		r.limits.FirstInFlight, inflightLease.Milliseconds(), pendingPoll.Milliseconds()).Int64Slice()
	if err != nil {
		return Reservation{}, fmt.Errorf("upstream: redis rate limiter: %w", err)
	}
	if len(res) != 5 {
		return Reservation{}, errors.New("upstream: redis rate limiter: unexpected script answer")
	}
	return Reservation{OK: res[0] == 1, Delay: time.Duration(res[1]) * time.Millisecond, Daily: res[2] == 1, Pending: res[3] == 1, ID: res[4]}, nil
}

// Done implements Limiter.
func (r *RedisLimiter) Done(ctx context.Context, key string, res Reservation, a Answer) error {
	answered := 0
	if a.Answered {
		answered = 1
	}
	k := r.keys(key)
	if err := doneScript.Run(ctx, r.client, k[1:], res.ID, answered, a.Max, a.Remaining, r.limits.advSpan(a.Interval).Milliseconds()).Err(); err != nil {
		return fmt.Errorf("upstream: redis rate limiter: %w", err)
	}
	return nil
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
