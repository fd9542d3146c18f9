package client

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/durationpb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// scripted is a CrmService answering each call with the next error of its
// script (then success), recording the metadata and deadline it saw.
type scripted struct {
	crmv1.UnimplementedCrmServiceServer
	mu       sync.Mutex
	script   []error
	calls    int
	md       []metadata.MD
	deadline []bool
	// stream: pages sent by StreamRecords; breakAfter: fail with
	// UNAVAILABLE after this many messages on the first stream.
	pages      [][]string
	breakAfter int
	cursors    []string
}

var _ crmv1.CrmServiceServer = (*scripted)(nil)

func (s *scripted) next(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	md, _ := metadata.FromIncomingContext(ctx)
	s.md = append(s.md, md)
	_, ok := ctx.Deadline()
	s.deadline = append(s.deadline, ok)
	s.calls++
	if len(s.script) == 0 {
		return nil
	}
	err := s.script[0]
	s.script = s.script[1:]
	return err
}

func (s *scripted) GetRecord(ctx context.Context, req *crmv1.GetRecordRequest) (*crmv1.GetRecordResponse, error) {
	if err := s.next(ctx); err != nil {
		return nil, err
	}
	return &crmv1.GetRecordResponse{Record: &crmv1.Record{Id: req.GetId()}}, nil
}

func (s *scripted) CreateRecord(ctx context.Context, _ *crmv1.CreateRecordRequest) (*crmv1.CreateRecordResponse, error) {
	if err := s.next(ctx); err != nil {
		return nil, err
	}
	return &crmv1.CreateRecordResponse{Record: &crmv1.Record{Id: "new"}}, nil
}

func (s *scripted) StreamRecords(req *crmv1.StreamRecordsRequest, st grpc.ServerStreamingServer[crmv1.StreamRecordsResponse]) error {
	s.mu.Lock()
	s.cursors = append(s.cursors, req.GetCursor())
	first := len(s.cursors) == 1
	s.mu.Unlock()
	start := 0
	if req.GetCursor() != "" {
		start = int(req.GetCursor()[0] - '0')
	}
	for i := start; i < len(s.pages); i++ {
		if first && i-start == s.breakAfter {
			return status.Error(codes.Unavailable, "connection reset")
		}
		m := &crmv1.StreamRecordsResponse{}
		for _, id := range s.pages[i] {
			m.Items = append(m.Items, &crmv1.Record{Id: id})
		}
		if i+1 < len(s.pages) {
			m.NextCursor = string(rune('0' + i + 1))
		}
		if err := st.Send(m); err != nil {
			return err
		}
	}
	return nil
}

func startScripted(t *testing.T, s *scripted, o Options) *Client {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	g := grpc.NewServer()
	crmv1.RegisterCrmServiceServer(g, s)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	cc, err := grpc.NewClient("passthrough:///scripted",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	if o.Retry.InitialBackoff == 0 {
		o.Retry.InitialBackoff = time.Millisecond
	}
	return New(cc, o)
}

func rateLimited(after time.Duration) error {
	st, _ := status.New(codes.ResourceExhausted, "rate limit").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(after)})
	return st.Err()
}

func TestRetriesReads(t *testing.T) {
	s := &scripted{script: []error{status.Error(codes.Unavailable, "down"), rateLimited(time.Millisecond)}}
	c := startScripted(t, s, Options{APIKey: "cgk_k", ConnectionID: "conn_1"})
	r, err := c.CRM.GetRecord(context.Background(), &crmv1.GetRecordRequest{ObjectName: "pet", Id: "r1"})
	if err != nil || r.GetRecord().GetId() != "r1" {
		t.Fatalf("GetRecord: %v %v", r, err)
	}
	if s.calls != 3 {
		t.Errorf("%d attempts, want 3 (two retried failures)", s.calls)
	}
	for i, md := range s.md {
		if md.Get(MetadataAPIKey)[0] != "cgk_k" || md.Get(MetadataConnectionID)[0] != "conn_1" {
			t.Errorf("attempt %d: metadata %v", i+1, md)
		}
		if !s.deadline[i] {
			t.Errorf("attempt %d: no deadline (default timeout not applied)", i+1)
		}
	}
}

func TestNoRetryOfPermanentErrors(t *testing.T) {
	for _, err := range []error{
		status.Error(codes.InvalidArgument, "bad"),
		status.Error(codes.NotFound, "gone"),
		status.Error(codes.ResourceExhausted, "message larger than max"), // no RetryInfo
		status.Error(codes.Aborted, "in progress"),                       // a read has no key
	} {
		s := &scripted{script: []error{err}}
		c := startScripted(t, s, Options{})
		if _, got := c.CRM.GetRecord(context.Background(), &crmv1.GetRecordRequest{Id: "r"}); status.Code(got) != status.Code(err) {
			t.Errorf("%v: got %v", err, got)
		}
		if s.calls != 1 {
			t.Errorf("%v: %d attempts, want 1", err, s.calls)
		}
	}
}

func TestRetryGivesUp(t *testing.T) {
	down := status.Error(codes.Unavailable, "down")
	s := &scripted{script: []error{down, down, down, down, down}}
	c := startScripted(t, s, Options{Retry: RetryPolicy{MaxAttempts: 3}})
	if _, err := c.CRM.GetRecord(context.Background(), &crmv1.GetRecordRequest{Id: "r"}); status.Code(err) != codes.Unavailable {
		t.Fatalf("got %v", err)
	}
	if s.calls != 3 {
		t.Errorf("%d attempts, want MaxAttempts 3", s.calls)
	}
	// A RetryInfo delay beyond the call's deadline is not waited for.
	s = &scripted{script: []error{rateLimited(time.Hour)}}
	c = startScripted(t, s, Options{Timeout: 5 * time.Second})
	if _, err := c.CRM.GetRecord(context.Background(), &crmv1.GetRecordRequest{Id: "r"}); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("got %v", err)
	}
	if s.calls != 1 {
		t.Errorf("%d attempts: waited for a retry delay beyond the deadline", s.calls)
	}
}

func TestWritesRetriedOnlyWithIdempotencyKey(t *testing.T) {
	down := status.Error(codes.Unavailable, "down")
	s := &scripted{script: []error{down}}
	c := startScripted(t, s, Options{})
	if _, err := c.CRM.CreateRecord(context.Background(), &crmv1.CreateRecordRequest{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("write without key: %v, want the UNAVAILABLE unretried", err)
	}
	if s.calls != 1 {
		t.Errorf("write without key: %d attempts, want 1", s.calls)
	}

	inProgress, _ := status.New(codes.Aborted, "in progress").WithDetails(&errdetails.ErrorInfo{Reason: "IDEMPOTENCY_KEY_IN_PROGRESS"})
	s = &scripted{script: []error{down, inProgress.Err()}}
	c = startScripted(t, s, Options{})
	ctx := WithIdempotencyKey(context.Background(), "key-1")
	ctx = WithConnection(WithAPIKey(ctx, "cgk_other"), "conn_other")
	if _, err := c.CRM.CreateRecord(ctx, &crmv1.CreateRecordRequest{}); err != nil {
		t.Fatalf("write with key: %v", err)
	}
	if s.calls != 3 {
		t.Errorf("write with key: %d attempts, want 3", s.calls)
	}
	for i, md := range s.md {
		if md.Get(MetadataIdempotencyKey)[0] != "key-1" || md.Get(MetadataAPIKey)[0] != "cgk_other" || md.Get(MetadataConnectionID)[0] != "conn_other" {
			t.Errorf("attempt %d: metadata %v", i+1, md)
		}
	}
}

func TestCallerDeadlineKept(t *testing.T) {
	s := &scripted{}
	c := startScripted(t, s, Options{Timeout: -1})
	if _, err := c.CRM.GetRecord(context.Background(), &crmv1.GetRecordRequest{Id: "r"}); err != nil {
		t.Fatal(err)
	}
	if s.deadline[0] {
		t.Errorf("Timeout -1: a deadline was set")
	}
}

func TestRecordsResumesBrokenStream(t *testing.T) {
	s := &scripted{pages: [][]string{{"a", "b"}, {"c", "d"}, {"e"}}, breakAfter: 2}
	c := startScripted(t, s, Options{})
	var ids []string
	for rec, err := range c.Records(context.Background(), &crmv1.StreamRecordsRequest{ObjectName: "pet"}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.GetId())
	}
	if got := len(ids); got != 5 || ids[0] != "a" || ids[4] != "e" {
		t.Errorf("records %v, want a..e once each", ids)
	}
	if len(s.cursors) != 2 || s.cursors[1] != "2" {
		t.Errorf("stream opened with cursors %q, want \"\" then the last received \"2\"", s.cursors)
	}

	// Stopping early ends the iteration without error.
	n := 0
	for _, err := range c.Records(context.Background(), &crmv1.StreamRecordsRequest{ObjectName: "pet"}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
}
