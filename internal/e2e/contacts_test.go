package e2e

import (
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
)

// Contacts (/v0/unified/crm/contact) over both transports against the
// fake's seeded CRM (ghlfake.SeedCRM) with one custom field of contacts.

// ---------------------------------------------------------------------------
// Client methods

func (c *client) ListContacts(req *crmv1.ListContactsRequest) (*crmv1.ListContactsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.ListContacts(ctx, req)
		return r, c.grpcDone("ListContacts", r, err)
	}
	out := &crmv1.ListContactsResponse{}
	q := query("cursor", req.GetCursor(), "page_size", itoa(req.GetPageSize()), "updated_after", req.GetUpdatedAfter(),
		"fields", strings.Join(req.GetFields(), ","), "include_raw_data", btoa(req.GetIncludeRawData()))
	return out, c.rest("GET", crmBase+"/contact"+q, nil, out)
}

func (c *client) GetContact(req *crmv1.GetContactRequest) (*crmv1.GetContactResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.GetContact(ctx, req)
		return r, c.grpcDone("GetContact", r, err)
	}
	out := &crmv1.GetContactResponse{}
	return out, c.rest("GET", crmBase+"/contact/"+esc(req.GetId())+query("fields", strings.Join(req.GetFields(), ",")), nil, out)
}

func (c *client) CreateContact(req *crmv1.CreateContactRequest) (*crmv1.CreateContactResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.CreateContact(ctx, req)
		return r, c.grpcDone("CreateContact", r, err)
	}
	out := &crmv1.CreateContactResponse{}
	return out, c.rest("POST", crmBase+"/contact", c.jsonBody(req), out)
}

func (c *client) UpdateContact(req *crmv1.UpdateContactRequest) (*crmv1.UpdateContactResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.UpdateContact(ctx, req)
		return r, c.grpcDone("UpdateContact", r, err)
	}
	out := &crmv1.UpdateContactResponse{}
	return out, c.rest("PATCH", crmBase+"/contact/"+esc(req.GetId()), c.jsonBody(req, "id"), out)
}

func (c *client) DeleteContact(req *crmv1.DeleteContactRequest) (*crmv1.DeleteContactResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.DeleteContact(ctx, req)
		return r, c.grpcDone("DeleteContact", r, err)
	}
	out := &crmv1.DeleteContactResponse{}
	return out, c.rest("DELETE", crmBase+"/contact/"+esc(req.GetId()), nil, out)
}

// ---------------------------------------------------------------------------
// Fixture

// crmEnv is an env whose location holds the seeded CRM and the custom
// field lead_score (NUMERICAL) of contacts.
func newCRMEnv(t *testing.T) (*env, ghlfake.SeedCRMIDs) {
	t.Helper()
	e := newEnv(t, gwOptions{}, -1)
	ids := e.f.SeedCRM(e.tn.location)
	e.f.AddContactField(e.tn.location, "lead_score", "Lead Score", "NUMERICAL")
	return e, ids
}

// ---------------------------------------------------------------------------
// Tests

// TestContacts lists, reads, creates, updates and deletes contacts.
func TestContacts(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e, ids := newCRMEnv(t)
		c := e.client(t, tr)

		// Every seeded contact once, in pages of 10.
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			page := must(c.ListContacts(&crmv1.ListContactsRequest{PageSize: 10, Cursor: cursor}))(t)
			for _, ct := range page.GetItems() {
				got = append(got, ct.GetId())
				if ct.GetRawData() != nil {
					t.Error("raw_data without include_raw_data")
				}
			}
			if page.GetHasNextPage() != (page.GetNextCursor() != "") {
				t.Errorf("has_next_page %v with next_cursor %q", page.GetHasNextPage(), page.GetNextCursor())
			}
			if cursor = page.GetNextCursor(); cursor == "" {
				break
			}
			if pages > 5 {
				t.Fatal("too many pages")
			}
		}
		if strings.Join(got, ",") != strings.Join(ids.Contacts, ",") {
			t.Errorf("listed %v\nwant %v", got, ids.Contacts)
		}

		// Warm: no schema call more.
		before := e.f.schemaCalls()
		page := must(c.ListContacts(&crmv1.ListContactsRequest{PageSize: 5, Fields: []string{"first_name", "emails"}, IncludeRawData: true}))(t)
		first := page.GetItems()[0]
		if first.GetId() == "" || first.GetFirstName() == "" || len(first.GetEmails()) == 0 || first.GetLastName() != "" || first.GetTags() != nil || first.GetRawData() != nil {
			t.Errorf("fields=first_name,emails: %v", first)
		}
		after := must(c.ListContacts(&crmv1.ListContactsRequest{UpdatedAfter: "2025-01-07T04:30:00Z"}))(t)
		if len(after.GetItems()) != 5 || after.GetHasNextPage() {
			t.Errorf("updated_after: %d contacts (has next %v), want the last 5", len(after.GetItems()), after.GetHasNextPage())
		}
		one := must(c.GetContact(&crmv1.GetContactRequest{Id: ids.Contacts[1]}))(t)
		if n := e.f.schemaCalls() - before; n != 0 {
			t.Errorf("%d schema calls warm, want 0", n)
		}
		r := one.GetRecord()
		if r.GetAccountId() != ids.Businesses[1] || len(r.GetEmails()) != 2 || !r.GetEmails()[0].GetIsPrimary() ||
			len(r.GetAddresses()) != 1 || r.GetLifecycleStage() != "lead" || one.GetRaw().GetFields()["id"].GetStringValue() != ids.Contacts[1] {
			t.Errorf("seeded contact 1: %v", one)
		}

		// Create, update, delete.
		custom, _ := structpb.NewStruct(map[string]any{"lead_score": 7})
		created := must(c.CreateContact(&crmv1.CreateContactRequest{Record: &crmv1.Contact{
			FirstName: "Grace", LastName: "Hopper",
			Emails:    []*crmv1.Email{{Address: "grace." + tr + "@example.com"}},
			Phones:    []*crmv1.Phone{{Number: "+15550999"}, {Number: "+15550998", IsPrimary: true}},
			OwnerId:   ids.Users[0], AccountId: ids.Businesses[0], Tags: []string{"navy", "cobol"},
			CustomFields: custom,
		}}))(t).GetRecord()
		if created.GetId() == "" || created.GetName() != "Grace Hopper" || created.GetPhones()[0].GetNumber() != "+15550998" ||
			created.GetCustomFields().GetFields()["lead_score"].GetNumberValue() != 7 || created.GetCreatedAt() == nil {
			t.Errorf("created %v", created)
		}
		upd := must(c.UpdateContact(&crmv1.UpdateContactRequest{Id: created.GetId(),
			Record:     &crmv1.Contact{LifecycleStage: "customer"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"lifecycle_stage", "tags"}}}))(t).GetRecord()
		if upd.GetLifecycleStage() != "customer" || len(upd.GetTags()) != 0 || upd.GetFirstName() != "Grace" || len(upd.GetEmails()) != 1 {
			t.Errorf("updated %v", upd)
		}
		must(c.DeleteContact(&crmv1.DeleteContactRequest{Id: created.GetId()}))(t)
		_, err := c.GetContact(&crmv1.GetContactRequest{Id: created.GetId()})
		wantCode(t, err, codes.NotFound)
	})
}

// TestContactsBadInput: every bad input is a 400 naming the field, before
// the provider is called for the contact.
func TestContactsBadInput(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e, ids := newCRMEnv(t)
		c := e.client(t, tr)
		must(c.ListContacts(&crmv1.ListContactsRequest{PageSize: 1}))(t) // warm the schema
		str := func(m map[string]any) *structpb.Struct { s, _ := structpb.NewStruct(m); return s }
		for _, tc := range []struct {
			name  string
			call  func() error
			field string
		}{
			{"negative page size", func() error { _, err := c.ListContacts(&crmv1.ListContactsRequest{PageSize: -1}); return err }, "page_size"},
			{"bad cursor", func() error { _, err := c.ListContacts(&crmv1.ListContactsRequest{Cursor: "garbage"}); return err }, "cursor"},
			{"bad updated_after", func() error {
				_, err := c.ListContacts(&crmv1.ListContactsRequest{UpdatedAfter: "yesterday"})
				return err
			}, "updated_after"},
			{"unknown field", func() error { _, err := c.ListContacts(&crmv1.ListContactsRequest{Fields: []string{"bogus"}}); return err }, "fields"},
			{"bad id", func() error { _, err := c.GetContact(&crmv1.GetContactRequest{Id: "bad id!"}); return err }, "id"},
			{"invalid email", func() error {
				_, err := c.CreateContact(&crmv1.CreateContactRequest{Record: &crmv1.Contact{Emails: []*crmv1.Email{{Address: "not-an-email"}}}})
				return err
			}, "record.emails[0].address"},
			{"two primary phones", func() error {
				_, err := c.CreateContact(&crmv1.CreateContactRequest{Record: &crmv1.Contact{Phones: []*crmv1.Phone{{Number: "1", IsPrimary: true}, {Number: "2", IsPrimary: true}}}})
				return err
			}, "record.phones"},
			{"unknown custom field", func() error {
				_, err := c.CreateContact(&crmv1.CreateContactRequest{Record: &crmv1.Contact{FirstName: "X", CustomFields: str(map[string]any{"nope": 1})}})
				return err
			}, "record.custom_fields.nope"},
			{"custom field of the wrong type", func() error {
				_, err := c.CreateContact(&crmv1.CreateContactRequest{Record: &crmv1.Contact{FirstName: "X", CustomFields: str(map[string]any{"lead_score": "high"})}})
				return err
			}, "record.custom_fields.lead_score"},
			{"lifecycle stage GHL lacks", func() error {
				_, err := c.CreateContact(&crmv1.CreateContactRequest{Record: &crmv1.Contact{FirstName: "X", LifecycleStage: "prospect"}})
				return err
			}, "record.lifecycle_stage"},
			{"two addresses", func() error {
				_, err := c.CreateContact(&crmv1.CreateContactRequest{Record: &crmv1.Contact{Addresses: []*crmv1.Address{{City: "A"}, {City: "B"}}}})
				return err
			}, "record.addresses"},
			{"empty create", func() error { _, err := c.CreateContact(&crmv1.CreateContactRequest{Record: &crmv1.Contact{}}); return err }, "record"},
			{"bad update mask", func() error {
				_, err := c.UpdateContact(&crmv1.UpdateContactRequest{Id: ids.Contacts[0], Record: &crmv1.Contact{}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"id"}}})
				return err
			}, "update_mask"},
			{"empty update", func() error {
				_, err := c.UpdateContact(&crmv1.UpdateContactRequest{Id: ids.Contacts[0], Record: &crmv1.Contact{}})
				return err
			}, "record"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.f.RequestCount("POST /contacts/") + e.f.RequestCount("PUT /contacts/{contactId}") + e.f.RequestCount("POST /contacts/search")
				ae := wantCode(t, tc.call(), codes.InvalidArgument)
				if !ae.hasField(tc.field) {
					t.Errorf("violations %v, want one on %q", ae.violations, tc.field)
				}
				if tr == REST && ae.httpStatus != http.StatusBadRequest {
					t.Errorf("HTTP %d, want 400", ae.httpStatus)
				}
				after := e.f.RequestCount("POST /contacts/") + e.f.RequestCount("PUT /contacts/{contactId}") + e.f.RequestCount("POST /contacts/search")
				if after != before {
					t.Errorf("the provider was called (%d contact calls)", after-before)
				}
			})
		}
	})
}

// TestContactGolden pins the REST shape of a contact (GET, with raw).
func TestContactGolden(t *testing.T) {
	t.Parallel()
	e, ids := newCRMEnv(t)
	r := e.g.do(t, "GET", crmBase+"/contact/"+ids.Contacts[1], hdr(e.tn.key, e.tn.connID), nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET contact: %d %s", r.status, r.raw)
	}
	// The seeded ids derive from the random location id.
	raw := string(r.raw)
	raw = strings.ReplaceAll(raw, ids.Contacts[1], "<contact-id>")
	raw = strings.ReplaceAll(raw, ids.Businesses[1], "<account-id>")
	raw = strings.ReplaceAll(raw, e.tn.location, "<location-id>")
	for _, u := range ids.Users {
		raw = strings.ReplaceAll(raw, u, "<user-id>")
	}
	golden(t, "contact_get", []byte(raw))
}
