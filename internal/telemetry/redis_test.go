package telemetry

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/crmgate/crmgate/internal/testenv"
)

// Round trips are counted per command sent, a pipeline once, and the
// commands a script runs inside Redis not at all.
func TestRedisHookCountsRoundTrips(t *testing.T) {
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(opts)
	t.Cleanup(func() { _ = rc.Close() })
	m := NewMetrics()
	rc.AddHook(m.RedisHook())
	ctx := context.Background()
	if err := rc.Ping(ctx).Err(); err != nil { // connection set-up (HELLO ...) is counted too
		t.Fatal(err)
	}
	count := func(cmd string) float64 { return testutil.ToFloat64(m.redisRoundTrips.WithLabelValues(cmd)) }
	before := map[string]float64{}
	for _, cmd := range []string{"set", "eval", "pipeline", "get", "incr", "del"} {
		before[cmd] = count(cmd)
	}
	key := "crmgate-test:telemetry:" + t.Name()
	if err := rc.Set(ctx, key, "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.Eval(ctx, "redis.call('get', KEYS[1]); redis.call('incr', KEYS[1]); return redis.call('del', KEYS[1])", []string{key}).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, key, "2", 0)
		p.Del(ctx, key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// go-redis may report one pipeline in more than one batch.
	if got := count("pipeline") - before["pipeline"]; got < 1 {
		t.Errorf("round trips for the pipeline: %v, want at least 1", got)
	}
	for cmd, want := range map[string]float64{"set": 1, "eval": 1, "get": 0, "incr": 0, "del": 0} {
		if got := count(cmd) - before[cmd]; got != want {
			t.Errorf("round trips for %q: %v, want %v", cmd, got, want)
		}
	}
}
