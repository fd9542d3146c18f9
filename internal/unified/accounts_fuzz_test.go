package unified

import (
	"testing"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
)

// FuzzAccountBody: any create/update account body, upsert key and list
// query gives an account or a validation error naming a field of the
// request: never a panic, never another error.
//
//	go test ./internal/unified -run '^$' -fuzz FuzzAccountBody -fuzztime 10s
func FuzzAccountBody(f *testing.F) {
	for _, s := range []string{
		`{"record":{"name":"Acme","website":"https://www.acme.example/x","domain":"acme.example","phones":[{"number":"+1555"}],"emails":[{"address":"a@acme.example"}]}}`,
		`{"record":{"website":"https://","domain":"a/b","owner_id":"bad id","custom_fields":{"1x":1,"a":null}}}`,
		`{"id":"a1","record":{"description":"x"},"update_mask":"website,phones"}`,
		`{"id":"a1","record":{},"update_mask":"id,created_at"}`,
		`{"upsert_on":{"key":"domain","values":["https://WWW.Acme.example:8080/","..","user@x.example"]},"record":{"name":"A"}}`,
		`{"record":{}}`, `{}`, `{"record":null}`, `[]`, ``,
		`{"page_size":-1,"fields":["name,domain","custom_fields.tier"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var create crmv1.CreateAccountRequest
		if restUnmarshal.Unmarshal(body, &create) == nil && create.GetRecord() != nil {
			_, set, err := accountInput(create.GetRecord(), nil)
			requireValidation(t, err, "record")
			if err == nil && set == nil {
				t.Fatal("no field set and no error")
			}
		}
		var update crmv1.UpdateAccountRequest
		if restUnmarshal.Unmarshal(body, &update) == nil && update.GetRecord() != nil {
			_, _, err := accountInput(update.GetRecord(), update.GetUpdateMask().GetPaths())
			requireValidation(t, err, "record", "update_mask")
		}
		var upsert crmv1.UpsertAccountRequest
		if restUnmarshal.Unmarshal(body, &upsert) == nil {
			for _, v := range upsert.GetUpsertOn().GetValues() {
				if d := crm.DomainOf(v); d != "" && crm.DomainOf(d) != d {
					t.Fatalf("DomainOf(%q) = %q is not a fixed point", v, d)
				}
			}
		}
		var list crmv1.ListAccountsRequest
		if restUnmarshal.Unmarshal(body, &list) == nil {
			sel, err := parseFields("fields", list.GetFields(), accountFieldNames)
			requireValidation(t, err, "fields")
			if err == nil && sel != nil {
				m := &crmv1.Account{Id: "a1", Name: "A"}
				sel.apply(m.ProtoReflect())
				if m.GetId() != "a1" {
					t.Fatal("the selection dropped id")
				}
			}
		}
	})
}
