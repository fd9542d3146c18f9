package restjson

import (
	"fmt"
	"testing"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// splicedPet is petRecord with its properties in wire form.
func splicedPet(tb testing.TB, id string) *crmv1.Record {
	tb.Helper()
	js, err := protojson.Marshal(petRecord(id).GetProperties())
	if err != nil {
		tb.Fatal(err)
	}
	return spliced(tb, petRecord(id), string(js))
}

// benchPetJSON is a pet's properties as GHL answers them.
const benchPetJSON = `{"name":"Rex","species":"dog","age":3,"birthday":"2021-06-15","email":"rex@example.com",` +
	`"phone":"+15551234567","notes":"Good boy","price":{"currency":"default","value":120},` +
	`"tags":["friendly","rescue"],"vaccinated":["rabies","parvo"]}`

// BenchmarkMarshal compares runtime.JSONPb (impl=jsonpb, what the gateway
// used) with Marshaler (impl=restjson) on the hot REST responses:
//
//	go test -run '^$' -bench Marshal -benchmem -count 6 ./internal/restjson | tee new.txt
//	benchstat -col /impl new.txt
func BenchmarkMarshal(b *testing.B) {
	list := &crmv1.ListRecordsResponse{NextCursor: "cursor", HasNextPage: true}
	for i := range 100 {
		list.Items = append(list.Items, petRecord(fmt.Sprintf("rec_%03d", i)))
	}
	props := &crmv1.ListPropertiesResponse{}
	for i := range 10 {
		props.Items = append(props.Items, &crmv1.Property{
			Id: fmt.Sprintf("field_%d", i), Label: "Field", Type: "picklist",
			Options: []*crmv1.Option{{Label: "Dog", Value: "dog"}, {Label: "Cat", Value: "cat"}},
			RawDetails: fields("ghl_data_type", str("SINGLE_OPTIONS"), "id", str("abc123"),
				"parentId", str("def456"), "showInForms", structpb.NewBoolValue(true)),
		})
	}
	// The page as ListRecords answers records whose properties come as
	// JSON: in wire form (internal/structwire), which only restjson reads.
	spliced := &crmv1.ListRecordsResponse{NextCursor: "cursor", HasNextPage: true}
	for i := range 100 {
		spliced.Items = append(spliced.Items, splicedPet(b, fmt.Sprintf("rec_%03d", i)))
	}
	// The same page as REST calls get it: properties in JSON form, the
	// provider's JSON as it came (here with its keys out of order).
	jsonPage := &crmv1.ListRecordsResponse{NextCursor: "cursor", HasNextPage: true}
	for i := range 100 {
		jsonPage.Items = append(jsonPage.Items, jsonForm(petRecord(fmt.Sprintf("rec_%03d", i)), benchPetJSON))
	}
	// And as GHL's compact answers with keys in order usually come:
	// canonical JSON, which the adapter marks and the encoder copies.
	canonicalPage := &crmv1.ListRecordsResponse{NextCursor: "cursor", HasNextPage: true}
	for i := range 100 {
		js, err := protojson.Marshal(petRecord("").GetProperties())
		if err != nil {
			b.Fatal(err)
		}
		canonicalPage.Items = append(canonicalPage.Items, canonicalForm(b, petRecord(fmt.Sprintf("rec_%03d", i)), string(compact(b, js))))
	}
	msgs := []struct {
		name string
		msg  any
	}{
		{"get_record", &crmv1.GetRecordResponse{Record: petRecord("rec_001")}},
		{"list_100_records", list},
		{"list_100_records_spliced", spliced},
		{"list_100_records_json_form", jsonPage},
		{"list_100_records_canonical_json_form", canonicalPage},
		{"list_properties", props},
	}
	impls := []struct {
		name string
		m    runtime.Marshaler
	}{
		{"jsonpb", reference()},
		{"restjson", newTest()},
	}
	for _, msg := range msgs {
		for _, impl := range impls {
			if (msg.msg == spliced || msg.msg == jsonPage || msg.msg == canonicalPage) && impl.name == "jsonpb" {
				continue // protojson does not read unknown fields
			}
			b.Run("msg="+msg.name+"/impl="+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := impl.m.Marshal(msg.msg); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
