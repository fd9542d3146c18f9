package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/telemetry"
)

// TestObserveLogLine: a call's "rpc" line on the gateway's logger
// (telemetry.NewLogger, which LogRPC writes to itself) has the bytes a
// plain slog JSONHandler with RedactAttr writes for it but for the time
// and duration, its fields in order; levels follow the code and method.
func TestObserveLogLine(t *testing.T) {
	timeAndDuration := regexp.MustCompile(`"time":"[^"]*"|"duration_ms":[0-9.e-]+`)
	for _, tc := range []struct {
		name, method, conn, org string
		err                     error
		level                   slog.Level // of the logger
		want                    string     // "" for no line
	}{
		{
			name: "ok", method: "/crmgate.crm.v1.CrmService/GetRecord", conn: "conn-1", org: "org-1", level: slog.LevelInfo,
			want: `{T,"level":"INFO","msg":"rpc","request_id":"req-1","transport":"grpc","rpc":"/crmgate.crm.v1.CrmService/GetRecord","code":"OK",D,"upstream_calls":0,"org":"org-1","connection_id":"conn-1"}` + "\n",
		},
		{
			name: "internal, invalid connection", method: "/crmgate.crm.v1.CrmService/GetRecord", conn: "bad id\"", err: status.Error(codes.Internal, "x"), level: slog.LevelInfo,
			want: `{T,"level":"ERROR","msg":"rpc","request_id":"req-1","transport":"grpc","rpc":"/crmgate.crm.v1.CrmService/GetRecord","code":"Internal",D,"upstream_calls":0,"connection_id":"(invalid)"}` + "\n",
		},
		{
			name: "credential org redacted", method: "/crmgate.crm.v1.CrmService/GetRecord", org: "Bearer x", err: status.Error(codes.NotFound, "x"), level: slog.LevelInfo,
			want: `{T,"level":"INFO","msg":"rpc","request_id":"req-1","transport":"grpc","rpc":"/crmgate.crm.v1.CrmService/GetRecord","code":"NotFound",D,"upstream_calls":0,"org":"[REDACTED]"}` + "\n",
		},
		{name: "health probe below the level", method: "/grpc.health.v1.Health/Check", level: slog.LevelInfo},
		{
			name: "health probe at debug", method: "/grpc.health.v1.Health/Check", level: slog.LevelDebug,
			want: `{T,"level":"DEBUG","msg":"rpc","request_id":"req-1","transport":"grpc","rpc":"/grpc.health.v1.Health/Check","code":"OK",D,"upstream_calls":0}` + "\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fast, plain bytes.Buffer
			loggers := map[*bytes.Buffer]*slog.Logger{
				&fast:  telemetry.NewLogger(&fast, tc.level),
				&plain: slog.New(slog.NewJSONHandler(&plain, &slog.HandlerOptions{Level: tc.level, ReplaceAttr: telemetry.RedactAttr})),
			}
			for buf, log := range loggers {
				md := metadata.Pairs(telemetry.HeaderRequestID, "req-1")
				if tc.conn != "" {
					md.Set(auth.HeaderConnectionID, tc.conn)
				}
				ctx := metadata.NewIncomingContext(context.Background(), md)
				_, _ = observeUnary(log, nil)(ctx, nil, &grpc.UnaryServerInfo{FullMethod: tc.method}, func(ctx context.Context, _ any) (any, error) {
					if tc.org != "" {
						noteOrg(ctx, tc.org)
					}
					return nil, tc.err
				})
				if buf.Len() > 0 && !json.Valid(buf.Bytes()) {
					t.Errorf("not JSON: %s", buf)
				}
			}
			norm := func(b *bytes.Buffer) string { // the time as T, the duration as D
				return timeAndDuration.ReplaceAllStringFunc(b.String(), func(s string) string { return strings.ToUpper(s[1:2]) })
			}
			got, slogs := norm(&fast), norm(&plain)
			if got != slogs {
				t.Errorf("gateway logger wrote\n%s\nslog's JSONHandler\n%s", fast.String(), plain.String())
			}
			if got != tc.want {
				t.Errorf("line\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
