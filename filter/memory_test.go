package filter

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/insight"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// TestMemoryIsBoundedThroughCheck floods a server's Check with distinct
// numbers, each in a body padded to 16 KiB, and measures the live heap: it
// stays within the documented bytes per cache entry and per velocity entry,
// whatever the number of distinct numbers, and no entry keeps its body alive
// (one that did would hold 16 KiB, not about 1 KiB).
func TestMemoryIsBoundedThroughCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("floods the server with distinct numbers")
	}
	const (
		entries = 2000 // the cache's and the velocity store's bound
		flood   = 5 * entries
	)
	srv := New(Options{CacheSize: entries})
	srv.SetPolicy(mustCompile(t, fmt.Sprintf(`
version: 1
routes:
  - {name: signup, fields: [auto], region: {header: cf-ipcountry, default: GB}, policy: standard}
velocity: {max_numbers: %d}
`, entries)))
	srv.MarkWarm()
	pad := strings.Repeat("x", 16<<10)
	serverCodec := newCodec()
	check := func(from, to int) {
		for i := from; i < to; i++ {
			// Distinct UK mobiles, written as users do, inside a large JSON
			// or form body (a form's values are pieces of the body).
			contentType, body := "application/json", fmt.Sprintf(`{"bio":%q,"phone":"07400 %06d","ip":"x"}`, pad, i)
			if i%2 == 1 {
				contentType, body = "application/x-www-form-urlencoded", fmt.Sprintf("bio=%s&phone=07400%06d", pad, i)
			}
			cr := envoyCheck("POST", "/signup", contentType, body,
				map[string]string{"x-forwarded-for": fmt.Sprintf("198.51.%d.%d", i/250%250, i%250), "cf-ipcountry": "GB"})
			// As the gRPC server reads it: the request's strings are
			// pieces of its bytes, which nothing kept may hold.
			raw, _ := proto.Marshal(cr)
			dec := func(v any) error { return serverCodec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(raw)}, v) }
			if _, err := checkHandler(srv, context.Background(), dec, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	check(0, 100) // warm: lazily built tables, pools
	before := heap()
	check(100, 100+entries)
	full := heap()
	check(100+entries, flood)
	after := heap()

	perEntry := float64(int64(full)-int64(before)) / entries
	// Each number is new, and so is its client address: a cache entry, a
	// velocity entry and an address group a number (ranges and networks are
	// shared by many).
	budget := float64(insight.CacheEntryBytes + annexBytes + insight.VelocityEntryBytes + insight.VelocityGroupBytes)
	t.Logf("heap: %d KiB before, %d KiB with %d entries (%.0f B an entry: cache and velocity), %d KiB after %d distinct numbers",
		before>>10, full>>10, entries, perEntry, after>>10, flood)
	if perEntry > budget {
		t.Errorf("%.0f B of heap a number, want at most %.0f (insight.CacheEntryBytes + annexBytes + VelocityEntryBytes + VelocityGroupBytes)", perEntry, budget)
	}
	// Past the bound, more distinct numbers cost nothing more.
	if growth := int64(after) - int64(full); growth > int64(budget*entries/10) {
		t.Errorf("the heap grew %d KiB from %d to %d distinct numbers: not bounded", growth>>10, entries, flood)
	}
	if hits, misses := srv.cacheStats.Hits.Load(), srv.cacheStats.Misses.Load(); misses < flood || hits > 0 {
		t.Errorf("cache hits %d, misses %d: the numbers were not distinct", hits, misses)
	}
	runtime.KeepAlive(srv)
}
