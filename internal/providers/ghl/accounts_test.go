package ghl

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
)

// TestAccountFromGHL maps GHL business JSON (BusinessDto) to accounts.
func TestAccountFromGHL(t *testing.T) {
	full := `{"id":"63771dcac1116f0e21de8e12","name":"Microsoft","phone":"+18832327657","email":"abc@microsoft.com",
		"website":"https://www.Microsoft.com/en","address":"1 Way","city":"Redmond","state":"WA","postalCode":"98052",
		"country":"US","description":"Software","locationId":"loc","createdAt":"2025-01-06T09:00:00.000Z","updatedAt":"2025-01-07T09:00:00.000Z"}`
	a, err := AccountFromGHL(json.RawMessage(full))
	if err != nil {
		t.Fatal(err)
	}
	want := crm.Account{ID: "63771dcac1116f0e21de8e12", Name: "Microsoft", Website: "https://www.Microsoft.com/en", Domain: "microsoft.com",
		Phones: []crm.Phone{{Number: "+18832327657", Primary: true}}, Emails: []crm.Email{{Address: "abc@microsoft.com", Primary: true}},
		Addresses:   []crm.Address{{Street: "1 Way", City: "Redmond", State: "WA", PostalCode: "98052", Country: "US"}},
		Description: "Software", CustomFields: map[string]any{},
		CreatedAt: time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2025, 1, 7, 9, 0, 0, 0, time.UTC), Raw: json.RawMessage(full)}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("got  %+v\nwant %+v", a, want)
	}
	bare, err := AccountFromGHL(json.RawMessage(`{"id":"b1","name":"Bare"}`))
	if err != nil || bare.Phones != nil || bare.Emails != nil || bare.Addresses != nil || bare.Domain != "" {
		t.Errorf("bare business: %+v, %v", bare, err)
	}
	for _, bad := range []string{``, `null`, `{"name":"no id"}`, `[1]`} {
		if _, err := AccountFromGHL(json.RawMessage(bad)); err == nil {
			t.Errorf("AccountFromGHL(%q) accepted", bad)
		}
	}
}

// TestBuildBusinessBody: the fields named are written, the others left
// out; what a business cannot keep is refused naming the field.
func TestBuildBusinessBody(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, tc := range []struct {
		name  string
		in    crm.Account
		set   crm.Fields
		want  businessBody
		field string // violation wanted
	}{
		{"create", crm.Account{Name: "Acme", Website: "acme.example", Phones: []crm.Phone{{Number: "1"}}, Emails: []crm.Email{{Address: "a@acme.example"}},
			Addresses: []crm.Address{{Street: "S", City: "C"}}, Description: "D"},
			crm.Fields{"name": true, "website": true, "phones": true, "emails": true, "addresses": true, "description": true},
			businessBody{Name: s("Acme"), Website: s("acme.example"), Phone: s("1"), Email: s("a@acme.example"),
				Address: s("S"), City: s("C"), State: s(""), PostalCode: s(""), Country: s(""), Description: s("D")}, ""},
		{"domain sets the website", crm.Account{Domain: "acme.example"}, crm.Fields{"domain": true}, businessBody{Website: s("acme.example")}, ""},
		{"domain of the website", crm.Account{Website: "https://www.acme.example", Domain: "acme.example"}, crm.Fields{"domain": true, "website": true},
			businessBody{Website: s("https://www.acme.example")}, ""},
		{"clear phones", crm.Account{}, crm.Fields{"phones": true}, businessBody{Phone: s("")}, ""},
		{"domain not the website's", crm.Account{Website: "a.example", Domain: "b.example"}, crm.Fields{"domain": true, "website": true}, businessBody{}, "domain"},
		{"two phones", crm.Account{Phones: []crm.Phone{{Number: "1"}, {Number: "2"}}}, crm.Fields{"phones": true}, businessBody{}, "phones"},
		{"two emails", crm.Account{Emails: []crm.Email{{Address: "a@x.example"}, {Address: "b@x.example"}}}, crm.Fields{"emails": true}, businessBody{}, "emails"},
		{"owner", crm.Account{OwnerID: "u1"}, crm.Fields{"owner_id": true}, businessBody{}, "owner_id"},
		{"custom field", crm.Account{CustomFields: map[string]any{"tier": "gold"}}, crm.Fields{"custom_fields": true}, businessBody{}, "custom_fields.tier"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := buildBusinessBody(tc.in, tc.set)
			if tc.field != "" {
				var ve *crm.ValidationError
				if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Field != tc.field {
					t.Fatalf("err %v, want a violation on %q", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tc.want)
				t.Errorf("body %s\nwant %s", g, w)
			}
		})
	}
}

// TestAccountScopeRefusal: GHL's 401 "not authorized for this scope" on a
// business call becomes a 403 naming the scope the call needs.
func TestAccountScopeRefusal(t *testing.T) {
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
	sc := crm.Schema{}
	for _, tc := range []struct {
		name, scope string
		call        func() error
	}{
		{"list", "businesses.readonly", func() error { _, err := c.ListAccounts(t.Context(), sc, crm.EntityQuery{PageSize: 1}); return err }},
		{"get", "businesses.readonly", func() error { _, err := c.GetAccount(t.Context(), sc, "b1"); return err }},
		{"count", "businesses.readonly", func() error { _, err := c.CountAccounts(t.Context(), sc, time.Time{}); return err }},
		{"create", "businesses.write", func() error { _, err := c.CreateAccount(t.Context(), sc, crm.Account{Name: "A"}); return err }},
		{"update", "businesses.write", func() error {
			_, err := c.UpdateAccount(t.Context(), sc, "b1", crm.Account{Name: "A"}, crm.Fields{"name": true})
			return err
		}},
		{"delete", "businesses.write", func() error { return c.DeleteAccount(t.Context(), "b1") }},
	} {
		var pe *crm.ProviderError
		if err := tc.call(); !errors.As(err, &pe) || pe.Status != http.StatusForbidden || !strings.Contains(pe.Message, tc.scope) {
			t.Errorf("%s: %v, want a 403 naming %s", tc.name, err, tc.scope)
		}
	}
}

// TestListAccountsQuery: the list asks GHL for one business more than the
// page, skips what the cursor says, and the last page has no cursor.
func TestListAccountsQuery(t *testing.T) {
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.Query().Get("limit")+"/"+r.URL.Query().Get("skip"))
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("skip") == "" {
			_, _ = w.Write([]byte(`{"businesses":[{"id":"b1"},{"id":"b2"},{"id":"b3"}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"businesses":[{"id":"b3"}]}`))
	}))
	defer srv.Close()
	c, err := NewClient(ClientOptions{BaseURL: srv.URL, LocationID: "loc1", Token: StaticToken("t"), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := c.ListAccounts(t.Context(), crm.Schema{}, crm.EntityQuery{PageSize: 2})
	if err != nil || len(p1.Items) != 2 || p1.NextCursor == "" {
		t.Fatalf("page 1: %+v, %v", p1, err)
	}
	p2, err := c.ListAccounts(t.Context(), crm.Schema{}, crm.EntityQuery{PageSize: 2, Cursor: p1.NextCursor})
	if err != nil || len(p2.Items) != 1 || p2.Items[0].ID != "b3" || p2.NextCursor != "" {
		t.Fatalf("page 2: %+v, %v", p2, err)
	}
	if got := strings.Join(queries, ","); got != "3/,3/2" {
		t.Errorf("limit/skip sent: %s, want 3/,3/2", got)
	}
	_, err = c.ListAccounts(t.Context(), crm.Schema{}, crm.EntityQuery{PageSize: 2, UpdatedAfter: time.Now()})
	var ue *crm.UnsupportedError
	if !errors.As(err, &ue) || ue.Entity != crm.EntityAccount || ue.Provider != "ghl" || len(queries) != 2 {
		t.Errorf("updated_after: %v (GHL called %d times)", err, len(queries))
	}
}
