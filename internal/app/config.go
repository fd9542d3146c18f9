// Package app assembles the gateway from its configuration: store, cache,
// connector registry, services and server. cmd/gateway is a thin shell
// around it, and end-to-end tests build gateways with it.
package app

import (
	"log/slog"
	"time"
)

// Config is the gateway's configuration. ConfigFromEnv (environment) and
// ConfigFlags.Load (flags, environment, YAML file) read it; every field is
// described once, in Settings (settings.go), which drives both and the
// README's settings table.
type Config struct {
	GRPCAddr        string        // GATEWAY_GRPC_ADDR, default :9090
	HTTPAddr        string        // GATEWAY_HTTP_ADDR, default :8080
	DataDir         string        // GATEWAY_DATA_DIR, default ./data
	DatabaseURL     string        // GATEWAY_DATABASE_URL, default sqlite under DataDir
	EncryptionKey   string        // GATEWAY_ENCRYPTION_KEY, default a key file under DataDir
	RedisURL        string        // GATEWAY_REDIS_URL, default none (in-process cache)
	BootstrapAPIKey string        // GATEWAY_BOOTSTRAP_API_KEY
	AdminKeyHash    string        // GATEWAY_ADMIN_KEY_HASH: hex SHA-256 of the admin key (lower case); unset: Admin API disabled
	GHLBaseURL      string        // GHL_BASE_URL, default https://services.leadconnectorhq.com
	MaxBodyBytes    int64         // GATEWAY_MAX_BODY_BYTES, default 4 MiB
	SchemaCacheTTL  time.Duration // GATEWAY_SCHEMA_CACHE_TTL, default 5m
	NearCacheTTL    time.Duration // GATEWAY_NEAR_CACHE_TTL, default 30s: in-process copies of Redis entries
	ConnCacheTTL    time.Duration // GATEWAY_CONNECTION_CACHE_TTL, default 5s: opened connections reused in-process
	ProviderTimeout time.Duration // GATEWAY_PROVIDER_TIMEOUT, default 15s: one upstream attempt
	RateBurst       int           // GATEWAY_RATE_LIMIT_BURST, default 100 per window per (config, location)
	RateWindow      time.Duration // GATEWAY_RATE_LIMIT_WINDOW, default 10s
	RateMargin      time.Duration // GATEWAY_RATE_LIMIT_MARGIN, default 250ms: added to the window when pacing
	RateDaily       int           // GATEWAY_RATE_LIMIT_DAILY, default 200000 per UTC day
	RateMaxWait     time.Duration // GATEWAY_RATE_LIMIT_MAX_WAIT, default 30s of queueing for budget
	RetryAttempts   int           // GATEWAY_RETRY_MAX_ATTEMPTS, default 4 (1 disables retries)
	MaxResponse     int64         // GATEWAY_MAX_RESPONSE_BYTES, default 16MiB
	IdempotencyTTL  time.Duration // GATEWAY_IDEMPOTENCY_TTL, default 24h
	LogLevel        slog.Level    // GATEWAY_LOG_LEVEL: debug|info|warn|error, default info

	// OAuthRefreshSkew: OAuth access tokens are refreshed this long before
	// they expire (GATEWAY_OAUTH_REFRESH_SKEW, default 5m; 0 means the default).
	OAuthRefreshSkew time.Duration
	// OAuthStateTTL: how long authorization URLs and connect page links
	// stay valid (GATEWAY_OAUTH_STATE_TTL, default 15m; 0 means the default).
	OAuthStateTTL time.Duration

	ShutdownDelay     time.Duration // GATEWAY_SHUTDOWN_DELAY, default 0s: serve while not ready before draining
	ShutdownGrace     time.Duration // GATEWAY_SHUTDOWN_GRACE, default 20s: in-flight calls finish within it
	ReadinessInterval time.Duration // GATEWAY_READINESS_INTERVAL, default 5s: gRPC health re-check period
	MaxInFlight       int           // GATEWAY_MAX_IN_FLIGHT, default 1024 calls served at once (0: no limit)
	InFlightQueueWait time.Duration // GATEWAY_IN_FLIGHT_QUEUE_WAIT, default 1s: wait for a slot before 503
	GCHeapFloor       int64         // GATEWAY_GC_HEAP_FLOOR, default 64MiB: GC heap goal floor without a memory limit (0: Go's default)
}
