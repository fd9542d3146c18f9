package telemetry

import (
	"io"
	"sync"
	"time"
)

// BufferedWriter batches log lines in memory and writes them to w every
// interval, when size bytes are waiting, and on Flush or Close: one write
// system call for many calls' log lines instead of one per call, and none
// on the path of a call (the log line of a call is written before its
// answer is sent). Lines written after Close go straight to w. A process
// killed outright loses at most interval's worth of lines; an orderly
// shutdown loses none.
type BufferedWriter struct {
	w        io.Writer
	size     int
	interval time.Duration

	mu     sync.Mutex
	buf    []byte
	closed bool

	stop chan struct{}
	done chan struct{}
}

// NewBufferedWriter starts a BufferedWriter over w; Close stops it.
func NewBufferedWriter(w io.Writer, interval time.Duration, size int) *BufferedWriter {
	b := &BufferedWriter{
		w: w, size: size, interval: interval,
		buf:  make([]byte, 0, size),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go b.loop()
	return b
}

func (b *BufferedWriter) loop() {
	defer close(b.done)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			_ = b.Flush() // nowhere to report a failing log sink
		}
	}
}

// Write keeps p (one log line: slog handlers write a line per call) for
// the next flush; it writes through when closed or when p alone is larger
// than the buffer.
func (b *BufferedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || len(p) >= b.size {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		return b.w.Write(p)
	}
	if len(b.buf)+len(p) > b.size {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Flush writes what is waiting.
func (b *BufferedWriter) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *BufferedWriter) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// Close flushes, stops the timer and makes later writes go straight to w.
func (b *BufferedWriter) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	<-b.done
	return b.Flush()
}
