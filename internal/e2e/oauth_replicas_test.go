package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
)

// TestOAuthRefreshAcrossReplicas: three gateways (separate app.Build
// instances sharing PostgreSQL and Redis) serve 200 concurrent requests on
// one connection whose access token just expired: GHL sees exactly one
// refresh, no refresh token is ever presented twice, and no request fails.
// Then GHL refuses the (still unexpired) new token, as after a revocation
// of access tokens: again 200 requests, one refresh, no failure.
func TestOAuthRefreshAcrossReplicas(t *testing.T) {
	t.Parallel()
	f := newFake(t) // without GHL's rate limits
	// Nor the gateway's pacing of them (100 per 10 s per location): this
	// test is about refreshes, and 400 calls on one location would queue.
	unpaced := map[string]string{"GATEWAY_RATE_LIMIT_BURST": "1000000"}
	g1 := newGateway(t, gwOptions{postgres: true, redis: true, env: unpaced})
	gws := []*gateway{g1}
	for range 2 {
		gws = append(gws, newGateway(t, gwOptions{redis: true, databaseURL: g1.cfg.DatabaseURL, encryptionKey: g1.cfg.EncryptionKey, env: unpaced}))
	}
	a := newOAuthApp(t, g1, f, nil)
	for _, g := range gws[1:] {
		g.addSecret(a.key, "API key")
		g.addSecret(a.secret, "client_secret")
	}
	loc := "loc" + randHex(14)
	f.SeedDemo(loc, 5)

	// Install with one-second access tokens, then let the token expire.
	f.SetAccessTokenTTL(time.Second)
	connID := a.connectOK(t, "cust-1", "", ghlfake.Install{LocationID: loc})
	f.SetAccessTokenTTL(ghlfake.DefaultAccessTokenTTL)
	time.Sleep(1200 * time.Millisecond)
	// Every replica has the connection opened and warm (nothing cached of the token).
	f.SetTokenLatency(150 * time.Millisecond) // a wide window for duplicate refreshes

	burst := func(round string) {
		t.Helper()
		var wg sync.WaitGroup
		start := time.Now()
		errs := make(chan string, 200)
		for i := range 200 {
			g := gws[i%len(gws)]
			wg.Go(func() {
				if msg := getOK(g, a.key, connID); msg != "" {
					errs <- fmt.Sprintf("replica %d: %s", i%len(gws), msg)
				}
			})
		}
		wg.Wait()
		t.Logf("%s: 200 requests in %v", round, time.Since(start))
		close(errs)
		n := 0
		for msg := range errs {
			if n++; n <= 5 {
				t.Errorf("%s: %s", round, msg)
			}
		}
		if n > 0 {
			t.Errorf("%s: %d of 200 requests failed", round, n)
		}
	}

	burst("expired token")
	if s := f.OAuthStats(); s.Refreshes != 1 {
		t.Errorf("after the expired-token burst: %d refreshes at GHL, want exactly 1", s.Refreshes)
	}
	f.ExpireAccessTokens() // GHL now refuses the token every replica believes fresh
	burst("refused token")
	if s := f.OAuthStats(); s.Refreshes != 2 || s.RefusedGrants != 0 {
		t.Errorf("after the refused-token burst: %+v, want exactly 2 refreshes in all", s)
	}
	if n := f.RefreshTokenReuses(); n != 0 {
		t.Errorf("GHL saw a spent refresh token %d times", n)
	}
	for _, g := range gws {
		for _, s := range f.IssuedSecrets() {
			g.addSecret(s, "GHL OAuth token or code")
		}
	}
}

// getOK lists records through g and returns "" on 200, else what went wrong.
func getOK(g *gateway, key, connID string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.httpURL+crmBase+"/custom_objects/pet?page_size=2", nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("x-apikey", key)
	req.Header.Set("x-connection-id", connID)
	resp, err := g.hc.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("%d %.300s", resp.StatusCode, b)
	}
	if leaks := g.leaks(b); len(leaks) > 0 {
		return fmt.Sprintf("SECRET LEAK in the answer: %v", leaks)
	}
	return ""
}
