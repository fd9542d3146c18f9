package telemetry_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/telemetry"
	"github.com/crmgate/crmgate/internal/testenv"
)

func TestBufferedWriter(t *testing.T) {
	t.Run("holds lines until flushed", func(t *testing.T) {
		var out testenv.LogBuffer
		b := telemetry.NewBufferedWriter(&out, time.Hour, 1024)
		defer func() { _ = b.Close() }()
		_, _ = b.Write([]byte("one\n"))
		_, _ = b.Write([]byte("two\n"))
		if got := out.String(); got != "" {
			t.Fatalf("written before a flush: %q", got)
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != "one\ntwo\n" {
			t.Fatalf("after flush: %q", got)
		}
	})
	t.Run("flushes when full, and writes a line larger than the buffer whole", func(t *testing.T) {
		var out testenv.LogBuffer
		b := telemetry.NewBufferedWriter(&out, time.Hour, 8)
		defer func() { _ = b.Close() }()
		_, _ = b.Write([]byte("aaaa\n"))
		_, _ = b.Write([]byte("bbbb\n")) // does not fit: aaaa is written first
		if got := out.String(); got != "aaaa\n" {
			t.Fatalf("after overflow: %q", got)
		}
		_, _ = b.Write([]byte("a long line\n"))
		if got := out.String(); got != "aaaa\nbbbb\na long line\n" {
			t.Fatalf("after a long line: %q", got)
		}
	})
	t.Run("flushes on its interval", func(t *testing.T) {
		var out testenv.LogBuffer
		b := telemetry.NewBufferedWriter(&out, 10*time.Millisecond, 1024)
		defer func() { _ = b.Close() }()
		_, _ = b.Write([]byte("tick\n"))
		deadline := time.Now().Add(5 * time.Second)
		for out.String() == "" && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := out.String(); got != "tick\n" {
			t.Fatalf("not flushed by the timer: %q", got)
		}
	})
	t.Run("close flushes and later lines go straight through", func(t *testing.T) {
		var out testenv.LogBuffer
		b := telemetry.NewBufferedWriter(&out, time.Hour, 1024)
		_, _ = b.Write([]byte("before\n"))
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		_, _ = b.Write([]byte("after\n"))
		if got := out.String(); got != "before\nafter\n" {
			t.Fatalf("got %q", got)
		}
		if err := b.Close(); err != nil {
			t.Fatal("second close:", err)
		}
	})
	t.Run("concurrent lines stay whole and none is lost", func(t *testing.T) {
		var out testenv.LogBuffer
		b := telemetry.NewBufferedWriter(&out, time.Millisecond, 256)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 200 {
					_, _ = fmt.Fprintf(b, "g%d line %03d\n", g, i)
				}
			})
		}
		wg.Wait()
		_ = b.Close()
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 8*200 {
			t.Fatalf("%d lines, want %d", len(lines), 8*200)
		}
		for _, l := range lines {
			var g, i int
			if n, err := fmt.Sscanf(l, "g%d line %d", &g, &i); n != 2 || err != nil || !bytes.HasPrefix([]byte(l), []byte("g")) {
				t.Fatalf("torn line %q", l)
			}
		}
	})
}
