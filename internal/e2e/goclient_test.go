package e2e

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	goclient "github.com/crmgate/crmgate/client"
	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	passthroughv1 "github.com/crmgate/crmgate/gen/crmgate/passthrough/v1"
	"github.com/crmgate/crmgate/internal/app"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/testenv"
)

// startDemoGateway runs a real gateway in-process (SQLite, in-process
// cache) with the --demo provisioning: a seeded GHL fake (pet, 25
// records), an API key and a connection. It stops when the test ends.
func startDemoGateway(t *testing.T) (grpcAddr string, demo app.Demo) {
	t.Helper()
	env := map[string]string{
		"GATEWAY_DATA_DIR":       t.TempDir(),
		"GATEWAY_ENCRYPTION_KEY": secrets.GenerateKey(),
	}
	cfg, err := app.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.LogBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Build(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	demo, err = a.StartDemo(ctx, "")
	if err != nil {
		cancel()
		a.Close()
		t.Fatal(err)
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Server.Serve(ctx, gl, hl) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("gateway Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("gateway did not stop")
		}
		a.Close()
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	return gl.Addr().String(), demo
}

func TestClientAgainstGateway(t *testing.T) {
	addr, demo := startDemoGateway(t)
	c, err := goclient.Dial(addr, goclient.Options{APIKey: demo.APIKey, ConnectionID: demo.ConnectionID, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	ctx := context.Background()

	pg, err := c.CRM.ListRecords(ctx, &crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: 10})
	if err != nil || len(pg.GetItems()) != 10 || !pg.GetHasNextPage() {
		t.Fatalf("ListRecords: %d items, %v", len(pg.GetItems()), err)
	}
	conns, err := c.Core.ListConnections(ctx, &corev1.ListConnectionsRequest{})
	if err != nil || len(conns.GetItems()) != 1 || conns.GetItems()[0].GetId() != demo.ConnectionID {
		t.Fatalf("ListConnections: %v %v", conns, err)
	}

	// Records: every record once, over several stream messages.
	seen := map[string]bool{}
	for rec, err := range c.Records(ctx, &crmv1.StreamRecordsRequest{ObjectName: "pet", PageSize: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[rec.GetId()] {
			t.Errorf("record %s twice", rec.GetId())
		}
		seen[rec.GetId()] = true
	}
	if len(seen) != 25 {
		t.Errorf("Records: %d records, want the demo's 25", len(seen))
	}
	// A failing stream yields its error once.
	var errs []error
	for _, err := range c.Records(ctx, &crmv1.StreamRecordsRequest{ObjectName: "ghost"}) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || status.Code(errs[0]) != codes.NotFound {
		t.Errorf("Records of an unknown object: %v, want one NotFound", errs)
	}

	// A create with an idempotency key, repeated, is replayed: one record.
	props, _ := structpb.NewStruct(map[string]any{"name": "Rex", "species": "dog"})
	key := goclient.NewIdempotencyKey()
	var ids []string
	for i := range 2 {
		var hdr metadata.MD
		r, err := c.CRM.CreateRecord(goclient.WithIdempotencyKey(ctx, key),
			&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: props}}, grpc.Header(&hdr))
		if err != nil {
			t.Fatalf("CreateRecord %d: %v", i+1, err)
		}
		ids = append(ids, r.GetRecord().GetId())
		if replayed := len(hdr.Get("idempotent-replayed")) > 0; replayed != (i == 1) {
			t.Errorf("CreateRecord %d: idempotent-replayed header %v", i+1, hdr.Get("idempotent-replayed"))
		}
	}
	if ids[0] == "" || ids[0] != ids[1] {
		t.Errorf("keyed create repeated: ids %v, want one record", ids)
	}

	// Passthrough: the demo location's objects, as the fake answers them.
	pt, err := c.Passthrough.Passthrough(ctx, &passthroughv1.PassthroughRequest{Method: "GET", Path: "objects/", Query: "locationId=" + demo.LocationID})
	if err != nil || pt.GetStatus() != 200 || !strings.Contains(string(pt.GetBody()), "custom_objects.pet") {
		t.Errorf("Passthrough GET objects/: %v %v", pt, err)
	}

	// Per-call overrides and the gateway's errors as status codes.
	if _, err := c.CRM.ListRecords(goclient.WithConnection(ctx, "conn_ghl_doesnotexist00"), &crmv1.ListRecordsRequest{ObjectName: "pet"}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown connection: %v, want NotFound", err)
	}
	if _, err := c.CRM.ListRecords(goclient.WithAPIKey(ctx, "cgk_wrong"), &crmv1.ListRecordsRequest{ObjectName: "pet"}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("wrong key: %v, want Unauthenticated", err)
	}
	if _, err := c.CRM.CreateRecord(ctx, &crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("invalid record: %v, want InvalidArgument", err)
	}
	// A caller's deadline wins over the default timeout.
	short, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	<-short.Done()
	if _, err := c.CRM.ListRecords(short, &crmv1.ListRecordsRequest{ObjectName: "pet"}); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("expired deadline: %v, want DeadlineExceeded", err)
	}
}
