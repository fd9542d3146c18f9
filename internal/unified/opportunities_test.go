package unified

import (
	"errors"
	"strings"
	"testing"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
)

// TestOpportunityCapUnsupported: a provider without opportunities or
// pipelines is a 501 naming entity, operation and provider.
func TestOpportunityCapUnsupported(t *testing.T) {
	for _, tc := range []struct {
		op  string
		err error
	}{
		{opList, second(entityCap[crm.OpportunityReader](call{p: wrapped{named{}}}, crm.EntityOpportunity, opList))},
		{opCreate, second(entityCap[crm.OpportunityWriter](call{p: named{}}, crm.EntityOpportunity, opCreate))},
		{opListPipelines, second(entityCap[crm.PipelineReader](call{p: named{}}, crm.EntityOpportunity, opListPipelines))},
	} {
		var ue *crm.UnsupportedError
		if !errors.As(tc.err, &ue) || ue.Provider != "acme" || ue.Entity != "opportunity" || ue.Operation != tc.op {
			t.Errorf("%s: %#v", tc.op, tc.err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestOpportunityInput: the fields a write sets, and the 400s naming them.
func TestOpportunityInput(t *testing.T) {
	in, set, err := opportunityInput(&crmv1.Opportunity{Name: "Deal", Amount: &crmv1.Money{Amount: "-1250.50", CurrencyCode: "EUR"},
		Status: "won", CloseDate: "2025-03-31", PipelineId: "p1", StageId: "s-1"}, nil)
	if err != nil || in.Amount.Amount != "-1250.50" || in.Amount.CurrencyCode != "EUR" || len(set) != 6 || set[crm.OpportunityOwnerID] {
		t.Fatalf("valid input: %+v %v %v", in, set, err)
	}
	_, set, err = opportunityInput(&crmv1.Opportunity{}, []string{"amount", "owner_id"})
	if err != nil || !set[crm.OpportunityAmount] || !set[crm.OpportunityOwnerID] || len(set) != 2 {
		t.Errorf("mask: %v %v", set, err)
	}
	for _, tc := range []struct {
		o     *crmv1.Opportunity
		mask  []string
		field string
	}{
		{&crmv1.Opportunity{Amount: &crmv1.Money{Amount: "1.5e3"}}, nil, "record.amount.amount"},
		{&crmv1.Opportunity{Amount: &crmv1.Money{Amount: "01"}}, nil, "record.amount.amount"},
		{&crmv1.Opportunity{Amount: &crmv1.Money{Amount: ""}}, nil, "record.amount.amount"},
		{&crmv1.Opportunity{Amount: &crmv1.Money{Amount: "1.", CurrencyCode: "US"}}, nil, "record.amount.currency_code"},
		{&crmv1.Opportunity{Amount: &crmv1.Money{Amount: strings.Repeat("9", 41)}}, nil, "record.amount.amount"},
		{&crmv1.Opportunity{Status: "closed"}, nil, "record.status"},
		{&crmv1.Opportunity{}, []string{"status"}, "record.status"},
		{&crmv1.Opportunity{CloseDate: "2025-02-30"}, nil, "record.close_date"},
		{&crmv1.Opportunity{StageId: "a stage"}, nil, "record.stage_id"},
		{&crmv1.Opportunity{}, []string{"created_at"}, "update_mask"},
	} {
		_, _, err := opportunityInput(tc.o, tc.mask)
		var ve *crm.ValidationError
		if !errors.As(err, &ve) || !hasViolation(ve, tc.field) {
			t.Errorf("%v mask %v: %v, want a violation on %s", tc.o, tc.mask, err, tc.field)
		}
	}
}

func hasViolation(ve *crm.ValidationError, field string) bool {
	for _, v := range ve.Violations {
		if v.Field == field {
			return true
		}
	}
	return false
}

// TestStageInPipelines: the pipeline must exist and hold the stage.
func TestStageInPipelines(t *testing.T) {
	ps := []crm.Pipeline{{ID: "p1", Stages: []crm.Stage{{ID: "a", Name: "A"}, {ID: "b", Name: "B", Position: 1}}}, {ID: "p2", Stages: []crm.Stage{{ID: "c"}}}}
	for _, tc := range []struct {
		pipeline, stage, field string
	}{
		{"p1", "a", ""}, {"p1", "", ""}, {"", "c", ""}, {"", "", ""},
		{"p1", "c", "record.stage_id"}, {"p3", "a", "record.pipeline_id"}, {"", "zz", "record.stage_id"},
	} {
		err := stageInPipelines(ps, tc.pipeline, tc.stage)
		var ve *crm.ValidationError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s/%s: %v", tc.pipeline, tc.stage, err)
		case tc.field != "" && (!errors.As(err, &ve) || !hasViolation(ve, tc.field)):
			t.Errorf("%s/%s: %v, want a violation on %s", tc.pipeline, tc.stage, err, tc.field)
		}
	}
}
