package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Standard entities (contact, and after it account, opportunity, note,
// user, lead): typed domain records that adapters map their provider's own
// entities onto. Each entity has optional capability interfaces, found by
// type assertion like the others; an adapter lacking one answers
// *UnsupportedError through the gateway (501 naming entity, operation and
// provider).
//
// Every entity method gets the entity's Schema (its properties, from the
// gateway's schema cache): an adapter whose provider keys custom-field
// values by its own field ids (HighLevel) maps them to and from the
// neutral property ids with it, without a schema call of its own.

// Entity names, as in the REST paths (/v0/unified/crm/{entity}) and as
// object names in the metadata API.
const (
	EntityContact = "contact"
	EntityAccount = "account"
)

// Email is one email address of an entity.
type Email struct {
	Address string
	Type    string
	Primary bool
}

// Phone is one phone number of an entity.
type Phone struct {
	Number  string
	Type    string
	Primary bool
}

// Address is a postal address.
type Address struct {
	Street     string
	City       string
	State      string
	PostalCode string
	Country    string
	Type       string
}

// IsZero reports whether every part of the address is empty.
func (a Address) IsZero() bool { return a == Address{} }

// Contact is a person. CustomFields are keyed by neutral property id with
// JSON-shaped values (as Record properties).
type Contact struct {
	ID             string
	FirstName      string
	LastName       string
	Name           string
	Emails         []Email
	Phones         []Phone
	Addresses      []Address
	CompanyName    string
	AccountID      string
	OwnerID        string
	LifecycleStage string
	Tags           []string
	CustomFields   map[string]any
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Raw is the provider's own JSON of the contact.
	Raw json.RawMessage
}

// Contact field names, as the API names them (the proto's field names):
// update masks and field selections use them.
const (
	ContactFirstName      = "first_name"
	ContactLastName       = "last_name"
	ContactName           = "name"
	ContactEmails         = "emails"
	ContactPhones         = "phones"
	ContactAddresses      = "addresses"
	ContactCompanyName    = "company_name"
	ContactAccountID      = "account_id"
	ContactOwnerID        = "owner_id"
	ContactLifecycleStage = "lifecycle_stage"
	ContactTags           = "tags"
	ContactCustomFields   = "custom_fields"
)

// ContactWritable lists the fields a write may set, in documentation order.
var ContactWritable = []string{
	ContactFirstName, ContactLastName, ContactName, ContactEmails, ContactPhones, ContactAddresses,
	ContactCompanyName, ContactAccountID, ContactOwnerID, ContactLifecycleStage, ContactTags, ContactCustomFields,
}

// Fields is a set of field names to write.
type Fields map[string]bool

// EntityQuery lists an entity. Cursor is the provider's own cursor from a
// previous page ("" for the first page).
type EntityQuery struct {
	Cursor   string
	PageSize int
	// UpdatedAfter, when not zero, keeps only entities changed after it.
	UpdatedAfter time.Time
	// IncludeRaw asks for each item's Raw.
	IncludeRaw bool
}

// ContactPage is one page of contacts; NextCursor is "" on the last page.
type ContactPage struct {
	Items      []Contact
	NextCursor string
	// Total is the provider's count of all matches, -1 when unknown.
	Total int64
}

// ContactReader reads contacts. sc is the contact object's schema.
type ContactReader interface {
	// GetContact returns one contact, Raw always set.
	GetContact(ctx context.Context, sc Schema, id string) (Contact, error)
	// ListContacts pages through every contact (changed after
	// q.UpdatedAfter), each exactly once, in a stable order.
	ListContacts(ctx context.Context, sc Schema, q EntityQuery) (ContactPage, error)
}

// ContactWriter changes contacts. sc is the contact object's schema; the
// gateway has checked c.CustomFields against it.
type ContactWriter interface {
	CreateContact(ctx context.Context, sc Schema, c Contact) (Contact, error)
	// UpdateContact changes the fields named in set (ContactWritable
	// names); for custom_fields only the keys of c.CustomFields change.
	UpdateContact(ctx context.Context, sc Schema, id string, c Contact, set Fields) (Contact, error)
	DeleteContact(ctx context.Context, id string) error
}

// Named is an optional Provider capability: the provider's name (e.g.
// "ghl"), used in messages such as a 501's.
type Named interface {
	ProviderName() string
}

// UnsupportedError is an operation on an entity that the connection's
// provider cannot do. errors.Is(err, ErrUnsupported) holds.
type UnsupportedError struct {
	Entity    string // "contact"
	Operation string // "list", "get", "create", "update", "delete"
	Provider  string // "ghl"; "" when unknown
	// Reason says why, when the provider tells; may be empty.
	Reason string
}

func (e *UnsupportedError) Error() string {
	p := e.Provider
	if p == "" {
		p = "this provider"
	}
	msg := fmt.Sprintf("%s %s is not supported by %s", e.Operation, e.Entity, p)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Is makes errors.Is(err, ErrUnsupported) hold.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// AsUnsupported turns a plain ErrUnsupported from an entity operation into
// an *UnsupportedError naming entity, operation and provider; other errors
// are returned as they are.
func AsUnsupported(err error, entity, op, provider string) error {
	var ue *UnsupportedError
	if err == nil || !errors.Is(err, ErrUnsupported) || errors.As(err, &ue) {
		return err
	}
	reason := ""
	if err.Error() != ErrUnsupported.Error() {
		reason = err.Error()
	}
	return &UnsupportedError{Entity: entity, Operation: op, Provider: provider, Reason: reason}
}

// FilterOp is the operator of a search filter.
type FilterOp string

// Filter operators.
const (
	OpEq       FilterOp = "eq"
	OpNeq      FilterOp = "neq"
	OpContains FilterOp = "contains"
	OpGt       FilterOp = "gt"
	OpLt       FilterOp = "lt"
	OpIn       FilterOp = "in"
)

// Filter is one condition of an entity search, checked by the gateway:
// Field is an entity field name or "custom_fields.<id>"; Value is a string
// (a time.Time for gt/lt, a []string for in).
type Filter struct {
	Field    string
	Operator FilterOp
	Value    any
}

// Sort orders a search by an entity field.
type Sort struct {
	Field string
	Desc  bool
}

// EntitySearch searches an entity: every filter and the free-text query
// must hold. Cursor and PageSize as in EntityQuery.
type EntitySearch struct {
	Query      string
	Filters    []Filter
	Sort       *Sort
	Cursor     string
	PageSize   int
	IncludeRaw bool
}

// ContactSearcher searches and counts contacts. A filter or sort the
// provider cannot express is a *ValidationError naming it
// ("filters[i].field", "sort.field").
type ContactSearcher interface {
	SearchContacts(ctx context.Context, sc Schema, q EntitySearch) (ContactPage, error)
	// CountContacts counts the contacts changed after updatedAfter (all
	// when zero).
	CountContacts(ctx context.Context, sc Schema, updatedAfter time.Time) (int64, error)
}

// SetFields names the writable fields of c that are set (non-empty): the
// fields a create writes, and an update without a mask.
func (c Contact) SetFields() Fields {
	set := Fields{}
	for f, isSet := range map[string]bool{
		ContactFirstName: c.FirstName != "", ContactLastName: c.LastName != "", ContactName: c.Name != "",
		ContactEmails: len(c.Emails) > 0, ContactPhones: len(c.Phones) > 0, ContactAddresses: len(c.Addresses) > 0,
		ContactCompanyName: c.CompanyName != "", ContactAccountID: c.AccountID != "", ContactOwnerID: c.OwnerID != "",
		ContactLifecycleStage: c.LifecycleStage != "", ContactTags: len(c.Tags) > 0, ContactCustomFields: len(c.CustomFields) > 0,
	} {
		if isSet {
			set[f] = true
		}
	}
	return set
}

// Account is a company. CustomFields are keyed by neutral property id with
// JSON-shaped values (as Record properties).
type Account struct {
	ID          string
	Name        string
	Website     string
	Domain      string
	Phones      []Phone
	Emails      []Email
	Addresses   []Address
	Description string
	OwnerID     string
	// CustomFields are the provider's custom fields; nil or empty when it
	// keeps none.
	CustomFields map[string]any
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Raw is the provider's own JSON of the account.
	Raw json.RawMessage
}

// Account field names, as the API names them (the proto's field names).
const (
	AccountName         = "name"
	AccountWebsite      = "website"
	AccountDomain       = "domain"
	AccountPhones       = "phones"
	AccountEmails       = "emails"
	AccountAddresses    = "addresses"
	AccountDescription  = "description"
	AccountOwnerID      = "owner_id"
	AccountCustomFields = "custom_fields"
)

// AccountWritable lists the fields an account write may set, in
// documentation order.
var AccountWritable = []string{
	AccountName, AccountWebsite, AccountDomain, AccountPhones, AccountEmails, AccountAddresses,
	AccountDescription, AccountOwnerID, AccountCustomFields,
}

// SetFields names the writable fields of a that are set (non-empty).
func (a Account) SetFields() Fields {
	set := Fields{}
	for f, isSet := range map[string]bool{
		AccountName: a.Name != "", AccountWebsite: a.Website != "", AccountDomain: a.Domain != "",
		AccountPhones: len(a.Phones) > 0, AccountEmails: len(a.Emails) > 0, AccountAddresses: len(a.Addresses) > 0,
		AccountDescription: a.Description != "", AccountOwnerID: a.OwnerID != "", AccountCustomFields: len(a.CustomFields) > 0,
	} {
		if isSet {
			set[f] = true
		}
	}
	return set
}

// AccountPage is one page of accounts; NextCursor is "" on the last page.
type AccountPage struct {
	Items      []Account
	NextCursor string
}

// AccountReader reads accounts. sc is the account object's schema.
type AccountReader interface {
	// GetAccount returns one account, Raw always set.
	GetAccount(ctx context.Context, sc Schema, id string) (Account, error)
	// ListAccounts pages through every account, each exactly once, in a
	// stable order. A provider that cannot filter on q.UpdatedAfter
	// answers an *UnsupportedError.
	ListAccounts(ctx context.Context, sc Schema, q EntityQuery) (AccountPage, error)
}

// AccountWriter changes accounts. sc is the account object's schema; the
// gateway has checked a.CustomFields against it.
type AccountWriter interface {
	CreateAccount(ctx context.Context, sc Schema, a Account) (Account, error)
	// UpdateAccount changes the fields named in set (AccountWritable
	// names); for custom_fields only the keys of a.CustomFields change.
	UpdateAccount(ctx context.Context, sc Schema, id string, a Account, set Fields) (Account, error)
	DeleteAccount(ctx context.Context, id string) error
}

// AccountCounter counts accounts (changed after updatedAfter; all when
// zero).
type AccountCounter interface {
	CountAccounts(ctx context.Context, sc Schema, updatedAfter time.Time) (int64, error)
}

// AccountFinder finds the accounts whose domain is one of domains
// (lower-cased hosts without "www."), for upserts; at most limit of them.
type AccountFinder interface {
	FindAccountsByDomain(ctx context.Context, sc Schema, domains []string, limit int) ([]Account, error)
}

// DomainOf is the domain of a website or domain as accounts are matched
// on it: the host, lower-cased, without a port, a trailing dot or a
// leading "www." ("https://WWW.Acme.example/about" -> "acme.example"). ""
// when s holds no host.
func DomainOf(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	} else {
		s = strings.TrimPrefix(s, "//")
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	s = strings.TrimSuffix(s, ".")
	s = strings.TrimPrefix(s, "www.")
	if s == "" || strings.ContainsAny(s, " \t\r\n\\\"<>") || strings.HasPrefix(s, ".") || strings.Contains(s, "..") {
		return ""
	}
	return s
}
