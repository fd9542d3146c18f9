package ghlfake

import (
	"testing"
)

func TestCustomFieldsLifecycle(t *testing.T) {
	e := newEnv(t, Options{})
	createPetObject(t, e)

	list := e.call("GET", "/custom-fields/object-key/custom_objects.pet?locationId="+testLoc, nil).must(t, 200)
	folders := arr(t, list, "folders")
	if len(folders) != 1 || len(arr(t, list, "fields")) != 1 {
		t.Fatalf("new object: %s", mustJSON(list))
	}
	folderID := str(t, folders[0].(map[string]any), "id")

	// Create one field of every type.
	opts := []map[string]any{{"key": "dog", "label": "Dog"}, {"key": "cat", "label": "Cat"}}
	types := map[string]map[string]any{
		"TEXT": nil, "LARGE_TEXT": nil, "NUMERICAL": nil, "PHONE": nil, "MONETORY": nil, "DATE": nil, "EMAIL": nil,
		"CHECKBOX": {"options": opts}, "SINGLE_OPTIONS": {"options": opts}, "MULTIPLE_OPTIONS": {"options": opts},
		"RADIO":        {"options": []map[string]any{{"key": "a", "label": "A", "url": "https://x"}}, "allowCustomOption": true},
		"TEXTBOX_LIST": {"options": []map[string]any{{"key": "option_a", "label": "Option A"}, {"label": "Option B"}}},
		"FILE_UPLOAD":  {"acceptedFormats": ".pdf", "maxFileLimit": 2},
	}
	ids := map[string]string{}
	for dt, extra := range types {
		body := map[string]any{
			"locationId": testLoc, "name": "Field " + dt, "description": "d", "placeholder": "p", "showInForms": true,
			"dataType": dt, "fieldKey": "custom_objects.pet.f_" + lower(dt), "objectKey": "custom_objects.pet", "parentId": folderID,
		}
		for k, v := range extra {
			body[k] = v
		}
		f := obj(t, e.call("POST", "/custom-fields/", body).must(t, 201), "field")
		requireKeys(t, f, "locationId", "showInForms", "id", "objectKey", "dataType", "parentId", "fieldKey", "dateAdded", "dateUpdated", "name")
		if f["dataType"] != dt || f["fieldKey"] != "custom_objects.pet.f_"+lower(dt) || f["parentId"] != folderID || f["showInForms"] != true {
			t.Fatalf("%s: %s", dt, mustJSON(f))
		}
		ids[dt] = str(t, f, "id")
	}
	tl := obj(t, e.call("GET", "/custom-fields/"+ids["TEXTBOX_LIST"], nil).must(t, 200), "field")
	if mustJSON(tl["options"]) != `[{"key":"option_a","label":"Option A"},{"key":"option_b","label":"Option B"}]` {
		t.Fatalf("generated option key: %s", mustJSON(tl["options"]))
	}
	fu := obj(t, e.call("GET", "/custom-fields/"+ids["FILE_UPLOAD"], nil).must(t, 200), "field")
	if fu["acceptedFormats"] != ".pdf" || fu["maxFileLimit"] != float64(2) {
		t.Fatalf("file field %s", mustJSON(fu))
	}
	list = e.call("GET", "/custom-fields/object-key/custom_objects.pet?locationId="+testLoc, nil).must(t, 200)
	if n := len(arr(t, list, "fields")); n != 14 {
		t.Fatalf("want 14 fields, got %d", n)
	}

	// Update: name and options (adding one, keeping the others).
	up := obj(t, e.call("PUT", "/custom-fields/"+ids["SINGLE_OPTIONS"], map[string]any{
		"locationId": testLoc, "name": "Species", "showInForms": false,
		"options": []map[string]any{{"key": "dog", "label": "Dog"}, {"key": "cat", "label": "Cat"}, {"key": "bird", "label": "Bird"}},
	}).must(t, 200), "field")
	if up["name"] != "Species" || up["showInForms"] != false || len(up["options"].([]any)) != 3 || up["dataType"] != "SINGLE_OPTIONS" {
		t.Fatalf("updated %s", mustJSON(up))
	}

	// Delete: {succeded, id, key}.
	e.call("DELETE", "/custom-fields/"+ids["TEXT"], nil).wantError(t, 200,
		map[string]any{"succeded": true, "id": ids["TEXT"], "key": "custom_objects.pet.f_text"})
	e.call("GET", "/custom-fields/"+ids["TEXT"], nil).wantStatus(t, 404, "not found")
	e.call("DELETE", "/custom-fields/"+ids["TEXT"], nil).wantStatus(t, 404, "not found")
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestCustomFieldsErrors(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.SeedDemo(testLoc, 0)
	valid := func() map[string]any {
		return map[string]any{
			"locationId": testLoc, "name": "Color", "showInForms": true, "dataType": "TEXT",
			"fieldKey": "custom_objects.pet.color", "objectKey": "custom_objects.pet",
		}
	}
	tests := []struct {
		name   string
		mutate func(map[string]any)
		status int
		substr string
	}{
		{"duplicate fieldKey", func(b map[string]any) { b["fieldKey"] = "custom_objects.pet.name" }, 400, "already exists"},
		{"fieldKey of another object", func(b map[string]any) { b["fieldKey"] = "custom_objects.car.color" }, 400, "fieldKey"},
		{"spec typo prefix", func(b map[string]any) { b["fieldKey"] = "custom_object.pet.color" }, 400, "fieldKey"},
		{"bad dataType", func(b map[string]any) { b["dataType"] = "STRING" }, 422, "dataType must be one of the following values: TEXT, LARGE_TEXT"},
		{"no fieldKey", func(b map[string]any) { delete(b, "fieldKey") }, 422, "fieldKey should not be empty"},
		{"no name", func(b map[string]any) { b["name"] = "" }, 422, "name should not be empty"},
		{"unknown object", func(b map[string]any) { b["objectKey"] = "custom_objects.car" }, 404, "custom_objects.car"},
		{"contact fields", func(b map[string]any) { b["objectKey"] = "contact"; b["fieldKey"] = "contact.color" }, 400, "not supported"},
		{"options missing", func(b map[string]any) { b["dataType"] = "SINGLE_OPTIONS" }, 400, "options are required"},
		{"bad folder", func(b map[string]any) { b["parentId"] = "nope" }, 400, "Folder nope"},
		{"bad format", func(b map[string]any) { b["dataType"] = "FILE_UPLOAD"; b["acceptedFormats"] = ".exe" }, 422, "acceptedFormats"},
		{"showInForms type", func(b map[string]any) { b["showInForms"] = "yes" }, 422, "showInForms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := valid()
			tc.mutate(b)
			e.call("POST", "/custom-fields/", b).wantStatus(t, tc.status, tc.substr)
		})
	}

	// Business takes custom fields too.
	biz := obj(t, e.call("POST", "/custom-fields/", map[string]any{
		"locationId": testLoc, "name": "Tier", "showInForms": true, "dataType": "TEXT", "fieldKey": "tier", "objectKey": "business",
	}).must(t, 201), "field")
	if biz["fieldKey"] != "business.tier" {
		t.Fatalf("business field %s", mustJSON(biz))
	}

	fields := arr(t, e.call("GET", "/custom-fields/object-key/custom_objects.pet?locationId="+testLoc, nil).must(t, 200), "fields")
	byName := map[string]map[string]any{}
	for _, f := range fields {
		m := f.(map[string]any)
		byName[str(t, m, "fieldKey")] = m
	}
	species := str(t, byName["custom_objects.pet.species"], "id")
	name := str(t, byName["custom_objects.pet.name"], "id")

	t.Run("update rules", func(t *testing.T) {
		e.call("PUT", "/custom-fields/"+species, map[string]any{"locationId": testLoc, "dataType": "TEXT"}).wantStatus(t, 400, "dataType")
		e.call("PUT", "/custom-fields/"+species, map[string]any{"locationId": testLoc, "fieldKey": "custom_objects.pet.kind"}).wantStatus(t, 400, "fieldKey")
		e.call("PUT", "/custom-fields/"+species, map[string]any{"locationId": testLoc, "options": []map[string]any{{"key": "dog", "label": "Dog"}}}).
			wantStatus(t, 400, "Options cannot be removed")
		e.call("PUT", "/custom-fields/nope", map[string]any{"locationId": testLoc}).wantStatus(t, 404, "not found")
		e.call("PUT", "/custom-fields/"+species, map[string]any{"locationId": otherLoc}).wantStatus(t, 403, "does not have access")
	})
	t.Run("primary field cannot be deleted", func(t *testing.T) {
		e.call("DELETE", "/custom-fields/"+name, nil).wantStatus(t, 400, "primary display property")
	})
	t.Run("other location's field is not found", func(t *testing.T) {
		h := map[string]string{"Authorization": "Bearer " + otherToken, "Version": testVersion}
		e.callWith("GET", "/custom-fields/"+species, nil, h).wantStatus(t, 404, "not found")
	})
}

func TestCustomFieldFolders(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.SeedDemo(testLoc, 0)
	f := e.call("POST", "/custom-fields/folder", map[string]any{"objectKey": "custom_objects.pet", "name": "Health", "locationId": testLoc}).must(t, 201)
	id := str(t, f, "id")
	if f["name"] != "Health" || f["objectKey"] != "custom_objects.pet" || f["locationId"] != testLoc {
		t.Fatalf("folder %s", mustJSON(f))
	}
	up := e.call("PUT", "/custom-fields/folder/"+id, map[string]any{"name": "Medical", "locationId": testLoc}).must(t, 200)
	if up["name"] != "Medical" {
		t.Fatalf("updated %s", mustJSON(up))
	}
	folders := arr(t, e.call("GET", "/custom-fields/object-key/custom_objects.pet?locationId="+testLoc, nil).must(t, 200), "folders")
	if len(folders) != 2 || folders[1].(map[string]any)["id"] != id {
		t.Fatalf("folders %s", mustJSON(folders))
	}
	// A field in the folder keeps it from being deleted.
	field := obj(t, e.call("POST", "/custom-fields/", map[string]any{
		"locationId": testLoc, "name": "Weight", "showInForms": true, "dataType": "NUMERICAL",
		"fieldKey": "custom_objects.pet.weight", "objectKey": "custom_objects.pet", "parentId": id,
	}).must(t, 201), "field")
	e.call("DELETE", "/custom-fields/folder/"+id+"?locationId="+testLoc, nil).wantStatus(t, 400, "not empty")
	e.call("DELETE", "/custom-fields/"+str(t, field, "id"), nil).must(t, 200)
	e.call("DELETE", "/custom-fields/folder/"+id+"?locationId="+testLoc, nil).
		wantError(t, 200, map[string]any{"succeded": true, "id": id, "key": "Medical"})
	e.call("DELETE", "/custom-fields/folder/"+id+"?locationId="+testLoc, nil).wantStatus(t, 404, "not found")
	def := str(t, folders[0].(map[string]any), "id")
	e.call("DELETE", "/custom-fields/folder/"+def+"?locationId="+testLoc, nil).wantStatus(t, 400, "default folder")
	e.call("POST", "/custom-fields/folder", map[string]any{"objectKey": "custom_objects.pet", "locationId": testLoc}).wantStatus(t, 422, "name should not be empty")
}
