// Package unified implements crmgate.crm.v1.CrmService, the provider-neutral
// CRM API: it resolves the caller's connection to a provider, validates
// input (record writes against the cached object schema), calls the
// provider's capability interfaces and converts between protobuf and the
// crm domain types. Errors are returned as domain errors; the server's
// error interceptor maps them to statuses (internal/apierr).
package unified

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/grpc/codes"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/connections"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/paging"
)

// Service implements crmv1.CrmServiceServer.
type Service struct {
	crmv1.UnimplementedCrmServiceServer
	conns *connections.Resolver
	log   *slog.Logger
}

var _ crmv1.CrmServiceServer = (*Service)(nil)

// New returns the service.
func New(conns *connections.Resolver, log *slog.Logger) *Service {
	return &Service{conns: conns, log: log}
}

// call is one request's resolved connection.
type call struct {
	connID string
	p      crm.Provider
}

// open resolves the x-connection-id of the request to a provider.
func (s *Service) open(ctx context.Context) (call, error) {
	pr, ok := auth.FromContext(ctx)
	if !ok {
		return call{}, apierr.ErrMissingAPIKey
	}
	id := auth.MetadataValue(ctx, auth.HeaderConnectionID)
	if id == "" {
		return call{}, apierr.New(codes.InvalidArgument, "CONNECTION_ID_MISSING", "missing x-connection-id header")
	}
	if !idName.match(id) {
		return call{}, apierr.New(codes.InvalidArgument, "CONNECTION_ID_INVALID", "x-connection-id %q is not a valid connection id", clip(id))
	}
	p, err := s.conns.Open(ctx, pr.OrganisationID, id)
	if err != nil {
		return call{}, err
	}
	return call{connID: id, p: p}, nil
}

func capability[T any](p crm.Provider) (T, error) {
	c, ok := p.(T)
	if !ok {
		var zero T
		return zero, crm.ErrUnsupported
	}
	return c, nil
}

// notFound turns a provider's not-found into a message naming what.
func notFound(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var pe *crm.ProviderError
	if errors.Is(err, crm.ErrNotFound) && !errors.As(err, &pe) {
		return apierr.New(codes.NotFound, "NOT_FOUND", format, args...)
	}
	return err
}

// ListObjects implements CrmService.
func (s *Service) ListObjects(ctx context.Context, req *crmv1.ListObjectsRequest) (*crmv1.ListObjectsResponse, error) {
	t := req.GetType()
	if t != "" && t != string(crm.ObjectCustom) && t != string(crm.ObjectStandard) {
		return nil, crm.Invalid("type", "must be custom or standard, got %q", clip(t))
	}
	pr, err := paging.Parse("objects?type="+t, req.GetPageSize(), req.GetCursor())
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	r, err := capability[crm.SchemaReader](c.p)
	if err != nil {
		return nil, err
	}
	objs, err := r.ListObjects(ctx)
	if err != nil {
		return nil, err
	}
	// objs may be the schema cache's own slice: filter into a new one.
	kept := make([]crm.Object, 0, len(objs))
	for _, o := range objs {
		if t == "" || string(o.Type) == t {
			kept = append(kept, o)
		}
	}
	page, next := paging.Keyed(pr, kept, func(o crm.Object) string { return o.Name })
	out := &crmv1.ListObjectsResponse{Items: make([]*crmv1.Object, 0, len(page)), NextCursor: next, HasNextPage: next != ""}
	for _, o := range page {
		out.Items = append(out.Items, objectToProto(o, req.GetIncludeRawData()))
	}
	return out, nil
}

// CreateObject implements CrmService.
func (s *Service) CreateObject(ctx context.Context, req *crmv1.CreateObjectRequest) (*crmv1.CreateObjectResponse, error) {
	in := crm.ObjectInput{
		Name:           req.GetName(),
		Description:    req.GetDescription(),
		Labels:         crm.Labels{Singular: req.GetLabels().GetSingular(), Plural: req.GetLabels().GetPlural()},
		PrimaryFieldID: req.GetPrimaryFieldId(),
	}
	var v []crm.FieldViolation
	if err := checkObjectName("name", in.Name); err != nil {
		v = append(v, violations(err)...)
	}
	if strings.TrimSpace(in.Labels.Singular) == "" {
		v = append(v, crm.FieldViolation{Field: "labels.singular", Description: "is required"})
	}
	if strings.TrimSpace(in.Labels.Plural) == "" {
		v = append(v, crm.FieldViolation{Field: "labels.plural", Description: "is required"})
	}
	if len(req.GetFields()) == 0 {
		v = append(v, crm.FieldViolation{Field: "fields", Description: "at least one field is required"})
	}
	seen := map[string]bool{}
	primary := false
	for i, f := range req.GetFields() {
		p := propertyFromProto(f)
		field := fmt.Sprintf("fields[%d]", i)
		v = append(v, checkPropertyDef(field, p)...)
		if seen[p.ID] {
			v = append(v, crm.FieldViolation{Field: field + ".id", Description: fmt.Sprintf("duplicate field id %q", p.ID)})
		}
		seen[p.ID] = true
		primary = primary || p.ID == in.PrimaryFieldID
		in.Fields = append(in.Fields, p)
	}
	if in.PrimaryFieldID == "" {
		v = append(v, crm.FieldViolation{Field: "primary_field_id", Description: "is required"})
	} else if !primary && len(req.GetFields()) > 0 {
		v = append(v, crm.FieldViolation{Field: "primary_field_id", Description: fmt.Sprintf("%q is not the id of one of fields", clip(in.PrimaryFieldID))})
	}
	if len(v) > 0 {
		return nil, &crm.ValidationError{Violations: v}
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := capability[crm.SchemaWriter](c.p)
	if err != nil {
		return nil, err
	}
	sc, err := w.CreateObject(ctx, in)
	if err != nil {
		return nil, err
	}
	return &crmv1.CreateObjectResponse{Object: objectToProto(sc.Object, false)}, nil
}

// schema returns an object's schema (cached) with a NotFound naming it.
func schema(ctx context.Context, c call, object string) (crm.Schema, error) {
	r, err := capability[crm.SchemaReader](c.p)
	if err != nil {
		return crm.Schema{}, err
	}
	sc, err := r.GetSchema(ctx, object)
	return sc, notFound(err, "object %q not found", object)
}

// schemaWhere returns an object's schema, checked once more when the cached
// copy fails want: a schema changed moments ago through another replica may
// not have reached this replica's cache yet (invalidations are broadcast
// asynchronously), so a request that disagrees with the cached schema (an
// unknown property, a property that should not exist) is checked against
// the current one before it is refused. The check costs one shared-cache
// read and a provider call only when the copy was indeed stale
// (crm.SchemaRefresher), so bad requests cannot turn into provider calls.
// want is called on each schema considered, the last time on the one
// returned.
func schemaWhere(ctx context.Context, c call, object string, want func(crm.Schema) bool) (crm.Schema, error) {
	sc, err := schema(ctx, c, object)
	if err != nil || want(sc) {
		return sc, err
	}
	r, ok := c.p.(crm.SchemaRefresher)
	if !ok {
		return sc, nil
	}
	fresh, refreshed, err := r.RefreshSchema(ctx, object)
	if err != nil || !refreshed {
		return sc, nil //nolint:nilerr // the cached schema stands when a re-read fails
	}
	want(fresh) // the last call of want is always on the schema returned
	return fresh, nil
}

// has is a schemaWhere condition: the schema has (or, with !want, lacks)
// property id.
func has(id string, want bool) func(crm.Schema) bool {
	return func(s crm.Schema) bool { _, ok := s.Property(id); return ok == want }
}

// GetObject implements CrmService.
func (s *Service) GetObject(ctx context.Context, req *crmv1.GetObjectRequest) (*crmv1.GetObjectResponse, error) {
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := schema(ctx, c, req.GetObjectName())
	if err != nil {
		return nil, err
	}
	return &crmv1.GetObjectResponse{Object: objectToProto(sc.Object, req.GetIncludeRawData())}, nil
}

// UpdateObject implements CrmService.
func (s *Service) UpdateObject(ctx context.Context, req *crmv1.UpdateObjectRequest) (*crmv1.UpdateObjectResponse, error) {
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		return nil, err
	}
	if req.GetObject() == nil {
		return nil, crm.Invalid("object", "is required")
	}
	paths, err := maskPaths(req.GetUpdateMask().GetPaths(), map[string]bool{"labels": true, "labels.singular": true, "labels.plural": true, "description": true})
	if err != nil {
		return nil, err
	}
	u := req.GetObject()
	if len(paths) == 0 { // every field that is set
		if u.GetLabels() != nil {
			paths["labels.singular"], paths["labels.plural"] = u.GetLabels().GetSingular() != "", u.GetLabels().GetPlural() != ""
		}
		paths["description"] = u.GetDescription() != ""
	}
	if paths["labels"] {
		paths["labels.singular"], paths["labels.plural"] = true, true
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := capability[crm.SchemaWriter](c.p)
	if err != nil {
		return nil, err
	}
	var patch crm.ObjectPatch
	if paths["labels.singular"] || paths["labels.plural"] {
		cur, err := schema(ctx, c, req.GetObjectName())
		if err != nil {
			return nil, err
		}
		l := cur.Object.Labels
		if paths["labels.singular"] {
			l.Singular = u.GetLabels().GetSingular()
		}
		if paths["labels.plural"] {
			l.Plural = u.GetLabels().GetPlural()
		}
		if strings.TrimSpace(l.Singular) == "" || strings.TrimSpace(l.Plural) == "" {
			return nil, crm.Invalid("object.labels", "singular and plural cannot be empty")
		}
		patch.Labels = &l
	}
	if paths["description"] {
		d := u.GetDescription()
		patch.Description = &d
	}
	if patch.Labels == nil && patch.Description == nil {
		return nil, crm.Invalid("object", "nothing to update; set labels or description")
	}
	o, err := w.UpdateObject(ctx, req.GetObjectName(), patch)
	if err != nil {
		return nil, notFound(err, "object %q not found", req.GetObjectName())
	}
	return &crmv1.UpdateObjectResponse{Object: objectToProto(o, false)}, nil
}

// maskPaths checks an update mask against the allowed paths.
func maskPaths(in []string, allowed map[string]bool) (map[string]bool, error) {
	out := map[string]bool{}
	for _, p := range in {
		if !allowed[p] {
			return nil, crm.Invalid("update_mask", "field %q cannot be updated", clip(p))
		}
		out[p] = true
	}
	return out, nil
}

// ListProperties implements CrmService.
func (s *Service) ListProperties(ctx context.Context, req *crmv1.ListPropertiesRequest) (*crmv1.ListPropertiesResponse, error) {
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		return nil, err
	}
	pr, err := paging.Parse("properties?object="+req.GetObjectName(), req.GetPageSize(), req.GetCursor())
	if err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := schema(ctx, c, req.GetObjectName())
	if err != nil {
		return nil, err
	}
	page, next := paging.Keyed(pr, sc.Properties, func(p crm.Property) string { return p.ID })
	out := &crmv1.ListPropertiesResponse{Items: make([]*crmv1.Property, 0, len(page)), NextCursor: next, HasNextPage: next != ""}
	for _, p := range page {
		out.Items = append(out.Items, propertyToProto(p))
	}
	return out, nil
}

// CreateProperty implements CrmService.
func (s *Service) CreateProperty(ctx context.Context, req *crmv1.CreatePropertyRequest) (*crmv1.CreatePropertyResponse, error) {
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		return nil, err
	}
	if req.GetProperty() == nil {
		return nil, crm.Invalid("property", "is required")
	}
	p := propertyFromProto(req.GetProperty())
	if v := checkPropertyDef("property", p); len(v) > 0 {
		return nil, &crm.ValidationError{Violations: v}
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := capability[crm.SchemaWriter](c.p)
	if err != nil {
		return nil, err
	}
	sc, err := schemaWhere(ctx, c, req.GetObjectName(), has(p.ID, false))
	if err != nil {
		return nil, err
	}
	if _, exists := sc.Property(p.ID); exists {
		return nil, apierr.New(codes.AlreadyExists, "PROPERTY_EXISTS", "property %q of object %q already exists", p.ID, req.GetObjectName())
	}
	out, err := w.CreateProperty(ctx, req.GetObjectName(), p)
	if err != nil {
		return nil, inRequest(err, "property.")
	}
	return &crmv1.CreatePropertyResponse{Property: propertyToProto(out)}, nil
}

// GetProperty implements CrmService.
func (s *Service) GetProperty(ctx context.Context, req *crmv1.GetPropertyRequest) (*crmv1.GetPropertyResponse, error) {
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		return nil, err
	}
	if err := checkPropertyID("property_id", req.GetPropertyId()); err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := schemaWhere(ctx, c, req.GetObjectName(), has(req.GetPropertyId(), true))
	if err != nil {
		return nil, err
	}
	p, ok := sc.Property(req.GetPropertyId())
	if !ok {
		return nil, apierr.New(codes.NotFound, "NOT_FOUND", "property %q of object %q not found", req.GetPropertyId(), req.GetObjectName())
	}
	return &crmv1.GetPropertyResponse{Property: propertyToProto(p)}, nil
}

// UpdateProperty implements CrmService.
func (s *Service) UpdateProperty(ctx context.Context, req *crmv1.UpdatePropertyRequest) (*crmv1.UpdatePropertyResponse, error) {
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		return nil, err
	}
	if err := checkPropertyID("property_id", req.GetPropertyId()); err != nil {
		return nil, err
	}
	u := req.GetProperty()
	if u == nil {
		return nil, crm.Invalid("property", "is required")
	}
	paths, err := maskPaths(req.GetUpdateMask().GetPaths(), map[string]bool{
		"label": true, "description": true, "options": true, "is_required": true, "group_name": true,
		"id": true, "type": true, "raw_details": true, "precision": true, "scale": true,
	})
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		paths = map[string]bool{"label": u.GetLabel() != "", "description": u.GetDescription() != "", "options": len(u.GetOptions()) > 0,
			"is_required": u.GetIsRequired(), "group_name": u.GetGroupName() != ""}
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := capability[crm.SchemaWriter](c.p)
	if err != nil {
		return nil, err
	}
	sc, err := schemaWhere(ctx, c, req.GetObjectName(), has(req.GetPropertyId(), true))
	if err != nil {
		return nil, err
	}
	cur, ok := sc.Property(req.GetPropertyId())
	if !ok {
		return nil, apierr.New(codes.NotFound, "NOT_FOUND", "property %q of object %q not found", req.GetPropertyId(), req.GetObjectName())
	}
	if paths["id"] && u.GetId() != cur.ID {
		return nil, crm.Invalid("property.id", "a property's id cannot change")
	}
	if paths["type"] && u.GetType() != string(cur.Type) {
		return nil, crm.Invalid("property.type", "a property's type cannot change (is %s)", cur.Type)
	}
	var patch crm.PropertyPatch
	if paths["label"] {
		l := u.GetLabel()
		if strings.TrimSpace(l) == "" {
			return nil, crm.Invalid("property.label", "cannot be empty")
		}
		patch.Label = &l
	}
	if paths["description"] {
		d := u.GetDescription()
		patch.Description = &d
	}
	if paths["options"] {
		opts := optionsFromProto(u.GetOptions())
		probe := cur
		probe.Options = opts
		if v := checkPropertyDef("property", probe); len(v) > 0 {
			return nil, &crm.ValidationError{Violations: v}
		}
		patch.Options = &opts
	}
	if paths["is_required"] {
		r := u.GetIsRequired()
		patch.IsRequired = &r
	}
	if paths["group_name"] {
		g := u.GetGroupName()
		patch.GroupName = &g
	}
	if patch == (crm.PropertyPatch{}) {
		return nil, crm.Invalid("property", "nothing to update; set label, description, options, is_required or group_name")
	}
	out, err := w.UpdateProperty(ctx, req.GetObjectName(), req.GetPropertyId(), patch)
	if err != nil {
		return nil, notFound(inRequest(err, "property."), "property %q of object %q not found", req.GetPropertyId(), req.GetObjectName())
	}
	return &crmv1.UpdatePropertyResponse{Property: propertyToProto(out)}, nil
}

// DeleteProperty implements CrmService.
func (s *Service) DeleteProperty(ctx context.Context, req *crmv1.DeletePropertyRequest) (*crmv1.DeletePropertyResponse, error) {
	if err := checkObjectName("object_name", req.GetObjectName()); err != nil {
		return nil, err
	}
	if err := checkPropertyID("property_id", req.GetPropertyId()); err != nil {
		return nil, err
	}
	c, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	w, err := capability[crm.SchemaWriter](c.p)
	if err != nil {
		return nil, err
	}
	sc, err := schemaWhere(ctx, c, req.GetObjectName(), has(req.GetPropertyId(), true))
	if err != nil {
		return nil, err
	}
	if _, ok := sc.Property(req.GetPropertyId()); !ok {
		return nil, apierr.New(codes.NotFound, "NOT_FOUND", "property %q of object %q not found", req.GetPropertyId(), req.GetObjectName())
	}
	if sc.Object.PrimaryFieldID == req.GetPropertyId() {
		return nil, apierr.New(codes.FailedPrecondition, "PRIMARY_PROPERTY", "property %q is the primary field of object %q and cannot be deleted", req.GetPropertyId(), req.GetObjectName())
	}
	if err := w.DeleteProperty(ctx, req.GetObjectName(), req.GetPropertyId()); err != nil {
		return nil, notFound(err, "property %q of object %q not found", req.GetPropertyId(), req.GetObjectName())
	}
	return &crmv1.DeletePropertyResponse{}, nil
}

// ListAssociationSchemas implements CrmService.
func (s *Service) ListAssociationSchemas(ctx context.Context, req *crmv1.ListAssociationSchemasRequest) (*crmv1.ListAssociationSchemasResponse, error) {
	pr, err := paging.Parse("association_schemas", req.GetPageSize(), req.GetCursor())
	if err != nil {
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
	list, err := a.ListAssociationSchemas(ctx)
	if err != nil {
		return nil, err
	}
	page, next := paging.Keyed(pr, list, func(a crm.AssociationSchema) string { return a.ID })
	out := &crmv1.ListAssociationSchemasResponse{Items: make([]*crmv1.AssociationSchema, 0, len(page)), NextCursor: next, HasNextPage: next != ""}
	for _, as := range page {
		out.Items = append(out.Items, associationToProto(as))
	}
	return out, nil
}

// CreateAssociationSchema implements CrmService.
func (s *Service) CreateAssociationSchema(ctx context.Context, req *crmv1.CreateAssociationSchemaRequest) (*crmv1.CreateAssociationSchemaResponse, error) {
	var v []crm.FieldViolation
	if err := checkObjectName("source_object", req.GetSourceObject()); err != nil {
		v = append(v, violations(err)...)
	}
	if err := checkObjectName("target_object", req.GetTargetObject()); err != nil {
		v = append(v, violations(err)...)
	}
	if k := req.GetSuggestedKeyName(); k != "" {
		if err := checkObjectName("suggested_key_name", k); err != nil {
			v = append(v, violations(err)...)
		}
	}
	in := crm.AssociationInput{
		SourceObject: req.GetSourceObject(),
		TargetObject: req.GetTargetObject(),
		Key:          req.GetSuggestedKeyName(),
		SourceLabel:  firstNonEmpty(req.GetSourceLabel(), req.GetDisplayName()),
		TargetLabel:  firstNonEmpty(req.GetTargetLabel(), req.GetDisplayName()),
	}
	if in.SourceLabel == "" {
		v = append(v, crm.FieldViolation{Field: "source_label", Description: "is required (or set display_name)"})
	}
	if in.TargetLabel == "" {
		v = append(v, crm.FieldViolation{Field: "target_label", Description: "is required (or set display_name)"})
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
	for _, o := range []string{in.SourceObject, in.TargetObject} {
		if _, err := schema(ctx, c, o); err != nil {
			return nil, err
		}
	}
	as, warnings, err := a.CreateAssociationSchema(ctx, in)
	if err != nil {
		return nil, err
	}
	if warnings == nil {
		warnings = []string{}
	}
	return &crmv1.CreateAssociationSchemaResponse{AssociationSchema: associationToProto(as), Warnings: warnings}, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

func violations(err error) []crm.FieldViolation {
	if ve, ok := err.(*crm.ValidationError); ok { //nolint:errorlint // our own concrete type, never wrapped here
		return ve.Violations
	}
	return []crm.FieldViolation{{Description: err.Error()}}
}

// inRequest makes a provider's field violations name fields of the request
// body (e.g. "type" -> "property.type").
func inRequest(err error, prefix string) error {
	var ve *crm.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := &crm.ValidationError{Violations: make([]crm.FieldViolation, len(ve.Violations))}
	for i, v := range ve.Violations {
		if v.Field != "" && !strings.HasPrefix(v.Field, prefix) {
			v.Field = prefix + v.Field
		}
		out.Violations[i] = v
	}
	return out
}
