package unified

import (
	"context"
	"fmt"
	"math"
	"strings"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
)

const maxQueryLen = 1000

// recordInput validates a record body against the object's (cached) schema.
func recordInput(ctx context.Context, c call, object string, in *crmv1.RecordInput, partial bool) (crm.RecordInput, error) {
	if in == nil {
		return crm.RecordInput{}, crm.Invalid("record", "is required")
	}
	out := crm.RecordInput{Properties: in.GetProperties().AsMap(), OwnerIDs: in.GetOwnerIds(), FollowerIDs: in.GetFollowerIds()}
	for i, id := range out.OwnerIDs {
		if err := checkID("record.owner_ids", id); err != nil {
			return out, crm.Invalid("record.owner_ids", "[%d] %q is not a valid user id", i, clip(id))
		}
	}
	for i, id := range out.FollowerIDs {
		if err := checkID("record.follower_ids", id); err != nil {
			return out, crm.Invalid("record.follower_ids", "[%d] %q is not a valid user id", i, clip(id))
		}
	}
	if partial && len(out.Properties) == 0 && len(out.OwnerIDs) == 0 && len(out.FollowerIDs) == 0 {
		return out, crm.Invalid("record", "nothing to update; set properties, owner_ids or follower_ids")
	}
	var verr error
	_, err := schemaWhere(ctx, c, object, func(sc crm.Schema) bool {
		verr = validateRecord(sc, out.Properties, partial)
		return verr == nil
	})
	if err != nil {
		return out, err
	}
	return out, verr
}

func recordNotFound(err error, object, id string) error {
	return notFound(err, "record %q of object %q not found", id, object)
}

// CreateRecord implements CrmService.
func (s *Service) CreateRecord(ctx context.Context, req *crmv1.CreateRecordRequest) (*crmv1.CreateRecordResponse, error) {
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		return nil, err
	}
	if req.GetRecord() == nil {
		return nil, crm.Invalid("record", "is required")
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := capability[crm.RecordWriter](c.p)
	if err != nil {
		return nil, err
	}
	in, err := recordInput(ctx, c, req.GetObjectName(), req.GetRecord(), false)
	if err != nil {
		return nil, err
	}
	r, err := w.CreateRecord(ctx, req.GetObjectName(), in)
	if err != nil {
		return nil, inRequest(err, "record.")
	}
	out, err := recordToProto(r, false)
	if err != nil {
		return nil, fmt.Errorf("record %q of %q was created, but its answer cannot be converted: %w", r.ID, req.GetObjectName(), err)
	}
	return &crmv1.CreateRecordResponse{Record: out, Warnings: []string{}}, nil
}

// GetRecord implements CrmService.
func (s *Service) GetRecord(ctx context.Context, req *crmv1.GetRecordRequest) (*crmv1.GetRecordResponse, error) {
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		return nil, err
	}
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	rr, err := capability[crm.RecordReader](c.p)
	if err != nil {
		return nil, err
	}
	r, err := rr.GetRecord(ctx, req.GetObjectName(), req.GetId())
	if err != nil {
		return nil, recordNotFound(err, req.GetObjectName(), req.GetId())
	}
	out, err := recordToProto(r, req.GetIncludeRawData())
	if err != nil {
		return nil, err
	}
	return &crmv1.GetRecordResponse{Record: out}, nil
}

// UpdateRecord implements CrmService.
func (s *Service) UpdateRecord(ctx context.Context, req *crmv1.UpdateRecordRequest) (*crmv1.UpdateRecordResponse, error) {
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		return nil, err
	}
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	if req.GetRecord() == nil {
		return nil, crm.Invalid("record", "is required")
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := capability[crm.RecordWriter](c.p)
	if err != nil {
		return nil, err
	}
	in, err := recordInput(ctx, c, req.GetObjectName(), req.GetRecord(), true)
	if err != nil {
		return nil, err
	}
	r, err := w.UpdateRecord(ctx, req.GetObjectName(), req.GetId(), in)
	if err != nil {
		return nil, recordNotFound(inRequest(err, "record."), req.GetObjectName(), req.GetId())
	}
	out, err := recordToProto(r, false)
	if err != nil {
		return nil, fmt.Errorf("record %q of %q was updated, but its answer cannot be converted: %w", r.ID, req.GetObjectName(), err)
	}
	return &crmv1.UpdateRecordResponse{Record: out, Warnings: []string{}}, nil
}

// DeleteRecord implements CrmService.
func (s *Service) DeleteRecord(ctx context.Context, req *crmv1.DeleteRecordRequest) (*crmv1.DeleteRecordResponse, error) {
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		return nil, err
	}
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := capability[crm.RecordWriter](c.p)
	if err != nil {
		return nil, err
	}
	if err := w.DeleteRecord(ctx, req.GetObjectName(), req.GetId()); err != nil {
		return nil, recordNotFound(err, req.GetObjectName(), req.GetId())
	}
	return &crmv1.DeleteRecordResponse{}, nil
}

// page runs a list or search with the cursor envelope applied.
func (s *Service) page(ctx context.Context, object, query, rawCursor string, size int32, includeRaw bool,
	run func(crm.RecordReader, crm.RecordQuery) (crm.RecordPage, error),
) (call, crm.RecordPage, error) {
	if err := checkObjectName("object_name", object); err != nil {
		return call{}, crm.RecordPage{}, err
	}
	if len(query) > maxQueryLen {
		return call{}, crm.RecordPage{}, crm.Invalid("query", "is longer than %d characters", maxQueryLen)
	}
	n, err := pageSize(size)
	if err != nil {
		return call{}, crm.RecordPage{}, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return call{}, crm.RecordPage{}, err
	}
	pc, err := decodeCursor(rawCursor, c.connID, "records:"+object, query)
	if err != nil {
		return c, crm.RecordPage{}, err
	}
	rr, err := capability[crm.RecordReader](c.p)
	if err != nil {
		return c, crm.RecordPage{}, err
	}
	pg, err := run(rr, crm.RecordQuery{Query: query, Cursor: pc, PageSize: n, IncludeRaw: includeRaw})
	if err != nil {
		return c, pg, notFound(err, "object %q not found", object)
	}
	pg.NextCursor = encodeCursor(c.connID, "records:"+object, query, pg.NextCursor)
	return c, pg, nil
}

// ListRecords implements CrmService.
func (s *Service) ListRecords(ctx context.Context, req *crmv1.ListRecordsRequest) (*crmv1.ListRecordsResponse, error) {
	_, pg, err := s.page(ctx, req.GetObjectName(), "", req.GetCursor(), req.GetPageSize(), req.GetIncludeRawData(), func(r crm.RecordReader, q crm.RecordQuery) (crm.RecordPage, error) {
		return r.ListRecords(ctx, req.GetObjectName(), q)
	})
	if err != nil {
		return nil, err
	}
	items, err := records(pg.Items, req.GetIncludeRawData())
	if err != nil {
		return nil, err
	}
	return &crmv1.ListRecordsResponse{Items: items, NextCursor: pg.NextCursor, HasNextPage: pg.NextCursor != ""}, nil
}

// SearchRecords implements CrmService.
func (s *Service) SearchRecords(ctx context.Context, req *crmv1.SearchRecordsRequest) (*crmv1.SearchRecordsResponse, error) {
	q := strings.TrimSpace(req.GetQuery())
	_, pg, err := s.page(ctx, req.GetObjectName(), q, req.GetCursor(), req.GetPageSize(), req.GetIncludeRawData(), func(r crm.RecordReader, rq crm.RecordQuery) (crm.RecordPage, error) {
		return r.SearchRecords(ctx, req.GetObjectName(), rq)
	})
	if err != nil {
		return nil, err
	}
	items, err := records(pg.Items, req.GetIncludeRawData())
	if err != nil {
		return nil, err
	}
	return &crmv1.SearchRecordsResponse{Items: items, NextCursor: pg.NextCursor, HasNextPage: pg.NextCursor != "", Total: clampTotal(pg.Total)}, nil
}

// CreateRelation implements CrmService.
func (s *Service) CreateRelation(ctx context.Context, req *crmv1.CreateRelationRequest) (*crmv1.CreateRelationResponse, error) {
	var v []crm.FieldViolation
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		v = append(v, violations(err)...)
	}
	for _, f := range []struct{ name, val string }{
		{"record_id", req.GetRecordId()}, {"association_id", req.GetAssociationId()}, {"target_record_id", req.GetTargetRecordId()},
	} {
		if err := checkID(f.name, f.val); err != nil {
			v = append(v, violations(err)...)
		}
	}
	if len(v) > 0 {
		return nil, &crm.ValidationError{Violations: v}
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	a, err := capability[crm.AssociationManager](c.p)
	if err != nil {
		return nil, err
	}
	r, err := a.CreateRelation(ctx, crm.Relation{AssociationID: req.GetAssociationId(), SourceRecordID: req.GetRecordId(), TargetRecordID: req.GetTargetRecordId()})
	if err != nil {
		return nil, err
	}
	return &crmv1.CreateRelationResponse{Relation: relationToProto(r)}, nil
}

// ListRelations implements CrmService.
func (s *Service) ListRelations(ctx context.Context, req *crmv1.ListRelationsRequest) (*crmv1.ListRelationsResponse, error) {
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		return nil, err
	}
	if err := checkID("record_id", req.GetRecordId()); err != nil {
		return nil, err
	}
	n, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	target := "relations:" + req.GetRecordId()
	pc, err := decodeCursor(req.GetCursor(), c.connID, target, "")
	if err != nil {
		return nil, err
	}
	a, err := capability[crm.AssociationManager](c.p)
	if err != nil {
		return nil, err
	}
	pg, err := a.ListRelations(ctx, req.GetRecordId(), pc, n)
	if err != nil {
		return nil, recordNotFound(err, req.GetObjectName(), req.GetRecordId())
	}
	next := encodeCursor(c.connID, target, "", pg.NextCursor)
	out := &crmv1.ListRelationsResponse{Items: make([]*crmv1.Relation, 0, len(pg.Items)), NextCursor: next, HasNextPage: next != ""}
	for _, r := range pg.Items {
		out.Items = append(out.Items, relationToProto(r))
	}
	return out, nil
}

// DeleteRelation implements CrmService.
func (s *Service) DeleteRelation(ctx context.Context, req *crmv1.DeleteRelationRequest) (*crmv1.DeleteRelationResponse, error) {
	if err := checkID("relation_id", req.GetRelationId()); err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	a, err := capability[crm.AssociationManager](c.p)
	if err != nil {
		return nil, err
	}
	if err := a.DeleteRelation(ctx, req.GetRelationId()); err != nil {
		return nil, notFound(err, "relation %q not found", req.GetRelationId())
	}
	return &crmv1.DeleteRelationResponse{}, nil
}

// clampTotal is the provider's total as the API's int32 (-1, unknown,
// stays -1; a count beyond int32 is capped, which no CRM page reaches).
func clampTotal(n int64) int32 {
	return int32(min(n, math.MaxInt32)) //nolint:gosec // bounded above
}
