package providertest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
)

// Standard entity cases: accounts, as the contact cases. A provider
// without crm.AccountReader or crm.AccountWriter skips them; an operation
// it declares unsupported (errors.Is(err, crm.ErrUnsupported)) skips too.

// AccountCount is how many accounts the account paging test creates.
const AccountCount = 7

// accountPageSize is the page size of the account paging test.
const accountPageSize = 3

func (s *suite) accountCaps(t *testing.T) (crm.Provider, crm.AccountReader, crm.AccountWriter, crm.Schema) {
	t.Helper()
	p := s.newProvider(t)
	r := need[crm.AccountReader](t, p)
	w := need[crm.AccountWriter](t, p)
	sc, err := need[crm.SchemaReader](t, p).GetSchema(t.Context(), crm.EntityAccount)
	if err != nil {
		t.Fatalf("GetSchema(account): %v", err)
	}
	return p, r, w, sc
}

func skipUnsupportedAccount(t *testing.T, op string, err error) {
	t.Helper()
	if errors.Is(err, crm.ErrUnsupported) {
		t.Skipf("provider declares %s account unsupported: %v", op, err)
	}
}

func (s *suite) testAccountCRUD(t *testing.T) {
	_, r, w, sc := s.accountCaps(t)
	ctx := t.Context()
	in := crm.Account{Name: "Analytical Engines", Website: "https://engines.example",
		Phones: []crm.Phone{{Number: "+15550100009"}}, Emails: []crm.Email{{Address: "hello@engines.example"}},
		Description: "Difference and analytical"}
	created, err := w.CreateAccount(ctx, sc, in)
	skipUnsupportedAccount(t, "create", err)
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if created.ID == "" || created.Name != in.Name || created.Domain != "engines.example" || created.CreatedAt.IsZero() {
		t.Errorf("created %+v", created)
	}
	got, err := r.GetAccount(ctx, sc, created.ID)
	if err != nil {
		t.Fatalf("GetAccount: %v", err)
	}
	if got.ID != created.ID || got.Name != in.Name || len(got.Raw) == 0 || len(got.Phones) != 1 {
		t.Errorf("got %+v (Raw %d bytes), want the created account with its Raw", got, len(got.Raw))
	}
	upd, err := w.UpdateAccount(ctx, sc, created.ID, crm.Account{Description: "Engines", Name: "ignored"}, crm.Fields{crm.AccountDescription: true})
	skipUnsupportedAccount(t, "update", err)
	if err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	if upd.Description != "Engines" || upd.Name != in.Name || upd.Website != in.Website {
		t.Errorf("updated %+v: only description may change", upd)
	}
	err = w.DeleteAccount(ctx, created.ID)
	skipUnsupportedAccount(t, "delete", err)
	if err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	if _, err := r.GetAccount(ctx, sc, created.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("GetAccount after delete: %v, want ErrNotFound", err)
	}
	if err := w.DeleteAccount(ctx, created.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("DeleteAccount twice: %v, want ErrNotFound", err)
	}
}

func (s *suite) testAccountPaging(t *testing.T) {
	p, r, w, sc := s.accountCaps(t)
	ctx := t.Context()
	want := map[string]bool{}
	for i := range AccountCount {
		a, err := w.CreateAccount(ctx, sc, crm.Account{Name: fmt.Sprintf("Page%02d Ltd", i), Website: fmt.Sprintf("page%02d.example", i)})
		skipUnsupportedAccount(t, "create", err)
		if err != nil {
			t.Fatalf("CreateAccount %d: %v", i, err)
		}
		want[a.ID] = true
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > AccountCount {
			t.Fatal("paging does not end")
		}
		pg, err := r.ListAccounts(ctx, sc, crm.EntityQuery{PageSize: accountPageSize, Cursor: cursor})
		if err != nil {
			t.Fatalf("ListAccounts page %d: %v", pages, err)
		}
		if len(pg.Items) > accountPageSize {
			t.Fatalf("page of %d accounts, asked for %d", len(pg.Items), accountPageSize)
		}
		for _, a := range pg.Items {
			if seen[a.ID] {
				t.Errorf("account %s listed twice", a.ID)
			}
			seen[a.ID] = true
		}
		if cursor = pg.NextCursor; cursor == "" {
			break
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("account %s never listed", id)
		}
	}
	if _, err := r.ListAccounts(ctx, sc, crm.EntityQuery{PageSize: accountPageSize, Cursor: "%%not-a-cursor%%"}); !errors.Is(err, crm.ErrInvalidArgument) {
		t.Errorf("ListAccounts with a bad cursor: %v, want ErrInvalidArgument", err)
	}
	// updated_after: honoured, or declared unsupported (the gateway's 501).
	pg, err := r.ListAccounts(ctx, sc, crm.EntityQuery{PageSize: accountPageSize, UpdatedAfter: time.Now().Add(24 * time.Hour)})
	switch {
	case errors.Is(err, crm.ErrUnsupported):
		var ue *crm.UnsupportedError
		if !errors.As(err, &ue) || ue.Entity != crm.EntityAccount || ue.Operation == "" {
			t.Errorf("updated_after unsupported as %v, want an *crm.UnsupportedError naming the entity and operation", err)
		}
	case err != nil:
		t.Fatalf("ListAccounts updated after tomorrow: %v", err)
	case len(pg.Items) != 0 || pg.NextCursor != "":
		t.Errorf("updated after tomorrow: %d accounts, next %q; want none", len(pg.Items), pg.NextCursor)
	}
	// Count and find by domain, when the provider has them.
	if cn, ok := p.(crm.AccountCounter); ok {
		n, err := cn.CountAccounts(ctx, sc, time.Time{})
		if err != nil && !errors.Is(err, crm.ErrUnsupported) {
			t.Fatalf("CountAccounts: %v", err)
		}
		if err == nil && n != int64(len(seen)) {
			t.Errorf("count = %d, listed %d", n, len(seen))
		}
	}
	if f, ok := p.(crm.AccountFinder); ok {
		found, err := f.FindAccountsByDomain(ctx, sc, []string{"page03.example", "nosuch.example"}, 10)
		if err != nil && !errors.Is(err, crm.ErrUnsupported) {
			t.Fatalf("FindAccountsByDomain: %v", err)
		}
		if err == nil && (len(found) != 1 || found[0].Name != "Page03 Ltd") {
			t.Errorf("found by domain %+v, want Page03 Ltd only", found)
		}
	}
}
