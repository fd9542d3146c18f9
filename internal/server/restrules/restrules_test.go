package restrules

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	_ "google.golang.org/protobuf/types/known/timestamppb" // google/protobuf/timestamp.proto in the global registry

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

func crmgateRoutes(t *testing.T) []Route {
	t.Helper()
	routes, err := Routes(crmv1.File_crmgate_crm_v1_crm_proto, corev1.File_crmgate_core_v1_core_proto)
	if err != nil {
		t.Fatal(err)
	}
	return routes
}

func find(t *testing.T, routes []Route, rpc string) Route {
	t.Helper()
	for _, r := range routes {
		if strings.HasSuffix(r.RPC, "."+rpc) {
			return r
		}
	}
	t.Fatalf("no route of %s", rpc)
	return Route{}
}

// TestCrmgateQuery: the accepted query parameters of crmgate's routes are
// the request fields bound to neither the path nor the body.
func TestCrmgateQuery(t *testing.T) {
	routes := crmgateRoutes(t)
	for _, tc := range []struct {
		rpc, method, template string
		query                 []string
	}{
		{"ListRecords", "GET", "/v0/unified/crm/custom_objects/{object_name}", []string{"cursor", "include_raw_data", "page_size"}},
		{"GetRecord", "GET", "/v0/unified/crm/custom_objects/{object_name}/{id}", []string{"include_raw_data"}},
		{"CreateRecord", "POST", "/v0/unified/crm/custom_objects/{object_name}", nil},                        // body "*"
		{"UpdateObject", "PATCH", "/v0/unified/crm/metadata/objects/{object_name}", []string{"update_mask"}}, // body "object"
		{"UpdateProperty", "PATCH", "/v0/unified/crm/metadata/objects/{object_name}/properties/{property_id}", []string{"update_mask"}},
		{"ListObjects", "GET", "/v0/unified/crm/metadata/objects", []string{"cursor", "include_raw_data", "page_size", "type"}},
		{"DeleteRelation", "DELETE", "/v0/unified/crm/relations/{relation_id}", nil},
		{"ListConnections", "GET", "/v0/core/connections", []string{"connector_config_id", "cursor", "customer_id", "page_size"}},
		{"ListConnectorConfigs", "GET", "/v0/core/connector_configs", []string{"cursor", "page_size"}},
		{"GetConnection", "GET", "/v0/core/connections/{id}", nil},
	} {
		r := find(t, routes, tc.rpc)
		if r.Method != tc.method || r.Template != tc.template || !slices.Equal(r.Query, tc.query) {
			t.Errorf("%s: %s %s query %v, want %s %s query %v", tc.rpc, r.Method, r.Template, r.Query, tc.method, tc.template, tc.query)
		}
	}
	for _, r := range routes {
		if strings.HasSuffix(r.RPC, ".StreamRecords") {
			t.Errorf("the gRPC-only stream has a REST route: %+v", r)
		}
	}
}

// testFile is a proto file with the shapes crmgate's protos do not have
// yet: nested messages, maps, repeated fields, a body field.
func testFile(t *testing.T, templates map[string]string) protoreflect.FileDescriptor {
	t.Helper()
	field := func(name string, n int32, typ descriptorpb.FieldDescriptorProto_Type, label descriptorpb.FieldDescriptorProto_Label, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Type: typ.Enum(), Label: label.Enum(), JsonName: proto.String(jsonName(name))}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	const (
		opt = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
		rep = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
		str = descriptorpb.FieldDescriptorProto_TYPE_STRING
		msg = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
		i32 = descriptorpb.FieldDescriptorProto_TYPE_INT32
	)
	fd := &descriptorpb.FileDescriptorProto{
		Name: proto.String("restrules_test.proto"), Package: proto.String("t"), Syntax: proto.String("proto3"),
		Dependency: []string{"google/protobuf/timestamp.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Req"), Field: []*descriptorpb.FieldDescriptorProto{
				field("thing_id", 1, str, opt, ""),
				field("inner", 2, msg, opt, ".t.Inner"),
				field("labels", 3, msg, rep, ".t.Req.LabelsEntry"),
				field("tags", 4, str, rep, ""),
				field("items", 5, msg, rep, ".t.Inner"),
				field("since", 6, msg, opt, ".google.protobuf.Timestamp"),
				field("payload", 7, msg, opt, ".t.Inner"),
			}, NestedType: []*descriptorpb.DescriptorProto{{
				Name: proto.String("LabelsEntry"), Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
				Field: []*descriptorpb.FieldDescriptorProto{field("key", 1, str, opt, ""), field("value", 2, str, opt, "")},
			}}},
			{Name: proto.String("Inner"), Field: []*descriptorpb.FieldDescriptorProto{
				field("page_size", 1, i32, opt, ""),
				field("deep", 2, msg, opt, ".t.Deep"),
			}},
			{Name: proto.String("Deep"), Field: []*descriptorpb.FieldDescriptorProto{field("b", 1, str, opt, "")}},
			{Name: proto.String("Resp")},
		},
	}
	svc := &descriptorpb.ServiceDescriptorProto{Name: proto.String("Svc")}
	for _, name := range []string{"Get", "Patch", "Post", "Other"} {
		tmpl, ok := templates[name]
		if !ok {
			continue
		}
		m := &descriptorpb.MethodDescriptorProto{Name: proto.String(name), InputType: proto.String(".t.Req"), OutputType: proto.String(".t.Resp"), Options: &descriptorpb.MethodOptions{}}
		var rule *annotations.HttpRule
		switch name {
		case "Get", "Other":
			rule = &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: tmpl}}
		case "Patch":
			rule = &annotations.HttpRule{Pattern: &annotations.HttpRule_Patch{Patch: tmpl}, Body: "payload"}
		case "Post":
			rule = &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: tmpl}, Body: "*"}
		}
		proto.SetExtension(m.Options, annotations.E_Http, rule)
		svc.Method = append(svc.Method, m)
	}
	fd.Service = []*descriptorpb.ServiceDescriptorProto{svc}
	f, err := protodesc.NewFile(fd, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func jsonName(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

// TestQueryRule: nested singular messages are flattened with dots, maps
// take name[key], repeated scalars and well-known types are one parameter,
// repeated messages and fields bound to the path or the body are not
// parameters; JSON names are accepted as grpc-gateway reads them.
func TestQueryRule(t *testing.T) {
	routes, err := Routes(testFile(t, map[string]string{
		"Get": "/v1/things/{thing_id}", "Patch": "/v1/things/{thing_id}", "Post": "/v1/things",
	}))
	if err != nil {
		t.Fatal(err)
	}
	get, patch, post := find(t, routes, "Get"), find(t, routes, "Patch"), find(t, routes, "Post")
	wantGet := []string{"inner.deep.b", "inner.page_size", "labels", "payload.deep.b", "payload.page_size", "since", "tags"}
	if !slices.Equal(get.Query, wantGet) {
		t.Errorf("GET query %v, want %v", get.Query, wantGet)
	}
	wantPatch := []string{"inner.deep.b", "inner.page_size", "labels", "since", "tags"}
	if !slices.Equal(patch.Query, wantPatch) {
		t.Errorf("PATCH (body payload) query %v, want %v", patch.Query, wantPatch)
	}
	if len(post.Query) != 0 {
		t.Errorf("POST (body *) query %v, want none", post.Query)
	}
	for _, tc := range []struct {
		route   Route
		query   string
		unknown []string
	}{
		{get, "", nil},
		{get, "inner.page_size=3&tags=a&tags=b&since=2024-01-01T00:00:00Z", nil},
		{get, "inner.pageSize=3&inner.deep.b=x&payload.deep.b=y", nil}, // JSON names too
		{get, "labels[a]=1&labels%5Bb%5D=2&labels=c", nil},
		{get, "thing_id=x", []string{"thing_id"}}, // bound to the path
		{get, "thingId=x", []string{"thingId"}},
		{get, "inner=x&items.page_size=1&nope=1&inner.nope=2", []string{"inner", "inner.nope", "items.page_size", "nope"}},
		{get, "tags[a]=1&Inner.page_size=1&page_size=1", []string{"Inner.page_size", "page_size", "tags[a]"}},
		{patch, "payload.page_size=1&since=2024-01-01T00:00:00Z", []string{"payload.page_size"}},
		{post, "tags=a", []string{"tags"}},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		if got := tc.route.Unknown(q); !slices.Equal(got, tc.unknown) {
			t.Errorf("%s %s?%s: unknown %v, want %v", tc.route.Method, tc.route.Template, tc.query, got, tc.unknown)
		}
	}
}

// TestUnsupportedTemplates: templates the rules cannot read fail at
// start-up.
func TestUnsupportedTemplates(t *testing.T) {
	for _, tmpl := range []string{"/v1/{thing_id=things/*}", "/v1/things/{thing_id}:", "/v1/**", "v1/things", "/v1/{Thing}"} {
		if _, err := Routes(testFile(t, map[string]string{"Get": tmpl})); err == nil {
			t.Errorf("template %q accepted", tmpl)
		}
	}
}

// TestAllow: the methods of the routes whose template fits a path.
func TestAllow(t *testing.T) {
	tab := NewTable(crmgateRoutes(t))
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/v0/core/connections", []string{"GET", "POST"}},
		{"/v0/core/connections/abc", []string{"DELETE", "GET", "PATCH"}},
		{"/v0/core/connections/abc/check", []string{"POST"}},
		{"/v0/unified/crm/custom_objects/pet", []string{"GET", "POST"}},
		{"/v0/unified/crm/custom_objects/pet/_search", []string{"DELETE", "GET", "PATCH", "POST"}}, // a record id "_search" too
		{"/v0/unified/crm/custom_objects/pet/abc", []string{"DELETE", "GET", "PATCH"}},
		{"/v0/unified/crm/custom_objects/pet/a%2Fb", []string{"DELETE", "GET", "PATCH"}},
		{"/v0/unified/crm/relations/r1", []string{"DELETE"}},
		{"/v0/unified/crm/custom_objects//abc", nil},
		{"/v0/nope", nil},
		{"/v0/core/connections/abc/", nil},
		{"", nil},
	} {
		if got := tab.Allow(tc.path); !slices.Equal(got, tc.want) {
			t.Errorf("Allow(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

// TestVerb: a custom verb ("/v1/things/{id}:run") is part of the route.
func TestVerb(t *testing.T) {
	routes, err := Routes(testFile(t, map[string]string{"Get": "/v1/things/{thing_id}", "Post": "/v1/things/{thing_id}:run"}))
	if err != nil {
		t.Fatal(err)
	}
	tab := NewTable(routes)
	if _, ok := tab.Lookup("POST", "/v1/things/{thing_id=*}:run"); !ok {
		t.Error("no POST /v1/things/{thing_id=*}:run")
	}
	for path, want := range map[string][]string{
		"/v1/things/a:run": {"GET", "POST"}, // also GET of the thing "a:run"
		"/v1/things/a":     {"GET"},
		"/v1/things/:run":  {"GET"},
		"/v1/things/a:jog": {"GET"},
	} {
		if got := tab.Allow(path); !slices.Equal(got, want) {
			t.Errorf("Allow(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestLookup: a route is found by grpc-gateway's pattern string.
func TestLookup(t *testing.T) {
	tab := NewTable(crmgateRoutes(t))
	r, ok := tab.Lookup("GET", "/v0/unified/crm/custom_objects/{object_name=*}/{id=*}")
	if !ok || !strings.HasSuffix(r.RPC, ".GetRecord") {
		t.Errorf("Lookup GetRecord: %v %v", r, ok)
	}
	if _, ok := tab.Lookup("PUT", "/v0/unified/crm/custom_objects/{object_name=*}/{id=*}"); ok {
		t.Error("Lookup found a PUT route")
	}
}
