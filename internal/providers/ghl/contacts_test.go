package ghl

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
)

// contactSchema is a contact schema as GET /objects/contact answers it:
// standard fields and two custom ones.
func testContactSchema() crm.Schema {
	prop := func(id, ghlID string, t crm.PropertyType) crm.Property {
		return crm.Property{ID: id, Type: t, RawDetails: map[string]any{RawID: ghlID}}
	}
	return crm.Schema{Object: crm.Object{Name: "contact", Type: crm.ObjectStandard}, Properties: []crm.Property{
		prop("first_name", "std1", crm.TypeText),
		prop("email", "std2", crm.TypeEmail),
		prop("favourite_color", "cf1", crm.TypeText),
		prop("lead_score", "cf2", crm.TypeNumber),
	}}
}

// TestContactFromGHL maps GHL contact JSON to the neutral contact.
func TestContactFromGHL(t *testing.T) {
	sc := testContactSchema()
	for _, tc := range []struct {
		name string
		in   string
		want crm.Contact
	}{
		{
			name: "full",
			in: `{"id":"c1","name":"Ada Lovelace","firstName":"Ada","lastName":"Lovelace","email":"ada@example.com",
				"additionalEmails":["ada@home.example.org",{"email":"ada@work.example.org"}],"phone":"+15550100",
				"additionalPhones":["+15550101"],"companyName":"Acme","address1":"1 Main St","city":"Springfield",
				"state":"IL","postalCode":"62701","country":"US","assignedTo":"u1","type":"customer","businessId":"b1",
				"tags":["vip"],"customFields":[{"id":"cf1","value":"blue"},{"id":"cf2","value":42},{"id":"new1","value":"x"}],
				"dateAdded":"2025-01-06T09:00:00.000Z","dateUpdated":"2025-01-07T10:00:00.000Z","website":"https://a.example"}`,
			want: crm.Contact{
				ID: "c1", FirstName: "Ada", LastName: "Lovelace", Name: "Ada Lovelace",
				Emails:      []crm.Email{{Address: "ada@example.com", Primary: true}, {Address: "ada@home.example.org"}, {Address: "ada@work.example.org"}},
				Phones:      []crm.Phone{{Number: "+15550100", Primary: true}, {Number: "+15550101"}},
				Addresses:   []crm.Address{{Street: "1 Main St", City: "Springfield", State: "IL", PostalCode: "62701", Country: "US"}},
				CompanyName: "Acme", AccountID: "b1", OwnerID: "u1", LifecycleStage: "customer", Tags: []string{"vip"},
				CustomFields: map[string]any{"favourite_color": "blue", "lead_score": float64(42), "new1": "x"},
				CreatedAt:    time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2025, 1, 7, 10, 0, 0, 0, time.UTC),
			},
		},
		{
			name: "minimal, name from first and last",
			in:   `{"id":"c2","firstName":"Alan","lastName":"Turing","type":"lead","additionalEmails":null}`,
			want: crm.Contact{ID: "c2", FirstName: "Alan", LastName: "Turing", Name: "Alan Turing", LifecycleStage: "lead",
				Tags: []string{}, CustomFields: map[string]any{}},
		},
		{
			name: "additional email repeating the primary is dropped",
			in:   `{"id":"c3","email":"a@example.com","additionalEmails":["a@example.com"]}`,
			want: crm.Contact{ID: "c3", Emails: []crm.Email{{Address: "a@example.com", Primary: true}}, Tags: []string{}, CustomFields: map[string]any{}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ContactFromGHL(sc, json.RawMessage(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Raw) != tc.in {
				t.Errorf("Raw = %s", got.Raw)
			}
			got.Raw = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{``, `null`, `[]`, `{}`, `{"id":""}`, `{"id":"x","tags":"vip"}`, `{"id":"x","additionalEmails":[1]}`} {
		if _, err := ContactFromGHL(sc, json.RawMessage(bad)); err == nil {
			t.Errorf("ContactFromGHL(%q) succeeded", bad)
		}
	}
}

// TestContactBody maps neutral contact writes to GHL bodies.
func TestContactBody(t *testing.T) {
	sc := testContactSchema()
	all := crm.Fields{}
	for _, f := range crm.ContactWritable {
		all[f] = true
	}
	s := func(v string) *string { return &v }
	l := func(v ...string) *[]string { return &v }
	for _, tc := range []struct {
		name string
		in   crm.Contact
		set  crm.Fields
		want string
		bad  []string // violation fields
	}{
		{
			name: "every field",
			in: crm.Contact{FirstName: "Ada", LastName: "Lovelace", Name: "Ada L",
				Emails:      []crm.Email{{Address: "a@home.example"}, {Address: "a@example.com", Primary: true, Type: "work"}},
				Phones:      []crm.Phone{{Number: "+1555"}},
				Addresses:   []crm.Address{{Street: "1 Main", City: "X", State: "S", PostalCode: "1", Country: "US", Type: "home"}},
				CompanyName: "Acme", AccountID: "b1", OwnerID: "u1", LifecycleStage: "customer", Tags: []string{"vip"},
				CustomFields: map[string]any{"lead_score": 7.0, "favourite_color": nil}},
			set: all,
			want: mustJSON(t, contactBody{FirstName: s("Ada"), LastName: s("Lovelace"), Name: s("Ada L"), Email: s("a@example.com"),
				AdditionalEmails: l("a@home.example"), Phone: s("+1555"), AdditionalPhones: &[]string{}, Address1: s("1 Main"), City: s("X"),
				State: s("S"), PostalCode: s("1"), Country: s("US"), CompanyName: s("Acme"), BusinessID: s("b1"), AssignedTo: s("u1"),
				Type: s("customer"), Tags: l("vip"),
				CustomFields: []ghlCustomInput{{ID: "cf1", FieldValue: nil}, {ID: "cf2", FieldValue: 7.0}}}),
		},
		{
			name: "only the named fields; empty lists clear",
			in:   crm.Contact{FirstName: "Ada", LastName: "ignored"},
			set:  crm.Fields{crm.ContactFirstName: true, crm.ContactTags: true, crm.ContactEmails: true},
			want: `{"firstName":"Ada","email":"","additionalEmails":[],"tags":[]}`,
		},
		{
			name: "refused",
			in: crm.Contact{Emails: []crm.Email{{Address: "a@x.io", Primary: true}, {Address: "b@x.io", Primary: true}},
				Phones:    []crm.Phone{{Number: "1", Primary: true}, {Number: "2", Primary: true}},
				Addresses: []crm.Address{{City: "A"}, {City: "B"}}, LifecycleStage: "prospect",
				CustomFields: map[string]any{"first_name": "x", "nope": 1.0}},
			set: all,
			bad: []string{"emails", "phones", "addresses", "lifecycle_stage", "custom_fields.first_name", "custom_fields.nope"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := buildContactBody(sc, tc.in, tc.set)
			if tc.bad != nil {
				var ve *crm.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("err = %v, want a ValidationError", err)
				}
				var got []string
				for _, v := range ve.Violations {
					got = append(got, v.Field)
				}
				if !reflect.DeepEqual(got, tc.bad) {
					t.Errorf("violations on %q, want %q (%v)", got, tc.bad, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := mustJSON(t, b); got != tc.want {
				t.Errorf("body\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestContactScopeRefusal: GHL's 401 "not authorized for this scope"
// becomes a 403 naming the scope the call needs.
func TestContactScopeRefusal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"statusCode":401,"message":"The token is not authorized for this scope."}`))
	}))
	defer srv.Close()
	c, err := NewClient(ClientOptions{BaseURL: srv.URL, LocationID: "loc1", Token: StaticToken("t"), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	sc := testContactSchema()
	for _, tc := range []struct {
		name, scope string
		call        func() error
	}{
		{"list", "contacts.readonly", func() error { _, err := c.ListContacts(t.Context(), sc, crm.EntityQuery{PageSize: 1}); return err }},
		{"get", "contacts.readonly", func() error { _, err := c.GetContact(t.Context(), sc, "c1"); return err }},
		{"create", "contacts.write", func() error { _, err := c.CreateContact(t.Context(), sc, crm.Contact{FirstName: "A"}); return err }},
		{"delete", "contacts.write", func() error { return c.DeleteContact(t.Context(), "c1") }},
	} {
		var pe *crm.ProviderError
		if err := tc.call(); !errors.As(err, &pe) || pe.Status != http.StatusForbidden || !strings.Contains(pe.Message, tc.scope) {
			t.Errorf("%s: %v, want a 403 naming %s", tc.name, err, tc.scope)
		}
	}
}

// TestCreateContactBody: a create sends the fields that are set, and the
// location, nothing empty.
func TestCreateContactBody(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := new(strings.Builder)
		_, _ = io.Copy(b, r.Body)
		got = b.String()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"contact":{"id":"c9","firstName":"Ada","type":"lead"}}`))
	}))
	defer srv.Close()
	c, err := NewClient(ClientOptions{BaseURL: srv.URL, LocationID: "loc1", Token: StaticToken("t"), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := c.CreateContact(t.Context(), testContactSchema(), crm.Contact{FirstName: "Ada", Tags: []string{"vip"}})
	if err != nil || ct.ID != "c9" {
		t.Fatalf("create: %+v %v", ct, err)
	}
	if want := `{"locationId":"loc1","firstName":"Ada","tags":["vip"]}`; got != want {
		t.Errorf("body %s, want %s", got, want)
	}
}
