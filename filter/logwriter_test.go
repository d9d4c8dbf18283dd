package filter

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// blockingWriter holds every write until released.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// TestLogWriterNeverBlocks: with its destination stuck, Write still returns
// at once, and lines past the queue are dropped and counted; Close writes
// every queued line, in order.
func TestLogWriterNeverBlocks(t *testing.T) {
	out := &blockingWriter{release: make(chan struct{})}
	w := NewLogWriter(out, 8)
	const lines = 100
	pad := strings.Repeat(".", 70<<10) // past the writer's buffer: each line is written through, and sticks
	for i := range lines {
		fmt.Fprintf(w, "line %d %s\n", i, pad) // would hang here if Write waited
	}
	dropped := w.Dropped()
	// The writer goroutine holds at most one line in its stuck write; 8 wait.
	if dropped < lines-9 || dropped > lines-8 {
		t.Errorf("dropped %d of %d with a queue of 8", dropped, lines)
	}
	close(out.release)
	w.Close()
	got := strings.Split(strings.TrimSuffix(out.buf.String(), "\n"), "\n")
	if uint64(len(got))+dropped != lines {
		t.Errorf("%d lines written and %d dropped, want %d in all", len(got), dropped, lines)
	}
	last := -1
	for _, l := range got {
		var n int
		if _, err := fmt.Sscanf(l, "line %d ", &n); err != nil || n <= last || !strings.HasSuffix(l, pad) {
			t.Fatalf("line %.20q after line %d: torn or out of order", l, last)
		}
		last = n
	}
	fmt.Fprintf(w, "after close\n")
	if !strings.HasSuffix(out.buf.String(), "after close\n") {
		t.Error("a line written after Close was lost")
	}
}

// TestLogWriterKeepsEveryLine: with a destination that keeps up, nothing is
// dropped and every line arrives whole, from many writers at once.
func TestLogWriterKeepsEveryLine(t *testing.T) {
	var out syncBuffer
	w := NewLogWriter(&out, 0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				fmt.Fprintf(w, "g%d line %d\n", g, i)
			}
		}()
	}
	wg.Wait()
	w.Close()
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got)+int(w.Dropped()) != 1600 || w.Dropped() > 0 && len(got) == 0 {
		t.Errorf("%d lines, %d dropped", len(got), w.Dropped())
	}
	for _, l := range got {
		if !strings.HasPrefix(l, "g") || !strings.Contains(l, " line ") {
			t.Fatalf("torn line %q", l)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
