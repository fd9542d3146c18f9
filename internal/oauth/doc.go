// Package oauth runs crmgate's OAuth 2.0 connections, independent of any
// one provider (the provider side is an oauth.Provider, e.g. the GHL
// connector):
//
//   - Sealer and Ledger: the `state` of an authorization flow is a State
//     sealed (AES-256-GCM) with the gateway's encryption keyring, bound to
//     organisation, customer, connector config, return URL and scopes, and
//     expiring; the callback spends its id in a Ledger (Redis SET NX, shared
//     by replicas) so it is accepted once.
//   - Flow: starts flows (authorization URL, connect page link), completes
//     them (state check, code exchange, connection stored — a re-install of
//     the same account for the same customer updates that connection), and
//     mints location connections from agency connections.
//   - Manager: hands out access tokens and refreshes them.
//
// # Token refresh
//
// Access tokens are cached (encrypted) in the gateway cache — Redis when
// configured, in-process otherwise — until Skew before they expire; the
// store holds the refresh token. A token within Skew of its expiry, or one
// the provider just refused (401), is refreshed. Providers such as GHL
// rotate refresh tokens: each refresh spends the token it presents and
// answers a new one, so two refreshes of one connection at once, or a new
// refresh token that is never stored, kill the connection until its owner
// connects it again. The Manager prevents both:
//
//  1. In each process, one flight per connection (singleflight); callers
//     wait for it, and it runs detached from the request that started it,
//     so a caller that gives up never aborts a refresh half-way.
//  2. Across processes, the flight first takes a lease on the connection
//     row: it writes token_refresh_lease ("<holder> <until>") with the
//     store's compare-and-swap on the row version. Of all replicas that read
//     the same version, exactly one write succeeds; the others see the lease
//     and use the current access token if it has not actually expired yet
//     (a refresh starts Skew early), or else poll the row until it carries
//     the new token (or the lease expires, see below).
//  3. The holder calls the provider, then stores the new refresh token and
//     access token (again by compare-and-swap, which also drops the lease)
//     before the new access token is handed to anyone or cached. A store
//     failure is retried until shortly before the lease runs out.
//  4. If the provider answers invalid_grant, the row is re-read: if its
//     refresh token is still the one refused, the connection is marked
//     needs_reauth (FAILED_PRECONDITION "connection ... needs
//     re-authorisation", also shown on the connection) and no one refreshes
//     it again; if another refresh stored a new token meanwhile, that one
//     is used.
//
// # What happens when a refresh is interrupted
//
// The provider's refresh is not idempotent: once it answered, the old
// refresh token is spent, and the only copy of the new one is in the memory
// of the process that asked. The gateway narrows what can lose it to the
// death of that process in the milliseconds between the provider's answer
// and the store's commit:
//
//   - The caller's request ending (client gone, deadline) does not stop the
//     refresh: it runs on a detached context.
//   - The store failing (network blip, failover) is retried until shortly
//     before the lease runs out; a lease outlives a slow refresh
//     (RefreshTimeout <= Lease/2). If the store stays down that long, the
//     grant is kept in memory and stored by this process's next attempt
//     instead of spending the token again.
//   - A write that conflicts because the row changed meanwhile re-reads it:
//     if its refresh token is still the one spent, the new grant is the only
//     valid one and is applied on top (this even heals a needs_reauth mark
//     made meanwhile); if the row got other credentials (a re-install, a
//     PATCH), the grant is dropped and the stored credentials are used.
//
// If the process dies in that window (kill -9, OOM, power), its lease
// expires after Lease (default 30s; meanwhile other callers keep using the
// old access token while it has not expired — refreshes start Skew early —
// and wait otherwise). The next replica takes the lease over and presents the
// old refresh token: the provider answers invalid_grant, and the connection
// becomes needs_reauth with a status message saying an interrupted refresh
// most likely spent the token. The owner reconnects through the connect
// flow, which updates the same connection (same id). Avoiding even this
// would take the provider's cooperation (a grace period for the previous
// refresh token, or HighLevel's /oauth/reconnect, which its published specs
// do not include); internal/oauth/manager_test.go exercises every case.
package oauth
