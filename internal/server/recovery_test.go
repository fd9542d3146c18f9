package server

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/store/sqlstore"
	"github.com/crmgate/crmgate/internal/telemetry"
)

// panicky panics in GetRecord and StreamRecords, and answers ListObjects.
type panicky struct {
	crmv1.UnimplementedCrmServiceServer
}

const panicText = "boom: secret-in-panic"

func (panicky) GetRecord(context.Context, *crmv1.GetRecordRequest) (*crmv1.GetRecordResponse, error) {
	panic(panicText)
}

func (panicky) StreamRecords(*crmv1.StreamRecordsRequest, grpc.ServerStreamingServer[crmv1.StreamRecordsResponse]) error {
	panic(panicText)
}

func (panicky) ListObjects(context.Context, *crmv1.ListObjectsRequest) (*crmv1.ListObjectsResponse, error) {
	return &crmv1.ListObjectsResponse{}, nil
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

// TestPanicsAndGRPCMetrics: a panicking handler answers INTERNAL "internal
// error" over gRPC (unary and stream) and REST, nothing of the panic
// reaches the caller, the panic is logged with its method and stack; the
// gRPC port's calls are counted in go-grpc-middleware's grpc_server_*
// metrics on crmgate's registry, beside crmgate_rpc_*; REST calls are not.
func TestPanicsAndGRPCMetrics(t *testing.T) {
	ctx := context.Background()
	keys, err := secrets.ParseKeyring(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), keys, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	const key = "sk-test-recovery-0123456789"
	if _, err := auth.EnsureKey(ctx, st, "org-1", "test", key); err != nil {
		t.Fatal(err)
	}
	logs := newSyncBuffer()
	log := slog.New(slog.NewJSONHandler(logs, nil))
	metrics := telemetry.NewMetrics()
	s, err := New(Config{Metrics: metrics}, panicky{}, corev1.UnimplementedCoreServiceServer{}, auth.NewAuthenticator(st, time.Minute), log)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.GRPC().Serve(lis) }()
	t.Cleanup(s.GRPC().Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client := crmv1.NewCrmServiceClient(conn)
	cctx := metadata.AppendToOutgoingContext(ctx, auth.HeaderAPIKey, key)

	safe := func(what string, err error) {
		t.Helper()
		if st, _ := status.FromError(err); st.Code() != codes.Internal || st.Message() != "internal error" {
			t.Errorf("%s: %v, want INTERNAL \"internal error\"", what, err)
		}
	}
	_, err = client.GetRecord(cctx, &crmv1.GetRecordRequest{ObjectName: "pet", Id: "r1"})
	safe("gRPC unary", err)
	stream, err := client.StreamRecords(cctx, &crmv1.StreamRecordsRequest{ObjectName: "pet"})
	if err == nil {
		_, err = stream.Recv()
	}
	safe("gRPC stream", err)
	for range 2 {
		if _, err := client.ListObjects(cctx, &crmv1.ListObjectsRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.ListObjects(ctx, &crmv1.ListObjectsRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("no key: %v", err)
	}

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/v0/unified/crm/custom_objects/pet/r1", nil)
	req.Header.Set("X-Apikey", key)
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "boom") || !strings.Contains(rec.Body.String(), "internal error") {
		t.Errorf("REST: %d %s", rec.Code, rec.Body)
	}

	out := logs.String()
	if strings.Count(out, `"msg":"panic in handler"`) != 3 ||
		!strings.Contains(out, `"method":"/crmgate.crm.v1.CrmService/GetRecord"`) ||
		!strings.Contains(out, `"method":"/crmgate.crm.v1.CrmService/StreamRecords"`) ||
		!strings.Contains(out, "recovery_test.go") {
		t.Errorf("panics not logged with method and stack:\n%s", out)
	}

	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, rec.Body)
	}
	const svc = "crmgate.crm.v1.CrmService"
	for _, tc := range []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"grpc_server_handled_total", map[string]string{"grpc_type": "unary", "grpc_service": svc, "grpc_method": "GetRecord", "grpc_code": "Internal"}, 1},
		{"grpc_server_handled_total", map[string]string{"grpc_type": "server_stream", "grpc_service": svc, "grpc_method": "StreamRecords", "grpc_code": "Internal"}, 1},
		{"grpc_server_handled_total", map[string]string{"grpc_type": "unary", "grpc_service": svc, "grpc_method": "ListObjects", "grpc_code": "OK"}, 2},
		{"grpc_server_handled_total", map[string]string{"grpc_type": "unary", "grpc_service": svc, "grpc_method": "ListObjects", "grpc_code": "Unauthenticated"}, 1},
		{"grpc_server_started_total", map[string]string{"grpc_type": "unary", "grpc_service": svc, "grpc_method": "ListObjects"}, 3},
		{"grpc_server_handling_seconds", map[string]string{"grpc_type": "unary", "grpc_service": svc, "grpc_method": "GetRecord"}, 1},
		// crmgate's own metrics count both transports.
		{"crmgate_rpc_requests_total", map[string]string{"transport": "grpc", "service": svc, "method": "GetRecord", "code": "Internal"}, 1},
		{"crmgate_rpc_requests_total", map[string]string{"transport": "rest", "service": svc, "method": "GetRecord", "code": "Internal"}, 1},
	} {
		if got := metricValue(fams[tc.family], tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.family, tc.labels, got, tc.want)
		}
	}
	if strings.Contains(rec.Body.String(), "boom") {
		t.Error("/metrics shows the panic")
	}
}

// metricValue sums the series of f whose labels include want (histograms:
// their sample count).
func metricValue(f *dto.MetricFamily, want map[string]string) float64 {
	var sum float64
series:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue series
			}
		}
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetHistogram() != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}
