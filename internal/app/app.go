package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/crmgate/crmgate/internal/admin"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/connect"
	"github.com/crmgate/crmgate/internal/connections"
	"github.com/crmgate/crmgate/internal/core"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/idempotency"
	"github.com/crmgate/crmgate/internal/oauth"
	"github.com/crmgate/crmgate/internal/passthrough"
	"github.com/crmgate/crmgate/internal/providers/ghl"
	"github.com/crmgate/crmgate/internal/schemacache"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/server"
	"github.com/crmgate/crmgate/internal/store"
	"github.com/crmgate/crmgate/internal/store/sqlstore"
	"github.com/crmgate/crmgate/internal/telemetry"
	"github.com/crmgate/crmgate/internal/unified"
	"github.com/crmgate/crmgate/internal/upstream"
)

// Connectors is the explicit registry of provider connectors: one
// constructor per connector name. Adding a provider means adding a line here.
// tokens refreshes OAuth connections' access tokens.
func Connectors(cfg Config, hc *http.Client, tokens *oauth.Manager, log *slog.Logger) connections.Registry {
	// Each provider's calls are named (provider, endpoint template) for the
	// transport's metrics and spans.
	named := func(provider string, routes *upstream.Routes) *http.Client {
		return &http.Client{Transport: upstream.NewEndpoints(hc.Transport, provider, routes), Timeout: hc.Timeout}
	}
	all := []crm.Connector{
		ghl.NewConnector(ghl.ConnectorOptions{DefaultBaseURL: cfg.GHLBaseURL, HTTPClient: named("ghl", ghl.Routes()), Logger: log.With("provider", "ghl"), Tokens: tokens}),
	}
	reg := connections.Registry{}
	for _, c := range all {
		reg[c.Name()] = c
	}
	return reg
}

// ErrOpenStore: Build could not open the store (database_url).
var ErrOpenStore = errors.New("open store")

// App is an assembled gateway.
type App struct {
	Config   Config
	Store    store.Store
	Cache    cache.Cache
	Resolver *connections.Resolver
	Server   *server.Server
	log      *slog.Logger
	keys     *secrets.Keyring
	closers  []func() error

	// Tokens hands out and refreshes OAuth access tokens; Flow runs OAuth
	// connect flows (internal/oauth).
	Tokens *oauth.Manager
	Flow   *oauth.Flow

	// Metrics (served at GET /metrics) and Tracing (OTEL_*): see
	// internal/telemetry.
	Metrics *telemetry.Metrics
	Tracing *telemetry.Tracing
}

// Build assembles the gateway: it opens the store (running migrations),
// the cache, and makes sure the bootstrap API key exists.
// decodedSchemas bounds the hot set of decoded schemas kept in process
// (about 8 KB each for a 10-field GHL object); colder ones are decoded from
// their compressed copies (about 1.3 KB each) when read.
const decodedSchemas = 2048

func Build(ctx context.Context, cfg Config, log *slog.Logger, opts ...Option) (*App, error) {
	a := &App{Config: cfg, log: log}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if err := a.setupTelemetry(ctx, opts); err != nil {
		return nil, err
	}

	keySpec := cfg.EncryptionKey
	if keySpec == "" {
		path := cfg.DataDir + "/encryption.key"
		spec, created, err := secrets.LoadOrCreateKeyFile(path)
		if err != nil {
			return nil, fmt.Errorf("encryption key: %w", err)
		}
		if created {
			log.Warn("generated a new encryption key file; keep it safe (losing it makes stored secrets unreadable) or set GATEWAY_ENCRYPTION_KEY", "path", path)
		} else {
			log.Info("using encryption key file", "path", path)
		}
		keySpec = spec
	}
	keys, err := secrets.ParseKeyring(keySpec)
	if err != nil {
		return nil, fmt.Errorf("GATEWAY_ENCRYPTION_KEY: %w", err)
	}
	a.keys = keys

	st, err := sqlstore.Open(ctx, cfg.DatabaseURL, keys, log.With("component", "store"), a.storeOptions()...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOpenStore, err)
	}
	a.Store = st
	a.closers = append(a.closers, st.Close)

	a.Cache = cache.NewMemory(100_000)
	// Schemas: a bounded hot set decoded in process, in front of compressed
	// encoded copies (in process, or in Redis shared by the replicas);
	// epochs in the cache every replica invalidates through.
	schemas := schemacache.Tiers{Epochs: a.Cache, Data: cache.NewMemory(100_000), Local: schemacache.NewLocal(decodedSchemas, cfg.SchemaCacheTTL)}
	var redisClient redis.UniversalClient // shared with the OAuth state ledger
	if cfg.RedisURL != "" {
		rc, err := cache.OpenRedis(ctx, cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("GATEWAY_REDIS_URL: %w", err)
		}
		rc.AddHook(a.Metrics.RedisHook())
		a.closers = append(a.closers, rc.Close)
		redisClient = rc
		if err := a.traceRedis(rc); err != nil {
			return nil, fmt.Errorf("redis tracing: %w", err)
		}
		r := cache.NewRedis(rc, "crmgate:")
		pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if err := r.Ping(pingCtx); err != nil {
			log.Warn("redis unreachable at start-up; serving with the in-process cache until it answers", "err", err)
		}
		cancel()
		shared := cache.NewFallback(r, a.Cache, log.With("component", "cache"))
		bus := cache.NewRedisBus(rc, "crmgate:invalidate")
		near := cache.NewNear(cache.NewMemory(100_000), shared, cfg.NearCacheTTL, bus, log.With("component", "cache"))
		bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		go bus.Subscribe(bgCtx, near)
		a.closers = append(a.closers, func() error { cancel(); return nil })
		a.Cache = near
		schemas = schemacache.Tiers{Epochs: near, Data: shared, Local: schemacache.NewLocal(decodedSchemas, cfg.NearCacheTTL)}
		log.Info("cache: in-process near cache over redis (invalidations broadcast), in-process fallback while redis is down")
	} else {
		log.Info("cache: in-process (set GATEWAY_REDIS_URL to share it between replicas)")
	}

	if cfg.BootstrapAPIKey != "" {
		k, err := auth.EnsureKey(ctx, st, "default", "bootstrap", cfg.BootstrapAPIKey)
		if err != nil {
			return nil, fmt.Errorf("GATEWAY_BOOTSTRAP_API_KEY: %w", err)
		}
		if state := k.State(time.Now()); state != store.APIKeyActive {
			// Revoked or rotated away through the Admin API: it stays so.
			log.Warn("the bootstrap API key is "+state+" and authenticates nothing; unset GATEWAY_BOOTSTRAP_API_KEY", "api_key_id", k.ID)
		} else {
			log.Info("bootstrap API key ensured for organisation default")
		}
	}

	transport, budgets, idem := resilience(cfg, redisClient, log, a.Metrics, a.Tracing)
	// No client-wide timeout: the caller's deadline bounds a whole call
	// (queueing, retries); GATEWAY_PROVIDER_TIMEOUT bounds each attempt.
	hc := &http.Client{Transport: transport}
	a.Tokens = oauth.NewManager(oauth.ManagerOptions{
		Store: st, Cache: cache.Observe(a.Cache, "oauth_token", a.Metrics), Keys: keys, Skew: cfg.OAuthRefreshSkew, Logger: log.With("component", "oauth"),
		Observer: a.Metrics,
	})
	schemas.Observer = a.Metrics
	a.Resolver = connections.NewResolver(st, Connectors(cfg, hc, a.Tokens, log), schemas, cfg.SchemaCacheTTL, cfg.ConnCacheTTL, log.With("component", "connections")).WithObserver(a.Metrics)
	a.Flow = newOAuthFlow(cfg, st, keys, redisClient, a, log)
	authn := auth.NewAuthenticator(st, 30*time.Second).WithLogger(log.With("component", "auth"))
	var adminHash []byte
	if cfg.AdminKeyHash != "" {
		if adminHash, err = auth.ParseAdminKeyHash(cfg.AdminKeyHash); err != nil {
			return nil, fmt.Errorf("GATEWAY_ADMIN_KEY_HASH %w", err)
		}
	}
	adminAuth := auth.NewAdminAuthenticator(adminHash)
	if adminAuth.Enabled() {
		log.Info("admin API enabled (/v0/admin, x-admin-key)")
	} else {
		log.Info("admin API disabled: set GATEWAY_ADMIN_KEY_HASH to enable it (gateway adminkey generate)")
	}
	srv, err := server.New(server.Config{
		MaxBodyBytes:      cfg.MaxBodyBytes,
		MaxInFlight:       cfg.MaxInFlight,
		InFlightQueueWait: cfg.InFlightQueueWait,
		Ready:             readyCheck(st, redisClient),
		Lifecycle: server.Lifecycle{
			ReadinessInterval: cfg.ReadinessInterval, ShutdownDelay: cfg.ShutdownDelay, ShutdownGrace: cfg.ShutdownGrace,
		},
		Routes:      connect.New(a.Flow, map[string]string{"ghl": "HighLevel"}, log.With("component", "connect")).Routes(),
		Unary:       []grpc.UnaryServerInterceptor{idem},
		Metrics:     a.Metrics,
		Tracing:     a.Tracing,
		Admin:       &server.Admin{Service: admin.New(st, authn, log.With("component", "admin")), Auth: adminAuth},
		Passthrough: passthrough.New(a.Resolver, log.With("component", "passthrough")),
	}, unified.New(a.Resolver, log), core.WithConnect(core.New(st, a.Resolver, log).WithBudgets(budgets), a.Flow), authn, log)
	if err != nil {
		return nil, err
	}
	a.Server = srv
	ok = true
	return a, nil
}

// readyCheck is the gateway's readiness: the store answers, and Redis
// too when it is configured (a replica without Redis would serve with an
// in-process cache and limiter, out of step with its peers).
func readyCheck(st interface{ Ping(context.Context) error }, rc redis.UniversalClient) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := st.Ping(ctx); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if rc != nil {
			if err := rc.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("redis: %w", err)
			}
		}
		return nil
	}
}

// newOAuthFlow assembles the OAuth connect flow: states sealed with the
// encryption keyring, spent state ids recorded in Redis (shared by
// replicas) or in-process, connections stored through the token manager.
func newOAuthFlow(cfg Config, st store.Store, keys *secrets.Keyring, rc redis.UniversalClient, a *App, log *slog.Logger) *oauth.Flow {
	var ledger oauth.Ledger = oauth.NewMemoryLedger()
	if rc != nil {
		ledger = oauth.NewRedisLedger(rc, "crmgate:oauth-state:")
	}
	return oauth.NewFlow(oauth.FlowOptions{
		Store: st, Sealer: oauth.NewSealer(keys), Ledger: ledger, Tokens: a.Tokens, StateTTL: cfg.OAuthStateTTL,
		Providers: func(name string) (oauth.Provider, bool) {
			c, ok := a.Resolver.Connector(name)
			if !ok {
				return nil, false
			}
			p, ok := c.(oauth.Provider)
			return p, ok
		},
		Changed: a.Resolver.Forget,
		Logger:  log.With("component", "oauth"),
	})
}

// Close releases the store and cache connections.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.log.Warn("close", "err", err)
		}
	}
	a.closers = nil
}

// Run listens on the configured addresses and serves until ctx is done.
func (a *App) Run(ctx context.Context) error {
	lc := net.ListenConfig{}
	gl, err := lc.Listen(ctx, "tcp", a.Config.GRPCAddr)
	if err != nil {
		return fmt.Errorf("listen grpc %s: %w", a.Config.GRPCAddr, err)
	}
	hl, err := lc.Listen(ctx, "tcp", a.Config.HTTPAddr)
	if err != nil {
		_ = gl.Close()
		return fmt.Errorf("listen http %s: %w", a.Config.HTTPAddr, err)
	}
	err = a.Server.Serve(ctx, gl, hl)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Creates made safe to repeat with an Idempotency-Key.
var idempotentMethods = map[string]bool{
	"/crmgate.crm.v1.CrmService/CreateRecord":            true,
	"/crmgate.crm.v1.CrmService/CreateContact":           true,
	"/crmgate.crm.v1.CrmService/UpsertContact":           true,
	"/crmgate.crm.v1.CrmService/CreateAccount":           true,
	"/crmgate.crm.v1.CrmService/UpsertAccount":           true,
	"/crmgate.crm.v1.CrmService/CreateOpportunity":       true,
	"/crmgate.crm.v1.CrmService/CreateObject":            true,
	"/crmgate.crm.v1.CrmService/CreateProperty":          true,
	"/crmgate.crm.v1.CrmService/CreateAssociationSchema": true,
	"/crmgate.crm.v1.CrmService/CreateRelation":          true,
	"/crmgate.core.v1.CoreService/CreateConnectorConfig": true,
	"/crmgate.core.v1.CoreService/CreateConnection":      true,
	// A passthrough POST is a create too; the key covers the whole call
	// (method, path, query, headers, body) and keeps the provider's answer,
	// whatever its status.
	"/crmgate.passthrough.v1.PassthroughService/Passthrough": true,
}

// resilience builds the provider transport (rate limiting shared through
// Redis, retries, circuit breaker, bounded bodies), the rate-limit budgets
// it records, and the Idempotency-Key interceptor. Without Redis (or while
// it is down) limiter, budgets and idempotency records are in-process.
func resilience(cfg Config, rc redis.UniversalClient, log *slog.Logger, m *telemetry.Metrics, tr *telemetry.Tracing) (http.RoundTripper, upstream.Budgets, grpc.UnaryServerInterceptor) {
	limits := upstream.Limits{Burst: cfg.RateBurst, Window: cfg.RateWindow, Daily: cfg.RateDaily, Margin: cfg.RateMargin}
	var (
		limiter   upstream.Limiter  = upstream.NewMemoryLimiter(limits, nil)
		budgets   upstream.Budgets  = upstream.NewMemoryBudgets(nil)
		idemStore idempotency.Store = idempotency.NewMemoryStore(nil)
	)
	if rc != nil {
		lg := log.With("component", "upstream")
		limiter = upstream.NewFallbackLimiter(upstream.NewRedisLimiter(rc, "crmgate:", limits), upstream.NewMemoryLimiter(limits, nil), lg)
		budgets = upstream.NewFallbackBudgets(upstream.NewRedisBudgets(rc, "crmgate:"), budgets, lg)
		idemStore = idempotency.NewFallbackStore(idempotency.NewRedisStore(rc, "crmgate:idem:"), idemStore, log.With("component", "idempotency"))
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 256
	t := upstream.NewTransport(base, upstream.Options{
		Limiter:          limiter,
		Budgets:          budgets,
		MaxWait:          cfg.RateMaxWait,
		Retry:            upstream.RetryPolicy{MaxAttempts: cfg.RetryAttempts},
		AttemptTimeout:   cfg.ProviderTimeout,
		MaxResponseBytes: cfg.MaxResponse,
		Logger:           log.With("component", "upstream"),
		Observer:         m,
		Wrap:             tr.Transport, // a span per attempt (tracing on)
	})
	idem := idempotency.New(idemStore, idempotentMethods, log.With("component", "idempotency"), idempotency.Options{
		TTL:      cfg.IdempotencyTTL,
		Observer: m,
		StatusOf: func(ctx context.Context, method string, err error) *status.Status {
			return status.Convert(apierr.Status(ctx, log, method, err))
		},
	})
	return t, budgets, idem.Unary()
}
