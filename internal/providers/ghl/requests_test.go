package ghl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
)

const petKey = "custom_objects.pet"

var (
	petObjectJSON = objectJSON(petKey, false, petKey+".name")
	petSchemaJSON = `{"cache":false,"object":` + petObjectJSON + `,"fields":[` +
		fieldJSON(petKey, "name", "Name", "TEXT", "folder_pet", nil) + `,` +
		fieldJSON(petKey, "age", "Age", "NUMERICAL", "folder_pet", nil) + `]}`
	petFieldsListing = `{"fields":[` +
		fieldJSON(petKey, "name", "Name", "TEXT", "folder_pet", nil) + `,` +
		fieldJSON(petKey, "kind", "Kind", "RADIO", "folder_pet", map[string]any{
			"showInForms": false,
			"options": []any{
				map[string]any{"key": "cat", "label": "Cat", "url": "https://example.com/cat.png"},
				map[string]any{"key": "dog", "label": "Dog"},
			},
		}) + `],"folders":[{"id":"folder_pet","name":"Pet","objectKey":"` + petKey + `","locationId":"loc1"}]}`
)

func recordJSON(id string, props map[string]any, searchAfter ...any) string {
	r := map[string]any{
		"id": id, "owner": []string{"u1"}, "followers": []string{},
		"properties": props, "locationId": testLoc, "objectKey": petKey,
		"createdAt": "2025-02-04T15:43:48.372Z", "updatedAt": "2025-02-05T08:00:00.000Z",
	}
	if len(searchAfter) > 0 {
		r["searchAfter"] = searchAfter
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// TestRequests asserts the exact requests of every operation: method,
// escaped path, query, headers (checked on every request) and JSON body.
func TestRequests(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		ex   []exchange
		call func(t *testing.T, c *Client)
	}{
		{
			name: "Check",
			ex:   []exchange{{method: "GET", path: "/objects/", query: locQ(), resp: `{"objects":[]}`}},
			call: func(t *testing.T, c *Client) {
				if err := c.Check(ctx); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "ListObjects",
			ex: []exchange{{method: "GET", path: "/objects/", query: locQ(), resp: `{"objects":[` +
				objectJSON("contact", true, "contact.name") + `,` + objectJSON("business", true, "business.name") + `,` +
				objectJSON("opportunity", true, "opportunity.name") + `,` + petObjectJSON + `]}`}},
			call: func(t *testing.T, c *Client) {
				objs, err := c.ListObjects(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, o := range objs {
					got = append(got, fmt.Sprintf("%s/%s/%s", o.Name, o.Type, o.PrimaryFieldID))
				}
				want := []string{"contact/standard/name", "account/standard/name", "opportunity/standard/name", "pet/custom/name"}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
				if !strings.Contains(string(objs[3].Raw), `"custom_objects.pet"`) {
					t.Errorf("Raw = %s", objs[3].Raw)
				}
			},
		},
		{
			name: "GetSchema",
			ex:   []exchange{{method: "GET", path: "/objects/custom_objects.pet", query: locQ("fetchProperties", "true"), resp: petSchemaJSON}},
			call: func(t *testing.T, c *Client) {
				s, err := c.GetSchema(ctx, "pet")
				if err != nil {
					t.Fatal(err)
				}
				o := s.Object
				if o.Name != "pet" || o.Type != crm.ObjectCustom || o.Labels != (crm.Labels{Singular: "Pet", Plural: "Pets"}) ||
					o.Description != "Pets of customers" || o.PrimaryFieldID != "name" {
					t.Errorf("object %+v", o)
				}
				if want := time.Date(2024, 7, 11, 10, 0, 0, 123e6, time.UTC); !o.CreatedAt.Equal(want) {
					t.Errorf("CreatedAt %v, want %v", o.CreatedAt, want)
				}
				if want := time.Date(2024, 7, 12, 11, 30, 0, 456e6, time.UTC); !o.UpdatedAt.Equal(want) {
					t.Errorf("UpdatedAt %v, want %v", o.UpdatedAt, want)
				}
				if len(s.Properties) != 2 || s.Properties[0].ID != "name" || s.Properties[1].ID != "age" || s.Properties[1].Type != crm.TypeNumber {
					t.Errorf("properties %+v", s.Properties)
				}
				if got := s.Properties[1].RawDetails; got[RawID] != "fld_age" || got[RawParentID] != "folder_pet" || got[RawDataType] != "NUMERICAL" || got[RawShowInForms] != true {
					t.Errorf("raw details %v", got)
				}
			},
		},
		{
			name: "GetSchema/account",
			ex: []exchange{{method: "GET", path: "/objects/business", query: locQ("fetchProperties", "true"),
				resp: `{"cache":true,"object":` + objectJSON("business", true, "business.name") + `,"fields":[` +
					fieldJSON("business", "email", "Email", "EMAIL", "f1", nil) + `]}`}},
			call: func(t *testing.T, c *Client) {
				s, err := c.GetSchema(ctx, "account")
				if err != nil {
					t.Fatal(err)
				}
				if s.Object.Name != "account" || s.Object.Type != crm.ObjectStandard || s.Properties[0].ID != "email" || s.Properties[0].Type != crm.TypeEmail {
					t.Errorf("schema %+v", s)
				}
			},
		},
		{
			name: "CreateObject",
			ex: []exchange{
				{method: "POST", path: "/objects/", body: "@create_object", status: 201, resp: wrap("object", petObjectJSON)},
				{method: "GET", path: "/custom-fields/object-key/custom_objects.pet", query: locQ(),
					resp: `{"fields":[` + fieldJSON(petKey, "name", "Name", "TEXT", "folder_pet", nil) + `],"folders":[{"id":"folder_other","name":"Other"}]}`},
				{method: "POST", path: "/custom-fields/", body: "@create_field_age", status: 201, resp: wrap("field", fieldJSON(petKey, "age", "Age", "NUMERICAL", "folder_pet", nil))},
				{method: "POST", path: "/custom-fields/", body: "@create_field_kind", status: 201, resp: wrap("field", fieldJSON(petKey, "kind", "Kind", "RADIO", "folder_pet", nil))},
				{method: "GET", path: "/objects/custom_objects.pet", query: locQ("fetchProperties", "true"), resp: petSchemaJSON},
			},
			call: func(t *testing.T, c *Client) {
				s, err := c.CreateObject(ctx, crm.ObjectInput{
					Name: "pet", Description: "Pets of customers", Labels: crm.Labels{Singular: "Pet", Plural: "Pets"},
					PrimaryFieldID: "name",
					Fields: []crm.Property{
						{ID: "age", Label: "Age", Type: crm.TypeNumber},
						{ID: "name", Label: "Name", Type: crm.TypeText},
						{ID: "kind", Label: "Kind", Description: "What animal", Type: crm.TypePicklist,
							Options: []crm.Option{{Value: "cat", Label: "Cat"}, {Value: "dog", Label: "Dog"}},
							RawDetails: map[string]any{
								RawDataType: "RADIO", RawPlaceholder: "pick one", RawShowInForms: false, RawAllowCustomOption: true,
								RawOptionURLs: map[string]any{"cat": "https://example.com/cat.png"}, RawID: "ignored",
							}},
					},
				})
				if err != nil {
					t.Fatal(err)
				}
				if s.Object.Name != "pet" {
					t.Errorf("schema %+v", s)
				}
			},
		},
		{
			name: "CreateObject/primaryOnlyWithDescription",
			ex: []exchange{
				{method: "POST", path: "/objects/", status: 201, body: `{"labels":{"singular":"Pet","plural":"Pets"},"key":"custom_objects.pet","locationId":"loc1",
					"primaryDisplayPropertyDetails":{"key":"custom_objects.pet.code","name":"Code","dataType":"NUMERICAL"}}`,
					resp: wrap("object", petObjectJSON)},
				{method: "GET", path: "/custom-fields/object-key/custom_objects.pet", query: locQ(),
					resp: `{"fields":[` + fieldJSON(petKey, "code", "Code", "NUMERICAL", "folder_pet", nil) + `],"folders":[]}`},
				{method: "PUT", path: "/custom-fields/fld_code", body: `{"locationId":"loc1","description":"the code","placeholder":"123","showInForms":true}`,
					resp: wrap("field", fieldJSON(petKey, "code", "Code", "NUMERICAL", "folder_pet", nil))},
				{method: "GET", path: "/objects/custom_objects.pet", query: locQ("fetchProperties", "true"), resp: petSchemaJSON},
			},
			call: func(t *testing.T, c *Client) {
				_, err := c.CreateObject(ctx, crm.ObjectInput{
					Name: "pet", Labels: crm.Labels{Singular: "Pet", Plural: "Pets"}, PrimaryFieldID: "code",
					Fields: []crm.Property{{ID: "code", Label: "Code", Description: "the code", Type: crm.TypeNumber, RawDetails: map[string]any{RawPlaceholder: "123"}}},
				})
				if err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "CreateObject/primaryOnly",
			ex: []exchange{
				{method: "POST", path: "/objects/", status: 201, body: `{"labels":{"singular":"Pet","plural":"Pets"},"key":"custom_objects.pet","locationId":"loc1",
					"primaryDisplayPropertyDetails":{"key":"custom_objects.pet.name","name":"Name","dataType":"TEXT"}}`,
					resp: wrap("object", petObjectJSON)},
				{method: "GET", path: "/objects/custom_objects.pet", query: locQ("fetchProperties", "true"), resp: petSchemaJSON},
			},
			call: func(t *testing.T, c *Client) {
				if _, err := c.CreateObject(ctx, crm.ObjectInput{
					Name: "pet", Labels: crm.Labels{Singular: "Pet", Plural: "Pets"}, PrimaryFieldID: "name",
					Fields: []crm.Property{{ID: "name", Label: "Name", Type: crm.TypeText}},
				}); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "UpdateObject",
			ex: []exchange{
				{method: "GET", path: "/objects/custom_objects.pet", query: locQ(), resp: wrap("object", petObjectJSON)},
				{method: "PUT", path: "/objects/custom_objects.pet", body: "@update_object", resp: wrap("object", strings.Replace(petObjectJSON, `"Pet"`, `"Animal"`, 1))},
			},
			call: func(t *testing.T, c *Client) {
				desc := "changed"
				o, err := c.UpdateObject(ctx, "pet", crm.ObjectPatch{Labels: &crm.Labels{Singular: "Animal", Plural: "Animals"}, Description: &desc})
				if err != nil {
					t.Fatal(err)
				}
				if o.Labels.Singular != "Animal" {
					t.Errorf("object %+v", o)
				}
			},
		},
		{
			name: "UpdateObject/noSearchableProperties",
			ex: []exchange{
				{method: "GET", path: "/objects/custom_objects.pet", query: locQ(), resp: `{"object":{"id":"p","key":"custom_objects.pet","standard":false,"labels":{"singular":"Pet","plural":"Pets"}}}`},
				{method: "PUT", path: "/objects/custom_objects.pet", body: `{"labels":{"plural":"Animals"},"description":"","locationId":"loc1","searchableProperties":[]}`,
					resp: `{"object":{"id":"p","key":"custom_objects.pet","standard":false,"labels":{"singular":"Pet","plural":"Animals"}}}`},
			},
			call: func(t *testing.T, c *Client) {
				empty := ""
				if _, err := c.UpdateObject(ctx, "pet", crm.ObjectPatch{Labels: &crm.Labels{Plural: "Animals"}, Description: &empty}); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "UpdateObject/standardRefused",
			ex: []exchange{
				{method: "GET", path: "/objects/business", query: locQ(), resp: `{"object":{"id":"b","key":"business","standard":true,"labels":{"singular":"Company","plural":"Companies"}}}`},
			},
			call: func(t *testing.T, c *Client) {
				desc := "x"
				if _, err := c.UpdateObject(ctx, "account", crm.ObjectPatch{Description: &desc}); !errors.Is(err, crm.ErrUnsupported) {
					t.Fatalf("err %v, want ErrUnsupported", err)
				}
			},
		},
		{
			name: "UpdateObject/emptyPatch",
			ex:   []exchange{{method: "GET", path: "/objects/contact", query: locQ(), resp: wrap("object", objectJSON("contact", true, "contact.name"))}},
			call: func(t *testing.T, c *Client) {
				o, err := c.UpdateObject(ctx, "contact", crm.ObjectPatch{})
				if err != nil || o.Name != "contact" {
					t.Fatalf("%+v, %v", o, err)
				}
			},
		},
		{
			name: "CreateProperty",
			ex: []exchange{
				{method: "GET", path: "/custom-fields/object-key/custom_objects.pet", query: locQ(), resp: petFieldsListing},
				{method: "POST", path: "/custom-fields/", body: "@create_field_age", status: 201, resp: wrap("field", fieldJSON(petKey, "age", "Age", "NUMERICAL", "folder_pet", nil))},
			},
			call: func(t *testing.T, c *Client) {
				p, err := c.CreateProperty(ctx, "pet", crm.Property{ID: "age", Label: "Age", Type: crm.TypeNumber})
				if err != nil {
					t.Fatal(err)
				}
				if p.ID != "age" || p.Type != crm.TypeNumber || p.Label != "Age" {
					t.Errorf("property %+v", p)
				}
			},
		},
		{
			name: "CreateProperty/accountFileWithParent",
			ex: []exchange{
				{method: "POST", path: "/custom-fields/", body: "@create_field_docs", status: 201,
					resp: wrap("field", fieldJSON("business", "documents", "Documents", "FILE_UPLOAD", "folder_custom", map[string]any{"acceptedFormats": ".pdf", "maxFileLimit": 2}))},
			},
			call: func(t *testing.T, c *Client) {
				p, err := c.CreateProperty(ctx, "account", crm.Property{ID: "documents", Label: "Documents", Type: crm.TypeFile,
					RawDetails: map[string]any{RawParentID: "folder_custom", RawAcceptedFormats: ".pdf", RawMaxFileLimit: 2}})
				if err != nil {
					t.Fatal(err)
				}
				if p.ID != "documents" || p.Type != crm.TypeFile || p.RawDetails[RawMaxFileLimit] != float64(2) || p.RawDetails[RawAcceptedFormats] != ".pdf" {
					t.Errorf("property %+v", p)
				}
			},
		},
		{
			name: "CreateProperty/noFolderYet",
			ex: []exchange{
				{method: "GET", path: "/custom-fields/object-key/custom_objects.pet", query: locQ(), resp: `{"fields":[],"folders":[]}`},
				{method: "POST", path: "/custom-fields/folder", body: `{"objectKey":"custom_objects.pet","name":"General","locationId":"loc1"}`, status: 201,
					resp: `{"id":"folder_new","objectKey":"custom_objects.pet","locationId":"loc1","name":"General"}`},
				{method: "POST", path: "/custom-fields/", status: 201,
					body: `{"locationId":"loc1","name":"Age","showInForms":true,"dataType":"NUMERICAL","fieldKey":"custom_objects.pet.age","objectKey":"custom_objects.pet","parentId":"folder_new"}`,
					resp: wrap("field", fieldJSON(petKey, "age", "Age", "NUMERICAL", "folder_new", nil))},
			},
			call: func(t *testing.T, c *Client) {
				if _, err := c.CreateProperty(ctx, "pet", crm.Property{ID: "age", Label: "Age", Type: crm.TypeNumber}); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "UpdateProperty",
			ex: []exchange{
				{method: "GET", path: "/custom-fields/object-key/custom_objects.pet", query: locQ(), resp: petFieldsListing},
				{method: "PUT", path: "/custom-fields/fld_kind", body: "@update_field",
					resp: wrap("field", fieldJSON(petKey, "kind", "Breed", "RADIO", "folder_pet", map[string]any{
						"options": []any{
							map[string]any{"key": "cat", "label": "Cat", "url": "https://example.com/cat.png"},
							map[string]any{"key": "dog", "label": "Doggo"}, map[string]any{"key": "fox", "label": "Fox"},
						}}))},
			},
			call: func(t *testing.T, c *Client) {
				label, desc := "Breed", ""
				opts := []crm.Option{{Value: "cat", Label: "Cat"}, {Value: "dog", Label: "Doggo"}, {Value: "fox", Label: "Fox"}}
				p, err := c.UpdateProperty(ctx, "pet", "kind", crm.PropertyPatch{Label: &label, Description: &desc, Options: &opts})
				if err != nil {
					t.Fatal(err)
				}
				if p.Label != "Breed" || p.Type != crm.TypePicklist || len(p.Options) != 3 || p.RawDetails[RawDataType] != "RADIO" {
					t.Errorf("property %+v", p)
				}
				if urls, _ := p.RawDetails[RawOptionURLs].(map[string]any); urls["cat"] != "https://example.com/cat.png" {
					t.Errorf("option urls %v", p.RawDetails[RawOptionURLs])
				}
			},
		},
		{
			name: "UpdateProperty/unknown",
			ex:   []exchange{{method: "GET", path: "/custom-fields/object-key/custom_objects.pet", query: locQ(), resp: petFieldsListing}},
			call: func(t *testing.T, c *Client) {
				label := "x"
				if _, err := c.UpdateProperty(ctx, "pet", "nope", crm.PropertyPatch{Label: &label}); !errors.Is(err, crm.ErrNotFound) {
					t.Errorf("err %v, want ErrNotFound", err)
				}
			},
		},
		{
			name: "UpdateProperty/removingOptionRefused",
			ex:   []exchange{{method: "GET", path: "/custom-fields/object-key/custom_objects.pet", query: locQ(), resp: petFieldsListing}},
			call: func(t *testing.T, c *Client) {
				opts := []crm.Option{{Value: "cat", Label: "Cat"}}
				_, err := c.UpdateProperty(ctx, "pet", "kind", crm.PropertyPatch{Options: &opts})
				var ve *crm.ValidationError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), `"dog"`) {
					t.Errorf("err %v, want a ValidationError naming dog", err)
				}
			},
		},
		{
			name: "DeleteProperty",
			ex: []exchange{
				{method: "GET", path: "/custom-fields/object-key/custom_objects.pet", query: locQ(), resp: petFieldsListing},
				{method: "DELETE", path: "/custom-fields/fld_kind", resp: `{"succeded":true,"id":"fld_kind","key":"custom_objects.pet.kind"}`},
			},
			call: func(t *testing.T, c *Client) {
				if err := c.DeleteProperty(ctx, "pet", "kind"); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "DeleteProperty/notSucceded",
			ex: []exchange{
				{method: "GET", path: "/custom-fields/object-key/custom_objects.pet", query: locQ(), resp: petFieldsListing},
				{method: "DELETE", path: "/custom-fields/fld_kind", resp: `{"succeded":false,"id":"fld_kind","key":"custom_objects.pet.kind"}`},
			},
			call: func(t *testing.T, c *Client) {
				var pe *crm.ProviderError
				if err := c.DeleteProperty(ctx, "pet", "kind"); !errors.As(err, &pe) {
					t.Errorf("err %v, want a ProviderError", err)
				}
			},
		},
		{
			name: "GetRecord",
			ex: []exchange{{method: "GET", path: "/objects/custom_objects.pet/records/r1", resp: `{"record":{"id":"r1","owner":["u1"],"followers":["u2"],
				"properties":{"name":"Buddy","age":3,"my_list.option_a":"A","my_list.option_b":"B","money":{"currency":"default","value":100}},
				"dateAdded":"2024-07-11T10:00:00.123Z","dateUpdated":"2024-07-12T10:00:00.000Z"}}`}},
			call: func(t *testing.T, c *Client) {
				r, err := c.GetRecord(ctx, "pet", "r1")
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]any{"name": "Buddy", "age": float64(3), "my_list": map[string]any{"option_a": "A", "option_b": "B"},
					"money": map[string]any{"currency": "default", "value": float64(100)}}
				if r.ID != "r1" || r.ObjectName != "pet" || !reflect.DeepEqual(recordProps(t, r), want) ||
					!reflect.DeepEqual(r.OwnerIDs, []string{"u1"}) || !reflect.DeepEqual(r.FollowerIDs, []string{"u2"}) {
					t.Errorf("record %+v", r)
				}
				if !r.CreatedAt.Equal(time.Date(2024, 7, 11, 10, 0, 0, 123e6, time.UTC)) || r.UpdatedAt.IsZero() {
					t.Errorf("times %v %v", r.CreatedAt, r.UpdatedAt)
				}
			},
		},
		{
			name: "CreateRecord",
			ex: []exchange{{method: "POST", path: "/objects/custom_objects.pet/records", body: "@create_record", status: 201,
				resp: wrap("record", recordJSON("r1", map[string]any{"name": "Buddy"}))}},
			call: func(t *testing.T, c *Client) {
				r, err := c.CreateRecord(ctx, "pet", crm.RecordInput{
					Properties: map[string]any{
						"name": "Buddy", "age": float64(3), "money": map[string]any{"currency": "default", "value": float64(100)},
						"tags": []any{"a", "b"}, "recieved_on": "2024-07-11", "my_files": []any{map[string]any{"url": "https://example.com/f.pdf"}},
						"my_list": map[string]any{"option_a": "Value 1", "option_b": "Value 2"},
					},
					OwnerIDs: []string{"u1"}, FollowerIDs: []string{"u2", "u3"},
				})
				if err != nil {
					t.Fatal(err)
				}
				if r.ID != "r1" || r.CreatedAt.IsZero() {
					t.Errorf("record %+v", r)
				}
			},
		},
		{
			name: "CreateRecord/noPeople",
			ex: []exchange{{method: "POST", path: "/objects/business/records", body: `{"locationId":"loc1","properties":{"name":"Acme"}}`, status: 201,
				resp: wrap("record", recordJSON("b1", map[string]any{"name": "Acme"}))}},
			call: func(t *testing.T, c *Client) {
				r, err := c.CreateRecord(ctx, "account", crm.RecordInput{Properties: map[string]any{"name": "Acme"}, OwnerIDs: []string{}})
				if err != nil {
					t.Fatal(err)
				}
				if r.ObjectName != "account" {
					t.Errorf("record %+v", r)
				}
			},
		},
		{
			name: "UpdateRecord",
			ex: []exchange{{method: "PUT", path: "/objects/custom_objects.pet/records/r1", query: locQ(), body: "@update_record",
				resp: wrap("record", recordJSON("r1", map[string]any{"age": 4}))}},
			call: func(t *testing.T, c *Client) {
				r, err := c.UpdateRecord(ctx, "pet", "r1", crm.RecordInput{
					Properties: map[string]any{"age": float64(4), "my_list": map[string]any{"option_b": "New"}},
					OwnerIDs:   []string{},
				})
				if err != nil {
					t.Fatal(err)
				}
				if recordProps(t, r)["age"] != float64(4) {
					t.Errorf("record %+v", r)
				}
			},
		},
		{
			name: "DeleteRecord",
			ex:   []exchange{{method: "DELETE", path: "/objects/custom_objects.pet/records/r%2F1", resp: `{"id":"r/1","success":true}`}},
			call: func(t *testing.T, c *Client) {
				if err := c.DeleteRecord(ctx, "pet", "r/1"); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "ListRecords/paging",
			ex: []exchange{
				{method: "POST", path: "/objects/custom_objects.pet/records/search", body: "@search_first",
					resp: `{"records":[` + recordJSON("r1", map[string]any{"name": "a"}, 1738683828000, "r1") + `,` +
						recordJSON("r2", map[string]any{"name": "b"}, 1738683828372, "r2") + `],"total":3}`},
				{method: "POST", path: "/objects/custom_objects.pet/records/search", body: "@search_next",
					resp: `{"records":[` + recordJSON("r3", map[string]any{"name": "c"}, 1738683829000, "r3") + `],"total":3}`},
			},
			call: func(t *testing.T, c *Client) {
				p1, err := c.ListRecords(ctx, "pet", crm.RecordQuery{PageSize: 2, Query: "ignored"})
				if err != nil {
					t.Fatal(err)
				}
				if len(p1.Items) != 2 || p1.Total != 3 || p1.NextCursor == "" || p1.Items[1].ID != "r2" {
					t.Fatalf("page 1 %+v", p1)
				}
				p2, err := c.ListRecords(ctx, "pet", crm.RecordQuery{PageSize: 2, Cursor: p1.NextCursor})
				if err != nil {
					t.Fatal(err)
				}
				if len(p2.Items) != 1 || p2.NextCursor != "" || p2.Total != 3 {
					t.Errorf("page 2 %+v", p2)
				}
			},
		},
		{
			name: "SearchRecords/totalReached",
			ex: []exchange{
				{method: "POST", path: "/objects/custom_objects.pet/records/search",
					body: `{"locationId":"loc1","page":1,"pageLimit":100,"query":"name:Buddy","searchAfter":[]}`,
					resp: `{"records":[` + strings.Repeat(recordJSON("r1", nil, 1, "r1")+",", 99) + recordJSON("r1", nil, 1, "r1") + `],"total":100}`},
			},
			call: func(t *testing.T, c *Client) {
				p, err := c.SearchRecords(ctx, "pet", crm.RecordQuery{PageSize: 500, Query: "name:Buddy"})
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Items) != 100 || p.NextCursor != "" {
					t.Errorf("%d items, cursor %q", len(p.Items), p.NextCursor)
				}
			},
		},
		{
			name: "SearchRecords/noSearchAfterFallsBackToPages",
			ex: []exchange{
				{method: "POST", path: "/objects/custom_objects.pet/records/search",
					body: `{"locationId":"loc1","page":1,"pageLimit":1,"query":"","searchAfter":[]}`,
					resp: `{"records":[` + recordJSON("r1", nil) + `]}`},
				{method: "POST", path: "/objects/custom_objects.pet/records/search",
					body: `{"locationId":"loc1","page":2,"pageLimit":1,"query":"","searchAfter":[]}`,
					resp: `{"records":[]}`},
			},
			call: func(t *testing.T, c *Client) {
				p, err := c.SearchRecords(ctx, "pet", crm.RecordQuery{PageSize: 1})
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != -1 || p.NextCursor == "" {
					t.Fatalf("page %+v", p)
				}
				p, err = c.SearchRecords(ctx, "pet", crm.RecordQuery{PageSize: 1, Cursor: p.NextCursor})
				if err != nil || len(p.Items) != 0 || p.NextCursor != "" {
					t.Errorf("page %+v, %v", p, err)
				}
			},
		},
		{
			name: "ListAssociationSchemas/paging",
			ex: []exchange{
				{method: "GET", path: "/associations/", query: locQ("skip", "0", "limit", "100"), resp: associationsJSON(0, 100, 101)},
				{method: "GET", path: "/associations/", query: locQ("skip", "100", "limit", "100"), resp: associationsJSON(100, 1, 101)},
			},
			call: func(t *testing.T, c *Client) {
				list, err := c.ListAssociationSchemas(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(list) != 101 {
					t.Fatalf("%d associations", len(list))
				}
				a := list[100]
				if a.ID != "a100" || a.Key != "key_100" || a.SourceObject != "pet" || a.TargetObject != "contact" || a.SourceLabel != "Pet" || a.TargetLabel != "Owner" {
					t.Errorf("association %+v", a)
				}
			},
		},
		{
			name: "CreateAssociationSchema",
			ex: []exchange{{method: "POST", path: "/associations/", status: 201,
				body: `{"locationId":"loc1","key":"pet_account","firstObjectLabel":"pet","firstObjectKey":"custom_objects.pet","secondObjectLabel":"Company","secondObjectKey":"business"}`,
				resp: `{"locationId":"loc1","id":"a1","key":"pet_account","firstObjectLabel":"pet","firstObjectKey":"custom_objects.pet","secondObjectLabel":"Company","secondObjectKey":"business","associationType":"USER_DEFINED"}`}},
			call: func(t *testing.T, c *Client) {
				a, warnings, err := c.CreateAssociationSchema(ctx, crm.AssociationInput{SourceObject: "pet", TargetObject: "account", TargetLabel: "Company"})
				if err != nil {
					t.Fatal(err)
				}
				if a.ID != "a1" || a.SourceObject != "pet" || a.TargetObject != "account" || a.Key != "pet_account" {
					t.Errorf("association %+v", a)
				}
				if len(warnings) != 2 {
					t.Errorf("warnings %q, want key and source_label defaulted", warnings)
				}
			},
		},
		{
			name: "CreateAssociationSchema/keyNormalised",
			ex: []exchange{{method: "POST", path: "/associations/", status: 201,
				body: `{"locationId":"loc1","key":"pet_owner","firstObjectLabel":"Pet","firstObjectKey":"custom_objects.pet","secondObjectLabel":"Owner","secondObjectKey":"contact"}`,
				resp: `{"locationId":"loc1","id":"a1","key":"pet_owner","firstObjectLabel":"Pet","firstObjectKey":"custom_objects.pet","secondObjectLabel":"Owner","secondObjectKey":"contact","associationType":"USER_DEFINED"}`}},
			call: func(t *testing.T, c *Client) {
				_, warnings, err := c.CreateAssociationSchema(ctx, crm.AssociationInput{SourceObject: "pet", TargetObject: "contact", Key: "Pet Owner", SourceLabel: "Pet", TargetLabel: "Owner"})
				if err != nil {
					t.Fatal(err)
				}
				if len(warnings) != 1 || !strings.Contains(warnings[0], "pet_owner") {
					t.Errorf("warnings %q", warnings)
				}
			},
		},
		{
			name: "CreateRelation",
			ex: []exchange{{method: "POST", path: "/associations/relations", status: 201,
				body: `{"locationId":"loc1","associationId":"a1","firstRecordId":"r1","secondRecordId":"c1"}`,
				resp: `{"id":"rel1","associationId":"a1","firstRecordId":"r1","secondRecordId":"c1","firstObjectKey":"custom_objects.pet","secondObjectKey":"contact","locationId":"loc1"}`}},
			call: func(t *testing.T, c *Client) {
				r, err := c.CreateRelation(ctx, crm.Relation{AssociationID: "a1", SourceRecordID: "r1", TargetRecordID: "c1"})
				if err != nil {
					t.Fatal(err)
				}
				if r != (crm.Relation{ID: "rel1", AssociationID: "a1", SourceRecordID: "r1", TargetRecordID: "c1"}) {
					t.Errorf("relation %+v", r)
				}
			},
		},
		{
			name: "ListRelations/paging",
			ex: []exchange{
				{method: "GET", path: "/associations/relations/r1", query: locQ("skip", "0", "limit", "2"),
					resp: `{"relations":[{"id":"rel1","associationId":"a1","firstRecordId":"r1","secondRecordId":"c1"},{"id":"rel2","associationId":"a1","firstRecordId":"r1","secondRecordId":"c2"}],"total":3}`},
				{method: "GET", path: "/associations/relations/r1", query: locQ("skip", "2", "limit", "2"),
					resp: `{"relations":[{"id":"rel3","associationId":"a1","firstRecordId":"c3","secondRecordId":"r1"}],"total":3}`},
			},
			call: func(t *testing.T, c *Client) {
				p, err := c.ListRelations(ctx, "r1", "", 2)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Items) != 2 || p.Items[1] != (crm.Relation{ID: "rel2", AssociationID: "a1", SourceRecordID: "r1", TargetRecordID: "c2"}) || p.NextCursor == "" {
					t.Fatalf("page %+v", p)
				}
				p, err = c.ListRelations(ctx, "r1", p.NextCursor, 2)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Items) != 1 || p.Items[0].SourceRecordID != "c3" || p.NextCursor != "" {
					t.Errorf("page %+v", p)
				}
			},
		},
		{
			name: "DeleteRelation",
			ex:   []exchange{{method: "DELETE", path: "/associations/relations/rel1", query: locQ(), resp: `{"id":"rel1"}`}},
			call: func(t *testing.T, c *Client) {
				if err := c.DeleteRelation(ctx, "rel1"); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newScripted(t, tt.ex...)
			tt.call(t, c)
		})
	}
}

func associationsJSON(from, n, total int) string {
	items := make([]map[string]any, 0, n)
	for i := from; i < from+n; i++ {
		items = append(items, map[string]any{
			"locationId": testLoc, "id": fmt.Sprintf("a%d", i), "key": fmt.Sprintf("key_%d", i),
			"firstObjectLabel": "Pet", "firstObjectKey": petKey, "secondObjectLabel": "Owner", "secondObjectKey": "contact",
			"associationType": "USER_DEFINED",
		})
	}
	b, _ := json.Marshal(map[string]any{"associations": items, "total": total, "traceId": "t"})
	return string(b)
}

// TestRefusedBeforeSending: bad input is refused with a ValidationError (or
// ErrUnsupported) before any request; the scripted server expects none.
func TestRefusedBeforeSending(t *testing.T) {
	ctx := context.Background()
	obj := func(fields ...crm.Property) crm.ObjectInput {
		return crm.ObjectInput{Name: "pet", Labels: crm.Labels{Singular: "Pet", Plural: "Pets"}, PrimaryFieldID: "name",
			Fields: append([]crm.Property{{ID: "name", Label: "Name", Type: crm.TypeText}}, fields...)}
	}
	tests := []struct {
		name  string
		call  func(c *Client) error
		field string // expected violation field ("" for ErrUnsupported)
	}{
		{"url type", func(c *Client) error {
			_, err := c.CreateProperty(ctx, "pet", crm.Property{ID: "site", Label: "Site", Type: crm.TypeURL})
			return err
		}, "type"},
		{"datetime in object", func(c *Client) error {
			_, err := c.CreateObject(ctx, obj(crm.Property{ID: "at", Label: "At", Type: crm.TypeDatetime}))
			return err
		}, "fields[1].type"},
		{"boolean", func(c *Client) error {
			_, err := c.CreateProperty(ctx, "pet", crm.Property{ID: "ok", Label: "OK", Type: crm.TypeBoolean})
			return err
		}, "type"},
		{"other without ghl_data_type", func(c *Client) error {
			_, err := c.CreateProperty(ctx, "pet", crm.Property{ID: "x", Label: "X", Type: crm.TypeOther})
			return err
		}, "raw_details.ghl_data_type"},
		{"mismatched ghl_data_type", func(c *Client) error {
			_, err := c.CreateProperty(ctx, "pet", crm.Property{ID: "x", Label: "X", Type: crm.TypeText, RawDetails: map[string]any{RawDataType: "CHECKBOX"}})
			return err
		}, "raw_details.ghl_data_type"},
		{"unknown raw detail", func(c *Client) error {
			_, err := c.CreateProperty(ctx, "pet", crm.Property{ID: "x", Label: "X", Type: crm.TypeText, RawDetails: map[string]any{"colour": "red"}})
			return err
		}, "raw_details.colour"},
		{"bad property id", func(c *Client) error {
			_, err := c.CreateProperty(ctx, "pet", crm.Property{ID: "Bad Id", Label: "X", Type: crm.TypeText})
			return err
		}, "id"},
		{"required field", func(c *Client) error {
			_, err := c.CreateProperty(ctx, "pet", crm.Property{ID: "x", Label: "X", Type: crm.TypeText, IsRequired: true})
			return err
		}, "is_required"},
		{"options on text", func(c *Client) error {
			_, err := c.CreateProperty(ctx, "pet", crm.Property{ID: "x", Label: "X", Type: crm.TypeText, Options: []crm.Option{{Value: "a", Label: "A"}}})
			return err
		}, "options"},
		{"primary textarea", func(c *Client) error {
			in := obj()
			in.Fields[0].Type = crm.TypeTextarea
			_, err := c.CreateObject(ctx, in)
			return err
		}, "fields[0].type"},
		{"primary missing", func(c *Client) error {
			in := obj()
			in.PrimaryFieldID = "nope"
			_, err := c.CreateObject(ctx, in)
			return err
		}, "primary_field_id"},
		{"standard object name", func(c *Client) error {
			in := obj()
			in.Name = "account"
			_, err := c.CreateObject(ctx, in)
			return err
		}, "name"},
		{"bad object name", func(c *Client) error {
			_, err := c.GetSchema(ctx, "../etc")
			return err
		}, "object"},
		{"page size 0", func(c *Client) error {
			_, err := c.ListRecords(ctx, "pet", crm.RecordQuery{})
			return err
		}, "page_size"},
		{"malformed cursor", func(c *Client) error {
			_, err := c.ListRecords(ctx, "pet", crm.RecordQuery{PageSize: 10, Cursor: "%%%"})
			return err
		}, "cursor"},
		{"cursor not JSON", func(c *Client) error {
			_, err := c.SearchRecords(ctx, "pet", crm.RecordQuery{PageSize: 10, Cursor: "bm90IGpzb24"})
			return err
		}, "cursor"},
		{"relations cursor", func(c *Client) error {
			_, err := c.ListRelations(ctx, "r1", "eyJzIjotMX0", 10) // {"s":-1}
			return err
		}, "cursor"},
		{"two owners", func(c *Client) error {
			_, err := c.CreateRecord(ctx, "pet", crm.RecordInput{OwnerIDs: []string{"a", "b"}})
			return err
		}, "owner_ids"},
		{"contact records", func(c *Client) error {
			_, err := c.GetRecord(ctx, "contact", "c1")
			return err
		}, ""},
		{"opportunity fields", func(c *Client) error {
			_, err := c.CreateProperty(ctx, "opportunity", crm.Property{ID: "x", Label: "X", Type: crm.TypeText})
			return err
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newScripted(t)
			err := tt.call(c)
			if tt.field == "" {
				if !errors.Is(err, crm.ErrUnsupported) {
					t.Fatalf("err %v, want ErrUnsupported", err)
				}
				return
			}
			var ve *crm.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, crm.ErrInvalidArgument) {
				t.Fatalf("err %v (%T), want a ValidationError", err, err)
			}
			for _, v := range ve.Violations {
				if v.Field == tt.field {
					return
				}
			}
			t.Errorf("violations %+v, want one on %q", ve.Violations, tt.field)
		})
	}
}

// TestUnsupportedTypeMessage: the refusal names the field and GHL's types.
func TestUnsupportedTypeMessage(t *testing.T) {
	c := newScripted(t)
	_, err := c.CreateProperty(context.Background(), "pet", crm.Property{ID: "site", Label: "Site", Type: crm.TypeURL})
	want := `type: GHL has no "url" field type; GHL supports text, textarea, number, currency, phone, email, picklist, multipicklist, date, file, and other (with raw_details.ghl_data_type = TEXTBOX_LIST)`
	if err == nil || err.Error() != want {
		t.Errorf("err %v\nwant %s", err, want)
	}
}

// recordProps is r's properties as the gateway reads them.
func recordProps(t *testing.T, r crm.Record) map[string]any {
	t.Helper()
	m, err := r.PropertyMap()
	if err != nil {
		t.Fatal(err)
	}
	return m
}
