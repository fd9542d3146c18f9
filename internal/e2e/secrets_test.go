package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// TestSecretsNeverLeak creates configs and connections with secrets, makes
// successful and failing calls over both transports, and checks that no
// client_secret, token or API key appears in the gateway's (debug) log or in
// any answer (the harness checks every answer of every test; this test makes
// the calls most likely to echo a secret), nor in clear in the database.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	g := newGateway(t, gwOptions{})
	tn := g.newTenant(t, f, "org-secret", 3)
	for _, tr := range transports {
		c := g.client(t, tr, tn.key, tn.connID)
		secret := "csecret-" + randHex(24)
		g.addSecret(secret, "client_secret "+tr)
		cfg := must(c.CreateConnectorConfig(&corev1.CreateConnectorConfigRequest{ConnectorName: "ghl", Config: st(t, map[string]any{
			"base_url": f.URL, "client_id": "cid", "client_secret": secret,
		})}))(t).GetConnectorConfig()
		must(c.GetConnectorConfig(&corev1.GetConnectorConfigRequest{Id: cfg.GetId()}))(t)
		must(c.ListConnectorConfigs(&corev1.ListConnectorConfigsRequest{}))(t)
		must(c.UpdateConnectorConfig(&corev1.UpdateConnectorConfigRequest{Id: cfg.GetId(), Config: st(t, map[string]any{"client_id": "cid2"})}))(t)

		// Invalid secrets: the errors must not echo them.
		badSecret := "bad secret with spaces " + randHex(16)
		g.addSecret(badSecret, "invalid client_secret "+tr)
		wantCode(t, second(c.CreateConnectorConfig(&corev1.CreateConnectorConfigRequest{ConnectorName: "ghl", Config: st(t, map[string]any{
			"base_url": f.URL, "client_id": "cid", "client_secret": badSecret,
		})})), codes.InvalidArgument)
		badTok := "pit bad " + randHex(16)
		g.addSecret(badTok, "invalid token "+tr)
		wantCode(t, second(c.CreateConnection(&corev1.CreateConnectionRequest{ConnectorConfigId: cfg.GetId(), CustomerId: "c1", Settings: st(t, map[string]any{
			"location_id": tn.location, "private_integration_token": badTok,
		})})), codes.InvalidArgument)
		longTok := "pit-" + strings.Repeat("z", 9000)
		g.addSecret(longTok, "overlong token "+tr)
		wantCode(t, second(c.CreateConnection(&corev1.CreateConnectionRequest{ConnectorConfigId: cfg.GetId(), CustomerId: "c1", Settings: st(t, map[string]any{
			"location_id": tn.location, "private_integration_token": longTok,
		})})), codes.InvalidArgument)
		wantCode(t, second(c.CreateConnection(&corev1.CreateConnectionRequest{ConnectorConfigId: cfg.GetId(), CustomerId: "c1", Settings: st(t, map[string]any{
			"location_id": tn.location, "private_integration_token": tn.token, "bogus_secret": tn.token,
		})})), codes.InvalidArgument)

		// A working connection, then a revoked token, then a rotation.
		tok := "pit-" + randHex(32)
		g.addSecret(tok, "token "+tr)
		f.AddToken(tok, tn.location)
		conn := must(c.CreateConnection(&corev1.CreateConnectionRequest{ConnectorConfigId: cfg.GetId(), CustomerId: "c1", Settings: st(t, map[string]any{
			"location_id": tn.location, "private_integration_token": tok,
		})}))(t).GetConnection()
		cc := c.as(tn.key, conn.GetId())
		must(cc.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", IncludeRawData: true}))(t)
		must(cc.ListObjects(&crmv1.ListObjectsRequest{IncludeRawData: true}))(t)
		rec := must(cc.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"name": "Secretive"})}}))(t).GetRecord()
		must(cc.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: rec.GetId(), IncludeRawData: true}))(t)
		must(cc.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "Secretive", IncludeRawData: true}))(t)
		must(c.CheckConnection(&corev1.CheckConnectionRequest{Id: conn.GetId()}))(t)
		f.RevokeToken(tok)
		if chk := must(c.CheckConnection(&corev1.CheckConnectionRequest{Id: conn.GetId()}))(t); chk.GetOk() {
			t.Errorf("check with a revoked token = %v", chk)
		}
		wantCode(t, second(cc.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"})), codes.PermissionDenied)
		tok2 := "pit-" + randHex(32)
		g.addSecret(tok2, "rotated token "+tr)
		f.AddToken(tok2, tn.location)
		up := must(c.UpdateConnection(&corev1.UpdateConnectionRequest{Id: conn.GetId(), Settings: st(t, map[string]any{"private_integration_token": tok2})}))(t).GetConnection()
		if up.GetSettings().GetFields()["private_integration_token"] != nil {
			t.Errorf("the token is in settings: %v", up.GetSettings())
		}
		must(cc.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"}))(t)
		must(c.GetConnection(&corev1.GetConnectionRequest{Id: conn.GetId()}))(t)
		must(c.ListConnections(&corev1.ListConnectionsRequest{}))(t)
	}

	logs := g.logs.String()
	if !strings.Contains(logs, `"msg":"rpc"`) || !strings.Contains(logs, "ghl request") {
		t.Fatalf("the captured log lacks rpc and debug lines; is the log captured?\n%s", tail(logs, 20))
	}
	g.assertLogsClean(t)

	// At rest: no secret in clear in the SQLite files.
	files, _ := filepath.Glob(filepath.Join(g.cfg.DataDir, "crmgate.db*"))
	if len(files) == 0 {
		t.Fatalf("no database files under %s", g.cfg.DataDir)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for v, what := range g.secretsCopy() {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s holds %s in clear", filepath.Base(name), what)
			}
		}
	}
}

func (g *gateway) secretsCopy() map[string]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]string, len(g.secrets))
	for k, v := range g.secrets {
		out[k] = v
	}
	return out
}
