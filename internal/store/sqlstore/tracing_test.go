package sqlstore

import (
	"path/filepath"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestTracing: with a tracer provider, statements make spans carrying
// the statement (placeholders only, never argument values) under the
// caller's trace.
func TestTracing(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	ctx, parent := tp.Tracer("test").Start(t.Context(), "caller")
	s, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), newKeyring(t), nil, WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	const marker = "org-arg-value-7f3a"
	if _, err := s.GetOrganisation(ctx, marker); err == nil {
		t.Fatal("want not found")
	}
	parent.End()

	var queries int
	for _, sp := range sr.Ended() {
		if sp.Name() == "caller" {
			continue
		}
		if sp.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			continue
		}
		for _, a := range sp.Attributes() {
			if strings.Contains(a.Value.String(), marker) {
				t.Errorf("span %s records an argument: %s=%s", sp.Name(), a.Key, a.Value.String())
			}
			if a.Key == "db.statement" || a.Key == "db.query.text" {
				queries++
			}
		}
	}
	if queries == 0 {
		t.Fatalf("no SQL span with a statement in the caller's trace (%d spans)", len(sr.Ended()))
	}
}
