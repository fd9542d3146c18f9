package e2e

import (
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
)

// Opportunities (/v0/unified/crm/opportunity) and pipelines over both
// transports against the fake's seeded CRM (ghlfake.SeedCRM: the "Sales"
// pipeline of five stages and ten opportunities) with one custom field of
// opportunities.

// ---------------------------------------------------------------------------
// Client methods

func (c *client) ListOpportunities(req *crmv1.ListOpportunitiesRequest) (*crmv1.ListOpportunitiesResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.ListOpportunities(ctx, req)
		return r, c.grpcDone("ListOpportunities", r, err)
	}
	out := &crmv1.ListOpportunitiesResponse{}
	q := query("cursor", req.GetCursor(), "page_size", itoa(req.GetPageSize()), "updated_after", req.GetUpdatedAfter(),
		"fields", strings.Join(req.GetFields(), ","), "include_raw_data", btoa(req.GetIncludeRawData()))
	return out, c.rest("GET", crmBase+"/opportunity"+q, nil, out)
}

func (c *client) GetOpportunity(req *crmv1.GetOpportunityRequest) (*crmv1.GetOpportunityResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.GetOpportunity(ctx, req)
		return r, c.grpcDone("GetOpportunity", r, err)
	}
	out := &crmv1.GetOpportunityResponse{}
	return out, c.rest("GET", crmBase+"/opportunity/"+esc(req.GetId())+query("fields", strings.Join(req.GetFields(), ",")), nil, out)
}

func (c *client) CreateOpportunity(req *crmv1.CreateOpportunityRequest) (*crmv1.CreateOpportunityResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.CreateOpportunity(ctx, req)
		return r, c.grpcDone("CreateOpportunity", r, err)
	}
	out := &crmv1.CreateOpportunityResponse{}
	return out, c.rest("POST", crmBase+"/opportunity", c.jsonBody(req), out)
}

func (c *client) UpdateOpportunity(req *crmv1.UpdateOpportunityRequest) (*crmv1.UpdateOpportunityResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.UpdateOpportunity(ctx, req)
		return r, c.grpcDone("UpdateOpportunity", r, err)
	}
	out := &crmv1.UpdateOpportunityResponse{}
	return out, c.rest("PATCH", crmBase+"/opportunity/"+esc(req.GetId()), c.jsonBody(req, "id"), out)
}

func (c *client) DeleteOpportunity(req *crmv1.DeleteOpportunityRequest) (*crmv1.DeleteOpportunityResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.DeleteOpportunity(ctx, req)
		return r, c.grpcDone("DeleteOpportunity", r, err)
	}
	out := &crmv1.DeleteOpportunityResponse{}
	return out, c.rest("DELETE", crmBase+"/opportunity/"+esc(req.GetId()), nil, out)
}

func (c *client) ListPipelines(req *crmv1.ListPipelinesRequest) (*crmv1.ListPipelinesResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.ListPipelines(ctx, req)
		return r, c.grpcDone("ListPipelines", r, err)
	}
	out := &crmv1.ListPipelinesResponse{}
	return out, c.rest("GET", crmBase+"/opportunity/pipelines"+query("page_size", itoa(req.GetPageSize()), "cursor", req.GetCursor()), nil, out)
}

func (c *client) CountOpportunities(req *crmv1.CountOpportunitiesRequest) (*crmv1.CountOpportunitiesResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.CountOpportunities(ctx, req)
		return r, c.grpcDone("CountOpportunities", r, err)
	}
	out := &crmv1.CountOpportunitiesResponse{}
	return out, c.rest("GET", crmBase+"/opportunity/_count"+query("updated_after", req.GetUpdatedAfter()), nil, out)
}

// ---------------------------------------------------------------------------
// Fixture

// newOpportunityEnv is an env whose location holds the seeded CRM and the
// custom field deal_size (NUMERICAL) of opportunities.
func newOpportunityEnv(t *testing.T) (*env, ghlfake.SeedCRMIDs) {
	t.Helper()
	e := newEnv(t, gwOptions{}, -1)
	ids := e.f.SeedCRM(e.tn.location)
	e.f.AddOpportunityField(e.tn.location, "deal_size", "Deal Size", "NUMERICAL")
	return e, ids
}

// ---------------------------------------------------------------------------
// Tests

// TestPipelines lists the seeded pipeline, its stages in order.
func TestPipelines(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e, ids := newOpportunityEnv(t)
		c := e.client(t, tr)
		ps := must(c.ListPipelines(&crmv1.ListPipelinesRequest{}))(t).GetItems()
		if len(ps) != 1 || ps[0].GetId() != ids.PipelineID || ps[0].GetName() != ghlfake.SeedPipelineName || len(ps[0].GetStages()) != len(ids.StageIDs) {
			t.Fatalf("pipelines %v", ps)
		}
		want := []string{"New Lead", "Qualified", "Proposal Sent", "Negotiation", "Closed"}
		for i, s := range ps[0].GetStages() {
			if s.GetId() != ids.StageIDs[i] || s.GetName() != want[i] || s.GetPosition() != int32(i) {
				t.Errorf("stage %d = %v, want %s %s at %d", i, s, ids.StageIDs[i], want[i], i)
			}
		}
		one := must(c.ListPipelines(&crmv1.ListPipelinesRequest{PageSize: 1}))(t)
		if len(one.GetItems()) != 1 || one.GetHasNextPage() || one.GetNextCursor() != "" {
			t.Errorf("page of 1: %v", one)
		}
		ae := wantCode(t, second(c.ListPipelines(&crmv1.ListPipelinesRequest{Cursor: "garbage"})), codes.InvalidArgument)
		if !ae.hasField("cursor") {
			t.Errorf("bad cursor: %v", ae)
		}
	})
}

// TestOpportunities lists, reads, creates, updates and deletes
// opportunities.
func TestOpportunities(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e, ids := newOpportunityEnv(t)
		c := e.client(t, tr)

		// Every seeded opportunity once, in pages of 4.
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			page := must(c.ListOpportunities(&crmv1.ListOpportunitiesRequest{PageSize: 4, Cursor: cursor}))(t)
			for _, o := range page.GetItems() {
				got = append(got, o.GetId())
				if o.GetRawData() != nil {
					t.Error("raw_data without include_raw_data")
				}
			}
			if page.GetHasNextPage() != (page.GetNextCursor() != "") {
				t.Errorf("has_next_page %v with next_cursor %q", page.GetHasNextPage(), page.GetNextCursor())
			}
			if cursor = page.GetNextCursor(); cursor == "" {
				break
			}
			if pages > 5 {
				t.Fatal("too many pages")
			}
		}
		if strings.Join(got, ",") != strings.Join(ids.Opportunities, ",") {
			t.Errorf("listed %v\nwant %v", got, ids.Opportunities)
		}

		// Warm: no schema call more; fields and raw data.
		before := e.f.schemaCalls()
		page := must(c.ListOpportunities(&crmv1.ListOpportunitiesRequest{PageSize: 3, Fields: []string{"name", "amount"}, IncludeRawData: true}))(t)
		first := page.GetItems()[0]
		if first.GetId() == "" || first.GetName() == "" || first.GetAmount().GetAmount() != "1000" || first.GetStatus() != "" || first.GetRawData() != nil {
			t.Errorf("fields=name,amount: %v", first)
		}
		one := must(c.GetOpportunity(&crmv1.GetOpportunityRequest{Id: ids.Opportunities[4]}))(t)
		if n := e.f.schemaCalls() - before; n != 0 {
			t.Errorf("%d schema calls warm, want 0", n)
		}
		r := one.GetRecord()
		// Seeded opportunity 4: stage Closed, won, 5000, contact 8.
		if r.GetStatus() != "won" || r.GetStageId() != ids.StageIDs[4] || r.GetPipelineId() != ids.PipelineID ||
			r.GetAmount().GetAmount() != "5000" || r.GetAmount().GetCurrencyCode() != "" || r.GetContactId() != ids.Contacts[8] ||
			r.GetCreatedAt() == nil || one.GetRaw().GetFields()["id"].GetStringValue() != ids.Opportunities[4] {
			t.Errorf("seeded opportunity 4: %v", one)
		}

		// Create, update (stage, status, amount), delete.
		custom, _ := structpb.NewStruct(map[string]any{"deal_size": 3})
		created := must(c.CreateOpportunity(&crmv1.CreateOpportunityRequest{Record: &crmv1.Opportunity{
			Name: "Big deal " + tr, PipelineId: ids.PipelineID, ContactId: ids.Contacts[1], OwnerId: ids.Users[0],
			Amount: &crmv1.Money{Amount: "1250.75"}, CustomFields: custom,
		}}))(t).GetRecord()
		if created.GetId() == "" || created.GetStatus() != "open" || created.GetStageId() != ids.StageIDs[0] ||
			created.GetAmount().GetAmount() != "1250.75" || created.GetCustomFields().GetFields()["deal_size"].GetNumberValue() != 3 {
			t.Errorf("created %v", created)
		}
		upd := must(c.UpdateOpportunity(&crmv1.UpdateOpportunityRequest{Id: created.GetId(),
			Record: &crmv1.Opportunity{StageId: ids.StageIDs[2], Status: "lost", Amount: &crmv1.Money{Amount: "99.9"}}}))(t).GetRecord()
		if upd.GetStageId() != ids.StageIDs[2] || upd.GetStatus() != "lost" || upd.GetAmount().GetAmount() != "99.9" || upd.GetName() != "Big deal "+tr {
			t.Errorf("updated %v", upd)
		}
		upd = must(c.UpdateOpportunity(&crmv1.UpdateOpportunityRequest{Id: created.GetId(),
			Record: &crmv1.Opportunity{}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"owner_id"}}}))(t).GetRecord()
		if upd.GetOwnerId() != "" || upd.GetStatus() != "lost" {
			t.Errorf("owner cleared: %v", upd)
		}
		must(c.DeleteOpportunity(&crmv1.DeleteOpportunityRequest{Id: created.GetId()}))(t)
		wantCode(t, second(c.GetOpportunity(&crmv1.GetOpportunityRequest{Id: created.GetId()})), codes.NotFound)

		// Count (the created one is deleted again).
		if n := must(c.CountOpportunities(&crmv1.CountOpportunitiesRequest{}))(t).GetCount(); n != int32(ghlfake.SeedOpportunities) {
			t.Errorf("count = %d, want %d", n, ghlfake.SeedOpportunities)
		}
		wantCode(t, second(c.CountOpportunities(&crmv1.CountOpportunitiesRequest{UpdatedAfter: "x"})), codes.InvalidArgument)

		// updated_after: HighLevel cannot filter on it, a 501 naming
		// entity, operation and provider.
		c.allow5xx = true
		ae := wantCode(t, second(c.ListOpportunities(&crmv1.ListOpportunitiesRequest{UpdatedAfter: "2025-01-07T04:30:00Z"})), codes.Unimplemented)
		cae := wantCode(t, second(c.CountOpportunities(&crmv1.CountOpportunitiesRequest{UpdatedAfter: "2025-01-07T04:30:00Z"})), codes.Unimplemented)
		c.allow5xx = false
		if !strings.HasPrefix(cae.message, "count opportunity is not supported by ghl") {
			t.Errorf("count updated_after: %v", cae)
		}
		if ae.message != "list opportunity is not supported by ghl: HighLevel's opportunity search cannot filter on the update time (updated_after)" ||
			(tr == REST && ae.httpStatus != http.StatusNotImplemented) {
			t.Errorf("updated_after: %v", ae)
		}
	})
}

// TestOpportunitiesBadInput: every bad input is a 400 naming the field,
// before the provider is asked to write.
func TestOpportunitiesBadInput(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e, ids := newOpportunityEnv(t)
		c := e.client(t, tr)
		must(c.ListOpportunities(&crmv1.ListOpportunitiesRequest{PageSize: 1}))(t) // warm the schema
		str := func(m map[string]any) *structpb.Struct { s, _ := structpb.NewStruct(m); return s }
		valid := func() *crmv1.Opportunity {
			return &crmv1.Opportunity{Name: "X", PipelineId: ids.PipelineID, ContactId: ids.Contacts[0]}
		}
		with := func(f func(o *crmv1.Opportunity)) *crmv1.Opportunity { o := valid(); f(o); return o }
		create := func(o *crmv1.Opportunity) func() error {
			return func() error { return second(c.CreateOpportunity(&crmv1.CreateOpportunityRequest{Record: o})) }
		}
		update := func(o *crmv1.Opportunity, mask ...string) func() error {
			return func() error {
				req := &crmv1.UpdateOpportunityRequest{Id: ids.Opportunities[0], Record: o}
				if len(mask) > 0 {
					req.UpdateMask = &fieldmaskpb.FieldMask{Paths: mask}
				}
				return second(c.UpdateOpportunity(req))
			}
		}
		for _, tc := range []struct {
			name  string
			call  func() error
			field string
		}{
			{"negative page size", func() error { return second(c.ListOpportunities(&crmv1.ListOpportunitiesRequest{PageSize: -1})) }, "page_size"},
			{"bad cursor", func() error { return second(c.ListOpportunities(&crmv1.ListOpportunitiesRequest{Cursor: "garbage"})) }, "cursor"},
			{"unknown field", func() error {
				return second(c.ListOpportunities(&crmv1.ListOpportunitiesRequest{Fields: []string{"bogus"}}))
			}, "fields"},
			{"bad id", func() error { return second(c.GetOpportunity(&crmv1.GetOpportunityRequest{Id: "bad id!"})) }, "id"},
			{"amount not a decimal", create(with(func(o *crmv1.Opportunity) { o.Amount = &crmv1.Money{Amount: "12,50"} })), "record.amount.amount"},
			{"amount with an exponent", create(with(func(o *crmv1.Opportunity) { o.Amount = &crmv1.Money{Amount: "1e3"} })), "record.amount.amount"},
			{"amount GHL cannot keep", create(with(func(o *crmv1.Opportunity) { o.Amount = &crmv1.Money{Amount: "1234567890.1234567"} })), "record.amount.amount"},
			{"bad currency", create(with(func(o *crmv1.Opportunity) { o.Amount = &crmv1.Money{Amount: "1", CurrencyCode: "dollars"} })), "record.amount.currency_code"},
			{"currency GHL lacks", create(with(func(o *crmv1.Opportunity) { o.Amount = &crmv1.Money{Amount: "1", CurrencyCode: "USD"} })), "record.amount.currency_code"},
			{"bad status", create(with(func(o *crmv1.Opportunity) { o.Status = "pending" })), "record.status"},
			{"bad close date", create(with(func(o *crmv1.Opportunity) { o.CloseDate = "31/03/2025" })), "record.close_date"},
			{"close date GHL lacks", create(with(func(o *crmv1.Opportunity) { o.CloseDate = "2025-03-31" })), "record.close_date"},
			{"account GHL lacks", create(with(func(o *crmv1.Opportunity) { o.AccountId = ids.Businesses[0] })), "record.account_id"},
			{"unknown pipeline", create(with(func(o *crmv1.Opportunity) { o.PipelineId = "nosuchpipeline" })), "record.pipeline_id"},
			{"stage of no pipeline", create(with(func(o *crmv1.Opportunity) { o.StageId = "nosuchstage" })), "record.stage_id"},
			{"no contact", create(with(func(o *crmv1.Opportunity) { o.ContactId = "" })), "record.contact_id"},
			{"unknown custom field", create(with(func(o *crmv1.Opportunity) { o.CustomFields = str(map[string]any{"nope": 1}) })), "record.custom_fields.nope"},
			{"custom field of the wrong type", create(with(func(o *crmv1.Opportunity) { o.CustomFields = str(map[string]any{"deal_size": "big"}) })), "record.custom_fields.deal_size"},
			{"empty create", create(&crmv1.Opportunity{}), "record"},
			{"update unknown stage", update(&crmv1.Opportunity{StageId: "nosuchstage"}), "record.stage_id"},
			{"update pipeline without stage", update(&crmv1.Opportunity{PipelineId: ids.PipelineID}), "record.stage_id"},
			{"update contact", update(&crmv1.Opportunity{ContactId: ids.Contacts[3]}), "record.contact_id"},
			{"clear status", update(&crmv1.Opportunity{}, "status"), "record.status"},
			{"bad update mask", update(&crmv1.Opportunity{}, "id"), "update_mask"},
			{"empty update", update(&crmv1.Opportunity{}), "record"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				writes := func() int {
					return e.f.RequestCount("POST /opportunities/") + e.f.RequestCount("PUT /opportunities/{id}") + e.f.RequestCount("GET /opportunities/search")
				}
				before := writes()
				ae := wantCode(t, tc.call(), codes.InvalidArgument)
				if !ae.hasField(tc.field) {
					t.Errorf("violations %v, want one on %q", ae.violations, tc.field)
				}
				if tr == REST && ae.httpStatus != http.StatusBadRequest {
					t.Errorf("HTTP %d, want 400", ae.httpStatus)
				}
				if n := writes() - before; n != 0 {
					t.Errorf("the provider was called (%d opportunity calls)", n)
				}
			})
		}
	})
}

// TestOpportunityGolden pins the REST shape of an opportunity (GET, with
// raw) and of the pipelines.
func TestOpportunityGolden(t *testing.T) {
	t.Parallel()
	e, ids := newOpportunityEnv(t)
	replace := func(raw string) string {
		raw = strings.ReplaceAll(raw, ids.PipelineID, "<pipeline-id>")
		for i, s := range ids.StageIDs {
			raw = strings.ReplaceAll(raw, s, "<stage-id-"+itoa(int32(i))+">")
		}
		raw = strings.ReplaceAll(raw, e.tn.location, "<location-id>")
		for _, u := range ids.Users {
			raw = strings.ReplaceAll(raw, u, "<user-id>")
		}
		return raw
	}
	r := e.g.do(t, "GET", crmBase+"/opportunity/"+ids.Opportunities[4], hdr(e.tn.key, e.tn.connID), nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET opportunity: %d %s", r.status, r.raw)
	}
	raw := strings.ReplaceAll(string(r.raw), ids.Opportunities[4], "<opportunity-id>")
	raw = strings.ReplaceAll(raw, ids.Contacts[8], "<contact-id>")
	golden(t, "opportunity_get", []byte(replace(raw)))

	r = e.g.do(t, "GET", crmBase+"/opportunity/pipelines", hdr(e.tn.key, e.tn.connID), nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET pipelines: %d %s", r.status, r.raw)
	}
	golden(t, "opportunity_pipelines", []byte(replace(string(r.raw))))
}

// TestOpportunityCreateIdempotencyKey: a create repeated with the same
// Idempotency-Key answers the first opportunity without a second GHL
// create.
func TestOpportunityCreateIdempotencyKey(t *testing.T) {
	t.Parallel()
	e, ids := newOpportunityEnv(t)
	h := hdr(e.tn.key, e.tn.connID)
	h["idempotency-key"] = "opportunity-" + randHex(6)
	body := map[string]any{"record": map[string]any{"name": "Once", "pipeline_id": ids.PipelineID, "contact_id": ids.Contacts[2]}}
	first := e.g.do(t, "POST", crmBase+"/opportunity", h, body)
	if first.status != http.StatusOK {
		t.Fatalf("create: %d %s", first.status, first.raw)
	}
	again := e.g.do(t, "POST", crmBase+"/opportunity", h, body)
	id := str(first.body["record"].(map[string]any)["id"])
	if again.status != http.StatusOK || str(again.body["record"].(map[string]any)["id"]) != id || e.f.RequestCount("POST /opportunities/") != 1 {
		t.Fatalf("repeat: %d %s; %d GHL creates", again.status, again.raw, e.f.RequestCount("POST /opportunities/"))
	}
}
