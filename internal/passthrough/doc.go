// Package passthrough serves crmgate's passthrough: a caller's call sent
// to its connection's provider API as given (any of GET, POST, PUT, PATCH,
// DELETE; path below the connector config's base URL; query, headers and
// body as given), with the connection's credentials, through the same
// resilient transport as every adapter call (rate limiter, retries of
// idempotent calls, circuit breaker, metrics, tracing), answering the
// provider's status, headers and body unchanged.
//
// The gRPC service is PassthroughService (Service); the REST route
// /v0/passthrough/{path...} (internal/server) calls it in process. This
// package checks what a caller sends (CleanPath, CheckQuery,
// RequestHeaders, FilterRequest) and what a provider answers
// (FilterResponse); adapters implement crm.Passthrough.
package passthrough
