package insight

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestVelocityCounts(t *testing.T) {
	s := NewVelocityStore(VelocityConfig{Window: 10 * time.Minute, DistinctNetworks: 5, DistinctIPs: -1, Seen: -1})
	t0 := time.Now()
	const n = "+447400123456"
	// Three checks from one address: seen 3, one address, one network.
	var v Velocity
	for i := range 3 {
		v = observe(s, n, netip.MustParseAddr("81.2.69.160"), t0.Add(time.Duration(i)*time.Second))
	}
	if v.Seen != 3 || v.DistinctIPs != 1 || v.DistinctNetworks != 1 || v.RecentAbuse || v.Window != "10m0s" {
		t.Fatalf("after 3 checks from one address: %+v", v)
	}
	// Another address of the same /24 is another IP, not another network.
	v = observe(s, n, netip.MustParseAddr("81.2.69.7"), t0.Add(4*time.Second))
	if v.DistinctIPs != 2 || v.DistinctNetworks != 1 {
		t.Fatalf("same /24: %+v", v)
	}
	// Four more networks make five: recent abuse.
	for i, a := range []string{"8.8.8.8", "193.0.6.139", "2001:4860:4860::8888", "2001:4860:4861::1"} {
		v = observe(s, n, netip.MustParseAddr(a), t0.Add(time.Duration(5+i)*time.Second))
	}
	if v.DistinctNetworks != 5 || !v.RecentAbuse || v.Seen != 8 {
		t.Fatalf("five networks: %+v", v)
	}
	// Another number is counted apart.
	if o := observe(s, "+33612345678", netip.MustParseAddr("8.8.8.8"), t0.Add(10*time.Second)); o.Seen != 1 || o.RecentAbuse {
		t.Fatalf("another number: %+v", o)
	}
	// Past the window, the old sightings no longer count.
	v = observe(s, n, netip.MustParseAddr("8.8.4.4"), t0.Add(11*time.Minute))
	if v.Seen != 1 || v.DistinctIPs != 1 || v.DistinctNetworks != 1 || v.RecentAbuse {
		t.Fatalf("after the window: %+v", v)
	}
}

func TestVelocityThresholds(t *testing.T) {
	s := NewVelocityStore(VelocityConfig{Seen: 3, DistinctIPs: -1, DistinctNetworks: -1})
	now := time.Now()
	var v Velocity
	for i := range 3 {
		v = observe(s, "+447400123456", netip.Addr{}, now.Add(time.Duration(i)*time.Millisecond))
		if v.RecentAbuse != (i == 2) {
			t.Fatalf("check %d: %+v", i+1, v)
		}
	}
	if v.DistinctIPs != 0 {
		t.Errorf("no address, yet %d addresses", v.DistinctIPs)
	}
	// Tracked addresses saturate at MaxTrackedAddresses.
	for i := range 40 {
		v = observe(s, "+447400000000", netip.AddrFrom4([4]byte{8, 8, byte(i), 1}), now)
	}
	if v.DistinctIPs != MaxTrackedAddresses || v.DistinctNetworks != MaxTrackedAddresses {
		t.Errorf("40 networks: %+v, want both saturated at %d", v, MaxTrackedAddresses)
	}
	// Reconfiguring keeps the counts.
	s.Configure(VelocityConfig{Seen: 100})
	if v := observe(s, "+447400123456", netip.Addr{}, now); v.Seen != 4 || v.RecentAbuse {
		t.Errorf("after reconfiguring: %+v", v)
	}
}

func TestForRequestVelocity(t *testing.T) {
	e := New(Options{})
	base := e.Lookup("+447400123456", "")
	abuse := &Velocity{Seen: 30, DistinctIPs: 7, DistinctNetworks: 6, Window: "10m0s", RecentAbuse: true}
	in := e.ForRequest(base, netip.Addr{}, abuse)
	if in.Velocity != abuse || in.RiskScore != base.RiskScore+weightRecentAbuse || !slices.Contains(codes(in), WarnRecentAbuse) {
		t.Errorf("recent abuse: velocity %+v risk %d warnings %v", in.Velocity, in.RiskScore, codes(in))
	}
	if base.Velocity != nil || slices.Contains(codes(base), WarnRecentAbuse) {
		t.Error("the cached insight changed")
	}
	calm := e.ForRequest(base, netip.Addr{}, &Velocity{Seen: 1, Window: "10m0s"})
	if calm.RiskScore != base.RiskScore || len(calm.Warnings) != len(base.Warnings) {
		t.Errorf("a calm number: risk %d warnings %v", calm.RiskScore, codes(calm))
	}
}

// TestVelocityMemoryIsBounded floods the store with 300,000 distinct
// numbers, in as many ranges, from as many addresses and networks, as an
// attacker cycling through numbers and proxies would, and checks that the
// store keeps no more than its bound, in no more memory than
// MaxNumbers × (VelocityEntryBytes + VelocityGroupBytes).
func TestVelocityMemoryIsBounded(t *testing.T) {
	const maxNumbers = 10000
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s := NewVelocityStore(VelocityConfig{MaxNumbers: maxNumbers})
	now := time.Now()
	for i := range 300_000 { // 30 times the bound
		addr := netip.AddrFrom4([4]byte{byte(i >> 16), byte(i >> 8), byte(i), 1})
		s.Observe(context.Background(), Sighting{Number: fmt.Sprintf("+1%07d555", i), Country: "US", Addr: addr, At: now})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if s.Len() != maxNumbers || s.groups.Len() != maxNumbers {
		t.Errorf("%d numbers and %d groups kept, bound %d", s.Len(), s.groups.Len(), maxNumbers)
	}
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if limit := int64(maxNumbers * (VelocityEntryBytes + VelocityGroupBytes)); grown > limit {
		t.Errorf("heap grew %d bytes for %d numbers and groups, over %d (%d B a number and a group)", grown, maxNumbers, limit, grown/maxNumbers)
	}
	t.Logf("heap grew %d B for %d numbers and %d groups kept: %d B a number and a group", grown, maxNumbers, maxNumbers, grown/maxNumbers)
	runtime.KeepAlive(s)
}

// BenchmarkVelocityObserve is the velocity update of one check: a known
// number seen again from a rotating set of addresses.
func BenchmarkVelocityObserve(b *testing.B) {
	s := NewVelocityStore(VelocityConfig{})
	addrs := []netip.Addr{netip.MustParseAddr("81.2.69.160"), netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2001:4860:4860::8888")}
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Observe(context.Background(), Sighting{Number: "+447400123456", Country: "GB", Addr: addrs[i%len(addrs)], At: now})
	}
}

// BenchmarkIPCountry is the embedded table's lookup of one address.
func BenchmarkIPCountry(b *testing.B) {
	addrs := []netip.Addr{netip.MustParseAddr("81.2.69.160"), netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2001:4860:4860::8888")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		EmbeddedGeoIP{}.Country(addrs[i%len(addrs)])
	}
}

// BenchmarkForRequest is the per-request part of an insight: IP placed and
// velocity added on top of the cached number.
func BenchmarkForRequest(b *testing.B) {
	e := New(Options{})
	base := e.Lookup("+447400123456", "")
	addr := netip.MustParseAddr("8.8.8.8")
	v := &Velocity{Seen: 1, Window: "10m0s"}
	b.ReportAllocs()
	for b.Loop() {
		e.ForRequest(base, addr, v)
	}
}

// observe is a sighting of number from addr at at, with no country.
func observe(s *VelocityStore, number string, addr netip.Addr, at time.Time) Velocity {
	return s.Observe(context.Background(), Sighting{Number: number, Addr: addr, At: at})
}
