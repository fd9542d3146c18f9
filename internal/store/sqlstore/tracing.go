package sqlstore

import (
	"database/sql"

	"github.com/XSAM/otelsql"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// Option adjusts Open.
type Option func(*openOptions)

type openOptions struct {
	tracer trace.TracerProvider
}

// WithTracerProvider gives every SQL statement a span (otelsql) recorded
// by tp: the statement text (with placeholders; arguments are never
// recorded) and its outcome. Without it the database is not instrumented.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *openOptions) { o.tracer = tp }
}

// openDB opens the database, instrumented when asked to.
func openDB(driver, dsn string, o openOptions) (*sql.DB, error) {
	if o.tracer == nil {
		return sql.Open(driver, dsn)
	}
	return otelsql.Open(driver, dsn,
		otelsql.WithTracerProvider(o.tracer),
		otelsql.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelsql.WithSpanOptions(otelsql.SpanOptions{
			DisableErrSkip:       true,
			OmitConnResetSession: true,
			OmitRows:             true,
			OmitConnectorConnect: true,
		}),
	)
}
