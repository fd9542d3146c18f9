package ghl

// Micro-benchmarks of the GHL adapter's per-call work: record and schema
// decoding, property mapping both ways, and whole client calls over an
// in-memory transport (no sockets), so the adapter's own cost is what is
// measured (go test -bench . -benchmem ./internal/providers/ghl). The
// answers are the GHL fake's, for its demo object "pet".

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
)

const benchLoc = "benchLocation0000000"

// benchGHLRecord is the record of GET /objects/custom_objects.pet/records/{id}.
const benchGHLRecord = `{"id":"6b02d7d9cc77358d7720bda2","owner":[],"followers":[],"properties":{"age":0,"birthday":"2010-01-01","email":"owner0@example.com","name":"Buddy 0","notes":"Demo pet number 0.","phone":"+15550000000","price":{"currency":"default","value":50},"species":"dog","tags":["friendly","playful"],"vaccinated":["rabies"]},"dateAdded":"2026-11-22T11:54:01.264Z","dateUpdated":"2026-11-22T11:54:01.264Z","createdAt":"2026-11-22T11:54:01.264Z","updatedAt":"2026-11-22T11:54:01.264Z","locationId":"benchLocation0000000","objectId":"6b02d7d9cc77358d7720bda1","objectKey":"custom_objects.pet","createdBy":{"channel":"API","createdAt":"2026-11-22T11:54:01.264Z","source":"PUBLIC_API","sourceId":"4c96523de1368c275bd9"},"lastUpdatedBy":{"channel":"API","createdAt":"2026-11-22T11:54:01.264Z","source":"PUBLIC_API","sourceId":"4c96523de1368c275bd9"}}`

// benchGHLSchema is GET /objects/custom_objects.pet?fetchProperties=true.
const benchGHLSchema = `{"cache":false,"fields":[` +
	`{"id":"cfAKwHGzVqV6JAjcIZmg","name":"Name","showInForms":true,"objectKey":"custom_objects.pet","dataType":"TEXT","parentId":"9tzQsrs9dlXPj5xolS70","fieldKey":"custom_objects.pet.name","locationId":"benchLocation0000000","dateAdded":"2026-11-22T12:00:58.571Z","dateUpdated":"2026-11-22T12:00:58.571Z"},` +
	`{"id":"N5kGoB1WslfEKlzvzg16","name":"Species","showInForms":true,"options":[{"key":"dog","label":"Dog"},{"key":"cat","label":"Cat"},{"key":"bird","label":"Bird"}],"objectKey":"custom_objects.pet","dataType":"SINGLE_OPTIONS","parentId":"9tzQsrs9dlXPj5xolS70","fieldKey":"custom_objects.pet.species","locationId":"benchLocation0000000","dateAdded":"2026-11-22T12:00:58.571Z","dateUpdated":"2026-11-22T12:00:58.571Z"},` +
	`{"id":"3TklvkVrc8iPkUuLOTOp","name":"Age","showInForms":true,"objectKey":"custom_objects.pet","dataType":"NUMERICAL","parentId":"9tzQsrs9dlXPj5xolS70","fieldKey":"custom_objects.pet.age","locationId":"benchLocation0000000","dateAdded":"2026-11-22T12:00:58.571Z","dateUpdated":"2026-11-22T12:00:58.571Z"},` +
	`{"id":"8DQDJcnuCHVR5gW6V94I","name":"Price","showInForms":true,"objectKey":"custom_objects.pet","dataType":"MONETORY","parentId":"9tzQsrs9dlXPj5xolS70","fieldKey":"custom_objects.pet.price","locationId":"benchLocation0000000","dateAdded":"2026-11-22T12:00:58.571Z","dateUpdated":"2026-11-22T12:00:58.571Z"},` +
	`{"id":"ADj4AsLFW4mZON2UxKl5","name":"Vaccinated","showInForms":true,"options":[{"key":"rabies","label":"Rabies"},{"key":"distemper","label":"Distemper"},{"key":"parvo","label":"Parvo"}],"objectKey":"custom_objects.pet","dataType":"CHECKBOX","parentId":"9tzQsrs9dlXPj5xolS70","fieldKey":"custom_objects.pet.vaccinated","locationId":"benchLocation0000000","dateAdded":"2026-11-22T12:00:58.571Z","dateUpdated":"2026-11-22T12:00:58.571Z"},` +
	`{"id":"IhyM9IIcTlQRpUvu2Kcq","name":"Birthday","showInForms":true,"objectKey":"custom_objects.pet","dataType":"DATE","parentId":"9tzQsrs9dlXPj5xolS70","fieldKey":"custom_objects.pet.birthday","locationId":"benchLocation0000000","dateAdded":"2026-11-22T12:00:58.571Z","dateUpdated":"2026-11-22T12:00:58.571Z"},` +
	`{"id":"Vr003gSUNoIJZ1USstyT","name":"Notes","showInForms":true,"objectKey":"custom_objects.pet","dataType":"LARGE_TEXT","parentId":"9tzQsrs9dlXPj5xolS70","fieldKey":"custom_objects.pet.notes","locationId":"benchLocation0000000","dateAdded":"2026-11-22T12:00:58.571Z","dateUpdated":"2026-11-22T12:00:58.571Z"},` +
	`{"id":"WcGj8NzBz8XTyjSnys34","name":"Owner Email","showInForms":true,"objectKey":"custom_objects.pet","dataType":"EMAIL","parentId":"9tzQsrs9dlXPj5xolS70","fieldKey":"custom_objects.pet.email","locationId":"benchLocation0000000","dateAdded":"2026-11-22T12:00:58.571Z","dateUpdated":"2026-11-22T12:00:58.571Z"},` +
	`{"id":"fAKjt4zlvpBRxlQ1QZHs","name":"Owner Phone","showInForms":true,"objectKey":"custom_objects.pet","dataType":"PHONE","parentId":"9tzQsrs9dlXPj5xolS70","fieldKey":"custom_objects.pet.phone","locationId":"benchLocation0000000","dateAdded":"2026-11-22T12:00:58.571Z","dateUpdated":"2026-11-22T12:00:58.571Z"},` +
	`{"id":"TtreEMMPv4QMgXNzIRkp","name":"Tags","showInForms":true,"options":[{"key":"friendly","label":"Friendly"},{"key":"playful","label":"Playful"},{"key":"senior","label":"Senior"},{"key":"rescue","label":"Rescue"}],"objectKey":"custom_objects.pet","dataType":"MULTIPLE_OPTIONS","parentId":"9tzQsrs9dlXPj5xolS70","fieldKey":"custom_objects.pet.tags","locationId":"benchLocation0000000","dateAdded":"2026-11-22T12:00:58.571Z","dateUpdated":"2026-11-22T12:00:58.571Z"}],` +
	`"object":{"id":"6b02d97a15a5eb7c7e0ae9d0","standard":false,"key":"custom_objects.pet","labels":{"singular":"Pet","plural":"Pets"},"description":"Sample custom object seeded by ghlfake","locationId":"benchLocation0000000","primaryDisplayProperty":"custom_objects.pet.name","dateAdded":"2026-11-22T12:00:58.571Z","dateUpdated":"2026-11-22T12:00:58.571Z","type":"USER_DEFINED","searchableProperties":["custom_objects.pet.name","custom_objects.pet.email"]}}`

// benchSearchPage is a search answer of n records (the fake's shape).
func benchSearchPage(n int) string {
	var b strings.Builder
	b.WriteString(`{"records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		id := fmt.Sprintf("6b02d97a15a5eb7c7e0a%04x", i)
		fmt.Fprintf(&b, `{"id":%q,"owner":[],"followers":[],"properties":{"age":%d,"birthday":"2010-01-01","email":"owner%d@example.com","name":"Buddy %d","notes":"Demo pet number %d.","phone":"+15550000000","price":{"currency":"default","value":50},"species":"dog","tags":["friendly","playful"],"vaccinated":["rabies"]},"createdAt":"2026-11-22T12:00:58.571Z","updatedAt":"2026-11-22T12:00:58.571Z","locationId":"benchLocation0000000","objectId":"6b02d97a15a5eb7c7e0ae9d0","objectKey":"custom_objects.pet","createdBy":{"channel":"API","createdAt":"2026-11-22T12:00:58.571Z","source":"PUBLIC_API","sourceId":"4c96523de1368c275bd9"},"lastUpdatedBy":{"channel":"API","createdAt":"2026-11-22T12:00:58.571Z","source":"PUBLIC_API","sourceId":"4c96523de1368c275bd9"},"searchAfter":[%d,%q]}`,
			id, i%15, i, i, i, 1795348858571+int64(i), id)
	}
	fmt.Fprintf(&b, `],"total":%d}`, n+1) // more records exist: the adapter makes a next cursor
	return b.String()
}

func BenchmarkPropertiesFromGHL(b *testing.B) {
	var r struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal([]byte(benchGHLRecord), &r); err != nil {
		b.Fatal(err)
	}
	b.Run("10_props", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = PropertiesFromGHL(r.Properties)
		}
	})
	withGroup := map[string]any{"name": "Rex", "age": 4.0, "dims.height": 30.0, "dims.width": 20.0}
	b.Run("textbox_group", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = PropertiesFromGHL(withGroup)
		}
	})
}

func BenchmarkPropertiesToGHL(b *testing.B) {
	in := map[string]any{
		"name": "Rex", "species": "dog", "age": 4.0,
		"price": map[string]any{"currency": "default", "value": 120.0}, "tags": []any{"friendly"},
	}
	b.Run("5_props", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := PropertiesToGHL(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	group := map[string]any{"name": "Rex", "dims": map[string]any{"height": 30.0, "width": 20.0}}
	b.Run("textbox_group", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := PropertiesToGHL(group); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRecordFromGHL(b *testing.B) {
	raw := json.RawMessage(benchGHLRecord)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, _, err := recordFromGHL("pet", raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSchemaFromGHL decodes a schema answer (a cache miss).
func BenchmarkSchemaFromGHL(b *testing.B) {
	var resp struct {
		Object json.RawMessage   `json:"object"`
		Fields []json.RawMessage `json:"fields"`
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchGHLSchema)))
	for b.Loop() {
		if err := json.Unmarshal([]byte(benchGHLSchema), &resp); err != nil {
			b.Fatal(err)
		}
		_, o, err := objectFromGHL(resp.Object)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range resp.Fields {
			if _, _, err := propertyFromGHL(o.Key, f); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchTransport answers every request with a fixed body, in memory.
type benchTransport struct {
	status int
	body   []byte
}

func (t *benchTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{
		StatusCode: t.status, Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body: io.NopCloser(bytes.NewReader(t.body)), ContentLength: int64(len(t.body)), Request: r,
	}, nil
}

func benchClient(b *testing.B, status int, body string) *Client {
	c, err := NewClient(ClientOptions{
		BaseURL: "http://ghl.bench", LocationID: benchLoc, Token: StaticToken("pit-bench"),
		HTTPClient: &http.Client{Transport: &benchTransport{status: status, body: []byte(body)}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkClientCall is one adapter call end to end over an in-memory
// transport: request building and JSON encoding, the HTTP client, answer
// reading and decoding, and the mapping to crm types.
func BenchmarkClientCall(b *testing.B) {
	ctx := context.Background()
	b.Run("get_record", func(b *testing.B) {
		c := benchClient(b, http.StatusOK, `{"record":`+benchGHLRecord+`}`)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.GetRecord(ctx, "pet", "6b02d7d9cc77358d7720bda2"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("create_record", func(b *testing.B) {
		c := benchClient(b, http.StatusCreated, `{"record":`+benchGHLRecord+`}`)
		in := crm.RecordInput{Properties: map[string]any{
			"name": "Rex", "species": "dog", "age": 4.0,
			"price": map[string]any{"currency": "default", "value": 120.0}, "tags": []any{"friendly"},
		}}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.CreateRecord(ctx, "pet", in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("search_100", func(b *testing.B) {
		page := benchSearchPage(100)
		c := benchClient(b, http.StatusOK, page)
		b.ReportAllocs()
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			pg, err := c.ListRecords(ctx, "pet", crm.RecordQuery{PageSize: 100})
			if err != nil || len(pg.Items) != 100 || pg.NextCursor == "" {
				b.Fatalf("page of %d, cursor %q, err %v", len(pg.Items), pg.NextCursor, err)
			}
		}
	})
	b.Run("search_100_raw", func(b *testing.B) {
		page := benchSearchPage(100)
		c := benchClient(b, http.StatusOK, page)
		b.ReportAllocs()
		b.SetBytes(int64(len(page)))
		for b.Loop() {
			pg, err := c.ListRecords(ctx, "pet", crm.RecordQuery{PageSize: 100, IncludeRaw: true})
			if err != nil || len(pg.Items) != 100 || pg.NextCursor == "" {
				b.Fatalf("page of %d, cursor %q, err %v", len(pg.Items), pg.NextCursor, err)
			}
		}
	})
	b.Run("get_schema", func(b *testing.B) {
		c := benchClient(b, http.StatusOK, benchGHLSchema)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.GetSchema(ctx, "pet"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
