package idempotency_test

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/idempotency"
)

type crmServer struct {
	crmv1.UnimplementedCrmServiceServer
	h *handler
}

func (s *crmServer) CreateRecord(ctx context.Context, req *crmv1.CreateRecordRequest) (*crmv1.CreateRecordResponse, error) {
	r, err := s.h.handle(ctx, req)
	if err != nil {
		return nil, err
	}
	return r.(*crmv1.CreateRecordResponse), nil
}

// TestOverGRPC: the replay header and the mismatch status cross the wire.
func TestOverGRPC(t *testing.T) {
	fakeAuth := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		return next(auth.WithPrincipal(ctx, auth.Principal{OrganisationID: "org1"}), req)
	}
	h := &handler{}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(fakeAuth, idempotency.UnaryInterceptor(idempotency.NewMemoryStore(nil), methods, nil)))
	crmv1.RegisterCrmServiceServer(srv, &crmServer{h: h})
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpc.NewClient("passthrough:///buf", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	c := crmv1.NewCrmServiceClient(conn)
	ctx := metadata.AppendToOutgoingContext(context.Background(), idempotency.MetadataKey, "k1", auth.HeaderConnectionID, "conn_a")

	var h1, h2 metadata.MD
	r1, err := c.CreateRecord(ctx, createReq("Rex"), grpc.Header(&h1))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.CreateRecord(ctx, createReq("Rex"), grpc.Header(&h2))
	if err != nil {
		t.Fatal(err)
	}
	if r1.GetRecord().GetId() != r2.GetRecord().GetId() || h.calls.Load() != 1 {
		t.Fatalf("replay: %v vs %v, %d calls", r1, r2, h.calls.Load())
	}
	if len(h1.Get(idempotency.ReplayedKey)) != 0 || h2.Get(idempotency.ReplayedKey)[0] != "true" {
		t.Fatalf("replayed header: first %v, second %v", h1, h2)
	}
	_, err = c.CreateRecord(ctx, createReq("Max"))
	st, _ := status.FromError(err)
	if st.Code() != codes.InvalidArgument || reason(st) != idempotency.ReasonMismatch {
		t.Fatalf("mismatch over the wire: %v", err)
	}
}
