package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// rpcCase is one RPC with a valid request.
type rpcCase struct {
	name string
	crm  bool // a CrmService call (needs x-connection-id)
	call func(c *client) error
}

// ids used by allRPCs: real ones where the test has them, else
// syntactically valid ones.
type rpcIDs struct {
	record, relation, association, config, connection string
}

// allRPCs returns every RPC of both services with valid input, so that
// only the caller's credentials decide the outcome.
func allRPCs(t testing.TB, ids rpcIDs) []rpcCase {
	if ids.record == "" {
		ids.record = "000000000000000000000000"
	}
	if ids.relation == "" {
		ids.relation = "000000000000000000000001"
	}
	if ids.association == "" {
		ids.association = "000000000000000000000002"
	}
	if ids.config == "" {
		ids.config = "ccfg_ghl_nosuch"
	}
	if ids.connection == "" {
		ids.connection = "conn_ghl_nosuch"
	}
	props := st(t, map[string]any{"name": "Rex"})
	return []rpcCase{
		{"ListObjects", true, func(c *client) error { return second(c.ListObjects(&crmv1.ListObjectsRequest{})) }},
		{"CreateObject", true, func(c *client) error { return second(c.CreateObject(vehicleObject("vehicle"))) }},
		{"GetObject", true, func(c *client) error { return second(c.GetObject(&crmv1.GetObjectRequest{ObjectName: "pet"})) }},
		{"UpdateObject", true, func(c *client) error {
			return second(c.UpdateObject(&crmv1.UpdateObjectRequest{ObjectName: "pet", Object: &crmv1.ObjectUpdate{Description: "x"}}))
		}},
		{"ListProperties", true, func(c *client) error {
			return second(c.ListProperties(&crmv1.ListPropertiesRequest{ObjectName: "pet"}))
		}},
		{"CreateProperty", true, func(c *client) error {
			return second(c.CreateProperty(&crmv1.CreatePropertyRequest{ObjectName: "pet", Property: &crmv1.Property{Id: "color", Label: "Color", Type: "text"}}))
		}},
		{"GetProperty", true, func(c *client) error {
			return second(c.GetProperty(&crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: "name"}))
		}},
		{"UpdateProperty", true, func(c *client) error {
			return second(c.UpdateProperty(&crmv1.UpdatePropertyRequest{ObjectName: "pet", PropertyId: "notes", Property: &crmv1.Property{Label: "N"}}))
		}},
		{"DeleteProperty", true, func(c *client) error {
			return second(c.DeleteProperty(&crmv1.DeletePropertyRequest{ObjectName: "pet", PropertyId: "notes"}))
		}},
		{"ListAssociationSchemas", true, func(c *client) error {
			return second(c.ListAssociationSchemas(&crmv1.ListAssociationSchemasRequest{}))
		}},
		{"CreateAssociationSchema", true, func(c *client) error {
			return second(c.CreateAssociationSchema(&crmv1.CreateAssociationSchemaRequest{SourceObject: "pet", TargetObject: "account", DisplayName: "X"}))
		}},
		{"ListRecords", true, func(c *client) error { return second(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"})) }},
		{"CreateRecord", true, func(c *client) error {
			return second(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: props}}))
		}},
		{"GetRecord", true, func(c *client) error {
			return second(c.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: ids.record}))
		}},
		{"UpdateRecord", true, func(c *client) error {
			return second(c.UpdateRecord(&crmv1.UpdateRecordRequest{ObjectName: "pet", Id: ids.record, Record: &crmv1.RecordInput{Properties: props}}))
		}},
		{"DeleteRecord", true, func(c *client) error {
			return second(c.DeleteRecord(&crmv1.DeleteRecordRequest{ObjectName: "pet", Id: ids.record}))
		}},
		{"SearchRecords", true, func(c *client) error {
			return second(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "Rex"}))
		}},
		{"CreateRelation", true, func(c *client) error {
			return second(c.CreateRelation(&crmv1.CreateRelationRequest{ObjectName: "pet", RecordId: ids.record, AssociationId: ids.association, TargetRecordId: ids.record}))
		}},
		{"ListRelations", true, func(c *client) error {
			return second(c.ListRelations(&crmv1.ListRelationsRequest{ObjectName: "pet", RecordId: ids.record}))
		}},
		{"DeleteRelation", true, func(c *client) error {
			return second(c.DeleteRelation(&crmv1.DeleteRelationRequest{RelationId: ids.relation}))
		}},
		{"ListContacts", true, func(c *client) error { return second(c.ListContacts(&crmv1.ListContactsRequest{})) }},
		{"CreateContact", true, func(c *client) error {
			return second(c.CreateContact(&crmv1.CreateContactRequest{Record: &crmv1.Contact{FirstName: "Rex"}}))
		}},
		{"GetContact", true, func(c *client) error { return second(c.GetContact(&crmv1.GetContactRequest{Id: ids.record})) }},
		{"UpdateContact", true, func(c *client) error {
			return second(c.UpdateContact(&crmv1.UpdateContactRequest{Id: ids.record, Record: &crmv1.Contact{FirstName: "Rex"}}))
		}},
		{"DeleteContact", true, func(c *client) error { return second(c.DeleteContact(&crmv1.DeleteContactRequest{Id: ids.record})) }},
		{"SearchContacts", true, func(c *client) error { return second(c.SearchContacts(&crmv1.SearchContactsRequest{Query: "Rex"})) }},
		{"CountContacts", true, func(c *client) error { return second(c.CountContacts(&crmv1.CountContactsRequest{})) }},
		{"BatchReadContacts", true, func(c *client) error {
			return second(c.BatchReadContacts(&crmv1.BatchReadContactsRequest{Ids: []string{ids.record}}))
		}},
		{"UpsertContact", true, func(c *client) error {
			return second(c.UpsertContact(&crmv1.UpsertContactRequest{UpsertOn: &crmv1.UpsertOn{Key: "email", Values: []string{"rex@example.com"}}, Record: &crmv1.Contact{FirstName: "Rex"}}))
		}},
		{"ListAccounts", true, func(c *client) error { return second(c.ListAccounts(&crmv1.ListAccountsRequest{})) }},
		{"CreateAccount", true, func(c *client) error {
			return second(c.CreateAccount(&crmv1.CreateAccountRequest{Record: &crmv1.Account{Name: "Rex Inc"}}))
		}},
		{"GetAccount", true, func(c *client) error { return second(c.GetAccount(&crmv1.GetAccountRequest{Id: ids.record})) }},
		{"UpdateAccount", true, func(c *client) error {
			return second(c.UpdateAccount(&crmv1.UpdateAccountRequest{Id: ids.record, Record: &crmv1.Account{Name: "Rex Inc"}}))
		}},
		{"DeleteAccount", true, func(c *client) error { return second(c.DeleteAccount(&crmv1.DeleteAccountRequest{Id: ids.record})) }},
		{"CountAccounts", true, func(c *client) error { return second(c.CountAccounts(&crmv1.CountAccountsRequest{})) }},
		{"BatchReadAccounts", true, func(c *client) error {
			return second(c.BatchReadAccounts(&crmv1.BatchReadAccountsRequest{Ids: []string{ids.record}}))
		}},
		{"UpsertAccount", true, func(c *client) error {
			return second(c.UpsertAccount(&crmv1.UpsertAccountRequest{UpsertOn: &crmv1.UpsertOn{Key: "domain", Values: []string{"rex.example"}}, Record: &crmv1.Account{Name: "Rex Inc"}}))
		}},
		{"ListOpportunities", true, func(c *client) error { return second(c.ListOpportunities(&crmv1.ListOpportunitiesRequest{})) }},
		{"CreateOpportunity", true, func(c *client) error {
			return second(c.CreateOpportunity(&crmv1.CreateOpportunityRequest{Record: &crmv1.Opportunity{Name: "Rex"}}))
		}},
		{"GetOpportunity", true, func(c *client) error { return second(c.GetOpportunity(&crmv1.GetOpportunityRequest{Id: ids.record})) }},
		{"UpdateOpportunity", true, func(c *client) error {
			return second(c.UpdateOpportunity(&crmv1.UpdateOpportunityRequest{Id: ids.record, Record: &crmv1.Opportunity{Name: "Rex"}}))
		}},
		{"DeleteOpportunity", true, func(c *client) error {
			return second(c.DeleteOpportunity(&crmv1.DeleteOpportunityRequest{Id: ids.record}))
		}},
		{"ListPipelines", true, func(c *client) error { return second(c.ListPipelines(&crmv1.ListPipelinesRequest{})) }},
		{"CountOpportunities", true, func(c *client) error {
			return second(c.CountOpportunities(&crmv1.CountOpportunitiesRequest{}))
		}},

		{"CreateConnectorConfig", false, func(c *client) error {
			return second(c.CreateConnectorConfig(&corev1.CreateConnectorConfigRequest{ConnectorName: "ghl", Config: st(t, map[string]any{"base_url": "http://127.0.0.1:9"})}))
		}},
		{"ListConnectorConfigs", false, func(c *client) error { return second(c.ListConnectorConfigs(&corev1.ListConnectorConfigsRequest{})) }},
		{"GetConnectorConfig", false, func(c *client) error {
			return second(c.GetConnectorConfig(&corev1.GetConnectorConfigRequest{Id: ids.config}))
		}},
		{"UpdateConnectorConfig", false, func(c *client) error {
			return second(c.UpdateConnectorConfig(&corev1.UpdateConnectorConfigRequest{Id: ids.config, Config: st(t, map[string]any{"base_url": "http://127.0.0.1:9"})}))
		}},
		{"DeleteConnectorConfig", false, func(c *client) error {
			return second(c.DeleteConnectorConfig(&corev1.DeleteConnectorConfigRequest{Id: ids.config}))
		}},
		{"CreateConnection", false, func(c *client) error {
			return second(c.CreateConnection(&corev1.CreateConnectionRequest{ConnectorConfigId: ids.config, CustomerId: "intruder",
				Settings: st(t, map[string]any{"location_id": "locX", "private_integration_token": "pit-intruder"})}))
		}},
		{"ListConnections", false, func(c *client) error { return second(c.ListConnections(&corev1.ListConnectionsRequest{})) }},
		{"GetConnection", false, func(c *client) error {
			return second(c.GetConnection(&corev1.GetConnectionRequest{Id: ids.connection}))
		}},
		{"UpdateConnection", false, func(c *client) error {
			return second(c.UpdateConnection(&corev1.UpdateConnectionRequest{Id: ids.connection, Settings: st(t, map[string]any{"location_id": "locX"})}))
		}},
		{"DeleteConnection", false, func(c *client) error {
			return second(c.DeleteConnection(&corev1.DeleteConnectionRequest{Id: ids.connection}))
		}},
		{"CheckConnection", false, func(c *client) error {
			return second(c.CheckConnection(&corev1.CheckConnectionRequest{Id: ids.connection}))
		}},
		{"GetConnectionRateLimit", false, func(c *client) error {
			return second(c.GetConnectionRateLimit(&corev1.GetConnectionRateLimitRequest{Id: ids.connection}))
		}},
		{"CreateAuthorizationUrl", false, func(c *client) error {
			return second(c.CreateAuthorizationUrl(&corev1.CreateAuthorizationUrlRequest{ConnectorName: "ghl", ConnectorConfigId: ids.config, CustomerId: "intruder"}))
		}},
		{"CreateLocationConnection", false, func(c *client) error {
			return second(c.CreateLocationConnection(&corev1.CreateLocationConnectionRequest{Id: ids.connection, LocationId: "locX"}))
		}},
	}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 1)
	before := e.f.TotalRequests()
	for _, tr := range transports {
		for _, rc := range allRPCs(t, rpcIDs{}) {
			t.Run(tr+"/"+rc.name, func(t *testing.T) {
				c := e.client(t, tr)
				for _, tc := range []struct {
					name, key, reason string
				}{
					{"missing key", "", "API_KEY_MISSING"},
					{"invalid key", "cgk_" + strings.Repeat("A", 43), "API_KEY_INVALID"},
					{"short key", "x", "API_KEY_INVALID"},
					{"huge key", strings.Repeat("k", 300), "API_KEY_INVALID"},
				} {
					err := wantCode(t, rc.call(c.as(tc.key, e.tn.connID)), codes.Unauthenticated)
					if err.reason != tc.reason || err.origin != "gateway" {
						t.Errorf("%s: %v, want reason %s from the gateway", tc.name, err, tc.reason)
					}
					if tr == REST && err.httpStatus != http.StatusUnauthorized {
						t.Errorf("%s: HTTP %d, want 401", tc.name, err.httpStatus)
					}
				}
			})
		}
	}
	if n := e.f.TotalRequests() - before; n != 0 {
		t.Errorf("unauthenticated calls made %d GHL requests", n)
	}
}

func TestConnectionIDHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 1)
	before := e.f.TotalRequests()
	for _, tr := range transports {
		for _, rc := range allRPCs(t, rpcIDs{}) {
			if !rc.crm {
				continue
			}
			t.Run(tr+"/"+rc.name, func(t *testing.T) {
				c := e.client(t, tr)
				err := wantCode(t, rc.call(c.as(e.tn.key, "")), codes.InvalidArgument)
				if err.reason != "CONNECTION_ID_MISSING" {
					t.Errorf("missing x-connection-id: %v", err)
				}
				for _, bad := range []string{"bad id", "conn/x", strings.Repeat("c", 129)} {
					err = wantCode(t, rc.call(c.as(e.tn.key, bad)), codes.InvalidArgument)
					if err.reason != "CONNECTION_ID_INVALID" {
						t.Errorf("x-connection-id %q: %v", bad, err)
					}
				}
				err = wantCode(t, rc.call(c.as(e.tn.key, "conn_ghl_nosuch")), codes.NotFound)
				if err.reason != "CONNECTION_NOT_FOUND" || err.origin != "gateway" {
					t.Errorf("unknown connection: %v", err)
				}
				if tr == REST && err.httpStatus != http.StatusNotFound {
					t.Errorf("unknown connection: HTTP %d", err.httpStatus)
				}
			})
		}
	}
	if n := e.f.TotalRequests() - before; n != 0 {
		t.Errorf("calls without a usable connection made %d GHL requests", n)
	}
}

// TestHeaderSpelling: REST headers are case-insensitive.
func TestHeaderSpelling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 1)
	r := e.g.do(t, "GET", crmBase+"/metadata/objects/pet", map[string]string{"X-APIKEY": e.tn.key, "X-Connection-Id": e.tn.connID}, nil)
	if r.status != 200 {
		t.Errorf("mixed-case headers: %d %s", r.status, r.raw)
	}
}

// testTenantIsolation: organisation B can neither use nor see organisation
// A's connector configs and connections, on any route.
func testTenantIsolation(t *testing.T, o gwOptions) {
	forEachTransport(t, func(t *testing.T, tr string) {
		f := newFake(t)
		g := newGateway(t, o)
		a := g.newTenant(t, f, "org-a", 2)
		b := g.newTenant(t, f, "org-b", 1)
		ca := g.client(t, tr, a.key, a.connID)
		aRecords := must(ca.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"}))(t).GetItems()
		ids := rpcIDs{record: aRecords[0].GetId(), config: a.configID, connection: a.connID}

		aRequests := f.TotalRequests()
		cb := g.client(t, tr, b.key, a.connID) // B's key, A's connection
		for _, rc := range allRPCs(t, ids) {
			if !rc.crm {
				continue
			}
			err := wantCode(t, rc.call(cb), codes.NotFound)
			if err.reason != "CONNECTION_NOT_FOUND" {
				t.Errorf("%s with another organisation's connection: %v", rc.name, err)
			}
		}
		if n := f.TotalRequests() - aRequests; n != 0 {
			t.Errorf("B's calls on A's connection made %d GHL requests", n)
		}

		bc := g.client(t, tr, b.key, b.connID)
		onA := func(t *testing.T, names ...string) {
			for _, rc := range allRPCs(t, ids) {
				if !slices.Contains(names, rc.name) {
					continue
				}
				err := asAPIError(rc.call(bc.withT(t)))
				if err == nil || err.code != codes.NotFound {
					t.Errorf("%s by organisation B on A's resources: %v, want NotFound", rc.name, err)
				} else if tr == REST && err.httpStatus != 404 {
					t.Errorf("%s on A's resources: HTTP %d", rc.name, err.httpStatus)
				}
			}
		}
		onA(t, "GetConnectorConfig", "UpdateConnectorConfig", "DeleteConnectorConfig", "CreateConnection",
			"GetConnection", "UpdateConnection", "DeleteConnection", "CheckConnection")
		// RPCs added to core.proto later (GetConnectionRateLimit,
		// CreateAuthorizationUrl, CreateLocationConnection) must isolate
		// tenants too.
		t.Run("new core RPCs", func(t *testing.T) {
			onA(t, "GetConnectionRateLimit", "CreateAuthorizationUrl", "CreateLocationConnection")
		})
		// B's own record space is B's location: A's record is not there.
		wantCode(t, second(bc.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: aRecords[0].GetId()})), codes.NotFound)

		// B's lists do not show A's resources.
		for _, x := range must(bc.ListConnectorConfigs(&corev1.ListConnectorConfigsRequest{}))(t).GetItems() {
			if x.GetId() == a.configID {
				t.Errorf("B lists A's connector config")
			}
		}
		var bConns []string
		for _, x := range must(bc.ListConnections(&corev1.ListConnectionsRequest{}))(t).GetItems() {
			bConns = append(bConns, x.GetId())
		}
		if !slices.Equal(bConns, []string{b.connID}) {
			t.Errorf("B's connections = %v, want only %s", bConns, b.connID)
		}
		if n := len(must(bc.ListConnections(&corev1.ListConnectionsRequest{CustomerId: a.customerID}))(t).GetItems()); n != 0 {
			t.Errorf("B lists %d connections of A's customer", n)
		}
		if n := len(must(bc.ListConnections(&corev1.ListConnectionsRequest{ConnectorConfigId: a.configID}))(t).GetItems()); n != 0 {
			t.Errorf("B lists %d connections of A's config", n)
		}

		// A's resources are intact.
		must(ca.GetConnectorConfig(&corev1.GetConnectorConfigRequest{Id: a.configID}))(t)
		conn := must(ca.GetConnection(&corev1.GetConnectionRequest{Id: a.connID}))(t).GetConnection()
		if settingStrings(conn)["location_id"] != a.location {
			t.Errorf("A's connection changed: %v", conn)
		}
		if n := len(must(ca.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"}))(t).GetItems()); n != 2 {
			t.Errorf("A sees %d records", n)
		}
		if chk := must(ca.CheckConnection(&corev1.CheckConnectionRequest{Id: a.connID}))(t); !chk.GetOk() {
			t.Errorf("A's check = %v", chk)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	testTenantIsolation(t, gwOptions{})
}
