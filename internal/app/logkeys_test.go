package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/telemetry"
)

// duplicateKeys walks one JSON value token by token and returns the keys
// that appear twice in the same object (at any depth).
func duplicateKeys(line []byte) ([]string, error) {
	type frame struct {
		object    bool
		wantKey   bool // in an object, the next token is a key or '}'
		keys      map[string]bool
		path      string
		lastKeyed string
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	var stack []*frame
	var dups []string
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return dups, nil
		}
		if err != nil {
			return nil, err
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
			top := stack[n-1]
			if tok == json.Delim('}') {
				stack = stack[:n-1]
				valueDone()
				continue
			}
			k, _ := tok.(string)
			if top.keys[k] {
				dups = append(dups, top.path+k)
			}
			top.keys[k], top.wantKey, top.lastKeyed = true, false, k
			continue
		}
		path := ""
		if n := len(stack); n > 0 {
			path = stack[n-1].path
			if stack[n-1].object {
				path += stack[n-1].lastKeyed + "."
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true, keys: map[string]bool{}, path: path})
		case json.Delim('['):
			stack = append(stack, &frame{path: path})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

func TestDuplicateKeys(t *testing.T) {
	for _, tc := range []struct {
		line string
		want string
	}{
		{`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`, ""},
		{`{"a":1,"b":2,"a":3}`, "a"},
		{`{"msg":"x","g":{"k":1,"k":{"z":[1,{}]}}}`, "g.k"},
		{`{"x":[1,[2,{"y":1,"y":2}]],"z":{}}`, "x.y"},
	} {
		got, err := duplicateKeys([]byte(tc.line))
		if err != nil || strings.Join(got, ",") != tc.want {
			t.Errorf("%s: %v %v, want %q", tc.line, got, err, tc.want)
		}
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// TestLogLinesHaveNoDuplicateKeys: the gateway's real logger chain (JSON
// handler, each component's With) never writes a key twice in a record
// (component used to appear twice on the store's lines). The gateway is
// built and serves the demo at debug level; every line it logs is checked.
func TestLogLinesHaveNoDuplicateKeys(t *testing.T) {
	dir := t.TempDir()
	cfg, err := ConfigFromEnv(mapEnv(map[string]string{"GATEWAY_DATA_DIR": dir, "GATEWAY_LOG_LEVEL": "debug"}))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := telemetry.NewLogger(&logs, cfg.LogLevel)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := Build(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	d, err := a.StartDemo(ctx, "")
	if err != nil {
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
	base := "http://" + hl.Addr().String()
	for _, path := range []string{
		"/v0/unified/crm/custom_objects/pet?page_size=5",
		"/v0/unified/crm/custom_objects/nosuch",
		"/v0/unified/crm/custom_objects/contact?page_size=2",
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		req.Header.Set("x-apikey", d.APIKey)
		req.Header.Set("x-connection-id", d.ConnectionID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}

	lines, components := 0, map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(logs.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines++
		dups, err := duplicateKeys(sc.Bytes())
		if err != nil {
			t.Errorf("not JSON: %v: %s", err, sc.Bytes())
			continue
		}
		if len(dups) > 0 {
			t.Errorf("keys %v repeated in %s", dups, sc.Bytes())
		}
		var rec struct{ Component string }
		_ = json.Unmarshal(sc.Bytes(), &rec)
		components[rec.Component] = true
	}
	if !components["store"] || lines < 5 {
		t.Errorf("%d lines, components %v: the test did not see the store's lines", lines, components)
	}
}
