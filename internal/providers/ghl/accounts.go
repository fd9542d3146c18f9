package ghl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
)

// Accounts through HighLevel's businesses API (apps/businesses.json):
// GET /businesses/ (paged by limit and skip), get, create, update and
// delete. The businesses API, not the objects API's `business` records,
// because its answers are typed (phone, email, website, address) the way
// Account is, and GHL's contacts link to a business by its id
// (businessId) there. It carries no custom fields, no owner and no date
// filter; docs/type-mapping.md lists every field.

var (
	_ crm.AccountReader  = (*Client)(nil)
	_ crm.AccountWriter  = (*Client)(nil)
	_ crm.AccountCounter = (*Client)(nil)
	_ crm.AccountFinder  = (*Client)(nil)
)

// Endpoint templates of the business calls (Endpoints).
const (
	endpointListBusinesses = "GET /businesses/"
	endpointCreateBusiness = "POST /businesses/"
	endpointGetBusiness    = "GET /businesses/{businessId}"
	endpointUpdateBusiness = "PUT /businesses/{businessId}"
	endpointDeleteBusiness = "DELETE /businesses/{businessId}"
)

// HighLevel's OAuth scopes of the business calls.
const (
	scopeBusinessesRead  = "businesses.readonly"
	scopeBusinessesWrite = "businesses.write"
)

// maxScanBusinesses bounds the businesses a count or an upsert pages
// through (GHL's list has no count and no filter).
const maxScanBusinesses = 10000

// ghlBusiness is the part of GHL's BusinessDto the adapter reads.
type ghlBusiness struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Phone       string `json:"phone"`
	Email       string `json:"email"`
	Website     string `json:"website"`
	Address     string `json:"address"`
	City        string `json:"city"`
	State       string `json:"state"`
	PostalCode  string `json:"postalCode"`
	Country     string `json:"country"`
	Description string `json:"description"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
}

// AccountFromGHL maps one GHL business (its JSON); the account keeps raw
// as its Raw.
func AccountFromGHL(raw json.RawMessage) (crm.Account, error) {
	var g ghlBusiness
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return crm.Account{}, errors.New("no business in response")
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return crm.Account{}, fmt.Errorf("decoding GHL business: %w", err)
	}
	if g.ID == "" {
		return crm.Account{}, errors.New("GHL business has no id")
	}
	a := crm.Account{
		ID:           g.ID,
		Name:         g.Name,
		Website:      g.Website,
		Domain:       crm.DomainOf(g.Website),
		Description:  g.Description,
		CustomFields: map[string]any{},
		CreatedAt:    parseTime(g.CreatedAt),
		UpdatedAt:    parseTime(g.UpdatedAt),
		Raw:          raw,
	}
	if g.Phone != "" {
		a.Phones = []crm.Phone{{Number: g.Phone, Primary: true}}
	}
	if g.Email != "" {
		a.Emails = []crm.Email{{Address: g.Email, Primary: true}}
	}
	if ad := (crm.Address{Street: g.Address, City: g.City, State: g.State, PostalCode: g.PostalCode, Country: g.Country}); !ad.IsZero() {
		a.Addresses = []crm.Address{ad}
	}
	return a, nil
}

// businessBody is CreateBusinessDto / UpdateBusinessDto: nil fields are
// not sent (unchanged on update).
type businessBody struct {
	LocationID  string  `json:"locationId,omitempty"`
	Name        *string `json:"name,omitempty"`
	Phone       *string `json:"phone,omitempty"`
	Email       *string `json:"email,omitempty"`
	Website     *string `json:"website,omitempty"`
	Address     *string `json:"address,omitempty"`
	City        *string `json:"city,omitempty"`
	State       *string `json:"state,omitempty"`
	PostalCode  *string `json:"postalCode,omitempty"`
	Country     *string `json:"country,omitempty"`
	Description *string `json:"description,omitempty"`
}

// buildBusinessBody builds the GHL body that writes the fields of a named
// in set. Fields are named as in the API, without the "record." prefix,
// in its *crm.ValidationError.
func buildBusinessBody(a crm.Account, set crm.Fields) (businessBody, error) {
	var b businessBody
	var vs []crm.FieldViolation
	bad := func(field, format string, args ...any) {
		vs = append(vs, crm.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	str := func(s string) *string { return &s }
	if set[crm.AccountName] {
		b.Name = str(a.Name)
	}
	switch {
	case set[crm.AccountWebsite]:
		b.Website = str(a.Website)
		if set[crm.AccountDomain] && a.Domain != "" && crm.DomainOf(a.Website) != crm.DomainOf(a.Domain) {
			bad("domain", "HighLevel keeps a website, not a domain: %q is not the domain of website %q", a.Domain, a.Website)
		}
	case set[crm.AccountDomain]:
		b.Website = str(a.Domain) // the website is the domain
	}
	if set[crm.AccountPhones] {
		switch len(a.Phones) {
		case 0:
			b.Phone = str("")
		case 1:
			b.Phone = str(a.Phones[0].Number)
		default:
			bad("phones", "HighLevel keeps one phone per business, got %d", len(a.Phones))
		}
	}
	if set[crm.AccountEmails] {
		switch len(a.Emails) {
		case 0:
			b.Email = str("")
		case 1:
			b.Email = str(a.Emails[0].Address)
		default:
			bad("emails", "HighLevel keeps one email per business, got %d", len(a.Emails))
		}
	}
	if set[crm.AccountAddresses] {
		var ad crm.Address
		switch len(a.Addresses) {
		case 0:
		case 1:
			ad = a.Addresses[0]
		default:
			bad("addresses", "HighLevel keeps one address per business, got %d", len(a.Addresses))
		}
		b.Address, b.City, b.State, b.PostalCode, b.Country = str(ad.Street), str(ad.City), str(ad.State), str(ad.PostalCode), str(ad.Country)
	}
	if set[crm.AccountDescription] {
		b.Description = str(a.Description)
	}
	if set[crm.AccountOwnerID] && a.OwnerID != "" {
		bad("owner_id", "HighLevel businesses have no owner")
	}
	if set[crm.AccountCustomFields] && len(a.CustomFields) > 0 {
		keys := make([]string, 0, len(a.CustomFields))
		for k := range a.CustomFields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			bad("custom_fields."+k, "HighLevel's businesses API (/businesses/) carries no custom fields")
		}
	}
	if len(vs) > 0 {
		return businessBody{}, &crm.ValidationError{Violations: vs}
	}
	return b, nil
}

func businessPath(id string) string { return "/businesses/" + seg(id) }

// businessCall sends a request answering {business} or {buiseness} (sic,
// the create and update answers) and maps it.
func (c *Client) businessCall(ctx context.Context, op, endpoint, method, path string, body any) (crm.Account, error) {
	var resp struct {
		Business  json.RawMessage `json:"business"`
		Buiseness json.RawMessage `json:"buiseness"` // sic, UpdateBusinessResponseDto
	}
	scope := scopeBusinessesWrite
	if method == http.MethodGet {
		scope = scopeBusinessesRead
	}
	if _, err := c.do(withEndpoint(ctx, endpoint), method, path, nil, body, &resp); err != nil {
		return crm.Account{}, withScope(err, scope)
	}
	raw := resp.Business
	if len(raw) == 0 || string(raw) == "null" {
		raw = resp.Buiseness
	}
	a, err := AccountFromGHL(raw)
	if err != nil {
		return crm.Account{}, badAnswer(op, err)
	}
	return a, nil
}

// GetAccount implements crm.AccountReader: GET /businesses/{businessId}.
func (c *Client) GetAccount(ctx context.Context, _ crm.Schema, id string) (crm.Account, error) {
	if id == "" {
		return crm.Account{}, crm.Invalid("id", "required")
	}
	return c.businessCall(ctx, "get business", endpointGetBusiness, http.MethodGet, businessPath(id), nil)
}

// CreateAccount implements crm.AccountWriter: POST /businesses/ with the
// fields of a that are set.
func (c *Client) CreateAccount(ctx context.Context, _ crm.Schema, a crm.Account) (crm.Account, error) {
	body, err := buildBusinessBody(a, a.SetFields())
	if err != nil {
		return crm.Account{}, err
	}
	body.LocationID = c.locationID
	return c.businessCall(ctx, "create business", endpointCreateBusiness, http.MethodPost, "/businesses/", body)
}

// UpdateAccount implements crm.AccountWriter: PUT /businesses/{businessId}
// with the fields named in set.
func (c *Client) UpdateAccount(ctx context.Context, _ crm.Schema, id string, a crm.Account, set crm.Fields) (crm.Account, error) {
	if id == "" {
		return crm.Account{}, crm.Invalid("id", "required")
	}
	body, err := buildBusinessBody(a, set)
	if err != nil {
		return crm.Account{}, err
	}
	return c.businessCall(ctx, "update business", endpointUpdateBusiness, http.MethodPut, businessPath(id), body)
}

// DeleteAccount implements crm.AccountWriter: DELETE
// /businesses/{businessId} (answer {success}). GHL unlinks the contacts of
// the business.
func (c *Client) DeleteAccount(ctx context.Context, id string) error {
	if id == "" {
		return crm.Invalid("id", "required")
	}
	var resp struct {
		Success *bool `json:"success"`
	}
	raw, err := c.do(withEndpoint(ctx, endpointDeleteBusiness), http.MethodDelete, businessPath(id), nil, nil, nil)
	if err != nil {
		return withScope(err, scopeBusinessesWrite)
	}
	_ = json.Unmarshal(raw, &resp) // the answer is informative only
	if resp.Success != nil && !*resp.Success {
		return &crm.ProviderError{Provider: providerName, Status: http.StatusOK, Message: "GHL did not delete business " + id + " (success: false)"}
	}
	return nil
}

// accountCursor is the decoded crm cursor of an account list: how many
// businesses GHL's list skips.
type accountCursor struct {
	Skip int `json:"s"`
}

// ListAccounts implements crm.AccountReader: GET /businesses/ with limit
// (one more than the page, so that the last page says so) and skip, in
// GHL's order (creation). GHL's list has no date filter: a non-zero
// q.UpdatedAfter is an *crm.UnsupportedError.
func (c *Client) ListAccounts(ctx context.Context, _ crm.Schema, q crm.EntityQuery) (crm.AccountPage, error) {
	if !q.UpdatedAfter.IsZero() {
		return crm.AccountPage{}, &crm.UnsupportedError{Entity: crm.EntityAccount, Operation: "list", Provider: providerName,
			Reason: "updated_after cannot be honoured, HighLevel's businesses list (GET /businesses/) has no date filter; list without it"}
	}
	if q.PageSize <= 0 {
		return crm.AccountPage{}, crm.Invalid("page_size", "must be positive")
	}
	skip := 0
	if q.Cursor != "" {
		var cur accountCursor
		if err := decodeCursorJSON(q.Cursor, &cur); err != nil || cur.Skip <= 0 {
			return crm.AccountPage{}, crm.Invalid("cursor", "malformed cursor")
		}
		skip = cur.Skip
	}
	limit := min(q.PageSize, MaxPageSize)
	items, more, err := c.listBusinesses(ctx, skip, limit)
	if err != nil {
		return crm.AccountPage{}, err
	}
	page := crm.AccountPage{Items: items}
	if !q.IncludeRaw {
		for i := range page.Items {
			page.Items[i].Raw = nil
		}
	}
	if more {
		page.NextCursor = encodeCursor(accountCursor{Skip: skip + len(items)})
	}
	return page, nil
}

// listBusinesses reads up to limit businesses after skip, asking for one
// more to tell whether more follow.
func (c *Client) listBusinesses(ctx context.Context, skip, limit int) ([]crm.Account, bool, error) {
	q := c.locQuery()
	q.Set("limit", strconv.Itoa(limit+1))
	if skip > 0 {
		q.Set("skip", strconv.Itoa(skip))
	}
	var resp struct {
		Businesses []json.RawMessage `json:"businesses"`
	}
	if _, err := c.do(withEndpoint(ctx, endpointListBusinesses), http.MethodGet, "/businesses/", q, nil, &resp); err != nil {
		return nil, false, withScope(err, scopeBusinessesRead)
	}
	more := len(resp.Businesses) > limit
	if more {
		resp.Businesses = resp.Businesses[:limit]
	}
	items := make([]crm.Account, 0, len(resp.Businesses))
	for _, raw := range resp.Businesses {
		a, err := AccountFromGHL(raw)
		if err != nil {
			return nil, false, badAnswer("list businesses", err)
		}
		items = append(items, a)
	}
	return items, more, nil
}

// scanBusinesses calls each for every business, page by page, until it
// answers false; more than maxScanBusinesses is an *crm.UnsupportedError.
func (c *Client) scanBusinesses(ctx context.Context, op string, each func(crm.Account) bool) error {
	for skip := 0; ; {
		if skip >= maxScanBusinesses {
			return &crm.UnsupportedError{Entity: crm.EntityAccount, Operation: op, Provider: providerName,
				Reason: fmt.Sprintf("HighLevel's businesses list has no count or filter, and the location has more than %d businesses to page through", maxScanBusinesses)}
		}
		items, more, err := c.listBusinesses(ctx, skip, MaxPageSize)
		if err != nil {
			return err
		}
		for _, a := range items {
			if !each(a) {
				return nil
			}
		}
		if !more {
			return nil
		}
		skip += len(items)
	}
}

// CountAccounts implements crm.AccountCounter: GHL has no count of
// businesses, so the list is paged through (updatedAfter compared with
// each business's updatedAt).
func (c *Client) CountAccounts(ctx context.Context, _ crm.Schema, updatedAfter time.Time) (int64, error) {
	var n int64
	err := c.scanBusinesses(ctx, "count", func(a crm.Account) bool {
		if updatedAfter.IsZero() || a.UpdatedAt.After(updatedAfter) {
			n++
		}
		return true
	})
	return n, err
}

// FindAccountsByDomain implements crm.AccountFinder: GHL cannot filter
// businesses, so the list is paged through, each business's domain taken
// from its website.
func (c *Client) FindAccountsByDomain(ctx context.Context, _ crm.Schema, domains []string, limit int) ([]crm.Account, error) {
	want := map[string]bool{}
	for _, d := range domains {
		want[d] = true
	}
	var out []crm.Account
	err := c.scanBusinesses(ctx, "upsert", func(a crm.Account) bool {
		if a.Domain != "" && want[a.Domain] {
			a.Raw = nil
			out = append(out, a)
		}
		return len(out) < limit
	})
	return out, err
}
