package unified

import (
	"context"

	"github.com/crmgate/crmgate/internal/crm"
)

// entityList is what every entity list (contacts, accounts,
// opportunities) does before and after its provider call: page size,
// updated_after and fields checked, the connection opened, the cursor
// checked against the list and its filter (a page of another
// updated_after is another list), the capability found and the entity's
// schema read; after the call, the next cursor encoded.
type entityList[R any] struct {
	c      call
	reader R
	schema crm.Schema
	query  crm.EntityQuery
	sel    *fieldSelection
	target string
	filter string
}

// entityListRequest is the part of a list request entityList reads.
type entityListRequest interface {
	GetPageSize() int32
	GetUpdatedAfter() string
	GetFields() []string
	GetCursor() string
	GetIncludeRawData() bool
}

func openEntityList[R any](ctx context.Context, s *Service, req entityListRequest, entity, target string, known map[string]bool,
	schema func(context.Context, call, func(crm.Schema) bool) (crm.Schema, error)) (entityList[R], error) {
	var l entityList[R]
	n, err := pageSize(req.GetPageSize())
	if err != nil {
		return l, err
	}
	after, err := parseUpdatedAfter(req.GetUpdatedAfter())
	if err != nil {
		return l, err
	}
	if l.sel, err = parseFields("fields", req.GetFields(), known); err != nil {
		return l, err
	}
	if l.c, err = s.open(ctx); err != nil {
		return l, err
	}
	l.target, l.filter = target, req.GetUpdatedAfter()
	pc, err := decodeCursor(req.GetCursor(), l.c.connID, l.target, l.filter)
	if err != nil {
		return l, err
	}
	if l.reader, err = entityCap[R](l.c, entity, opList); err != nil {
		return l, err
	}
	if l.schema, err = schema(ctx, l.c, nil); err != nil {
		return l, err
	}
	l.query = crm.EntityQuery{Cursor: pc, PageSize: n, UpdatedAfter: after, IncludeRaw: req.GetIncludeRawData()}
	return l, nil
}

// next is the page's next_cursor from the provider's.
func (l entityList[R]) next(providerCursor string) string {
	return encodeCursor(l.c.connID, l.target, l.filter, providerCursor)
}
