package ghl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/crmgate/crmgate/internal/crm"
)

// associationsPageSize is the limit used when paging through association
// schemas and the cap of a relations page.
const associationsPageSize = 100

// maxAssociationPages stops a runaway listing.
const maxAssociationPages = 1000

// ghlAssociation is GHL's association schema. The spec types the labels and
// keys as "object"; GHL sends strings.
type ghlAssociation struct {
	ID                string `json:"id"`
	Key               string `json:"key"`
	FirstObjectKey    any    `json:"firstObjectKey"`
	FirstObjectLabel  any    `json:"firstObjectLabel"`
	SecondObjectKey   any    `json:"secondObjectKey"`
	SecondObjectLabel any    `json:"secondObjectLabel"`
	AssociationType   any    `json:"associationType"`
}

// anyText renders a JSON value typed "object" in the spec as text.
func anyText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func associationFromGHL(raw json.RawMessage) (crm.AssociationSchema, error) {
	var a ghlAssociation
	if len(raw) == 0 || string(raw) == "null" {
		return crm.AssociationSchema{}, errors.New("no association in response")
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return crm.AssociationSchema{}, fmt.Errorf("decoding GHL association: %w", err)
	}
	if a.ID == "" {
		return crm.AssociationSchema{}, errors.New("GHL association has no id")
	}
	return crm.AssociationSchema{
		ID:           a.ID,
		Key:          a.Key,
		SourceObject: ObjectName(anyText(a.FirstObjectKey)),
		TargetObject: ObjectName(anyText(a.SecondObjectKey)),
		SourceLabel:  anyText(a.FirstObjectLabel),
		TargetLabel:  anyText(a.SecondObjectLabel),
		Raw:          append(json.RawMessage(nil), raw...),
	}, nil
}

// listItems extracts the items of a list answer whose shape the spec does
// not document: {"<name>": [...], "total": n}, or a bare array.
func listItems(raw []byte, name string) ([]json.RawMessage, int64, error) {
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) == nil {
		return arr, -1, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, -1, err
	}
	total := int64(-1)
	if t, ok := obj["total"]; ok {
		var f float64
		if json.Unmarshal(t, &f) == nil {
			total = int64(f)
		}
	}
	items, ok := obj[name]
	if !ok || string(items) == "null" {
		return nil, total, nil
	}
	if err := json.Unmarshal(items, &arr); err != nil {
		return nil, -1, fmt.Errorf("%q is not a list: %w", name, err)
	}
	return arr, total, nil
}

// ListAssociationSchemas returns every association schema of the location,
// paging through GET /associations/?locationId=&skip=&limit=.
func (c *Client) ListAssociationSchemas(ctx context.Context) ([]crm.AssociationSchema, error) {
	var out []crm.AssociationSchema
	skip := 0
	for range maxAssociationPages {
		q := c.locQuery()
		q.Set("skip", strconv.Itoa(skip))
		q.Set("limit", strconv.Itoa(associationsPageSize))
		raw, err := c.do(ctx, http.MethodGet, "/associations/", q, nil, nil)
		if err != nil {
			return nil, err
		}
		items, total, err := listItems(raw, "associations")
		if err != nil {
			return nil, badAnswer("list associations", err)
		}
		for _, it := range items {
			a, err := associationFromGHL(it)
			if err != nil {
				return nil, badAnswer("list associations", err)
			}
			out = append(out, a)
		}
		skip += len(items)
		if len(items) < associationsPageSize || total >= 0 && int64(skip) >= total {
			return out, nil
		}
	}
	return out, nil
}

// normalizeKey makes an association key GHL-shaped: lowercase letters,
// digits and single underscores.
func normalizeKey(s string) string {
	var b strings.Builder
	underscore := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			underscore = false
			continue
		}
		if !underscore && b.Len() > 0 {
			b.WriteByte('_')
			underscore = true
		}
	}
	return strings.TrimRight(b.String(), "_")
}

// CreateAssociationSchema links two objects: POST /associations/ with
// {locationId, key, firstObjectLabel, firstObjectKey, secondObjectLabel,
// secondObjectKey}; source is GHL's first object, target the second. The key
// defaults to "<source>_<target>" and is normalised to lowercase and
// underscores; empty labels default to the object names. Each adjustment is
// reported as a warning.
func (c *Client) CreateAssociationSchema(ctx context.Context, in crm.AssociationInput) (crm.AssociationSchema, []string, error) {
	var vs []crm.FieldViolation
	first, err := ObjectKey(in.SourceObject)
	if err != nil {
		vs = append(vs, crm.FieldViolation{Field: "source_object", Description: err.Error()})
	}
	second, err := ObjectKey(in.TargetObject)
	if err != nil {
		vs = append(vs, crm.FieldViolation{Field: "target_object", Description: err.Error()})
	}
	if len(vs) > 0 {
		return crm.AssociationSchema{}, nil, &crm.ValidationError{Violations: vs}
	}
	var warnings []string
	key := in.Key
	if key == "" {
		key = in.SourceObject + "_" + in.TargetObject
		warnings = append(warnings, fmt.Sprintf("key defaulted to %q", normalizeKey(key)))
	}
	if nk := normalizeKey(key); nk != key {
		if in.Key != "" {
			warnings = append(warnings, fmt.Sprintf("key %q normalised to %q", key, nk))
		}
		key = nk
	}
	if key == "" {
		return crm.AssociationSchema{}, nil, crm.Invalid("key", "needs at least one letter or digit")
	}
	srcLabel, tgtLabel := in.SourceLabel, in.TargetLabel
	if srcLabel == "" {
		srcLabel = ObjectName(first)
		warnings = append(warnings, fmt.Sprintf("source_label defaulted to %q", srcLabel))
	}
	if tgtLabel == "" {
		tgtLabel = ObjectName(second)
		warnings = append(warnings, fmt.Sprintf("target_label defaulted to %q", tgtLabel))
	}
	body := struct {
		LocationID        string `json:"locationId"`
		Key               string `json:"key"`
		FirstObjectLabel  string `json:"firstObjectLabel"`
		FirstObjectKey    string `json:"firstObjectKey"`
		SecondObjectLabel string `json:"secondObjectLabel"`
		SecondObjectKey   string `json:"secondObjectKey"`
	}{c.locationID, key, srcLabel, first, tgtLabel, second}
	raw, err := c.do(ctx, http.MethodPost, "/associations/", nil, body, nil)
	if err != nil {
		return crm.AssociationSchema{}, nil, err
	}
	a, err := associationFromGHL(unwrap(raw, "association"))
	if err != nil {
		return crm.AssociationSchema{}, nil, badAnswer("create association", err)
	}
	return a, warnings, nil
}

// unwrap returns raw[name] when raw is an object holding name, else raw.
func unwrap(raw []byte, name string) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		if inner, ok := obj[name]; ok && len(inner) > 0 && inner[0] == '{' {
			return inner
		}
	}
	return raw
}

// ghlRelation is GHL's relation (see the RelationCreate webhook).
type ghlRelation struct {
	ID             string `json:"id"`
	AssociationID  string `json:"associationId"`
	FirstRecordID  string `json:"firstRecordId"`
	SecondRecordID string `json:"secondRecordId"`
}

func relationFromGHL(raw json.RawMessage) (crm.Relation, error) {
	var r ghlRelation
	if err := json.Unmarshal(raw, &r); err != nil {
		return crm.Relation{}, fmt.Errorf("decoding GHL relation: %w", err)
	}
	if r.ID == "" {
		return crm.Relation{}, errors.New("GHL relation has no id")
	}
	return crm.Relation{ID: r.ID, AssociationID: r.AssociationID, SourceRecordID: r.FirstRecordID, TargetRecordID: r.SecondRecordID}, nil
}

// CreateRelation links two records: POST /associations/relations with
// {locationId, associationId, firstRecordId, secondRecordId}. The source
// record is sent as GHL's first record, so it must be a record of the
// association's first (source) object.
func (c *Client) CreateRelation(ctx context.Context, r crm.Relation) (crm.Relation, error) {
	var vs []crm.FieldViolation
	if r.AssociationID == "" {
		vs = append(vs, crm.FieldViolation{Field: "association_id", Description: "required"})
	}
	if r.SourceRecordID == "" {
		vs = append(vs, crm.FieldViolation{Field: "source_record_id", Description: "required"})
	}
	if r.TargetRecordID == "" {
		vs = append(vs, crm.FieldViolation{Field: "target_record_id", Description: "required"})
	}
	if len(vs) > 0 {
		return crm.Relation{}, &crm.ValidationError{Violations: vs}
	}
	body := struct {
		LocationID     string `json:"locationId"`
		AssociationID  string `json:"associationId"`
		FirstRecordID  string `json:"firstRecordId"`
		SecondRecordID string `json:"secondRecordId"`
	}{c.locationID, r.AssociationID, r.SourceRecordID, r.TargetRecordID}
	raw, err := c.do(ctx, http.MethodPost, "/associations/relations", nil, body, nil)
	if err != nil {
		return crm.Relation{}, err
	}
	rel, err := relationFromGHL(unwrap(raw, "relation"))
	if err != nil {
		return crm.Relation{}, badAnswer("create relation", err)
	}
	// Fill what GHL's answer may leave out.
	if rel.AssociationID == "" {
		rel.AssociationID = r.AssociationID
	}
	if rel.SourceRecordID == "" {
		rel.SourceRecordID = r.SourceRecordID
	}
	if rel.TargetRecordID == "" {
		rel.TargetRecordID = r.TargetRecordID
	}
	return rel, nil
}

// relationCursor is the decoded relations cursor: GHL's skip offset.
type relationCursor struct {
	Skip int `json:"s"`
}

// ListRelations pages through the relations of a record:
// GET /associations/relations/{recordId}?locationId=&skip=&limit=. The
// cursor encodes the skip offset; pageSize must be positive and is capped
// at 100.
func (c *Client) ListRelations(ctx context.Context, recordID string, cursor string, pageSize int) (crm.RelationPage, error) {
	if recordID == "" {
		return crm.RelationPage{}, crm.Invalid("record_id", "required")
	}
	if pageSize <= 0 {
		return crm.RelationPage{}, crm.Invalid("page_size", "must be positive")
	}
	limit := min(pageSize, associationsPageSize)
	var cur relationCursor
	if cursor != "" {
		if err := decodeCursorJSON(cursor, &cur); err != nil || cur.Skip < 0 {
			return crm.RelationPage{}, crm.Invalid("cursor", "malformed cursor")
		}
	}
	q := c.locQuery()
	q.Set("skip", strconv.Itoa(cur.Skip))
	q.Set("limit", strconv.Itoa(limit))
	raw, err := c.do(ctx, http.MethodGet, "/associations/relations/"+seg(recordID), q, nil, nil)
	if err != nil {
		return crm.RelationPage{}, err
	}
	items, total, err := listItems(raw, "relations")
	if err != nil {
		return crm.RelationPage{}, badAnswer("list relations", err)
	}
	page := crm.RelationPage{Items: make([]crm.Relation, 0, len(items))}
	for _, it := range items {
		rel, err := relationFromGHL(it)
		if err != nil {
			return crm.RelationPage{}, badAnswer("list relations", err)
		}
		page.Items = append(page.Items, rel)
	}
	next := cur.Skip + len(items)
	if len(items) >= limit && (total < 0 || int64(next) < total) {
		page.NextCursor = encodeCursor(relationCursor{Skip: next})
	}
	return page, nil
}

// DeleteRelation deletes a relation:
// DELETE /associations/relations/{relationId}?locationId=.
func (c *Client) DeleteRelation(ctx context.Context, relationID string) error {
	if relationID == "" {
		return crm.Invalid("relation_id", "required")
	}
	_, err := c.do(ctx, http.MethodDelete, "/associations/relations/"+seg(relationID), c.locQuery(), nil, nil)
	return err
}
