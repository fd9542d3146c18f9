package unified

import (
	"errors"
	"testing"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
)

// TestAccountsUnsupported: a provider without account capabilities
// answers every account operation with a 501 naming entity, operation
// and provider, before any other call.
func TestAccountsUnsupported(t *testing.T) {
	for op, want := range map[string]string{opList: "list", opGet: "get", opCreate: "create", opUpdate: "update", opDelete: "delete", opCount: "count", opUpsert: "upsert"} {
		var err error
		c := call{p: wrapped{named{}}}
		switch op {
		case opList, opGet, opBatchRead:
			_, err = entityCap[crm.AccountReader](c, crm.EntityAccount, op)
		case opCount:
			_, err = entityCap[crm.AccountCounter](c, crm.EntityAccount, op)
		case opUpsert:
			_, err = entityCap[crm.AccountFinder](c, crm.EntityAccount, op)
		default:
			_, err = entityCap[crm.AccountWriter](c, crm.EntityAccount, op)
		}
		var ue *crm.UnsupportedError
		if !errors.As(err, &ue) || ue.Entity != "account" || ue.Operation != want || ue.Provider != "acme" {
			t.Errorf("%s: %#v", op, err)
		}
	}
}

// TestAccountInput checks an account body: each violation names its
// field; without a mask the fields set are written.
func TestAccountInput(t *testing.T) {
	in, set, err := accountInput(&crmv1.Account{Name: "Acme", Domain: "acme.example", Phones: []*crmv1.Phone{{Number: "+1"}}}, nil)
	if err != nil || in.Name != "Acme" || !set[crm.AccountName] || !set[crm.AccountDomain] || !set[crm.AccountPhones] || set[crm.AccountWebsite] || len(set) != 3 {
		t.Fatalf("input %+v set %v err %v", in, set, err)
	}
	_, set, err = accountInput(&crmv1.Account{}, []string{"website", "emails"})
	if err != nil || len(set) != 2 || !set[crm.AccountWebsite] || !set[crm.AccountEmails] {
		t.Errorf("mask: set %v err %v", set, err)
	}
	for _, tc := range []struct {
		name  string
		in    *crmv1.Account
		mask  []string
		field string
	}{
		{"bad website", &crmv1.Account{Website: "http://"}, nil, "record.website"},
		{"domain with a path", &crmv1.Account{Domain: "acme.example/x"}, nil, "record.domain"},
		{"bad email", &crmv1.Account{Emails: []*crmv1.Email{{Address: "x"}}}, nil, "record.emails[0].address"},
		{"empty phone", &crmv1.Account{Phones: []*crmv1.Phone{{}}}, nil, "record.phones[0].number"},
		{"two primary emails", &crmv1.Account{Emails: []*crmv1.Email{{Address: "a@b.co", IsPrimary: true}, {Address: "c@b.co", IsPrimary: true}}}, nil, "record.emails"},
		{"bad owner", &crmv1.Account{OwnerId: "no way"}, nil, "record.owner_id"},
		{"bad custom field id", &crmv1.Account{CustomFields: mapStruct(map[string]any{"1x": 1.0})}, nil, "record.custom_fields"},
		{"read-only in mask", &crmv1.Account{}, []string{"created_at"}, "update_mask"},
	} {
		_, _, err := accountInput(tc.in, tc.mask)
		var ve *crm.ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) == 0 || ve.Violations[0].Field != tc.field {
			t.Errorf("%s: %v, want a violation on %q", tc.name, err, tc.field)
		}
	}
}

// TestAccountFields: fields selects account fields and custom fields.
func TestAccountFields(t *testing.T) {
	sel, err := parseFields("fields", []string{"name,custom_fields.tier"}, accountFieldNames)
	if err != nil {
		t.Fatal(err)
	}
	m := &crmv1.Account{Id: "a1", Name: "Acme", Website: "acme.example", CustomFields: mapStruct(map[string]any{"tier": "gold", "other": "x"})}
	sel.apply(m.ProtoReflect())
	if m.GetId() != "a1" || m.GetName() != "Acme" || m.GetWebsite() != "" || len(m.GetCustomFields().GetFields()) != 1 {
		t.Errorf("selected %v", m)
	}
	if _, err := parseFields("fields", []string{"first_name"}, accountFieldNames); !errors.Is(err, crm.ErrInvalidArgument) {
		t.Errorf("a contact field on accounts: %v", err)
	}
}
