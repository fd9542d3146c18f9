package unified

import (
	"context"
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
)

// Standard entities, contact first: the template the other entities
// follow. Each operation validates its input before the provider is
// called, reads the entity's schema from the schema cache (custom fields
// are checked against it and the adapter maps them with it), finds the
// provider's capability by type assertion (501 naming entity, operation
// and provider when missing) and converts between protobuf and crm.

// Contact operations, as named in 501 answers.
const (
	opList   = "list"
	opGet    = "get"
	opCreate = "create"
	opUpdate = "update"
	opDelete = "delete"
)

// unwrapper is a decorating provider (the schema cache) that hands its
// wrapped provider out: entity capabilities are the adapter's own.
type unwrapper interface{ Unwrap() crm.Provider }

// entityCap finds capability T of the connection's provider, looking
// through decorators; without it, a *crm.UnsupportedError naming entity,
// operation and provider.
func entityCap[T any](c call, entity, op string) (T, error) {
	p := c.p
	for {
		if t, ok := p.(T); ok {
			return t, nil
		}
		u, ok := p.(unwrapper)
		if !ok {
			break
		}
		p = u.Unwrap()
	}
	var zero T
	return zero, &crm.UnsupportedError{Entity: entity, Operation: op, Provider: providerName(c.p)}
}

// providerName is the connection's provider name ("" when it tells none).
func providerName(p crm.Provider) string {
	for {
		if n, ok := p.(crm.Named); ok {
			return n.ProviderName()
		}
		u, ok := p.(unwrapper)
		if !ok {
			return ""
		}
		p = u.Unwrap()
	}
}

// entityErr names an entity operation's ErrUnsupported (e.g. from the
// adapter) and its not-found.
func entityErr(err error, c call, entity, op, id string) error {
	if err == nil {
		return nil
	}
	err = crm.AsUnsupported(err, entity, op, providerName(c.p))
	if id != "" {
		err = notFound(err, "%s %q not found", entity, id)
	}
	return err
}

// contactFieldNames are the Contact message's field names.
var contactFieldNames = func() map[string]bool {
	m := map[string]bool{}
	fs := (&crmv1.Contact{}).ProtoReflect().Descriptor().Fields()
	for i := 0; i < fs.Len(); i++ {
		m[string(fs.Get(i).Name())] = true
	}
	return m
}()

// fieldSelection parses a fields parameter: names of msg's fields or
// "custom_fields.<id>", each element possibly comma-separated. nil means
// every field.
type fieldSelection struct {
	fields map[string]bool
	custom map[string]bool // custom field ids; nil with "custom_fields"
}

const maxFields = 200

func parseFields(param string, in []string, known map[string]bool) (*fieldSelection, error) {
	var names []string
	for _, s := range in {
		for _, n := range strings.Split(s, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	if len(names) > maxFields {
		return nil, crm.Invalid(param, "names more than %d fields", maxFields)
	}
	sel := &fieldSelection{fields: map[string]bool{"id": true}}
	customAll := false
	for _, n := range names {
		if id, ok := strings.CutPrefix(n, crm.ContactCustomFields+"."); ok && known[crm.ContactCustomFields] {
			if err := checkPropertyID(param, id); err != nil {
				return nil, crm.Invalid(param, "%q: %q is not a valid property id", clip(n), clip(id))
			}
			if sel.custom == nil {
				sel.custom = map[string]bool{}
			}
			sel.custom[id] = true
			sel.fields[crm.ContactCustomFields] = true
			continue
		}
		if !known[n] {
			return nil, crm.Invalid(param, "%q is not a field; use %s, or custom_fields.<property id>", clip(n), knownList(known))
		}
		sel.fields[n] = true
		if n == crm.ContactCustomFields {
			customAll = true
		}
	}
	if customAll {
		sel.custom = nil
	}
	return sel, nil
}

func knownList(known map[string]bool) string {
	out := make([]string, 0, len(known))
	for k := range known {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// apply clears the fields of m the selection leaves out.
func (s *fieldSelection) apply(m protoreflect.Message) {
	if s == nil {
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if !s.fields[string(fd.Name())] {
			m.Clear(fd)
		}
		return true
	})
	if s.custom == nil {
		return
	}
	var custom *structpb.Struct
	switch e := m.Interface().(type) {
	case *crmv1.Contact:
		custom = e.GetCustomFields()
	case *crmv1.Account:
		custom = e.GetCustomFields()
	}
	if custom != nil {
		for k := range custom.Fields {
			if !s.custom[k] {
				delete(custom.Fields, k)
			}
		}
	}
}

// parseUpdatedAfter reads an RFC 3339 instant ("" is none).
func parseUpdatedAfter(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, crm.Invalid("updated_after", "%q is not an RFC 3339 date-time (e.g. 2025-01-06T09:00:00Z)", clip(s))
	}
	return t, nil
}

// contactSchema is the contact object's schema (cached); with want, checked
// once more when the cached copy fails it (schemaWhere).
func contactSchema(ctx context.Context, c call, want func(crm.Schema) bool) (crm.Schema, error) {
	if want == nil {
		want = func(crm.Schema) bool { return true }
	}
	sc, err := schemaWhere(ctx, c, crm.EntityContact, want)
	if err != nil {
		return sc, crm.AsUnsupported(err, crm.EntityContact, "read the properties of", providerName(c.p))
	}
	return sc, nil
}

// ListContacts implements CrmService.
func (s *Service) ListContacts(ctx context.Context, req *crmv1.ListContactsRequest) (*crmv1.ListContactsResponse, error) {
	l, err := openEntityList[crm.ContactReader](ctx, s, req, crm.EntityContact, "contacts", contactFieldNames, contactSchema)
	if err != nil {
		return nil, err
	}
	pg, err := l.reader.ListContacts(ctx, l.schema, l.query)
	if err != nil {
		return nil, entityErr(err, l.c, crm.EntityContact, opList, "")
	}
	next := l.next(pg.NextCursor)
	out := &crmv1.ListContactsResponse{Items: make([]*crmv1.Contact, len(pg.Items)), NextCursor: next, HasNextPage: next != ""}
	var b builder
	for i, x := range pg.Items {
		out.Items[i] = b.contact(x, req.GetIncludeRawData())
		l.sel.apply(out.Items[i].ProtoReflect())
	}
	return out, nil
}

// GetContact implements CrmService.
func (s *Service) GetContact(ctx context.Context, req *crmv1.GetContactRequest) (*crmv1.GetContactResponse, error) {
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	sel, err := parseFields("fields", req.GetFields(), contactFieldNames)
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	r, err := entityCap[crm.ContactReader](c, crm.EntityContact, opGet)
	if err != nil {
		return nil, err
	}
	sc, err := contactSchema(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	ct, err := r.GetContact(ctx, sc, req.GetId())
	if err != nil {
		return nil, entityErr(err, c, crm.EntityContact, opGet, req.GetId())
	}
	var b builder
	out := &crmv1.GetContactResponse{Record: b.contact(ct, false), Raw: b.rawStruct(ct.Raw, true)}
	sel.apply(out.Record.ProtoReflect())
	return out, nil
}

// CreateContact implements CrmService.
func (s *Service) CreateContact(ctx context.Context, req *crmv1.CreateContactRequest) (*crmv1.CreateContactResponse, error) {
	if req.GetRecord() == nil {
		return nil, crm.Invalid("record", "is required")
	}
	in, set, err := contactInput(req.GetRecord(), nil)
	if err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return nil, crm.Invalid("record", "is empty; set at least a name, an email or a phone")
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := entityCap[crm.ContactWriter](c, crm.EntityContact, opCreate)
	if err != nil {
		return nil, err
	}
	sc, err := checkedContactSchema(ctx, c, in.CustomFields)
	if err != nil {
		return nil, err
	}
	ct, err := w.CreateContact(ctx, sc, in)
	if err != nil {
		return nil, entityErr(inRequest(err, "record."), c, crm.EntityContact, opCreate, "")
	}
	var b builder
	return &crmv1.CreateContactResponse{Record: b.contact(ct, false), Warnings: []string{}}, nil
}

// UpdateContact implements CrmService.
func (s *Service) UpdateContact(ctx context.Context, req *crmv1.UpdateContactRequest) (*crmv1.UpdateContactResponse, error) {
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	if req.GetRecord() == nil {
		return nil, crm.Invalid("record", "is required")
	}
	in, set, err := contactInput(req.GetRecord(), req.GetUpdateMask().GetPaths())
	if err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return nil, crm.Invalid("record", "nothing to update; set a field of the contact, or name it in update_mask to clear it")
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := entityCap[crm.ContactWriter](c, crm.EntityContact, opUpdate)
	if err != nil {
		return nil, err
	}
	sc, err := checkedContactSchema(ctx, c, in.CustomFields)
	if err != nil {
		return nil, err
	}
	ct, err := w.UpdateContact(ctx, sc, req.GetId(), in, set)
	if err != nil {
		return nil, entityErr(inRequest(err, "record."), c, crm.EntityContact, opUpdate, req.GetId())
	}
	var b builder
	return &crmv1.UpdateContactResponse{Record: b.contact(ct, false), Warnings: []string{}}, nil
}

// DeleteContact implements CrmService.
func (s *Service) DeleteContact(ctx context.Context, req *crmv1.DeleteContactRequest) (*crmv1.DeleteContactResponse, error) {
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := entityCap[crm.ContactWriter](c, crm.EntityContact, opDelete)
	if err != nil {
		return nil, err
	}
	if err := w.DeleteContact(ctx, req.GetId()); err != nil {
		return nil, entityErr(err, c, crm.EntityContact, opDelete, req.GetId())
	}
	return &crmv1.DeleteContactResponse{}, nil
}

// checkedContactSchema reads the contact schema and checks custom field
// values against its properties ("record.custom_fields.<id>").
func checkedContactSchema(ctx context.Context, c call, custom map[string]any) (crm.Schema, error) {
	var verr error
	sc, err := contactSchema(ctx, c, func(sc crm.Schema) bool {
		verr = checkCustomFields(sc, custom)
		return verr == nil
	})
	if err != nil {
		return sc, err
	}
	return sc, verr
}

// checkCustomFields checks each custom field value against the property of
// its id (null clears a field and is always accepted).
func checkCustomFields(sc crm.Schema, custom map[string]any) error {
	keys := make([]string, 0, len(custom))
	for k := range custom {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var v []crm.FieldViolation
	for _, k := range keys {
		field := "record.custom_fields." + k
		p, ok := sc.Property(k)
		if !ok {
			v = append(v, crm.FieldViolation{Field: field, Description: fmt.Sprintf("unknown custom field of %s (see GET /v0/unified/crm/metadata/objects/%s/properties)", sc.Object.Name, crm.EntityContact)})
			continue
		}
		if custom[k] == nil {
			continue
		}
		if msg := checkValue(p, custom[k]); msg != "" {
			v = append(v, crm.FieldViolation{Field: field, Description: msg})
		}
	}
	if len(v) > 0 {
		return &crm.ValidationError{Violations: v}
	}
	return nil
}

// isEmail reports whether s is one plain email address.
func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// Limits of a contact write.
const (
	maxContactText  = 1000
	maxContactItems = 50
)

// contactInput validates a contact body and names the fields it writes:
// those of mask (update) or, without one, those that are set.
func contactInput(r *crmv1.Contact, mask []string) (crm.Contact, crm.Fields, error) {
	in := contactFromProto(r)
	set := crm.Fields{}
	writable := map[string]bool{}
	for _, f := range crm.ContactWritable {
		writable[f] = true
	}
	var v []crm.FieldViolation
	bad := func(field, format string, args ...any) {
		v = append(v, crm.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	if len(mask) > 0 {
		for _, p := range mask {
			top, _, _ := strings.Cut(p, ".")
			if !writable[top] {
				bad("update_mask", "%q is not a writable contact field; use %s", clip(p), strings.Join(crm.ContactWritable, ", "))
				continue
			}
			set[top] = true
		}
	} else {
		set = in.SetFields()
	}
	for f, s := range map[string]string{
		"record.first_name": in.FirstName, "record.last_name": in.LastName, "record.name": in.Name,
		"record.company_name": in.CompanyName, "record.lifecycle_stage": in.LifecycleStage,
	} {
		if len(s) > maxContactText {
			bad(f, "is longer than %d characters", maxContactText)
		}
	}
	for f, id := range map[string]string{"record.account_id": in.AccountID, "record.owner_id": in.OwnerID} {
		if id != "" && !idName.match(id) {
			bad(f, "%q is not a valid id (letters, digits, _ and -, at most 128)", clip(id))
		}
	}
	for f, n := range map[string]int{"record.emails": len(in.Emails), "record.phones": len(in.Phones), "record.addresses": len(in.Addresses), "record.tags": len(in.Tags)} {
		if n > maxContactItems {
			bad(f, "has more than %d entries", maxContactItems)
		}
	}
	primaries := 0
	for i, e := range in.Emails {
		f := fmt.Sprintf("record.emails[%d].address", i)
		if !isEmail(e.Address) {
			bad(f, "%q is not an email address", clip(e.Address))
		}
		if e.Primary {
			primaries++
		}
	}
	if primaries > 1 {
		bad("record.emails", "at most one email can be primary, %d are", primaries)
	}
	primaries = 0
	for i, p := range in.Phones {
		f := fmt.Sprintf("record.phones[%d].number", i)
		if strings.TrimSpace(p.Number) == "" {
			bad(f, "is required")
		} else if len(p.Number) > 50 {
			bad(f, "is longer than 50 characters")
		}
		if p.Primary {
			primaries++
		}
	}
	if primaries > 1 {
		bad("record.phones", "at most one phone can be primary, %d are", primaries)
	}
	for i, t := range in.Tags {
		if strings.TrimSpace(t) == "" || len(t) > 200 {
			bad(fmt.Sprintf("record.tags[%d]", i), "must be 1 to 200 characters")
		}
	}
	for k := range in.CustomFields {
		if !propName.match(k) {
			bad("record.custom_fields", "%q is not a valid property id", clip(k))
		}
	}
	if len(v) > 0 {
		sort.Slice(v, func(i, j int) bool { return v[i].Field < v[j].Field })
		return in, nil, &crm.ValidationError{Violations: v}
	}
	if !set[crm.ContactCustomFields] {
		in.CustomFields = nil
	}
	return in, set, nil
}
