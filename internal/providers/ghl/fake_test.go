package ghl_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/providers/ghl"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
)

const (
	fakeLoc   = "loc_fake_1"
	fakeToken = "pit-fake-token"
)

// newFake starts a GHL fake and a Client on it.
func newFake(t *testing.T, opts ghlfake.Options) (*ghlfake.Server, *ghl.Client) {
	t.Helper()
	fake := ghlfake.New(opts)
	fake.AddToken(fakeToken, fakeLoc)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c, err := ghl.NewClient(ghl.ClientOptions{BaseURL: srv.URL, LocationID: fakeLoc, Token: ghl.StaticToken(fakeToken), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

// TestFakeListingCost: 250 records in pages of 100 take exactly 3 search
// calls (the adapter stops on total, without an empty fourth page).
func TestFakeListingCost(t *testing.T) {
	fake, c := newFake(t, ghlfake.Options{BurstLimit: -1})
	fake.SeedDemo(fakeLoc, 250)
	fake.ResetCounts()
	ctx := context.Background()
	ids := map[string]bool{}
	cursor := ""
	for {
		page, err := c.ListRecords(ctx, "pet", crm.RecordQuery{PageSize: 100, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Items {
			ids[r.ID] = true
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(ids) != 250 {
		t.Errorf("listed %d records", len(ids))
	}
	if n := fake.RequestCount("POST /objects/{schemaKey}/records/search"); n != 3 || fake.TotalRequests() != 3 {
		t.Errorf("%d search calls, %d in all; want 3", n, fake.TotalRequests())
	}
}

// TestFakeDemoData reads the fake's seeded demo data end to end.
func TestFakeDemoData(t *testing.T) {
	fake, c := newFake(t, ghlfake.Options{BurstLimit: -1})
	fake.SeedDemo(fakeLoc, 12)
	ctx := context.Background()

	objs, err := c.ListObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		s, err := c.GetSchema(ctx, o.Name)
		if err != nil {
			t.Fatalf("GetSchema(%s): %v", o.Name, err)
		}
		for _, p := range s.Properties {
			if p.ID == "" || p.RawDetails[ghl.RawDataType] == nil {
				t.Errorf("%s: property %+v", o.Name, p)
			}
		}
	}
	s, err := c.GetSchema(ctx, "pet")
	if err != nil {
		t.Fatal(err)
	}
	v, _ := s.Property("vaccinated")
	if v.Type != crm.TypeMultipicklist || v.RawDetails[ghl.RawDataType] != "CHECKBOX" || len(v.Options) != 3 {
		t.Errorf("vaccinated: %+v", v)
	}
	page, err := c.SearchRecords(ctx, "pet", crm.RecordQuery{Query: "Luna", PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) == 0 {
		t.Fatal("search Luna found nothing")
	}
	props := propsOf(t, page.Items[0])
	if _, ok := props["age"].(float64); !ok {
		t.Errorf("age is %T", props["age"])
	}
	if price, ok := props["price"].(map[string]any); !ok || price["currency"] != "default" {
		t.Errorf("price %#v", props["price"])
	}
}

// TestFakeGHLSpecificTypes: CHECKBOX, RADIO and TEXTBOX_LIST properties
// round-trip through GHL, and TEXTBOX_LIST values are grouped.
func TestFakeGHLSpecificTypes(t *testing.T) {
	_, c := newFake(t, ghlfake.Options{BurstLimit: -1})
	ctx := context.Background()
	opts := []crm.Option{{Value: "a", Label: "A"}, {Value: "b", Label: "B"}}
	_, err := c.CreateObject(ctx, crm.ObjectInput{
		Name: "pet", Labels: crm.Labels{Singular: "Pet", Plural: "Pets"}, PrimaryFieldID: "name",
		Fields: []crm.Property{
			{ID: "name", Label: "Name", Type: crm.TypeText},
			{ID: "checks", Label: "Checks", Type: crm.TypeMultipicklist, Options: opts, RawDetails: map[string]any{ghl.RawDataType: "CHECKBOX"}},
			{ID: "radio", Label: "Radio", Type: crm.TypePicklist, Options: opts,
				RawDetails: map[string]any{ghl.RawDataType: "RADIO", ghl.RawOptionURLs: map[string]any{"a": "https://example.com/a.png"}}},
			{ID: "boxes", Label: "Boxes", Type: crm.TypeOther, Options: opts, RawDetails: map[string]any{ghl.RawDataType: "TEXTBOX_LIST"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.GetSchema(ctx, "pet")
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]struct {
		typ crm.PropertyType
		dt  string
	}{"checks": {crm.TypeMultipicklist, "CHECKBOX"}, "radio": {crm.TypePicklist, "RADIO"}, "boxes": {crm.TypeOther, "TEXTBOX_LIST"}} {
		p, ok := s.Property(id)
		if !ok || p.Type != want.typ || p.RawDetails[ghl.RawDataType] != want.dt || !reflect.DeepEqual(p.Options, opts) {
			t.Errorf("%s: %+v", id, p)
		}
		// Copy it to another property: same GHL type again.
		p.ID += "_copy"
		got, err := c.CreateProperty(ctx, "pet", p)
		if err != nil {
			t.Fatalf("copy %s: %v", id, err)
		}
		if got.Type != want.typ || got.RawDetails[ghl.RawDataType] != want.dt {
			t.Errorf("copy of %s: %+v", id, got)
		}
	}
	radio, _ := s.Property("radio")
	if urls, _ := radio.RawDetails[ghl.RawOptionURLs].(map[string]any); urls["a"] != "https://example.com/a.png" {
		t.Errorf("radio option urls: %v", radio.RawDetails)
	}

	rec, err := c.CreateRecord(ctx, "pet", crm.RecordInput{Properties: map[string]any{
		"name": "Buddy", "checks": []any{"a"}, "radio": "b", "boxes": map[string]any{"a": "first", "b": "second"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateRecord(ctx, "pet", rec.ID, crm.RecordInput{Properties: map[string]any{"boxes": map[string]any{"b": "changed"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetRecord(ctx, "pet", rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	props := propsOf(t, got)
	if want := map[string]any{"a": "first", "b": "changed"}; !reflect.DeepEqual(props["boxes"], want) {
		t.Errorf("boxes = %#v, want %#v", props["boxes"], want)
	}
	if !reflect.DeepEqual(props["checks"], []any{"a"}) || props["radio"] != "b" {
		t.Errorf("record %+v", props)
	}
}

// TestFakeStandardObjects: GHL's standard objects through the adapter.
func TestFakeStandardObjects(t *testing.T) {
	_, c := newFake(t, ghlfake.Options{BurstLimit: -1})
	ctx := context.Background()
	for _, name := range []string{"contact", "opportunity", "account"} {
		s, err := c.GetSchema(ctx, name)
		if err != nil {
			t.Fatalf("GetSchema(%s): %v", name, err)
		}
		if s.Object.Name != name || s.Object.Type != crm.ObjectStandard {
			t.Errorf("%s: %+v", name, s.Object)
		}
	}
	// Companies take records and custom fields; contacts do not here.
	if _, err := c.CreateProperty(ctx, "account", crm.Property{ID: "tier", Label: "Tier", Type: crm.TypeText}); err != nil {
		t.Errorf("CreateProperty(account): %v", err)
	}
	r, err := c.CreateRecord(ctx, "account", crm.RecordInput{Properties: map[string]any{"name": "Acme", "tier": "gold"}})
	if err != nil {
		t.Fatalf("CreateRecord(account): %v", err)
	}
	if r.ObjectName != "account" || propsOf(t, r)["tier"] != "gold" {
		t.Errorf("account record %+v", r)
	}
	if _, err := c.CreateRecord(ctx, "contact", crm.RecordInput{}); !errors.Is(err, crm.ErrUnsupported) {
		t.Errorf("CreateRecord(contact): %v, want ErrUnsupported", err)
	}
}

// TestFakeAuthAndRateLimit: GHL's 401 and 429 answers come back as
// ProviderErrors with GHL's status and retry hint.
func TestFakeAuthAndRateLimit(t *testing.T) {
	ctx := context.Background()
	t.Run("burst", func(t *testing.T) {
		_, c := newFake(t, ghlfake.Options{BurstLimit: 2})
		var err error
		for range 3 {
			err = c.Check(ctx)
		}
		var pe *crm.ProviderError
		if !errors.As(err, &pe) || pe.Status != 429 || pe.RetryAfter <= 0 {
			t.Errorf("third call: %v, want 429 with a retry hint", err)
		}
	})
	t.Run("revoked token", func(t *testing.T) {
		fake, c := newFake(t, ghlfake.Options{BurstLimit: -1})
		fake.RevokeToken(fakeToken)
		var pe *crm.ProviderError
		if err := c.Check(ctx); !errors.As(err, &pe) || pe.Status != 401 || pe.Message == "" {
			t.Errorf("revoked token: %v, want 401", err)
		}
	})
	t.Run("standard object labels", func(t *testing.T) {
		_, c := newFake(t, ghlfake.Options{BurstLimit: -1})
		desc := "x"
		if _, err := c.UpdateObject(ctx, "contact", crm.ObjectPatch{Description: &desc}); !errors.Is(err, crm.ErrUnsupported) {
			t.Errorf("UpdateObject(contact): %v, want ErrUnsupported", err)
		}
	})
}

// propsOf is r's properties as the gateway reads them.
func propsOf(t *testing.T, r crm.Record) map[string]any {
	t.Helper()
	m, err := r.PropertyMap()
	if err != nil {
		t.Fatal(err)
	}
	return m
}
