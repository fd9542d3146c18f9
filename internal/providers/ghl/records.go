package ghl

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/upstream"
)

// MaxPageSize is GHL's largest pageLimit for record search.
const MaxPageSize = 100

// GHL's documented limits on a record's owners and followers.
const (
	maxOwners    = 1
	maxFollowers = 10
)

// ghlRecord is the part of GHL's IRecordSchema / RecordResponseDTO the
// adapter reads. GetRecord answers dateAdded/dateUpdated, search answers
// createdAt/updatedAt.
type ghlRecord struct {
	ID        string   `json:"id"`
	Owner     []string `json:"owner"`
	Followers []string `json:"followers"`
	// Properties are kept as JSON: handed through as the record's
	// PropertiesJSON when already neutral (see neutralProperties).
	Properties  json.RawMessage `json:"properties"`
	DateAdded   string          `json:"dateAdded"`
	DateUpdated string          `json:"dateUpdated"`
	CreatedAt   string          `json:"createdAt"`
	UpdatedAt   string          `json:"updatedAt"`
	SearchAfter json.RawMessage `json:"searchAfter"`
}

// recordFromGHL maps one GHL record (raw JSON) of the neutral object name.
// raw must be owned by the caller and not changed afterwards: the record
// keeps it as its Raw (a freshly decoded json.RawMessage is).
func recordFromGHL(objectName string, raw json.RawMessage) (crm.Record, ghlRecord, error) {
	var r ghlRecord
	if len(raw) == 0 || string(raw) == "null" {
		return crm.Record{}, r, errors.New("no record in response")
	}
	// One decode, properties included (they arrive as the map the neutral
	// record carries).
	if err := json.Unmarshal(raw, &r); err != nil {
		return crm.Record{}, r, fmt.Errorf("decoding GHL record: %w", err)
	}
	rec, err := recordFromDecoded(objectName, r)
	rec.Raw = raw
	return rec, r, err
}

// recordFromDecoded maps a decoded GHL record (Raw left empty).
func recordFromDecoded(objectName string, r ghlRecord) (crm.Record, error) {
	if r.ID == "" {
		return crm.Record{}, errors.New("GHL record has no id")
	}
	rec := crm.Record{
		ID:          r.ID,
		ObjectName:  objectName,
		OwnerIDs:    r.Owner,
		FollowerIDs: r.Followers,
		CreatedAt:   parseTime(firstNonEmpty(r.DateAdded, r.CreatedAt)),
		UpdatedAt:   parseTime(firstNonEmpty(r.DateUpdated, r.UpdatedAt)),
	}
	if err := setProperties(&rec, r.Properties); err != nil {
		return crm.Record{}, err
	}
	return rec, nil
}

// setProperties sets rec's properties from GHL's properties JSON: the
// JSON itself when it is already the neutral shape (an object without
// TEXTBOX_LIST keys "field.option" to regroup), which the gateway reads
// without a map in between; otherwise the regrouped map.
func setProperties(rec *crm.Record, js json.RawMessage) error {
	if len(js) == 0 || string(js) == "null" {
		rec.Properties = map[string]any{}
		return nil
	}
	if neutralProperties(js) {
		rec.PropertiesJSON = js
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		return fmt.Errorf("record %q: properties: %w", rec.ID, err)
	}
	rec.Properties = propertiesFromGHLOwned(m)
	return nil
}

// neutralProperties tells whether js is a JSON object none of whose
// member names holds a dot (so PropertiesFromGHL would return it as it
// is). It reads only the names, skipping the values.
func neutralProperties(js []byte) bool {
	sc, _ := nameScanners.Get().(*nameScanner)
	if sc == nil {
		sc = &nameScanner{}
	}
	defer nameScanners.Put(sc)
	sc.rd.Reset(js)
	if sc.d == nil {
		sc.d = jsontext.NewDecoder(&sc.rd, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	} else {
		sc.d.Reset(&sc.rd, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	}
	d := sc.d
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return false
	}
	for d.PeekKind() == '"' {
		// The raw name, quotes and escapes included: a dot in it, or
		// an escape that might spell one, sends the record the map way.
		name, err := d.ReadValue()
		if err != nil || bytes.IndexByte(name, '.') >= 0 || bytes.IndexByte(name, '\\') >= 0 {
			return false
		}
		if err := d.SkipValue(); err != nil {
			return false
		}
	}
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '}' {
		return false
	}
	_, err := d.ReadToken()
	return errors.Is(err, io.EOF)
}

// nameScanner reads the member names of a record's properties; pooled,
// as a page reads a hundred.
type nameScanner struct {
	rd bytes.Reader
	d  *jsontext.Decoder
}

var nameScanners sync.Pool

// propertiesFromGHLOwned is PropertiesFromGHL for a map the caller owns:
// without dotted keys (no TEXTBOX_LIST values) it is returned as it is.
func propertiesFromGHLOwned(in map[string]any) map[string]any {
	for k := range in {
		if strings.Contains(k, ".") {
			return PropertiesFromGHL(in)
		}
	}
	if in == nil {
		return map[string]any{}
	}
	return in
}

// PropertiesFromGHL maps GHL record properties to neutral ones. Values pass
// through as decoded JSON (numbers float64, arrays []any, money
// {"currency","value"}); TEXTBOX_LIST entries "field.option": v are grouped
// into "field": {"option": v}. A dotted key whose field name is also a
// plain key stays as it is.
func PropertiesFromGHL(in map[string]any) map[string]any {
	out := make(map[string]any, len(in))
	for k, v := range in {
		if !strings.Contains(k, ".") {
			out[k] = v
		}
	}
	groups := map[string]map[string]any{}
	for k, v := range in {
		field, opt, ok := strings.Cut(k, ".")
		if !ok {
			continue
		}
		_, plain := in[field]
		if plain || field == "" || opt == "" {
			out[k] = v // not a textbox group: keep the key as it is
			continue
		}
		g := groups[field]
		if g == nil {
			g = map[string]any{}
			groups[field] = g
			out[field] = g
		}
		g[opt] = v
	}
	return out
}

// isMoney tells a MONETORY value ({"currency": ..., "value": ...}) from a
// TEXTBOX_LIST group.
func isMoney(m map[string]any) bool {
	if _, ok := m["value"]; !ok {
		return false
	}
	for k := range m {
		if k != "value" && k != "currency" {
			return false
		}
	}
	return true
}

// PropertiesToGHL maps neutral record properties to GHL's: an object value
// is a TEXTBOX_LIST group, split into "field.option": v, unless it is a
// money value (only the keys "value" and "currency"); everything else
// passes through unchanged.
func PropertiesToGHL(in map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(in))
	var vs []crm.FieldViolation
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := in[k]
		if k == "" {
			vs = append(vs, crm.FieldViolation{Field: "properties", Description: "empty property id"})
			continue
		}
		if m, ok := v.(map[string]any); ok && !isMoney(m) {
			for opt, ov := range m {
				if opt == "" {
					vs = append(vs, crm.FieldViolation{Field: "properties." + k, Description: "empty option key"})
					continue
				}
				out[k+"."+opt] = ov
			}
			continue
		}
		out[k] = v
	}
	if len(vs) > 0 {
		return nil, &crm.ValidationError{Violations: vs}
	}
	return out, nil
}

// checkPeople validates owner and follower ids against GHL's limits.
func checkPeople(in crm.RecordInput) []crm.FieldViolation {
	var vs []crm.FieldViolation
	if len(in.OwnerIDs) > maxOwners {
		vs = append(vs, crm.FieldViolation{Field: "owner_ids", Description: fmt.Sprintf("GHL allows at most %d owner", maxOwners)})
	}
	if len(in.FollowerIDs) > maxFollowers {
		vs = append(vs, crm.FieldViolation{Field: "follower_ids", Description: fmt.Sprintf("GHL allows at most %d followers", maxFollowers)})
	}
	for i, id := range in.OwnerIDs {
		if id == "" {
			vs = append(vs, crm.FieldViolation{Field: fmt.Sprintf("owner_ids[%d]", i), Description: "empty id"})
		}
	}
	for i, id := range in.FollowerIDs {
		if id == "" {
			vs = append(vs, crm.FieldViolation{Field: fmt.Sprintf("follower_ids[%d]", i), Description: "empty id"})
		}
	}
	return vs
}

// recordBody is the body real clients send to create and update records.
type recordBody struct {
	LocationID string         `json:"locationId"`
	Properties map[string]any `json:"properties"`
	Owner      *[]string      `json:"owner,omitempty"`
	Followers  *[]string      `json:"followers,omitempty"`
}

func (c *Client) recordBody(in crm.RecordInput, create bool) (recordBody, error) {
	vs := checkPeople(in)
	props, err := PropertiesToGHL(in.Properties)
	if err != nil {
		var ve *crm.ValidationError
		errors.As(err, &ve)
		vs = append(vs, ve.Violations...)
	}
	if len(vs) > 0 {
		return recordBody{}, &crm.ValidationError{Violations: vs}
	}
	b := recordBody{LocationID: c.locationID, Properties: props}
	if create {
		// Omit empty owner/followers on create.
		if len(in.OwnerIDs) > 0 {
			b.Owner = &in.OwnerIDs
		}
		if len(in.FollowerIDs) > 0 {
			b.Followers = &in.FollowerIDs
		}
	} else {
		// On update nil means unchanged; an empty list clears.
		if in.OwnerIDs != nil {
			b.Owner = &in.OwnerIDs
		}
		if in.FollowerIDs != nil {
			b.Followers = &in.FollowerIDs
		}
	}
	return b, nil
}

// Endpoint templates of the record calls (entries of Endpoints). The
// record calls name them on their context themselves, so that the
// provider transport (upstream.Endpoints) need not match each path against
// the route table and copy the request to name it.
const (
	endpointGetRecord     = "GET /objects/{schemaKey}/records/{id}"
	endpointCreateRecord  = "POST /objects/{schemaKey}/records"
	endpointUpdateRecord  = "PUT /objects/{schemaKey}/records/{id}"
	endpointSearchRecords = "POST /objects/{schemaKey}/records/search"
)

// withEndpoint names a record call's endpoint (template) on ctx.
func withEndpoint(ctx context.Context, template string) context.Context {
	return upstream.WithEndpoint(ctx, upstream.Endpoint{Provider: providerName, Template: template})
}

// recordCall sends a request answering {record} and maps it.
func (c *Client) recordCall(ctx context.Context, op, endpoint, method, path, objectName string, q map[string][]string, body any) (crm.Record, error) {
	b, status, err := c.doRaw(withEndpoint(ctx, endpoint), method, path, q, body)
	if err != nil {
		return crm.Record{}, err
	}
	var resp struct {
		Record json.RawMessage `json:"record"`
	}
	if err := decodeRecordAnswer(method, path, status, b, &resp); err != nil {
		return crm.Record{}, err
	}
	rec, _, err := recordFromGHL(objectName, resp.Record)
	if err != nil {
		return crm.Record{}, badAnswer(op, err)
	}
	return rec, nil
}

func recordPath(key, id string) string {
	return "/objects/" + seg(key) + "/records/" + seg(id)
}

// GetRecord reads a record: GET /objects/{schemaKey}/records/{id}.
func (c *Client) GetRecord(ctx context.Context, objectName, id string) (crm.Record, error) {
	key, err := recordsAPIKey(objectName)
	if err != nil {
		return crm.Record{}, err
	}
	if id == "" {
		return crm.Record{}, crm.Invalid("id", "required")
	}
	return c.recordCall(ctx, "get record", endpointGetRecord, http.MethodGet, recordPath(key, id), objectName, nil, nil)
}

// CreateRecord creates a record: POST /objects/{schemaKey}/records with
// {locationId, properties, owner, followers} (owner/followers omitted when
// empty).
func (c *Client) CreateRecord(ctx context.Context, objectName string, in crm.RecordInput) (crm.Record, error) {
	key, err := recordsAPIKey(objectName)
	if err != nil {
		return crm.Record{}, err
	}
	body, err := c.recordBody(in, true)
	if err != nil {
		return crm.Record{}, err
	}
	return c.recordCall(ctx, "create record", endpointCreateRecord, http.MethodPost, "/objects/"+seg(key)+"/records", objectName, nil, body)
}

// UpdateRecord changes the given properties of a record (and its owners or
// followers when not nil): PUT /objects/{schemaKey}/records/{id}?locationId=.
func (c *Client) UpdateRecord(ctx context.Context, objectName, id string, in crm.RecordInput) (crm.Record, error) {
	key, err := recordsAPIKey(objectName)
	if err != nil {
		return crm.Record{}, err
	}
	if id == "" {
		return crm.Record{}, crm.Invalid("id", "required")
	}
	body, err := c.recordBody(in, false)
	if err != nil {
		return crm.Record{}, err
	}
	return c.recordCall(ctx, "update record", endpointUpdateRecord, http.MethodPut, recordPath(key, id), objectName, c.locQuery(), body)
}

// DeleteRecord deletes a record: DELETE /objects/{schemaKey}/records/{id}.
func (c *Client) DeleteRecord(ctx context.Context, objectName, id string) error {
	key, err := recordsAPIKey(objectName)
	if err != nil {
		return err
	}
	if id == "" {
		return crm.Invalid("id", "required")
	}
	raw, err := c.do(ctx, http.MethodDelete, recordPath(key, id), nil, nil, nil)
	if err != nil {
		return err
	}
	var resp struct {
		Success *bool `json:"success"`
	}
	_ = json.Unmarshal(raw, &resp) // the answer is informative only
	if resp.Success != nil && !*resp.Success {
		return &crm.ProviderError{Provider: providerName, Status: http.StatusOK, Message: "GHL did not delete record " + id + " (success: false)"}
	}
	return nil
}

// ListRecords pages through every record: SearchRecords with an empty
// query (GHL has no list endpoint).
func (c *Client) ListRecords(ctx context.Context, objectName string, q crm.RecordQuery) (crm.RecordPage, error) {
	q.Query = ""
	return c.SearchRecords(ctx, objectName, q)
}

// recordCursor is the decoded crm cursor: GHL's searchAfter of the last
// record seen (or, when GHL gives none, the next page number) and how many
// records came before.
type recordCursor struct {
	After json.RawMessage `json:"a,omitempty"`
	Page  int             `json:"p,omitempty"`
	Seen  int64           `json:"n"`
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursorJSON decodes a base64url JSON cursor strictly.
func decodeCursorJSON(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

func decodeRecordCursor(s string) (recordCursor, error) {
	var cur recordCursor
	if s == "" {
		return cur, nil
	}
	err := decodeCursorJSON(s, &cur)
	if err == nil && (cur.Seen < 0 || cur.Page < 0 || len(cur.After) > 0 && cur.After[0] != '[') {
		err = errors.New("bad values")
	}
	if err != nil {
		return recordCursor{}, crm.Invalid("cursor", "malformed cursor")
	}
	return cur, nil
}

// searchBody is GHL's SearchRecordsBody.
type searchBody struct {
	LocationID  string          `json:"locationId"`
	Page        int             `json:"page"`
	PageLimit   int             `json:"pageLimit"`
	Query       string          `json:"query"`
	SearchAfter json.RawMessage `json:"searchAfter"`
}

// SearchRecords pages through the records matching q.Query:
// POST /objects/{schemaKey}/records/search with {locationId, page,
// pageLimit, query, searchAfter}. GHL searches the object's searchable
// properties; q.Query is passed as it is (e.g. "Buddy" or "name:Buddy").
// PageSize must be positive and is capped at 100.
func (c *Client) SearchRecords(ctx context.Context, objectName string, q crm.RecordQuery) (crm.RecordPage, error) {
	key, err := recordsAPIKey(objectName)
	if err != nil {
		return crm.RecordPage{}, err
	}
	if q.PageSize <= 0 {
		return crm.RecordPage{}, crm.Invalid("page_size", "must be positive")
	}
	limit := min(q.PageSize, MaxPageSize)
	cur, err := decodeRecordCursor(q.Cursor)
	if err != nil {
		return crm.RecordPage{}, err
	}
	body := searchBody{
		LocationID:  c.locationID,
		Page:        1,
		PageLimit:   limit,
		Query:       q.Query,
		SearchAfter: json.RawMessage("[]"),
	}
	if len(cur.After) > 0 {
		body.SearchAfter = cur.After
	} else if cur.Page > 1 {
		body.Page = cur.Page
	}
	page, last, n, err := c.search(ctx, key, objectName, body, q.IncludeRaw)
	if err != nil {
		return crm.RecordPage{}, err
	}
	seen := cur.Seen + int64(n)
	switch {
	case n < limit:
	case page.Total >= 0 && seen >= page.Total:
	case isJSONArray(last.SearchAfter):
		page.NextCursor = encodeCursor(recordCursor{After: compactJSON(last.SearchAfter), Seen: seen})
	default:
		// No searchAfter: fall back to page numbers.
		page.NextCursor = encodeCursor(recordCursor{Page: body.Page + 1, Seen: seen})
	}
	return page, nil
}

// search sends one search request and maps its records, keeping each
// record's own JSON with raw (a second decoding pass per record);
// without, the answer is decoded in one pass. It returns the page, the last GHL
// record (for searchAfter) and the number of records.
func (c *Client) search(ctx context.Context, key, objectName string, body searchBody, raw bool) (crm.RecordPage, ghlRecord, int, error) {
	var last ghlRecord
	page := crm.RecordPage{Total: -1}
	path := "/objects/" + seg(key) + "/records/search"
	b, status, err := c.doRaw(withEndpoint(ctx, endpointSearchRecords), http.MethodPost, path, nil, body)
	if err != nil {
		return page, last, 0, err
	}
	var total *float64
	if raw {
		var resp struct {
			Records []json.RawMessage `json:"records"`
			Total   *float64          `json:"total"`
		}
		if err := decodeRecordAnswer(http.MethodPost, path, status, b, &resp); err != nil {
			return page, last, 0, err
		}
		page.Items = make([]crm.Record, 0, len(resp.Records))
		for _, rawRec := range resp.Records {
			rec, r, err := recordFromGHL(objectName, rawRec)
			if err != nil {
				return crm.RecordPage{}, last, 0, badAnswer("search records", err)
			}
			page.Items = append(page.Items, rec)
			last = r
		}
		total = resp.Total
	} else {
		var resp struct {
			Records []*ghlRecord `json:"records"`
			Total   *float64     `json:"total"`
		}
		if err := decodeRecordAnswer(http.MethodPost, path, status, b, &resp); err != nil {
			return page, last, 0, err
		}
		page.Items = make([]crm.Record, 0, len(resp.Records))
		for _, r := range resp.Records {
			if r == nil {
				return crm.RecordPage{}, last, 0, badAnswer("search records", errors.New("no record in response"))
			}
			rec, err := recordFromDecoded(objectName, *r)
			if err != nil {
				return crm.RecordPage{}, last, 0, badAnswer("search records", err)
			}
			page.Items = append(page.Items, rec)
			last = *r
		}
		total = resp.Total
	}
	if total != nil {
		page.Total = int64(*total)
	}
	return page, last, len(page.Items), nil
}

func isJSONArray(raw json.RawMessage) bool {
	var a []any
	return len(raw) > 0 && json.Unmarshal(raw, &a) == nil && len(a) > 0
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}
