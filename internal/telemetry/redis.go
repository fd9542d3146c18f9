package telemetry

import (
	"context"
	"net"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// redisHook counts round trips to Redis: one per command sent on its own,
// one per pipeline batch go-redis sends (label "pipeline"; the gateway's
// hot path sends none). Commands a Lua script runs inside
// Redis are not round trips and are not counted (INFO commandstats counts
// them).
type redisHook struct{ c *prometheus.CounterVec }

var _ redis.Hook = redisHook{}

// RedisHook returns a go-redis hook counting round trips in
// crmgate_redis_round_trips_total{command}.
func (m *Metrics) RedisHook() redis.Hook { return redisHook{c: m.redisRoundTrips} }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.c.WithLabelValues(strings.ToLower(cmd.Name())).Inc()
		return next(ctx, cmd)
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.c.WithLabelValues("pipeline").Inc()
		return next(ctx, cmds)
	}
}
