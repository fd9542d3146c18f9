package ghlfake

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestContactsCRUD(t *testing.T) {
	e := newEnv(t, Options{})
	ids := e.fake.SeedCRM(testLoc)

	ct := obj(t, e.call("POST", "/contacts/", map[string]any{
		"locationId": testLoc, "firstName": "Rosa", "lastName": "Parks", "email": "Rosa@Example.com",
		"phone": "+15551234567", "additionalEmails": []string{"rosa@home.example.org"}, "tags": []string{"VIP", "vip", "new"},
		"assignedTo": ids.Users[0], "businessId": ids.Businesses[1], "companyName": "Globex", "address1": "1 Bus Street",
		"city": "Montgomery", "state": "AL", "postalCode": "36104", "country": "US", "website": "https://rosa.example",
		"timezone": "America/Chicago", "dnd": false, "source": "api", "customFields": []map[string]any{{"id": "cf1", "field_value": "x"}},
	}).must(t, 201), "contact")
	requireKeys(t, ct, "id", "locationId", "firstName", "lastName", "name", "email", "emailLowerCase", "phone",
		"additionalEmails", "tags", "assignedTo", "businessId", "customFields", "dateAdded", "dateUpdated", "type", "dnd")
	id := str(t, ct, "id")
	if ct["name"] != "Rosa Parks" || ct["emailLowerCase"] != "rosa@example.com" || mustJSON(ct["tags"]) != `["vip","new"]` ||
		ct["type"] != "lead" || mustJSON(ct["customFields"]) != `[{"id":"cf1","value":"x"}]` {
		t.Fatalf("created %s", mustJSON(ct))
	}
	got := obj(t, e.call("GET", "/contacts/"+id, nil).must(t, 200), "contact")
	if mustJSON(got) != mustJSON(ct) {
		t.Fatalf("get %s, want %s", mustJSON(got), mustJSON(ct))
	}

	e.clock.Advance(time.Minute)
	up := e.call("PUT", "/contacts/"+id, map[string]any{"city": "Detroit", "tags": []string{"moved"}}).must(t, 200)
	if up["succeded"] != true {
		t.Fatalf("update %s", mustJSON(up))
	}
	uc := obj(t, up, "contact")
	if uc["city"] != "Detroit" || uc["firstName"] != "Rosa" || mustJSON(uc["tags"]) != `["moved"]` || uc["dateUpdated"] == ct["dateUpdated"] {
		t.Fatalf("updated %s", mustJSON(uc))
	}

	if d := e.call("DELETE", "/contacts/"+id, nil).must(t, 200); mustJSON(d) != `{"succeded":true}` {
		t.Fatalf("delete %s", mustJSON(d))
	}
	e.call("GET", "/contacts/"+id, nil).wantStatus(t, 404, "Contact not found")
	e.call("PUT", "/contacts/"+id, map[string]any{}).wantStatus(t, 404, "Contact not found")
	e.call("DELETE", "/contacts/"+id, nil).wantStatus(t, 404, "Contact not found")
}

func TestContactsValidation(t *testing.T) {
	e := newEnv(t, Options{})
	ids := e.fake.SeedCRM(testLoc)
	seeded := ids.Contacts[0]
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		substr             string
	}{
		{"no location", "POST", "/contacts/", map[string]any{"firstName": "A"}, 422, "locationId should not be empty"},
		{"other location", "POST", "/contacts/", map[string]any{"locationId": otherLoc}, 403, "does not have access"},
		{"bad email", "POST", "/contacts/", map[string]any{"locationId": testLoc, "email": "nope"}, 422, "email must be an email"},
		{"bad type", "POST", "/contacts/", map[string]any{"locationId": testLoc, "type": "vip"}, 422, "type must be one of"},
		{"wrong json type", "POST", "/contacts/", map[string]any{"locationId": testLoc, "firstName": 3}, 422, "firstName must be a string"},
		{"unknown user", "POST", "/contacts/", map[string]any{"locationId": testLoc, "assignedTo": "nobody"}, 400, "assignedTo"},
		{"unknown business", "POST", "/contacts/", map[string]any{"locationId": testLoc, "businessId": "nobiz"}, 400, "businessId"},
		{"duplicate email", "POST", "/contacts/", map[string]any{"locationId": testLoc, "email": "ADA.LOVELACE.0@example.com"}, 400, "does not allow duplicated contacts"},
		{"locationId on update", "PUT", "/contacts/" + seeded, map[string]any{"locationId": testLoc}, 422, "locationId should not exist"},
		{"search page limit", "POST", "/contacts/search", map[string]any{"locationId": testLoc, "pageLimit": 501}, 422, "pageLimit must not be greater than 500"},
		{"search bad sort", "POST", "/contacts/search", map[string]any{"locationId": testLoc, "sort": []map[string]any{{"field": "nope"}}}, 422, "not sortable"},
		{"search bad operator", "POST", "/contacts/search", map[string]any{"locationId": testLoc, "filters": []map[string]any{{"field": "email", "operator": "like", "value": "x"}}}, 400, "operator must be"},
		{"search bad cursor", "POST", "/contacts/search", map[string]any{"locationId": testLoc, "searchAfter": []any{"x"}}, 400, "searchAfter"},
		{"note without body", "POST", "/contacts/" + seeded + "/notes", map[string]any{"title": "t"}, 422, "body should not be empty"},
		{"note of unknown contact", "GET", "/contacts/nobody/notes", nil, 404, "Contact not found"},
		{"unknown note", "GET", "/contacts/" + seeded + "/notes/nonote", nil, 404, "Note not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.call(tc.method, tc.path, tc.body).wantStatus(t, tc.status, tc.substr)
		})
	}
}

func TestContactUpsert(t *testing.T) {
	e := newEnv(t, Options{})
	ids := e.fake.SeedCRM(testLoc)
	before := e.fake.ContactCount(testLoc)

	// Matches the seeded contact 2 on email (case-insensitively), then on phone.
	for _, body := range []map[string]any{
		{"locationId": testLoc, "email": "ALAN.ALLEN.2@example.com", "city": "Paris"},
		{"locationId": testLoc, "phone": "+15550300002", "city": "Rome"},
	} {
		up := e.call("POST", "/contacts/upsert", body).must(t, 200)
		c := obj(t, up, "contact")
		if up["new"] != false || c["id"] != ids.Contacts[2] || c["city"] != body["city"] {
			t.Fatalf("upsert %v: %s", body, mustJSON(up))
		}
		requireKeys(t, up, "traceId")
	}
	created := e.call("POST", "/contacts/upsert", map[string]any{"locationId": testLoc, "email": "new@example.com"}).must(t, 200)
	if created["new"] != true || e.fake.ContactCount(testLoc) != before+1 {
		t.Fatalf("upsert new: %s", mustJSON(created))
	}
	// With duplicates allowed, createNewIfDuplicateAllowed makes a second one.
	e.fake.SetAllowDuplicateContacts(testLoc, true)
	dup := e.call("POST", "/contacts/upsert", map[string]any{"locationId": testLoc, "email": "new@example.com",
		"createNewIfDuplicateAllowed": true}).must(t, 200)
	if dup["new"] != true || obj(t, dup, "contact")["id"] == obj(t, created, "contact")["id"] {
		t.Fatalf("upsert duplicate: %s", mustJSON(dup))
	}
	e.call("POST", "/contacts/", map[string]any{"locationId": testLoc, "email": "new@example.com"}).must(t, 201)
}

// searchAll pages through POST /contacts/search with searchAfter.
func searchAll(t *testing.T, e *env, body map[string]any) (ids []string, total int) {
	t.Helper()
	seen := map[string]bool{}
	for range 100 {
		res := e.call("POST", "/contacts/search", body).must(t, 200)
		total = int(res["total"].(float64))
		page := arr(t, res, "contacts")
		if len(page) == 0 {
			return ids, total
		}
		for _, c := range page {
			m := c.(map[string]any)
			id := str(t, m, "id")
			if seen[id] {
				t.Fatalf("contact %s twice", id)
			}
			seen[id] = true
			ids = append(ids, id)
		}
		last := page[len(page)-1].(map[string]any)
		body["searchAfter"] = last["searchAfter"]
	}
	t.Fatal("search did not end")
	return nil, 0
}

func TestContactSearch(t *testing.T) {
	e := newEnv(t, Options{})
	seed := e.fake.SeedCRM(testLoc)

	ids, total := searchAll(t, e, map[string]any{"locationId": testLoc, "pageLimit": 7})
	if total != SeedContacts || strings.Join(ids, ",") != strings.Join(seed.Contacts, ",") {
		t.Fatalf("paged %d of %d: %v", len(ids), total, ids)
	}
	// Descending by first name, through every page, no duplicates.
	desc, _ := searchAll(t, e, map[string]any{"locationId": testLoc, "pageLimit": 4,
		"sort": []map[string]any{{"field": "firstNameLowerCase", "direction": "desc"}}})
	if len(desc) != SeedContacts {
		t.Fatalf("desc paged %d", len(desc))
	}

	for _, tc := range []struct {
		name    string
		filters any
		query   string
		want    int
	}{
		{"customers", []map[string]any{{"field": "type", "operator": "eq", "value": "customer"}}, "", 9},
		{"tag vip", []map[string]any{{"field": "tags", "operator": "eq", "value": "vip"}}, "", 10},
		{"of a business", []map[string]any{{"field": "businessId", "operator": "eq", "value": seed.Businesses[0]}}, "", 5},
		{"assigned", []map[string]any{{"field": "assignedTo", "operator": "exists"}}, "", 13},
		{"OR group", []map[string]any{{"group": "OR", "filters": []map[string]any{
			{"field": "firstNameLowerCase", "operator": "eq", "value": "ada"},
			{"field": "firstNameLowerCase", "operator": "eq", "value": "grace"}}}}, "", 6},
		{"query", nil, "lovelace", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.call("POST", "/contacts/search", map[string]any{"locationId": testLoc, "pageLimit": 100,
				"filters": tc.filters, "query": tc.query}).must(t, 200)
			if got := len(arr(t, res, "contacts")); got != tc.want || int(res["total"].(float64)) != tc.want {
				t.Fatalf("%d contacts, total %v, want %d", got, res["total"], tc.want)
			}
		})
	}
	// Page paging without a cursor.
	p2 := e.call("POST", "/contacts/search", map[string]any{"locationId": testLoc, "page": 2, "pageLimit": 10}).must(t, 200)
	if first := arr(t, p2, "contacts")[0].(map[string]any); first["id"] != seed.Contacts[10] {
		t.Fatalf("page 2 starts with %v", first["id"])
	}
}

func TestContactListDeprecated(t *testing.T) {
	e := newEnv(t, Options{})
	seed := e.fake.SeedCRM(testLoc)
	var got []string
	q := url.Values{"locationId": {testLoc}, "limit": {"10"}}
	for range 10 {
		res := e.call("GET", "/contacts/?"+q.Encode(), nil).must(t, 200)
		for _, c := range arr(t, res, "contacts") {
			got = append(got, str(t, c.(map[string]any), "id"))
		}
		meta := obj(t, res, "meta")
		if meta["startAfterId"] == nil {
			break
		}
		q.Set("startAfterId", meta["startAfterId"].(string))
	}
	if strings.Join(got, ",") != strings.Join(seed.Contacts, ",") {
		t.Fatalf("listed %v", got)
	}
	e.call("GET", "/contacts/", nil).wantStatus(t, 422, "locationId should not be empty")
}

func TestNotesCRUD(t *testing.T) {
	e := newEnv(t, Options{})
	seed := e.fake.SeedCRM(testLoc)
	c := seed.Contacts[0]
	base := "/contacts/" + c + "/notes"
	if n := len(arr(t, e.call("GET", base, nil).must(t, 200), "notes")); n != 2 {
		t.Fatalf("%d seeded notes", n)
	}
	e.clock.Advance(time.Hour)
	n := obj(t, e.call("POST", base, map[string]any{"body": "Follow up", "userId": seed.Users[1]}).must(t, 201), "note")
	requireKeys(t, n, "id", "body", "userId", "dateAdded", "contactId")
	id := str(t, n, "id")
	list := arr(t, e.call("GET", base, nil).must(t, 200), "notes")
	if len(list) != 3 || list[0].(map[string]any)["id"] != id {
		t.Fatalf("notes %s", mustJSON(list))
	}
	up := obj(t, e.call("PUT", base+"/"+id, map[string]any{"body": "Done"}).must(t, 200), "note")
	if up["body"] != "Done" || up["userId"] != seed.Users[1] {
		t.Fatalf("updated %s", mustJSON(up))
	}
	if g := obj(t, e.call("GET", base+"/"+id, nil).must(t, 200), "note"); g["body"] != "Done" {
		t.Fatalf("get %s", mustJSON(g))
	}
	// A note is addressed through its own contact only.
	e.call("GET", "/contacts/"+seed.Contacts[1]+"/notes/"+id, nil).wantStatus(t, 404, "Note not found")
	if d := e.call("DELETE", base+"/"+id, nil).must(t, 200); d["succeded"] != true {
		t.Fatalf("delete %s", mustJSON(d))
	}
	e.call("GET", base+"/"+id, nil).wantStatus(t, 404, "Note not found")
}

func TestOpportunities(t *testing.T) {
	e := newEnv(t, Options{})
	seed := e.fake.SeedCRM(testLoc)

	pl := arr(t, e.call("GET", "/opportunities/pipelines?locationId="+testLoc, nil).must(t, 200), "pipelines")
	if len(pl) != 1 {
		t.Fatalf("pipelines %s", mustJSON(pl))
	}
	p := pl[0].(map[string]any)
	var stages []string
	for _, s := range p["stages"].([]any) {
		stages = append(stages, s.(map[string]any)["name"].(string))
	}
	if p["name"] != SeedPipelineName || strings.Join(stages, ",") != "New Lead,Qualified,Proposal Sent,Negotiation,Closed" {
		t.Fatalf("pipeline %s", mustJSON(p))
	}

	op := obj(t, e.call("POST", "/opportunities/", map[string]any{
		"locationId": testLoc, "pipelineId": seed.PipelineID, "name": "Big deal", "status": "open",
		"contactId": seed.Contacts[3], "monetaryValue": 2500.5, "assignedTo": seed.Users[1],
	}).must(t, 201), "opportunity")
	requireKeys(t, op, "id", "name", "monetaryValue", "pipelineId", "pipelineStageId", "status", "contactId",
		"contact", "locationId", "createdAt", "updatedAt", "lastStatusChangeAt", "customFields")
	id := str(t, op, "id")
	if op["pipelineStageId"] != seed.StageIDs[0] || op["monetaryValue"] != 2500.5 || obj(t, op, "contact")["id"] != seed.Contacts[3] {
		t.Fatalf("created %s", mustJSON(op))
	}
	if g := obj(t, e.call("GET", "/opportunities/"+id, nil).must(t, 200), "opportunity"); mustJSON(g) != mustJSON(op) {
		t.Fatalf("get %s", mustJSON(g))
	}
	e.clock.Advance(time.Minute)
	up := obj(t, e.call("PUT", "/opportunities/"+id, map[string]any{"pipelineStageId": seed.StageIDs[2], "monetaryValue": 3000}).must(t, 200), "opportunity")
	if up["pipelineStageId"] != seed.StageIDs[2] || up["monetaryValue"] != 3000.0 || up["name"] != "Big deal" {
		t.Fatalf("updated %s", mustJSON(up))
	}
	if r := e.call("PUT", "/opportunities/"+id+"/status", map[string]any{"status": "won"}).must(t, 200); mustJSON(r) != `{"succeded":true}` {
		t.Fatalf("status %s", mustJSON(r))
	}
	if g := obj(t, e.call("GET", "/opportunities/"+id, nil).must(t, 200), "opportunity"); g["status"] != "won" || g["lastStatusChangeAt"] == op["lastStatusChangeAt"] {
		t.Fatalf("after status %s", mustJSON(g))
	}

	// Upsert: by id updates, by (contactId, pipelineId) updates, else creates.
	u1 := e.call("POST", "/opportunities/upsert", map[string]any{"locationId": testLoc, "pipelineId": seed.PipelineID, "id": id, "name": "Bigger deal"}).must(t, 200)
	if u1["new"] != false || obj(t, u1, "opportunity")["name"] != "Bigger deal" {
		t.Fatalf("upsert id %s", mustJSON(u1))
	}
	u2 := e.call("POST", "/opportunities/upsert", map[string]any{"locationId": testLoc, "pipelineId": seed.PipelineID, "contactId": seed.Contacts[0], "monetaryValue": 7}).must(t, 200)
	if u2["new"] != false || obj(t, u2, "opportunity")["id"] != seed.Opportunities[0] {
		t.Fatalf("upsert contact %s", mustJSON(u2))
	}
	u3 := e.call("POST", "/opportunities/upsert", map[string]any{"locationId": testLoc, "pipelineId": seed.PipelineID, "contactId": seed.Contacts[1], "name": "Fresh"}).must(t, 200)
	if u3["new"] != true {
		t.Fatalf("upsert new %s", mustJSON(u3))
	}

	if d := e.call("DELETE", "/opportunities/"+id, nil).must(t, 200); d["succeded"] != true {
		t.Fatalf("delete %s", mustJSON(d))
	}
	e.call("GET", "/opportunities/"+id, nil).wantStatus(t, 404, "Opportunity not found")

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		substr             string
	}{
		{"create missing fields", "POST", "/opportunities/", map[string]any{"locationId": testLoc}, 422, "pipelineId should not be empty"},
		{"create bad status", "POST", "/opportunities/", map[string]any{"locationId": testLoc, "pipelineId": seed.PipelineID, "name": "x", "status": "maybe", "contactId": seed.Contacts[0]}, 422, "status must be one of"},
		{"create unknown pipeline", "POST", "/opportunities/", map[string]any{"locationId": testLoc, "pipelineId": "nope", "name": "x", "status": "open", "contactId": seed.Contacts[0]}, 400, "Pipeline not found"},
		{"create unknown contact", "POST", "/opportunities/", map[string]any{"locationId": testLoc, "pipelineId": seed.PipelineID, "name": "x", "status": "open", "contactId": "nope"}, 400, "Contact not found"},
		{"update stage of another pipeline", "PUT", "/opportunities/" + seed.Opportunities[1], map[string]any{"pipelineStageId": "nope"}, 400, "is not in pipeline"},
		{"status empty", "PUT", "/opportunities/" + seed.Opportunities[1] + "/status", map[string]any{}, 422, "status should not be empty"},
		{"status unknown opp", "PUT", "/opportunities/nope/status", map[string]any{"status": "won"}, 404, "Opportunity not found"},
		{"search no location", "GET", "/opportunities/search", nil, 422, "location_id should not be empty"},
		{"search limit", "GET", "/opportunities/search?location_id=" + testLoc + "&limit=101", nil, 422, "limit must not be greater than 100"},
		{"pipelines other location", "GET", "/opportunities/pipelines?locationId=" + otherLoc, nil, 403, "does not have access"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.call(tc.method, tc.path, tc.body).wantStatus(t, tc.status, tc.substr)
		})
	}
}

func TestOpportunitySearch(t *testing.T) {
	e := newEnv(t, Options{})
	seed := e.fake.SeedCRM(testLoc)

	// Cursor paging to the end, no duplicates.
	var got []string
	q := url.Values{"location_id": {testLoc}, "limit": {"3"}}
	for range 10 {
		res := e.call("GET", "/opportunities/search?"+q.Encode(), nil).must(t, 200)
		meta := obj(t, res, "meta")
		if meta["total"] != float64(SeedOpportunities) {
			t.Fatalf("meta %s", mustJSON(meta))
		}
		for _, o := range arr(t, res, "opportunities") {
			got = append(got, str(t, o.(map[string]any), "id"))
		}
		if meta["startAfterId"] == nil {
			break
		}
		next, err := url.Parse(meta["nextPageUrl"].(string))
		if err != nil {
			t.Fatal(err)
		}
		q = next.Query()
		if q.Get("startAfterId") != meta["startAfterId"] || q.Get("startAfter") != fmt.Sprint(int64(meta["startAfter"].(float64))) {
			t.Fatalf("nextPageUrl %s, meta %s", next, mustJSON(meta))
		}
	}
	if strings.Join(got, ",") != strings.Join(seed.Opportunities, ",") {
		t.Fatalf("paged %v", got)
	}

	for _, tc := range []struct {
		name  string
		query string
		want  int
	}{
		{"stage", "pipeline_stage_id=" + seed.StageIDs[4], 2},
		{"won", "status=won", 1},
		{"open", "status=open", 7},
		{"all", "status=all", 10},
		{"contact", "contact_id=" + seed.Contacts[2], 1},
		{"assigned", "assigned_to=" + seed.Users[0], 5},
		{"q name", "q=enterprise", 3},
		{"pipeline", "pipeline_id=" + seed.PipelineID, 10},
		{"page 2", "page=2&limit=4", 4},
		{"page 3", "page=3&limit=4", 2},
		{"dates", "date=01-07-2025&endDate=01-07-2025", 10},
		{"dates outside", "date=02-01-2025", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.call("GET", "/opportunities/search?location_id="+testLoc+"&"+tc.query, nil).must(t, 200)
			if n := len(arr(t, res, "opportunities")); n != tc.want {
				t.Fatalf("%d opportunities, want %d: meta %s", n, tc.want, mustJSON(res["meta"]))
			}
		})
	}
}

func TestBusinesses(t *testing.T) {
	e := newEnv(t, Options{})
	seed := e.fake.SeedCRM(testLoc)

	cr := e.call("POST", "/businesses/", map[string]any{"locationId": testLoc, "name": "Wayne Enterprises",
		"email": "info@wayne.example.com", "city": "Gotham"}).must(t, 201)
	if cr["success"] != true {
		t.Fatalf("create %s", mustJSON(cr))
	}
	b := obj(t, cr, "buiseness") // sic, as the spec spells it
	requireKeys(t, b, "id", "name", "locationId", "createdAt", "updatedAt", "createdBy", "updatedBy")
	id := str(t, b, "id")
	if !objectIDRe.MatchString(id) {
		t.Fatalf("id %q", id)
	}
	if g := obj(t, e.call("GET", "/businesses/"+id, nil).must(t, 200), "business"); mustJSON(g) != mustJSON(b) {
		t.Fatalf("get %s", mustJSON(g))
	}
	list := arr(t, e.call("GET", "/businesses/?locationId="+testLoc, nil).must(t, 200), "businesses")
	if len(list) != SeedBusinesses+1 || list[0].(map[string]any)["id"] != seed.Businesses[0] {
		t.Fatalf("list %d", len(list))
	}
	if l := arr(t, e.call("GET", "/businesses/?locationId="+testLoc+"&skip=4&limit=1", nil).must(t, 200), "businesses"); len(l) != 1 || l[0].(map[string]any)["id"] != seed.Businesses[4] {
		t.Fatalf("skip/limit %s", mustJSON(l))
	}
	e.clock.Advance(time.Minute)
	up := e.call("PUT", "/businesses/"+id, map[string]any{"city": "Bludhaven"}).must(t, 200)
	if ub := obj(t, up, "buiseness"); up["success"] != true || ub["city"] != "Bludhaven" || ub["name"] != "Wayne Enterprises" {
		t.Fatalf("update %s", mustJSON(up))
	}
	e.call("PUT", "/businesses/"+id, map[string]any{"name": ""}).wantStatus(t, 422, "name should not be empty")
	if d := e.call("DELETE", "/businesses/"+id, nil).must(t, 200); mustJSON(d) != `{"success":true}` {
		t.Fatalf("delete %s", mustJSON(d))
	}
	e.call("GET", "/businesses/"+id, nil).wantStatus(t, 404, "Business not found")
	e.call("POST", "/businesses/", map[string]any{"locationId": testLoc}).wantStatus(t, 422, "name should not be empty")
	e.call("GET", "/businesses/", nil).wantStatus(t, 422, "locationId should not be empty")

	// Deleting a business unlinks its contacts.
	e.call("DELETE", "/businesses/"+seed.Businesses[0], nil).must(t, 200)
	c := obj(t, e.call("GET", "/contacts/"+seed.Contacts[0], nil).must(t, 200), "contact")
	if _, has := c["businessId"]; has {
		t.Fatalf("contact still linked: %s", mustJSON(c))
	}
}

func TestUsers(t *testing.T) {
	e := newEnv(t, Options{})
	seed := e.fake.SeedCRM(testLoc)
	list := arr(t, e.call("GET", "/users/?locationId="+testLoc, nil).must(t, 200), "users")
	if len(list) != SeedUsers {
		t.Fatalf("users %s", mustJSON(list))
	}
	u := e.call("GET", "/users/"+seed.Users[0], nil).must(t, 200)
	requireKeys(t, u, "id", "name", "firstName", "lastName", "email", "roles")
	if u["name"] != "Olivia Owner" || obj(t, u, "roles")["role"] != "admin" || mustJSON(u) != mustJSON(list[0]) {
		t.Fatalf("user %s", mustJSON(u))
	}
	e.call("GET", "/users/nobody", nil).wantStatus(t, 404, "User not found")
	e.call("GET", "/users/?locationId="+otherLoc, nil).wantStatus(t, 403, "does not have access")
}

func TestSeedCRMDeterministic(t *testing.T) {
	a, b := New(Options{}), New(Options{})
	ia, ib := a.SeedCRM("locA"), b.SeedCRM("locA")
	if mustJSON(ia) != mustJSON(ib) {
		t.Fatal("ids differ between runs")
	}
	if other := SeedCRMIDsFor("locB"); other.Contacts[0] == ia.Contacts[0] {
		t.Fatal("ids do not depend on the location")
	}
	seen := map[string]bool{}
	for _, list := range [][]string{ia.Users, ia.Businesses, ia.Contacts, ia.Opportunities, ia.StageIDs, {ia.PipelineID}} {
		for _, id := range list {
			if seen[id] {
				t.Fatalf("id %s twice", id)
			}
			seen[id] = true
		}
	}
	a.SeedCRM("locA") // seeding again replaces, it does not duplicate
	if n := a.ContactCount("locA"); n != SeedContacts {
		t.Fatalf("%d contacts after reseeding", n)
	}
}
