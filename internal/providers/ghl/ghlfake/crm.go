package ghlfake

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Standard CRM entities of contacts.json, opportunities.json,
// businesses.json and users.json: their in-memory state, per location.

// crmStore holds a location's contacts, notes, opportunities, pipelines,
// businesses and users.
type crmStore struct {
	contacts      map[string]*contact
	notes         map[string]*note // by id
	opportunities map[string]*opportunity
	pipelines     []*pipeline
	businesses    map[string]*business
	users         map[string]*user
	userOrder     []*user
	// allowDuplicates is the location's "Allow Duplicate Contact" setting.
	allowDuplicates bool
}

func (l *location) crmState() *crmStore {
	if l.crm == nil {
		l.crm = &crmStore{
			contacts:      make(map[string]*contact),
			notes:         make(map[string]*note),
			opportunities: make(map[string]*opportunity),
			businesses:    make(map[string]*business),
			users:         make(map[string]*user),
		}
	}
	return l.crm
}

// customValue is a custom field value of a contact or opportunity.
type customValue struct {
	ID    string `json:"id"`
	Value any    `json:"value"`
}

type contact struct {
	ID               string
	LocationID       string
	FirstName        string
	LastName         string
	Name             string
	Email            string
	Phone            string
	AdditionalEmails []string
	AdditionalPhones []string
	CompanyName      string
	Address1         string
	City             string
	State            string
	PostalCode       string
	Country          string
	Website          string
	Timezone         string
	Source           string
	AssignedTo       string
	Type             string
	BusinessID       string
	DND              bool
	Tags             []string
	CustomFields     []customValue
	DateAdded        time.Time
	DateUpdated      time.Time
}

// contactJSON is GetContectByIdSchema (and CreateContactSchema's fields).
type contactJSON struct {
	ID                 string        `json:"id"`
	LocationID         string        `json:"locationId"`
	Name               string        `json:"name,omitempty"`
	FirstName          string        `json:"firstName,omitempty"`
	LastName           string        `json:"lastName,omitempty"`
	FirstNameLowerCase string        `json:"firstNameLowerCase,omitempty"`
	LastNameLowerCase  string        `json:"lastNameLowerCase,omitempty"`
	FullNameLowerCase  string        `json:"fullNameLowerCase,omitempty"`
	Email              string        `json:"email,omitempty"`
	EmailLowerCase     string        `json:"emailLowerCase,omitempty"`
	Phone              string        `json:"phone,omitempty"`
	AdditionalEmails   []string      `json:"additionalEmails"`
	AdditionalPhones   []string      `json:"additionalPhones"`
	CompanyName        string        `json:"companyName,omitempty"`
	Address1           string        `json:"address1,omitempty"`
	City               string        `json:"city,omitempty"`
	State              string        `json:"state,omitempty"`
	PostalCode         string        `json:"postalCode,omitempty"`
	Country            string        `json:"country,omitempty"`
	Website            string        `json:"website,omitempty"`
	Timezone           string        `json:"timezone,omitempty"`
	Source             string        `json:"source,omitempty"`
	AssignedTo         string        `json:"assignedTo,omitempty"`
	Type               string        `json:"type"`
	BusinessID         string        `json:"businessId,omitempty"`
	DND                bool          `json:"dnd"`
	Tags               []string      `json:"tags"`
	CustomFields       []customValue `json:"customFields"`
	DateAdded          string        `json:"dateAdded"`
	DateUpdated        string        `json:"dateUpdated"`
	SearchAfter        []any         `json:"searchAfter,omitempty"`
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (ct *contact) json() contactJSON {
	full := strings.TrimSpace(ct.FirstName + " " + ct.LastName)
	return contactJSON{
		ID: ct.ID, LocationID: ct.LocationID, Name: ct.Name,
		FirstName: ct.FirstName, LastName: ct.LastName,
		FirstNameLowerCase: strings.ToLower(ct.FirstName), LastNameLowerCase: strings.ToLower(ct.LastName),
		FullNameLowerCase: strings.ToLower(full),
		Email:             ct.Email, EmailLowerCase: strings.ToLower(ct.Email), Phone: ct.Phone,
		AdditionalEmails: orEmpty(ct.AdditionalEmails), AdditionalPhones: orEmpty(ct.AdditionalPhones),
		CompanyName: ct.CompanyName, Address1: ct.Address1, City: ct.City, State: ct.State,
		PostalCode: ct.PostalCode, Country: ct.Country, Website: ct.Website, Timezone: ct.Timezone,
		Source: ct.Source, AssignedTo: ct.AssignedTo, Type: ct.Type, BusinessID: ct.BusinessID,
		DND: ct.DND, Tags: orEmpty(ct.Tags), CustomFields: orEmpty(ct.CustomFields),
		DateAdded: stamp(ct.DateAdded), DateUpdated: stamp(ct.DateUpdated),
	}
}

// displayName is the contact's name: name, else first and last name.
func (ct *contact) displayName() string {
	if ct.Name != "" {
		return ct.Name
	}
	return strings.TrimSpace(ct.FirstName + " " + ct.LastName)
}

type note struct {
	ID        string
	ContactID string
	Body      string
	UserID    string
	Title     string
	Color     string
	Pinned    bool
	DateAdded time.Time
}

// noteJSON is GetNoteSchema.
type noteJSON struct {
	ID        string `json:"id"`
	Body      string `json:"body"`
	UserID    string `json:"userId,omitempty"`
	DateAdded string `json:"dateAdded"`
	ContactID string `json:"contactId"`
	Title     string `json:"title,omitempty"`
	Color     string `json:"color,omitempty"`
	Pinned    bool   `json:"pinned"`
}

func (n *note) json() noteJSON {
	return noteJSON{ID: n.ID, Body: n.Body, UserID: n.UserID, DateAdded: stamp(n.DateAdded),
		ContactID: n.ContactID, Title: n.Title, Color: n.Color, Pinned: n.Pinned}
}

type opportunity struct {
	ID                 string
	LocationID         string
	Name               string
	MonetaryValue      float64
	PipelineID         string
	PipelineStageID    string
	Status             string
	Source             string
	AssignedTo         string
	ContactID          string
	LostReasonID       string
	CustomFields       []customValue
	Followers          []string
	LastStatusChangeAt time.Time
	LastStageChangeAt  time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// opportunityContactJSON is SearchOpportunitiesContactResponseSchema.
type opportunityContactJSON struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	CompanyName string   `json:"companyName"`
	Email       string   `json:"email"`
	Phone       string   `json:"phone"`
	Tags        []string `json:"tags"`
}

// opportunityJSON is SearchOpportunitiesResponseSchema.
type opportunityJSON struct {
	ID                 string                  `json:"id"`
	Name               string                  `json:"name"`
	MonetaryValue      float64                 `json:"monetaryValue"`
	PipelineID         string                  `json:"pipelineId"`
	PipelineStageID    string                  `json:"pipelineStageId"`
	AssignedTo         string                  `json:"assignedTo,omitempty"`
	Status             string                  `json:"status"`
	Source             string                  `json:"source,omitempty"`
	LastStatusChangeAt string                  `json:"lastStatusChangeAt"`
	LastStageChangeAt  string                  `json:"lastStageChangeAt"`
	CreatedAt          string                  `json:"createdAt"`
	UpdatedAt          string                  `json:"updatedAt"`
	ContactID          string                  `json:"contactId"`
	LocationID         string                  `json:"locationId"`
	Contact            *opportunityContactJSON `json:"contact,omitempty"`
	LostReasonID       string                  `json:"lostReasonId,omitempty"`
	CustomFields       []customValue           `json:"customFields"`
	Followers          []string                `json:"followers"`
}

func (st *crmStore) opportunityJSON(o *opportunity) opportunityJSON {
	out := opportunityJSON{
		ID: o.ID, Name: o.Name, MonetaryValue: o.MonetaryValue, PipelineID: o.PipelineID,
		PipelineStageID: o.PipelineStageID, AssignedTo: o.AssignedTo, Status: o.Status, Source: o.Source,
		LastStatusChangeAt: stamp(o.LastStatusChangeAt), LastStageChangeAt: stamp(o.LastStageChangeAt),
		CreatedAt: stamp(o.CreatedAt), UpdatedAt: stamp(o.UpdatedAt), ContactID: o.ContactID,
		LocationID: o.LocationID, LostReasonID: o.LostReasonID,
		CustomFields: orEmpty(o.CustomFields), Followers: orEmpty(o.Followers),
	}
	if ct := st.contacts[o.ContactID]; ct != nil {
		out.Contact = &opportunityContactJSON{ID: ct.ID, Name: ct.displayName(), CompanyName: ct.CompanyName,
			Email: ct.Email, Phone: ct.Phone, Tags: orEmpty(ct.Tags)}
	}
	return out
}

type pipeline struct {
	ID         string
	Name       string
	LocationID string
	Stages     []pipelineStage
}

type pipelineStage struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Position       int    `json:"position"`
	ShowInFunnel   bool   `json:"showInFunnel"`
	ShowInPieChart bool   `json:"showInPieChart"`
}

// pipelineJSON is PipelinesResponseSchema.
type pipelineJSON struct {
	ID              string          `json:"id"`
	Name            string          `json:"name"`
	Stages          []pipelineStage `json:"stages"`
	ShowInFunnel    bool            `json:"showInFunnel"`
	ShowInPieChart  bool            `json:"showInPieChart"`
	LocationID      string          `json:"locationId"`
	ColorRenderMode string          `json:"colorRenderMode"`
}

func (st *crmStore) pipelineByID(id string) *pipeline {
	for _, p := range st.pipelines {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (p *pipeline) hasStage(id string) bool {
	for _, s := range p.Stages {
		if s.ID == id {
			return true
		}
	}
	return false
}

type business struct {
	ID          string
	LocationID  string
	Name        string
	Phone       string
	Email       string
	Website     string
	Address     string
	City        string
	State       string
	PostalCode  string
	Country     string
	Description string
	CreatedBy   actor
	UpdatedBy   actor
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// businessJSON is BusinessDto.
type businessJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Phone       string `json:"phone,omitempty"`
	Email       string `json:"email,omitempty"`
	Website     string `json:"website,omitempty"`
	Address     string `json:"address,omitempty"`
	City        string `json:"city,omitempty"`
	Description string `json:"description,omitempty"`
	State       string `json:"state,omitempty"`
	PostalCode  string `json:"postalCode,omitempty"`
	Country     string `json:"country,omitempty"`
	UpdatedBy   actor  `json:"updatedBy"`
	LocationID  string `json:"locationId"`
	CreatedBy   actor  `json:"createdBy"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
}

func (b *business) json() businessJSON {
	return businessJSON{ID: b.ID, Name: b.Name, Phone: b.Phone, Email: b.Email, Website: b.Website,
		Address: b.Address, City: b.City, Description: b.Description, State: b.State,
		PostalCode: b.PostalCode, Country: b.Country, UpdatedBy: b.UpdatedBy, LocationID: b.LocationID,
		CreatedBy: b.CreatedBy, CreatedAt: stamp(b.CreatedAt), UpdatedAt: stamp(b.UpdatedAt)}
}

type user struct {
	ID        string
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Role      string // admin | user
	Locations []string
}

// userRolesJSON is RoleSchema.
type userRolesJSON struct {
	Type               string   `json:"type"`
	Role               string   `json:"role"`
	LocationIDs        []string `json:"locationIds"`
	RestrictSubAccount bool     `json:"restrictSubAccount"`
}

// userJSON is UserSchema / UserSuccessfulResponseDto.
type userJSON struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	FirstName string        `json:"firstName"`
	LastName  string        `json:"lastName"`
	Email     string        `json:"email"`
	Phone     string        `json:"phone,omitempty"`
	Extension string        `json:"extension"`
	Scopes    string        `json:"scopes"`
	Roles     userRolesJSON `json:"roles"`
	Deleted   bool          `json:"deleted"`
}

func (u *user) json() userJSON {
	return userJSON{ID: u.ID, Name: strings.TrimSpace(u.FirstName + " " + u.LastName),
		FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Phone: u.Phone,
		Roles: userRolesJSON{Type: "account", Role: u.Role, LocationIDs: append([]string(nil), u.Locations...)}}
}

// ---------------------------------------------------------------------------
// Deterministic ids for seeded entities.

// seedID is a stable id for the n-th seeded entity of kind in a location:
// 20 alphanumeric characters (GHL's contact, opportunity, user and pipeline
// ids) or, with hex24, a 24-hex-digit ObjectId (businesses).
func seedID(locationID, kind string, n int, hex24 bool) string {
	sum := sha256.Sum256([]byte(locationID + "\x00" + kind + "\x00" + strconv.Itoa(n)))
	if hex24 {
		return hex.EncodeToString(sum[:12])
	}
	var b strings.Builder
	for i := range 20 {
		b.WriteByte(alnum[int(sum[i])%len(alnum)])
	}
	return b.String()
}

// sortedContacts lists a location's contacts by (dateAdded, id).
func (st *crmStore) sortedContacts() []*contact {
	return sortedByTime(st.contacts, func(c *contact) (time.Time, string) { return c.DateAdded, c.ID })
}

// sortedOpportunities lists a location's opportunities by (createdAt, id).
func (st *crmStore) sortedOpportunities() []*opportunity {
	return sortedByTime(st.opportunities, func(o *opportunity) (time.Time, string) { return o.CreatedAt, o.ID })
}

// sortedByTime lists the values of m by (time in milliseconds, id), the
// order of searchAfter cursors.
func sortedByTime[T any](m map[string]T, key func(T) (time.Time, string)) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sortSlice(out, func(a, b T) bool {
		ta, ia := key(a)
		tb, ib := key(b)
		if x, y := ta.UnixMilli(), tb.UnixMilli(); x != y {
			return x < y
		}
		return ia < ib
	})
	return out
}

// sortSlice sorts s stably by less.
func sortSlice[T any](s []T, less func(a, b T) bool) {
	sort.SliceStable(s, func(i, j int) bool { return less(s[i], s[j]) })
}
