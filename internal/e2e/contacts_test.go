package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

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
			Emails:  []*crmv1.Email{{Address: "grace." + tr + "@example.com"}},
			Phones:  []*crmv1.Phone{{Number: "+15550999"}, {Number: "+15550998", IsPrimary: true}},
			OwnerId: ids.Users[0], AccountId: ids.Businesses[0], Tags: []string{"navy", "cobol"},
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
			{"unknown field", func() error {
				_, err := c.ListContacts(&crmv1.ListContactsRequest{Fields: []string{"bogus"}})
				return err
			}, "fields"},
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
			{"empty create", func() error {
				_, err := c.CreateContact(&crmv1.CreateContactRequest{Record: &crmv1.Contact{}})
				return err
			}, "record"},
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

func (c *client) SearchContacts(req *crmv1.SearchContactsRequest) (*crmv1.SearchContactsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.SearchContacts(ctx, req)
		return r, c.grpcDone("SearchContacts", r, err)
	}
	out := &crmv1.SearchContactsResponse{}
	return out, c.rest("POST", crmBase+"/contact/_search", c.jsonBody(req), out)
}

func (c *client) CountContacts(req *crmv1.CountContactsRequest) (*crmv1.CountContactsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.CountContacts(ctx, req)
		return r, c.grpcDone("CountContacts", r, err)
	}
	out := &crmv1.CountContactsResponse{}
	return out, c.rest("GET", crmBase+"/contact/_count"+query("updated_after", req.GetUpdatedAfter()), nil, out)
}

func (c *client) BatchReadContacts(req *crmv1.BatchReadContactsRequest) (*crmv1.BatchReadContactsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.BatchReadContacts(ctx, req)
		return r, c.grpcDone("BatchReadContacts", r, err)
	}
	out := &crmv1.BatchReadContactsResponse{}
	return out, c.rest("POST", crmBase+"/contact/_batch_read", c.jsonBody(req), out)
}

func (c *client) UpsertContact(req *crmv1.UpsertContactRequest) (*crmv1.UpsertContactResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.UpsertContact(ctx, req)
		return r, c.grpcDone("UpsertContact", r, err)
	}
	out := &crmv1.UpsertContactResponse{}
	return out, c.rest("POST", crmBase+"/contact/_upsert", c.jsonBody(req), out)
}

// TestContactSearchCountBatchUpsert: _search with filters, sort and query,
// _count, _batch_read (order kept, missing ids listed) and _upsert on
// email (create, update, 409 on two matches).
func TestContactSearchCountBatchUpsert(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e, ids := newCRMEnv(t)
		c := e.client(t, tr)
		val := func(v any) *structpb.Value {
			x, err := structpb.NewValue(v)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}

		// Seeded: every third contact (0, 3, ..., 24) is a customer: 9.
		res := must(c.SearchContacts(&crmv1.SearchContactsRequest{PageSize: 4,
			Filters: []*crmv1.EntityFilter{{Field: "lifecycle_stage", Operator: "eq", Value: val("customer")}}}))(t)
		if res.GetTotal() != 9 || len(res.GetItems()) != 4 || !res.GetHasNextPage() {
			t.Fatalf("customers: total %d, %d items, next %v", res.GetTotal(), len(res.GetItems()), res.GetHasNextPage())
		}
		var seen []string
		for page := res; ; {
			for _, ct := range page.GetItems() {
				if ct.GetLifecycleStage() != "customer" {
					t.Errorf("%s is a %s", ct.GetId(), ct.GetLifecycleStage())
				}
				seen = append(seen, ct.GetId())
			}
			if page.GetNextCursor() == "" {
				break
			}
			page = must(c.SearchContacts(&crmv1.SearchContactsRequest{PageSize: 4, Cursor: page.GetNextCursor(),
				Filters: []*crmv1.EntityFilter{{Field: "lifecycle_stage", Operator: "eq", Value: val("customer")}}}))(t)
		}
		if len(seen) != 9 || seen[0] != ids.Contacts[0] || seen[8] != ids.Contacts[24] {
			t.Errorf("customers paged: %v", seen)
		}
		// The cursor belongs to that search.
		wantCode(t, second(c.SearchContacts(&crmv1.SearchContactsRequest{Cursor: res.GetNextCursor()})), codes.InvalidArgument)

		// in, gt and a sort by name descending.
		res = must(c.SearchContacts(&crmv1.SearchContactsRequest{
			Filters: []*crmv1.EntityFilter{
				{Field: "tags", Operator: "in", Value: val([]any{"vip", "referral"})},
				{Field: "created_at", Operator: "gt", Value: val("2025-01-06T20:30:00Z")},
			},
			Sort: &crmv1.EntitySort{Field: "last_name", Direction: "desc"}}))(t)
		if len(res.GetItems()) == 0 {
			t.Fatal("no vip or referral contact after 20:30")
		}
		for i, ct := range res.GetItems() {
			if !slicesContainsAny(ct.GetTags(), "vip", "referral") || ct.GetCreatedAt().AsTime().Before(mustTime(t, "2025-01-06T20:30:00Z")) {
				t.Errorf("match %v", ct)
			}
			if i > 0 && strings.ToLower(res.GetItems()[i-1].GetLastName()) < strings.ToLower(ct.GetLastName()) {
				t.Errorf("not sorted by last_name desc: %s before %s", res.GetItems()[i-1].GetLastName(), ct.GetLastName())
			}
		}
		res = must(c.SearchContacts(&crmv1.SearchContactsRequest{Query: "lovelace"}))(t)
		if len(res.GetItems()) == 0 || !strings.Contains(strings.ToLower(res.GetItems()[0].GetName()), "lovelace") {
			t.Errorf("query lovelace: %v", res.GetItems())
		}

		// Count.
		if n := must(c.CountContacts(&crmv1.CountContactsRequest{}))(t).GetCount(); n != int32(ghlfake.SeedContacts) {
			t.Errorf("count = %d, want %d", n, ghlfake.SeedContacts)
		}
		if n := must(c.CountContacts(&crmv1.CountContactsRequest{UpdatedAfter: "2025-01-07T04:30:00Z"}))(t).GetCount(); n != 5 {
			t.Errorf("count updated after = %d, want 5", n)
		}

		// Batch read: order kept, missing ids listed.
		br := must(c.BatchReadContacts(&crmv1.BatchReadContactsRequest{Ids: []string{ids.Contacts[3], "000000nosuch", ids.Contacts[1]}, Properties: []string{"name"}}))(t)
		if len(br.GetItems()) != 2 || br.GetItems()[0].GetId() != ids.Contacts[3] || br.GetItems()[1].GetId() != ids.Contacts[1] ||
			br.GetItems()[0].GetName() == "" || br.GetItems()[0].GetEmails() != nil || strings.Join(br.GetNotFound(), ",") != "000000nosuch" {
			t.Errorf("batch read: %v", br)
		}

		// Upsert: create, then update the same; two matches are a 409.
		email := "upsert." + strings.ToLower(tr) + "@example.com"
		up := must(c.UpsertContact(&crmv1.UpsertContactRequest{UpsertOn: &crmv1.UpsertOn{Key: "email", Values: []string{email}},
			Record: &crmv1.Contact{FirstName: "Up", Emails: []*crmv1.Email{{Address: email}}}}))(t)
		if !up.GetCreated() || up.GetRecord().GetId() == "" {
			t.Fatalf("upsert create: %v", up)
		}
		up2 := must(c.UpsertContact(&crmv1.UpsertContactRequest{UpsertOn: &crmv1.UpsertOn{Key: "email", Values: []string{email}},
			Record: &crmv1.Contact{LastName: "Dated"}}))(t)
		if up2.GetCreated() || up2.GetRecord().GetId() != up.GetRecord().GetId() || up2.GetRecord().GetLastName() != "Dated" || up2.GetRecord().GetFirstName() != "Up" {
			t.Errorf("upsert update: %v", up2)
		}
		e1, e2 := "ada.lovelace.0@example.com", "grace.dijkstra.1@example.com"
		ae := wantCode(t, second(c.UpsertContact(&crmv1.UpsertContactRequest{UpsertOn: &crmv1.UpsertOn{Key: "email", Values: []string{e1, e2}},
			Record: &crmv1.Contact{LastName: "X"}})), codes.AlreadyExists)
		if !strings.Contains(ae.message, ids.Contacts[0]) || !strings.Contains(ae.message, ids.Contacts[1]) || (tr == REST && ae.httpStatus != http.StatusConflict) {
			t.Errorf("two matches: %v", ae)
		}

		// Bad input: 400 naming the field.
		for _, tc := range []struct {
			name  string
			call  func() error
			field string
		}{
			{"unknown filter field", func() error {
				return second(c.SearchContacts(&crmv1.SearchContactsRequest{Filters: []*crmv1.EntityFilter{{Field: "shoe_size", Operator: "eq", Value: val("9")}}}))
			}, "filters[0].field"},
			{"unknown custom field", func() error {
				return second(c.SearchContacts(&crmv1.SearchContactsRequest{Filters: []*crmv1.EntityFilter{{Field: "custom_fields.nope", Operator: "eq", Value: val("9")}}}))
			}, "filters[0].field"},
			{"bad operator", func() error {
				return second(c.SearchContacts(&crmv1.SearchContactsRequest{Filters: []*crmv1.EntityFilter{{Field: "tags", Operator: "like", Value: val("9")}}}))
			}, "filters[0].operator"},
			{"gt on a name", func() error {
				return second(c.SearchContacts(&crmv1.SearchContactsRequest{Filters: []*crmv1.EntityFilter{{Field: "first_name", Operator: "gt", Value: val("A")}}}))
			}, "filters[0].operator"},
			{"bad date", func() error {
				return second(c.SearchContacts(&crmv1.SearchContactsRequest{Filters: []*crmv1.EntityFilter{{Field: "created_at", Operator: "lt", Value: val("soon")}}}))
			}, "filters[0].value"},
			{"bad sort", func() error {
				return second(c.SearchContacts(&crmv1.SearchContactsRequest{Sort: &crmv1.EntitySort{Field: "created_at", Direction: "up"}}))
			}, "sort.direction"},
			{"sort GHL lacks", func() error {
				return second(c.SearchContacts(&crmv1.SearchContactsRequest{Sort: &crmv1.EntitySort{Field: "tags"}}))
			}, "sort.field"},
			{"too many ids", func() error {
				return second(c.BatchReadContacts(&crmv1.BatchReadContactsRequest{Ids: make([]string, 101)}))
			}, "ids"},
			{"bad id", func() error {
				return second(c.BatchReadContacts(&crmv1.BatchReadContactsRequest{Ids: []string{"ok1", "bad id"}}))
			}, "ids[1]"},
			{"count after", func() error { return second(c.CountContacts(&crmv1.CountContactsRequest{UpdatedAfter: "x"})) }, "updated_after"},
			{"upsert key", func() error {
				return second(c.UpsertContact(&crmv1.UpsertContactRequest{UpsertOn: &crmv1.UpsertOn{Key: "phone", Values: []string{"1"}}, Record: &crmv1.Contact{FirstName: "X"}}))
			}, "upsert_on.key"},
			{"upsert value", func() error {
				return second(c.UpsertContact(&crmv1.UpsertContactRequest{UpsertOn: &crmv1.UpsertOn{Key: "email", Values: []string{"nope"}}, Record: &crmv1.Contact{FirstName: "X"}}))
			}, "upsert_on.values[0]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ae := wantCode(t, tc.call(), codes.InvalidArgument)
				if !ae.hasField(tc.field) {
					t.Errorf("violations %v, want one on %q", ae.violations, tc.field)
				}
			})
		}
	})
}

func slicesContainsAny(have []string, want ...string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestContactCreateIdempotencyKey: a contact create repeated with the same
// Idempotency-Key answers the first contact without a second GHL create.
func TestContactCreateIdempotencyKey(t *testing.T) {
	t.Parallel()
	e, _ := newCRMEnv(t)
	h := hdr(e.tn.key, e.tn.connID)
	h["idempotency-key"] = "contact-" + randHex(6)
	body := map[string]any{"record": map[string]any{"first_name": "Once", "emails": []any{map[string]any{"address": "once@example.com"}}}}
	first := e.g.do(t, "POST", crmBase+"/contact", h, body)
	if first.status != http.StatusOK {
		t.Fatalf("create: %d %s", first.status, first.raw)
	}
	contacts := e.f.ContactCount(e.tn.location)
	again := e.g.do(t, "POST", crmBase+"/contact", h, body)
	id := str(first.body["record"].(map[string]any)["id"])
	if again.status != http.StatusOK || str(again.body["record"].(map[string]any)["id"]) != id || e.f.ContactCount(e.tn.location) != contacts {
		t.Fatalf("repeat: %d %s; contacts %d -> %d", again.status, again.raw, contacts, e.f.ContactCount(e.tn.location))
	}
}
