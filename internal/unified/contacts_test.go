package unified

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/crm"
)

// named is a provider with a name and no entity capability.
type named struct{}

func (named) Check(context.Context) error { return nil }
func (named) ProviderName() string        { return "acme" }

// wrapped is a decorator (as the schema cache is).
type wrapped struct{ inner crm.Provider }

func (wrapped) Check(context.Context) error { return nil }
func (w wrapped) Unwrap() crm.Provider      { return w.inner }

// TestEntityCapUnsupported: a missing capability is a 501 naming entity,
// operation and provider, found through decorators.
func TestEntityCapUnsupported(t *testing.T) {
	_, err := entityCap[crm.ContactReader](call{p: wrapped{named{}}}, crm.EntityContact, opList)
	var ue *crm.UnsupportedError
	if !errors.As(err, &ue) || !errors.Is(err, crm.ErrUnsupported) || ue.Provider != "acme" || ue.Entity != "contact" || ue.Operation != "list" {
		t.Fatalf("err = %#v", err)
	}
	st := status.Convert(apierr.Status(context.Background(), slog.New(slog.DiscardHandler), "/x", err))
	if st.Code() != codes.Unimplemented || st.Message() != "list contact is not supported by acme" {
		t.Errorf("status %v %q", st.Code(), st.Message())
	}
	// A plain ErrUnsupported of the adapter gets the names too.
	err = entityErr(errors.Join(errors.New("no contacts here"), crm.ErrUnsupported), call{p: named{}}, crm.EntityContact, opGet, "c1")
	if !errors.As(err, &ue) || ue.Provider != "acme" || ue.Operation != "get" {
		t.Errorf("entityErr = %#v", err)
	}
}

// TestParseFields checks the fields parameter.
func TestParseFields(t *testing.T) {
	sel, err := parseFields("fields", []string{"first_name, emails", "custom_fields.lead_score"}, contactFieldNames)
	if err != nil {
		t.Fatal(err)
	}
	m := &crmv1.Contact{Id: "c1", FirstName: "A", LastName: "B", Emails: []*crmv1.Email{{Address: "a@b.co"}}}
	m.CustomFields = mapStruct(map[string]any{"lead_score": 1.0, "other": "x"})
	sel.apply(m.ProtoReflect())
	if m.GetId() != "c1" || m.GetFirstName() != "A" || m.GetLastName() != "" || len(m.GetEmails()) != 1 ||
		len(m.GetCustomFields().GetFields()) != 1 || m.GetCustomFields().GetFields()["lead_score"] == nil {
		t.Errorf("selected %v", m)
	}
	for _, bad := range [][]string{{"bogus"}, {"custom_fields.1x"}, {"raw"}} {
		if _, err := parseFields("fields", bad, contactFieldNames); !errors.Is(err, crm.ErrInvalidArgument) {
			t.Errorf("parseFields(%q) = %v", bad, err)
		}
	}
	if sel, err := parseFields("fields", []string{" , "}, contactFieldNames); sel != nil || err != nil {
		t.Errorf("empty fields: %v %v", sel, err)
	}
}
