package e2e

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

func configStrings(c *corev1.ConnectorConfig) map[string]string {
	out := map[string]string{}
	for k, v := range c.GetConfig().GetFields() {
		out[k] = v.GetStringValue()
	}
	return out
}

func settingStrings(c *corev1.Connection) map[string]string {
	out := map[string]string{}
	for k, v := range c.GetSettings().GetFields() {
		out[k] = v.GetStringValue()
	}
	return out
}

// testCoreCRUD exercises connector configs and connections; it runs on
// SQLite and on PostgreSQL.
func testCoreCRUD(t *testing.T, o gwOptions) {
	forEachTransport(t, func(t *testing.T, tr string) {
		f := newFake(t)
		g := newGateway(t, o)
		key := g.apiKey(t, "org-core")
		c := g.client(t, tr, key, "")
		secret := "csecret-" + randHex(20)
		g.addSecret(secret, "client_secret")

		// Connector configs.
		cfg := must(c.CreateConnectorConfig(&corev1.CreateConnectorConfigRequest{ConnectorName: "ghl", Config: st(t, map[string]any{
			"base_url": f.URL, "client_id": "my-client", "client_secret": secret,
		})}))(t).GetConnectorConfig()
		if !strings.HasPrefix(cfg.GetId(), "ccfg_ghl_") || cfg.GetConnectorName() != "ghl" || cfg.GetCreatedAt() == nil || cfg.GetUpdatedAt() == nil {
			t.Errorf("created config = %v", cfg)
		}
		if got := configStrings(cfg); got["base_url"] != f.URL || got["client_id"] != "my-client" || len(got) != 2 {
			t.Errorf("config = %v, want base_url and client_id only (no secret)", got)
		}
		if !slices.Equal(cfg.GetSecretKeys(), []string{"client_secret"}) {
			t.Errorf("secret_keys = %v", cfg.GetSecretKeys())
		}
		got := must(c.GetConnectorConfig(&corev1.GetConnectorConfigRequest{Id: cfg.GetId()}))(t).GetConnectorConfig()
		if got.GetId() != cfg.GetId() || configStrings(got)["client_id"] != "my-client" || !slices.Equal(got.GetSecretKeys(), []string{"client_secret"}) {
			t.Errorf("get config = %v", got)
		}
		cfg2 := must(c.CreateConnectorConfig(&corev1.CreateConnectorConfigRequest{ConnectorName: "ghl", Config: st(t, map[string]any{"base_url": f.URL})}))(t).GetConnectorConfig()
		if len(cfg2.GetSecretKeys()) != 0 {
			t.Errorf("config without secret: secret_keys = %v", cfg2.GetSecretKeys())
		}
		list := must(c.ListConnectorConfigs(&corev1.ListConnectorConfigsRequest{}))(t).GetItems()
		var ids []string
		for _, x := range list {
			ids = append(ids, x.GetId())
		}
		if len(ids) != 2 || !slices.Contains(ids, cfg.GetId()) || !slices.Contains(ids, cfg2.GetId()) {
			t.Errorf("configs = %v", ids)
		}
		// Update changes the named keys only; "" removes one.
		up := must(c.UpdateConnectorConfig(&corev1.UpdateConnectorConfigRequest{Id: cfg.GetId(), Config: st(t, map[string]any{"client_id": "other-client"})}))(t).GetConnectorConfig()
		if cs := configStrings(up); cs["client_id"] != "other-client" || cs["base_url"] != f.URL || !slices.Equal(up.GetSecretKeys(), []string{"client_secret"}) {
			t.Errorf("updated config = %v secret_keys %v", cs, up.GetSecretKeys())
		}
		up = must(c.UpdateConnectorConfig(&corev1.UpdateConnectorConfigRequest{Id: cfg.GetId(), Config: st(t, map[string]any{"client_id": "", "client_secret": nil})}))(t).GetConnectorConfig()
		if cs := configStrings(up); len(up.GetSecretKeys()) != 0 || cs["client_id"] != "" {
			t.Errorf("after removing the OAuth keys: config %v secret_keys %v", cs, up.GetSecretKeys())
		}
		err := wantCode(t, second(c.UpdateConnectorConfig(&corev1.UpdateConnectorConfigRequest{Id: cfg.GetId(), Config: st(t, map[string]any{"client_id": "lonely"})})), codes.InvalidArgument)
		if !err.hasField("client_secret") && !err.hasField("config.client_secret") {
			t.Errorf("client_id without secret: %v", err)
		}
		wantCode(t, second(c.UpdateConnectorConfig(&corev1.UpdateConnectorConfigRequest{Id: "ccfg_ghl_nosuch", Config: st(t, map[string]any{"client_id": "x"})})), codes.NotFound)

		// Connections.
		tok := "pit-" + randHex(24)
		g.addSecret(tok, "token")
		f.AddToken(tok, "locCore1")
		f.SeedDemo("locCore1", 1)
		conn := must(c.CreateConnection(&corev1.CreateConnectionRequest{ConnectorConfigId: cfg.GetId(), CustomerId: "cust-1", Settings: st(t, map[string]any{
			"location_id": "locCore1", "private_integration_token": tok,
		})}))(t).GetConnection()
		if !strings.HasPrefix(conn.GetId(), "conn_ghl_") || conn.GetConnectorConfigId() != cfg.GetId() || conn.GetConnectorName() != "ghl" ||
			conn.GetCustomerId() != "cust-1" || conn.GetAuthType() != "pit" || conn.GetStatus() != "active" || conn.GetCreatedAt() == nil {
			t.Errorf("created connection = %v", conn)
		}
		if s := settingStrings(conn); len(s) != 1 || s["location_id"] != "locCore1" {
			t.Errorf("connection settings = %v, want location_id only", s)
		}
		if !slices.Equal(conn.GetSecretKeys(), []string{"private_integration_token"}) {
			t.Errorf("connection secret_keys = %v", conn.GetSecretKeys())
		}
		conn2 := must(c.CreateConnection(&corev1.CreateConnectionRequest{ConnectorConfigId: cfg2.GetId(), CustomerId: "cust-2", Settings: st(t, map[string]any{
			"location_id": "locCore1", "private_integration_token": tok,
		})}))(t).GetConnection()
		gc := must(c.GetConnection(&corev1.GetConnectionRequest{Id: conn.GetId()}))(t).GetConnection()
		if gc.GetId() != conn.GetId() || gc.GetCustomerId() != "cust-1" || settingStrings(gc)["location_id"] != "locCore1" {
			t.Errorf("get connection = %v", gc)
		}
		connIDs := func(req *corev1.ListConnectionsRequest) []string {
			t.Helper()
			var out []string
			for _, x := range must(c.ListConnections(req))(t).GetItems() {
				out = append(out, x.GetId())
			}
			slices.Sort(out)
			return out
		}
		both := []string{conn.GetId(), conn2.GetId()}
		slices.Sort(both)
		if got := connIDs(&corev1.ListConnectionsRequest{}); !slices.Equal(got, both) {
			t.Errorf("all connections = %v, want %v", got, both)
		}
		if got := connIDs(&corev1.ListConnectionsRequest{CustomerId: "cust-1"}); !slices.Equal(got, []string{conn.GetId()}) {
			t.Errorf("connections of cust-1 = %v", got)
		}
		if got := connIDs(&corev1.ListConnectionsRequest{CustomerId: "nobody"}); len(got) != 0 {
			t.Errorf("connections of nobody = %v", got)
		}
		if got := connIDs(&corev1.ListConnectionsRequest{ConnectorConfigId: cfg2.GetId()}); !slices.Equal(got, []string{conn2.GetId()}) {
			t.Errorf("connections of config 2 = %v", got)
		}
		wantCode(t, second(c.ListConnections(&corev1.ListConnectionsRequest{CustomerId: "bad customer!"})), codes.InvalidArgument)

		// The connection works.
		cc := c.as(key, conn.GetId())
		must(cc.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: must(cc.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"}))(t).GetItems()[0].GetId()}))(t)
		chk := must(c.CheckConnection(&corev1.CheckConnectionRequest{Id: conn.GetId()}))(t)
		if !chk.GetOk() || chk.GetStatus() != "active" {
			t.Errorf("check = %v", chk)
		}

		// Update: a location change (non-secret) keeps the token.
		f.AddToken(tok, "locCore1")
		uc := must(c.UpdateConnection(&corev1.UpdateConnectionRequest{Id: conn.GetId(), Settings: st(t, map[string]any{"location_id": "locCore1"})}))(t).GetConnection()
		if !slices.Equal(uc.GetSecretKeys(), []string{"private_integration_token"}) || uc.GetAuthType() != "pit" {
			t.Errorf("updated connection = %v", uc)
		}
		wantCode(t, second(c.UpdateConnection(&corev1.UpdateConnectionRequest{Id: conn.GetId()})), codes.InvalidArgument)
		wantCode(t, second(c.UpdateConnection(&corev1.UpdateConnectionRequest{Id: conn.GetId(), Settings: st(t, map[string]any{"private_integration_token": nil})})), codes.InvalidArgument)
		wantCode(t, second(c.UpdateConnection(&corev1.UpdateConnectionRequest{Id: "conn_ghl_nosuch", Settings: st(t, map[string]any{"location_id": "x"})})), codes.NotFound)

		// Delete a config in use: refused; then delete in order.
		inUse := wantCode(t, second(c.DeleteConnectorConfig(&corev1.DeleteConnectorConfigRequest{Id: cfg.GetId()})), codes.FailedPrecondition)
		if inUse.httpStatus != 0 && inUse.httpStatus != 400 && inUse.httpStatus != 409 {
			t.Errorf("delete config in use: HTTP %d", inUse.httpStatus)
		}
		if inUse.reason != "CONNECTOR_CONFIG_IN_USE" {
			t.Errorf("delete config in use: reason %q", inUse.reason)
		}
		must(c.GetConnectorConfig(&corev1.GetConnectorConfigRequest{Id: cfg.GetId()}))(t)
		must(c.DeleteConnection(&corev1.DeleteConnectionRequest{Id: conn.GetId()}))(t)
		wantCode(t, second(c.GetConnection(&corev1.GetConnectionRequest{Id: conn.GetId()})), codes.NotFound)
		wantCode(t, second(c.DeleteConnection(&corev1.DeleteConnectionRequest{Id: conn.GetId()})), codes.NotFound)
		wantCode(t, second(c.CheckConnection(&corev1.CheckConnectionRequest{Id: conn.GetId()})), codes.NotFound)
		nf := wantCode(t, second(cc.ListObjects(&crmv1.ListObjectsRequest{})), codes.NotFound)
		if nf.reason != "CONNECTION_NOT_FOUND" {
			t.Errorf("crm call on a deleted connection: %v", nf)
		}
		must(c.DeleteConnectorConfig(&corev1.DeleteConnectorConfigRequest{Id: cfg.GetId()}))(t)
		wantCode(t, second(c.GetConnectorConfig(&corev1.GetConnectorConfigRequest{Id: cfg.GetId()})), codes.NotFound)
		wantCode(t, second(c.DeleteConnectorConfig(&corev1.DeleteConnectorConfigRequest{Id: cfg.GetId()})), codes.NotFound)
		if got := len(must(c.ListConnectorConfigs(&corev1.ListConnectorConfigsRequest{}))(t).GetItems()); got != 1 {
			t.Errorf("%d configs left, want 1", got)
		}
	})
}

func TestCoreCRUD(t *testing.T) {
	t.Parallel()
	testCoreCRUD(t, gwOptions{})
}

func TestCoreValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, -1)
	for _, tr := range transports {
		cfgCases := []struct {
			name  string
			req   *corev1.CreateConnectorConfigRequest
			code  codes.Code
			field string
		}{
			{"no connector", &corev1.CreateConnectorConfigRequest{}, codes.InvalidArgument, "connector_name"},
			{"unknown connector", &corev1.CreateConnectorConfigRequest{ConnectorName: "salesforce"}, codes.InvalidArgument, "connector_name"},
			{"unknown key", &corev1.CreateConnectorConfigRequest{ConnectorName: "ghl", Config: st(t, map[string]any{"bogus": "x"})}, codes.InvalidArgument, ""},
			{"bad base_url", &corev1.CreateConnectorConfigRequest{ConnectorName: "ghl", Config: st(t, map[string]any{"base_url": "ftp://example.com"})}, codes.InvalidArgument, ""},
			{"base_url with query", &corev1.CreateConnectorConfigRequest{ConnectorName: "ghl", Config: st(t, map[string]any{"base_url": "https://example.com/?a=b"})}, codes.InvalidArgument, ""},
			{"non-string value", &corev1.CreateConnectorConfigRequest{ConnectorName: "ghl", Config: st(t, map[string]any{"client_id": 12})}, codes.InvalidArgument, "config.client_id"},
			{"secret without id", &corev1.CreateConnectorConfigRequest{ConnectorName: "ghl", Config: st(t, map[string]any{"client_secret": "s3cr3t-value"})}, codes.InvalidArgument, ""},
			{"bad key name", &corev1.CreateConnectorConfigRequest{ConnectorName: "ghl", Config: st(t, map[string]any{"Base URL": "x"})}, codes.InvalidArgument, ""},
		}
		for _, tc := range cfgCases {
			t.Run("config/"+tc.name+"/"+tr, func(t *testing.T) {
				c := e.client(t, tr)
				err := wantCode(t, second(c.CreateConnectorConfig(tc.req)), tc.code)
				if tc.field != "" && !err.hasField(tc.field) {
					t.Errorf("violations %v, want %s", err.fields(), tc.field)
				}
				if len(err.violations) == 0 {
					t.Errorf("no field violations: %v", err)
				}
			})
		}
		connCases := []struct {
			name     string
			req      *corev1.CreateConnectionRequest
			code     codes.Code
			field    string
			noFields bool
		}{
			{"no config id", &corev1.CreateConnectionRequest{CustomerId: "c"}, codes.InvalidArgument, "connector_config_id", false},
			{"unknown config", &corev1.CreateConnectionRequest{ConnectorConfigId: "ccfg_ghl_nosuch", CustomerId: "c", Settings: st(t, map[string]any{"location_id": "l", "private_integration_token": "t"})}, codes.NotFound, "", true},
			{"no customer", &corev1.CreateConnectionRequest{ConnectorConfigId: e.tn.configID}, codes.InvalidArgument, "customer_id", false},
			{"bad customer", &corev1.CreateConnectionRequest{ConnectorConfigId: e.tn.configID, CustomerId: "a b"}, codes.InvalidArgument, "customer_id", false},
			{"no token", &corev1.CreateConnectionRequest{ConnectorConfigId: e.tn.configID, CustomerId: "c", Settings: st(t, map[string]any{"location_id": "l"})}, codes.InvalidArgument, "", false},
			{"no location", &corev1.CreateConnectionRequest{ConnectorConfigId: e.tn.configID, CustomerId: "c", Settings: st(t, map[string]any{"private_integration_token": "t"})}, codes.InvalidArgument, "", false},
			{"bad location", &corev1.CreateConnectionRequest{ConnectorConfigId: e.tn.configID, CustomerId: "c", Settings: st(t, map[string]any{"location_id": "l/x", "private_integration_token": "t"})}, codes.InvalidArgument, "", false},
			{"token with space", &corev1.CreateConnectionRequest{ConnectorConfigId: e.tn.configID, CustomerId: "c", Settings: st(t, map[string]any{"location_id": "l", "private_integration_token": "a b"})}, codes.InvalidArgument, "", false},
			{"pit and oauth", &corev1.CreateConnectionRequest{ConnectorConfigId: e.tn.configID, CustomerId: "c", Settings: st(t, map[string]any{"location_id": "l", "private_integration_token": "t", "access_token": "a"})}, codes.InvalidArgument, "", false},
		}
		for _, tc := range connCases {
			t.Run("connection/"+tc.name+"/"+tr, func(t *testing.T) {
				c := e.client(t, tr)
				err := wantCode(t, second(c.CreateConnection(tc.req)), tc.code)
				if tc.field != "" && !err.hasField(tc.field) {
					t.Errorf("violations %v, want %s", err.fields(), tc.field)
				}
				if !tc.noFields && len(err.violations) == 0 {
					t.Errorf("no field violations: %v", err)
				}
			})
		}
		t.Run("bad ids/"+tr, func(t *testing.T) {
			c := e.client(t, tr)
			for _, id := range []string{"bad id", "a.b", "ä", strings.Repeat("x", 200)} {
				wantCode(t, second(c.GetConnection(&corev1.GetConnectionRequest{Id: id})), codes.InvalidArgument)
				wantCode(t, second(c.GetConnectorConfig(&corev1.GetConnectorConfigRequest{Id: id})), codes.InvalidArgument)
				wantCode(t, second(c.CheckConnection(&corev1.CheckConnectionRequest{Id: id})), codes.InvalidArgument)
			}
		})
	}
}

// TestCheckAndRotate: a revoked token makes check answer ok=false and crm
// calls fail with the provider's 401; a PATCH with a new token heals it.
func TestCheckAndRotate(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 2)
		c := e.client(t, tr)
		chk := must(c.CheckConnection(&corev1.CheckConnectionRequest{Id: e.tn.connID}))(t)
		if !chk.GetOk() {
			t.Fatalf("check = %v", chk)
		}
		must(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"}))(t)

		e.f.RevokeToken(e.tn.token)
		chk = must(c.CheckConnection(&corev1.CheckConnectionRequest{Id: e.tn.connID}))(t)
		if chk.GetOk() || !strings.Contains(chk.GetMessage(), "401") {
			t.Errorf("check with a revoked token = %v, want ok=false naming 401", chk)
		}
		err := wantCode(t, second(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"})), codes.PermissionDenied)
		if err.origin != "provider" || err.providerStatus != 401 || err.provider != "ghl" {
			t.Errorf("crm call with a revoked token: %v", err)
		}

		newTok := "pit-" + randHex(32)
		e.g.addSecret(newTok, "rotated token")
		e.f.AddToken(newTok, e.tn.location)
		conn := must(c.UpdateConnection(&corev1.UpdateConnectionRequest{Id: e.tn.connID, Settings: st(t, map[string]any{"private_integration_token": newTok})}))(t).GetConnection()
		if conn.GetStatus() != "active" || !slices.Equal(conn.GetSecretKeys(), []string{"private_integration_token"}) ||
			settingStrings(conn)["location_id"] != e.tn.location {
			t.Errorf("rotated connection = %v", conn)
		}
		if n := len(must(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"}))(t).GetItems()); n != 2 {
			t.Errorf("after rotation: %d records", n)
		}
		must(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"name": "After rotation"})}}))(t)
		if chk := must(c.CheckConnection(&corev1.CheckConnectionRequest{Id: e.tn.connID}))(t); !chk.GetOk() {
			t.Errorf("check after rotation = %v", chk)
		}
	})
}

// TestUpdateConnectionInvalidatesSchemaCache: moving a connection to
// another location must not keep serving the old location's schemas.
func TestUpdateConnectionInvalidatesSchemaCache(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 1)
		c := e.client(t, tr)
		must(c.GetObject(&crmv1.GetObjectRequest{ObjectName: "pet"}))(t) // cached for location 1

		// Location 2: its pet has an extra property.
		loc2, tok2 := "loc2"+randHex(8), "pit-"+randHex(32)
		e.g.addSecret(tok2, "token 2")
		e.f.AddToken(tok2, loc2)
		e.f.SeedDemo(loc2, 1)
		c2 := e.g.client(t, tr, e.tn.key, e.g.createConnection(t, e.tn.key, e.tn.configID, "helper", loc2, tok2))
		must(c2.CreateProperty(&crmv1.CreatePropertyRequest{ObjectName: "pet", Property: &crmv1.Property{Id: "color", Label: "Color", Type: "text"}}))(t)

		must(c.UpdateConnection(&corev1.UpdateConnectionRequest{Id: e.tn.connID, Settings: st(t, map[string]any{
			"location_id": loc2, "private_integration_token": tok2,
		})}))(t)
		if _, err := c.GetProperty(&crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: "color"}); err != nil {
			t.Errorf("after moving the connection to another location, its schema is stale: %v", err)
		}
		if _, err := c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"name": "x", "color": "red"})}}); err != nil {
			t.Errorf("record create validated against the old location's schema: %v", err)
		}
	})
}

// TestUpdateConnectorConfigInvalidatesSchemaCache: pointing a connector
// config at another GHL (base_url) must not keep serving the schemas read
// from the old one.
func TestUpdateConnectorConfigInvalidatesSchemaCache(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 1)
		c := e.client(t, tr)
		must(c.GetObject(&crmv1.GetObjectRequest{ObjectName: "pet"}))(t) // cached from fake 1

		// Fake 2: same location and token, its pet has one more property.
		f2 := newFake(t)
		f2.AddToken(e.tn.token, e.tn.location)
		f2.SeedDemo(e.tn.location, 1)
		key2 := e.g.apiKey(t, "org-helper")
		cfg2 := e.g.createConfig(t, key2, f2.URL, "")
		c2 := e.g.client(t, tr, key2, e.g.createConnection(t, key2, cfg2, "helper", e.tn.location, e.tn.token))
		must(c2.CreateProperty(&crmv1.CreatePropertyRequest{ObjectName: "pet", Property: &crmv1.Property{Id: "color", Label: "Color", Type: "text"}}))(t)

		must(c.UpdateConnectorConfig(&corev1.UpdateConnectorConfigRequest{Id: e.tn.configID, Config: st(t, map[string]any{"base_url": f2.URL})}))(t)
		before := f2.RequestCount(routeSearch)
		must(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"}))(t)
		if f2.RequestCount(routeSearch) == before {
			t.Fatalf("calls do not go to the new base_url")
		}
		if _, err := c.GetProperty(&crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: "color"}); err != nil {
			t.Errorf("after changing the config's base_url, the schema is stale: %v", err)
		}
	})
}
