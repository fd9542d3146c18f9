package upstream_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/testenv"
)

// redisClient returns a client of the test Redis (skipping without one
// outside CI) and a fresh key prefix.
func redisClient(t *testing.T) (redis.UniversalClient, string) {
	t.Helper()
	url := testenv.RedisURL(t)
	c, err := cache.OpenRedis(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, "test:upstream:" + randHex() + ":"
}

func randHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
