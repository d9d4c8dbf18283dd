package filter

import (
	"bufio"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// LogWriter is the writer under the decision log: a check hands it a line
// and goes on. Lines wait in a bounded queue for one goroutine that writes
// them in batches, a few milliseconds' worth at a time (logBatchWait). When
// the queue is full (the log's destination is slower than the checks) a
// line is dropped and counted (phonegate_log_lines_dropped_total), never
// waited for. Close writes what is queued and stops; call it at shutdown.
type LogWriter struct {
	out     io.Writer
	lines   chan *[]byte // buffers of bufs, put back once written
	dropped atomic.Uint64
	done    chan struct{}
	mu      sync.RWMutex // Write holds it shared, Close alone
	closed  bool
	bufs    sync.Pool
}

// DefaultLogQueue is how many lines may wait to be written.
const DefaultLogQueue = 4096

// NewLogWriter starts a writer to out with room for queue lines (0 is
// DefaultLogQueue).
func NewLogWriter(out io.Writer, queue int) *LogWriter {
	if queue <= 0 {
		queue = DefaultLogQueue
	}
	w := &LogWriter{out: out, lines: make(chan *[]byte, queue), done: make(chan struct{})}
	w.bufs.New = func() any { return new([]byte) }
	go w.run()
	return w
}

// Write queues a copy of p (log/slog reuses its buffer) and returns at once.
// After Close it writes through.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.writeWith(func(b []byte) []byte { return append(b, p...) })
	return len(p), nil
}

// writeWith queues the line build appends to an empty buffer of the
// writer's own: the decision log writes its lines in place, with no copy.
// After Close the line is written through.
func (w *LogWriter) writeWith(build func([]byte) []byte) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	bp := w.bufs.Get().(*[]byte)
	*bp = build((*bp)[:0])
	if w.closed {
		w.out.Write(*bp)
		w.put(bp)
		return
	}
	select {
	case w.lines <- bp:
	default:
		w.dropped.Add(1)
		w.put(bp)
	}
}

// maxPooledLine bounds the buffers kept for reuse: one a rare long line
// grew (a panic's stack) is left to the collector.
const maxPooledLine = 64 << 10

func (w *LogWriter) put(bp *[]byte) {
	if cap(*bp) <= maxPooledLine {
		w.bufs.Put(bp)
	}
}

// logBatchWait is how long the writer lets a batch gather after its first
// line. Waiting on an empty queue, the writer goroutine would be woken by
// every line (a futex call a check under steady load); asleep, it lets the
// checks queue their lines without waking anyone, and writes them in one
// go. Lines reach the log at most this much later.
const logBatchWait = 5 * time.Millisecond

func (w *LogWriter) run() {
	defer close(w.done)
	bw := bufio.NewWriterSize(w.out, 64<<10)
	write := func(bp *[]byte) {
		bw.Write(*bp)
		w.put(bp)
	}
	for bp := range w.lines {
		write(bp)
		time.Sleep(logBatchWait)
	batch:
		for {
			select {
			case bp, ok := <-w.lines:
				if !ok {
					break batch // closed: flushed below, and the range ends
				}
				write(bp)
			default:
				break batch
			}
		}
		bw.Flush() // a batch is written; wait for more
	}
	bw.Flush()
}

// Dropped is how many lines were dropped because the queue was full.
func (w *LogWriter) Dropped() uint64 { return w.dropped.Load() }

// Close writes every queued line and stops the writer.
func (w *LogWriter) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.lines)
	}
	w.mu.Unlock()
	<-w.done
	return nil
}
