package ghlfake

import (
	"testing"
)

func createAssociation(t *testing.T, e *env, key, first, second string) map[string]any {
	t.Helper()
	return e.call("POST", "/associations/", map[string]any{
		"locationId": testLoc, "key": key,
		"firstObjectLabel": "pet", "firstObjectKey": first,
		"secondObjectLabel": "owner", "secondObjectKey": second,
	}).must(t, 201)
}

func TestAssociations(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.SeedDemo(testLoc, 0)
	a := createAssociation(t, e, "pet_owner", "custom_objects.pet", "contact")
	id := str(t, a, "id")
	want := map[string]any{
		"locationId": testLoc, "id": id, "key": "pet_owner", "firstObjectLabel": "pet", "firstObjectKey": "custom_objects.pet",
		"secondObjectLabel": "owner", "secondObjectKey": "contact", "associationType": "USER_DEFINED",
	}
	if mustJSON(normalize(a)) != mustJSON(normalize(want)) || !objectIDRe.MatchString(id) {
		t.Fatalf("created %s", mustJSON(a))
	}
	b := createAssociation(t, e, "pet_company", "custom_objects.pet", "business")
	createAssociation(t, e, "contact_company", "contact", "business")

	e.call("GET", "/associations/"+id, nil).wantError(t, 200, want)
	e.call("GET", "/associations/key/pet_owner?locationId="+testLoc, nil).wantError(t, 200, want)

	list := e.call("GET", "/associations/?locationId="+testLoc+"&skip=1&limit=1", nil).must(t, 200)
	page := arr(t, list, "associations")
	if list["total"] != float64(3) || len(page) != 1 || page[0].(map[string]any)["id"] != b["id"] {
		t.Fatalf("list %s", mustJSON(list))
	}
	all := arr(t, e.call("GET", "/associations/?locationId="+testLoc, nil).must(t, 200), "associations")
	if len(all) != 3 {
		t.Fatalf("list without paging: %d", len(all))
	}
	byObj := arr(t, e.call("GET", "/associations/objectKey/custom_objects.pet?locationId="+testLoc, nil).must(t, 200), "associations")
	if len(byObj) != 2 {
		t.Fatalf("by object key: %s", mustJSON(byObj))
	}
	if n := len(arr(t, e.call("GET", "/associations/objectKey/business", nil).must(t, 200), "associations")); n != 2 {
		t.Fatalf("by object key business: %d", n)
	}

	up := e.call("PUT", "/associations/"+id, map[string]any{"firstObjectLabel": "animal", "secondObjectLabel": "human"}).must(t, 200)
	if up["firstObjectLabel"] != "animal" || up["secondObjectLabel"] != "human" || up["key"] != "pet_owner" {
		t.Fatalf("updated %s", mustJSON(up))
	}
	e.call("PUT", "/associations/"+id, map[string]any{"firstObjectLabel": "animal"}).
		wantError(t, 422, map[string]any{"statusCode": 422, "message": []any{"secondObjectLabel should not be empty"}, "error": "Unprocessable Entity"})

	e.call("DELETE", "/associations/"+id, nil).wantError(t, 200, map[string]any{"deleted": true, "id": id, "message": "Association deleted successfully"})
	e.call("GET", "/associations/"+id, nil).wantStatus(t, 404, "not found")
	e.call("DELETE", "/associations/"+id, nil).wantStatus(t, 404, "not found")
	e.call("GET", "/associations/key/pet_owner?locationId="+testLoc, nil).wantStatus(t, 404, "not found")

	errs := []struct {
		name   string
		body   map[string]any
		status int
		substr string
	}{
		{"duplicate key", map[string]any{"key": "pet_company", "firstObjectLabel": "a", "firstObjectKey": "contact", "secondObjectLabel": "b", "secondObjectKey": "contact"}, 400, "already exists"},
		{"unknown object", map[string]any{"key": "k", "firstObjectLabel": "a", "firstObjectKey": "custom_objects.car", "secondObjectLabel": "b", "secondObjectKey": "contact"}, 400, "custom_objects.car"},
		{"missing fields", map[string]any{"key": "k"}, 422, "firstObjectLabel should not be empty"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			tc.body["locationId"] = testLoc
			e.call("POST", "/associations/", tc.body).wantStatus(t, tc.status, tc.substr)
		})
	}
}

func TestRelations(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.SeedDemo(testLoc, 3)
	pets, _, _ := search(t, e, map[string]any{"pageLimit": 3})
	owner := createAssociation(t, e, "pet_owner", "custom_objects.pet", "contact")
	friend := createAssociation(t, e, "pet_friend", "custom_objects.pet", "custom_objects.pet")
	ownerID, friendID := str(t, owner, "id"), str(t, friend, "id")
	const contactID = "emqfhnG3g9D9chy9inTz"

	relate := func(assoc, first, second string) resp {
		return e.call("POST", "/associations/relations", map[string]any{
			"locationId": testLoc, "associationId": assoc, "firstRecordId": first, "secondRecordId": second,
		})
	}
	rel := relate(ownerID, pets[0], contactID).must(t, 201)
	want := map[string]any{
		"id": rel["id"], "associationId": ownerID, "firstObjectKey": "custom_objects.pet", "firstRecordId": pets[0],
		"secondObjectKey": "contact", "secondRecordId": contactID, "locationId": testLoc,
	}
	if mustJSON(normalize(rel)) != mustJSON(normalize(want)) {
		t.Fatalf("relation %s", mustJSON(rel))
	}
	relate(ownerID, pets[0], contactID).wantError(t, 400, map[string]any{
		"statusCode": 400, "message": "Could not create relation: duplicate relation of object Ids for given association " + ownerID,
	})
	relate(ownerID, pets[1], contactID).must(t, 201)
	f1 := relate(friendID, pets[0], pets[1]).must(t, 201)
	relate(friendID, pets[2], pets[0]).must(t, 201)

	relate("nope", pets[0], contactID).wantStatus(t, 400, "Association nope not found")
	relate(friendID, pets[0], "0123456789abcdef01234567").wantStatus(t, 400, "not found")
	relate(ownerID, "", contactID).wantStatus(t, 422, "firstRecordId should not be empty")

	list := func(recordID, query string) (int, []any) {
		res := e.call("GET", "/associations/relations/"+recordID+"?locationId="+testLoc+query, nil).must(t, 200)
		return int(res["total"].(float64)), arr(t, res, "relations")
	}
	if total, rels := list(pets[0], "&skip=0&limit=10"); total != 3 || len(rels) != 3 {
		t.Fatalf("relations of pet 0: %d %v", total, rels)
	}
	if total, rels := list(pets[0], "&skip=1&limit=1"); total != 3 || len(rels) != 1 {
		t.Fatalf("paged: %d %v", total, rels)
	}
	for _, q := range []string{"&associationIds=" + friendID, "&associationIds[]=" + friendID, "&associationIds=" + friendID + ",zzz"} {
		if total, _ := list(pets[0], q); total != 2 {
			t.Fatalf("filter %s: %d", q, total)
		}
	}
	if total, _ := list(contactID, ""); total != 2 {
		t.Fatalf("relations of the contact: %d", total)
	}
	if total, _ := list("unknown", ""); total != 0 {
		t.Fatalf("relations of unknown: %d", total)
	}

	// Delete answers the relation; deleting a record drops its relations.
	relID := str(t, f1, "id")
	e.call("DELETE", "/associations/relations/"+relID+"?locationId="+testLoc, nil).wantError(t, 200, f1)
	e.call("DELETE", "/associations/relations/"+relID+"?locationId="+testLoc, nil).wantStatus(t, 404, "not found")
	e.call("DELETE", petRecords+"/"+pets[0], nil).must(t, 200)
	if total, _ := list(contactID, ""); total != 1 {
		t.Fatalf("after deleting the record: %d", total)
	}
	// Deleting an association drops its relations.
	e.call("DELETE", "/associations/"+ownerID, nil).must(t, 200)
	if total, _ := list(contactID, ""); total != 0 {
		t.Fatalf("after deleting the association: %d", total)
	}
	e.call("GET", "/associations/relations/x?locationId="+testLoc+"&limit=abc", nil).wantStatus(t, 422, "limit must be a number")
}
