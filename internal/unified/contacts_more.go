package unified

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/crm"
)

// Contact search, count, batch read and upsert.

const (
	opSearch    = "search"
	opCount     = "count"
	opBatchRead = "batch read"
	opUpsert    = "upsert"

	maxFilters     = 20
	maxInValues    = 100
	maxBatchIDs    = 100
	maxUpsertVals  = 10
	batchReadLanes = 8
)

// contactFilterable are the contact fields a filter may name (besides
// custom_fields.<id>); timestamps take gt/lt, the others eq/neq/contains/in.
var contactFilterable = map[string]bool{
	crm.ContactFirstName: true, crm.ContactLastName: true, crm.ContactName: true, crm.ContactEmails: true,
	crm.ContactPhones: true, crm.ContactCompanyName: true, crm.ContactAccountID: true, crm.ContactOwnerID: true,
	crm.ContactLifecycleStage: true, crm.ContactTags: true, "created_at": true, "updated_at": true,
}

func isTimestampField(f string) bool { return f == "created_at" || f == "updated_at" }

// contactFilters checks a search's filters (field names and value shapes;
// custom fields against the schema, in checkFilterFields).
func contactFilters(in []*crmv1.EntityFilter) ([]crm.Filter, error) {
	if len(in) > maxFilters {
		return nil, crm.Invalid("filters", "at most %d filters, got %d", maxFilters, len(in))
	}
	var v []crm.FieldViolation
	bad := func(field, format string, args ...any) {
		v = append(v, crm.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	out := make([]crm.Filter, 0, len(in))
	for i, f := range in {
		p := fmt.Sprintf("filters[%d]", i)
		field, op := f.GetField(), crm.FilterOp(f.GetOperator())
		custom, isCustom := strings.CutPrefix(field, crm.ContactCustomFields+".")
		switch {
		case isCustom && !propName.match(custom):
			bad(p+".field", "%q is not a valid property id", clip(custom))
			continue
		case !isCustom && !contactFilterable[field]:
			bad(p+".field", "%q is not a field contacts can be filtered on; use %s or custom_fields.<property id>", clip(field), knownList(contactFilterable))
			continue
		}
		val := f.GetValue().AsInterface()
		flt := crm.Filter{Field: field, Operator: op}
		switch op {
		case crm.OpGt, crm.OpLt:
			s, ok := val.(string)
			t, err := time.Parse(time.RFC3339Nano, s)
			switch {
			case !isTimestampField(field):
				bad(p+".operator", "%s compares created_at and updated_at only; use eq, neq, contains or in", op)
			case !ok || err != nil:
				bad(p+".value", "must be an RFC 3339 date-time string")
			}
			flt.Value = t
		case crm.OpEq, crm.OpNeq, crm.OpContains:
			s, ok := val.(string)
			switch {
			case isTimestampField(field):
				bad(p+".operator", "%s is compared with gt or lt", field)
			case !ok || s == "" || len(s) > maxContactText:
				bad(p+".value", "must be a string of 1 to %d characters", maxContactText)
			}
			flt.Value = s
		case crm.OpIn:
			list, ok := val.([]any)
			var vals []string
			for _, e := range list {
				if s, isStr := e.(string); isStr && s != "" && len(s) <= maxContactText {
					vals = append(vals, s)
				} else {
					ok = false
				}
			}
			switch {
			case isTimestampField(field):
				bad(p+".operator", "%s is compared with gt or lt", field)
			case !ok || len(vals) == 0 || len(vals) > maxInValues:
				bad(p+".value", "must be a list of 1 to %d non-empty strings", maxInValues)
			}
			flt.Value = vals
		default:
			bad(p+".operator", "%q is not an operator; use eq, neq, contains, gt, lt or in", clip(string(op)))
		}
		out = append(out, flt)
	}
	if len(v) > 0 {
		return nil, &crm.ValidationError{Violations: v}
	}
	return out, nil
}

// checkFilterFields checks the custom fields filters name against the
// contact schema.
func checkFilterFields(sc crm.Schema, fs []crm.Filter) error {
	for i, f := range fs {
		if id, ok := strings.CutPrefix(f.Field, crm.ContactCustomFields+"."); ok {
			if _, known := sc.Property(id); !known {
				return crm.Invalid(fmt.Sprintf("filters[%d].field", i), "%q is not a custom field of contacts", clip(id))
			}
		}
	}
	return nil
}

// SearchContacts implements CrmService.
func (s *Service) SearchContacts(ctx context.Context, req *crmv1.SearchContactsRequest) (*crmv1.SearchContactsResponse, error) {
	q := strings.TrimSpace(req.GetQuery())
	if len(q) > maxQueryLen {
		return nil, crm.Invalid("query", "is longer than %d characters", maxQueryLen)
	}
	n, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	filters, err := contactFilters(req.GetFilters())
	if err != nil {
		return nil, err
	}
	var sort *crm.Sort
	if st := req.GetSort(); st != nil {
		sort = &crm.Sort{Field: st.GetField()}
		switch st.GetDirection() {
		case "", "asc":
		case "desc":
			sort.Desc = true
		default:
			return nil, crm.Invalid("sort.direction", "must be asc or desc, got %q", clip(st.GetDirection()))
		}
		if !contactFilterable[sort.Field] {
			return nil, crm.Invalid("sort.field", "%q is not a contact field; use %s", clip(sort.Field), knownList(contactFilterable))
		}
	}
	sel, err := parseFields("fields", req.GetFields(), contactFieldNames)
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	// The cursor is bound to the whole search.
	key, _ := json.Marshal(struct { //nolint:errchkjson // plain values
		Q string
		F []*crmv1.EntityFilter
		S *crm.Sort
	}{q, req.GetFilters(), sort})
	pc, err := decodeCursor(req.GetCursor(), c.connID, "contacts:search", string(key))
	if err != nil {
		return nil, err
	}
	r, err := entityCap[crm.ContactSearcher](c, crm.EntityContact, opSearch)
	if err != nil {
		return nil, err
	}
	var ferr error
	sc, err := contactSchema(ctx, c, func(sc crm.Schema) bool { ferr = checkFilterFields(sc, filters); return ferr == nil })
	if err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, ferr
	}
	pg, err := r.SearchContacts(ctx, sc, crm.EntitySearch{Query: q, Filters: filters, Sort: sort, Cursor: pc, PageSize: n, IncludeRaw: req.GetIncludeRawData()})
	if err != nil {
		return nil, entityErr(err, c, crm.EntityContact, opSearch, "")
	}
	next := encodeCursor(c.connID, "contacts:search", string(key), pg.NextCursor)
	out := &crmv1.SearchContactsResponse{Items: make([]*crmv1.Contact, len(pg.Items)), NextCursor: next, HasNextPage: next != "", Total: clampTotal(pg.Total)}
	var b builder
	for i, ct := range pg.Items {
		out.Items[i] = b.contact(ct, req.GetIncludeRawData())
		sel.apply(out.Items[i].ProtoReflect())
	}
	return out, nil
}

// CountContacts implements CrmService.
func (s *Service) CountContacts(ctx context.Context, req *crmv1.CountContactsRequest) (*crmv1.CountContactsResponse, error) {
	after, err := parseUpdatedAfter(req.GetUpdatedAfter())
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	r, err := entityCap[crm.ContactSearcher](c, crm.EntityContact, opCount)
	if err != nil {
		return nil, err
	}
	sc, err := contactSchema(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	n, err := r.CountContacts(ctx, sc, after)
	if err != nil {
		return nil, entityErr(err, c, crm.EntityContact, opCount, "")
	}
	return &crmv1.CountContactsResponse{Count: clampTotal(n)}, nil
}

// BatchReadContacts implements CrmService: one get per id (HighLevel has
// no batch read), batchReadLanes at a time, through the same rate limiter
// as every call.
func (s *Service) BatchReadContacts(ctx context.Context, req *crmv1.BatchReadContactsRequest) (*crmv1.BatchReadContactsResponse, error) {
	ids := req.GetIds()
	if len(ids) == 0 || len(ids) > maxBatchIDs {
		return nil, crm.Invalid("ids", "must hold 1 to %d ids, got %d", maxBatchIDs, len(ids))
	}
	for i, id := range ids {
		if !idName.match(id) {
			return nil, crm.Invalid(fmt.Sprintf("ids[%d]", i), "%q is not a valid id (letters, digits, _ and -, at most 128)", clip(id))
		}
	}
	sel, err := parseFields("properties", req.GetProperties(), contactFieldNames)
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	r, err := entityCap[crm.ContactReader](c, crm.EntityContact, opBatchRead)
	if err != nil {
		return nil, err
	}
	sc, err := contactSchema(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	found := make([]*crm.Contact, len(ids))
	errs := make([]error, len(ids))
	lanes := make(chan struct{}, batchReadLanes)
	var wg sync.WaitGroup
	for i, id := range ids {
		if i > 0 && id == ids[i-1] {
			continue
		}
		wg.Add(1)
		lanes <- struct{}{}
		go func() {
			defer func() { <-lanes; wg.Done() }()
			ct, err := r.GetContact(ctx, sc, id)
			if err != nil {
				errs[i] = err
				return
			}
			found[i] = &ct
		}()
	}
	wg.Wait()
	out := &crmv1.BatchReadContactsResponse{Items: []*crmv1.Contact{}, NotFound: []string{}}
	var b builder
	for i, id := range ids {
		if i > 0 && id == ids[i-1] {
			found[i], errs[i] = found[i-1], errs[i-1]
		}
		switch {
		case errs[i] != nil && isNotFound(errs[i]):
			out.NotFound = append(out.NotFound, id)
		case errs[i] != nil:
			return nil, entityErr(errs[i], c, crm.EntityContact, opBatchRead, "")
		default:
			item := b.contact(*found[i], false)
			sel.apply(item.ProtoReflect())
			out.Items = append(out.Items, item)
		}
	}
	return out, nil
}

func isNotFound(err error) bool {
	return err != nil && errors.Is(err, crm.ErrNotFound)
}

// UpsertContact implements CrmService: the contacts whose primary email
// is one of upsert_on.values are searched; none: the record is created;
// one: it is updated with the fields set; more: 409 naming them.
func (s *Service) UpsertContact(ctx context.Context, req *crmv1.UpsertContactRequest) (*crmv1.UpsertContactResponse, error) {
	on := req.GetUpsertOn()
	if on == nil {
		return nil, crm.Invalid("upsert_on", "is required")
	}
	if on.GetKey() != "email" {
		return nil, crm.Invalid("upsert_on.key", "contacts are upserted on email, got %q", clip(on.GetKey()))
	}
	vals := on.GetValues()
	if len(vals) == 0 || len(vals) > maxUpsertVals {
		return nil, crm.Invalid("upsert_on.values", "must hold 1 to %d emails, got %d", maxUpsertVals, len(vals))
	}
	for i, v := range vals {
		if !isEmail(v) {
			return nil, crm.Invalid(fmt.Sprintf("upsert_on.values[%d]", i), "%q is not an email address", clip(v))
		}
	}
	if req.GetRecord() == nil {
		return nil, crm.Invalid("record", "is required")
	}
	in, set, err := contactInput(req.GetRecord(), nil)
	if err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return nil, crm.Invalid("record", "is empty; set the fields to write")
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	sr, err := entityCap[crm.ContactSearcher](c, crm.EntityContact, opUpsert)
	if err != nil {
		return nil, err
	}
	w, err := entityCap[crm.ContactWriter](c, crm.EntityContact, opUpsert)
	if err != nil {
		return nil, err
	}
	sc, err := checkedContactSchema(ctx, c, in.CustomFields)
	if err != nil {
		return nil, err
	}
	pg, err := sr.SearchContacts(ctx, sc, crm.EntitySearch{PageSize: 10, Filters: []crm.Filter{{Field: crm.ContactEmails, Operator: crm.OpIn, Value: vals}}})
	if err != nil {
		return nil, entityErr(err, c, crm.EntityContact, opUpsert, "")
	}
	var b builder
	switch len(pg.Items) {
	case 0:
		ct, err := w.CreateContact(ctx, sc, in)
		if err != nil {
			return nil, entityErr(inRequest(err, "record."), c, crm.EntityContact, opUpsert, "")
		}
		return &crmv1.UpsertContactResponse{Record: b.contact(ct, false), Created: true, Warnings: []string{}}, nil
	case 1:
		ct, err := w.UpdateContact(ctx, sc, pg.Items[0].ID, in, set)
		if err != nil {
			return nil, entityErr(inRequest(err, "record."), c, crm.EntityContact, opUpsert, pg.Items[0].ID)
		}
		return &crmv1.UpsertContactResponse{Record: b.contact(ct, false), Warnings: []string{}}, nil
	}
	matched := make([]string, len(pg.Items))
	for i, ct := range pg.Items {
		matched[i] = ct.ID
	}
	return nil, apierr.New(codes.AlreadyExists, "UPSERT_AMBIGUOUS", "more than one contact matches upsert_on (email): %s", strings.Join(matched, ", "))
}
