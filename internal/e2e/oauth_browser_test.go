package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/testenv"
)

// chromiumPath finds headless Chromium (Debian package chromium;
// CHROMIUM_PATH overrides). Missing, the test skips — except under
// CI=true, where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if testenv.InCI() {
		t.Fatal("Chromium is required under CI=true: apt-get install -y chromium (or set CHROMIUM_PATH)")
	}
	t.Skip("skipping: no Chromium (apt-get install -y chromium, or set CHROMIUM_PATH)")
	return ""
}

// TestOAuthConnectPageInBrowser: a customer opens the connect page link in
// a real (headless) browser, clicks Connect, goes through the GHL fake's
// authorization page and lands on the success page; the connection exists.
func TestOAuthConnectPageInBrowser(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	f := newFake(t)
	g := newGateway(t, gwOptions{})
	a := newOAuthApp(t, g, f, nil)
	loc := "loc" + randHex(14)
	f.SeedDemo(loc, 2)
	f.SetInstall(a.clientID, ghlfake.Install{LocationID: loc})
	page := str(a.authorize(t, "browser-cust", "").body["connect_url"])
	if !strings.HasPrefix(page, g.httpURL+"/connect/ghl?token=") {
		t.Fatalf("connect_url %q", page)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	var heading, button, result, connID, finalURL string
	err := chromedp.Run(ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible("#connect", chromedp.ByQuery),
		chromedp.Text("h1", &heading, chromedp.ByQuery),
		chromedp.Text("#connect", &button, chromedp.ByQuery),
		chromedp.Click("#connect", chromedp.ByQuery),
		chromedp.WaitVisible("#result", chromedp.ByQuery),
		chromedp.Text("#result", &result, chromedp.ByQuery),
		chromedp.Text("#connection-id", &connID, chromedp.ByQuery),
		chromedp.Location(&finalURL),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if heading != "Connect HighLevel" || button != "Connect HighLevel" {
		t.Errorf("connect page: heading %q, button %q", heading, button)
	}
	if result != "Connected" || !strings.HasPrefix(connID, "conn_ghl_") || !strings.HasPrefix(finalURL, a.redirect+"?") {
		t.Errorf("result page: %q, connection %q, at %s", result, connID, finalURL)
	}
	a.registerSecrets(t)
	c := a.connection(t, connID)
	if c["customer_id"] != "browser-cust" || c["status"] != "active" || obj(c["settings"])["location_id"] != loc {
		t.Errorf("connection %v", c)
	}
	if r := a.listPets(t, g, connID); r.status != http.StatusOK {
		t.Errorf("data through the browser-made connection: %d %s", r.status, r.raw)
	}
	if s := f.OAuthStats(); s.Authorizations != 1 || s.CodeExchanges != 1 {
		t.Errorf("fake stats %+v", s)
	}
	// Reloading the result page replays the state: refused, nothing new.
	var again string
	if err := chromedp.Run(ctx, chromedp.Reload(), chromedp.WaitVisible("#result", chromedp.ByQuery), chromedp.Text("#error", &again, chromedp.ByQuery)); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if !strings.Contains(again, "already used") || f.OAuthStats().CodeExchanges != 1 {
		t.Errorf("reloaded callback: %q", again)
	}
}
