package ghl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
)

// Contacts through HighLevel's contacts API (apps/contacts.json): search
// (POST /contacts/search, the only list that pages with a cursor), get,
// create, update and delete. docs/type-mapping.md lists every field.

var (
	_ crm.ContactReader   = (*Client)(nil)
	_ crm.ContactWriter   = (*Client)(nil)
	_ crm.ContactSearcher = (*Client)(nil)
	_ crm.Named           = (*Client)(nil)
)

// ProviderName implements crm.Named.
func (c *Client) ProviderName() string { return providerName }

// Endpoint templates of the contact calls (Endpoints).
const (
	endpointSearchContacts = "POST /contacts/search"
	endpointCreateContact  = "POST /contacts/"
	endpointGetContact     = "GET /contacts/{contactId}"
	endpointUpdateContact  = "PUT /contacts/{contactId}"
	endpointDeleteContact  = "DELETE /contacts/{contactId}"
)

// GHL contact types: crm.Contact.LifecycleStage.
const (
	contactLead     = "lead"
	contactCustomer = "customer"
)

// contactStandardFields are the property ids of GHL's own contact fields
// as the objects API lists them (contact.first_name, ...): they are typed
// Contact fields or GHL extras kept in raw_data, never custom fields.
var contactStandardFields = map[string]bool{
	"first_name": true, "last_name": true, "name": true, "full_name": true, "email": true, "phone": true,
	"company_name": true, "date_of_birth": true, "address": true, "address1": true, "city": true,
	"state": true, "postal_code": true, "country": true, "website": true, "source": true,
	"timezone": true, "dnd": true, "tags": true, "type": true, "assigned_to": true,
	"additional_emails": true, "additional_phones": true, "business_id": true, "gender": true,
}

// flexString is an entry of additionalEmails/additionalPhones: GHL's
// answers carry strings; objects {email|phone|value} are read too.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var o struct {
		Email string `json:"email"`
		Phone string `json:"phone"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("want a string or an object: %w", err)
	}
	*f = flexString(firstNonEmpty(o.Email, o.Phone, o.Value))
	return nil
}

// ghlCustomValue is a custom field value of a contact: CustomFieldSchema
// {id, value} in answers.
type ghlCustomValue struct {
	ID    string `json:"id"`
	Value any    `json:"value"`
}

// ghlContact is the part of GHL's GetContectByIdSchema (sic) the adapter
// reads.
type ghlContact struct {
	ID               string           `json:"id"`
	Name             string           `json:"name"`
	FirstName        string           `json:"firstName"`
	LastName         string           `json:"lastName"`
	Email            string           `json:"email"`
	Phone            string           `json:"phone"`
	AdditionalEmails []flexString     `json:"additionalEmails"`
	AdditionalPhones []flexString     `json:"additionalPhones"`
	CompanyName      string           `json:"companyName"`
	Address1         string           `json:"address1"`
	City             string           `json:"city"`
	State            string           `json:"state"`
	PostalCode       string           `json:"postalCode"`
	Country          string           `json:"country"`
	AssignedTo       string           `json:"assignedTo"`
	Type             string           `json:"type"`
	BusinessID       string           `json:"businessId"`
	Tags             []string         `json:"tags"`
	CustomFields     []ghlCustomValue `json:"customFields"`
	DateAdded        string           `json:"dateAdded"`
	DateUpdated      string           `json:"dateUpdated"`
	SearchAfter      json.RawMessage  `json:"searchAfter"`
}

// contactFields maps the contact schema's custom fields between GHL field
// ids and neutral property ids.
type contactFields struct {
	byGHLID map[string]string // GHL id -> property id
	sc      crm.Schema
}

func newContactFields(sc crm.Schema) contactFields {
	m := make(map[string]string, len(sc.Properties))
	for _, p := range sc.Properties {
		if id, ok := p.RawDetails[RawID].(string); ok && id != "" && !contactStandardFields[p.ID] {
			m[id] = p.ID
		}
	}
	return contactFields{byGHLID: m, sc: sc}
}

// ContactFromGHL maps one GHL contact (its JSON) with the contact schema
// sc. The contact keeps raw as its Raw.
func ContactFromGHL(sc crm.Schema, raw json.RawMessage) (crm.Contact, error) {
	c, _, err := contactFromGHL(newContactFields(sc), raw)
	return c, err
}

func contactFromGHL(f contactFields, raw json.RawMessage) (crm.Contact, ghlContact, error) {
	var g ghlContact
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return crm.Contact{}, g, errors.New("no contact in response")
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return crm.Contact{}, g, fmt.Errorf("decoding GHL contact: %w", err)
	}
	if g.ID == "" {
		return crm.Contact{}, g, errors.New("GHL contact has no id")
	}
	c := crm.Contact{
		ID:             g.ID,
		FirstName:      g.FirstName,
		LastName:       g.LastName,
		Name:           firstNonEmpty(g.Name, strings.TrimSpace(g.FirstName+" "+g.LastName)),
		CompanyName:    g.CompanyName,
		AccountID:      g.BusinessID,
		OwnerID:        g.AssignedTo,
		LifecycleStage: g.Type,
		Tags:           g.Tags,
		CreatedAt:      parseTime(g.DateAdded),
		UpdatedAt:      parseTime(g.DateUpdated),
		CustomFields:   map[string]any{},
		Raw:            raw,
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if g.Email != "" {
		c.Emails = append(c.Emails, crm.Email{Address: g.Email, Primary: true})
	}
	for _, e := range g.AdditionalEmails {
		if e != "" && string(e) != g.Email {
			c.Emails = append(c.Emails, crm.Email{Address: string(e)})
		}
	}
	if g.Phone != "" {
		c.Phones = append(c.Phones, crm.Phone{Number: g.Phone, Primary: true})
	}
	for _, p := range g.AdditionalPhones {
		if p != "" && string(p) != g.Phone {
			c.Phones = append(c.Phones, crm.Phone{Number: string(p)})
		}
	}
	if a := (crm.Address{Street: g.Address1, City: g.City, State: g.State, PostalCode: g.PostalCode, Country: g.Country}); !a.IsZero() {
		c.Addresses = []crm.Address{a}
	}
	for _, cv := range g.CustomFields {
		if cv.ID == "" {
			continue
		}
		key := cv.ID // a field the cached schema does not know yet keeps GHL's id
		if k, ok := f.byGHLID[cv.ID]; ok {
			key = k
		}
		c.CustomFields[key] = cv.Value
	}
	return c, g, nil
}

// ghlCustomInput is one of customFieldsInput{String,Array,Object}Schema.
type ghlCustomInput struct {
	ID         string `json:"id"`
	FieldValue any    `json:"field_value"`
}

// contactBody is CreateContactDto / UpdateContactDto: nil fields are not
// sent (unchanged on update). additionalEmails, additionalPhones, type and
// businessId are not in the spec's DTOs but are accepted by HighLevel and
// its official SDK's types.
type contactBody struct {
	LocationID       string           `json:"locationId,omitempty"`
	FirstName        *string          `json:"firstName,omitempty"`
	LastName         *string          `json:"lastName,omitempty"`
	Name             *string          `json:"name,omitempty"`
	Email            *string          `json:"email,omitempty"`
	AdditionalEmails *[]string        `json:"additionalEmails,omitempty"`
	Phone            *string          `json:"phone,omitempty"`
	AdditionalPhones *[]string        `json:"additionalPhones,omitempty"`
	Address1         *string          `json:"address1,omitempty"`
	City             *string          `json:"city,omitempty"`
	State            *string          `json:"state,omitempty"`
	PostalCode       *string          `json:"postalCode,omitempty"`
	Country          *string          `json:"country,omitempty"`
	CompanyName      *string          `json:"companyName,omitempty"`
	BusinessID       *string          `json:"businessId,omitempty"`
	AssignedTo       *string          `json:"assignedTo,omitempty"`
	Type             *string          `json:"type,omitempty"`
	Tags             *[]string        `json:"tags,omitempty"`
	CustomFields     []ghlCustomInput `json:"customFields,omitempty"`
}

// primaryFirst returns the index of the primary entry (the first when none
// is marked) and how many are marked.
func primaryFirst(n int, primary func(int) bool) (int, int) {
	idx, marked := 0, 0
	for i := range n {
		if primary(i) {
			if marked == 0 {
				idx = i
			}
			marked++
		}
	}
	return idx, marked
}

// buildContactBody builds the GHL body that writes the fields of c named in set
// (every field of a create). Fields are named as in the API, without the
// "record." prefix, in its *crm.ValidationError.
func buildContactBody(sc crm.Schema, c crm.Contact, set crm.Fields) (contactBody, error) {
	var b contactBody
	var vs []crm.FieldViolation
	bad := func(field, format string, args ...any) {
		vs = append(vs, crm.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	str := func(s string) *string { return &s }
	if set[crm.ContactFirstName] {
		b.FirstName = str(c.FirstName)
	}
	if set[crm.ContactLastName] {
		b.LastName = str(c.LastName)
	}
	if set[crm.ContactName] {
		b.Name = str(c.Name)
	}
	if set[crm.ContactEmails] {
		p, marked := primaryFirst(len(c.Emails), func(i int) bool { return c.Emails[i].Primary })
		if marked > 1 {
			bad("emails", "at most one email can be primary")
		}
		email, more := "", []string{}
		for i, e := range c.Emails {
			if i == p {
				email = e.Address
			} else {
				more = append(more, e.Address)
			}
		}
		b.Email, b.AdditionalEmails = &email, &more
	}
	if set[crm.ContactPhones] {
		p, marked := primaryFirst(len(c.Phones), func(i int) bool { return c.Phones[i].Primary })
		if marked > 1 {
			bad("phones", "at most one phone can be primary")
		}
		phone, more := "", []string{}
		for i, ph := range c.Phones {
			if i == p {
				phone = ph.Number
			} else {
				more = append(more, ph.Number)
			}
		}
		b.Phone, b.AdditionalPhones = &phone, &more
	}
	if set[crm.ContactAddresses] {
		var a crm.Address
		switch len(c.Addresses) {
		case 0:
		case 1:
			a = c.Addresses[0]
		default:
			bad("addresses", "HighLevel keeps one address per contact, got %d", len(c.Addresses))
		}
		b.Address1, b.City, b.State, b.PostalCode, b.Country = str(a.Street), str(a.City), str(a.State), str(a.PostalCode), str(a.Country)
	}
	if set[crm.ContactCompanyName] {
		b.CompanyName = str(c.CompanyName)
	}
	if set[crm.ContactAccountID] {
		b.BusinessID = str(c.AccountID)
	}
	if set[crm.ContactOwnerID] {
		b.AssignedTo = str(c.OwnerID)
	}
	if set[crm.ContactLifecycleStage] {
		switch c.LifecycleStage {
		case contactLead, contactCustomer:
			b.Type = str(c.LifecycleStage)
		default:
			bad("lifecycle_stage", "HighLevel contacts are %q or %q, got %q", contactLead, contactCustomer, c.LifecycleStage)
		}
	}
	if set[crm.ContactTags] {
		tags := append([]string{}, c.Tags...)
		b.Tags = &tags
	}
	if set[crm.ContactCustomFields] {
		keys := make([]string, 0, len(c.CustomFields))
		for k := range c.CustomFields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p, ok := sc.Property(k)
			id, _ := p.RawDetails[RawID].(string)
			switch {
			case contactStandardFields[k]:
				bad("custom_fields."+k, "is a HighLevel standard contact field, not a custom field; set the contact's own field")
			case !ok || id == "":
				bad("custom_fields."+k, "is not a custom field of HighLevel contacts")
			default:
				b.CustomFields = append(b.CustomFields, ghlCustomInput{ID: id, FieldValue: c.CustomFields[k]})
			}
		}
	}
	if len(vs) > 0 {
		return contactBody{}, &crm.ValidationError{Violations: vs}
	}
	return b, nil
}

// HighLevel's OAuth scopes of the contact calls.
const (
	scopeContactsRead  = "contacts.readonly"
	scopeContactsWrite = "contacts.write"
)

// withScope names the scope a call needs when HighLevel refused the token
// for a scope (401/403 "The token is not authorized for this scope."): the
// gateway answers 403 with that message.
func withScope(err error, scope string) error {
	var pe *crm.ProviderError
	if !errors.As(err, &pe) || (pe.Status != http.StatusUnauthorized && pe.Status != http.StatusForbidden) ||
		!strings.Contains(strings.ToLower(pe.Message), "scope") {
		return err
	}
	named := *pe
	named.Status = http.StatusForbidden
	named.Message = fmt.Sprintf("%s (this call needs the HighLevel scope %s)", pe.Message, scope)
	return &named
}

// contactCall sends a request answering {contact} and maps it.
func (c *Client) contactCall(ctx context.Context, op, endpoint, method, path string, sc crm.Schema, body any) (crm.Contact, error) {
	var resp struct {
		Contact json.RawMessage `json:"contact"`
	}
	scope := scopeContactsWrite
	if method == http.MethodGet {
		scope = scopeContactsRead
	}
	if _, err := c.do(withEndpoint(ctx, endpoint), method, path, nil, body, &resp); err != nil {
		return crm.Contact{}, withScope(err, scope)
	}
	ct, _, err := contactFromGHL(newContactFields(sc), resp.Contact)
	if err != nil {
		return crm.Contact{}, badAnswer(op, err)
	}
	return ct, nil
}

func contactPath(id string) string { return "/contacts/" + seg(id) }

// GetContact implements crm.ContactReader: GET /contacts/{contactId}.
func (c *Client) GetContact(ctx context.Context, sc crm.Schema, id string) (crm.Contact, error) {
	if id == "" {
		return crm.Contact{}, crm.Invalid("id", "required")
	}
	return c.contactCall(ctx, "get contact", endpointGetContact, http.MethodGet, contactPath(id), sc, nil)
}

// CreateContact implements crm.ContactWriter: POST /contacts/ with
// CreateContactDto holding the fields of ct that are set. GHL refuses (400) a contact whose email or phone
// another contact has, unless the location allows duplicates.
func (c *Client) CreateContact(ctx context.Context, sc crm.Schema, ct crm.Contact) (crm.Contact, error) {
	// Only the fields that are set: GHL refuses an empty email, for one,
	// and leaves type to its default (lead).
	body, err := buildContactBody(sc, ct, ct.SetFields())
	if err != nil {
		return crm.Contact{}, err
	}
	body.LocationID = c.locationID
	return c.contactCall(ctx, "create contact", endpointCreateContact, http.MethodPost, "/contacts/", sc, body)
}

// UpdateContact implements crm.ContactWriter: PUT /contacts/{contactId}
// with UpdateContactDto holding the fields named in set.
func (c *Client) UpdateContact(ctx context.Context, sc crm.Schema, id string, ct crm.Contact, set crm.Fields) (crm.Contact, error) {
	if id == "" {
		return crm.Contact{}, crm.Invalid("id", "required")
	}
	body, err := buildContactBody(sc, ct, set)
	if err != nil {
		return crm.Contact{}, err
	}
	return c.contactCall(ctx, "update contact", endpointUpdateContact, http.MethodPut, contactPath(id), sc, body)
}

// DeleteContact implements crm.ContactWriter: DELETE /contacts/{contactId}
// (answer {succeded}, sic). GHL deletes the contact's notes with it.
func (c *Client) DeleteContact(ctx context.Context, id string) error {
	if id == "" {
		return crm.Invalid("id", "required")
	}
	var resp struct {
		Succeded *bool `json:"succeded"` // sic
	}
	raw, err := c.do(withEndpoint(ctx, endpointDeleteContact), http.MethodDelete, contactPath(id), nil, nil, nil)
	if err != nil {
		return withScope(err, scopeContactsWrite)
	}
	_ = json.Unmarshal(raw, &resp) // the answer is informative only
	if resp.Succeded != nil && !*resp.Succeded {
		return &crm.ProviderError{Provider: providerName, Status: http.StatusOK, Message: "GHL did not delete contact " + id + " (succeded: false)"}
	}
	return nil
}

// contactCursor is the decoded crm cursor of a contact list: GHL's
// searchAfter of the last contact returned.
type contactCursor struct {
	After json.RawMessage `json:"a"`
}

// contactSort is one sort of a contact search.
type contactSort struct {
	Field     string `json:"field"`
	Direction string `json:"direction"`
}

// contactFilter is one filter of a contact search.
type contactFilter struct {
	Field    string `json:"field"`
	Operator string `json:"operator"`
	Value    any    `json:"value"`
}

// contactSearchBody is the body of HighLevel's "Search Contacts" (the
// spec's SearchBodyV2DTO is empty; the fields are its linked docs').
type contactSearchBody struct {
	LocationID  string          `json:"locationId"`
	PageLimit   int             `json:"pageLimit"`
	SearchAfter json.RawMessage `json:"searchAfter,omitempty"`
	Query       string          `json:"query,omitempty"`
	Filters     []any           `json:"filters,omitempty"`
	Sort        []contactSort   `json:"sort"`
}

// ListContacts implements crm.ContactReader: POST /contacts/search sorted
// by dateAdded (GHL breaks ties by id) and paged with searchAfter, asking
// for one contact more than the page holds so that the last page says so;
// q.UpdatedAfter is a range filter on dateUpdated.
func (c *Client) ListContacts(ctx context.Context, sc crm.Schema, q crm.EntityQuery) (crm.ContactPage, error) {
	body := contactSearchBody{LocationID: c.locationID, Sort: []contactSort{{Field: "dateAdded", Direction: "asc"}}}
	if !q.UpdatedAfter.IsZero() {
		body.Filters = []any{rangeFilter("dateUpdated", "gt", q.UpdatedAfter)}
	}
	return c.searchContacts(ctx, sc, body, q.Cursor, q.PageSize, q.IncludeRaw)
}

func rangeFilter(field, op string, t time.Time) contactFilter {
	return contactFilter{Field: field, Operator: "range", Value: map[string]string{op: t.UTC().Format(time.RFC3339Nano)}}
}

// contactSearchFields maps contact fields to GHL's search fields (filters
// and sort). GHL searches the primary email and phone only.
var contactSearchFields = map[string]string{
	crm.ContactFirstName: "firstNameLowerCase", crm.ContactLastName: "lastNameLowerCase", crm.ContactName: "fullNameLowerCase",
	crm.ContactEmails: "email", crm.ContactPhones: "phone", crm.ContactCompanyName: "companyName",
	crm.ContactAccountID: "businessId", crm.ContactOwnerID: "assignedTo", crm.ContactLifecycleStage: "type",
	crm.ContactTags: "tags", "created_at": "dateAdded", "updated_at": "dateUpdated",
}

// contactSortable are the fields GHL sorts contacts by.
var contactSortable = map[string]bool{
	"created_at": true, "updated_at": true, crm.ContactFirstName: true, crm.ContactLastName: true,
	crm.ContactName: true, crm.ContactCompanyName: true, crm.ContactEmails: true,
}

// contactGroup is a group of filters of a contact search.
type contactGroup struct {
	Group   string          `json:"group"`
	Filters []contactFilter `json:"filters"`
}

// searchFilters maps checked filters to GHL's (names without "filters"
// prefix in violations: "filters[i].field").
func searchFilters(in []crm.Filter) ([]any, error) {
	var vs []crm.FieldViolation
	out := make([]any, 0, len(in))
	for i, f := range in {
		field, ok := contactSearchFields[f.Field]
		if !ok {
			vs = append(vs, crm.FieldViolation{Field: fmt.Sprintf("filters[%d].field", i),
				Description: fmt.Sprintf("HighLevel's contact search cannot filter on %q", f.Field)})
			continue
		}
		switch f.Operator {
		case crm.OpEq, crm.OpNeq, crm.OpContains:
			op := map[crm.FilterOp]string{crm.OpEq: "eq", crm.OpNeq: "not_eq", crm.OpContains: "contains"}[f.Operator]
			out = append(out, contactFilter{Field: field, Operator: op, Value: f.Value})
		case crm.OpIn:
			vals, _ := f.Value.([]string)
			g := contactGroup{Group: "OR"}
			for _, v := range vals {
				g.Filters = append(g.Filters, contactFilter{Field: field, Operator: "eq", Value: v})
			}
			out = append(out, g)
		case crm.OpGt, crm.OpLt:
			t, ok := f.Value.(time.Time)
			if !ok || (field != "dateAdded" && field != "dateUpdated") {
				vs = append(vs, crm.FieldViolation{Field: fmt.Sprintf("filters[%d].operator", i),
					Description: "HighLevel compares created_at and updated_at only"})
				continue
			}
			out = append(out, rangeFilter(field, string(f.Operator), t))
		default:
			vs = append(vs, crm.FieldViolation{Field: fmt.Sprintf("filters[%d].operator", i), Description: fmt.Sprintf("unknown operator %q", f.Operator)})
		}
	}
	if len(vs) > 0 {
		return nil, &crm.ValidationError{Violations: vs}
	}
	return out, nil
}

// SearchContacts implements crm.ContactSearcher: POST /contacts/search
// with the filters (an `in` becomes an OR group of eq; gt and lt a range
// on dateAdded/dateUpdated), the query and one sort (by dateAdded when
// none), paged as ListContacts.
func (c *Client) SearchContacts(ctx context.Context, sc crm.Schema, q crm.EntitySearch) (crm.ContactPage, error) {
	filters, err := searchFilters(q.Filters)
	if err != nil {
		return crm.ContactPage{}, err
	}
	body := contactSearchBody{LocationID: c.locationID, Query: q.Query, Filters: filters, Sort: []contactSort{{Field: "dateAdded", Direction: "asc"}}}
	if q.Sort != nil {
		if !contactSortable[q.Sort.Field] {
			return crm.ContactPage{}, crm.Invalid("sort.field", "HighLevel cannot sort contacts by %q", q.Sort.Field)
		}
		body.Sort[0].Field = contactSearchFields[q.Sort.Field]
		if q.Sort.Desc {
			body.Sort[0].Direction = "desc"
		}
	}
	return c.searchContacts(ctx, sc, body, q.Cursor, q.PageSize, q.IncludeRaw)
}

// CountContacts implements crm.ContactSearcher: the total of a search of
// one contact.
func (c *Client) CountContacts(ctx context.Context, sc crm.Schema, updatedAfter time.Time) (int64, error) {
	pg, err := c.ListContacts(ctx, sc, crm.EntityQuery{PageSize: 1, UpdatedAfter: updatedAfter})
	if err != nil {
		return 0, err
	}
	if pg.Total < 0 {
		return 0, badAnswer("search contacts", errors.New("no total in the answer"))
	}
	return pg.Total, nil
}

// searchContacts sends one page of a contact search.
func (c *Client) searchContacts(ctx context.Context, sc crm.Schema, body contactSearchBody, cursor string, pageSize int, includeRaw bool) (crm.ContactPage, error) {
	if pageSize <= 0 {
		return crm.ContactPage{}, crm.Invalid("page_size", "must be positive")
	}
	limit := min(pageSize, MaxPageSize)
	body.PageLimit = limit + 1
	if cursor != "" {
		var cur contactCursor
		if err := decodeCursorJSON(cursor, &cur); err != nil || !isJSONArray(cur.After) {
			return crm.ContactPage{}, crm.Invalid("cursor", "malformed cursor")
		}
		body.SearchAfter = cur.After
	}
	var resp struct {
		Contacts []json.RawMessage `json:"contacts"`
		Total    *float64          `json:"total"`
	}
	if _, err := c.do(withEndpoint(ctx, endpointSearchContacts), http.MethodPost, "/contacts/search", nil, body, &resp); err != nil {
		return crm.ContactPage{}, withScope(err, scopeContactsRead)
	}
	page := crm.ContactPage{Total: -1, Items: make([]crm.Contact, 0, min(len(resp.Contacts), limit))}
	if resp.Total != nil {
		page.Total = int64(*resp.Total)
	}
	f := newContactFields(sc)
	var last ghlContact
	for i, raw := range resp.Contacts {
		if i == limit {
			if !isJSONArray(last.SearchAfter) {
				return crm.ContactPage{}, badAnswer("search contacts", errors.New("contact without searchAfter"))
			}
			page.NextCursor = encodeCursor(contactCursor{After: compactJSON(last.SearchAfter)})
			break
		}
		ct, g, err := contactFromGHL(f, raw)
		if err != nil {
			return crm.ContactPage{}, badAnswer("search contacts", err)
		}
		if !includeRaw {
			ct.Raw = nil
		}
		page.Items = append(page.Items, ct)
		last = g
	}
	return page, nil
}
