package unified

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/paging"
)

// Opportunities (deals) and their pipelines, on the contact template:
// input validated before the provider is called, the opportunity schema
// from the schema cache, capabilities by type assertion (501 naming
// entity, operation and provider), conversions between protobuf and crm.

const opListPipelines = "list pipelines"

// opportunityFieldNames are the Opportunity message's field names.
var opportunityFieldNames = func() map[string]bool {
	m := map[string]bool{}
	fs := (&crmv1.Opportunity{}).ProtoReflect().Descriptor().Fields()
	for i := 0; i < fs.Len(); i++ {
		m[string(fs.Get(i).Name())] = true
	}
	return m
}()

// applyOpportunity clears the fields of o the selection leaves out (and
// the custom fields it does not name).
func applyOpportunity(s *fieldSelection, o *crmv1.Opportunity) {
	if s == nil {
		return
	}
	s.apply(o.ProtoReflect())
	if s.custom != nil && o.GetCustomFields() != nil {
		for k := range o.CustomFields.Fields {
			if !s.custom[k] {
				delete(o.CustomFields.Fields, k)
			}
		}
	}
}

// opportunitySchema is the opportunity object's schema (cached).
func opportunitySchema(ctx context.Context, c call, want func(crm.Schema) bool) (crm.Schema, error) {
	if want == nil {
		want = func(crm.Schema) bool { return true }
	}
	sc, err := schemaWhere(ctx, c, crm.EntityOpportunity, want)
	if err != nil {
		return sc, crm.AsUnsupported(err, crm.EntityOpportunity, "read the properties of", providerName(c.p))
	}
	return sc, nil
}

// ListPipelines implements CrmService.
func (s *Service) ListPipelines(ctx context.Context, req *crmv1.ListPipelinesRequest) (*crmv1.ListPipelinesResponse, error) {
	pr, err := paging.Parse("pipelines", req.GetPageSize(), req.GetCursor())
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	r, err := entityCap[crm.PipelineReader](c, crm.EntityOpportunity, opListPipelines)
	if err != nil {
		return nil, err
	}
	ps, err := r.ListPipelines(ctx)
	if err != nil {
		return nil, entityErr(err, c, crm.EntityOpportunity, opListPipelines, "")
	}
	page, next := paging.Keyed(pr, ps, func(p crm.Pipeline) string { return p.ID })
	out := &crmv1.ListPipelinesResponse{Items: make([]*crmv1.Pipeline, len(page)), NextCursor: next, HasNextPage: next != ""}
	for i, p := range page {
		out.Items[i] = pipelineToProto(p)
	}
	return out, nil
}

// ListOpportunities implements CrmService.
func (s *Service) ListOpportunities(ctx context.Context, req *crmv1.ListOpportunitiesRequest) (*crmv1.ListOpportunitiesResponse, error) {
	l, err := openEntityList[crm.OpportunityReader](ctx, s, req, crm.EntityOpportunity, "opportunities", opportunityFieldNames, opportunitySchema)
	if err != nil {
		return nil, err
	}
	pg, err := l.reader.ListOpportunities(ctx, l.schema, l.query)
	if err != nil {
		return nil, entityErr(err, l.c, crm.EntityOpportunity, opList, "")
	}
	next := l.next(pg.NextCursor)
	out := &crmv1.ListOpportunitiesResponse{Items: make([]*crmv1.Opportunity, len(pg.Items)), NextCursor: next, HasNextPage: next != ""}
	var b builder
	for i, x := range pg.Items {
		out.Items[i] = b.opportunity(x, req.GetIncludeRawData())
		applyOpportunity(l.sel, out.Items[i])
	}
	return out, nil
}

// GetOpportunity implements CrmService.
func (s *Service) GetOpportunity(ctx context.Context, req *crmv1.GetOpportunityRequest) (*crmv1.GetOpportunityResponse, error) {
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	sel, err := parseFields("fields", req.GetFields(), opportunityFieldNames)
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	r, err := entityCap[crm.OpportunityReader](c, crm.EntityOpportunity, opGet)
	if err != nil {
		return nil, err
	}
	sc, err := opportunitySchema(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	o, err := r.GetOpportunity(ctx, sc, req.GetId())
	if err != nil {
		return nil, entityErr(err, c, crm.EntityOpportunity, opGet, req.GetId())
	}
	var b builder
	out := &crmv1.GetOpportunityResponse{Record: b.opportunity(o, false), Raw: b.rawStruct(o.Raw, true)}
	applyOpportunity(sel, out.Record)
	return out, nil
}

// CreateOpportunity implements CrmService.
func (s *Service) CreateOpportunity(ctx context.Context, req *crmv1.CreateOpportunityRequest) (*crmv1.CreateOpportunityResponse, error) {
	if req.GetRecord() == nil {
		return nil, crm.Invalid("record", "is required")
	}
	in, set, err := opportunityInput(req.GetRecord(), nil)
	if err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return nil, crm.Invalid("record", "is empty; set at least a name, a pipeline_id and a contact_id")
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := entityCap[crm.OpportunityWriter](c, crm.EntityOpportunity, opCreate)
	if err != nil {
		return nil, err
	}
	sc, err := checkedOpportunitySchema(ctx, c, in.CustomFields)
	if err != nil {
		return nil, err
	}
	if err := checkPipelineStage(ctx, c, in.PipelineID, in.StageID, set); err != nil {
		return nil, err
	}
	o, err := w.CreateOpportunity(ctx, sc, in)
	if err != nil {
		return nil, entityErr(inRequest(err, "record."), c, crm.EntityOpportunity, opCreate, "")
	}
	var b builder
	return &crmv1.CreateOpportunityResponse{Record: b.opportunity(o, false), Warnings: []string{}}, nil
}

// UpdateOpportunity implements CrmService.
func (s *Service) UpdateOpportunity(ctx context.Context, req *crmv1.UpdateOpportunityRequest) (*crmv1.UpdateOpportunityResponse, error) {
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	if req.GetRecord() == nil {
		return nil, crm.Invalid("record", "is required")
	}
	in, set, err := opportunityInput(req.GetRecord(), req.GetUpdateMask().GetPaths())
	if err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return nil, crm.Invalid("record", "nothing to update; set a field of the opportunity, or name it in update_mask to clear it")
	}
	if set[crm.OpportunityPipelineID] && !set[crm.OpportunityStageID] {
		return nil, crm.Invalid("record.stage_id", "is required when pipeline_id is written: name the stage of the pipeline the opportunity moves to")
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := entityCap[crm.OpportunityWriter](c, crm.EntityOpportunity, opUpdate)
	if err != nil {
		return nil, err
	}
	sc, err := checkedOpportunitySchema(ctx, c, in.CustomFields)
	if err != nil {
		return nil, err
	}
	pipeline := in.PipelineID
	if set[crm.OpportunityStageID] && !set[crm.OpportunityPipelineID] {
		// The stage must be one of the opportunity's current pipeline.
		r, err := entityCap[crm.OpportunityReader](c, crm.EntityOpportunity, opUpdate)
		if err != nil {
			return nil, err
		}
		cur, err := r.GetOpportunity(ctx, sc, req.GetId())
		if err != nil {
			return nil, entityErr(err, c, crm.EntityOpportunity, opUpdate, req.GetId())
		}
		pipeline = cur.PipelineID
	}
	if err := checkPipelineStage(ctx, c, pipeline, in.StageID, set); err != nil {
		return nil, err
	}
	o, err := w.UpdateOpportunity(ctx, sc, req.GetId(), in, set)
	if err != nil {
		return nil, entityErr(inRequest(err, "record."), c, crm.EntityOpportunity, opUpdate, req.GetId())
	}
	var b builder
	return &crmv1.UpdateOpportunityResponse{Record: b.opportunity(o, false), Warnings: []string{}}, nil
}

// DeleteOpportunity implements CrmService.
func (s *Service) DeleteOpportunity(ctx context.Context, req *crmv1.DeleteOpportunityRequest) (*crmv1.DeleteOpportunityResponse, error) {
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := entityCap[crm.OpportunityWriter](c, crm.EntityOpportunity, opDelete)
	if err != nil {
		return nil, err
	}
	if err := w.DeleteOpportunity(ctx, req.GetId()); err != nil {
		return nil, entityErr(err, c, crm.EntityOpportunity, opDelete, req.GetId())
	}
	return &crmv1.DeleteOpportunityResponse{}, nil
}

// CountOpportunities implements CrmService.
func (s *Service) CountOpportunities(ctx context.Context, req *crmv1.CountOpportunitiesRequest) (*crmv1.CountOpportunitiesResponse, error) {
	after, err := parseUpdatedAfter(req.GetUpdatedAfter())
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	r, err := entityCap[crm.OpportunityCounter](c, crm.EntityOpportunity, opCount)
	if err != nil {
		return nil, err
	}
	sc, err := opportunitySchema(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	n, err := r.CountOpportunities(ctx, sc, after)
	if err != nil {
		return nil, entityErr(err, c, crm.EntityOpportunity, opCount, "")
	}
	return &crmv1.CountOpportunitiesResponse{Count: clampTotal(n)}, nil
}

// checkPipelineStage checks, when a write sets pipeline_id or stage_id,
// that the pipeline exists and has the stage (one pipelines call; a
// provider without pipelines is not checked here).
func checkPipelineStage(ctx context.Context, c call, pipelineID, stageID string, set crm.Fields) error {
	if !set[crm.OpportunityPipelineID] && !set[crm.OpportunityStageID] {
		return nil
	}
	r, err := entityCap[crm.PipelineReader](c, crm.EntityOpportunity, opListPipelines)
	if err != nil {
		return nil //nolint:nilerr // the provider checks what it can
	}
	ps, err := r.ListPipelines(ctx)
	if err != nil {
		return entityErr(err, c, crm.EntityOpportunity, opListPipelines, "")
	}
	return stageInPipelines(ps, pipelineID, stageID)
}

// stageInPipelines checks pipelineID (when not empty) and stageID (when
// not empty) against the pipelines.
func stageInPipelines(ps []crm.Pipeline, pipelineID, stageID string) error {
	if pipelineID == "" {
		if stageID == "" {
			return nil
		}
		for _, p := range ps {
			if p.HasStage(stageID) {
				return nil
			}
		}
		return crm.Invalid("record.stage_id", "%q is not a stage of any pipeline (see GET /v0/unified/crm/opportunity/pipelines)", clip(stageID))
	}
	for _, p := range ps {
		if p.ID != pipelineID {
			continue
		}
		if stageID != "" && !p.HasStage(stageID) {
			names := make([]string, len(p.Stages))
			for i, st := range p.Stages {
				names[i] = st.ID + " (" + st.Name + ")"
			}
			return crm.Invalid("record.stage_id", "%q is not a stage of pipeline %q; its stages are %s", clip(stageID), clip(pipelineID), strings.Join(names, ", "))
		}
		return nil
	}
	return crm.Invalid("record.pipeline_id", "%q is not a pipeline (see GET /v0/unified/crm/opportunity/pipelines)", clip(pipelineID))
}

// checkedOpportunitySchema reads the opportunity schema and checks custom
// field values against its properties ("record.custom_fields.<id>").
func checkedOpportunitySchema(ctx context.Context, c call, custom map[string]any) (crm.Schema, error) {
	var verr error
	sc, err := opportunitySchema(ctx, c, func(sc crm.Schema) bool {
		verr = checkEntityCustomFields(sc, crm.EntityOpportunity, custom)
		return verr == nil
	})
	if err != nil {
		return sc, err
	}
	return sc, verr
}

// Limits and shapes of an opportunity write.
var (
	decimalAmount = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)
	currencyCode  = regexp.MustCompile(`^[A-Z]{3}$`)
)

const (
	maxOpportunityText = 1000
	maxAmountLen       = 40
)

// opportunityStatuses are the statuses an opportunity can have.
var opportunityStatuses = map[string]bool{crm.StatusOpen: true, crm.StatusWon: true, crm.StatusLost: true, crm.StatusAbandoned: true}

// opportunityInput validates an opportunity body and names the fields it
// writes: those of mask (update) or, without one, those that are set.
func opportunityInput(r *crmv1.Opportunity, mask []string) (crm.Opportunity, crm.Fields, error) {
	in := opportunityFromProto(r)
	set := crm.Fields{}
	writable := map[string]bool{}
	for _, f := range crm.OpportunityWritable {
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
				bad("update_mask", "%q is not a writable opportunity field; use %s", clip(p), strings.Join(crm.OpportunityWritable, ", "))
				continue
			}
			set[top] = true
		}
	} else {
		set = in.SetFields()
	}
	if len(in.Name) > maxOpportunityText {
		bad("record.name", "is longer than %d characters", maxOpportunityText)
	}
	if in.Status != "" && !opportunityStatuses[in.Status] {
		bad("record.status", "%q is not a status; use open, won, lost or abandoned", clip(in.Status))
	}
	if set[crm.OpportunityStatus] && in.Status == "" {
		bad("record.status", "cannot be cleared; use open, won, lost or abandoned")
	}
	if a := in.Amount; a != nil {
		if len(a.Amount) > maxAmountLen || !decimalAmount.MatchString(a.Amount) {
			bad("record.amount.amount", "%q is not a decimal number (digits, an optional '-' and '.', no exponent: e.g. 1250.50)", clip(a.Amount))
		}
		if a.CurrencyCode != "" && !currencyCode.MatchString(a.CurrencyCode) {
			bad("record.amount.currency_code", "%q is not an ISO 4217 currency code (three capital letters, e.g. USD)", clip(a.CurrencyCode))
		}
	}
	if in.CloseDate != "" {
		if _, err := time.Parse(time.DateOnly, in.CloseDate); err != nil {
			bad("record.close_date", "%q is not a date (YYYY-MM-DD)", clip(in.CloseDate))
		}
	}
	for f, id := range map[string]string{
		"record.pipeline_id": in.PipelineID, "record.stage_id": in.StageID, "record.owner_id": in.OwnerID,
		"record.contact_id": in.ContactID, "record.account_id": in.AccountID,
	} {
		if id != "" && !idName.match(id) {
			bad(f, "%q is not a valid id (letters, digits, _ and -, at most 128)", clip(id))
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
	if !set[crm.OpportunityCustomFields] {
		in.CustomFields = nil
	}
	return in, set, nil
}

// Conversions between crm and protobuf.

func (b *builder) opportunity(o crm.Opportunity, raw bool) *crmv1.Opportunity {
	out := &crmv1.Opportunity{
		Id:           o.ID,
		Name:         validUTF8(o.Name),
		Status:       o.Status,
		PipelineId:   o.PipelineID,
		StageId:      o.StageID,
		CloseDate:    o.CloseDate,
		OwnerId:      o.OwnerID,
		ContactId:    o.ContactID,
		AccountId:    o.AccountID,
		CustomFields: b.toStruct(orEmpty(o.CustomFields)),
		CreatedAt:    b.ts(o.CreatedAt),
		UpdatedAt:    b.ts(o.UpdatedAt),
		RawData:      b.rawStruct(o.Raw, raw),
	}
	if o.Amount != nil {
		out.Amount = &crmv1.Money{CurrencyCode: o.Amount.CurrencyCode, Amount: o.Amount.Amount}
	}
	return out
}

// opportunityFromProto is the writable part of an opportunity.
func opportunityFromProto(p *crmv1.Opportunity) crm.Opportunity {
	o := crm.Opportunity{
		Name:       p.GetName(),
		Status:     p.GetStatus(),
		PipelineID: p.GetPipelineId(),
		StageID:    p.GetStageId(),
		CloseDate:  p.GetCloseDate(),
		OwnerID:    p.GetOwnerId(),
		ContactID:  p.GetContactId(),
		AccountID:  p.GetAccountId(),
	}
	if a := p.GetAmount(); a != nil {
		o.Amount = &crm.Money{CurrencyCode: a.GetCurrencyCode(), Amount: a.GetAmount()}
	}
	if p.GetCustomFields() != nil {
		o.CustomFields = p.GetCustomFields().AsMap()
	}
	return o
}

func pipelineToProto(p crm.Pipeline) *crmv1.Pipeline {
	out := &crmv1.Pipeline{Id: p.ID, Name: validUTF8(p.Name), Stages: make([]*crmv1.PipelineStage, len(p.Stages))}
	for i, s := range p.Stages {
		out.Stages[i] = &crmv1.PipelineStage{Id: s.ID, Name: validUTF8(s.Name), Position: int32(min(s.Position, 1<<30))} //nolint:gosec // bounded
	}
	return out
}
