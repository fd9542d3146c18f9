package providertest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
)

// Standard entity cases: contacts. A provider without crm.ContactReader
// or crm.ContactWriter skips them (the gateway answers 501 naming the
// entity, operation and provider); a provider that has the interface but
// cannot do one operation answers an error satisfying
// errors.Is(err, crm.ErrUnsupported), and that case is skipped too.

// ContactCount is how many contacts the contact paging test creates.
const ContactCount = 12

// contactPageSize is the page size of the contact paging test.
const contactPageSize = 5

func (s *suite) contactCaps(t *testing.T) (crm.ContactReader, crm.ContactWriter, crm.Schema) {
	t.Helper()
	p := s.newProvider(t)
	r := need[crm.ContactReader](t, p)
	w := need[crm.ContactWriter](t, p)
	sc, err := need[crm.SchemaReader](t, p).GetSchema(t.Context(), crm.EntityContact)
	if err != nil {
		t.Fatalf("GetSchema(contact): %v", err)
	}
	return r, w, sc
}

// skipUnsupported skips the test when the provider declared the operation
// unsupported.
func skipUnsupported(t *testing.T, op string, err error) {
	t.Helper()
	if errors.Is(err, crm.ErrUnsupported) {
		t.Skipf("provider declares %s contact unsupported: %v", op, err)
	}
}

func (s *suite) testContactCRUD(t *testing.T) {
	r, w, sc := s.contactCaps(t)
	ctx := t.Context()
	in := crm.Contact{FirstName: "Ada", LastName: "Lovelace",
		Emails: []crm.Email{{Address: "ada.ct@example.com", Primary: true}},
		Phones: []crm.Phone{{Number: "+15550100001"}}, Tags: []string{"vip"}}
	created, err := w.CreateContact(ctx, sc, in)
	skipUnsupported(t, "create", err)
	if err != nil {
		t.Fatalf("CreateContact: %v", err)
	}
	if created.ID == "" || created.FirstName != "Ada" || created.LastName != "Lovelace" || created.CreatedAt.IsZero() {
		t.Errorf("created %+v", created)
	}
	if len(created.Emails) != 1 || created.Emails[0].Address != in.Emails[0].Address || !created.Emails[0].Primary {
		t.Errorf("created emails %+v, want the one given, primary", created.Emails)
	}
	got, err := r.GetContact(ctx, sc, created.ID)
	if err != nil {
		t.Fatalf("GetContact: %v", err)
	}
	if got.ID != created.ID || got.FirstName != "Ada" || len(got.Raw) == 0 {
		t.Errorf("got %+v (Raw %d bytes), want the created contact with its Raw", got, len(got.Raw))
	}
	upd, err := w.UpdateContact(ctx, sc, created.ID, crm.Contact{LastName: "King", FirstName: "ignored"}, crm.Fields{crm.ContactLastName: true})
	skipUnsupported(t, "update", err)
	if err != nil {
		t.Fatalf("UpdateContact: %v", err)
	}
	if upd.LastName != "King" || upd.FirstName != "Ada" || len(upd.Emails) != 1 {
		t.Errorf("updated %+v: only last_name may change", upd)
	}
	err = w.DeleteContact(ctx, created.ID)
	skipUnsupported(t, "delete", err)
	if err != nil {
		t.Fatalf("DeleteContact: %v", err)
	}
	if _, err := r.GetContact(ctx, sc, created.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("GetContact after delete: %v, want ErrNotFound", err)
	}
	if err := w.DeleteContact(ctx, created.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("DeleteContact twice: %v, want ErrNotFound", err)
	}
}

func (s *suite) testContactPaging(t *testing.T) {
	r, w, sc := s.contactCaps(t)
	ctx := t.Context()
	want := map[string]bool{}
	for i := range ContactCount {
		c, err := w.CreateContact(ctx, sc, crm.Contact{FirstName: fmt.Sprintf("Page%02d", i),
			Emails: []crm.Email{{Address: fmt.Sprintf("page%02d.ct@example.com", i)}}})
		skipUnsupported(t, "create", err)
		if err != nil {
			t.Fatalf("CreateContact %d: %v", i, err)
		}
		want[c.ID] = true
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > ContactCount {
			t.Fatal("paging does not end")
		}
		pg, err := r.ListContacts(ctx, sc, crm.EntityQuery{PageSize: contactPageSize, Cursor: cursor})
		if err != nil {
			t.Fatalf("ListContacts page %d: %v", pages, err)
		}
		if len(pg.Items) > contactPageSize {
			t.Fatalf("page of %d contacts, asked for %d", len(pg.Items), contactPageSize)
		}
		for _, c := range pg.Items {
			if seen[c.ID] {
				t.Errorf("contact %s listed twice", c.ID)
			}
			seen[c.ID] = true
		}
		if cursor = pg.NextCursor; cursor == "" {
			break
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("contact %s never listed", id)
		}
	}
	pg, err := r.ListContacts(ctx, sc, crm.EntityQuery{PageSize: contactPageSize, UpdatedAfter: time.Now().Add(24 * time.Hour)})
	skipUnsupported(t, "list updated after", err)
	if err != nil {
		t.Fatalf("ListContacts updated after tomorrow: %v", err)
	}
	if len(pg.Items) != 0 || pg.NextCursor != "" {
		t.Errorf("updated after tomorrow: %d contacts, next %q; want none", len(pg.Items), pg.NextCursor)
	}
	if _, err := r.ListContacts(ctx, sc, crm.EntityQuery{PageSize: contactPageSize, Cursor: "%%not-a-cursor%%"}); !errors.Is(err, crm.ErrInvalidArgument) {
		t.Errorf("ListContacts with a bad cursor: %v, want ErrInvalidArgument", err)
	}
}

func (s *suite) testContactSearch(t *testing.T) {
	p := s.newProvider(t)
	r := need[crm.ContactSearcher](t, p)
	w := need[crm.ContactWriter](t, p)
	sc, err := need[crm.SchemaReader](t, p).GetSchema(t.Context(), crm.EntityContact)
	if err != nil {
		t.Fatalf("GetSchema(contact): %v", err)
	}
	ctx := t.Context()
	var customers []string
	for i := range 6 {
		stage := "lead"
		if i%2 == 0 {
			stage = "customer"
		}
		c, err := w.CreateContact(ctx, sc, crm.Contact{FirstName: fmt.Sprintf("Find%02d", i), LifecycleStage: stage,
			Emails: []crm.Email{{Address: fmt.Sprintf("find%02d.ct@example.com", i)}}})
		skipUnsupported(t, "create", err)
		if err != nil {
			t.Fatalf("CreateContact %d: %v", i, err)
		}
		if stage == "customer" {
			customers = append(customers, c.ID)
		}
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 6 {
			t.Fatal("paging does not end")
		}
		pg, err := r.SearchContacts(ctx, sc, crm.EntitySearch{PageSize: 2, Cursor: cursor,
			Filters: []crm.Filter{{Field: crm.ContactLifecycleStage, Operator: crm.OpEq, Value: "customer"}}})
		skipUnsupported(t, "search", err)
		if err != nil {
			t.Fatalf("SearchContacts: %v", err)
		}
		for _, c := range pg.Items {
			got = append(got, c.ID)
		}
		if cursor = pg.NextCursor; cursor == "" {
			break
		}
	}
	slices.Sort(got)
	slices.Sort(customers)
	if fmt.Sprint(got) != fmt.Sprint(customers) {
		t.Errorf("customers found %v, want %v", got, customers)
	}
	pg, err := r.SearchContacts(ctx, sc, crm.EntitySearch{PageSize: 10,
		Filters: []crm.Filter{{Field: crm.ContactEmails, Operator: crm.OpIn, Value: []string{"find01.ct@example.com", "find02.ct@example.com"}}}})
	if err != nil {
		t.Fatalf("SearchContacts email in: %v", err)
	}
	if len(pg.Items) != 2 {
		t.Errorf("email in two addresses: %d contacts, want 2", len(pg.Items))
	}
	n, err := r.CountContacts(ctx, sc, time.Time{})
	skipUnsupported(t, "count", err)
	if err != nil {
		t.Fatalf("CountContacts: %v", err)
	}
	if n != 6 {
		t.Errorf("count = %d, want 6", n)
	}
}
