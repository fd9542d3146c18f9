package app

import (
	"context"
	"os"
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"

	"github.com/crmgate/crmgate/internal/store/sqlstore"
	"github.com/crmgate/crmgate/internal/telemetry"
)

// Option adjusts Build.
type Option func(*options)

type options struct {
	metrics *telemetry.Metrics
	tracing *telemetry.Tracing
}

// WithMetrics makes the gateway record into m instead of a new registry.
func WithMetrics(m *telemetry.Metrics) Option { return func(o *options) { o.metrics = m } }

// WithTracing makes the gateway trace with t (e.g. a test's span
// recorder) instead of what the OTEL_* variables say.
func WithTracing(t *telemetry.Tracing) Option { return func(o *options) { o.tracing = t } }

// setupTelemetry sets a.Metrics and a.Tracing: given by opts, else a new
// registry and tracing from the standard OTEL_* environment variables (off
// unless they ask for it).
func (a *App) setupTelemetry(ctx context.Context, opts []Option) error {
	var o options
	for _, f := range opts {
		f(&o)
	}
	a.Metrics = o.metrics
	if a.Metrics == nil {
		a.Metrics = telemetry.NewMetrics()
	}
	a.Tracing = o.tracing
	if a.Tracing == nil {
		t, err := telemetry.NewTracing(ctx, os.Getenv)
		if err != nil {
			return err
		}
		a.Tracing = t
		a.closers = append(a.closers, func() error {
			// Flush the spans still batched.
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return t.Shutdown(sctx)
		})
	}
	if a.Tracing.Enabled() {
		a.log.Info("tracing on (OTEL_* environment)")
	}
	return nil
}

// traceRedis gives every Redis command a span when tracing is on.
func (a *App) traceRedis(rc redis.UniversalClient) error {
	if !a.Tracing.Enabled() {
		return nil
	}
	return redisotel.InstrumentTracing(rc, redisotel.WithTracerProvider(a.Tracing.TracerProvider()), redisotel.WithDBStatement(false))
}

// storeOptions give every SQL statement a span when tracing is on.
func (a *App) storeOptions() []sqlstore.Option {
	if !a.Tracing.Enabled() {
		return nil
	}
	return []sqlstore.Option{sqlstore.WithTracerProvider(a.Tracing.TracerProvider())}
}
