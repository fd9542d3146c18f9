package ghl_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
)

// TestFakeContacts lists, reads, creates, updates and deletes contacts
// against the fake, custom fields included.
func TestFakeContacts(t *testing.T) {
	fake, c := newFake(t, ghlfake.Options{BurstLimit: -1})
	ids := fake.SeedCRM(fakeLoc)
	fake.AddContactField(fakeLoc, "lead_score", "Lead Score", "NUMERICAL")
	ctx := context.Background()
	sc, err := c.GetSchema(ctx, crm.EntityContact)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sc.Property("lead_score"); !ok {
		t.Fatalf("contact schema lacks lead_score: %+v", sc.Properties)
	}

	// Every seeded contact exactly once, in pages of 10, in dateAdded order.
	fake.ResetCounts()
	var got []string
	cursor := ""
	for {
		page, err := c.ListContacts(ctx, sc, crm.EntityQuery{PageSize: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range page.Items {
			got = append(got, ct.ID)
			if ct.Raw != nil {
				t.Fatal("Raw without IncludeRaw")
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(got) != ghlfake.SeedContacts {
		t.Fatalf("listed %d contacts, want %d", len(got), ghlfake.SeedContacts)
	}
	for i, id := range got {
		if id != ids.Contacts[i] {
			t.Fatalf("contact %d = %s, want %s", i, id, ids.Contacts[i])
		}
	}
	if n := fake.RequestCount("POST /contacts/search"); n != 3 {
		t.Errorf("%d search calls for 25 contacts in pages of 10, want 3", n)
	}

	// updated_after: the seeded contacts are an hour apart.
	after := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC).Add(20 * time.Hour)
	page, err := c.ListContacts(ctx, sc, crm.EntityQuery{PageSize: 100, UpdatedAfter: after})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 4 || page.NextCursor != "" {
		t.Errorf("updated after %s: %d contacts, next %q; want 4, none", after, len(page.Items), page.NextCursor)
	}

	// Seeded contact 1: additional email and phone, an address, a business.
	ct, err := c.GetContact(ctx, sc, ids.Contacts[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(ct.Emails) != 2 || !ct.Emails[0].Primary || len(ct.Phones) != 2 || len(ct.Addresses) != 1 ||
		ct.AccountID != ids.Businesses[1] || ct.LifecycleStage != "lead" || len(ct.Raw) == 0 {
		t.Errorf("seeded contact 1: %+v", ct)
	}

	// Create, update, delete.
	created, err := c.CreateContact(ctx, sc, crm.Contact{FirstName: "Grace", LastName: "Hopper",
		Emails: []crm.Email{{Address: "grace@example.com"}}, OwnerID: ids.Users[0], AccountID: ids.Businesses[0],
		Tags: []string{"Navy"}, CustomFields: map[string]any{"lead_score": 9.0}})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.Name != "Grace Hopper" || created.LifecycleStage != "lead" || created.Tags[0] != "navy" ||
		created.CustomFields["lead_score"] != 9.0 || created.OwnerID != ids.Users[0] {
		t.Errorf("created %+v", created)
	}
	upd, err := c.UpdateContact(ctx, sc, created.ID, crm.Contact{LifecycleStage: "customer", CustomFields: map[string]any{"lead_score": nil}},
		crm.Fields{crm.ContactLifecycleStage: true, crm.ContactCustomFields: true})
	if err != nil {
		t.Fatal(err)
	}
	if upd.LifecycleStage != "customer" || upd.FirstName != "Grace" || len(upd.CustomFields) != 0 || len(upd.Emails) != 1 {
		t.Errorf("updated %+v", upd)
	}
	if err := c.DeleteContact(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetContact(ctx, sc, created.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("get deleted contact: %v, want not found", err)
	}
	if err := c.DeleteContact(ctx, created.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("delete deleted contact: %v, want not found", err)
	}

	// GHL's own refusals come back as provider errors.
	_, err = c.CreateContact(ctx, sc, crm.Contact{Emails: []crm.Email{{Address: "ada.lovelace.0@example.com"}}})
	var pe *crm.ProviderError
	if !errors.As(err, &pe) || pe.Status != 400 || !strings.Contains(pe.Message, `the contact "`+ids.Contacts[0]+`" has this "email"`) {
		t.Errorf("duplicate email: %v, want GHL's 400 naming contact %s", err, ids.Contacts[0])
	}
	if _, err := c.ListContacts(ctx, sc, crm.EntityQuery{PageSize: 10, Cursor: "bm90LWEtY3Vyc29y"}); !errors.Is(err, crm.ErrInvalidArgument) {
		t.Errorf("bad cursor: %v", err)
	}
}
