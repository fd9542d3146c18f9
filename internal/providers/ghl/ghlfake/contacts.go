package ghlfake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// contactInput is CreateContactDto / UpdateContactDto / UpsertContactDto.
// Pointers tell an absent field from an empty one on update.
type contactInput struct {
	LocationID                  *string       `json:"locationId"`
	FirstName                   *string       `json:"firstName"`
	LastName                    *string       `json:"lastName"`
	Name                        *string       `json:"name"`
	Email                       *string       `json:"email"`
	Phone                       *string       `json:"phone"`
	AdditionalEmails            []string      `json:"additionalEmails"`
	AdditionalPhones            []string      `json:"additionalPhones"`
	CompanyName                 *string       `json:"companyName"`
	Address1                    *string       `json:"address1"`
	City                        *string       `json:"city"`
	State                       *string       `json:"state"`
	PostalCode                  *string       `json:"postalCode"`
	Country                     *string       `json:"country"`
	Website                     *string       `json:"website"`
	Timezone                    *string       `json:"timezone"`
	Source                      *string       `json:"source"`
	AssignedTo                  *string       `json:"assignedTo"`
	Type                        *string       `json:"type"`
	BusinessID                  *string       `json:"businessId"`
	DND                         *bool         `json:"dnd"`
	Tags                        []string      `json:"tags"`
	CustomFields                []customInput `json:"customFields"`
	CreateNewIfDuplicateAllowed *bool         `json:"createNewIfDuplicateAllowed"`
	Gender                      *string       `json:"gender"`
	DateOfBirth                 any           `json:"dateOfBirth"`
	DNDSettings                 any           `json:"dndSettings"`
	InboundDNDSettings          any           `json:"inboundDndSettings"`
}

// customInput is one of customFieldsInput{String,Array,Object}Schema:
// {id | key, field_value}; {id, value} is accepted too.
type customInput struct {
	ID         string `json:"id"`
	Key        string `json:"key"`
	FieldValue any    `json:"field_value"`
	Value      any    `json:"value"`
}

func customValues(in []customInput) ([]customValue, []string) {
	var out []customValue
	var msgs []string
	for i, cf := range in {
		id := cf.ID
		if id == "" {
			id = cf.Key
		}
		if id == "" {
			msgs = append(msgs, "customFields."+strconv.Itoa(i)+".id should not be empty")
			continue
		}
		v := cf.FieldValue
		if v == nil {
			v = cf.Value
		}
		out = append(out, customValue{ID: id, Value: v})
	}
	return out, msgs
}

// validate checks the DTO's rules (422) and the references (400).
func (s *Server) validateContact(c *reqCtx, in *contactInput) (reply, bool) {
	var msgs []string
	if in.Email != nil && *in.Email != "" && !looksLikeEmail(*in.Email) {
		msgs = append(msgs, "email must be an email")
	}
	for _, e := range in.AdditionalEmails {
		if !looksLikeEmail(e) {
			msgs = append(msgs, "each value in additionalEmails must be an email")
			break
		}
	}
	if in.Type != nil && *in.Type != "lead" && *in.Type != "customer" {
		msgs = append(msgs, "type must be one of the following values: lead, customer")
	}
	_, cfMsgs := customValues(in.CustomFields)
	msgs = append(msgs, cfMsgs...)
	if len(msgs) > 0 {
		return unprocessable(msgs...), false
	}
	st := c.loc.crmState()
	if in.AssignedTo != nil && *in.AssignedTo != "" && st.users[*in.AssignedTo] == nil {
		return badRequest("assignedTo: user %s not found in this location", *in.AssignedTo), false
	}
	if in.BusinessID != nil && *in.BusinessID != "" && st.businesses[*in.BusinessID] == nil {
		return badRequest("businessId: business %s not found in this location", *in.BusinessID), false
	}
	return reply{}, true
}

func looksLikeEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n") && strings.Contains(s[at:], ".")
}

func setStr(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// apply copies the fields present in the input onto the contact.
func (in *contactInput) apply(ct *contact) {
	setStr(&ct.FirstName, in.FirstName)
	setStr(&ct.LastName, in.LastName)
	setStr(&ct.Name, in.Name)
	setStr(&ct.Email, in.Email)
	setStr(&ct.Phone, in.Phone)
	setStr(&ct.CompanyName, in.CompanyName)
	setStr(&ct.Address1, in.Address1)
	setStr(&ct.City, in.City)
	setStr(&ct.State, in.State)
	setStr(&ct.PostalCode, in.PostalCode)
	setStr(&ct.Country, in.Country)
	setStr(&ct.Website, in.Website)
	setStr(&ct.Timezone, in.Timezone)
	setStr(&ct.Source, in.Source)
	setStr(&ct.AssignedTo, in.AssignedTo)
	setStr(&ct.Type, in.Type)
	setStr(&ct.BusinessID, in.BusinessID)
	if in.DND != nil {
		ct.DND = *in.DND
	}
	if in.AdditionalEmails != nil {
		ct.AdditionalEmails = append([]string(nil), in.AdditionalEmails...)
	}
	if in.AdditionalPhones != nil {
		ct.AdditionalPhones = append([]string(nil), in.AdditionalPhones...)
	}
	if in.Tags != nil {
		ct.Tags = normalizeTags(in.Tags)
	}
	if in.CustomFields != nil {
		vals, _ := customValues(in.CustomFields)
		ct.CustomFields = mergeCustom(ct.CustomFields, vals)
	}
	if ct.Name == "" {
		ct.Name = strings.TrimSpace(ct.FirstName + " " + ct.LastName)
	}
}

// normalizeTags lower-cases and de-duplicates tags, as HighLevel stores them.
func normalizeTags(tags []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// mergeCustom sets the given values by id; a null value removes one.
func mergeCustom(cur, set []customValue) []customValue {
	out := append([]customValue(nil), cur...)
	for _, v := range set {
		i := 0
		for ; i < len(out) && out[i].ID != v.ID; i++ {
		}
		switch {
		case v.Value == nil && i < len(out):
			out = append(out[:i], out[i+1:]...)
		case v.Value == nil:
		case i < len(out):
			out[i] = v
		default:
			out = append(out, v)
		}
	}
	return out
}

func (s *Server) newContact(loc *location, id string) *contact {
	now := s.now()
	if id == "" {
		id = s.ids.shortID()
	}
	ct := &contact{ID: id, LocationID: loc.id, Type: "lead", DateAdded: now, DateUpdated: now}
	loc.crmState().contacts[id] = ct
	return ct
}

// duplicateOf finds the contact an input duplicates: same email (case
// insensitive), else same phone.
func (st *crmStore) duplicateOf(in *contactInput) (*contact, string) {
	list := st.sortedContacts()
	if in.Email != nil && *in.Email != "" {
		for _, ct := range list {
			if strings.EqualFold(ct.Email, *in.Email) {
				return ct, "email"
			}
		}
	}
	if in.Phone != nil && *in.Phone != "" {
		for _, ct := range list {
			if ct.Phone == *in.Phone {
				return ct, "phone"
			}
		}
	}
	return nil, ""
}

type duplicateBody struct {
	StatusCode int            `json:"statusCode"`
	Message    string         `json:"message"`
	Meta       map[string]any `json:"meta"`
}

// POST /contacts/ -> 201 CreateContactsSuccessfulResponseDto {contact}.
func (s *Server) createContact(c *reqCtx) reply {
	var in contactInput
	if rep, ok := c.decodeBody(&in); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(deref(in.LocationID)); !ok {
		return rep
	}
	if rep, ok := s.validateContact(c, &in); !ok {
		return rep
	}
	st := c.loc.crmState()
	if !st.allowDuplicates {
		if dup, by := st.duplicateOf(&in); dup != nil {
			return reply{http.StatusBadRequest, duplicateBody{http.StatusBadRequest,
				"This location does not allow duplicated contacts.",
				map[string]any{"contactName": dup.displayName(), "matchingField": by, "contactId": dup.ID}}}
		}
	}
	ct := s.newContact(c.loc, "")
	in.apply(ct)
	return replyCreated(map[string]any{"contact": ct.json()})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) contactOf(c *reqCtx) (*contact, reply, bool) {
	ct := c.loc.crmState().contacts[c.params["contactId"]]
	if ct == nil {
		return nil, notFound("Contact not found"), false
	}
	return ct, reply{}, true
}

// GET /contacts/{contactId} -> ContactsByIdSuccessfulResponseDto {contact}.
func (s *Server) getContact(c *reqCtx) reply {
	ct, rep, ok := s.contactOf(c)
	if !ok {
		return rep
	}
	return replyOK(map[string]any{"contact": ct.json()})
}

// PUT /contacts/{contactId} -> UpdateContactsSuccessfulResponseDto {succeded, contact}.
func (s *Server) updateContact(c *reqCtx) reply {
	ct, rep, ok := s.contactOf(c)
	if !ok {
		return rep
	}
	var in contactInput
	if rep, ok := c.decodeBody(&in); !ok {
		return rep
	}
	if in.LocationID != nil {
		return unprocessable("property locationId should not exist")
	}
	if rep, ok := s.validateContact(c, &in); !ok {
		return rep
	}
	in.apply(ct)
	ct.DateUpdated = s.now()
	return replyOK(map[string]any{"succeded": true, "contact": ct.json()})
}

// DELETE /contacts/{contactId} -> DeleteContactsSuccessfulResponseDto {succeded}.
// The contact's notes go with it.
func (s *Server) deleteContact(c *reqCtx) reply {
	ct, rep, ok := s.contactOf(c)
	if !ok {
		return rep
	}
	st := c.loc.crmState()
	delete(st.contacts, ct.ID)
	for id, n := range st.notes {
		if n.ContactID == ct.ID {
			delete(st.notes, id)
		}
	}
	return replyOK(map[string]any{"succeded": true})
}

// POST /contacts/upsert -> UpsertContactsSuccessfulResponseDto {new, contact, traceId}.
func (s *Server) upsertContact(c *reqCtx) reply {
	var in contactInput
	if rep, ok := c.decodeBody(&in); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(deref(in.LocationID)); !ok {
		return rep
	}
	if rep, ok := s.validateContact(c, &in); !ok {
		return rep
	}
	st := c.loc.crmState()
	dup, _ := st.duplicateOf(&in)
	createNew := dup == nil || (st.allowDuplicates && in.CreateNewIfDuplicateAllowed != nil && *in.CreateNewIfDuplicateAllowed)
	ct := dup
	if createNew {
		ct = s.newContact(c.loc, "")
	} else {
		ct.DateUpdated = s.now()
	}
	in.apply(ct)
	return replyOK(map[string]any{"new": createNew, "contact": ct.json(), "traceId": s.ids.objectID(s.now())})
}

// SetAllowDuplicateContacts sets the location's "Allow Duplicate Contact"
// setting (off by default): when off, creating a contact with the email or
// phone of another answers 400; when on, upsert still updates the match
// unless createNewIfDuplicateAllowed is true.
func (s *Server) SetAllowDuplicateContacts(locationID string, allow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLocation(locationID).crmState().allowDuplicates = allow
}

// ContactCount is how many contacts the location holds.
func (s *Server) ContactCount(locationID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc := s.locations[locationID]
	if loc == nil || loc.crm == nil {
		return 0
	}
	return len(loc.crm.contacts)
}

// ---------------------------------------------------------------------------
// Search

// contactSearchBody is the search body of HighLevel's "Search Contacts"
// (SearchBodyV2DTO is empty in the spec).
type contactSearchBody struct {
	LocationID  string            `json:"locationId"`
	Page        *int              `json:"page"`
	PageLimit   *int              `json:"pageLimit"`
	SearchAfter []any             `json:"searchAfter"`
	Query       string            `json:"query"`
	Filters     []json.RawMessage `json:"filters"`
	Sort        []contactSort     `json:"sort"`
}

type contactSort struct {
	Field     string `json:"field"`
	Direction string `json:"direction"`
}

type contactFilter struct {
	Group    string            `json:"group"`
	Filters  []json.RawMessage `json:"filters"`
	Field    string            `json:"field"`
	Operator string            `json:"operator"`
	Value    any               `json:"value"`
}

// contactFieldValue is the value a filter or sort reads from a contact.
func contactFieldValue(ct *contact, field string) (any, bool) {
	switch field {
	case "id":
		return ct.ID, true
	case "firstName", "firstNameLowerCase":
		return strings.ToLower(ct.FirstName), true
	case "lastName", "lastNameLowerCase":
		return strings.ToLower(ct.LastName), true
	case "fullNameLowerCase", "name":
		return strings.ToLower(ct.displayName()), true
	case "email":
		return strings.ToLower(ct.Email), true
	case "phone":
		return ct.Phone, true
	case "companyName", "businessName":
		return strings.ToLower(ct.CompanyName), true
	case "city":
		return strings.ToLower(ct.City), true
	case "state":
		return strings.ToLower(ct.State), true
	case "country":
		return strings.ToLower(ct.Country), true
	case "postalCode":
		return ct.PostalCode, true
	case "source":
		return strings.ToLower(ct.Source), true
	case "type":
		return ct.Type, true
	case "assignedTo":
		return ct.AssignedTo, true
	case "businessId":
		return ct.BusinessID, true
	case "dnd":
		return ct.DND, true
	case "tags":
		return ct.Tags, true
	case "dateAdded":
		return ct.DateAdded.UnixMilli(), true
	case "dateUpdated":
		return ct.DateUpdated.UnixMilli(), true
	}
	return nil, false
}

// matchContactFilter applies one filter (or group) to a contact.
func matchContactFilter(ct *contact, raw json.RawMessage) (bool, string) {
	var f contactFilter
	if err := json.Unmarshal(raw, &f); err != nil {
		return false, "filters must be objects"
	}
	if f.Group != "" {
		and := strings.EqualFold(f.Group, "AND")
		if !and && !strings.EqualFold(f.Group, "OR") {
			return false, "group must be one of the following values: AND, OR"
		}
		any := false
		for _, sub := range f.Filters {
			ok, msg := matchContactFilter(ct, sub)
			if msg != "" {
				return false, msg
			}
			if and && !ok {
				return false, ""
			}
			any = any || ok
		}
		return and || any, ""
	}
	v, known := contactFieldValue(ct, f.Field)
	if !known {
		return false, "filter field " + f.Field + " is not supported"
	}
	want := strings.ToLower(strings.TrimSpace(toString(f.Value)))
	has := func() bool {
		switch x := v.(type) {
		case []string:
			for _, t := range x {
				if t == want {
					return true
				}
			}
			return false
		case bool:
			return strconv.FormatBool(x) == want
		case int64:
			return strconv.FormatInt(x, 10) == want
		default:
			return strings.EqualFold(toString(x), want)
		}
	}
	empty := func() bool {
		switch x := v.(type) {
		case []string:
			return len(x) == 0
		case string:
			return x == ""
		}
		return false
	}
	switch f.Operator {
	case "eq":
		return has(), ""
	case "not_eq":
		return !has(), ""
	case "contains":
		if tags, ok := v.([]string); ok {
			for _, t := range tags {
				if strings.Contains(t, want) {
					return true, ""
				}
			}
			return false, ""
		}
		return strings.Contains(strings.ToLower(toString(v)), want), ""
	case "not_contains":
		return !strings.Contains(strings.ToLower(toString(v)), want), ""
	case "range":
		return matchRange(v, f.Value)
	case "exists":
		return !empty(), ""
	case "not_exists":
		return empty(), ""
	}
	return false, "operator must be one of the following values: eq, not_eq, contains, not_contains, exists, not_exists, range"
}

// matchRange is the range operator of dateAdded and dateUpdated: value
// {gt, gte, lt, lte}, each an RFC 3339 string or epoch milliseconds.
func matchRange(v any, bounds any) (bool, string) {
	ms, ok := v.(int64)
	if !ok {
		return false, "operator range is supported on dateAdded and dateUpdated only"
	}
	m, ok := bounds.(map[string]any)
	if !ok || len(m) == 0 {
		return false, "value of a range filter must be an object {gt, gte, lt, lte}"
	}
	for op, b := range m {
		var bound int64
		switch x := b.(type) {
		case float64:
			bound = int64(x)
		case string:
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return false, "range " + op + " must be an ISO 8601 date-time or epoch milliseconds"
			}
			bound = t.UnixMilli()
		default:
			return false, "range " + op + " must be an ISO 8601 date-time or epoch milliseconds"
		}
		var in bool
		switch op {
		case "gt":
			in = ms > bound
		case "gte":
			in = ms >= bound
		case "lt":
			in = ms < bound
		case "lte":
			in = ms <= bound
		default:
			return false, "range keys must be gt, gte, lt or lte"
		}
		if !in {
			return false, ""
		}
	}
	return true, ""
}

// AddContactField adds a custom field of contacts (fieldKey
// "contact.<name>") to the location, as HighLevel's UI does, and returns
// its id: the id contacts' customFields carry. Contacts' fields cannot be
// created through the custom-fields API (HighLevel serves business and
// custom objects there).
func (s *Server) AddContactField(locationID, name, label, dataType string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc := s.ensureLocation(locationID)
	o := loc.object("contact")
	if f := o.fieldByKey("contact." + name); f != nil {
		return f.id
	}
	return s.newField(loc, o, name, label, dataType, s.now()).id
}

func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []string:
		return strings.Join(x, ",")
	default:
		b, _ := json.Marshal(x)
		return strings.Trim(string(b), `"`)
	}
}

// contactMatchesQuery matches the free-text query against names, email,
// phone and company, case-insensitively.
func contactMatchesQuery(ct *contact, q string) bool {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return true
	}
	for _, s := range []string{ct.displayName(), ct.FirstName, ct.LastName, ct.Email, ct.Phone, ct.CompanyName} {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return false
}

// cursorKey is what a searchAfter cursor orders by: the sort value, then id.
type cursorKey struct {
	num   int64
	str   string
	isNum bool
	id    string
}

func compareKeys(a, b cursorKey) int {
	switch {
	case a.isNum && a.num != b.num:
		if a.num < b.num {
			return -1
		}
		return 1
	case !a.isNum && a.str != b.str:
		return strings.Compare(a.str, b.str)
	}
	return strings.Compare(a.id, b.id)
}

// POST /contacts/search -> {contacts: [...], total}; every contact carries
// searchAfter, the cursor of the next page.
func (s *Server) searchContacts(c *reqCtx) reply {
	var body contactSearchBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(body.LocationID); !ok {
		return rep
	}
	page, limit := 1, 10
	var msgs []string
	if body.Page != nil {
		page = *body.Page
		if page < 1 {
			msgs = append(msgs, "page must not be less than 1")
		}
	}
	if body.PageLimit != nil {
		limit = *body.PageLimit
		if limit < 1 {
			msgs = append(msgs, "pageLimit must not be less than 1")
		}
		if limit > 500 {
			msgs = append(msgs, "pageLimit must not be greater than 500")
		}
	}
	sortField, desc := "dateAdded", false
	if len(body.Sort) > 1 {
		msgs = append(msgs, "sort must contain no more than 1 elements")
	}
	if len(body.Sort) == 1 {
		sortField = body.Sort[0].Field
		switch strings.ToLower(body.Sort[0].Direction) {
		case "", "asc":
		case "desc":
			desc = true
		default:
			msgs = append(msgs, "sort.0.direction must be one of the following values: asc, desc")
		}
		if _, ok := contactFieldValue(&contact{}, sortField); !ok || sortField == "tags" {
			msgs = append(msgs, "sort.0.field "+sortField+" is not sortable")
		}
	}
	if len(msgs) > 0 {
		return unprocessable(msgs...)
	}
	keyOf := func(ct *contact) cursorKey {
		v, _ := contactFieldValue(ct, sortField)
		switch x := v.(type) {
		case int64:
			return cursorKey{num: x, isNum: true, id: ct.ID}
		case bool:
			return cursorKey{str: strconv.FormatBool(x), id: ct.ID}
		default:
			return cursorKey{str: toString(x), id: ct.ID}
		}
	}
	var after *cursorKey
	if len(body.SearchAfter) > 0 {
		if len(body.SearchAfter) != 2 {
			return badRequest("searchAfter must be [sort value, contact id]")
		}
		id := toString(body.SearchAfter[1])
		k := cursorKey{id: id}
		if sortField == "dateAdded" || sortField == "dateUpdated" {
			n, err := strconv.ParseInt(toString(body.SearchAfter[0]), 10, 64)
			if err != nil {
				return badRequest("searchAfter[0] must be epoch milliseconds")
			}
			k.num, k.isNum = n, true
		} else {
			k.str = toString(body.SearchAfter[0])
		}
		after = &k
	}

	var matched []*contact
	for _, ct := range c.loc.crmState().sortedContacts() {
		if !contactMatchesQuery(ct, body.Query) {
			continue
		}
		ok := true
		for _, f := range body.Filters {
			m, msg := matchContactFilter(ct, f)
			if msg != "" {
				return badRequest("%s", msg)
			}
			if !m {
				ok = false
				break
			}
		}
		if ok {
			matched = append(matched, ct)
		}
	}
	sortSlice(matched, func(a, b *contact) bool {
		cmp := compareKeys(keyOf(a), keyOf(b))
		if desc {
			return cmp > 0
		}
		return cmp < 0
	})
	start := (page - 1) * limit
	if after != nil {
		start = len(matched)
		for i, ct := range matched {
			cmp := compareKeys(keyOf(ct), *after)
			if (!desc && cmp > 0) || (desc && cmp < 0) {
				start = i
				break
			}
		}
	}
	out := []contactJSON{}
	for i := start; i >= 0 && i < len(matched) && len(out) < limit; i++ {
		ct := matched[i]
		j := ct.json()
		k := keyOf(ct)
		if k.isNum {
			j.SearchAfter = []any{k.num, ct.ID}
		} else {
			j.SearchAfter = []any{k.str, ct.ID}
		}
		out = append(out, j)
	}
	return replyOK(map[string]any{"contacts": out, "total": len(matched)})
}

// GET /contacts/?locationId=&query=&limit=&startAfterId=&startAfter= ->
// ContactsSearchSuccessfulResponseDto {contacts, count} plus meta
// (ContactsMetaSchema). Deprecated by HighLevel in favour of search.
func (s *Server) listContacts(c *reqCtx) reply {
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	limit := 20
	if v := c.query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return unprocessable("limit must not be greater than 100")
		}
		limit = n
	}
	var matched []*contact
	for _, ct := range c.loc.crmState().sortedContacts() {
		if contactMatchesQuery(ct, c.query.Get("query")) {
			matched = append(matched, ct)
		}
	}
	start := 0
	if id := c.query.Get("startAfterId"); id != "" {
		start = len(matched)
		for i, ct := range matched {
			if ct.ID == id {
				start = i + 1
				break
			}
		}
	}
	out := []contactJSON{}
	for i := start; i < len(matched) && len(out) < limit; i++ {
		out = append(out, matched[i].json())
	}
	meta := map[string]any{"total": len(matched), "currentPage": 1}
	if start+len(out) < len(matched) && len(out) > 0 {
		last := matched[start+len(out)-1]
		meta["startAfterId"] = last.ID
		meta["startAfter"] = last.DateAdded.UnixMilli()
		q := c.r.URL.Query()
		q.Set("startAfterId", last.ID)
		q.Set("startAfter", strconv.FormatInt(last.DateAdded.UnixMilli(), 10))
		meta["nextPageUrl"] = "http://" + c.r.Host + "/contacts/?" + q.Encode()
	}
	return replyOK(map[string]any{"contacts": out, "count": len(matched), "meta": meta})
}

// ---------------------------------------------------------------------------
// Notes

type noteInput struct {
	Body   *string `json:"body"`
	UserID *string `json:"userId"`
	Title  *string `json:"title"`
	Color  *string `json:"color"`
	Pinned *bool   `json:"pinned"`
}

func (in *noteInput) apply(n *note) {
	setStr(&n.Body, in.Body)
	setStr(&n.UserID, in.UserID)
	setStr(&n.Title, in.Title)
	setStr(&n.Color, in.Color)
	if in.Pinned != nil {
		n.Pinned = *in.Pinned
	}
}

// GET /contacts/{contactId}/notes -> GetNotesListSuccessfulResponseDto {notes}.
func (s *Server) listNotes(c *reqCtx) reply {
	ct, rep, ok := s.contactOf(c)
	if !ok {
		return rep
	}
	var list []*note
	for _, n := range c.loc.crmState().notes {
		if n.ContactID == ct.ID {
			list = append(list, n)
		}
	}
	// Newest first, as HighLevel's UI lists them.
	sortSlice(list, func(a, b *note) bool {
		if !a.DateAdded.Equal(b.DateAdded) {
			return a.DateAdded.After(b.DateAdded)
		}
		return a.ID > b.ID
	})
	out := []noteJSON{}
	for _, n := range list {
		out = append(out, n.json())
	}
	return replyOK(map[string]any{"notes": out})
}

// POST /contacts/{contactId}/notes -> 201 {note}.
func (s *Server) createNote(c *reqCtx) reply {
	ct, rep, ok := s.contactOf(c)
	if !ok {
		return rep
	}
	var in noteInput
	if rep, ok := c.decodeBody(&in); !ok {
		return rep
	}
	if in.Body == nil || strings.TrimSpace(*in.Body) == "" {
		return unprocessable("body should not be empty")
	}
	n := s.addNote(c.loc, ct.ID, "", &in)
	return replyCreated(map[string]any{"note": n.json()})
}

func (s *Server) addNote(loc *location, contactID, id string, in *noteInput) *note {
	if id == "" {
		id = s.ids.shortID()
	}
	n := &note{ID: id, ContactID: contactID, DateAdded: s.now()}
	in.apply(n)
	loc.crmState().notes[id] = n
	return n
}

func (s *Server) noteOf(c *reqCtx) (*note, reply, bool) {
	ct, rep, ok := s.contactOf(c)
	if !ok {
		return nil, rep, false
	}
	n := c.loc.crmState().notes[c.params["id"]]
	if n == nil || n.ContactID != ct.ID {
		return nil, notFound("Note not found"), false
	}
	return n, reply{}, true
}

// GET /contacts/{contactId}/notes/{id} -> {note}.
func (s *Server) getNote(c *reqCtx) reply {
	n, rep, ok := s.noteOf(c)
	if !ok {
		return rep
	}
	return replyOK(map[string]any{"note": n.json()})
}

// PUT /contacts/{contactId}/notes/{id} -> {note}.
func (s *Server) updateNote(c *reqCtx) reply {
	n, rep, ok := s.noteOf(c)
	if !ok {
		return rep
	}
	var in noteInput
	if rep, ok := c.decodeBody(&in); !ok {
		return rep
	}
	if in.Body != nil && strings.TrimSpace(*in.Body) == "" {
		return unprocessable("body should not be empty")
	}
	in.apply(n)
	return replyOK(map[string]any{"note": n.json()})
}

// DELETE /contacts/{contactId}/notes/{id} -> {succeded}.
func (s *Server) deleteNote(c *reqCtx) reply {
	n, rep, ok := s.noteOf(c)
	if !ok {
		return rep
	}
	delete(c.loc.crmState().notes, n.ID)
	return replyOK(map[string]any{"succeded": true})
}
