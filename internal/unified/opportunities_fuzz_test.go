package unified

import (
	"testing"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// FuzzOpportunityBody: any create/update opportunity body and any list
// query gives an opportunity or a validation error naming a field of the
// request: never a panic, never another error.
//
//	go test ./internal/unified -run '^$' -fuzz FuzzOpportunityBody -fuzztime 10s
func FuzzOpportunityBody(f *testing.F) {
	for _, s := range []string{
		`{"record":{"name":"Deal","amount":{"amount":"1250.50","currency_code":"USD"},"status":"won","pipeline_id":"p1","stage_id":"s-1","close_date":"2025-03-31","custom_fields":{"deal_size":3}}}`,
		`{"record":{"amount":{"amount":"1e3"},"status":"closed","close_date":"31/03","owner_id":"bad id","custom_fields":{"1x":1}}}`,
		`{"record":{"amount":{"amount":12.5}}}`, `{"record":{"amount":{}}}`,
		`{"id":"o1","record":{},"update_mask":"status,amount"}`, `{"id":"o1","record":{},"update_mask":"id"}`,
		`{"record":{}}`, `{}`, `{"record":null}`, `[]`, ``,
		`{"page_size":-1,"updated_after":"2025-01-06T09:00:00Z","fields":["name,amount","custom_fields.deal_size"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var create crmv1.CreateOpportunityRequest
		if restUnmarshal.Unmarshal(body, &create) == nil && create.GetRecord() != nil {
			_, set, err := opportunityInput(create.GetRecord(), nil)
			requireValidation(t, err, "record")
			if err == nil && set == nil {
				t.Fatal("no field set and no error")
			}
		}
		var update crmv1.UpdateOpportunityRequest
		if restUnmarshal.Unmarshal(body, &update) == nil && update.GetRecord() != nil {
			_, _, err := opportunityInput(update.GetRecord(), update.GetUpdateMask().GetPaths())
			requireValidation(t, err, "record", "update_mask")
		}
		var list crmv1.ListOpportunitiesRequest
		if restUnmarshal.Unmarshal(body, &list) == nil {
			_, err := parseUpdatedAfter(list.GetUpdatedAfter())
			requireValidation(t, err, "updated_after")
			sel, err := parseFields("fields", list.GetFields(), opportunityFieldNames)
			requireValidation(t, err, "fields")
			if err == nil && sel != nil {
				m := &crmv1.Opportunity{Id: "o1", Name: "A", Status: "open"}
				applyOpportunity(sel, m)
				if m.GetId() != "o1" {
					t.Fatal("the selection dropped id")
				}
			}
		}
	})
}
