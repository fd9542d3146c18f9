package ghlfake

import (
	"regexp"
	"testing"
)

var (
	objectIDRe = regexp.MustCompile(`^[0-9a-f]{24}$`)
	shortIDRe  = regexp.MustCompile(`^[A-Za-z0-9]{20}$`)
	stampRe    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

func createPetObject(t *testing.T, e *env) map[string]any {
	t.Helper()
	return e.call("POST", "/objects/", map[string]any{
		"labels":      map[string]any{"singular": "Pet", "plural": "Pets"},
		"key":         "custom_objects.pet",
		"description": "These are non vaccinated pets",
		"locationId":  testLoc,
		"primaryDisplayPropertyDetails": map[string]any{
			"key": "custom_objects.pet.name", "name": "Pet name", "dataType": "TEXT",
		},
	}).must(t, 201)
}

func TestObjectsListStandard(t *testing.T) {
	e := newEnv(t, Options{})
	body := e.call("GET", "/objects/?locationId="+testLoc, nil).must(t, 200)
	objs := arr(t, body, "objects")
	keys := map[string]map[string]any{}
	for _, o := range objs {
		m := o.(map[string]any)
		keys[str(t, m, "key")] = m
		requireKeys(t, m, "id", "standard", "key", "labels", "locationId", "primaryDisplayProperty", "dateAdded", "dateUpdated", "type")
	}
	for _, k := range []string{"contact", "opportunity", "business"} {
		m := keys[k]
		if m == nil {
			t.Fatalf("standard object %s missing: %s", k, mustJSON(body))
		}
		if m["standard"] != true || m["type"] != "SYSTEM_DEFINED" || m["locationId"] != testLoc {
			t.Errorf("standard object %s: %s", k, mustJSON(m))
		}
		if !objectIDRe.MatchString(str(t, m, "id")) || !stampRe.MatchString(str(t, m, "dateAdded")) {
			t.Errorf("id/date of %s: %s", k, mustJSON(m))
		}
	}
	if len(objs) != 3 {
		t.Fatalf("want 3 objects, got %d", len(objs))
	}
}

func TestObjectsCreateGetUpdate(t *testing.T) {
	e := newEnv(t, Options{})
	o := obj(t, createPetObject(t, e), "object")
	want := map[string]any{
		"standard": false, "key": "custom_objects.pet", "labels": map[string]any{"singular": "Pet", "plural": "Pets"},
		"description": "These are non vaccinated pets", "locationId": testLoc,
		"primaryDisplayProperty": "custom_objects.pet.name", "type": "USER_DEFINED",
		"searchableProperties": []any{"custom_objects.pet.name"},
	}
	for k, v := range want {
		if mustJSON(o[k]) != mustJSON(v) {
			t.Errorf("%s = %s, want %s", k, mustJSON(o[k]), mustJSON(v))
		}
	}
	id := str(t, o, "id")

	// Listed with the standard ones; gettable by key and by id.
	objs := arr(t, e.call("GET", "/objects/?locationId="+testLoc, nil).must(t, 200), "objects")
	if len(objs) != 4 {
		t.Fatalf("want 4 objects, got %d", len(objs))
	}
	for _, key := range []string{"custom_objects.pet", id} {
		got := e.call("GET", "/objects/"+key+"?locationId="+testLoc, nil).must(t, 200)
		if got["cache"] != false || obj(t, got, "object")["id"] != id {
			t.Fatalf("get %s: %s", key, mustJSON(got))
		}
		if _, has := got["fields"]; has {
			t.Fatalf("fields without fetchProperties: %s", mustJSON(got))
		}
	}

	// fetchProperties returns the primary display field created with the object.
	got := e.call("GET", "/objects/custom_objects.pet?locationId="+testLoc+"&fetchProperties=true", nil).must(t, 200)
	fields := arr(t, got, "fields")
	if len(fields) != 1 {
		t.Fatalf("want the primary field, got %s", mustJSON(fields))
	}
	f := fields[0].(map[string]any)
	if f["fieldKey"] != "custom_objects.pet.name" || f["name"] != "Pet name" || f["dataType"] != "TEXT" ||
		f["objectKey"] != "custom_objects.pet" || f["locationId"] != testLoc || !shortIDRe.MatchString(str(t, f, "id")) ||
		str(t, f, "parentId") == "" {
		t.Fatalf("primary field %s", mustJSON(f))
	}

	// Update labels, description, searchable properties.
	up := e.call("PUT", "/objects/custom_objects.pet", map[string]any{
		"labels": map[string]any{"singular": "Animal"}, "description": nil, "locationId": testLoc,
		"searchableProperties": []string{"custom_objects.pet.name"},
	}).must(t, 200)
	uo := obj(t, up, "object")
	if mustJSON(uo["labels"]) != `{"plural":"Pets","singular":"Animal"}` || uo["description"] != nil {
		t.Fatalf("updated %s", mustJSON(uo))
	}
	e.call("PUT", "/objects/custom_objects.pet", map[string]any{"locationId": testLoc, "searchableProperties": []string{"custom_objects.pet.nope"}}).
		wantStatus(t, 400, "custom_objects.pet.nope")

	// Standard objects: searchable properties only.
	e.call("PUT", "/objects/business", map[string]any{"locationId": testLoc, "searchableProperties": []string{"business.name", "business.email"}}).must(t, 200)
	e.call("PUT", "/objects/business", map[string]any{"locationId": testLoc, "labels": map[string]any{"singular": "X"}, "searchableProperties": []string{}}).
		wantStatus(t, 400, "standard object")
	got = e.call("GET", "/objects/business?locationId="+testLoc+"&fetchProperties=true", nil).must(t, 200)
	if len(arr(t, got, "fields")) < 5 || mustJSON(obj(t, got, "object")["searchableProperties"]) != `["business.name","business.email"]` {
		t.Fatalf("business %s", mustJSON(got))
	}
}

func TestObjectsErrors(t *testing.T) {
	e := newEnv(t, Options{})
	createPetObject(t, e)
	valid := func() map[string]any {
		return map[string]any{
			"labels": map[string]any{"singular": "Car", "plural": "Cars"}, "key": "custom_objects.car", "locationId": testLoc,
			"primaryDisplayPropertyDetails": map[string]any{"key": "custom_objects.car.name", "name": "Name", "dataType": "TEXT"},
		}
	}
	tests := []struct {
		name   string
		mutate func(map[string]any)
		status int
		substr string
	}{
		{"duplicate key", func(b map[string]any) { b["key"] = "custom_objects.pet" }, 400, "already exists"},
		{"bad key", func(b map[string]any) { b["key"] = "custom_objects.Car Park" }, 400, "key"},
		{"no labels", func(b map[string]any) { delete(b, "labels") }, 422, "labels should not be empty"},
		{"no key", func(b map[string]any) { delete(b, "key") }, 422, "key should not be empty"},
		{"no primary", func(b map[string]any) { delete(b, "primaryDisplayPropertyDetails") }, 422, "primaryDisplayPropertyDetails should not be empty"},
		{"primary of another object", func(b map[string]any) {
			b["primaryDisplayPropertyDetails"] = map[string]any{"key": "custom_objects.pet.name", "name": "N", "dataType": "TEXT"}
		}, 400, "primaryDisplayPropertyDetails.key"},
		{"primary type", func(b map[string]any) {
			b["primaryDisplayPropertyDetails"] = map[string]any{"key": "name", "name": "N", "dataType": "DATE"}
		}, 400, "TEXT or NUMERICAL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := valid()
			tc.mutate(b)
			e.call("POST", "/objects/", b).wantStatus(t, tc.status, tc.substr)
		})
	}

	t.Run("prefix added", func(t *testing.T) {
		b := valid()
		b["key"] = "car"
		b["primaryDisplayPropertyDetails"] = map[string]any{"key": "name", "name": "Name", "dataType": "NUMERICAL"}
		o := obj(t, e.call("POST", "/objects/", b).must(t, 201), "object")
		if o["key"] != "custom_objects.car" || o["primaryDisplayProperty"] != "custom_objects.car.name" {
			t.Fatalf("%s", mustJSON(o))
		}
	})
	t.Run("unknown object", func(t *testing.T) {
		e.call("GET", "/objects/custom_objects.nope?locationId="+testLoc, nil).
			wantError(t, 404, map[string]any{"statusCode": 404, "message": "Object schema custom_objects.nope not found", "error": "Not Found"})
		e.call("PUT", "/objects/custom_objects.nope", map[string]any{"locationId": testLoc}).wantStatus(t, 404, "not found")
	})
	t.Run("objects are per location", func(t *testing.T) {
		h := map[string]string{"Authorization": "Bearer " + otherToken, "Version": testVersion}
		e.callWith("GET", "/objects/custom_objects.pet?locationId="+otherLoc, nil, h).wantStatus(t, 404, "not found")
	})
}
