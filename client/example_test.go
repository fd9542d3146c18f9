package client_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crmgate/crmgate/client"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// Example lists records and exports every record of an object. Against a
// running gateway, dial its gRPC address instead (for the demo gateway,
// `gateway --demo` prints the key and the connection id):
//
//	c, err := client.Dial("localhost:9090", client.Options{APIKey: key, ConnectionID: conn, Insecure: true})
//
// Here the gateway is a small in-process stand-in (examplePets), so the
// example runs anywhere.
func Example() {
	lis := startExampleGateway()
	c, err := client.Dial("passthrough:///gateway", client.Options{
		APIKey:       "cgk_example_key_0123456789",
		ConnectionID: "conn_ghl_example",
		Insecure:     true,
		DialOptions:  []grpc.DialOption{grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) })},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	ctx := context.Background()

	// One page.
	page, err := c.CRM.ListRecords(ctx, &crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range page.GetItems() {
		fmt.Println("page:", r.GetId(), r.GetProperties().GetFields()["name"].GetStringValue())
	}

	// Every record: Records resumes the stream from its last cursor if it
	// breaks.
	n := 0
	for r, err := range c.Records(ctx, &crmv1.StreamRecordsRequest{ObjectName: "pet"}) {
		if err != nil {
			log.Fatal(err)
		}
		n++
		_ = r
	}
	fmt.Println("exported", n, "records")
	// Output:
	// page: pet_1 Buddy
	// page: pet_2 Luna
	// exported 3 records
}

// examplePets is a stand-in for the gateway's CrmService: three pets, for
// callers that send an API key and a connection id.
type examplePets struct {
	crmv1.UnimplementedCrmServiceServer
}

func (examplePets) records() []*crmv1.Record {
	var out []*crmv1.Record
	for i, name := range []string{"Buddy", "Luna", "Max"} {
		props, _ := structpb.NewStruct(map[string]any{"name": name})
		out = append(out, &crmv1.Record{Id: fmt.Sprintf("pet_%d", i+1), ObjectName: "pet", Properties: props})
	}
	return out
}

func authorised(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	if len(md.Get(client.MetadataAPIKey)) == 0 || len(md.Get(client.MetadataConnectionID)) == 0 {
		return status.Error(codes.Unauthenticated, "missing x-apikey or x-connection-id")
	}
	return nil
}

func (p examplePets) ListRecords(ctx context.Context, req *crmv1.ListRecordsRequest) (*crmv1.ListRecordsResponse, error) {
	if err := authorised(ctx); err != nil {
		return nil, err
	}
	recs := p.records()
	n := min(int(req.GetPageSize()), len(recs))
	return &crmv1.ListRecordsResponse{Items: recs[:n], HasNextPage: n < len(recs)}, nil
}

func (p examplePets) StreamRecords(req *crmv1.StreamRecordsRequest, stream grpc.ServerStreamingServer[crmv1.StreamRecordsResponse]) error {
	if err := authorised(stream.Context()); err != nil {
		return err
	}
	return stream.Send(&crmv1.StreamRecordsResponse{Items: p.records()})
}

// startExampleGateway serves examplePets on an in-memory listener.
func startExampleGateway() *bufconn.Listener {
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer()
	crmv1.RegisterCrmServiceServer(s, examplePets{})
	go func() { _ = s.Serve(lis) }()
	return lis
}
