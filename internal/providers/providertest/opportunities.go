package providertest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
)

// Standard entity cases: opportunities and pipelines. A provider without
// crm.PipelineReader, crm.OpportunityReader or crm.OpportunityWriter skips
// them (the gateway answers 501 naming the entity, operation and
// provider). The account must hold at least one pipeline with a stage
// (providers whose API cannot create pipelines, HighLevel's, seed one in
// their fake); the opportunities are created with a contact when the
// provider is a crm.ContactWriter.

func (s *suite) testOpportunities(t *testing.T) {
	p := s.newProvider(t)
	pr := need[crm.PipelineReader](t, p)
	r := need[crm.OpportunityReader](t, p)
	w := need[crm.OpportunityWriter](t, p)
	ctx := t.Context()
	sc, err := need[crm.SchemaReader](t, p).GetSchema(ctx, crm.EntityOpportunity)
	if err != nil {
		t.Fatalf("GetSchema(opportunity): %v", err)
	}
	ps, err := pr.ListPipelines(ctx)
	if err != nil {
		t.Fatalf("ListPipelines: %v", err)
	}
	if len(ps) == 0 || len(ps[0].Stages) == 0 {
		t.Skip("the account has no pipeline with a stage")
	}
	for _, pl := range ps {
		for i, st := range pl.Stages {
			if st.ID == "" || st.Position != i {
				t.Errorf("pipeline %s stage %d: %+v, want an id at position %d", pl.ID, i, st, i)
			}
		}
	}
	pl := ps[0]
	last := pl.Stages[len(pl.Stages)-1].ID

	contactID := ""
	if cw, ok := p.(crm.ContactWriter); ok {
		csc, err := need[crm.SchemaReader](t, p).GetSchema(ctx, crm.EntityContact)
		if err != nil {
			t.Fatalf("GetSchema(contact): %v", err)
		}
		c, err := cw.CreateContact(ctx, csc, crm.Contact{FirstName: "Deal", Emails: []crm.Email{{Address: "deal.op@example.com"}}})
		if err != nil {
			t.Fatalf("CreateContact: %v", err)
		}
		contactID = c.ID
	}

	in := crm.Opportunity{Name: "Deal 0", PipelineID: pl.ID, StageID: pl.Stages[0].ID, ContactID: contactID,
		Amount: &crm.Money{Amount: "1250.5"}}
	created, err := w.CreateOpportunity(ctx, sc, in)
	skipUnsupported(t, "create", err)
	if err != nil {
		t.Fatalf("CreateOpportunity: %v", err)
	}
	if created.ID == "" || created.Name != in.Name || created.PipelineID != pl.ID || created.StageID != in.StageID ||
		created.Status != crm.StatusOpen || created.Amount == nil || created.Amount.Amount != "1250.5" || created.CreatedAt.IsZero() {
		t.Errorf("created %+v (amount %+v): want the fields given, open, the amount exactly", created, created.Amount)
	}
	got, err := r.GetOpportunity(ctx, sc, created.ID)
	if err != nil {
		t.Fatalf("GetOpportunity: %v", err)
	}
	if got.ID != created.ID || got.Name != in.Name || len(got.Raw) == 0 {
		t.Errorf("got %+v (Raw %d bytes), want the created opportunity with its Raw", got, len(got.Raw))
	}
	upd, err := w.UpdateOpportunity(ctx, sc, created.ID, crm.Opportunity{StageID: last, Status: crm.StatusWon, Name: "ignored"},
		crm.Fields{crm.OpportunityStageID: true, crm.OpportunityStatus: true})
	skipUnsupported(t, "update", err)
	if err != nil {
		t.Fatalf("UpdateOpportunity: %v", err)
	}
	if upd.StageID != last || upd.Status != crm.StatusWon || upd.Name != in.Name || upd.Amount == nil || upd.Amount.Amount != "1250.5" {
		t.Errorf("updated %+v: only stage and status may change", upd)
	}

	want := map[string]bool{created.ID: true}
	for i := 1; i < 5; i++ {
		o, err := w.CreateOpportunity(ctx, sc, crm.Opportunity{Name: fmt.Sprintf("Deal %d", i), PipelineID: pl.ID, ContactID: contactID})
		if err != nil {
			t.Fatalf("CreateOpportunity %d: %v", i, err)
		}
		want[o.ID] = true
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		pg, err := r.ListOpportunities(ctx, sc, crm.EntityQuery{PageSize: 2, Cursor: cursor})
		if err != nil {
			t.Fatalf("ListOpportunities page %d: %v", pages, err)
		}
		if len(pg.Items) > 2 {
			t.Fatalf("page of %d opportunities, asked for 2", len(pg.Items))
		}
		for _, o := range pg.Items {
			if seen[o.ID] {
				t.Errorf("opportunity %s listed twice", o.ID)
			}
			seen[o.ID] = true
		}
		if cursor = pg.NextCursor; cursor == "" {
			break
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("opportunity %s never listed", id)
		}
	}
	if cn, ok := p.(crm.OpportunityCounter); ok {
		n, err := cn.CountOpportunities(ctx, sc, time.Time{})
		skipUnsupported(t, "count", err)
		if err != nil || n != int64(len(want)) {
			t.Errorf("CountOpportunities = %d, %v; want %d", n, err, len(want))
		}
	}
	if _, err := r.ListOpportunities(ctx, sc, crm.EntityQuery{PageSize: 2, Cursor: "%%not-a-cursor%%"}); !errors.Is(err, crm.ErrInvalidArgument) {
		t.Errorf("ListOpportunities with a bad cursor: %v, want ErrInvalidArgument", err)
	}

	err = w.DeleteOpportunity(ctx, created.ID)
	skipUnsupported(t, "delete", err)
	if err != nil {
		t.Fatalf("DeleteOpportunity: %v", err)
	}
	if _, err := r.GetOpportunity(ctx, sc, created.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("GetOpportunity after delete: %v, want ErrNotFound", err)
	}
	if err := w.DeleteOpportunity(ctx, created.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("DeleteOpportunity twice: %v, want ErrNotFound", err)
	}
}
