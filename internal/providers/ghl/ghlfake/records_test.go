package ghlfake

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const petRecords = "/objects/custom_objects.pet/records"

// seedTextboxAndFile adds a TEXTBOX_LIST and a FILE_UPLOAD field to the pet.
func seedTextboxAndFile(t *testing.T, e *env) {
	t.Helper()
	e.call("POST", "/custom-fields/", map[string]any{
		"locationId": testLoc, "name": "Contacts", "showInForms": true, "dataType": "TEXTBOX_LIST",
		"fieldKey": "custom_objects.pet.vet", "objectKey": "custom_objects.pet",
		"options": []map[string]any{{"key": "option_a", "label": "A"}, {"key": "option_b", "label": "B"}},
	}).must(t, 201)
	e.call("POST", "/custom-fields/", map[string]any{
		"locationId": testLoc, "name": "Files", "showInForms": true, "dataType": "FILE_UPLOAD",
		"fieldKey": "custom_objects.pet.files", "objectKey": "custom_objects.pet", "maxFileLimit": 2,
	}).must(t, 201)
}

func TestRecordsCRUD(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.SeedDemo(testLoc, 0)
	seedTextboxAndFile(t, e)

	props := map[string]any{
		"name": "Buddy", "species": "dog", "age": 3, "price": map[string]any{"currency": "default", "value": 100},
		"vaccinated": []string{"rabies", "parvo"}, "birthday": "2024-07-11", "notes": "Good boy", "email": "a@b.co",
		"phone": "+917000000000", "tags": []string{"friendly"}, "vet.option_a": "Dr. Who",
		"files": []map[string]any{{"url": "https://x/y.pdf"}},
	}
	rec := obj(t, e.call("POST", petRecords, map[string]any{
		"locationId": testLoc, "properties": props, "owner": []string{"sx6wyHhbFdRXh302Lunr"}, "followers": []string{"u1", "u2"},
	}).must(t, 201), "record")
	requireKeys(t, rec, "id", "owner", "followers", "properties", "dateAdded", "dateUpdated",
		"createdAt", "updatedAt", "locationId", "objectId", "objectKey", "createdBy", "lastUpdatedBy")
	id := str(t, rec, "id")
	if !objectIDRe.MatchString(id) || rec["objectKey"] != "custom_objects.pet" || rec["locationId"] != testLoc ||
		mustJSON(rec["owner"]) != `["sx6wyHhbFdRXh302Lunr"]` || mustJSON(rec["followers"]) != `["u1","u2"]` {
		t.Fatalf("record %s", mustJSON(rec))
	}
	if mustJSON(rec["properties"]) != mustJSON(props) {
		t.Fatalf("properties %s, want %s", mustJSON(rec["properties"]), mustJSON(props))
	}
	requireKeys(t, obj(t, map[string]any{"r": rec}, "r")["createdBy"].(map[string]any), "channel", "createdAt", "source", "sourceId")

	got := obj(t, e.call("GET", petRecords+"/"+id, nil).must(t, 200), "record")
	if mustJSON(got) != mustJSON(rec) {
		t.Fatalf("get %s, want %s", mustJSON(got), mustJSON(rec))
	}

	// Update merges properties, null clears, owner/followers replaced when given.
	e.clock.Advance(time.Minute)
	up := obj(t, e.call("PUT", petRecords+"/"+id+"?locationId="+testLoc, map[string]any{
		"properties": map[string]any{"age": 4, "notes": nil}, "followers": []string{},
	}).must(t, 200), "record")
	p := up["properties"].(map[string]any)
	if p["age"] != float64(4) || p["name"] != "Buddy" || p["species"] != "dog" {
		t.Fatalf("merged %s", mustJSON(p))
	}
	if _, has := p["notes"]; has {
		t.Fatalf("notes not cleared: %s", mustJSON(p))
	}
	if mustJSON(up["owner"]) != `["sx6wyHhbFdRXh302Lunr"]` || mustJSON(up["followers"]) != `[]` {
		t.Fatalf("people %s", mustJSON(up))
	}
	if up["updatedAt"] == up["createdAt"] || up["createdAt"] != rec["createdAt"] {
		t.Fatalf("dates %s", mustJSON(up))
	}

	e.call("DELETE", petRecords+"/"+id, nil).wantError(t, 200, map[string]any{"id": id, "success": true})
	e.call("GET", petRecords+"/"+id, nil).wantError(t, 404, map[string]any{"statusCode": 404, "message": "Record " + id + " not found", "error": "Not Found"})
	e.call("DELETE", petRecords+"/"+id, nil).wantStatus(t, 404, "not found")
	if n := e.fake.RecordCount(testLoc, DemoObjectKey); n != 0 {
		t.Fatalf("RecordCount %d", n)
	}
}

func TestRecordValidation(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.SeedDemo(testLoc, 1)
	seedTextboxAndFile(t, e)
	tests := []struct {
		name  string
		props map[string]any
		want  string
	}{
		{"unknown property", map[string]any{"colour": "red"}, "colour is not a valid property of custom_objects.pet"},
		{"text number", map[string]any{"notes": 5}, "notes must be a string"},
		{"numerical string", map[string]any{"age": "3"}, "age must be a number"},
		{"money bare number", map[string]any{"price": 100}, "price must be an object"},
		{"money no value", map[string]any{"price": map[string]any{"currency": "default"}}, "price must be an object"},
		{"single option unknown", map[string]any{"species": "fish"}, `species has an invalid option "fish"`},
		{"single option array", map[string]any{"species": []string{"dog"}}, "species must be one option key"},
		{"checkbox scalar", map[string]any{"vaccinated": "rabies"}, "vaccinated must be an array of option keys"},
		{"multi unknown", map[string]any{"tags": []string{"grumpy"}}, `tags has an invalid option "grumpy"`},
		{"date format", map[string]any{"birthday": "11/07/2024"}, "birthday must be a date string"},
		{"email", map[string]any{"email": "not-an-email"}, "email must be a valid email"},
		{"files not array", map[string]any{"files": "https://x"}, "files must be an array of files"},
		{"files no url", map[string]any{"files": []map[string]any{{"name": "x"}}}, "files must give every file a url"},
		{"files too many", map[string]any{"files": []map[string]any{{"url": "a"}, {"url": "b"}, {"url": "c"}}}, "files accepts at most 2 files"},
		{"textbox bare", map[string]any{"vet": "x"}, "vet is a TEXTBOX_LIST"},
		{"textbox bad option", map[string]any{"vet.option_z": "x"}, "vet is a TEXTBOX_LIST"},
		{"dotted non-textbox", map[string]any{"name.x": "x"}, "name.x is not a valid property"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]any{"name": "N"}
			for k, v := range tc.props {
				props[k] = v
			}
			r := e.call("POST", petRecords, map[string]any{"locationId": testLoc, "properties": props})
			r.wantStatus(t, 400, tc.want)
			if msg, _ := r.body["message"].(string); !strings.HasPrefix(msg, tc.want) || len(r.body) != 2 {
				t.Fatalf("body %s, want {statusCode, message: %q...}", r.raw, tc.want)
			}
		})
	}
	t.Run("primary required", func(t *testing.T) {
		e.call("POST", petRecords, map[string]any{"locationId": testLoc, "properties": map[string]any{"age": 1}}).
			wantStatus(t, 400, "name is required")
	})
	t.Run("owner limit", func(t *testing.T) {
		e.call("POST", petRecords, map[string]any{"locationId": testLoc, "properties": map[string]any{"name": "x"}, "owner": []string{"a", "b"}}).
			wantStatus(t, 400, "owner can have at most 1")
		e.call("POST", petRecords, map[string]any{"locationId": testLoc, "properties": map[string]any{"name": "x"},
			"followers": []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}}).wantStatus(t, 400, "followers")
	})
	t.Run("radio custom option", func(t *testing.T) {
		e.call("POST", "/custom-fields/", map[string]any{
			"locationId": testLoc, "name": "Size", "showInForms": true, "dataType": "RADIO", "allowCustomOption": true,
			"fieldKey": "custom_objects.pet.size", "objectKey": "custom_objects.pet", "options": []map[string]any{{"key": "s", "label": "S"}},
		}).must(t, 201)
		e.call("POST", petRecords, map[string]any{"locationId": testLoc, "properties": map[string]any{"name": "x", "size": "huge"}}).must(t, 201)
	})
	t.Run("objects without records", func(t *testing.T) {
		e.call("POST", "/objects/contact/records", map[string]any{"locationId": testLoc, "properties": map[string]any{}}).
			wantStatus(t, 400, "not supported")
		e.call("POST", "/objects/custom_objects.nope/records", map[string]any{"locationId": testLoc}).wantStatus(t, 404, "custom_objects.nope")
		biz := obj(t, e.call("POST", "/objects/business/records", map[string]any{"locationId": testLoc, "properties": map[string]any{"name": "Acme", "email": "a@acme.io"}}).must(t, 201), "record")
		e.call("GET", "/objects/business/records/"+str(t, biz, "id"), nil).must(t, 200)
		// A record is found only under its own object.
		e.call("GET", petRecords+"/"+str(t, biz, "id"), nil).wantStatus(t, 404, "not found")
	})
	t.Run("update clearing primary", func(t *testing.T) {
		rec := obj(t, e.call("POST", petRecords, map[string]any{"locationId": testLoc, "properties": map[string]any{"name": "x"}}).must(t, 201), "record")
		e.call("PUT", petRecords+"/"+str(t, rec, "id")+"?locationId="+testLoc, map[string]any{"properties": map[string]any{"name": nil}}).
			wantStatus(t, 400, "name is required")
		e.call("PUT", petRecords+"/"+str(t, rec, "id")+"?locationId="+otherLoc, map[string]any{}).wantStatus(t, 403, "access")
	})
}

func search(t *testing.T, e *env, body map[string]any) (ids []string, total int, last []any) {
	t.Helper()
	if _, ok := body["locationId"]; !ok {
		body["locationId"] = testLoc
	}
	res := e.call("POST", petRecords+"/search", body).must(t, 200)
	for _, r := range arr(t, res, "records") {
		m := r.(map[string]any)
		ids = append(ids, str(t, m, "id"))
		last = m["searchAfter"].([]any)
	}
	return ids, int(res["total"].(float64)), last
}

func TestSearchQueryAndFilters(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.SeedDemo(testLoc, 30)
	res := e.call("POST", petRecords+"/search", map[string]any{"locationId": testLoc, "page": 1, "pageLimit": 2}).must(t, 200)
	recs := arr(t, res, "records")
	if len(recs) != 2 || res["total"] != float64(30) {
		t.Fatalf("search %s", mustJSON(res))
	}
	r0 := recs[0].(map[string]any)
	requireKeys(t, r0, "id", "owner", "followers", "properties", "createdAt", "updatedAt", "locationId", "objectId",
		"objectKey", "createdBy", "lastUpdatedBy", "searchAfter")
	sa := r0["searchAfter"].([]any)
	if len(sa) != 2 || sa[1] != r0["id"] {
		t.Fatalf("searchAfter %v", sa)
	}
	if _, isNum := sa[0].(float64); !isNum {
		t.Fatalf("searchAfter[0] %v is not a number", sa[0])
	}

	tests := []struct {
		name  string
		body  map[string]any
		total int
	}{
		{"free text on name, case-insensitive", map[string]any{"query": "buddy"}, 3},               // Buddy 0, 10, 20
		{"free text on searchable email", map[string]any{"query": "owner7@"}, 1},                   // owner7@example.com
		{"free text ignores other props", map[string]any{"query": "Demo pet"}, 0},                  // notes not searchable
		{"field:value", map[string]any{"query": "species:cat"}, 10},                                // 1, 4, 7...
		{"field:value full key", map[string]any{"query": "custom_objects.pet.notes:number 2"}, 11}, // 2, 20-29
		{"filter eq", map[string]any{"filters": []any{map[string]any{"field": "properties.species", "operator": "eq", "value": "bird"}}}, 10},
		{"filter range", map[string]any{"filters": []any{map[string]any{"field": "properties.age", "operator": "range", "value": map[string]any{"gte": 10, "lte": 12}}}}, 6},
		{"filter group OR", map[string]any{"filters": []any{map[string]any{"group": "OR", "filters": []any{
			map[string]any{"field": "properties.species", "operator": "eq", "value": "bird"},
			map[string]any{"field": "properties.species", "operator": "eq", "value": "cat"},
		}}}}, 20},
		{"filter array contains", map[string]any{"filters": []any{map[string]any{"field": "tags", "operator": "eq", "value": "senior"}}}, 15},
		{"query and filter", map[string]any{"query": "luna", "filters": []any{map[string]any{"field": "properties.species", "operator": "not_eq", "value": "cat"}}}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.body["pageLimit"] = 100
			_, total, _ := search(t, e, tc.body)
			if total != tc.total {
				t.Fatalf("total %d, want %d", total, tc.total)
			}
		})
	}

	errs := []struct {
		name   string
		body   map[string]any
		status int
		want   string
	}{
		{"pageLimit too big", map[string]any{"pageLimit": 101}, 422, `"message":["pageLimit must not be greater than 100"]`},
		{"page zero", map[string]any{"page": 0, "pageLimit": 0}, 422, `"message":["page must not be less than 1","pageLimit must not be less than 1"]`},
		{"pageLimit string", map[string]any{"pageLimit": "ten"}, 422, "pageLimit must be a number"},
		{"searchAfter garbage", map[string]any{"searchAfter": []any{"abc", "x"}}, 400, "searchAfter"},
		{"sort", map[string]any{"sort": []any{map[string]any{"field": "name", "direction": "asc"}}}, 400, "sort"},
		{"bad filter field", map[string]any{"filters": []any{map[string]any{"field": "properties.nope", "operator": "eq", "value": 1}}}, 400, "unknown field"},
		{"bad operator", map[string]any{"filters": []any{map[string]any{"field": "name", "operator": "like", "value": 1}}}, 400, "unsupported operator"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			tc.body["locationId"] = testLoc
			e.call("POST", petRecords+"/search", tc.body).wantStatus(t, tc.status, tc.want)
		})
	}
	e.call("POST", "/objects/custom_objects.nope/records/search", map[string]any{"locationId": testLoc}).wantStatus(t, 404, "not found")
}

func TestSearchAfterPaging10k(t *testing.T) {
	const n = 10000
	e := newEnv(t, Options{})
	// Half the records share one millisecond, so ties are broken by id.
	e.fake.SeedDemo(testLoc, n/2)
	e.clock.Advance(time.Millisecond)
	e.fake.SeedDemo(testLoc, n/2)

	seen := make(map[string]bool, n)
	var after []any
	pages := 0
	for {
		body := map[string]any{"page": 1, "pageLimit": 100}
		if after != nil {
			body["searchAfter"] = after
		}
		ids, total, last := search(t, e, body)
		if want := n + 5*min(pages/50, 1); total != want {
			t.Fatalf("page %d: total %d, want %d", pages, total, want)
		}
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("record %s returned twice", id)
			}
			seen[id] = true
		}
		after = last
		pages++
		if pages == 50 {
			// Records created while paging sort after the cursor and show up
			// at the end; the listing stays exact.
			e.clock.Advance(time.Millisecond)
			e.fake.SeedDemo(testLoc, 5)
		}
	}
	if len(seen) != n+5 || pages != 101 {
		t.Fatalf("saw %d records in %d pages, want %d in 101", len(seen), pages, n+5)
	}

	// searchAfter sent as strings, as the spec types it, works the same.
	ids, _, last := search(t, e, map[string]any{"pageLimit": 3})
	strAfter := []any{fmt.Sprint(int64(last[0].(float64))), last[1]}
	next, _, _ := search(t, e, map[string]any{"pageLimit": 3, "searchAfter": strAfter})
	viaPage, _, _ := search(t, e, map[string]any{"pageLimit": 3, "page": 2})
	if mustJSON(next) != mustJSON(viaPage) || len(ids) != 3 || next[0] == ids[2] {
		t.Fatalf("string searchAfter %v vs page 2 %v", next, viaPage)
	}
}
