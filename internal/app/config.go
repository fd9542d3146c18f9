// Package app assembles the gateway from its configuration: store, cache,
// connector registry, services and server. cmd/gateway is a thin shell
// around it, and end-to-end tests build gateways with it.
package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/crmgate/crmgate/internal/server"
)

// Config is the gateway's configuration. ConfigFromEnv reads it.
type Config struct {
	GRPCAddr        string        // GATEWAY_GRPC_ADDR, default :9090
	HTTPAddr        string        // GATEWAY_HTTP_ADDR, default :8080
	DataDir         string        // GATEWAY_DATA_DIR, default ./data
	DatabaseURL     string        // GATEWAY_DATABASE_URL, default sqlite under DataDir
	EncryptionKey   string        // GATEWAY_ENCRYPTION_KEY, default a key file under DataDir
	RedisURL        string        // GATEWAY_REDIS_URL, default none (in-process cache)
	BootstrapAPIKey string        // GATEWAY_BOOTSTRAP_API_KEY
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
}

// ConfigFromEnv reads and validates the configuration.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		GRPCAddr:        get("GATEWAY_GRPC_ADDR", ":9090"),
		HTTPAddr:        get("GATEWAY_HTTP_ADDR", ":8080"),
		DataDir:         get("GATEWAY_DATA_DIR", "data"),
		DatabaseURL:     get("GATEWAY_DATABASE_URL", ""),
		EncryptionKey:   getenv("GATEWAY_ENCRYPTION_KEY"),
		RedisURL:        get("GATEWAY_REDIS_URL", ""),
		BootstrapAPIKey: getenv("GATEWAY_BOOTSTRAP_API_KEY"),
		GHLBaseURL:      get("GHL_BASE_URL", ""),
	}
	var errs []error
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite://" + filepath.Join(c.DataDir, "crmgate.db")
	}
	for name, addr := range map[string]string{"GATEWAY_GRPC_ADDR": c.GRPCAddr, "GATEWAY_HTTP_ADDR": c.HTTPAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want host:port", name, addr))
		}
	}
	var err error
	if c.MaxBodyBytes, err = parseBytes(get("GATEWAY_MAX_BODY_BYTES", strconv.Itoa(server.DefaultMaxBodyBytes))); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_MAX_BODY_BYTES: %w", err))
	}
	if c.SchemaCacheTTL, err = parseDuration(get("GATEWAY_SCHEMA_CACHE_TTL", "5m")); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_SCHEMA_CACHE_TTL: %w", err))
	}
	if c.NearCacheTTL, err = parseDuration(get("GATEWAY_NEAR_CACHE_TTL", "30s")); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_NEAR_CACHE_TTL: %w", err))
	}
	if c.ConnCacheTTL, err = parseDuration(get("GATEWAY_CONNECTION_CACHE_TTL", "5s")); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_CONNECTION_CACHE_TTL: %w", err))
	}
	if c.RateWindow, err = parseDuration(get("GATEWAY_RATE_LIMIT_WINDOW", "10s")); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_RATE_LIMIT_WINDOW: %w", err))
	}
	if c.RateMargin, err = parseDuration(get("GATEWAY_RATE_LIMIT_MARGIN", "250ms")); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_RATE_LIMIT_MARGIN: %w", err))
	}
	if c.RateMaxWait, err = parseDuration(get("GATEWAY_RATE_LIMIT_MAX_WAIT", "30s")); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_RATE_LIMIT_MAX_WAIT: %w", err))
	}
	if c.IdempotencyTTL, err = parseDuration(get("GATEWAY_IDEMPOTENCY_TTL", "24h")); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_IDEMPOTENCY_TTL: %w", err))
	}
	for _, n := range []struct {
		name string
		def  int
		dst  *int
	}{
		{"GATEWAY_RATE_LIMIT_BURST", 100, &c.RateBurst},
		{"GATEWAY_RATE_LIMIT_DAILY", 200000, &c.RateDaily},
		{"GATEWAY_RETRY_MAX_ATTEMPTS", 4, &c.RetryAttempts},
	} {
		v, err := strconv.Atoi(get(n.name, strconv.Itoa(n.def)))
		if err != nil || v < 1 {
			errs = append(errs, fmt.Errorf("%s: want a positive integer", n.name))
		}
		*n.dst = v
	}
	if c.MaxResponse, err = parseBytes(get("GATEWAY_MAX_RESPONSE_BYTES", "16MiB")); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_MAX_RESPONSE_BYTES: %w", err))
	}
	if c.ProviderTimeout, err = parseDuration(get("GATEWAY_PROVIDER_TIMEOUT", "15s")); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_PROVIDER_TIMEOUT: %w", err))
	}
	if c.OAuthRefreshSkew, err = parseDuration(get("GATEWAY_OAUTH_REFRESH_SKEW", "5m")); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_OAUTH_REFRESH_SKEW: %w", err))
	}
	if c.OAuthStateTTL, err = parseDuration(get("GATEWAY_OAUTH_STATE_TTL", "15m")); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_OAUTH_STATE_TTL: %w", err))
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("GATEWAY_LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("GATEWAY_LOG_LEVEL: %w", err))
	}
	if c.BootstrapAPIKey != "" && len(c.BootstrapAPIKey) < 16 {
		errs = append(errs, errors.New("GATEWAY_BOOTSTRAP_API_KEY: must be at least 16 characters"))
	}
	if c.GHLBaseURL != "" && !strings.HasPrefix(c.GHLBaseURL, "http://") && !strings.HasPrefix(c.GHLBaseURL, "https://") {
		errs = append(errs, errors.New("GHL_BASE_URL: must be an http(s) URL"))
	}
	return c, errors.Join(errs...)
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive, got %s", s)
	}
	return d, nil
}

// parseBytes reads "4194304", "4MiB", "512KiB".
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive size in bytes (e.g. 4194304 or 4MiB)", s)
	}
	return n * mult, nil
}
