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

// Accounts (/v0/unified/crm/account, GHL businesses) over both transports
// against the fake's seeded CRM (ghlfake.SeedCRM: five businesses).

// ---------------------------------------------------------------------------
// Client methods

func (c *client) ListAccounts(req *crmv1.ListAccountsRequest) (*crmv1.ListAccountsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.ListAccounts(ctx, req)
		return r, c.grpcDone("ListAccounts", r, err)
	}
	out := &crmv1.ListAccountsResponse{}
	q := query("cursor", req.GetCursor(), "page_size", itoa(req.GetPageSize()), "updated_after", req.GetUpdatedAfter(),
		"fields", strings.Join(req.GetFields(), ","), "include_raw_data", btoa(req.GetIncludeRawData()))
	return out, c.rest("GET", crmBase+"/account"+q, nil, out)
}

func (c *client) GetAccount(req *crmv1.GetAccountRequest) (*crmv1.GetAccountResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.GetAccount(ctx, req)
		return r, c.grpcDone("GetAccount", r, err)
	}
	out := &crmv1.GetAccountResponse{}
	return out, c.rest("GET", crmBase+"/account/"+esc(req.GetId())+query("fields", strings.Join(req.GetFields(), ",")), nil, out)
}

func (c *client) CreateAccount(req *crmv1.CreateAccountRequest) (*crmv1.CreateAccountResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.CreateAccount(ctx, req)
		return r, c.grpcDone("CreateAccount", r, err)
	}
	out := &crmv1.CreateAccountResponse{}
	return out, c.rest("POST", crmBase+"/account", c.jsonBody(req), out)
}

func (c *client) UpdateAccount(req *crmv1.UpdateAccountRequest) (*crmv1.UpdateAccountResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.UpdateAccount(ctx, req)
		return r, c.grpcDone("UpdateAccount", r, err)
	}
	out := &crmv1.UpdateAccountResponse{}
	return out, c.rest("PATCH", crmBase+"/account/"+esc(req.GetId()), c.jsonBody(req, "id"), out)
}

func (c *client) DeleteAccount(req *crmv1.DeleteAccountRequest) (*crmv1.DeleteAccountResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.DeleteAccount(ctx, req)
		return r, c.grpcDone("DeleteAccount", r, err)
	}
	out := &crmv1.DeleteAccountResponse{}
	return out, c.rest("DELETE", crmBase+"/account/"+esc(req.GetId()), nil, out)
}

func (c *client) CountAccounts(req *crmv1.CountAccountsRequest) (*crmv1.CountAccountsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.CountAccounts(ctx, req)
		return r, c.grpcDone("CountAccounts", r, err)
	}
	out := &crmv1.CountAccountsResponse{}
	return out, c.rest("GET", crmBase+"/account/_count"+query("updated_after", req.GetUpdatedAfter()), nil, out)
}

func (c *client) BatchReadAccounts(req *crmv1.BatchReadAccountsRequest) (*crmv1.BatchReadAccountsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.BatchReadAccounts(ctx, req)
		return r, c.grpcDone("BatchReadAccounts", r, err)
	}
	out := &crmv1.BatchReadAccountsResponse{}
	return out, c.rest("POST", crmBase+"/account/_batch_read", c.jsonBody(req), out)
}

func (c *client) UpsertAccount(req *crmv1.UpsertAccountRequest) (*crmv1.UpsertAccountResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.UpsertAccount(ctx, req)
		return r, c.grpcDone("UpsertAccount", r, err)
	}
	out := &crmv1.UpsertAccountResponse{}
	return out, c.rest("POST", crmBase+"/account/_upsert", c.jsonBody(req), out)
}

// ---------------------------------------------------------------------------
// Tests

// TestAccounts lists, reads, creates, updates and deletes accounts; a
// contact's account_id round-trips to GHL's businessId.
func TestAccounts(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e, ids := newCRMEnv(t)
		c := e.client(t, tr)

		// Every seeded business once, in pages of 2.
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			page := must(c.ListAccounts(&crmv1.ListAccountsRequest{PageSize: 2, Cursor: cursor}))(t)
			for _, a := range page.GetItems() {
				got = append(got, a.GetId())
				if a.GetRawData() != nil {
					t.Error("raw_data without include_raw_data")
				}
			}
			if page.GetHasNextPage() != (page.GetNextCursor() != "") {
				t.Errorf("has_next_page %v with next_cursor %q", page.GetHasNextPage(), page.GetNextCursor())
			}
			if cursor = page.GetNextCursor(); cursor == "" {
				break
			}
			if pages > 3 {
				t.Fatal("too many pages")
			}
		}
		if strings.Join(got, ",") != strings.Join(ids.Businesses, ",") {
			t.Errorf("listed %v\nwant %v", got, ids.Businesses)
		}
		// The last page says so: 5 in pages of 5 is one page.
		if p := must(c.ListAccounts(&crmv1.ListAccountsRequest{PageSize: 5}))(t); len(p.GetItems()) != 5 || p.GetHasNextPage() {
			t.Errorf("page of 5: %d items, next %v", len(p.GetItems()), p.GetHasNextPage())
		}

		// Warm: no schema call more.
		before := e.f.schemaCalls()
		page := must(c.ListAccounts(&crmv1.ListAccountsRequest{PageSize: 2, Fields: []string{"name", "domain"}, IncludeRawData: true}))(t)
		first := page.GetItems()[0]
		if first.GetId() != ids.Businesses[0] || first.GetName() != "Acme Corp" || first.GetDomain() != "acme.example.com" ||
			first.GetWebsite() != "" || first.GetPhones() != nil || first.GetRawData() != nil {
			t.Errorf("fields=name,domain: %v", first)
		}
		one := must(c.GetAccount(&crmv1.GetAccountRequest{Id: ids.Businesses[1]}))(t)
		if n := e.f.schemaCalls() - before; n != 0 {
			t.Errorf("%d schema calls warm, want 0", n)
		}
		r := one.GetRecord()
		if r.GetName() != "Globex" || r.GetWebsite() != "https://globex.example.com" || r.GetDomain() != "globex.example.com" ||
			len(r.GetPhones()) != 1 || !r.GetPhones()[0].GetIsPrimary() || len(r.GetEmails()) != 1 ||
			len(r.GetAddresses()) != 1 || r.GetAddresses()[0].GetCity() != "Austin" || r.GetCreatedAt() == nil ||
			one.GetRaw().GetFields()["id"].GetStringValue() != ids.Businesses[1] {
			t.Errorf("seeded business 1: %v", one)
		}

		// updated_after: HighLevel's list cannot filter on it: 501 naming
		// entity, operation and provider.
		c.allow5xx = true
		ae := wantCode(t, second(c.ListAccounts(&crmv1.ListAccountsRequest{UpdatedAfter: "2025-01-06T00:00:00Z"})), codes.Unimplemented)
		c.allow5xx = false
		if !strings.Contains(ae.message, "account") || !strings.Contains(ae.message, "updated_after") || !strings.Contains(ae.message, "ghl") ||
			(tr == REST && ae.httpStatus != http.StatusNotImplemented) {
			t.Errorf("updated_after: %v", ae)
		}

		// Create, update, delete.
		created := must(c.CreateAccount(&crmv1.CreateAccountRequest{Record: &crmv1.Account{
			Name: "Wayne Enterprises " + tr, Domain: "wayne.example",
			Phones:      []*crmv1.Phone{{Number: "+15550777"}},
			Emails:      []*crmv1.Email{{Address: "bruce@wayne.example"}},
			Addresses:   []*crmv1.Address{{Street: "1007 Mountain Drive", City: "Gotham", Country: "US"}},
			Description: "Bats",
		}}))(t).GetRecord()
		if created.GetId() == "" || created.GetWebsite() != "wayne.example" || created.GetDomain() != "wayne.example" ||
			created.GetPhones()[0].GetNumber() != "+15550777" || created.GetAddresses()[0].GetCity() != "Gotham" || created.GetCreatedAt() == nil {
			t.Errorf("created %v", created)
		}
		upd := must(c.UpdateAccount(&crmv1.UpdateAccountRequest{Id: created.GetId(),
			Record:     &crmv1.Account{Website: "https://www.wayne.example/about"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"website", "phones"}}}))(t).GetRecord()
		if upd.GetDomain() != "wayne.example" || len(upd.GetPhones()) != 0 || upd.GetName() != created.GetName() || len(upd.GetEmails()) != 1 {
			t.Errorf("updated %v", upd)
		}

		// contact.account_id is GHL's businessId, both ways.
		ct := must(c.CreateContact(&crmv1.CreateContactRequest{Record: &crmv1.Contact{FirstName: "Alfred", AccountId: created.GetId()}}))(t).GetRecord()
		if got := must(c.GetContact(&crmv1.GetContactRequest{Id: ct.GetId()}))(t).GetRecord().GetAccountId(); got != created.GetId() {
			t.Errorf("contact account_id %q, want %q", got, created.GetId())
		}
		moved := must(c.UpdateContact(&crmv1.UpdateContactRequest{Id: ct.GetId(), Record: &crmv1.Contact{AccountId: ids.Businesses[2]}}))(t).GetRecord()
		if moved.GetAccountId() != ids.Businesses[2] {
			t.Errorf("moved contact account_id %q", moved.GetAccountId())
		}

		must(c.DeleteAccount(&crmv1.DeleteAccountRequest{Id: created.GetId()}))(t)
		wantCode(t, second(c.GetAccount(&crmv1.GetAccountRequest{Id: created.GetId()})), codes.NotFound)
		wantCode(t, second(c.DeleteAccount(&crmv1.DeleteAccountRequest{Id: created.GetId()})), codes.NotFound)
	})
}

// TestAccountCountBatchUpsert: _count, _batch_read (order kept, missing
// ids listed) and _upsert on domain or website (create, update, 409 on two
// matches).
func TestAccountCountBatchUpsert(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e, ids := newCRMEnv(t)
		c := e.client(t, tr)

		if n := must(c.CountAccounts(&crmv1.CountAccountsRequest{}))(t).GetCount(); n != int32(ghlfake.SeedBusinesses) {
			t.Errorf("count = %d, want %d", n, ghlfake.SeedBusinesses)
		}
		// Seeded businesses are updated an hour apart from 2025-01-06T09:00Z.
		if n := must(c.CountAccounts(&crmv1.CountAccountsRequest{UpdatedAfter: "2025-01-06T10:30:00Z"}))(t).GetCount(); n != 3 {
			t.Errorf("count updated after = %d, want 3", n)
		}

		br := must(c.BatchReadAccounts(&crmv1.BatchReadAccountsRequest{Ids: []string{ids.Businesses[3], "000000000000000000000000", ids.Businesses[0]}, Properties: []string{"name"}}))(t)
		if len(br.GetItems()) != 2 || br.GetItems()[0].GetId() != ids.Businesses[3] || br.GetItems()[1].GetId() != ids.Businesses[0] ||
			br.GetItems()[0].GetName() != "Umbrella Ltd" || br.GetItems()[0].GetWebsite() != "" || strings.Join(br.GetNotFound(), ",") != "000000000000000000000000" {
			t.Errorf("batch read: %v", br)
		}

		// Upsert on domain: the seeded Initech is found by its website's domain.
		up := must(c.UpsertAccount(&crmv1.UpsertAccountRequest{UpsertOn: &crmv1.UpsertOn{Key: "domain", Values: []string{"INITECH.example.com"}},
			Record: &crmv1.Account{Description: "TPS reports"}}))(t)
		if up.GetCreated() || up.GetRecord().GetId() != ids.Businesses[2] || up.GetRecord().GetDescription() != "TPS reports" || up.GetRecord().GetName() != "Initech" {
			t.Errorf("upsert update: %v", up)
		}
		site := "https://www.dup-" + strings.ToLower(tr) + ".example/"
		cr := must(c.UpsertAccount(&crmv1.UpsertAccountRequest{UpsertOn: &crmv1.UpsertOn{Key: "website", Values: []string{site}},
			Record: &crmv1.Account{Name: "Dup One", Website: site}}))(t)
		if !cr.GetCreated() || cr.GetRecord().GetId() == "" {
			t.Fatalf("upsert create: %v", cr)
		}
		other := must(c.CreateAccount(&crmv1.CreateAccountRequest{Record: &crmv1.Account{Name: "Dup Two", Website: site + "two"}}))(t).GetRecord()
		ae := wantCode(t, second(c.UpsertAccount(&crmv1.UpsertAccountRequest{UpsertOn: &crmv1.UpsertOn{Key: "website", Values: []string{site}},
			Record: &crmv1.Account{Description: "X"}})), codes.AlreadyExists)
		if !strings.Contains(ae.message, cr.GetRecord().GetId()) || !strings.Contains(ae.message, other.GetId()) || (tr == REST && ae.httpStatus != http.StatusConflict) {
			t.Errorf("two matches: %v", ae)
		}
	})
}

// TestAccountsBadInput: every bad input is a 400 naming the field, before
// a business is written.
func TestAccountsBadInput(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e, ids := newCRMEnv(t)
		c := e.client(t, tr)
		must(c.ListAccounts(&crmv1.ListAccountsRequest{PageSize: 1}))(t) // warm the schema
		str := func(m map[string]any) *structpb.Struct { s, _ := structpb.NewStruct(m); return s }
		for _, tc := range []struct {
			name  string
			call  func() error
			field string
		}{
			{"negative page size", func() error { return second(c.ListAccounts(&crmv1.ListAccountsRequest{PageSize: -1})) }, "page_size"},
			{"bad cursor", func() error { return second(c.ListAccounts(&crmv1.ListAccountsRequest{Cursor: "garbage"})) }, "cursor"},
			{"bad updated_after", func() error { return second(c.ListAccounts(&crmv1.ListAccountsRequest{UpdatedAfter: "yesterday"})) }, "updated_after"},
			{"unknown field", func() error {
				return second(c.ListAccounts(&crmv1.ListAccountsRequest{Fields: []string{"first_name"}}))
			}, "fields"},
			{"bad id", func() error { return second(c.GetAccount(&crmv1.GetAccountRequest{Id: "bad id!"})) }, "id"},
			{"no name", func() error {
				return second(c.CreateAccount(&crmv1.CreateAccountRequest{Record: &crmv1.Account{Website: "acme.example"}}))
			}, "record.name"},
			{"bad website", func() error {
				return second(c.CreateAccount(&crmv1.CreateAccountRequest{Record: &crmv1.Account{Name: "X", Website: "https://"}}))
			}, "record.website"},
			{"bad domain", func() error {
				return second(c.CreateAccount(&crmv1.CreateAccountRequest{Record: &crmv1.Account{Name: "X", Domain: "acme.example/path"}}))
			}, "record.domain"},
			{"domain not the website's", func() error {
				return second(c.CreateAccount(&crmv1.CreateAccountRequest{Record: &crmv1.Account{Name: "X", Website: "a.example", Domain: "b.example"}}))
			}, "record.domain"},
			{"invalid email", func() error {
				return second(c.CreateAccount(&crmv1.CreateAccountRequest{Record: &crmv1.Account{Name: "X", Emails: []*crmv1.Email{{Address: "nope"}}}}))
			}, "record.emails[0].address"},
			{"two phones", func() error {
				return second(c.CreateAccount(&crmv1.CreateAccountRequest{Record: &crmv1.Account{Name: "X", Phones: []*crmv1.Phone{{Number: "1"}, {Number: "2"}}}}))
			}, "record.phones"},
			{"two addresses", func() error {
				return second(c.CreateAccount(&crmv1.CreateAccountRequest{Record: &crmv1.Account{Name: "X", Addresses: []*crmv1.Address{{City: "A"}, {City: "B"}}}}))
			}, "record.addresses"},
			{"owner GHL lacks", func() error {
				return second(c.CreateAccount(&crmv1.CreateAccountRequest{Record: &crmv1.Account{Name: "X", OwnerId: ids.Users[0]}}))
			}, "record.owner_id"},
			{"unknown custom field", func() error {
				return second(c.CreateAccount(&crmv1.CreateAccountRequest{Record: &crmv1.Account{Name: "X", CustomFields: str(map[string]any{"nope": 1})}}))
			}, "record.custom_fields.nope"},
			{"clear the name", func() error {
				return second(c.UpdateAccount(&crmv1.UpdateAccountRequest{Id: ids.Businesses[0], Record: &crmv1.Account{}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}}}))
			}, "record.name"},
			{"bad update mask", func() error {
				return second(c.UpdateAccount(&crmv1.UpdateAccountRequest{Id: ids.Businesses[0], Record: &crmv1.Account{}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"created_at"}}}))
			}, "update_mask"},
			{"empty update", func() error {
				return second(c.UpdateAccount(&crmv1.UpdateAccountRequest{Id: ids.Businesses[0], Record: &crmv1.Account{}}))
			}, "record"},
			{"too many ids", func() error {
				return second(c.BatchReadAccounts(&crmv1.BatchReadAccountsRequest{Ids: make([]string, 101)}))
			}, "ids"},
			{"bad batch id", func() error {
				return second(c.BatchReadAccounts(&crmv1.BatchReadAccountsRequest{Ids: []string{"ok1", "bad id"}}))
			}, "ids[1]"},
			{"count after", func() error { return second(c.CountAccounts(&crmv1.CountAccountsRequest{UpdatedAfter: "x"})) }, "updated_after"},
			{"upsert key", func() error {
				return second(c.UpsertAccount(&crmv1.UpsertAccountRequest{UpsertOn: &crmv1.UpsertOn{Key: "name", Values: []string{"X"}}, Record: &crmv1.Account{Name: "X"}}))
			}, "upsert_on.key"},
			{"upsert value", func() error {
				return second(c.UpsertAccount(&crmv1.UpsertAccountRequest{UpsertOn: &crmv1.UpsertOn{Key: "domain", Values: []string{"https://"}}, Record: &crmv1.Account{Name: "X"}}))
			}, "upsert_on.values[0]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				writes := func() int {
					return e.f.RequestCount("POST /businesses/") + e.f.RequestCount("PUT /businesses/{businessId}")
				}
				before := writes()
				ae := wantCode(t, tc.call(), codes.InvalidArgument)
				if !ae.hasField(tc.field) {
					t.Errorf("violations %v, want one on %q", ae.violations, tc.field)
				}
				if tr == REST && ae.httpStatus != http.StatusBadRequest {
					t.Errorf("HTTP %d, want 400", ae.httpStatus)
				}
				if n := writes() - before; n != 0 {
					t.Errorf("the provider was called (%d business writes)", n)
				}
			})
		}
	})
}

// TestAccountGolden pins the REST shape of an account (GET, with raw).
func TestAccountGolden(t *testing.T) {
	t.Parallel()
	e, ids := newCRMEnv(t)
	r := e.g.do(t, "GET", crmBase+"/account/"+ids.Businesses[1], hdr(e.tn.key, e.tn.connID), nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET account: %d %s", r.status, r.raw)
	}
	raw := string(r.raw)
	raw = strings.ReplaceAll(raw, ids.Businesses[1], "<account-id>")
	raw = strings.ReplaceAll(raw, e.tn.location, "<location-id>")
	golden(t, "account_get", []byte(raw))
}

// TestAccountCreateIdempotencyKey: an account create repeated with the
// same Idempotency-Key answers the first account without a second GHL
// create.
func TestAccountCreateIdempotencyKey(t *testing.T) {
	t.Parallel()
	e, _ := newCRMEnv(t)
	h := hdr(e.tn.key, e.tn.connID)
	h["idempotency-key"] = "account-" + randHex(6)
	body := map[string]any{"record": map[string]any{"name": "Once Ltd", "website": "once.example"}}
	first := e.g.do(t, "POST", crmBase+"/account", h, body)
	if first.status != http.StatusOK {
		t.Fatalf("create: %d %s", first.status, first.raw)
	}
	creates := e.f.RequestCount("POST /businesses/")
	if creates != 1 {
		t.Fatalf("GHL creates after the first call: %d, want 1", creates)
	}
	again := e.g.do(t, "POST", crmBase+"/account", h, body)
	id := str(first.body["record"].(map[string]any)["id"])
	if again.status != http.StatusOK || str(again.body["record"].(map[string]any)["id"]) != id || e.f.RequestCount("POST /businesses/") != creates {
		t.Fatalf("repeat: %d %s; GHL creates %d -> %d", again.status, again.raw, creates, e.f.RequestCount("POST /businesses/"))
	}
}
