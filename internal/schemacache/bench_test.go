package schemacache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/schemacache"
)

// BenchmarkGetSchemaHit is a schema-cache hit with each tier set: the
// decoded (Local) tiers answer with a map lookup, the encoded-only one
// decodes JSON on every hit.
func BenchmarkGetSchemaHit(b *testing.B) {
	props := make([]crm.Property, 10)
	for i := range props {
		props[i] = crm.Property{ID: fmt.Sprintf("field_%d", i), Label: "Field", Type: crm.TypeText,
			RawDetails: map[string]any{"dataType": "TEXT", "fieldKey": fmt.Sprintf("custom_objects.pet.field_%d", i)}}
	}
	for name, tiers := range tierSets() {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			p := schemacache.Wrap(&counting{props: props}, tiers(), "schema:c1:", time.Hour, discard)
			if _, err := p.GetSchema(ctx, "pet"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.GetSchema(ctx, "pet"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
