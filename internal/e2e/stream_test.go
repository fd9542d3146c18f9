package e2e

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// streamCtx is a context carrying the tenant's key and connection id.
func streamCtx(t testing.TB, key, connID string) (context.Context, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	return metadata.AppendToOutgoingContext(ctx, "x-apikey", key, "x-connection-id", connID), cancel
}

// streamAll reads a whole StreamRecords answer: the ids in order and the
// messages.
func streamAll(t testing.TB, c crmv1.CrmServiceClient, ctx context.Context, req *crmv1.StreamRecordsRequest) ([]string, []*crmv1.StreamRecordsResponse) {
	t.Helper()
	st, err := c.StreamRecords(ctx, req)
	if err != nil {
		t.Fatalf("StreamRecords: %v", err)
	}
	var (
		ids  []string
		msgs []*crmv1.StreamRecordsResponse
	)
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return ids, msgs
		}
		if err != nil {
			t.Fatalf("StreamRecords: message %d: %v", len(msgs)+1, err)
		}
		msgs = append(msgs, m)
		for _, r := range m.GetItems() {
			ids = append(ids, r.GetId())
		}
	}
}

func TestStreamRecords(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 1050)
	ctx, cancel := streamCtx(t, e.tn.key, e.tn.connID)
	defer cancel()

	before := e.f.RequestCount(routeSearch)
	ids, msgs := streamAll(t, e.g.crm, ctx, &crmv1.StreamRecordsRequest{ObjectName: "pet"})
	checkEachOnce(t, ids, 1050)
	if len(msgs) != 11 {
		t.Errorf("%d messages for 1050 records at the default page size, want 11 (one per page of 100)", len(msgs))
	}
	if n := e.f.RequestCount(routeSearch) - before; n != 11 {
		t.Errorf("%d GHL searches for 11 pages", n)
	}
	for i, m := range msgs {
		if last := i == len(msgs)-1; last != (m.GetNextCursor() == "") {
			t.Errorf("message %d of %d: next_cursor %q", i+1, len(msgs), m.GetNextCursor())
		}
	}

	// Same records in the same order as paging by hand.
	want, _ := pageAll(t, e.client(t, GRPC), "pet", 100)
	if len(want) != len(ids) {
		t.Fatalf("ListRecords gave %d ids, StreamRecords %d", len(want), len(ids))
	}
	for i := range want {
		if want[i] != ids[i] {
			t.Fatalf("record %d: ListRecords %s, StreamRecords %s (order differs)", i, want[i], ids[i])
		}
	}

	// Small pages, raw data, and resuming from a message's cursor.
	small, smsgs := streamAll(t, e.g.crm, ctx, &crmv1.StreamRecordsRequest{ObjectName: "pet", PageSize: 7, IncludeRawData: true})
	if len(small) != 1050 || len(smsgs) != 150 {
		t.Errorf("page_size 7: %d records in %d messages, want 1050 in 150", len(small), len(smsgs))
	}
	if smsgs[0].GetItems()[0].GetRawData() == nil {
		t.Errorf("include_raw_data: no raw_data")
	}
	if msgs[0].GetItems()[0].GetRawData() != nil {
		t.Errorf("raw_data without include_raw_data")
	}
	rest, _ := streamAll(t, e.g.crm, ctx, &crmv1.StreamRecordsRequest{ObjectName: "pet", Cursor: smsgs[9].GetNextCursor()})
	if len(rest) != 1050-70 || rest[0] != ids[70] || rest[len(rest)-1] != ids[1049] {
		t.Errorf("resumed after 70 records: %d records, want the last %d", len(rest), 1050-70)
	}
	// A stream's cursor also works for ListRecords (one cursor format).
	pg := must(e.client(t, GRPC).ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", Cursor: msgs[9].GetNextCursor()}))(t)
	if len(pg.GetItems()) != 50 || pg.GetItems()[0].GetId() != ids[1000] {
		t.Errorf("ListRecords from a stream cursor: %d items", len(pg.GetItems()))
	}

	// An object without records: one empty message, then the end.
	must(e.client(t, GRPC).CreateObject(&crmv1.CreateObjectRequest{
		Name: "empty", Labels: &crmv1.Labels{Singular: "Empty", Plural: "Empties"}, PrimaryFieldId: "name",
		Fields: []*crmv1.Property{{Id: "name", Label: "Name", Type: "text"}},
	}))(t)
	if ids, msgs := streamAll(t, e.g.crm, ctx, &crmv1.StreamRecordsRequest{ObjectName: "empty"}); len(ids) != 0 || len(msgs) != 1 {
		t.Errorf("empty object: %d records in %d messages, want 0 in 1", len(ids), len(msgs))
	}
}

// streamErr opens a stream and returns the status of its first Recv.
func streamErr(t testing.TB, c crmv1.CrmServiceClient, ctx context.Context, req *crmv1.StreamRecordsRequest) *status.Status {
	t.Helper()
	st, err := c.StreamRecords(ctx, req)
	if err == nil {
		_, err = st.Recv()
	}
	if err == nil {
		t.Fatalf("StreamRecords(%v): no error", req)
	}
	return status.Convert(err)
}

func TestStreamRecordsErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 30)
	ctx, cancel := streamCtx(t, e.tn.key, e.tn.connID)
	defer cancel()
	_, msgs := streamAll(t, e.g.crm, ctx, &crmv1.StreamRecordsRequest{ObjectName: "pet", PageSize: 10})
	otherCursor := msgs[0].GetNextCursor()
	must(e.client(t, GRPC).CreateObject(&crmv1.CreateObjectRequest{
		Name: "keeper", Labels: &crmv1.Labels{Singular: "Keeper", Plural: "Keepers"}, PrimaryFieldId: "name",
		Fields: []*crmv1.Property{{Id: "name", Label: "Name", Type: "text"}},
	}))(t)

	bg, bgCancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer bgCancel()
	noConn := metadata.AppendToOutgoingContext(bg, "x-apikey", e.tn.key)
	badKey := metadata.AppendToOutgoingContext(bg, "x-apikey", "cgk_nope", "x-connection-id", e.tn.connID)
	badWait := metadata.AppendToOutgoingContext(ctx, "x-crmgate-wait", "soon")

	for _, tc := range []struct {
		name   string
		ctx    context.Context
		req    *crmv1.StreamRecordsRequest
		code   codes.Code
		phrase string
	}{
		{"no object", ctx, &crmv1.StreamRecordsRequest{}, codes.InvalidArgument, "object_name"},
		{"bad object name", ctx, &crmv1.StreamRecordsRequest{ObjectName: "no such/name"}, codes.InvalidArgument, "object_name"},
		{"negative page size", ctx, &crmv1.StreamRecordsRequest{ObjectName: "pet", PageSize: -1}, codes.InvalidArgument, "page_size"},
		{"garbage cursor", ctx, &crmv1.StreamRecordsRequest{ObjectName: "pet", Cursor: "not a cursor!"}, codes.InvalidArgument, "cursor"},
		{"cursor of another object", ctx, &crmv1.StreamRecordsRequest{ObjectName: "keeper", Cursor: otherCursor}, codes.InvalidArgument, "cursor"},
		{"unknown object", ctx, &crmv1.StreamRecordsRequest{ObjectName: "ghost"}, codes.NotFound, "ghost"},
		{"no connection id", noConn, &crmv1.StreamRecordsRequest{ObjectName: "pet"}, codes.InvalidArgument, "x-connection-id"},
		{"bad api key", badKey, &crmv1.StreamRecordsRequest{ObjectName: "pet"}, codes.Unauthenticated, "x-apikey"},
		{"bad wait header", badWait, &crmv1.StreamRecordsRequest{ObjectName: "pet"}, codes.InvalidArgument, "x-crmgate-wait"},
	} {
		st := streamErr(t, e.g.crm, tc.ctx, tc.req)
		if st.Code() != tc.code || !strings.Contains(st.Message(), tc.phrase) {
			t.Errorf("%s: %v %q, want %v naming %q", tc.name, st.Code(), st.Message(), tc.code, tc.phrase)
		}
		if len(st.Details()) == 0 {
			t.Errorf("%s: status without details (not mapped by apierr)", tc.name)
		}
	}
}

// settled waits until f returns the same value on three polls in a row
// (or 10s pass) and returns it.
func settled(f func() int) int {
	last, same := f(), 0
	for deadline := time.Now().Add(10 * time.Second); same < 3 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		if v := f(); v == last {
			same++
		} else {
			last, same = v, 0
		}
	}
	return last
}

// TestStreamRecordsBackpressureAndCancel: a reader that stops reading stops
// the provider paging (gRPC flow control blocks Send), and cancelling the
// stream ends it without reading the rest.
func TestStreamRecordsBackpressureAndCancel(t *testing.T) {
	t.Parallel()
	const records, size = 5000, 10 // 500 pages of about 6 KB
	e := newEnv(t, gwOptions{}, records)
	// Fixed 64 KiB windows (no BDP growth): the gateway can be at most
	// about 64 KiB plus a page ahead of this reader.
	conn, err := grpc.NewClient(e.g.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := streamCtx(t, e.tn.key, e.tn.connID)
	defer cancel()
	before := e.f.RequestCount(routeSearch)
	st, err := crmv1.NewCrmServiceClient(conn).StreamRecords(ctx, &crmv1.StreamRecordsRequest{ObjectName: "pet", PageSize: size})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := st.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	paused := settled(func() int { return e.f.RequestCount(routeSearch) }) - before
	if paused >= 100 {
		t.Errorf("the gateway read %d of 500 pages while the client read 2: it does not wait for the reader", paused)
	}
	t.Logf("pages read from the provider while the client paused after 2: %d", paused)

	cancel()
	for {
		_, err := st.Recv()
		if err == nil {
			continue // messages already buffered on the client
		}
		if status.Code(err) != codes.Canceled {
			t.Errorf("after cancel: %v, want Canceled", err)
		}
		break
	}
	after := settled(func() int { return e.f.RequestCount(routeSearch) }) - before
	if after >= 500 || after > paused+2 {
		t.Errorf("after cancel the gateway went on paging: %d pages (paused at %d)", after, paused)
	}
}
