package telemetry

import (
	"context"
	"io"
	"log/slog"
	"math"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// RPCLine is the log line of one API call (message "rpc"), which LogRPC
// writes. Its attributes, in order: request_id, transport, rpc, code,
// duration_ms (a float, to the microsecond), upstream_calls, then org,
// connection_id and trace_id when not empty.
type RPCLine struct {
	RequestID     string
	Transport     string
	RPC           string // the method as gRPC names it
	Code          string
	Duration      time.Duration
	UpstreamCalls int64
	Org           string
	ConnectionID  string
	TraceID       string
}

// rpcMessage is the message of an RPCLine.
const rpcMessage = "rpc"

// The attribute keys of an RPCLine (none names a secret: SecretKey).
const (
	keyRequestID     = "request_id"
	keyTransport     = "transport"
	keyRPC           = "rpc"
	keyCode          = "code"
	keyDurationMS    = "duration_ms"
	keyUpstreamCalls = "upstream_calls"
	keyOrg           = "org"
	keyConnectionID  = "connection_id"
	keyTraceID       = "trace_id"
)

// durationMS is how an RPCLine logs its duration.
func (l *RPCLine) durationMS() float64 { return float64(l.Duration.Microseconds()) / 1000 }

// appendAttrs appends the line's attributes to as.
func (l *RPCLine) appendAttrs(as []slog.Attr) []slog.Attr {
	as = append(as,
		slog.String(keyRequestID, l.RequestID),
		slog.String(keyTransport, l.Transport),
		slog.String(keyRPC, l.RPC),
		slog.String(keyCode, l.Code),
		slog.Float64(keyDurationMS, l.durationMS()),
		slog.Int64(keyUpstreamCalls, l.UpstreamCalls),
	)
	if l.Org != "" {
		as = append(as, slog.String(keyOrg, l.Org))
	}
	if l.ConnectionID != "" {
		as = append(as, slog.String(keyConnectionID, l.ConnectionID))
	}
	if l.TraceID != "" {
		as = append(as, slog.String(keyTraceID, l.TraceID))
	}
	return as
}

// LogRPC writes line on log at level, if log is enabled for it.
//
// On a logger made by NewLogger (not derived with With or WithGroup) it
// renders the line itself, without slog's Record, reflection or
// json.Marshal, and writes it in one Write: the same bytes slog's
// JSONHandler with RedactAttr writes (time, level, msg, then the
// attributes; proven by TestRPCLineAsSlog and FuzzRPCLine), at a
// fraction of the cost. On any other logger it logs the same
// attributes through the handler.
func LogRPC(ctx context.Context, log *slog.Logger, level slog.Level, line RPCLine) {
	if !log.Enabled(ctx, level) {
		return
	}
	if h, ok := log.Handler().(*jsonHandler); ok {
		h.writeRPC(level, &line)
		return
	}
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:]) // LogRPC's caller, as slog.Logger records it
	r := slog.NewRecord(time.Now(), level, rpcMessage, pcs[0])
	var as [9]slog.Attr
	r.AddAttrs(line.appendAttrs(as[:0])...)
	_ = log.Handler().Handle(ctx, r)
}

// appendRPCLine appends line as slog's JSONHandler with RedactAttr
// writes it for a record of time t (in years 0-9999, as time.Now is) and
// level, newline included.
func appendRPCLine(b []byte, t time.Time, level slog.Level, l *RPCLine) []byte {
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":`...)
	b = appendJSONString(b, level.String())
	b = append(b, `,"msg":"`+rpcMessage+`"`...)
	b = appendStringAttr(b, keyRequestID, l.RequestID)
	b = appendStringAttr(b, keyTransport, l.Transport)
	b = appendStringAttr(b, keyRPC, l.RPC)
	b = appendStringAttr(b, keyCode, l.Code)
	b = append(b, `,"`+keyDurationMS+`":`...)
	b = appendMillis(b, l.Duration.Microseconds())
	b = append(b, `,"`+keyUpstreamCalls+`":`...)
	b = strconv.AppendInt(b, l.UpstreamCalls, 10)
	if l.Org != "" {
		b = appendStringAttr(b, keyOrg, l.Org)
	}
	if l.ConnectionID != "" {
		b = appendStringAttr(b, keyConnectionID, l.ConnectionID)
	}
	if l.TraceID != "" {
		b = appendStringAttr(b, keyTraceID, l.TraceID)
	}
	return append(b, "}\n"...)
}

// appendStringAttr appends `,"key":"value"`, value redacted as RedactAttr
// redacts it (key is one of RPCLine's, never a secret's).
func appendStringAttr(b []byte, key, v string) []byte {
	if credential(v) {
		v = Redacted
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

// appendMillis appends us microseconds in milliseconds as
// appendJSONFloat(float64(us)/1000) does, without converting a float
// below 10^15 µs (31 years): there the quotient's shortest decimal, which
// encoding/json writes, is us's digits with the point three places left
// (no other decimal of 15 significant digits or fewer is as near).
func appendMillis(b []byte, us int64) []byte {
	if us <= -1e15 || us >= 1e15 {
		return appendJSONFloat(b, float64(us)/1000)
	}
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	b = strconv.AppendInt(b, us/1000, 10)
	if frac := us % 1000; frac != 0 {
		d := [4]byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
		n := len(d)
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	return b
}

// appendJSONFloat appends f as encoding/json writes a float64 (which is
// what slog's JSONHandler calls for one); f is finite.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-07 becomes e-7
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString appends s quoted as slog's JSONHandler quotes a
// string: `"` and `\` escaped, \n \r \t by name and other control bytes
// as \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 as \u2028 and
// \u2029; "<", ">" and "&" kept (no HTML escaping).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0 // s[start:i] is waiting to be copied as is
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonPlain tells which bytes appendJSONString copies as they are
// without a look at what follows: ASCII but control bytes, `"` and `\`.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// jsonHandler is NewLogger's handler: slog's JSONHandler with RedactAttr,
// writing to w, which LogRPC writes its lines to directly. Handlers
// derived with WithAttrs or WithGroup are the JSONHandler's own (LogRPC
// logs through them).
type jsonHandler struct {
	*slog.JSONHandler
	w     io.Writer
	lines sync.Pool // of *[]byte, LogRPC's line buffers
}

// maxPooledLine is the size of the largest line buffer kept for reuse
// (a longer line has very long field values).
const maxPooledLine = 4 << 10

// writeRPC writes line, for a record of now, in one Write.
func (h *jsonHandler) writeRPC(level slog.Level, line *RPCLine) {
	bp, _ := h.lines.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	*bp = appendRPCLine((*bp)[:0], time.Now(), level, line)
	_, _ = h.w.Write(*bp) // as slog.Logger, nowhere to report it
	if cap(*bp) <= maxPooledLine {
		h.lines.Put(bp)
	}
}

func newJSONHandler(w io.Writer, level slog.Leveler) *jsonHandler {
	if _, safe := w.(*BufferedWriter); !safe {
		w = &lockedWriter{w: w}
	}
	return &jsonHandler{
		JSONHandler: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: RedactAttr}),
		w:           w,
	}
}

// lockedWriter serialises writes to a writer that may not be safe for
// concurrent use. The JSONHandler locks its own mutex around each write,
// but LogRPC cannot take that mutex, so NewLogger makes both write
// through a lockedWriter: a line never interleaves with another. A
// *BufferedWriter needs none (each Write appends a whole line under its
// own lock).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
