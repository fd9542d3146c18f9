package unified

import (
	"errors"
	"strings"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
)

func petSchema() crm.Schema {
	return crm.Schema{
		Object: crm.Object{Name: "pet", PrimaryFieldID: "name"},
		Properties: []crm.Property{
			{ID: "name", Type: crm.TypeText, IsRequired: true},
			{ID: "notes", Type: crm.TypeTextarea},
			{ID: "age", Type: crm.TypeNumber},
			{ID: "price", Type: crm.TypeCurrency},
			{ID: "email", Type: crm.TypeEmail},
			{ID: "site", Type: crm.TypeURL},
			{ID: "alive", Type: crm.TypeBoolean},
			{ID: "species", Type: crm.TypePicklist, Options: []crm.Option{{Value: "dog"}, {Value: "cat"}}},
			{ID: "tags", Type: crm.TypeMultipicklist, Options: []crm.Option{{Value: "a"}, {Value: "b"}}},
			{ID: "birthday", Type: crm.TypeDate},
			{ID: "seen", Type: crm.TypeDatetime},
			{ID: "files", Type: crm.TypeFile},
			{ID: "extra", Type: crm.TypeOther},
		},
	}
}

func TestValidateRecord(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]any
		partial bool
		// wantField is the violation's field, "" for valid input.
		wantField string
		wantText  string
	}{
		{name: "valid full", props: map[string]any{
			"name": "Rex", "notes": "x", "age": 3.0, "price": map[string]any{"currency": "default", "value": 10.5},
			"email": "a@b.co", "site": "https://x.io", "alive": true, "species": "dog", "tags": []any{"a", "b"},
			"birthday": "2020-01-31", "seen": "2024-01-02T03:04:05Z", "files": []any{map[string]any{"url": "https://f"}},
			"extra": map[string]any{"anything": 1.0},
		}},
		{name: "partial without required", props: map[string]any{"age": 1.0}, partial: true},
		{name: "null optional", props: map[string]any{"name": "a", "age": nil}},
		{name: "missing required", props: map[string]any{"age": 1.0}, wantField: "record.properties.name", wantText: "is required"},
		{name: "null required", props: map[string]any{"name": nil}, partial: true, wantField: "record.properties.name", wantText: "cannot be null"},
		{name: "unknown property", props: map[string]any{"name": "a", "colour": "red"}, wantField: "record.properties.colour", wantText: "unknown property"},
		{name: "number as string", props: map[string]any{"name": "a", "age": "3"}, wantField: "record.properties.age", wantText: "must be a number, got a string"},
		{name: "text as number", props: map[string]any{"name": 5.0}, wantField: "record.properties.name", wantText: "must be a string"},
		{name: "bad option", props: map[string]any{"name": "a", "species": "cow"}, wantField: "record.properties.species", wantText: `"cow" is not an option`},
		{name: "multi not array", props: map[string]any{"name": "a", "tags": "a"}, wantField: "record.properties.tags", wantText: "array"},
		{name: "multi bad option", props: map[string]any{"name": "a", "tags": []any{"a", "z"}}, wantField: "record.properties.tags", wantText: `[1] "z" is not an option`},
		{name: "bad date", props: map[string]any{"name": "a", "birthday": "31/01/2020"}, wantField: "record.properties.birthday", wantText: "YYYY-MM-DD"},
		{name: "bad datetime", props: map[string]any{"name": "a", "seen": "yesterday"}, wantField: "record.properties.seen", wantText: "RFC 3339"},
		{name: "bad email", props: map[string]any{"name": "a", "email": "nope"}, wantField: "record.properties.email", wantText: "not an email"},
		{name: "relative url", props: map[string]any{"name": "a", "site": "/x"}, wantField: "record.properties.site", wantText: "absolute URL"},
		{name: "bool as string", props: map[string]any{"name": "a", "alive": "yes"}, wantField: "record.properties.alive", wantText: "true or false"},
		{name: "currency plain number", props: map[string]any{"name": "a", "price": 10.0}, wantField: "record.properties.price", wantText: "currency"},
		{name: "currency extra key", props: map[string]any{"name": "a", "price": map[string]any{"value": 1.0, "x": 1.0}}, wantField: "record.properties.price", wantText: `unexpected key "x"`},
		{name: "currency string value", props: map[string]any{"name": "a", "price": map[string]any{"value": "1"}}, wantField: "record.properties.price", wantText: "value must be a number"},
		{name: "file without url", props: map[string]any{"name": "a", "files": []any{map[string]any{}}}, wantField: "record.properties.files", wantText: "[0].url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateRecord(petSchema(), tt.props, tt.partial)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ve *crm.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want ValidationError, got %v", err)
			}
			if !errors.Is(err, crm.ErrInvalidArgument) {
				t.Error("ValidationError should match ErrInvalidArgument")
			}
			for _, v := range ve.Violations {
				if v.Field == tt.wantField && strings.Contains(v.Description, tt.wantText) {
					return
				}
			}
			t.Fatalf("want violation %s containing %q, got %+v", tt.wantField, tt.wantText, ve.Violations)
		})
	}
}

func TestPageSize(t *testing.T) {
	for _, tt := range []struct {
		in      int32
		want    int
		wantErr bool
	}{{0, 100, false}, {1, 1, false}, {100, 100, false}, {101, 100, false}, {5000, 100, false}, {-1, 0, true}} {
		got, err := pageSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("pageSize(%d) = %d, %v; want %d, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestNames(t *testing.T) {
	for _, tt := range []struct {
		check func(string, string) error
		in    string
		ok    bool
	}{
		{checkObjectName, "pet", true}, {checkObjectName, "pet_owner2", true}, {checkObjectName, "", false},
		{checkObjectName, "Pet", false}, {checkObjectName, "pet owner", false}, {checkObjectName, "../x", false},
		{checkObjectName, "custom_objects.pet", false},
		{checkID, "6b02d02d97f4d81fe2c7edc4", true}, {checkID, "a/b", false}, {checkID, strings.Repeat("a", 129), false},
		{checkPropertyID, "name", true}, {checkPropertyID, "1name", false}, {checkPropertyID, "a.b", false},
	} {
		if err := tt.check("f", tt.in); (err == nil) != tt.ok {
			t.Errorf("check(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestCheckPropertyDef(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    crm.Property
		want string // substring of a violation field, "" for valid
	}{
		{"valid", crm.Property{ID: "name", Label: "Name", Type: crm.TypeText}, ""},
		{"no label", crm.Property{ID: "name", Type: crm.TypeText}, "f.label"},
		{"bad type", crm.Property{ID: "name", Label: "N", Type: "string"}, "f.type"},
		{"picklist without options", crm.Property{ID: "s", Label: "S", Type: crm.TypePicklist}, "f.options"},
		{"duplicate option", crm.Property{ID: "s", Label: "S", Type: crm.TypePicklist, Options: []crm.Option{{Value: "a"}, {Value: "a"}}}, "f.options[1].value"},
		{"bad id", crm.Property{ID: "has space", Label: "S", Type: crm.TypeText}, "f.id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := checkPropertyDef("f", tt.p)
			if tt.want == "" {
				if len(v) != 0 {
					t.Fatalf("unexpected violations %+v", v)
				}
				return
			}
			for _, x := range v {
				if x.Field == tt.want {
					return
				}
			}
			t.Fatalf("want violation on %s, got %+v", tt.want, v)
		})
	}
}
