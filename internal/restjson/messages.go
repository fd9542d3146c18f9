package restjson

import (
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// The writers below follow protojson with UseProtoNames and
// EmitUnpopulated: every field in declaration (field number) order under
// its proto name, unset messages as null, empty lists as [], zero scalars
// written out. layout.go checks at start-up that the generated descriptors
// still have exactly these fields; the fuzz test checks the output.

// message writes the messages the fast path knows and fails on others.
func (e *encoder) message(v any) {
	switch m := v.(type) {
	case *crmv1.GetRecordResponse:
		e.getRecordResponse(m)
	case *crmv1.ListRecordsResponse:
		e.listRecordsResponse(m)
	case *crmv1.CreateRecordResponse:
		e.recordWithWarnings(m.GetRecord(), m.GetWarnings())
	case *crmv1.UpdateRecordResponse:
		e.recordWithWarnings(m.GetRecord(), m.GetWarnings())
	case *crmv1.SearchRecordsResponse:
		e.searchRecordsResponse(m)
	case *crmv1.ListPropertiesResponse:
		e.listPropertiesResponse(m)
	case *crmv1.Property: // GetProperty, CreateProperty, UpdateProperty bodies
		e.property(m)
	case *crmv1.Object: // GetObject, CreateObject, UpdateObject bodies
		e.object(m)
	default:
		e.fail()
	}
}

// carriesRecords tells whether v is an answer with records, whose
// properties may be in their unknown fields.
func carriesRecords(v any) bool {
	switch v.(type) {
	case *crmv1.GetRecordResponse, *crmv1.ListRecordsResponse, *crmv1.CreateRecordResponse,
		*crmv1.UpdateRecordResponse, *crmv1.SearchRecordsResponse:
		return true
	}
	return false
}

func (e *encoder) getRecordResponse(m *crmv1.GetRecordResponse) {
	e.b = append(e.b, `{"record":`...)
	orNull(e, m.GetRecord(), (*encoder).record)
	e.b = append(e.b, '}')
}

func (e *encoder) recordWithWarnings(r *crmv1.Record, warnings []string) {
	e.b = append(e.b, `{"record":`...)
	orNull(e, r, (*encoder).record)
	e.b = append(e.b, `,"warnings":`...)
	e.strings(warnings)
	e.b = append(e.b, '}')
}

func (e *encoder) listRecordsResponse(m *crmv1.ListRecordsResponse) {
	e.recordPage(m.GetItems(), m.GetNextCursor(), m.GetHasNextPage())
	e.b = append(e.b, '}')
}

func (e *encoder) searchRecordsResponse(m *crmv1.SearchRecordsResponse) {
	e.recordPage(m.GetItems(), m.GetNextCursor(), m.GetHasNextPage())
	e.b = append(e.b, `,"total":`...)
	e.int64(m.GetTotal())
	e.b = append(e.b, '}')
}

// recordPage writes the fields list and search responses share, leaving
// the object open.
func (e *encoder) recordPage(items []*crmv1.Record, cursor string, hasNext bool) {
	e.b = append(e.b, `{"items":`...)
	elements(e, items, (*encoder).record)
	e.b = append(e.b, `,"next_cursor":`...)
	e.string(cursor)
	e.b = append(e.b, `,"has_next_page":`...)
	e.bool(hasNext)
}

// elements writes a repeated message field. A nil element fails: protojson
// does not write it as null, and no handler returns one.
func elements[T any](e *encoder, items []*T, write func(*encoder, *T)) {
	e.b = append(e.b, '[')
	for i, x := range items {
		if x == nil || !e.ok {
			e.fail()
			return
		}
		if i > 0 {
			e.b = append(e.b, ',')
		}
		write(e, x)
	}
	e.b = append(e.b, ']')
}

func (e *encoder) record(r *crmv1.Record) {
	e.b = append(e.b, `{"id":`...)
	e.string(r.GetId())
	e.b = append(e.b, `,"object_name":`...)
	e.string(r.GetObjectName())
	e.b = append(e.b, `,"properties":`...)
	if u := r.ProtoReflect().GetUnknown(); len(u) != 0 {
		if !e.jsonProperties(r, u) {
			e.splicedProperties(r, u)
		}
	} else {
		orNull(e, r.GetProperties(), (*encoder).structValue)
	}
	e.b = append(e.b, `,"owner_ids":`...)
	e.strings(r.GetOwnerIds())
	e.b = append(e.b, `,"follower_ids":`...)
	e.strings(r.GetFollowerIds())
	e.b = append(e.b, `,"created_at":`...)
	e.timestamp(r.GetCreatedAt())
	e.b = append(e.b, `,"updated_at":`...)
	e.timestamp(r.GetUpdatedAt())
	e.b = append(e.b, `,"raw_data":`...)
	orNull(e, r.GetRawData(), (*encoder).structValue)
	e.b = append(e.b, '}')
}

func (e *encoder) listPropertiesResponse(m *crmv1.ListPropertiesResponse) {
	e.b = append(e.b, `{"items":`...)
	elements(e, m.GetItems(), (*encoder).property)
	e.b = append(e.b, '}')
}

func (e *encoder) property(p *crmv1.Property) {
	e.b = append(e.b, `{"id":`...)
	e.string(p.GetId())
	e.b = append(e.b, `,"label":`...)
	e.string(p.GetLabel())
	e.b = append(e.b, `,"description":`...)
	e.string(p.GetDescription())
	e.b = append(e.b, `,"type":`...)
	e.string(p.GetType())
	e.b = append(e.b, `,"is_required":`...)
	e.bool(p.GetIsRequired())
	e.b = append(e.b, `,"options":`...)
	elements(e, p.GetOptions(), (*encoder).option)
	e.b = append(e.b, `,"precision":`...)
	e.int32(p.GetPrecision())
	e.b = append(e.b, `,"scale":`...)
	e.int32(p.GetScale())
	e.b = append(e.b, `,"group_name":`...)
	e.string(p.GetGroupName())
	e.b = append(e.b, `,"raw_details":`...)
	orNull(e, p.GetRawDetails(), (*encoder).structValue)
	e.b = append(e.b, '}')
}

func (e *encoder) option(o *crmv1.Option) {
	e.b = append(e.b, `{"label":`...)
	e.string(o.GetLabel())
	e.b = append(e.b, `,"value":`...)
	e.string(o.GetValue())
	e.b = append(e.b, `,"description":`...)
	e.string(o.GetDescription())
	e.b = append(e.b, `,"hidden":`...)
	e.bool(o.GetHidden())
	e.b = append(e.b, '}')
}

// object is GetObject's response body (response_body: "object").
func (e *encoder) object(o *crmv1.Object) {
	e.b = append(e.b, `{"name":`...)
	e.string(o.GetName())
	e.b = append(e.b, `,"type":`...)
	e.string(o.GetType())
	e.b = append(e.b, `,"labels":`...)
	orNull(e, o.GetLabels(), (*encoder).labels)
	e.b = append(e.b, `,"description":`...)
	e.string(o.GetDescription())
	e.b = append(e.b, `,"primary_field_id":`...)
	e.string(o.GetPrimaryFieldId())
	e.b = append(e.b, `,"created_at":`...)
	e.timestamp(o.GetCreatedAt())
	e.b = append(e.b, `,"updated_at":`...)
	e.timestamp(o.GetUpdatedAt())
	e.b = append(e.b, `,"raw_data":`...)
	orNull(e, o.GetRawData(), (*encoder).structValue)
	e.b = append(e.b, '}')
}

func (e *encoder) labels(l *crmv1.Labels) {
	e.b = append(e.b, `{"singular":`...)
	e.string(l.GetSingular())
	e.b = append(e.b, `,"plural":`...)
	e.string(l.GetPlural())
	e.b = append(e.b, '}')
}
