package telemetry

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// slogAttrs appends to attrs the attributes the gateway's rpc line had
// before RPCLine (as internal/server built them for slog.Logger.LogAttrs).
func slogAttrs(attrs []slog.Attr, l RPCLine) []slog.Attr {
	attrs = append(attrs,
		slog.String("request_id", l.RequestID),
		slog.String("transport", l.Transport),
		slog.String("rpc", l.RPC),
		slog.String("code", l.Code),
		slog.Float64("duration_ms", float64(l.Duration.Microseconds())/1000),
		slog.Int64("upstream_calls", l.UpstreamCalls),
	)
	if l.Org != "" {
		attrs = append(attrs, slog.String("org", l.Org))
	}
	if l.ConnectionID != "" {
		attrs = append(attrs, slog.String("connection_id", l.ConnectionID))
	}
	if l.TraceID != "" {
		attrs = append(attrs, slog.String("trace_id", l.TraceID))
	}
	return attrs
}

// slogLine is l as slog's JSONHandler with RedactAttr writes it for a
// record of time t and level: what LogRPC must write.
func slogLine(t testing.TB, at time.Time, level slog.Level, l RPCLine) string {
	t.Helper()
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: RedactAttr})
	r := slog.NewRecord(at, level, "rpc", 0)
	r.AddAttrs(slogAttrs(nil, l)...)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// rpcLineCases cover every field, escaping and redaction.
var rpcLineCases = []RPCLine{
	{
		RequestID: "4b3c1f0e8a8d4e3a9c432b1f9a0e7d11", Transport: "grpc", RPC: "/crmgate.crm.v1.CrmService/GetRecord",
		Code: "OK", Duration: 1234567 * time.Nanosecond, UpstreamCalls: 1,
		Org: "org_1", ConnectionID: "conn_1", TraceID: "0af7651916cd43dd8448eb211c80319c",
	},
	{}, // every string empty: the optional attributes are left out
	{RequestID: "r", Transport: "rest", RPC: "/s/M", Code: "Internal", Duration: -5 * time.Millisecond, UpstreamCalls: -1},
	{RPC: "/s/M", Duration: time.Duration(math.MaxInt64), UpstreamCalls: math.MaxInt64, Org: "o"},
	{RPC: "/s/M", Duration: time.Duration(math.MinInt64), UpstreamCalls: math.MinInt64, TraceID: "t"},
	{Duration: 999 * time.Nanosecond, ConnectionID: "(invalid)"},
	{Duration: time.Microsecond, Org: `quote" back\slash /slash`},
	{Duration: 10 * time.Microsecond, Org: "ctl \x00\x01\x1f\x7f \n\r\t\b\f"},
	{Duration: 100 * time.Microsecond, Org: "<script>&amp;</script>"},
	{Duration: time.Hour, Org: "bad \xff\xfe utf8 \xe2\x82 end", ConnectionID: "\xc0"},
	{Org: "sep \u2028 and \u2029, é, 日本, 🙂"},
	{RequestID: "Bearer abc", Transport: "basic x", RPC: "BEARER ", Code: "Basic", Org: "bearer\tx", ConnectionID: "Basic  y", TraceID: "Bearer"},
	{Org: Redacted, TraceID: "bearer é"},
}

var rpcLineLevels = []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelInfo + 2, slog.LevelDebug - 3, 100, -100}

func TestRPCLineAsSlog(t *testing.T) {
	times := []time.Time{
		time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC),
		time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC),
		time.Date(2025, 3, 14, 15, 9, 26, 500000000, time.FixedZone("", -(3*3600+30*60))),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("X", 14*3600)),
		time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Now(), // monotonic reading, local zone
	}
	for i, l := range rpcLineCases {
		for _, level := range rpcLineLevels {
			for _, at := range times {
				want := slogLine(t, at, level, l)
				if got := string(appendRPCLine(nil, at, level, &l)); got != want {
					t.Errorf("case %d, %v, %v:\n got %s\nwant %s", i, level, at, got, want)
				}
			}
		}
	}
}

func FuzzRPCLine(f *testing.F) {
	for i, l := range rpcLineCases {
		f.Add(l.RequestID, l.Transport, l.RPC, l.Code, int64(l.Duration), l.UpstreamCalls, l.Org, l.ConnectionID, l.TraceID,
			int64(rpcLineLevels[i%len(rpcLineLevels)]), int64(1741964966535897932)+int64(i)*1e15, int32(i*3600-7200))
	}
	f.Fuzz(func(t *testing.T, requestID, transport, rpc, code string, d, upstream int64, org, conn, trace string, level, unixNano int64, zone int32) {
		l := RPCLine{
			RequestID: requestID, Transport: transport, RPC: rpc, Code: code, Duration: time.Duration(d),
			UpstreamCalls: upstream, Org: org, ConnectionID: conn, TraceID: trace,
		}
		at := time.Unix(0, unixNano).In(time.FixedZone("", int(zone%(18*3600))))
		want := slogLine(t, at, slog.Level(level), l)
		if got := string(appendRPCLine(nil, at, slog.Level(level), &l)); got != want {
			t.Errorf("%#v at %v, level %d:\n got %s\nwant %s", l, at, level, got, want)
		}
	})
}

// TestAppendNumbers: appendJSONFloat writes a float64 as json.Marshal
// does, and appendMillis microseconds in milliseconds as appendJSONFloat.
func TestAppendNumbers(t *testing.T) {
	for _, f := range []float64{
		0, math.Copysign(0, -1), 1, -1, 0.001, 1234.567, 1e20, 1e21, -1e21, 123456789e15, 1e-6, 1e-7, -1e-7,
		5e-324, math.MaxFloat64, -math.MaxFloat64, 1.5e-10, 2.5e100, 9223372036854.775, -9223372036854.775, 0.1 + 0.2,
	} {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONFloat(nil, f); string(got) != string(want) {
			t.Errorf("appendJSONFloat(%v) = %s, want %s", f, got, want)
		}
	}
	for _, us := range []int64{
		0, 1, -1, 9, 10, 99, 100, 101, 999, 1000, 1001, 1010, 1100, 1234567, -1234567, 5000000, 999999999999999,
		-999999999999999, 1e15, -1e15, 1e15 + 1, 123456789012345678, math.MaxInt64 / 1000, math.MaxInt64, math.MinInt64,
	} {
		want := string(appendJSONFloat(nil, float64(us)/1000))
		if got := string(appendMillis(nil, us)); got != want {
			t.Errorf("appendMillis(%d) = %s, want %s", us, got, want)
		}
	}
}

// TestLogRPC: on NewLogger's logger LogRPC writes slog's bytes (at the
// time written in the line), and nothing below the level; on a logger
// with attributes added, or another handler, it logs the same attributes
// and message through the handler, with its caller as the source.
func TestLogRPC(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	log := NewLogger(&buf, slog.LevelInfo)
	for _, l := range rpcLineCases {
		LogRPC(ctx, log, slog.LevelDebug, l) // below the level: nothing
		LogRPC(ctx, log, slog.LevelInfo, l)
		line := buf.String()
		buf.Reset()
		var m struct{ Time time.Time }
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %v: %s", err, line)
		}
		if want := slogLine(t, m.Time, slog.LevelInfo, l); line != want {
			t.Errorf("LogRPC wrote\n%s\nwant\n%s", line, want)
		}
	}

	l := rpcLineCases[0]
	LogRPC(ctx, log.With("component", "x"), slog.LevelWarn, l)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	if m["component"] != "x" || m["msg"] != "rpc" || m["level"] != "WARN" || m["trace_id"] != l.TraceID {
		t.Errorf("through a derived logger: %s", buf.String())
	}

	rec := &recordHandler{}
	LogRPC(ctx, slog.New(rec), slog.LevelError, l)
	if len(rec.records) != 1 {
		t.Fatalf("%d records, want 1", len(rec.records))
	}
	r := rec.records[0]
	var got []slog.Attr
	r.Attrs(func(a slog.Attr) bool { got = append(got, a); return true })
	want := slogAttrs(nil, l)
	if r.Message != "rpc" || r.Level != slog.LevelError || len(got) != len(want) {
		t.Fatalf("record %q %v %v, want rpc ERROR %v", r.Message, r.Level, got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("attribute %d = %v, want %v", i, got[i], want[i])
		}
	}
	if src := r.Source(); src == nil || !strings.HasSuffix(src.File, "rpcline_test.go") {
		t.Errorf("source %+v, want LogRPC's caller", src)
	}
}

type recordHandler struct{ records []slog.Record }

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.records = append(h.records, r)
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

// TestLogRPCConcurrent: LogRPC's lines and the JSONHandler's never
// interleave on a writer that is not safe for concurrent use (the race
// detector would also see unserialised writes).
func TestLogRPCConcurrent(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, slog.LevelInfo)
	derived := log.With("component", "c")
	const goroutines, each = 8, 100
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				switch (g + i) % 3 {
				case 0:
					LogRPC(context.Background(), log, slog.LevelInfo, rpcLineCases[i%len(rpcLineCases)])
				case 1:
					log.Info("other", "i", i)
				default:
					derived.Info("derived", "i", i)
				}
			}
		})
	}
	wg.Wait()
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		n++
		if !json.Valid(sc.Bytes()) {
			t.Errorf("line %d is not JSON: %s", n, sc.Bytes())
		}
	}
	if n != goroutines*each {
		t.Errorf("%d lines, want %d", n, goroutines*each)
	}
}

// BenchmarkRPCLine: one call's rpc line on NewLogger's logger writing to
// a BufferedWriter (as cmd/gateway's), through slog.Logger.LogAttrs
// (before LogRPC) and through LogRPC.
func BenchmarkRPCLine(b *testing.B) {
	ctx := context.Background()
	l := RPCLine{
		RequestID: "4b3c1f0e8a8d4e3a9c432b1f9a0e7d11", Transport: "grpc", RPC: "/crmgate.crm.v1.CrmService/GetRecord",
		Code: "OK", Duration: 1234567 * time.Nanosecond, UpstreamCalls: 1,
		Org: "org_01HZX3Q7Y8J9K0M1N2P3Q4R5S6", ConnectionID: "conn_01HZX3Q7Y8J9K0M1N2P3Q4R5S6",
	}
	for _, bc := range []struct {
		name string
		log  func(*slog.Logger)
	}{
		{"slog", func(log *slog.Logger) { // as internal/server did
			log.LogAttrs(ctx, slog.LevelInfo, "rpc", slogAttrs(make([]slog.Attr, 0, 10), l)...)
		}},
		{"LogRPC", func(log *slog.Logger) { LogRPC(ctx, log, slog.LevelInfo, l) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := NewBufferedWriter(io.Discard, time.Hour, 64<<10)
			defer func() { _ = w.Close() }()
			log := NewLogger(w, slog.LevelInfo)
			b.ReportAllocs()
			for b.Loop() {
				bc.log(log)
			}
		})
	}
}
