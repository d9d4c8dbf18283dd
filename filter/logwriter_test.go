package filter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
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

// TestDecisionLineAsSlogWritesIt: the decision line written by hand holds
// what slog's JSON handler writes for the same check: the same keys and
// values, in the same order, the time and latency aside, for allowed,
// tagged, rejected and numberless checks.
func TestDecisionLineAsSlogWritesIt(t *testing.T) {
	set := mustCompile(t, testPolicy)
	for _, body := range []string{`{"phone":"+447400123456"}`, `{"phone":"+445612345678"}`, `{"phone":"12"}`, `{"email":"a@b"}`, `{"phone":"+447400123456","x":"\u2028\"\\"}`} {
		var viaSlog, byHand bytes.Buffer
		for _, fast := range []bool{false, true} {
			out := &viaSlog
			if fast {
				out = &byHand
			}
			w := NewLogWriter(out, 16)
			srv := New(Options{Logger: slog.New(slog.NewJSONHandler(w, nil)), LogWriter: w, DecisionLogJSON: fast,
				HashKey: []byte("0123456789abcdef0123456789abcdef")})
			srv.SetPolicy(set)
			srv.MarkWarm()
			req := envoyCheck("POST", "/signup", "application/json", body, nil)
			if _, err := srv.Check(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			w.Close()
		}
		line := func(b *bytes.Buffer) []string {
			var kv []string
			dec := json.NewDecoder(strings.NewReader(strings.TrimSpace(b.String())))
			dec.UseNumber()
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				t.Fatalf("%q: %v", b.String(), err)
			}
			for k, v := range m {
				if k != "time" && k != "latency_us" {
					kv = append(kv, fmt.Sprintf("%s=%v", k, v))
				}
			}
			slices.Sort(kv)
			return kv
		}
		if got, want := line(&byHand), line(&viaSlog); !slices.Equal(got, want) {
			t.Errorf("%s:\nby hand %v\nslog    %v", body, got, want)
		}
		order := func(b *bytes.Buffer) []string {
			var keys []string
			dec := json.NewDecoder(strings.NewReader(b.String()))
			dec.Token() // {
			for dec.More() {
				k, _ := dec.Token()
				keys = append(keys, k.(string))
				var v any
				dec.Decode(&v)
			}
			return keys
		}
		if got, want := order(&byHand), order(&viaSlog); !slices.Equal(got, want) {
			t.Errorf("%s: keys by hand %v, slog %v", body, got, want)
		}
	}
}

// TestLogWriterLinesWholeAcrossClose: many writers build lines in the
// writer's own buffers (writeWith, and Write as slog uses it), long and
// short in turn so that a reused buffer would show an earlier line's tail,
// while Close comes in the middle: every line written arrives exactly once
// and as built (a buffer put back while queued would repeat or mix
// lines), and written plus dropped is every line.
func TestLogWriterLinesWholeAcrossClose(t *testing.T) {
	var out syncBuffer
	w := NewLogWriter(&out, 64)
	const writers, each = 8, 300
	line := func(g, i int) string {
		return fmt.Sprintf("g%d i%d %s\n", g, i, strings.Repeat(string(rune('a'+(g+i)%26)), (i%7)*90))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range each {
				l := line(g, i)
				if i%2 == 0 {
					w.writeWith(func(b []byte) []byte { return append(b, l...) })
				} else {
					fmt.Fprint(w, l)
				}
			}
		}()
	}
	close(start)
	w.Close() // while the writers write: the rest is written through
	wg.Wait()
	want := map[string]bool{}
	for g := range writers {
		for i := range each {
			want[strings.TrimSuffix(line(g, i), "\n")] = true
		}
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	seen := map[string]bool{}
	for _, l := range got {
		if !want[l] || seen[l] {
			t.Fatalf("line %.40q... (%d bytes): not written, or written twice", l, len(l))
		}
		seen[l] = true
	}
	if len(got)+int(w.Dropped()) != writers*each {
		t.Errorf("%d lines written, %d dropped, want %d in all", len(got), w.Dropped(), writers*each)
	}
}
