package app

import (
	"maps"
	"slices"
)

// IdempotentMethods lists, sorted, the full gRPC methods an Idempotency-Key
// makes safe to repeat (the OpenAPI document declares the header on their
// routes).
func IdempotentMethods() []string { return slices.Sorted(maps.Keys(idempotentMethods)) }
