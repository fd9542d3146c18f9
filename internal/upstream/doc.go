// Package upstream makes outgoing provider calls resilient. Every piece is
// an http.RoundTripper decorator, so any adapter's http.Client gets all of
// them by using the transport NewTransport returns, which composes, from the
// outside in:
//
//	BodyLimit → Retry → Breaker → RateLimit → Observe → AttemptTimeout → base
//
// Retry repeats idempotent calls on a burst 429, 502/503/504 and connection
// errors with exponential backoff and full jitter, never past the caller's
// deadline. A non-idempotent call (a create) is repeated only when the
// request provably never left, or the provider refused it with a 429; a
// failure after it was sent is an *UnknownOutcomeError.
//
// Breaker keeps one circuit per provider host (github.com/sony/gobreaker,
// per replica); each attempt counts.
//
// RateLimit paces calls per budget key (e.g. one GHL location of one
// connector config) through a Limiter shared by replicas (RedisLimiter) or
// in-process (MemoryLimiter), by the tighter of its configured Limits and
// the provider's advertised X-RateLimit-Max / -Interval / -Remaining (see
// Limiter), starting cautiously on a budget no answer was seen for, and
// records those figures (Budgets).
//
// BodyLimit bounds response bodies while they stream.
//
// Observe reports every attempt (provider, endpoint template, status,
// latency) to an Observer, with rate-limit waits and rejections and
// breaker changes, and counts the attempts of an incoming call (see
// WithCounter). The provider and endpoint template come from the request
// context: Endpoints, outermost and one per provider, names them from a
// route table (Routes), so metrics never carry raw paths or ids.
//
// Per-request facts — the budget key, whether the call is idempotent,
// whether the caller waits for budget — travel in the request context: see
// WithCall and WithIdempotent.
package upstream
