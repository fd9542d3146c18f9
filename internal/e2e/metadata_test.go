package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

func st(t testing.TB, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatalf("structpb: %v", err)
	}
	return s
}

func objectNames(items []*crmv1.Object) []string {
	var out []string
	for _, o := range items {
		out = append(out, o.GetName())
	}
	slices.Sort(out)
	return out
}

func propertyIDs(items []*crmv1.Property) []string {
	var out []string
	for _, p := range items {
		out = append(out, p.GetId())
	}
	slices.Sort(out)
	return out
}

func findProperty(items []*crmv1.Property, id string) *crmv1.Property {
	for _, p := range items {
		if p.GetId() == id {
			return p
		}
	}
	return nil
}

func optionValues(p *crmv1.Property) []string {
	var out []string
	for _, o := range p.GetOptions() {
		out = append(out, o.GetValue())
	}
	return out
}

// vehicleObject is an OpenInt create-object body with fields of many types.
func vehicleObject(name string) *crmv1.CreateObjectRequest {
	return &crmv1.CreateObjectRequest{
		Name:           name,
		Description:    "Cars and bikes",
		Labels:         &crmv1.Labels{Singular: "Vehicle", Plural: "Vehicles"},
		PrimaryFieldId: "model",
		Fields: []*crmv1.Property{
			{Id: "model", Label: "Model", Type: "text"},
			{Id: "wheels", Label: "Wheels", Type: "number"},
			{Id: "fuel", Label: "Fuel", Type: "picklist", Options: []*crmv1.Option{
				{Label: "Petrol", Value: "petrol"}, {Label: "Diesel", Value: "diesel"}, {Label: "Electric", Value: "electric"},
			}},
			{Id: "extras", Label: "Extras", Type: "multipicklist", Options: []*crmv1.Option{
				{Label: "Sunroof", Value: "sunroof"}, {Label: "Tow bar", Value: "tow_bar"},
			}},
			{Id: "bought", Label: "Bought on", Type: "date"},
			{Id: "price", Label: "Price", Type: "currency"},
			{Id: "notes", Label: "Notes", Type: "textarea", Description: "Anything else"},
			{Id: "dealer_email", Label: "Dealer email", Type: "email"},
			{Id: "dealer_phone", Label: "Dealer phone", Type: "phone"},
		},
	}
}

func TestListObjects(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 0)
		c := e.client(t, tr)
		for _, tc := range []struct {
			typ  string
			want []string
		}{
			{"", []string{"account", "contact", "opportunity", "pet"}},
			{"custom", []string{"pet"}},
			{"standard", []string{"account", "contact", "opportunity"}},
		} {
			r := must(c.ListObjects(&crmv1.ListObjectsRequest{Type: tc.typ}))(t)
			if got := objectNames(r.GetItems()); !slices.Equal(got, tc.want) {
				t.Errorf("type=%q: objects %v, want %v", tc.typ, got, tc.want)
			}
			for _, o := range r.GetItems() {
				if tc.typ != "" && o.GetType() != tc.typ {
					t.Errorf("type=%q: object %s has type %q", tc.typ, o.GetName(), o.GetType())
				}
				if o.GetRawData() != nil {
					t.Errorf("raw_data returned without include_raw_data for %s", o.GetName())
				}
			}
		}
		raw := must(c.ListObjects(&crmv1.ListObjectsRequest{IncludeRawData: true}))(t)
		for _, o := range raw.GetItems() {
			if o.GetRawData().GetFields()["key"] == nil {
				t.Errorf("include_raw_data: object %s has no raw key: %v", o.GetName(), o.GetRawData())
			}
		}
		e1 := wantCode(t, second(c.ListObjects(&crmv1.ListObjectsRequest{Type: "bad"})), codes.InvalidArgument)
		if !e1.hasField("type") || e1.origin != "gateway" {
			t.Errorf("type=bad: %v, want a violation of field type from the gateway", e1)
		}
	})
}

// second drops the first of two results.
func second[T any](_ T, err error) error { return err }

func TestCreateObject(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 0)
		c := e.client(t, tr)
		req := vehicleObject("vehicle")
		created := must(c.CreateObject(req))(t).GetObject()
		if created.GetName() != "vehicle" || created.GetType() != "custom" ||
			created.GetLabels().GetSingular() != "Vehicle" || created.GetLabels().GetPlural() != "Vehicles" ||
			created.GetDescription() != "Cars and bikes" || created.GetPrimaryFieldId() != "model" {
			t.Errorf("created object = %v", created)
		}
		if created.GetCreatedAt() == nil {
			t.Errorf("created object has no created_at")
		}

		got := must(c.GetObject(&crmv1.GetObjectRequest{ObjectName: "vehicle"}))(t).GetObject()
		if got.GetName() != "vehicle" || got.GetPrimaryFieldId() != "model" || got.GetLabels().GetPlural() != "Vehicles" {
			t.Errorf("get object = %v", got)
		}
		list := must(c.ListObjects(&crmv1.ListObjectsRequest{Type: "custom"}))(t)
		if got := objectNames(list.GetItems()); !slices.Equal(got, []string{"pet", "vehicle"}) {
			t.Errorf("custom objects after create: %v (the object list cache must be invalidated)", got)
		}

		props := must(c.ListProperties(&crmv1.ListPropertiesRequest{ObjectName: "vehicle"}))(t).GetItems()
		wantTypes := map[string]string{}
		for _, f := range req.GetFields() {
			wantTypes[f.GetId()] = f.GetType()
		}
		if len(props) != len(wantTypes) {
			t.Errorf("properties %v, want %d", propertyIDs(props), len(wantTypes))
		}
		for id, typ := range wantTypes {
			p := findProperty(props, id)
			if p == nil {
				t.Errorf("property %s missing", id)
				continue
			}
			if p.GetType() != typ {
				t.Errorf("property %s has type %q, want %q", id, p.GetType(), typ)
			}
		}
		if p := findProperty(props, "fuel"); !slices.Equal(optionValues(p), []string{"petrol", "diesel", "electric"}) {
			t.Errorf("fuel options = %v", optionValues(p))
		}
		if p := findProperty(props, "notes"); p.GetDescription() != "Anything else" || p.GetLabel() != "Notes" {
			t.Errorf("notes = %v", p)
		}

		// The new schema validates records.
		rec := must(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "vehicle", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{
			"model": "Model T", "wheels": 4, "fuel": "petrol", "extras": []any{"sunroof"}, "bought": "1920-05-01",
			"price": map[string]any{"currency": "default", "value": 850}, "dealer_email": "sales@example.com",
		})}}))(t).GetRecord()
		if rec.GetObjectName() != "vehicle" || rec.GetProperties().AsMap()["model"] != "Model T" {
			t.Errorf("record of new object = %v", rec)
		}
		err := wantCode(t, second(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "vehicle", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{
			"model": "X", "fuel": "coal",
		})}})), codes.InvalidArgument)
		if !err.hasField("record.properties.fuel") {
			t.Errorf("bad option of new object: %v", err)
		}

		// Creating it again conflicts at the provider.
		dup := asAPIError(second(c.CreateObject(vehicleObject("vehicle"))))
		if dup == nil || dup.code == codes.OK {
			t.Fatalf("duplicate object created")
		}
		if dup.code != codes.InvalidArgument && dup.code != codes.AlreadyExists {
			t.Errorf("duplicate object: %v", dup)
		}
	})
}

func TestCreateObjectValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 0)
	for _, tc := range []struct {
		name  string
		edit  func(r *crmv1.CreateObjectRequest)
		field string
	}{
		{"bad name", func(r *crmv1.CreateObjectRequest) { r.Name = "Bad Name" }, "name"},
		{"no labels", func(r *crmv1.CreateObjectRequest) { r.Labels = nil }, "labels.singular"},
		{"no fields", func(r *crmv1.CreateObjectRequest) { r.Fields = nil }, "fields"},
		{"bad field type", func(r *crmv1.CreateObjectRequest) { r.Fields[1].Type = "rainbow" }, "fields[1].type"},
		{"picklist without options", func(r *crmv1.CreateObjectRequest) { r.Fields[2].Options = nil }, "fields[2].options"},
		{"duplicate field", func(r *crmv1.CreateObjectRequest) { r.Fields[1].Id = "model" }, "fields[1].id"},
		{"primary not a field", func(r *crmv1.CreateObjectRequest) { r.PrimaryFieldId = "nope" }, "primary_field_id"},
	} {
		for _, tr := range transports {
			t.Run(tc.name+"/"+tr, func(t *testing.T) {
				before := e.f.TotalRequests()
				req := vehicleObject("car_" + randHex(4))
				tc.edit(req)
				err := wantCode(t, second(e.client(t, tr).CreateObject(req)), codes.InvalidArgument)
				if !err.hasField(tc.field) || err.origin != "gateway" {
					t.Errorf("violations %v (origin %s), want field %s from the gateway", err.fields(), err.origin, tc.field)
				}
				if n := e.f.TotalRequests() - before; n != 0 {
					t.Errorf("the fake got %d requests for an invalid object", n)
				}
			})
		}
	}
}

func TestGetObject(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 0)
		c := e.client(t, tr)
		o := must(c.GetObject(&crmv1.GetObjectRequest{ObjectName: "pet"}))(t).GetObject()
		if o.GetName() != "pet" || o.GetType() != "custom" || o.GetLabels().GetSingular() != "Pet" ||
			o.GetLabels().GetPlural() != "Pets" || o.GetPrimaryFieldId() != "name" ||
			o.GetDescription() != "Sample custom object seeded by ghlfake" || o.GetRawData() != nil {
			t.Errorf("pet = %v", o)
		}
		acc := must(c.GetObject(&crmv1.GetObjectRequest{ObjectName: "account"}))(t).GetObject()
		if acc.GetName() != "account" || acc.GetType() != "standard" {
			t.Errorf("account = %v", acc)
		}
		raw := must(c.GetObject(&crmv1.GetObjectRequest{ObjectName: "pet", IncludeRawData: true}))(t).GetObject()
		if k := raw.GetRawData().GetFields()["key"].GetStringValue(); k != "custom_objects.pet" {
			t.Errorf("raw_data.key = %q, want custom_objects.pet (raw %v)", k, raw.GetRawData())
		}

		for _, name := range []string{"nosuch", "ghost_object"} {
			err := wantCode(t, second(c.GetObject(&crmv1.GetObjectRequest{ObjectName: name})), codes.NotFound)
			if err.httpStatus != 0 && err.httpStatus != http.StatusNotFound {
				t.Errorf("unknown object: HTTP %d", err.httpStatus)
			}
			wantCode(t, second(c.ListProperties(&crmv1.ListPropertiesRequest{ObjectName: name})), codes.NotFound)
			wantCode(t, second(c.UpdateObject(&crmv1.UpdateObjectRequest{ObjectName: name, Object: &crmv1.ObjectUpdate{Description: "x"}})), codes.NotFound)
			wantCode(t, second(c.GetProperty(&crmv1.GetPropertyRequest{ObjectName: name, PropertyId: "name"})), codes.NotFound)
			wantCode(t, second(c.CreateProperty(&crmv1.CreatePropertyRequest{ObjectName: name, Property: &crmv1.Property{Id: "x", Label: "X", Type: "text"}})), codes.NotFound)
		}
		for _, name := range []string{"Pet", "my pet", "pet!", "1pet"} {
			err := wantCode(t, second(c.GetObject(&crmv1.GetObjectRequest{ObjectName: name})), codes.InvalidArgument)
			if !err.hasField("object_name") {
				t.Errorf("object %q: %v, want a violation of object_name", name, err)
			}
		}
	})
}

func TestUpdateObject(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 0)
		c := e.client(t, tr)
		get := func() *crmv1.Object {
			t.Helper()
			return must(c.GetObject(&crmv1.GetObjectRequest{ObjectName: "pet"}))(t).GetObject()
		}
		get() // warm the schema cache: updates must invalidate it

		u := must(c.UpdateObject(&crmv1.UpdateObjectRequest{ObjectName: "pet", Object: &crmv1.ObjectUpdate{
			Labels: &crmv1.Labels{Singular: "Animal", Plural: "Animals"}, Description: "Our animals",
		}}))(t).GetObject()
		if u.GetLabels().GetSingular() != "Animal" || u.GetLabels().GetPlural() != "Animals" || u.GetDescription() != "Our animals" {
			t.Errorf("updated = %v", u)
		}
		if g := get(); g.GetLabels().GetSingular() != "Animal" || g.GetDescription() != "Our animals" {
			t.Errorf("get after update = %v (stale cache?)", g)
		}

		// Only what is set changes.
		u = must(c.UpdateObject(&crmv1.UpdateObjectRequest{ObjectName: "pet", Object: &crmv1.ObjectUpdate{Description: "Only the description"}}))(t).GetObject()
		if u.GetLabels().GetSingular() != "Animal" || u.GetLabels().GetPlural() != "Animals" || u.GetDescription() != "Only the description" {
			t.Errorf("description-only update = %v", u)
		}
		u = must(c.UpdateObject(&crmv1.UpdateObjectRequest{ObjectName: "pet", Object: &crmv1.ObjectUpdate{Labels: &crmv1.Labels{Plural: "Critters"}}}))(t).GetObject()
		if u.GetLabels().GetSingular() != "Animal" || u.GetLabels().GetPlural() != "Critters" || u.GetDescription() != "Only the description" {
			t.Errorf("plural-only update = %v", u)
		}
		// An explicit mask clears the description.
		u = must(c.UpdateObject(&crmv1.UpdateObjectRequest{ObjectName: "pet", Object: &crmv1.ObjectUpdate{},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}}}))(t).GetObject()
		if u.GetDescription() != "" || u.GetLabels().GetPlural() != "Critters" {
			t.Errorf("mask [description] with empty description = %v, want it cleared", u)
		}
		if g := get(); g.GetDescription() != "" {
			t.Errorf("get after clearing description = %v", g)
		}

		wantCode(t, second(c.UpdateObject(&crmv1.UpdateObjectRequest{ObjectName: "pet", Object: &crmv1.ObjectUpdate{}})), codes.InvalidArgument)
		wantCode(t, second(c.UpdateObject(&crmv1.UpdateObjectRequest{ObjectName: "pet", Object: &crmv1.ObjectUpdate{Description: "x"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"primary_field_id"}}})), codes.InvalidArgument)
		wantCode(t, second(c.UpdateObject(&crmv1.UpdateObjectRequest{ObjectName: "pet", Object: &crmv1.ObjectUpdate{},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"labels"}}})), codes.InvalidArgument)
	})
}

// TestUpdateObjectRESTMask checks that over REST the fields present in the
// PATCH body are the update mask.
func TestUpdateObjectRESTMask(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 0)
	h := hdr(e.tn.key, e.tn.connID)
	path := crmBase + "/metadata/objects/pet"

	r := e.g.do(t, "PATCH", path, h, map[string]any{"labels": map[string]any{"plural": "Doggos"}})
	if r.status != 200 || at(r.body, "labels", "plural") != "Doggos" || at(r.body, "labels", "singular") != "Pet" ||
		r.body["description"] != "Sample custom object seeded by ghlfake" {
		t.Errorf("PATCH {labels:{plural}}: %d %s", r.status, r.raw)
	}
	r = e.g.do(t, "PATCH", path, h, map[string]any{"description": ""})
	if r.status != 200 || r.body["description"] != "" || at(r.body, "labels", "plural") != "Doggos" {
		t.Errorf("PATCH {description:\"\"} must clear the description only: %d %s", r.status, r.raw)
	}
	r = e.g.do(t, "PATCH", path, h, map[string]any{"description": "Back", "labels": map[string]any{"singular": "Hound"}})
	if r.status != 200 || r.body["description"] != "Back" || at(r.body, "labels", "singular") != "Hound" || at(r.body, "labels", "plural") != "Doggos" {
		t.Errorf("PATCH {description, labels.singular}: %d %s", r.status, r.raw)
	}
	r = e.g.do(t, "GET", path, h, nil)
	if r.status != 200 || r.body["description"] != "Back" || at(r.body, "labels", "singular") != "Hound" {
		t.Errorf("GET after PATCH: %d %s", r.status, r.raw)
	}
	r = e.g.do(t, "PATCH", path, h, map[string]any{})
	if r.status != 400 {
		t.Errorf("PATCH {}: %d %s, want 400", r.status, r.raw)
	}
}

func TestProperties(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 0)
		c := e.client(t, tr)

		list := must(c.ListProperties(&crmv1.ListPropertiesRequest{ObjectName: "pet"}))(t).GetItems()
		want := map[string]string{
			"name": "text", "species": "picklist", "age": "number", "price": "currency", "vaccinated": "multipicklist",
			"birthday": "date", "notes": "textarea", "email": "email", "phone": "phone", "tags": "multipicklist",
		}
		if len(list) != len(want) {
			t.Errorf("pet properties = %v", propertyIDs(list))
		}
		for id, typ := range want {
			if p := findProperty(list, id); p == nil || p.GetType() != typ {
				t.Errorf("property %s = %v, want type %s", id, p, typ)
			}
		}
		if p := findProperty(list, "species"); !slices.Equal(optionValues(p), []string{"dog", "cat", "bird"}) {
			t.Errorf("species options = %v", optionValues(p))
		}
		if p := findProperty(list, "vaccinated"); p.GetRawDetails().GetFields()["ghl_data_type"].GetStringValue() != "CHECKBOX" {
			t.Errorf("vaccinated raw_details = %v, want ghl_data_type CHECKBOX", p.GetRawDetails())
		}

		// Create.
		created := must(c.CreateProperty(&crmv1.CreatePropertyRequest{ObjectName: "pet", Property: &crmv1.Property{
			Id: "color", Label: "Color", Type: "picklist", Description: "Coat",
			Options: []*crmv1.Option{{Label: "Brown", Value: "brown"}, {Label: "Black", Value: "black"}},
		}}))(t).GetProperty()
		if created.GetId() != "color" || created.GetType() != "picklist" || created.GetLabel() != "Color" ||
			!slices.Equal(optionValues(created), []string{"brown", "black"}) {
			t.Errorf("created = %v", created)
		}
		got := must(c.GetProperty(&crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: "color"}))(t).GetProperty()
		if got.GetId() != "color" || got.GetDescription() != "Coat" || len(got.GetOptions()) != 2 {
			t.Errorf("get = %v", got)
		}
		if ids := propertyIDs(must(c.ListProperties(&crmv1.ListPropertiesRequest{ObjectName: "pet"}))(t).GetItems()); !slices.Contains(ids, "color") {
			t.Errorf("list after create = %v", ids)
		}
		num := must(c.CreateProperty(&crmv1.CreatePropertyRequest{ObjectName: "pet", Property: &crmv1.Property{Id: "weight", Label: "Weight", Type: "number"}}))(t).GetProperty()
		if num.GetType() != "number" {
			t.Errorf("number property = %v", num)
		}

		// Patch: only what is set changes.
		u := must(c.UpdateProperty(&crmv1.UpdatePropertyRequest{ObjectName: "pet", PropertyId: "color", Property: &crmv1.Property{Label: "Colour"}}))(t).GetProperty()
		if u.GetLabel() != "Colour" || u.GetDescription() != "Coat" || len(u.GetOptions()) != 2 {
			t.Errorf("label update = %v", u)
		}
		u = must(c.UpdateProperty(&crmv1.UpdatePropertyRequest{ObjectName: "pet", PropertyId: "color", Property: &crmv1.Property{
			Options: []*crmv1.Option{{Label: "Brown", Value: "brown"}, {Label: "Black", Value: "black"}, {Label: "White", Value: "white"}},
		}}))(t).GetProperty()
		if u.GetLabel() != "Colour" || !slices.Equal(optionValues(u), []string{"brown", "black", "white"}) {
			t.Errorf("options update = %v", u)
		}
		// The new option is valid for records at once (schema cache invalidated).
		must(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"name": "Snow", "color": "white"})}}))(t)
		u = must(c.UpdateProperty(&crmv1.UpdatePropertyRequest{ObjectName: "pet", PropertyId: "color", Property: &crmv1.Property{Description: "Fur"}}))(t).GetProperty()
		if u.GetLabel() != "Colour" || u.GetDescription() != "Fur" {
			t.Errorf("description update = %v", u)
		}
		wantCode(t, second(c.UpdateProperty(&crmv1.UpdatePropertyRequest{ObjectName: "pet", PropertyId: "color", Property: &crmv1.Property{}})), codes.InvalidArgument)
		wantCode(t, second(c.UpdateProperty(&crmv1.UpdatePropertyRequest{ObjectName: "pet", PropertyId: "color", Property: &crmv1.Property{Type: "text"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"type"}}})), codes.InvalidArgument)

		// Delete.
		must(c.DeleteProperty(&crmv1.DeletePropertyRequest{ObjectName: "pet", PropertyId: "color"}))(t)
		wantCode(t, second(c.GetProperty(&crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: "color"})), codes.NotFound)
		if ids := propertyIDs(must(c.ListProperties(&crmv1.ListPropertiesRequest{ObjectName: "pet"}))(t).GetItems()); slices.Contains(ids, "color") {
			t.Errorf("list after delete = %v", ids)
		}
		wantCode(t, second(c.DeleteProperty(&crmv1.DeletePropertyRequest{ObjectName: "pet", PropertyId: "color"})), codes.NotFound)

		// Unknown property.
		wantCode(t, second(c.GetProperty(&crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: "nosuch"})), codes.NotFound)
		wantCode(t, second(c.UpdateProperty(&crmv1.UpdatePropertyRequest{ObjectName: "pet", PropertyId: "nosuch", Property: &crmv1.Property{Label: "X"}})), codes.NotFound)
		wantCode(t, second(c.DeleteProperty(&crmv1.DeletePropertyRequest{ObjectName: "pet", PropertyId: "nosuch"})), codes.NotFound)

		// Duplicate.
		dup := wantCode(t, second(c.CreateProperty(&crmv1.CreatePropertyRequest{ObjectName: "pet", Property: &crmv1.Property{Id: "name", Label: "Name", Type: "text"}})), codes.AlreadyExists)
		if dup.httpStatus != 0 && dup.httpStatus != http.StatusConflict {
			t.Errorf("duplicate: HTTP %d, want 409", dup.httpStatus)
		}

		// The primary field cannot go.
		wantCode(t, second(c.DeleteProperty(&crmv1.DeletePropertyRequest{ObjectName: "pet", PropertyId: "name"})), codes.FailedPrecondition)

		// Bad property ids in the path.
		for _, id := range []string{"bad-id", "1abc", "with space"} {
			err := wantCode(t, second(c.GetProperty(&crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: id})), codes.InvalidArgument)
			if !err.hasField("property_id") {
				t.Errorf("property id %q: %v", id, err)
			}
		}
	})
}

func TestCreatePropertyValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 0)
	for _, tc := range []struct {
		name  string
		prop  *crmv1.Property
		field string
	}{
		{"unknown type", &crmv1.Property{Id: "x", Label: "X", Type: "rainbow"}, "property.type"},
		{"empty type", &crmv1.Property{Id: "x", Label: "X"}, "property.type"},
		{"no label", &crmv1.Property{Id: "x", Type: "text"}, "property.label"},
		{"bad id", &crmv1.Property{Id: "1x", Label: "X", Type: "text"}, "property.id"},
		{"picklist without options", &crmv1.Property{Id: "x", Label: "X", Type: "picklist"}, "property.options"},
		{"duplicate options", &crmv1.Property{Id: "x", Label: "X", Type: "picklist", Options: []*crmv1.Option{{Label: "A", Value: "a"}, {Label: "A2", Value: "a"}}}, "property.options[1].value"},
		// Valid neutral types GHL cannot store: the adapter refuses them,
		// and the violation must still name the request's field.
		{"type GHL lacks", &crmv1.Property{Id: "x", Label: "X", Type: "boolean"}, "property.type"},
		{"required property", &crmv1.Property{Id: "x", Label: "X", Type: "text", IsRequired: true}, "property.is_required"},
	} {
		for _, tr := range transports {
			t.Run(tc.name+"/"+tr, func(t *testing.T) {
				err := wantCode(t, second(e.client(t, tr).CreateProperty(&crmv1.CreatePropertyRequest{ObjectName: "pet", Property: tc.prop})), codes.InvalidArgument)
				if !err.hasField(tc.field) {
					t.Errorf("violations %v, want one naming %s", err.violations, tc.field)
				}
				if err.origin != "gateway" {
					t.Errorf("origin %q, want gateway", err.origin)
				}
			})
		}
	}
	if n := e.f.RequestCount("POST /custom-fields/"); n != 0 {
		t.Errorf("the fake got %d create-field calls for invalid properties", n)
	}
}

// TestUpdatePropertyRESTMask checks that the PATCH body's fields are the mask.
func TestUpdatePropertyRESTMask(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 0)
	h := hdr(e.tn.key, e.tn.connID)
	base := crmBase + "/metadata/objects/pet/properties"
	r := e.g.do(t, "POST", base, h, map[string]any{"id": "color", "label": "Color", "type": "text", "description": "Coat"})
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	r = e.g.do(t, "PATCH", base+"/color", h, map[string]any{"label": "Fur colour"})
	if r.status != 200 || r.body["label"] != "Fur colour" || r.body["description"] != "Coat" || r.body["type"] != "text" {
		t.Errorf("PATCH {label}: %d %s", r.status, r.raw)
	}
	r = e.g.do(t, "PATCH", base+"/color", h, map[string]any{"description": ""})
	if r.status != 200 || r.body["description"] != "" || r.body["label"] != "Fur colour" {
		t.Errorf("PATCH {description:\"\"} must clear the description: %d %s", r.status, r.raw)
	}
	r = e.g.do(t, "PATCH", base+"/color", h, map[string]any{"type": "number"})
	if r.status != 400 {
		t.Errorf("PATCH {type}: %d %s, want 400", r.status, r.raw)
	}
}

func TestAssociationsAndRelations(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 3)
		c := e.client(t, tr)
		must(c.CreateObject(&crmv1.CreateObjectRequest{
			Name: "keeper", Labels: &crmv1.Labels{Singular: "Keeper", Plural: "Keepers"}, PrimaryFieldId: "name",
			Fields: []*crmv1.Property{{Id: "name", Label: "Name", Type: "text"}},
		}))(t)

		if l := must(c.ListAssociationSchemas(&crmv1.ListAssociationSchemasRequest{}))(t).GetItems(); len(l) != 0 {
			t.Errorf("associations before create = %v", l)
		}
		ar := must(c.CreateAssociationSchema(&crmv1.CreateAssociationSchemaRequest{
			SourceObject: "pet", TargetObject: "keeper", SuggestedKeyName: "pet_keeper", DisplayName: "Keeper",
		}))(t)
		as := ar.GetAssociationSchema()
		if as.GetId() == "" || as.GetKey() != "pet_keeper" || as.GetSourceObject() != "pet" || as.GetTargetObject() != "keeper" ||
			as.GetSourceLabel() != "Keeper" || as.GetTargetLabel() != "Keeper" {
			t.Errorf("association = %v", as)
		}
		if len(ar.GetWarnings()) != 0 {
			t.Errorf("warnings = %v, want none", ar.GetWarnings())
		}
		ar2 := must(c.CreateAssociationSchema(&crmv1.CreateAssociationSchemaRequest{
			SourceObject: "pet", TargetObject: "account", SourceLabel: "Pet", TargetLabel: "Company",
		}))(t)
		if ar2.GetAssociationSchema().GetKey() != "pet_account" || len(ar2.GetWarnings()) == 0 {
			t.Errorf("defaulted key: %v warnings %v", ar2.GetAssociationSchema(), ar2.GetWarnings())
		}
		list := must(c.ListAssociationSchemas(&crmv1.ListAssociationSchemasRequest{}))(t).GetItems()
		var keys []string
		for _, a := range list {
			keys = append(keys, a.GetKey())
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"pet_account", "pet_keeper"}) {
			t.Errorf("association keys = %v", keys)
		}

		// Bad input.
		err := wantCode(t, second(c.CreateAssociationSchema(&crmv1.CreateAssociationSchemaRequest{SourceObject: "pet", TargetObject: "keeper"})), codes.InvalidArgument)
		if !err.hasField("source_label") {
			t.Errorf("no labels: %v", err)
		}
		wantCode(t, second(c.CreateAssociationSchema(&crmv1.CreateAssociationSchemaRequest{SourceObject: "pet", TargetObject: "nosuch", DisplayName: "X"})), codes.NotFound)
		wantCode(t, second(c.CreateAssociationSchema(&crmv1.CreateAssociationSchemaRequest{SourceObject: "Pet", TargetObject: "keeper", DisplayName: "X"})), codes.InvalidArgument)
		dup := asAPIError(second(c.CreateAssociationSchema(&crmv1.CreateAssociationSchemaRequest{
			SourceObject: "pet", TargetObject: "keeper", SuggestedKeyName: "pet_keeper", DisplayName: "Keeper",
		})))
		if dup == nil || (dup.code != codes.InvalidArgument && dup.code != codes.AlreadyExists) {
			t.Errorf("duplicate association key: %v", dup)
		}

		// Relations.
		pets := must(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"}))(t).GetItems()
		keeper := must(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "keeper", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"name": "Kim"})}}))(t).GetRecord()
		rel := must(c.CreateRelation(&crmv1.CreateRelationRequest{
			ObjectName: "pet", RecordId: pets[0].GetId(), AssociationId: as.GetId(), TargetRecordId: keeper.GetId(),
		}))(t).GetRelation()
		if rel.GetId() == "" || rel.GetAssociationId() != as.GetId() || rel.GetSourceRecordId() != pets[0].GetId() || rel.GetTargetRecordId() != keeper.GetId() {
			t.Errorf("relation = %v", rel)
		}
		must(c.CreateRelation(&crmv1.CreateRelationRequest{
			ObjectName: "pet", RecordId: pets[1].GetId(), AssociationId: as.GetId(), TargetRecordId: keeper.GetId(),
		}))(t)
		rels := must(c.ListRelations(&crmv1.ListRelationsRequest{ObjectName: "pet", RecordId: pets[0].GetId()}))(t)
		if len(rels.GetItems()) != 1 || rels.GetItems()[0].GetId() != rel.GetId() || rels.GetHasNextPage() {
			t.Errorf("relations of pet 0 = %v", rels)
		}
		// The keeper is on both relations; page through them one by one.
		var seen []string
		cursor := ""
		for range 5 {
			pg := must(c.ListRelations(&crmv1.ListRelationsRequest{ObjectName: "keeper", RecordId: keeper.GetId(), PageSize: 1, Cursor: cursor}))(t)
			for _, r := range pg.GetItems() {
				seen = append(seen, r.GetId())
			}
			if !pg.GetHasNextPage() {
				break
			}
			cursor = pg.GetNextCursor()
		}
		if len(seen) != 2 || seen[0] == seen[1] {
			t.Errorf("paged relations of the keeper = %v, want 2 distinct", seen)
		}
		// Relation cursors are bound to their record.
		pg := must(c.ListRelations(&crmv1.ListRelationsRequest{ObjectName: "keeper", RecordId: keeper.GetId(), PageSize: 1}))(t)
		wantCode(t, second(c.ListRelations(&crmv1.ListRelationsRequest{ObjectName: "pet", RecordId: pets[0].GetId(), Cursor: pg.GetNextCursor()})), codes.InvalidArgument)

		dupRel := asAPIError(second(c.CreateRelation(&crmv1.CreateRelationRequest{
			ObjectName: "pet", RecordId: pets[0].GetId(), AssociationId: as.GetId(), TargetRecordId: keeper.GetId(),
		})))
		if dupRel == nil || dupRel.code != codes.InvalidArgument && dupRel.code != codes.AlreadyExists {
			t.Errorf("duplicate relation: %v", dupRel)
		}
		err = wantCode(t, second(c.CreateRelation(&crmv1.CreateRelationRequest{ObjectName: "pet", RecordId: pets[0].GetId(), TargetRecordId: keeper.GetId()})), codes.InvalidArgument)
		if !err.hasField("association_id") {
			t.Errorf("no association id: %v", err)
		}

		must(c.DeleteRelation(&crmv1.DeleteRelationRequest{RelationId: rel.GetId()}))(t)
		if rels := must(c.ListRelations(&crmv1.ListRelationsRequest{ObjectName: "pet", RecordId: pets[0].GetId()}))(t); len(rels.GetItems()) != 0 {
			t.Errorf("relations after delete = %v", rels)
		}
		wantCode(t, second(c.DeleteRelation(&crmv1.DeleteRelationRequest{RelationId: rel.GetId()})), codes.NotFound)
		wantCode(t, second(c.DeleteRelation(&crmv1.DeleteRelationRequest{RelationId: "bad id"})), codes.InvalidArgument)
	})
}

// TestMetadataListsPaginated: objects, properties and association
// schemas are paged as every other list (page_size, cursor, next_cursor,
// has_next_page), in key order, each item once; a cursor of another list
// is a 400.
func TestMetadataListsPaginated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 3)
	h := hdr(e.tn.key, e.tn.connID)
	walk := func(path, key string, size int) []string {
		t.Helper()
		var keys []string
		cursor := ""
		for range 50 {
			q := url.Values{"page_size": {strconv.Itoa(size)}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			r := e.g.do(t, "GET", path+"?"+q.Encode(), h, nil)
			if r.status != 200 {
				t.Fatalf("%s: %d %s", path, r.status, r.raw)
			}
			items := arr(r.body["items"])
			if len(items) > size {
				t.Fatalf("%s: %d items on a page of %d", path, len(items), size)
			}
			for _, it := range items {
				keys = append(keys, str(obj(it)[key]))
			}
			cursor = str(r.body["next_cursor"])
			if (cursor != "") != (r.body["has_next_page"] == true) {
				t.Fatalf("%s: next_cursor %q but has_next_page %v", path, cursor, r.body["has_next_page"])
			}
			if cursor == "" {
				return keys
			}
		}
		t.Fatalf("%s: no last page", path)
		return nil
	}
	whole := func(path, key string) []string {
		t.Helper()
		r := e.g.do(t, "GET", path, h, nil)
		var keys []string
		for _, it := range arr(r.body["items"]) {
			keys = append(keys, str(obj(it)[key]))
		}
		return keys
	}
	for _, tc := range []struct{ path, key string }{
		{crmBase + "/metadata/objects", "name"},
		{crmBase + "/metadata/objects/pet/properties", "id"},
	} {
		all := whole(tc.path, tc.key)
		if len(all) < 2 {
			t.Fatalf("%s: only %d items to page through", tc.path, len(all))
		}
		if !slices.IsSorted(all) {
			t.Errorf("%s: not in key order: %v", tc.path, all)
		}
		if got := walk(tc.path, tc.key, 1); !slices.Equal(got, all) {
			t.Errorf("%s paged by 1: %v, want %v", tc.path, got, all)
		}
	}
	first := e.g.do(t, "GET", crmBase+"/metadata/objects/pet/properties?page_size=1", h, nil)
	r := e.g.do(t, "GET", crmBase+"/metadata/objects?cursor="+url.QueryEscape(str(first.body["next_cursor"])), h, nil)
	if r.status != 400 || !strings.Contains(string(r.raw), "cursor") {
		t.Errorf("a properties cursor on the objects list: %d %s", r.status, r.raw)
	}
}
