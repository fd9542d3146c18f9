package unified

import (
	"testing"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// FuzzContactBody: any create/update contact body, and any list query,
// gives a contact or a validation error naming a field of the request:
// never a panic, never another error.
//
//	go test ./internal/unified -run '^$' -fuzz FuzzContactBody -fuzztime 10s
func FuzzContactBody(f *testing.F) {
	for _, s := range []string{
		`{"record":{"first_name":"Ada","emails":[{"address":"ada@example.com","is_primary":true}],"phones":[{"number":"+1555"}],"custom_fields":{"lead_score":7},"tags":["vip"]}}`,
		`{"record":{"emails":[{"address":"nope"},{"address":"a@b.co","is_primary":true},{"address":"c@d.co","is_primary":true}]}}`,
		`{"record":{"phones":[{"number":""}],"account_id":"bad id","custom_fields":{"1x":1,"a":null}}}`,
		`{"id":"c1","record":{"lifecycle_stage":"customer"},"update_mask":"tags,emails"}`,
		`{"id":"c1","record":{},"update_mask":"id,custom_fields.x"}`,
		`{"record":{}}`, `{}`, `{"record":null}`, `[]`, ``,
		`{"page_size":-1,"updated_after":"2025-01-06T09:00:00Z","fields":["first_name,emails","custom_fields.lead_score"]}`,
		`{"updated_after":"yesterday","fields":["bogus"," ,"]}`,
		`{"filters":[{"field":"tags","operator":"in","value":["vip","x"]},{"field":"created_at","operator":"gt","value":"2025-01-06T09:00:00Z"}],"sort":{"field":"last_name","direction":"desc"}}`,
		`{"filters":[{"field":"custom_fields.1x","operator":"eq","value":1},{"field":"first_name","operator":"lt","value":null},{"field":"emails","operator":"in","value":[]}]}`,
		`{"filters":[{"field":"updated_at","operator":"eq","value":"x"},{"operator":"like"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var create crmv1.CreateContactRequest
		if restUnmarshal.Unmarshal(body, &create) == nil && create.GetRecord() != nil {
			_, set, err := contactInput(create.GetRecord(), nil)
			requireValidation(t, err, "record")
			if err == nil && set == nil {
				t.Fatal("no field set and no error")
			}
		}
		var update crmv1.UpdateContactRequest
		if restUnmarshal.Unmarshal(body, &update) == nil && update.GetRecord() != nil {
			_, _, err := contactInput(update.GetRecord(), update.GetUpdateMask().GetPaths())
			requireValidation(t, err, "record", "update_mask")
		}
		var search crmv1.SearchContactsRequest
		if restUnmarshal.Unmarshal(body, &search) == nil {
			fs, err := contactFilters(search.GetFilters())
			requireValidation(t, err, "filters")
			if err == nil && len(fs) != len(search.GetFilters()) {
				t.Fatalf("%d filters checked into %d", len(search.GetFilters()), len(fs))
			}
		}
		var list crmv1.ListContactsRequest
		if restUnmarshal.Unmarshal(body, &list) == nil {
			_, err := parseUpdatedAfter(list.GetUpdatedAfter())
			requireValidation(t, err, "updated_after")
			sel, err := parseFields("fields", list.GetFields(), contactFieldNames)
			requireValidation(t, err, "fields")
			if err == nil && sel != nil {
				m := &crmv1.Contact{Id: "c1", FirstName: "A", Tags: []string{"t"}}
				sel.apply(m.ProtoReflect())
				if m.GetId() != "c1" {
					t.Fatal("the selection dropped id")
				}
			}
		}
	})
}
