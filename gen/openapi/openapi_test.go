package openapi_test

import (
	"context"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	adminv1 "github.com/crmgate/crmgate/gen/crmgate/admin/v1"
	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/gen/openapi"
	"github.com/crmgate/crmgate/internal/server/restrules"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.JSON)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func routes(t *testing.T) []restrules.Route {
	t.Helper()
	r, err := restrules.Routes(crmv1.File_crmgate_crm_v1_crm_proto, corev1.File_crmgate_core_v1_core_proto, adminv1.File_crmgate_admin_v1_admin_proto)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type operation struct {
	method, path string
	op           *openapi3.Operation
}

func operations(doc *openapi3.T) []operation {
	var out []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out = append(out, operation{method, path, op})
		}
	}
	return out
}

// TestValid: the document is OpenAPI 3, titled and versioned, and valid
// for kin-openapi (schemas, references, parameters, and the examples
// against their schemas).
func TestValid(t *testing.T) {
	doc := load(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q, want 3.x", doc.OpenAPI)
	}
	if doc.Info == nil || doc.Info.Title != "crmgate API" || doc.Info.Version == "" || doc.Info.Version == "version not set" {
		t.Errorf("info %+v", doc.Info)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) == 0 {
		t.Error("no servers")
	}
}

var variable = regexp.MustCompile(`\{[a-z_.]+\}`)

// TestEveryRouteDocumented: every REST route of the protos' google.api.http
// rules is an operation of the document, found by kin-openapi's router
// for a concrete URL, with the RPC's operation id and exactly the query
// parameters the gateway accepts (restrules); the document has no other
// operation.
func TestEveryRouteDocumented(t *testing.T) {
	doc := load(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	rs := routes(t)
	for _, r := range rs {
		path := variable.ReplaceAllString(r.Template, "abc123")
		route, _, err := router.FindRoute(httptest.NewRequest(r.Method, "http://localhost:8080"+path, nil))
		if err != nil {
			t.Errorf("%s %s (%s): %v", r.Method, path, r.RPC, err)
			continue
		}
		parts := strings.Split(r.RPC, ".")
		if want := parts[len(parts)-2] + "_" + parts[len(parts)-1]; route.Operation.OperationID != want {
			t.Errorf("%s %s: operation %s, want %s", r.Method, path, route.Operation.OperationID, want)
		}
		var query []string
		for _, p := range route.Operation.Parameters {
			if p.Value.In == openapi3.ParameterInQuery {
				query = append(query, p.Value.Name)
			}
		}
		slices.Sort(query)
		if !slices.Equal(query, r.Query) {
			t.Errorf("%s %s: documented query parameters %v, the gateway accepts %v", r.Method, r.Template, query, r.Query)
		}
	}
	if n := len(operations(doc)); n != len(rs) {
		t.Errorf("%d operations in the document, %d REST routes", n, len(rs))
	}
}

// TestErrorResponses: every operation declares its error answers, each
// with the one Error schema and an example.
func TestErrorResponses(t *testing.T) {
	doc := load(t)
	errSchema := doc.Components.Schemas["Error"]
	if errSchema == nil || errSchema.Value.Properties["details"] == nil {
		t.Fatal("no Error schema")
	}
	for _, o := range operations(doc) {
		want := []string{"400", "401", "403", "404", "429", "500", "503", "504"}
		if o.op.RequestBody != nil {
			want = append(want, "413")
		}
		if o.method != "GET" {
			want = append(want, "409")
		}
		if strings.HasPrefix(o.path, "/v0/unified/") {
			want = append(want, "501")
		}
		for _, s := range want {
			if o.op.Responses.Value(s) == nil {
				t.Errorf("%s %s: no %s response", o.method, o.path, s)
			}
		}
		for s, r := range o.op.Responses.Map() {
			if strings.HasPrefix(s, "2") {
				continue
			}
			mt := r.Value.Content.Get("application/json")
			if mt == nil || mt.Schema.Ref != "#/components/schemas/Error" || mt.Schema.Value != errSchema.Value || len(mt.Examples) == 0 {
				t.Errorf("%s %s %s: not the Error schema with examples", o.method, o.path, s)
			}
		}
	}
}

// TestSecurity: clients generated from the document must send the headers
// the gateway needs — x-apikey everywhere but /v0/admin, x-connection-id on
// every unified CRM route, x-admin-key (alone) on every admin route
// (proto/openapi.yaml lists those per method; a new CrmService or
// AdminService method needs its entry there).
func TestSecurity(t *testing.T) {
	doc := load(t)
	for name, header := range map[string]string{"ApiKey": "x-apikey", "ConnectionId": "x-connection-id", "AdminKey": "x-admin-key"} {
		s := doc.Components.SecuritySchemes[name]
		if s == nil || s.Value.Type != "apiKey" || s.Value.In != "header" || s.Value.Name != header {
			t.Errorf("securitySchemes.%s = %+v, want apiKey in header %s", name, s, header)
		}
	}
	if len(doc.Security) != 1 || doc.Security[0]["ApiKey"] == nil || len(doc.Security[0]) != 1 {
		t.Errorf("top-level security = %v, want [{ApiKey}]", doc.Security)
	}
	admin := 0
	for _, o := range operations(doc) {
		sec := doc.Security
		if o.op.Security != nil {
			sec = *o.op.Security
		}
		if strings.HasPrefix(o.path, "/v0/admin/") {
			admin++
			if len(sec) != 1 || len(sec[0]) != 1 || sec[0]["AdminKey"] == nil {
				t.Errorf("%s %s (%s): security %v; want AdminKey only (add the method to proto/openapi.yaml)", o.method, o.path, o.op.OperationID, sec)
			}
			continue
		}
		needsConn := strings.HasPrefix(o.path, "/v0/unified/")
		if ok := len(sec) == 1 && sec[0]["ApiKey"] != nil && sec[0]["AdminKey"] == nil && (sec[0]["ConnectionId"] != nil) == needsConn; !ok {
			t.Errorf("%s %s (%s): security %v; want ApiKey%s", o.method, o.path, o.op.OperationID, sec,
				map[bool]string{true: " and ConnectionId (add the method to proto/openapi.yaml)", false: " only"}[needsConn])
		}
	}
	if admin == 0 {
		t.Error("no /v0/admin operation")
	}
}

// unpaged are the lists answered whole, with the reason.
var unpaged = map[string]string{
	"CrmService_BatchReadContacts": "not a list: the contacts of at most 100 ids the caller names",
	"CrmService_BatchReadAccounts": "not a list: the accounts of at most 100 ids the caller names",
}

// TestPagination: every list is paged the one way — page_size and cursor
// in (query or search body), items, next_cursor and has_next_page out —
// unless listed in unpaged with its reason.
func TestPagination(t *testing.T) {
	doc := load(t)
	paged := 0
	for _, o := range operations(doc) {
		ok := o.op.Responses.Value("200")
		if ok == nil {
			continue
		}
		out := ok.Value.Content.Get("application/json").Schema.Value
		if out.Properties["items"] == nil || out.Properties["items"].Value.Type.Is("array") == false {
			continue
		}
		if out.Properties["next_cursor"] == nil {
			if _, listed := unpaged[o.op.OperationID]; !listed {
				t.Errorf("%s (%s %s) lists items without next_cursor", o.op.OperationID, o.method, o.path)
			}
			continue
		}
		paged++
		if out.Properties["has_next_page"] == nil {
			t.Errorf("%s: next_cursor without has_next_page", o.op.OperationID)
		}
		in := map[string]bool{}
		for _, p := range o.op.Parameters {
			if p.Value.In == openapi3.ParameterInQuery {
				in[p.Value.Name] = true
			}
		}
		if o.op.RequestBody != nil {
			for name := range o.op.RequestBody.Value.Content.Get("application/json").Schema.Value.Properties {
				in[name] = true
			}
		}
		if !in["cursor"] || !in["page_size"] {
			t.Errorf("%s (%s %s): paged answer without cursor and page_size parameters", o.op.OperationID, o.method, o.path)
		}
	}
	if paged < 7 { // the CRM's records, search and relations; Core's configs and connections; admin's organisations and keys
		t.Errorf("only %d paged lists", paged)
	}
}
