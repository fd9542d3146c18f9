package unified

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/crm"
)

// Accounts (companies), following the contact template: input checked
// before the provider is called, the account schema read from the schema
// cache, the provider's capability found by type assertion (501 naming
// entity, operation and provider when missing).

// accountFieldNames are the Account message's field names.
var accountFieldNames = func() map[string]bool {
	m := map[string]bool{}
	fs := (&crmv1.Account{}).ProtoReflect().Descriptor().Fields()
	for i := 0; i < fs.Len(); i++ {
		m[string(fs.Get(i).Name())] = true
	}
	return m
}()

// accountSchema is the account object's schema (cached); with want,
// checked once more when the cached copy fails it.
func accountSchema(ctx context.Context, c call, want func(crm.Schema) bool) (crm.Schema, error) {
	if want == nil {
		want = func(crm.Schema) bool { return true }
	}
	sc, err := schemaWhere(ctx, c, crm.EntityAccount, want)
	if err != nil {
		return sc, crm.AsUnsupported(err, crm.EntityAccount, "read the properties of", providerName(c.p))
	}
	return sc, nil
}

// checkedAccountSchema reads the account schema and checks custom field
// values against its properties.
func checkedAccountSchema(ctx context.Context, c call, custom map[string]any) (crm.Schema, error) {
	var verr error
	sc, err := accountSchema(ctx, c, func(sc crm.Schema) bool {
		verr = checkEntityCustomFields(sc, crm.EntityAccount, custom)
		return verr == nil
	})
	if err != nil {
		return sc, err
	}
	return sc, verr
}

// checkEntityCustomFields is checkCustomFields for entity.
func checkEntityCustomFields(sc crm.Schema, entity string, custom map[string]any) error {
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
			v = append(v, crm.FieldViolation{Field: field, Description: fmt.Sprintf("unknown custom field of %s (see GET /v0/unified/crm/metadata/objects/%s/properties)", entity, entity)})
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

// ListAccounts implements CrmService.
func (s *Service) ListAccounts(ctx context.Context, req *crmv1.ListAccountsRequest) (*crmv1.ListAccountsResponse, error) {
	l, err := openEntityList[crm.AccountReader](ctx, s, req, crm.EntityAccount, "accounts", accountFieldNames, accountSchema)
	if err != nil {
		return nil, err
	}
	pg, err := l.reader.ListAccounts(ctx, l.schema, l.query)
	if err != nil {
		return nil, entityErr(err, l.c, crm.EntityAccount, opList, "")
	}
	next := l.next(pg.NextCursor)
	out := &crmv1.ListAccountsResponse{Items: make([]*crmv1.Account, len(pg.Items)), NextCursor: next, HasNextPage: next != ""}
	var b builder
	for i, x := range pg.Items {
		out.Items[i] = b.account(x, req.GetIncludeRawData())
		l.sel.apply(out.Items[i].ProtoReflect())
	}
	return out, nil
}

// GetAccount implements CrmService.
func (s *Service) GetAccount(ctx context.Context, req *crmv1.GetAccountRequest) (*crmv1.GetAccountResponse, error) {
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	sel, err := parseFields("fields", req.GetFields(), accountFieldNames)
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	r, err := entityCap[crm.AccountReader](c, crm.EntityAccount, opGet)
	if err != nil {
		return nil, err
	}
	sc, err := accountSchema(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	a, err := r.GetAccount(ctx, sc, req.GetId())
	if err != nil {
		return nil, entityErr(err, c, crm.EntityAccount, opGet, req.GetId())
	}
	var b builder
	out := &crmv1.GetAccountResponse{Record: b.account(a, false), Raw: b.rawStruct(a.Raw, true)}
	sel.apply(out.Record.ProtoReflect())
	return out, nil
}

// CreateAccount implements CrmService.
func (s *Service) CreateAccount(ctx context.Context, req *crmv1.CreateAccountRequest) (*crmv1.CreateAccountResponse, error) {
	if req.GetRecord() == nil {
		return nil, crm.Invalid("record", "is required")
	}
	in, _, err := accountInput(req.GetRecord(), nil)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Name) == "" {
		return nil, crm.Invalid("record.name", "is required")
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := entityCap[crm.AccountWriter](c, crm.EntityAccount, opCreate)
	if err != nil {
		return nil, err
	}
	sc, err := checkedAccountSchema(ctx, c, in.CustomFields)
	if err != nil {
		return nil, err
	}
	a, err := w.CreateAccount(ctx, sc, in)
	if err != nil {
		return nil, entityErr(inRequest(err, "record."), c, crm.EntityAccount, opCreate, "")
	}
	var b builder
	return &crmv1.CreateAccountResponse{Record: b.account(a, false), Warnings: []string{}}, nil
}

// UpdateAccount implements CrmService.
func (s *Service) UpdateAccount(ctx context.Context, req *crmv1.UpdateAccountRequest) (*crmv1.UpdateAccountResponse, error) {
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	if req.GetRecord() == nil {
		return nil, crm.Invalid("record", "is required")
	}
	in, set, err := accountInput(req.GetRecord(), req.GetUpdateMask().GetPaths())
	if err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return nil, crm.Invalid("record", "nothing to update; set a field of the account, or name it in update_mask to clear it")
	}
	if set[crm.AccountName] && strings.TrimSpace(in.Name) == "" {
		return nil, crm.Invalid("record.name", "cannot be cleared")
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := entityCap[crm.AccountWriter](c, crm.EntityAccount, opUpdate)
	if err != nil {
		return nil, err
	}
	sc, err := checkedAccountSchema(ctx, c, in.CustomFields)
	if err != nil {
		return nil, err
	}
	a, err := w.UpdateAccount(ctx, sc, req.GetId(), in, set)
	if err != nil {
		return nil, entityErr(inRequest(err, "record."), c, crm.EntityAccount, opUpdate, req.GetId())
	}
	var b builder
	return &crmv1.UpdateAccountResponse{Record: b.account(a, false), Warnings: []string{}}, nil
}

// DeleteAccount implements CrmService.
func (s *Service) DeleteAccount(ctx context.Context, req *crmv1.DeleteAccountRequest) (*crmv1.DeleteAccountResponse, error) {
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := entityCap[crm.AccountWriter](c, crm.EntityAccount, opDelete)
	if err != nil {
		return nil, err
	}
	if err := w.DeleteAccount(ctx, req.GetId()); err != nil {
		return nil, entityErr(err, c, crm.EntityAccount, opDelete, req.GetId())
	}
	return &crmv1.DeleteAccountResponse{}, nil
}

// CountAccounts implements CrmService.
func (s *Service) CountAccounts(ctx context.Context, req *crmv1.CountAccountsRequest) (*crmv1.CountAccountsResponse, error) {
	after, err := parseUpdatedAfter(req.GetUpdatedAfter())
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	r, err := entityCap[crm.AccountCounter](c, crm.EntityAccount, opCount)
	if err != nil {
		return nil, err
	}
	sc, err := accountSchema(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	n, err := r.CountAccounts(ctx, sc, after)
	if err != nil {
		return nil, entityErr(err, c, crm.EntityAccount, opCount, "")
	}
	return &crmv1.CountAccountsResponse{Count: clampTotal(n)}, nil
}

// BatchReadAccounts implements CrmService: one get per id,
// batchReadLanes at a time.
func (s *Service) BatchReadAccounts(ctx context.Context, req *crmv1.BatchReadAccountsRequest) (*crmv1.BatchReadAccountsResponse, error) {
	ids := req.GetIds()
	if len(ids) == 0 || len(ids) > maxBatchIDs {
		return nil, crm.Invalid("ids", "must hold 1 to %d ids, got %d", maxBatchIDs, len(ids))
	}
	for i, id := range ids {
		if !idName.match(id) {
			return nil, crm.Invalid(fmt.Sprintf("ids[%d]", i), "%q is not a valid id (letters, digits, _ and -, at most 128)", clip(id))
		}
	}
	sel, err := parseFields("properties", req.GetProperties(), accountFieldNames)
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	r, err := entityCap[crm.AccountReader](c, crm.EntityAccount, opBatchRead)
	if err != nil {
		return nil, err
	}
	sc, err := accountSchema(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	found := make([]*crm.Account, len(ids))
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
			a, err := r.GetAccount(ctx, sc, id)
			if err != nil {
				errs[i] = err
				return
			}
			found[i] = &a
		}()
	}
	wg.Wait()
	out := &crmv1.BatchReadAccountsResponse{Items: []*crmv1.Account{}, NotFound: []string{}}
	var b builder
	for i, id := range ids {
		if i > 0 && id == ids[i-1] {
			found[i], errs[i] = found[i-1], errs[i-1]
		}
		switch {
		case errs[i] != nil && isNotFound(errs[i]):
			out.NotFound = append(out.NotFound, id)
		case errs[i] != nil:
			return nil, entityErr(errs[i], c, crm.EntityAccount, opBatchRead, "")
		default:
			item := b.account(*found[i], false)
			sel.apply(item.ProtoReflect())
			out.Items = append(out.Items, item)
		}
	}
	return out, nil
}

// UpsertAccount implements CrmService: the accounts whose domain is the
// domain of one of upsert_on.values are found; none: the record is
// created; one: it is updated with the fields set; more: 409 naming them.
func (s *Service) UpsertAccount(ctx context.Context, req *crmv1.UpsertAccountRequest) (*crmv1.UpsertAccountResponse, error) {
	on := req.GetUpsertOn()
	if on == nil {
		return nil, crm.Invalid("upsert_on", "is required")
	}
	key := on.GetKey()
	if key != crm.AccountDomain && key != crm.AccountWebsite {
		return nil, crm.Invalid("upsert_on.key", "accounts are upserted on domain or website, got %q", clip(key))
	}
	vals := on.GetValues()
	if len(vals) == 0 || len(vals) > maxUpsertVals {
		return nil, crm.Invalid("upsert_on.values", "must hold 1 to %d values, got %d", maxUpsertVals, len(vals))
	}
	domains := make([]string, len(vals))
	for i, v := range vals {
		if len(v) > maxContactText {
			return nil, crm.Invalid(fmt.Sprintf("upsert_on.values[%d]", i), "is longer than %d characters", maxContactText)
		}
		if domains[i] = crm.DomainOf(v); domains[i] == "" {
			return nil, crm.Invalid(fmt.Sprintf("upsert_on.values[%d]", i), "%q holds no domain (e.g. acme.example or https://acme.example)", clip(v))
		}
	}
	if req.GetRecord() == nil {
		return nil, crm.Invalid("record", "is required")
	}
	in, set, err := accountInput(req.GetRecord(), nil)
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
	f, err := entityCap[crm.AccountFinder](c, crm.EntityAccount, opUpsert)
	if err != nil {
		return nil, err
	}
	w, err := entityCap[crm.AccountWriter](c, crm.EntityAccount, opUpsert)
	if err != nil {
		return nil, err
	}
	sc, err := checkedAccountSchema(ctx, c, in.CustomFields)
	if err != nil {
		return nil, err
	}
	matches, err := f.FindAccountsByDomain(ctx, sc, domains, 10)
	if err != nil {
		return nil, entityErr(err, c, crm.EntityAccount, opUpsert, "")
	}
	var b builder
	switch len(matches) {
	case 0:
		if strings.TrimSpace(in.Name) == "" {
			return nil, crm.Invalid("record.name", "is required to create an account (no account matches upsert_on)")
		}
		a, err := w.CreateAccount(ctx, sc, in)
		if err != nil {
			return nil, entityErr(inRequest(err, "record."), c, crm.EntityAccount, opUpsert, "")
		}
		return &crmv1.UpsertAccountResponse{Record: b.account(a, false), Created: true, Warnings: []string{}}, nil
	case 1:
		a, err := w.UpdateAccount(ctx, sc, matches[0].ID, in, set)
		if err != nil {
			return nil, entityErr(inRequest(err, "record."), c, crm.EntityAccount, opUpsert, matches[0].ID)
		}
		return &crmv1.UpsertAccountResponse{Record: b.account(a, false), Warnings: []string{}}, nil
	}
	matched := make([]string, len(matches))
	for i, a := range matches {
		matched[i] = a.ID
	}
	return nil, apierr.New(codes.AlreadyExists, "UPSERT_AMBIGUOUS", "more than one account matches upsert_on (%s): %s", key, strings.Join(matched, ", "))
}

// accountInput validates an account body and names the fields it writes:
// those of mask (update) or, without one, those that are set.
func accountInput(r *crmv1.Account, mask []string) (crm.Account, crm.Fields, error) {
	in := accountFromProto(r)
	set := crm.Fields{}
	writable := map[string]bool{}
	for _, f := range crm.AccountWritable {
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
				bad("update_mask", "%q is not a writable account field; use %s", clip(p), strings.Join(crm.AccountWritable, ", "))
				continue
			}
			set[top] = true
		}
	} else {
		set = in.SetFields()
	}
	for f, s := range map[string]string{
		"record.name": in.Name, "record.website": in.Website, "record.domain": in.Domain,
	} {
		if len(s) > maxContactText {
			bad(f, "is longer than %d characters", maxContactText)
		}
	}
	if len(in.Description) > 10*maxContactText {
		bad("record.description", "is longer than %d characters", 10*maxContactText)
	}
	if in.Website != "" && crm.DomainOf(in.Website) == "" {
		bad("record.website", "%q is not a website (e.g. https://acme.example)", clip(in.Website))
	}
	if in.Domain != "" && (crm.DomainOf(in.Domain) == "" || strings.Contains(in.Domain, "/")) {
		bad("record.domain", "%q is not a domain (e.g. acme.example)", clip(in.Domain))
	}
	if in.OwnerID != "" && !idName.match(in.OwnerID) {
		bad("record.owner_id", "%q is not a valid id (letters, digits, _ and -, at most 128)", clip(in.OwnerID))
	}
	for f, n := range map[string]int{"record.emails": len(in.Emails), "record.phones": len(in.Phones), "record.addresses": len(in.Addresses)} {
		if n > maxContactItems {
			bad(f, "has more than %d entries", maxContactItems)
		}
	}
	primaries := 0
	for i, e := range in.Emails {
		if !isEmail(e.Address) {
			bad(fmt.Sprintf("record.emails[%d].address", i), "%q is not an email address", clip(e.Address))
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
	for k := range in.CustomFields {
		if !propName.match(k) {
			bad("record.custom_fields", "%q is not a valid property id", clip(k))
		}
	}
	if len(v) > 0 {
		sort.Slice(v, func(i, j int) bool { return v[i].Field < v[j].Field })
		return in, nil, &crm.ValidationError{Violations: v}
	}
	if !set[crm.AccountCustomFields] {
		in.CustomFields = nil
	}
	return in, set, nil
}
