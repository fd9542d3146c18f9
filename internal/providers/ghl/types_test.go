package ghl

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"regexp"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
)

// TestTypeMappingFromGHL: every GHL dataType reads as its neutral type.
func TestTypeMappingFromGHL(t *testing.T) {
	tests := []struct {
		ghl  string
		want crm.PropertyType
	}{
		{"TEXT", crm.TypeText},
		{"LARGE_TEXT", crm.TypeTextarea},
		{"NUMERICAL", crm.TypeNumber},
		{"PHONE", crm.TypePhone},
		{"MONETORY", crm.TypeCurrency},
		{"SINGLE_OPTIONS", crm.TypePicklist},
		{"MULTIPLE_OPTIONS", crm.TypeMultipicklist},
		{"DATE", crm.TypeDate},
		{"FILE_UPLOAD", crm.TypeFile},
		{"EMAIL", crm.TypeEmail},
		{"CHECKBOX", crm.TypeMultipicklist},
		{"RADIO", crm.TypePicklist},
		{"TEXTBOX_LIST", crm.TypeOther},
		{"SIGNATURE", crm.TypeOther}, // unknown GHL types
		{"", crm.TypeOther},
	}
	for _, tt := range tests {
		if got := NeutralType(tt.ghl); got != tt.want {
			t.Errorf("NeutralType(%q) = %q, want %q", tt.ghl, got, tt.want)
		}
	}
}

// TestTypeMappingToGHL: every neutral type, with and without
// raw_details.ghl_data_type.
func TestTypeMappingToGHL(t *testing.T) {
	raw := func(dt any) map[string]any { return map[string]any{RawDataType: dt} }
	tests := []struct {
		typ      crm.PropertyType
		raw      map[string]any
		want     string
		badField string // violation expected on this field
	}{
		{typ: crm.TypeText, want: "TEXT"},
		{typ: crm.TypeTextarea, want: "LARGE_TEXT"},
		{typ: crm.TypeNumber, want: "NUMERICAL"},
		{typ: crm.TypePhone, want: "PHONE"},
		{typ: crm.TypeCurrency, want: "MONETORY"},
		{typ: crm.TypePicklist, want: "SINGLE_OPTIONS"},
		{typ: crm.TypeMultipicklist, want: "MULTIPLE_OPTIONS"},
		{typ: crm.TypeDate, want: "DATE"},
		{typ: crm.TypeFile, want: "FILE_UPLOAD"},
		{typ: crm.TypeEmail, want: "EMAIL"},
		{typ: crm.TypeMultipicklist, raw: raw("CHECKBOX"), want: "CHECKBOX"},
		{typ: crm.TypePicklist, raw: raw("RADIO"), want: "RADIO"},
		{typ: crm.TypeOther, raw: raw("TEXTBOX_LIST"), want: "TEXTBOX_LIST"},
		{typ: crm.TypeText, raw: raw("TEXT"), want: "TEXT"},
		{typ: crm.TypeURL, badField: "type"},
		{typ: crm.TypeDatetime, badField: "type"},
		{typ: crm.TypeBoolean, badField: "type"},
		{typ: crm.PropertyType("colour"), badField: "type"},
		{typ: crm.TypeOther, badField: "raw_details.ghl_data_type"},
		{typ: crm.TypeOther, raw: raw("TEXT"), badField: "raw_details.ghl_data_type"},
		{typ: crm.TypeText, raw: raw("CHECKBOX"), badField: "raw_details.ghl_data_type"},
		{typ: crm.TypePicklist, raw: raw("SIGNATURE"), badField: "raw_details.ghl_data_type"},
		{typ: crm.TypeText, raw: raw(42), badField: "raw_details.ghl_data_type"},
		{typ: crm.TypeURL, raw: raw("TEXT"), badField: "raw_details.ghl_data_type"},
	}
	for _, tt := range tests {
		got, err := DataType("type", tt.typ, tt.raw)
		if tt.badField == "" {
			if err != nil || got != tt.want {
				t.Errorf("DataType(%s, %v) = %q, %v; want %q", tt.typ, tt.raw, got, err, tt.want)
			}
			continue
		}
		var ve *crm.ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Field != tt.badField {
			t.Errorf("DataType(%s, %v) = %q, %v; want a violation on %s", tt.typ, tt.raw, got, err, tt.badField)
		}
	}
}

// TestPropertyRoundTrip: a field read from GHL and written back (as a
// caller copying the property would) recreates the same GHL field,
// including CHECKBOX, RADIO and TEXTBOX_LIST.
func TestPropertyRoundTrip(t *testing.T) {
	opts := []any{map[string]any{"key": "a", "label": "A"}, map[string]any{"key": "b", "label": "B"}}
	tests := []struct {
		dataType string
		extra    map[string]any
		neutral  crm.PropertyType
	}{
		{"TEXT", map[string]any{"placeholder": "type here"}, crm.TypeText},
		{"LARGE_TEXT", nil, crm.TypeTextarea},
		{"NUMERICAL", nil, crm.TypeNumber},
		{"PHONE", nil, crm.TypePhone},
		{"MONETORY", nil, crm.TypeCurrency},
		{"SINGLE_OPTIONS", map[string]any{"options": opts}, crm.TypePicklist},
		{"MULTIPLE_OPTIONS", map[string]any{"options": opts}, crm.TypeMultipicklist},
		{"DATE", nil, crm.TypeDate},
		{"FILE_UPLOAD", map[string]any{"acceptedFormats": ".pdf", "maxFileLimit": 3}, crm.TypeFile},
		{"EMAIL", nil, crm.TypeEmail},
		{"CHECKBOX", map[string]any{"options": opts, "showInForms": false}, crm.TypeMultipicklist},
		{"RADIO", map[string]any{"allowCustomOption": true, "options": []any{
			map[string]any{"key": "a", "label": "A", "url": "https://example.com/a.png"}, map[string]any{"key": "b", "label": "B"},
		}}, crm.TypePicklist},
		{"TEXTBOX_LIST", map[string]any{"options": opts}, crm.TypeOther},
	}
	for _, tt := range tests {
		t.Run(tt.dataType, func(t *testing.T) {
			raw := fieldJSON(petKey, "f", "Field", tt.dataType, "folder_pet", tt.extra)
			p, _, err := propertyFromGHL(petKey, json.RawMessage(raw))
			if err != nil {
				t.Fatal(err)
			}
			if p.ID != "f" || p.Label != "Field" || p.Type != tt.neutral || p.RawDetails[RawDataType] != tt.dataType {
				t.Fatalf("read %+v", p)
			}
			spec, vs := buildField("", petKey, p)
			if len(vs) > 0 {
				t.Fatalf("writing back: %+v", vs)
			}
			body := spec.body
			body.LocationID = testLoc
			sent, _ := json.Marshal(body)
			var gotBody, wantBody map[string]any
			_ = json.Unmarshal(sent, &gotBody)
			_ = json.Unmarshal([]byte(raw), &wantBody)
			// The create body carries exactly GHL's own attributes back.
			for _, k := range []string{"dataType", "fieldKey", "objectKey", "name", "parentId", "showInForms", "options", "placeholder", "acceptedFormats", "maxFileLimit", "allowCustomOption"} {
				if !reflect.DeepEqual(gotBody[k], wantBody[k]) {
					t.Errorf("%s: sent %v, read %v", k, gotBody[k], wantBody[k])
				}
			}
			// And reading the created field gives the same property.
			again, _, err := propertyFromGHL(petKey, sent)
			if err != nil {
				t.Fatal(err)
			}
			delete(p.RawDetails, RawID)
			if !reflect.DeepEqual(again.RawDetails, p.RawDetails) || again.Type != p.Type || !reflect.DeepEqual(again.Options, p.Options) {
				t.Errorf("round trip\n got %+v\nwant %+v", again, p)
			}
		})
	}
}

// TestTypeMappingDoc: docs/type-mapping.md states what the code does.
func TestTypeMappingDoc(t *testing.T) {
	b, err := os.ReadFile("../../../docs/type-mapping.md")
	if err != nil {
		t.Fatal(err)
	}
	fromGHL := regexp.MustCompile("(?m)^\\| `([A-Z_]+)`\\s*\\| `([a-z]+)`\\s*\\|")
	toGHL := regexp.MustCompile("(?m)^\\| `([a-z]+)`\\s*\\| (?:`([A-Z_]+)`|(none|— \\(required\\)))")
	rows := 0
	for _, m := range fromGHL.FindAllStringSubmatch(string(b), -1) {
		rows++
		if got := NeutralType(m[1]); string(got) != m[2] {
			t.Errorf("doc says %s reads as %s, code says %s", m[1], m[2], got)
		}
	}
	if rows != 13 {
		t.Errorf("doc has %d GHL → neutral rows, want 13", rows)
	}
	rows = 0
	for _, m := range toGHL.FindAllStringSubmatch(string(b), -1) {
		rows++
		got, err := DataType("type", crm.PropertyType(m[1]), nil)
		if m[2] != "" {
			if err != nil || got != m[2] {
				t.Errorf("doc says %s creates %s, code says %q, %v", m[1], m[2], got, err)
			}
		} else if err == nil {
			t.Errorf("doc says %s has no default GHL type, code says %s", m[1], got)
		}
	}
	if rows != len(crm.PropertyTypes) {
		t.Errorf("doc has %d neutral → GHL rows, want %d", rows, len(crm.PropertyTypes))
	}
}

func TestNames(t *testing.T) {
	for neutral, key := range map[string]string{
		"pet": "custom_objects.pet", "contact": "contact", "opportunity": "opportunity", "account": "business",
		"pet_owner2": "custom_objects.pet_owner2",
	} {
		got, err := ObjectKey(neutral)
		if err != nil || got != key {
			t.Errorf("ObjectKey(%q) = %q, %v; want %q", neutral, got, err, key)
		}
		if back := ObjectName(key); back != neutral {
			t.Errorf("ObjectName(%q) = %q, want %q", key, back, neutral)
		}
	}
	for _, bad := range []string{"", "Pet", "pet name", "1pet", "../x", "_x"} {
		if _, err := ObjectKey(bad); err == nil {
			t.Errorf("ObjectKey(%q) accepted", bad)
		}
	}
	for _, tt := range []struct{ obj, key, want string }{
		{"custom_objects.pet", "custom_objects.pet.name", "name"},
		{"custom_objects.pet", "custom_object.pet.name", "name"},
		{"business", "business.email", "email"},
		{"contact", "contact.first_name", "first_name"},
		{"opportunity", "opportunity.pipeline_id", "pipeline_id"},
		{"custom_objects.pet", "other.x", "other.x"},
	} {
		if got := PropertyID(tt.obj, tt.key); got != tt.want {
			t.Errorf("PropertyID(%q, %q) = %q, want %q", tt.obj, tt.key, got, tt.want)
		}
	}
}

func TestRecordProperties(t *testing.T) {
	ghl := map[string]any{
		"name": "Buddy", "age": float64(3), "money": map[string]any{"currency": "default", "value": float64(100)},
		"my_list.option_a": "A", "my_list.option_b": "B",
		"tags": []any{"x"}, "name.odd": "kept",
	}
	neutral := PropertiesFromGHL(ghl)
	want := map[string]any{
		"name": "Buddy", "age": float64(3), "money": map[string]any{"currency": "default", "value": float64(100)},
		"my_list": map[string]any{"option_a": "A", "option_b": "B"},
		"tags":    []any{"x"}, "name.odd": "kept",
	}
	if !reflect.DeepEqual(neutral, want) {
		t.Errorf("PropertiesFromGHL = %v\nwant %v", neutral, want)
	}
	back, err := PropertiesToGHL(neutral)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, ghl) {
		t.Errorf("PropertiesToGHL = %v\nwant %v", back, ghl)
	}
	if out, _ := PropertiesToGHL(map[string]any{"m": map[string]any{"value": 1}}); !reflect.DeepEqual(out, map[string]any{"m": map[string]any{"value": 1}}) {
		t.Errorf("money without currency split: %v", out)
	}
	if _, err := PropertiesToGHL(map[string]any{"": 1}); !errors.Is(err, crm.ErrInvalidArgument) {
		t.Errorf("empty key: %v", err)
	}
}

// TestPropertyRawDetails: RawDetails holds GHL's dataType and, exactly as
// GHL sent them, the attributes named in rawFieldKeys that are present and
// not null (whatever their JSON type), plus the option urls; nothing else.
func TestPropertyRawDetails(t *testing.T) {
	fields := []string{
		`{"id":"f1","fieldKey":"custom_objects.pet.name","name":"Name","dataType":"TEXT","parentId":"d1","showInForms":true,"locationId":"l","dateAdded":"x"}`,
		`{"id":"","fieldKey":"custom_objects.pet.a","dataType":"FILE_UPLOAD","parentId":"","showInForms":false,"acceptedFormats":".pdf","maxFileLimit":3,"placeholder":""}`,
		`{"id":null,"fieldKey":"custom_objects.pet.b","dataType":"RADIO","parentId":null,"showInForms":null,"placeholder":null,"allowCustomOption":true,
		  "options":[{"key":"a","label":"A","url":"https://e/a.png"},{"key":"b","label":"B","url":""}]}`,
		`{"fieldKey":"custom_objects.pet.c","dataType":"FUTURE_TYPE","placeholder":{"x":[1,"y"]},"maxFileLimit":"10","allowCustomOption":"yes","acceptedFormats":[".pdf",".png"]}`,
		`{"fieldKey":"custom_objects.pet.d"}`,
		`{"fieldKey":"custom_objects.pet.e","dataType":"","maxFileLimit":1.5e3,"options":null}`,
	}
	for _, raw := range fields {
		p, _, err := propertyFromGHL(petKey, json.RawMessage(raw))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		var all map[string]any
		if err := json.Unmarshal([]byte(raw), &all); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{}
		if dt, _ := all["dataType"].(string); dt != "" {
			want[RawDataType] = dt
		}
		for _, k := range rawFieldKeys {
			if v := all[k]; v != nil {
				want[k] = v
			}
		}
		urls := map[string]any{}
		opts, _ := all["options"].([]any)
		for _, o := range opts {
			o := o.(map[string]any)
			if u, _ := o["url"].(string); u != "" {
				urls[o["key"].(string)] = u
			}
		}
		if len(urls) > 0 {
			want[RawOptionURLs] = urls
		}
		if !reflect.DeepEqual(p.RawDetails, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", raw, p.RawDetails, want)
		}
	}
	// A typed attribute of the wrong JSON type is an undecodable field.
	for _, raw := range []string{`{"id":5}`, `{"parentId":true}`, `{"showInForms":"yes"}`} {
		if _, _, err := propertyFromGHL(petKey, json.RawMessage(raw)); err == nil {
			t.Errorf("%s: decoded", raw)
		}
	}
}
