// Package providertest is the contract suite every crmgate provider adapter
// runs against its fake: the behaviour internal/unified relies on, stated
// once for all providers.
//
// Usage, in an adapter's tests:
//
//	func TestContract(t *testing.T) {
//		providertest.RunContractTests(t, func(t *testing.T) crm.Provider {
//			// start a fresh fake, return an adapter connected to it
//		})
//	}
//
// newProvider is called once per subtest, so every subtest starts from an
// empty account (only the provider's standard objects). Capabilities the
// adapter lacks (found by type assertion) skip their subtests. A property
// type the adapter cannot store must be refused with an error satisfying
// errors.Is(err, crm.ErrInvalidArgument) before anything is sent; the suite
// uses that to learn which types to exercise.
package providertest

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
)

// Names the suite creates. They are valid custom object and property names
// for every provider crmgate knows (lowercase, digits, underscores).
const (
	petObject   = "ct_pet"
	ownerObject = "ct_owner"
	probeObject = "ct_probe"
)

// RecordCount is how many records the paging test creates.
const RecordCount = 250

// PageSize is the page size of the paging test.
const PageSize = 100

// RunContractTests runs the contract suite. newProvider must return a
// provider connected to a fresh, empty fake account.
func RunContractTests(t *testing.T, newProvider func(t *testing.T) crm.Provider) {
	t.Helper()
	s := &suite{newProvider: newProvider}
	t.Run("Check", s.testCheck)
	t.Run("Capabilities", s.testCapabilities)
	t.Run("Schema/CreateObjectWithEveryType", s.testCreateObject)
	t.Run("Schema/UnsupportedTypeRefused", s.testUnsupportedType)
	t.Run("Schema/ListObjects", s.testListObjects)
	t.Run("Schema/UpdateObject", s.testUpdateObject)
	t.Run("Schema/PropertyLifecycle", s.testPropertyLifecycle)
	t.Run("Schema/PicklistOptionsUpdate", s.testOptionsUpdate)
	t.Run("Records/CRUD", s.testRecordCRUD)
	t.Run("Records/ListPaging", s.testListPaging)
	t.Run("Records/BadPaging", s.testBadPaging)
	t.Run("Records/Search", s.testSearch)
	t.Run("Associations/Schemas", s.testAssociationSchemas)
	t.Run("Associations/Relations", s.testRelations)
	t.Run("Errors/UnknownObject", s.testUnknownObject)
	t.Run("Passthrough/ProviderAnswerIsNotAnError", s.testPassthrough)
	t.Run("Contacts/CRUD", s.testContactCRUD)
	t.Run("Contacts/ListPaging", s.testContactPaging)
	t.Run("Contacts/SearchAndCount", s.testContactSearch)
	t.Run("Accounts/CRUD", s.testAccountCRUD)
	t.Run("Accounts/ListPaging", s.testAccountPaging)
	t.Run("Opportunities/CRUDAndPaging", s.testOpportunities)
}

type suite struct {
	newProvider func(t *testing.T) crm.Provider
}

// need returns p as capability T or skips the test.
func need[T any](t *testing.T, p crm.Provider) T {
	t.Helper()
	c, ok := p.(T)
	if !ok {
		var zero *T
		t.Skipf("provider %T lacks %s", p, reflect.TypeOf(zero).Elem().Name())
	}
	return c
}

func (s *suite) testCheck(t *testing.T) {
	p := s.newProvider(t)
	if err := p.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func (s *suite) testCapabilities(t *testing.T) {
	p := s.newProvider(t)
	caps := map[string]bool{}
	_, caps["SchemaReader"] = p.(crm.SchemaReader)
	_, caps["SchemaWriter"] = p.(crm.SchemaWriter)
	_, caps["RecordReader"] = p.(crm.RecordReader)
	_, caps["RecordWriter"] = p.(crm.RecordWriter)
	_, caps["AssociationManager"] = p.(crm.AssociationManager)
	_, caps["Passthrough"] = p.(crm.Passthrough)
	_, caps["ContactReader"] = p.(crm.ContactReader)
	_, caps["ContactWriter"] = p.(crm.ContactWriter)
	_, caps["ContactSearcher"] = p.(crm.ContactSearcher)
	_, caps["AccountReader"] = p.(crm.AccountReader)
	_, caps["AccountWriter"] = p.(crm.AccountWriter)
	_, caps["AccountCounter"] = p.(crm.AccountCounter)
	_, caps["AccountFinder"] = p.(crm.AccountFinder)
	_, caps["PipelineReader"] = p.(crm.PipelineReader)
	_, caps["OpportunityReader"] = p.(crm.OpportunityReader)
	_, caps["OpportunityWriter"] = p.(crm.OpportunityWriter)
	t.Logf("provider %T capabilities: %v", p, caps)
	if caps["SchemaWriter"] && !caps["SchemaReader"] {
		t.Error("a SchemaWriter must also be a SchemaReader")
	}
	if (caps["ContactReader"] || caps["ContactWriter"]) && !caps["SchemaReader"] {
		t.Error("a ContactReader or ContactWriter must also be a SchemaReader (the contact schema maps custom fields)")
	}
	if caps["ContactWriter"] && !caps["ContactReader"] {
		t.Error("a ContactWriter must also be a ContactReader")
	}
	if (caps["AccountReader"] || caps["AccountWriter"]) && !caps["SchemaReader"] {
		t.Error("an AccountReader or AccountWriter must also be a SchemaReader (the account schema maps custom fields)")
	}
	if caps["AccountWriter"] && !caps["AccountReader"] {
		t.Error("an AccountWriter must also be an AccountReader")
	}
	if caps["OpportunityWriter"] && !caps["OpportunityReader"] {
		t.Error("an OpportunityWriter must also be an OpportunityReader")
	}
	if (caps["OpportunityReader"] || caps["OpportunityWriter"]) && !caps["SchemaReader"] {
		t.Error("an OpportunityReader or OpportunityWriter must also be a SchemaReader (the opportunity schema maps custom fields)")
	}
	if caps["RecordWriter"] && !caps["RecordReader"] {
		t.Error("a RecordWriter must also be a RecordReader")
	}
}

// textProp and friends build input properties.
func textProp(id, label string) crm.Property {
	return crm.Property{ID: id, Label: label, Type: crm.TypeText}
}

func optionsProp(id, label string, typ crm.PropertyType, values ...string) crm.Property {
	p := crm.Property{ID: id, Label: label, Type: typ}
	for _, v := range values {
		p.Options = append(p.Options, crm.Option{Value: v, Label: "Label " + v})
	}
	return p
}

// propertyFor builds the property the suite uses for type typ.
func propertyFor(typ crm.PropertyType) crm.Property {
	id := "f_" + string(typ)
	label := "Field " + string(typ)
	switch typ {
	case crm.TypePicklist, crm.TypeMultipicklist:
		return optionsProp(id, label, typ, "a", "b", "c")
	}
	return crm.Property{ID: id, Label: label, Type: typ}
}

// createObject creates a custom object whose primary field is text "name".
func createObject(t *testing.T, sw crm.SchemaWriter, name string, fields ...crm.Property) crm.Schema {
	t.Helper()
	in := crm.ObjectInput{
		Name:           name,
		Description:    "contract test object " + name,
		Labels:         crm.Labels{Singular: "Label " + name, Plural: "Labels " + name},
		PrimaryFieldID: "name",
		Fields:         append([]crm.Property{textProp("name", "Name")}, fields...),
	}
	s, err := sw.CreateObject(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateObject(%s): %v", name, err)
	}
	return s
}

// supportedTypes probes which neutral types the provider can store, by
// creating one property of each type on a probe object. `other` is left
// out: it needs provider-specific raw details.
func supportedTypes(t *testing.T, sw crm.SchemaWriter) (supported, unsupported []crm.PropertyType) {
	t.Helper()
	createObject(t, sw, probeObject)
	for _, typ := range crm.PropertyTypes {
		if typ == crm.TypeOther {
			continue
		}
		_, err := sw.CreateProperty(t.Context(), probeObject, propertyFor(typ))
		switch {
		case err == nil:
			supported = append(supported, typ)
		case errors.Is(err, crm.ErrInvalidArgument):
			t.Logf("type %s unsupported: %v", typ, err)
			unsupported = append(unsupported, typ)
		default:
			t.Fatalf("CreateProperty(%s): %v (an unsupported type must answer ErrInvalidArgument)", typ, err)
		}
	}
	if !slices.Contains(supported, crm.TypeText) || !slices.Contains(supported, crm.TypeNumber) {
		t.Fatalf("text and number must be supported; supported: %v", supported)
	}
	return supported, unsupported
}

func (s *suite) testCreateObject(t *testing.T) {
	p := s.newProvider(t)
	sw := need[crm.SchemaWriter](t, p)
	sr := need[crm.SchemaReader](t, p)
	types, _ := supportedTypes(t, sw)

	var fields []crm.Property
	for _, typ := range types {
		fields = append(fields, propertyFor(typ))
	}
	got := createObject(t, sw, petObject, fields...)
	checkObject(t, "CreateObject", got.Object, petObject)
	checkProperties(t, "CreateObject", got, fields)

	again, err := sr.GetSchema(t.Context(), petObject)
	if err != nil {
		t.Fatalf("GetSchema: %v", err)
	}
	checkObject(t, "GetSchema", again.Object, petObject)
	checkProperties(t, "GetSchema", again, fields)
	if len(again.Properties) != len(got.Properties) {
		t.Errorf("GetSchema has %d properties, CreateObject answered %d", len(again.Properties), len(got.Properties))
	}
}

func checkObject(t *testing.T, op string, o crm.Object, name string) {
	t.Helper()
	if o.Name != name {
		t.Errorf("%s: object name %q, want %q", op, o.Name, name)
	}
	if o.Type != crm.ObjectCustom {
		t.Errorf("%s: object type %q, want custom", op, o.Type)
	}
	if want := (crm.Labels{Singular: "Label " + name, Plural: "Labels " + name}); o.Labels != want {
		t.Errorf("%s: labels %+v, want %+v", op, o.Labels, want)
	}
	if want := "contract test object " + name; o.Description != want {
		t.Errorf("%s: description %q, want %q", op, o.Description, want)
	}
	if o.PrimaryFieldID != "name" {
		t.Errorf("%s: primary field %q, want name", op, o.PrimaryFieldID)
	}
}

// checkProperties checks that s has the primary "name" and every field of
// want with the same type, label and option values.
func checkProperties(t *testing.T, op string, s crm.Schema, want []crm.Property) {
	t.Helper()
	for _, w := range append([]crm.Property{textProp("name", "Name")}, want...) {
		g, ok := s.Property(w.ID)
		if !ok {
			t.Errorf("%s: property %q missing; have %v", op, w.ID, propertyIDs(s))
			continue
		}
		if g.Type != w.Type {
			t.Errorf("%s: property %q has type %q, want %q", op, w.ID, g.Type, w.Type)
		}
		if g.Label != w.Label {
			t.Errorf("%s: property %q has label %q, want %q", op, w.ID, g.Label, w.Label)
		}
		if len(w.Options) > 0 {
			if gv, wv := optionValues(g.Options), optionValues(w.Options); !slices.Equal(gv, wv) {
				t.Errorf("%s: property %q has options %v, want %v", op, w.ID, gv, wv)
			}
			for _, o := range g.Options {
				if o.Label != "Label "+o.Value {
					t.Errorf("%s: property %q option %q has label %q", op, w.ID, o.Value, o.Label)
				}
			}
		}
	}
}

func propertyIDs(s crm.Schema) []string {
	ids := make([]string, 0, len(s.Properties))
	for _, p := range s.Properties {
		ids = append(ids, p.ID)
	}
	return ids
}

func optionValues(opts []crm.Option) []string {
	vs := make([]string, 0, len(opts))
	for _, o := range opts {
		vs = append(vs, o.Value)
	}
	return vs
}

func (s *suite) testUnsupportedType(t *testing.T) {
	p := s.newProvider(t)
	sw := need[crm.SchemaWriter](t, p)
	sr := need[crm.SchemaReader](t, p)
	_, unsupported := supportedTypes(t, sw)
	if len(unsupported) == 0 {
		t.Skip("the provider stores every neutral type")
	}
	typ := unsupported[0]
	_, err := sw.CreateObject(t.Context(), crm.ObjectInput{
		Name: petObject, Labels: crm.Labels{Singular: "Pet", Plural: "Pets"}, PrimaryFieldID: "name",
		Fields: []crm.Property{textProp("name", "Name"), propertyFor(typ)},
	})
	if !errors.Is(err, crm.ErrInvalidArgument) {
		t.Fatalf("CreateObject with a %s field: %v, want ErrInvalidArgument", typ, err)
	}
	// Refused before anything was created.
	if _, err := sr.GetSchema(t.Context(), petObject); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("GetSchema after a refused CreateObject: %v, want ErrNotFound", err)
	}
}

func (s *suite) testListObjects(t *testing.T) {
	p := s.newProvider(t)
	sr := need[crm.SchemaReader](t, p)
	if sw, ok := p.(crm.SchemaWriter); ok {
		createObject(t, sw, petObject)
	}
	objs, err := sr.ListObjects(t.Context())
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	byName := map[string]crm.Object{}
	for _, o := range objs {
		if _, dup := byName[o.Name]; dup {
			t.Errorf("ListObjects: %q listed twice", o.Name)
		}
		byName[o.Name] = o
	}
	if c, ok := byName["contact"]; !ok {
		t.Errorf("ListObjects: no contact object; have %v", objectNames(objs))
	} else if c.Type != crm.ObjectStandard {
		t.Errorf("contact has type %q, want standard", c.Type)
	}
	if _, ok := p.(crm.SchemaWriter); ok {
		if o, ok := byName[petObject]; !ok {
			t.Errorf("ListObjects: no %s; have %v", petObject, objectNames(objs))
		} else {
			checkObject(t, "ListObjects", o, petObject)
		}
	}
	for _, o := range objs {
		if o.Type != crm.ObjectStandard && o.Type != crm.ObjectCustom {
			t.Errorf("object %q has type %q", o.Name, o.Type)
		}
	}
}

func objectNames(objs []crm.Object) []string {
	var names []string
	for _, o := range objs {
		names = append(names, o.Name)
	}
	sort.Strings(names)
	return names
}

func (s *suite) testUpdateObject(t *testing.T) {
	p := s.newProvider(t)
	sw := need[crm.SchemaWriter](t, p)
	sr := need[crm.SchemaReader](t, p)
	createObject(t, sw, petObject)

	labels := crm.Labels{Singular: "Animal", Plural: "Animals"}
	desc := "updated description"
	o, err := sw.UpdateObject(t.Context(), petObject, crm.ObjectPatch{Labels: &labels, Description: &desc})
	if err != nil {
		t.Fatalf("UpdateObject: %v", err)
	}
	check := func(op string, o crm.Object) {
		t.Helper()
		if o.Name != petObject || o.Labels != labels || o.Description != desc || o.PrimaryFieldID != "name" {
			t.Errorf("%s: got %s %+v %q primary %q; want %s %+v %q primary name", op, o.Name, o.Labels, o.Description, o.PrimaryFieldID, petObject, labels, desc)
		}
	}
	check("UpdateObject", o)
	got, err := sr.GetSchema(t.Context(), petObject)
	if err != nil {
		t.Fatalf("GetSchema: %v", err)
	}
	check("GetSchema", got.Object)

	// A description-only patch keeps the labels.
	desc2 := "second description"
	o, err = sw.UpdateObject(t.Context(), petObject, crm.ObjectPatch{Description: &desc2})
	if err != nil {
		t.Fatalf("UpdateObject(description): %v", err)
	}
	if o.Labels != labels || o.Description != desc2 {
		t.Errorf("UpdateObject(description): %+v %q, want %+v %q", o.Labels, o.Description, labels, desc2)
	}

	if _, err := sw.UpdateObject(t.Context(), "ct_missing", crm.ObjectPatch{Description: &desc}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("UpdateObject(unknown): %v, want ErrNotFound", err)
	}
}

func (s *suite) testPropertyLifecycle(t *testing.T) {
	p := s.newProvider(t)
	sw := need[crm.SchemaWriter](t, p)
	sr := need[crm.SchemaReader](t, p)
	createObject(t, sw, petObject)
	ctx := t.Context()

	in := crm.Property{ID: "nickname", Label: "Nickname", Description: "what we call it", Type: crm.TypeText}
	got, err := sw.CreateProperty(ctx, petObject, in)
	if err != nil {
		t.Fatalf("CreateProperty: %v", err)
	}
	if got.ID != in.ID || got.Label != in.Label || got.Type != in.Type || got.Description != in.Description {
		t.Errorf("CreateProperty answered %+v, want %+v", got, in)
	}
	schema, err := sr.GetSchema(ctx, petObject)
	if err != nil {
		t.Fatalf("GetSchema: %v", err)
	}
	if g, ok := schema.Property("nickname"); !ok || g.Label != "Nickname" || g.Description != in.Description {
		t.Errorf("GetSchema after create: %+v (found %v)", g, ok)
	}

	label, desc := "Pet name", "updated"
	got, err = sw.UpdateProperty(ctx, petObject, "nickname", crm.PropertyPatch{Label: &label, Description: &desc})
	if err != nil {
		t.Fatalf("UpdateProperty: %v", err)
	}
	if got.ID != "nickname" || got.Label != label || got.Description != desc || got.Type != crm.TypeText {
		t.Errorf("UpdateProperty answered %+v", got)
	}
	schema, err = sr.GetSchema(ctx, petObject)
	if err != nil {
		t.Fatalf("GetSchema: %v", err)
	}
	if g, ok := schema.Property("nickname"); !ok || g.Label != label || g.Description != desc {
		t.Errorf("GetSchema after update: %+v (found %v)", g, ok)
	}
	if g, ok := schema.Property("name"); !ok || g.Label != "Name" {
		t.Errorf("UpdateProperty changed another property: %+v", g)
	}

	if err := sw.DeleteProperty(ctx, petObject, "nickname"); err != nil {
		t.Fatalf("DeleteProperty: %v", err)
	}
	schema, err = sr.GetSchema(ctx, petObject)
	if err != nil {
		t.Fatalf("GetSchema: %v", err)
	}
	if _, ok := schema.Property("nickname"); ok {
		t.Errorf("property still there after DeleteProperty: %v", propertyIDs(schema))
	}
	if _, ok := schema.Property("name"); !ok {
		t.Errorf("DeleteProperty removed another property: %v", propertyIDs(schema))
	}
	if err := sw.DeleteProperty(ctx, petObject, "nickname"); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("DeleteProperty(deleted): %v, want ErrNotFound", err)
	}
	if _, err := sw.UpdateProperty(ctx, petObject, "nickname", crm.PropertyPatch{Label: &label}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("UpdateProperty(deleted): %v, want ErrNotFound", err)
	}
}

func (s *suite) testOptionsUpdate(t *testing.T) {
	p := s.newProvider(t)
	sw := need[crm.SchemaWriter](t, p)
	sr := need[crm.SchemaReader](t, p)
	createObject(t, sw, petObject, optionsProp("kind", "Kind", crm.TypePicklist, "a", "b"))
	ctx := t.Context()

	// Keep every option (some providers cannot remove options), relabel
	// one and add one.
	opts := []crm.Option{{Value: "a", Label: "Label a"}, {Value: "b", Label: "Relabelled b"}, {Value: "c", Label: "Label c"}}
	got, err := sw.UpdateProperty(ctx, petObject, "kind", crm.PropertyPatch{Options: &opts})
	if err != nil {
		t.Fatalf("UpdateProperty(options): %v", err)
	}
	check := func(op string, got crm.Property) {
		t.Helper()
		if got.Type != crm.TypePicklist {
			t.Errorf("%s: type %q", op, got.Type)
		}
		if len(got.Options) != 3 {
			t.Fatalf("%s: options %+v, want 3", op, got.Options)
		}
		labels := map[string]string{}
		for _, o := range got.Options {
			labels[o.Value] = o.Label
		}
		want := map[string]string{"a": "Label a", "b": "Relabelled b", "c": "Label c"}
		if !reflect.DeepEqual(labels, want) {
			t.Errorf("%s: options %v, want %v", op, labels, want)
		}
	}
	check("UpdateProperty", got)
	schema, err := sr.GetSchema(ctx, petObject)
	if err != nil {
		t.Fatalf("GetSchema: %v", err)
	}
	g, _ := schema.Property("kind")
	check("GetSchema", g)
}

// recordObject creates the object the record tests use (name, age, kind,
// tags) and returns the record capabilities.
func recordObject(t *testing.T, p crm.Provider) (crm.RecordReader, crm.RecordWriter) {
	t.Helper()
	sw := need[crm.SchemaWriter](t, p)
	rr := need[crm.RecordReader](t, p)
	rw := need[crm.RecordWriter](t, p)
	createObject(t, sw, petObject,
		crm.Property{ID: "age", Label: "Age", Type: crm.TypeNumber},
		optionsProp("kind", "Kind", crm.TypePicklist, "cat", "dog"),
		optionsProp("tags", "Tags", crm.TypeMultipicklist, "x", "y", "z"),
	)
	return rr, rw
}

func (s *suite) testRecordCRUD(t *testing.T) {
	p := s.newProvider(t)
	rr, rw := recordObject(t, p)
	ctx := t.Context()

	props := map[string]any{"name": "Buddy", "age": float64(3), "kind": "dog", "tags": []any{"x", "y"}}
	created, err := rw.CreateRecord(ctx, petObject, crm.RecordInput{Properties: props})
	if err != nil {
		t.Fatalf("CreateRecord: %v", err)
	}
	if created.ID == "" {
		t.Fatal("CreateRecord answered no id")
	}
	if created.ObjectName != petObject {
		t.Errorf("CreateRecord: object %q, want %s", created.ObjectName, petObject)
	}
	checkValues(t, "CreateRecord", created, props)

	got, err := rr.GetRecord(ctx, petObject, created.ID)
	if err != nil {
		t.Fatalf("GetRecord: %v", err)
	}
	if got.ID != created.ID {
		t.Errorf("GetRecord id %q, want %q", got.ID, created.ID)
	}
	checkValues(t, "GetRecord", got, props)
	if got.CreatedAt.IsZero() {
		t.Error("GetRecord: no CreatedAt")
	}

	// Only the named properties change.
	updated, err := rw.UpdateRecord(ctx, petObject, created.ID, crm.RecordInput{Properties: map[string]any{"age": float64(4)}})
	if err != nil {
		t.Fatalf("UpdateRecord: %v", err)
	}
	want := map[string]any{"name": "Buddy", "age": float64(4), "kind": "dog", "tags": []any{"x", "y"}}
	checkValues(t, "UpdateRecord", updated, want)
	got, err = rr.GetRecord(ctx, petObject, created.ID)
	if err != nil {
		t.Fatalf("GetRecord: %v", err)
	}
	checkValues(t, "GetRecord after update", got, want)

	if err := rw.DeleteRecord(ctx, petObject, created.ID); err != nil {
		t.Fatalf("DeleteRecord: %v", err)
	}
	if _, err := rr.GetRecord(ctx, petObject, created.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("GetRecord(deleted): %v, want ErrNotFound", err)
	}
	if _, err := rw.UpdateRecord(ctx, petObject, created.ID, crm.RecordInput{Properties: map[string]any{"age": float64(5)}}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("UpdateRecord(deleted): %v, want ErrNotFound", err)
	}
}

// checkValues checks that r holds want's properties (maybe more), read
// as the gateway reads them (from Properties or PropertiesJSON, of which
// an adapter sets one), as neutral values: numbers by value, multi-options
// as sets.
func checkValues(t *testing.T, op string, r crm.Record, want map[string]any) {
	t.Helper()
	if r.Properties != nil && len(r.PropertiesJSON) != 0 {
		t.Errorf("%s: record %q sets both Properties and PropertiesJSON", op, r.ID)
	}
	got, err := r.PropertyMap()
	if err != nil {
		t.Errorf("%s: %v", op, err)
		return
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: property %q missing; have %v", op, k, got)
			continue
		}
		if !sameValue(g, w) {
			t.Errorf("%s: property %q = %#v, want %#v", op, k, g, w)
		}
	}
}

func sameValue(g, w any) bool {
	if wl, ok := w.([]any); ok {
		gl, ok := g.([]any)
		if !ok || len(gl) != len(wl) {
			return false
		}
		gs, ws := fmt.Sprint(sortedStrings(gl)), fmt.Sprint(sortedStrings(wl))
		return gs == ws
	}
	if wf, ok := w.(float64); ok {
		gf, ok := g.(float64)
		return ok && gf == wf
	}
	return reflect.DeepEqual(g, w)
}

func sortedStrings(l []any) []string {
	out := make([]string, 0, len(l))
	for _, v := range l {
		out = append(out, fmt.Sprint(v))
	}
	sort.Strings(out)
	return out
}

func (s *suite) testListPaging(t *testing.T) {
	p := s.newProvider(t)
	rr, rw := recordObject(t, p)
	ctx := t.Context()

	want := map[string]bool{}
	for i := range RecordCount {
		r, err := rw.CreateRecord(ctx, petObject, crm.RecordInput{Properties: map[string]any{"name": fmt.Sprintf("pet %03d", i), "age": float64(i)}})
		if err != nil {
			t.Fatalf("CreateRecord %d: %v", i, err)
		}
		want[r.ID] = true
	}
	if len(want) != RecordCount {
		t.Fatalf("CreateRecord gave %d distinct ids for %d records", len(want), RecordCount)
	}

	seen := map[string]int{}
	cursor := ""
	pages := 0
	for {
		pages++
		if pages > RecordCount/PageSize+2 {
			t.Fatalf("ListRecords: more than %d pages", pages-1)
		}
		page, err := rr.ListRecords(ctx, petObject, crm.RecordQuery{Cursor: cursor, PageSize: PageSize})
		if err != nil {
			t.Fatalf("ListRecords page %d: %v", pages, err)
		}
		if len(page.Items) > PageSize {
			t.Errorf("page %d has %d records, page size %d", pages, len(page.Items), PageSize)
		}
		if page.Total >= 0 && page.Total != RecordCount {
			t.Errorf("page %d: total %d, want %d", pages, page.Total, RecordCount)
		}
		for _, r := range page.Items {
			seen[r.ID]++
			if r.ObjectName != petObject {
				t.Errorf("record %s has object %q", r.ID, r.ObjectName)
			}
		}
		if page.NextCursor == "" {
			break
		}
		if page.NextCursor == cursor {
			t.Fatalf("page %d: cursor did not advance", pages)
		}
		cursor = page.NextCursor
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("record %s listed %d times", id, n)
		}
		if !want[id] {
			t.Errorf("record %s listed but not created", id)
		}
	}
	for id := range want {
		if seen[id] == 0 {
			t.Errorf("record %s never listed", id)
		}
	}
	if pages < RecordCount/PageSize+1 {
		t.Errorf("listed %d records in %d pages of %d", len(seen), pages, PageSize)
	}
}

func (s *suite) testBadPaging(t *testing.T) {
	p := s.newProvider(t)
	rr, _ := recordObject(t, p)
	ctx := t.Context()
	if _, err := rr.ListRecords(ctx, petObject, crm.RecordQuery{Cursor: "not a cursor!", PageSize: 10}); !errors.Is(err, crm.ErrInvalidArgument) {
		t.Errorf("ListRecords(malformed cursor): %v, want ErrInvalidArgument", err)
	}
	if _, err := rr.ListRecords(ctx, petObject, crm.RecordQuery{PageSize: 0}); !errors.Is(err, crm.ErrInvalidArgument) {
		t.Errorf("ListRecords(page size 0): %v, want ErrInvalidArgument", err)
	}
	page, err := rr.ListRecords(ctx, petObject, crm.RecordQuery{PageSize: 10})
	if err != nil {
		t.Fatalf("ListRecords(empty object): %v", err)
	}
	if len(page.Items) != 0 || page.NextCursor != "" {
		t.Errorf("ListRecords(empty object): %d items, cursor %q", len(page.Items), page.NextCursor)
	}
}

func (s *suite) testSearch(t *testing.T) {
	p := s.newProvider(t)
	rr, rw := recordObject(t, p)
	ctx := t.Context()
	ids := map[string]string{}
	for _, name := range []string{"Buddy", "Zorro", "Maximilian"} {
		r, err := rw.CreateRecord(ctx, petObject, crm.RecordInput{Properties: map[string]any{"name": name}})
		if err != nil {
			t.Fatalf("CreateRecord(%s): %v", name, err)
		}
		ids[name] = r.ID
	}
	page, err := rr.SearchRecords(ctx, petObject, crm.RecordQuery{Query: "Buddy", PageSize: 10})
	if err != nil {
		t.Fatalf("SearchRecords: %v", err)
	}
	found := map[string]bool{}
	for _, r := range page.Items {
		found[r.ID] = true
	}
	if !found[ids["Buddy"]] {
		t.Errorf("SearchRecords(Buddy) did not find Buddy; got %d records", len(page.Items))
	}
	if found[ids["Zorro"]] || found[ids["Maximilian"]] {
		t.Errorf("SearchRecords(Buddy) found records not matching")
	}
}

func (s *suite) testAssociationSchemas(t *testing.T) {
	p := s.newProvider(t)
	am := need[crm.AssociationManager](t, p)
	sw := need[crm.SchemaWriter](t, p)
	createObject(t, sw, ownerObject)
	createObject(t, sw, petObject)
	ctx := t.Context()

	in := crm.AssociationInput{SourceObject: ownerObject, TargetObject: petObject, Key: "ct_owner_pet", SourceLabel: "Owner", TargetLabel: "Pet"}
	a, warnings, err := am.CreateAssociationSchema(ctx, in)
	if err != nil {
		t.Fatalf("CreateAssociationSchema: %v", err)
	}
	if len(warnings) > 0 {
		t.Errorf("CreateAssociationSchema warned about a clean input: %v", warnings)
	}
	check := func(op string, a crm.AssociationSchema) {
		t.Helper()
		if a.ID == "" || a.Key != in.Key || a.SourceObject != ownerObject || a.TargetObject != petObject || a.SourceLabel != "Owner" || a.TargetLabel != "Pet" {
			t.Errorf("%s: %+v, want %+v", op, a, in)
		}
	}
	check("CreateAssociationSchema", a)

	list, err := am.ListAssociationSchemas(ctx)
	if err != nil {
		t.Fatalf("ListAssociationSchemas: %v", err)
	}
	n := 0
	for _, l := range list {
		if l.ID == a.ID {
			n++
			check("ListAssociationSchemas", l)
		}
	}
	if n != 1 {
		t.Errorf("ListAssociationSchemas lists the new association %d times", n)
	}
}

func (s *suite) testRelations(t *testing.T) {
	p := s.newProvider(t)
	am := need[crm.AssociationManager](t, p)
	sw := need[crm.SchemaWriter](t, p)
	rw := need[crm.RecordWriter](t, p)
	createObject(t, sw, ownerObject)
	createObject(t, sw, petObject)
	ctx := t.Context()

	a, _, err := am.CreateAssociationSchema(ctx, crm.AssociationInput{SourceObject: ownerObject, TargetObject: petObject, Key: "ct_owner_pet", SourceLabel: "Owner", TargetLabel: "Pet"})
	if err != nil {
		t.Fatalf("CreateAssociationSchema: %v", err)
	}
	mk := func(object, name string) string {
		r, err := rw.CreateRecord(ctx, object, crm.RecordInput{Properties: map[string]any{"name": name}})
		if err != nil {
			t.Fatalf("CreateRecord(%s): %v", object, err)
		}
		return r.ID
	}
	owner, pet1, pet2 := mk(ownerObject, "Ann"), mk(petObject, "Rex"), mk(petObject, "Tom")

	rel := func(target string) crm.Relation {
		r, err := am.CreateRelation(ctx, crm.Relation{AssociationID: a.ID, SourceRecordID: owner, TargetRecordID: target})
		if err != nil {
			t.Fatalf("CreateRelation: %v", err)
		}
		if r.ID == "" || r.AssociationID != a.ID || r.SourceRecordID != owner || r.TargetRecordID != target {
			t.Errorf("CreateRelation answered %+v", r)
		}
		return r
	}
	r1, r2 := rel(pet1), rel(pet2)

	// All relations of the owner, one per page.
	all := listRelations(t, am, owner, 1)
	if len(all) != 2 || all[r1.ID].TargetRecordID != pet1 || all[r2.ID].TargetRecordID != pet2 {
		t.Errorf("ListRelations(owner) = %+v, want %s and %s", all, r1.ID, r2.ID)
	}
	for _, r := range all {
		if r.AssociationID != a.ID || r.SourceRecordID != owner {
			t.Errorf("ListRelations(owner): %+v", r)
		}
	}
	// The target side sees its relation too.
	if got := listRelations(t, am, pet1, 100); len(got) != 1 || got[r1.ID].ID != r1.ID {
		t.Errorf("ListRelations(pet1) = %+v, want %s", got, r1.ID)
	}

	if err := am.DeleteRelation(ctx, r1.ID); err != nil {
		t.Fatalf("DeleteRelation: %v", err)
	}
	if got := listRelations(t, am, owner, 100); len(got) != 1 || got[r2.ID].ID != r2.ID {
		t.Errorf("ListRelations after delete = %+v, want only %s", got, r2.ID)
	}
	if _, err := am.ListRelations(ctx, owner, "not a cursor!", 10); !errors.Is(err, crm.ErrInvalidArgument) {
		t.Errorf("ListRelations(malformed cursor): %v, want ErrInvalidArgument", err)
	}
}

// listRelations walks every page of a record's relations.
func listRelations(t *testing.T, am crm.AssociationManager, recordID string, pageSize int) map[string]crm.Relation {
	t.Helper()
	out := map[string]crm.Relation{}
	cursor := ""
	for range 100 {
		page, err := am.ListRelations(t.Context(), recordID, cursor, pageSize)
		if err != nil {
			t.Fatalf("ListRelations(%s): %v", recordID, err)
		}
		if len(page.Items) > pageSize {
			t.Errorf("ListRelations: %d items on a page of %d", len(page.Items), pageSize)
		}
		for _, r := range page.Items {
			if _, dup := out[r.ID]; dup {
				t.Errorf("ListRelations: relation %s listed twice", r.ID)
			}
			out[r.ID] = r
		}
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
	t.Fatal("ListRelations: too many pages")
	return nil
}

func (s *suite) testUnknownObject(t *testing.T) {
	p := s.newProvider(t)
	_, schemas := p.(crm.SchemaReader)
	_, records := p.(crm.RecordReader)
	if !schemas && !records {
		t.Skipf("provider %T reads neither schemas nor records", p)
	}
	ctx := t.Context()
	if sr, ok := p.(crm.SchemaReader); ok {
		if _, err := sr.GetSchema(ctx, "ct_missing"); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("GetSchema(unknown): %v, want ErrNotFound", err)
		}
	}
	if rr, ok := p.(crm.RecordReader); ok {
		if _, err := rr.GetRecord(ctx, "ct_missing", "0123456789abcdef01234567"); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("GetRecord(unknown object): %v, want ErrNotFound", err)
		}
		if _, err := rr.ListRecords(ctx, "ct_missing", crm.RecordQuery{PageSize: 10}); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("ListRecords(unknown object): %v, want ErrNotFound", err)
		}
	}
	if rr, ok := p.(crm.RecordReader); ok {
		if sw, ok := p.(crm.SchemaWriter); ok {
			createObject(t, sw, petObject)
			if _, err := rr.GetRecord(ctx, petObject, "0123456789abcdef01234567"); !errors.Is(err, crm.ErrNotFound) {
				t.Errorf("GetRecord(unknown id): %v, want ErrNotFound", err)
			}
		}
	}
}

// testPassthrough: a passthrough call to a route the provider does not
// have is the provider's own 404, answered (status, headers, body), not an
// error; the caller's headers are not changed.
func (s *suite) testPassthrough(t *testing.T) {
	p := s.newProvider(t)
	pt := need[crm.Passthrough](t, p)
	h := http.Header{"Accept": {"application/json"}}
	resp, err := pt.Passthrough(t.Context(), crm.PassthroughRequest{Method: http.MethodGet, Path: "/crmgate-contract-no-such-route", Header: h})
	if err != nil {
		t.Fatalf("Passthrough(unknown route): %v; want the provider's answer", err)
	}
	if resp.Status != http.StatusNotFound {
		t.Errorf("Passthrough(unknown route): status %d, want 404", resp.Status)
	}
	if len(resp.Header) == 0 || len(resp.Body) == 0 {
		t.Errorf("Passthrough(unknown route): headers %v, body %q; want the provider's", resp.Header, resp.Body)
	}
	if len(h) != 1 || h.Get("Authorization") != "" {
		t.Errorf("Passthrough changed the caller's headers: %v", h)
	}
}
