package ghl_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/providers/ghl"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
)

// TestDecimalFromJSONNumber: monetaryValue is moved digit by digit, never
// through a float.
func TestDecimalFromJSONNumber(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"1000", "1000"}, {"1250.5", "1250.5"}, {"1250.50", "1250.5"},
		{"-3.25", "-3.25"}, {"1e3", "1000"}, {"1.25E+3", "1250"}, {"125e-2", "1.25"}, {"5e-3", "0.005"},
		{"0.30000000000000004", "0.30000000000000004"}, {"12345678901234567890.123", "12345678901234567890.123"},
		{"0.000", "0"}, {"100.0e-2", "1"},
	} {
		got, err := ghl.DecimalFromJSONNumber(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("DecimalFromJSONNumber(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "abc", "1.", ".5", "--1", "1e9999", `"1"`, "null", "+1"} {
		if got, err := ghl.DecimalFromJSONNumber(bad); err == nil {
			t.Errorf("DecimalFromJSONNumber(%q) = %q, want an error", bad, got)
		}
	}
}

// TestOpportunityFromGHL maps GHL's JSON (fieldValue or value custom
// fields, no monetaryValue).
func TestOpportunityFromGHL(t *testing.T) {
	sc := crm.Schema{Properties: []crm.Property{
		{ID: "deal_size", Type: crm.TypeNumber, RawDetails: map[string]any{ghl.RawID: "fld1"}},
		{ID: "name", Type: crm.TypeText, RawDetails: map[string]any{ghl.RawID: "fldname"}},
	}}
	o, err := ghl.OpportunityFromGHL(sc, []byte(`{"id":"op1","name":"Deal","monetaryValue":1234.56,"pipelineId":"p1",
		"pipelineStageId":"s1","assignedTo":"u1","status":"won","contactId":"c1","createdAt":"2025-01-06T09:00:00.000Z",
		"updatedAt":"2025-01-07T09:00:00.000Z","customFields":[{"id":"fld1","fieldValue":7},{"id":"other","value":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "op1" || o.Amount == nil || o.Amount.Amount != "1234.56" || o.Amount.CurrencyCode != "" || o.Status != "won" ||
		o.PipelineID != "p1" || o.StageID != "s1" || o.OwnerID != "u1" || o.ContactID != "c1" ||
		o.CustomFields["deal_size"] != float64(7) || o.CustomFields["other"] != "x" || o.CreatedAt.IsZero() || len(o.Raw) == 0 {
		t.Errorf("mapped %+v", o)
	}
	o, err = ghl.OpportunityFromGHL(sc, []byte(`{"id":"op2","name":"No value"}`))
	if err != nil || o.Amount != nil {
		t.Errorf("without monetaryValue: %+v, %v", o, err)
	}
	for _, bad := range []string{``, `null`, `{"name":"x"}`, `{"id":"x","monetaryValue":"twelve"}`} {
		if _, err := ghl.OpportunityFromGHL(sc, []byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestFakeOpportunities: pipelines, paging, get, create, update, delete
// and the refusals of what HighLevel cannot keep, against the fake.
func TestFakeOpportunities(t *testing.T) {
	fake, c := newFake(t, ghlfake.Options{BurstLimit: -1})
	ids := fake.SeedCRM(fakeLoc)
	fake.AddOpportunityField(fakeLoc, "deal_size", "Deal Size", "NUMERICAL")
	ctx := context.Background()
	sc, err := c.GetSchema(ctx, crm.EntityOpportunity)
	if err != nil {
		t.Fatal(err)
	}

	ps, err := c.ListPipelines(ctx)
	if err != nil || len(ps) != 1 || ps[0].ID != ids.PipelineID || ps[0].Name != ghlfake.SeedPipelineName || len(ps[0].Stages) != len(ids.StageIDs) {
		t.Fatalf("pipelines %+v, %v", ps, err)
	}
	for i, s := range ps[0].Stages {
		if s.ID != ids.StageIDs[i] || s.Position != i || s.Name == "" {
			t.Errorf("stage %d = %+v", i, s)
		}
	}

	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		pg, err := c.ListOpportunities(ctx, sc, crm.EntityQuery{PageSize: 4, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Items) > 4 || pages > 5 {
			t.Fatalf("page %d: %d items", pages, len(pg.Items))
		}
		for _, o := range pg.Items {
			got = append(got, o.ID)
		}
		if cursor = pg.NextCursor; cursor == "" {
			break
		}
	}
	if strings.Join(got, ",") != strings.Join(ids.Opportunities, ",") {
		t.Errorf("listed %v\nwant %v", got, ids.Opportunities)
	}
	if _, err := c.ListOpportunities(ctx, sc, crm.EntityQuery{PageSize: 4, UpdatedAfter: time.Now()}); !errors.Is(err, crm.ErrUnsupported) {
		t.Errorf("updated_after: %v, want ErrUnsupported", err)
	}
	if _, err := c.ListOpportunities(ctx, sc, crm.EntityQuery{PageSize: 4, Cursor: "garbage"}); !errors.Is(err, crm.ErrInvalidArgument) {
		t.Errorf("bad cursor: %v", err)
	}

	if n, err := c.CountOpportunities(ctx, sc, time.Time{}); err != nil || n != ghlfake.SeedOpportunities {
		t.Errorf("count = %d, %v; want %d", n, err, ghlfake.SeedOpportunities)
	}
	if _, err := c.CountOpportunities(ctx, sc, time.Now()); !errors.Is(err, crm.ErrUnsupported) {
		t.Errorf("count updated_after: %v, want ErrUnsupported", err)
	}
	o, err := c.GetOpportunity(ctx, sc, ids.Opportunities[2])
	if err != nil || o.Amount == nil || o.Amount.Amount != "3000" || o.Status != crm.StatusOpen || o.ContactID != ids.Contacts[4] || len(o.Raw) == 0 {
		t.Errorf("seeded opportunity 2: %+v, %v", o, err)
	}

	created, err := c.CreateOpportunity(ctx, sc, crm.Opportunity{Name: "Big deal", PipelineID: ids.PipelineID, ContactID: ids.Contacts[1],
		Amount: &crm.Money{Amount: "1250.75"}, OwnerID: ids.Users[0], CustomFields: map[string]any{"deal_size": 3}})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.Status != crm.StatusOpen || created.StageID != ids.StageIDs[0] || created.Amount.Amount != "1250.75" ||
		created.CustomFields["deal_size"] != float64(3) || created.OwnerID != ids.Users[0] {
		t.Errorf("created %+v", created)
	}
	upd, err := c.UpdateOpportunity(ctx, sc, created.ID, crm.Opportunity{StageID: ids.StageIDs[3], Status: crm.StatusWon},
		crm.Fields{crm.OpportunityStageID: true, crm.OpportunityStatus: true})
	if err != nil || upd.StageID != ids.StageIDs[3] || upd.Status != crm.StatusWon || upd.Name != "Big deal" || upd.Amount.Amount != "1250.75" {
		t.Errorf("updated %+v, %v", upd, err)
	}
	if err := c.DeleteOpportunity(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetOpportunity(ctx, sc, created.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
	if err := c.DeleteOpportunity(ctx, created.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}

	// What HighLevel cannot keep is refused before any call, naming the field.
	fake.ResetCounts()
	for _, tc := range []struct {
		name  string
		o     crm.Opportunity
		set   crm.Fields // nil: a create
		field string
	}{
		{"create without contact", crm.Opportunity{Name: "x", PipelineID: ids.PipelineID}, nil, "contact_id"},
		{"currency", crm.Opportunity{Name: "x", PipelineID: ids.PipelineID, ContactID: ids.Contacts[0], Amount: &crm.Money{CurrencyCode: "USD", Amount: "1"}}, nil, "amount.currency_code"},
		{"16 digits", crm.Opportunity{Name: "x", PipelineID: ids.PipelineID, ContactID: ids.Contacts[0], Amount: &crm.Money{Amount: "1234567890.123456"}}, nil, "amount.amount"},
		{"close date", crm.Opportunity{Name: "x", PipelineID: ids.PipelineID, ContactID: ids.Contacts[0], CloseDate: "2025-03-31"}, nil, "close_date"},
		{"account", crm.Opportunity{Name: "x", PipelineID: ids.PipelineID, ContactID: ids.Contacts[0], AccountID: ids.Businesses[0]}, nil, "account_id"},
		{"unknown custom field", crm.Opportunity{Name: "x", PipelineID: ids.PipelineID, ContactID: ids.Contacts[0], CustomFields: map[string]any{"nope": 1}}, nil, "custom_fields.nope"},
		{"move to another contact", crm.Opportunity{ContactID: ids.Contacts[3]}, crm.Fields{crm.OpportunityContactID: true}, "contact_id"},
	} {
		var err error
		if tc.set == nil {
			_, err = c.CreateOpportunity(ctx, sc, tc.o)
		} else {
			_, err = c.UpdateOpportunity(ctx, sc, ids.Opportunities[0], tc.o, tc.set)
		}
		var ve *crm.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: %v, want a violation on %s", tc.name, err, tc.field)
		}
	}
	if n := fake.RequestCount("POST /opportunities/") + fake.RequestCount("PUT /opportunities/{id}"); n != 0 {
		t.Errorf("%d writes sent for refused input", n)
	}
}
