package filter

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/policy"
)

// TestHopFromRight: hopFromRight reads the entry that splitting the list
// and counting from the right gives, for every list of up to four entries
// (empty ones included) and every count of trusted hops.
func TestHopFromRight(t *testing.T) {
	split := func(xff string, k int) string {
		hops := strings.Split(xff, ",")
		return hops[max(len(hops)-1-k, 0)]
	}
	for _, xff := range []string{"", ",", ",,", "a", "a,b", "a, b,c", ",b,", "a,,c,d", " 198.51.100.1 , 203.0.113.7", "a,b,c,d,e"} {
		for k := 0; k < 7; k++ {
			if got, want := hopFromRight(xff, k), split(xff, k); got != want {
				t.Errorf("hopFromRight(%q, %d) = %q, split gives %q", xff, k, got, want)
			}
		}
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		source  string
		hops    int
		want    string
	}{
		{"no headers: the source address", nil, "203.0.113.7", 0, "203.0.113.7"},
		{"zero hops: the entry Envoy appended", map[string]string{"x-forwarded-for": "198.51.100.1, 203.0.113.7"}, "10.0.0.1", 0, "203.0.113.7"},
		{"one trusted hop", map[string]string{"x-forwarded-for": "198.51.100.1, 192.0.2.9, 203.0.113.7"}, "10.0.0.1", 1, "192.0.2.9"},
		{"more hops than entries: the leftmost", map[string]string{"x-forwarded-for": "198.51.100.1"}, "10.0.0.1", 3, "198.51.100.1"},
		{"garbage entry falls through to external address", map[string]string{"x-forwarded-for": "unknown", "x-envoy-external-address": "198.51.100.2"}, "10.0.0.1", 0, "198.51.100.2"},
		{"IPv6 and mapped IPv4", map[string]string{"x-forwarded-for": "::ffff:198.51.100.3"}, "", 0, "198.51.100.3"},
		{"nothing usable", map[string]string{"x-forwarded-for": "a,b"}, "not-an-ip", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clientIP(tt.headers, tt.source, tt.hops); got != tt.want {
				t.Errorf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzClientIP: any header values give either no address or a real one that
// stands in the input.
func FuzzClientIP(f *testing.F) {
	f.Add("198.51.100.1, 203.0.113.7", "198.51.100.2", "203.0.113.9", 1)
	f.Add(",,,", "", "::1", -5)
	f.Add("fe80::1%eth0", "x", "", 0) // a zone
	f.Fuzz(func(t *testing.T, xff, external, source string, hops int) {
		got := clientIP(map[string]string{"x-forwarded-for": xff, "x-envoy-external-address": external}, source, hops)
		if got == "" {
			return
		}
		if _, err := netip.ParseAddr(got); err != nil {
			t.Fatalf("clientIP returned %q, not an address", got)
		}
		for _, s := range append(strings.Split(xff, ","), external, source) {
			if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil && a.Unmap().String() == got {
				return
			}
		}
		t.Fatalf("clientIP returned %q, which is not in the input", got)
	})
}

// TestParseIPCanonical: parseIP gives the address as netip writes it, and
// keeps the caller's string when it already is.
func TestParseIPCanonical(t *testing.T) {
	for in, want := range map[string]string{"203.0.113.7": "203.0.113.7", " 10.0.0.1 ": "10.0.0.1", "::ffff:192.0.2.1": "192.0.2.1",
		"2001:DB8::1": "2001:db8::1", "": "", "010.0.0.1": "", "1.2.3": "", "not an ip": ""} {
		got, ok := parseIP(in)
		if got != want || ok != (want != "") {
			t.Errorf("parseIP(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

// TestHeaderMapRepeatsJoinInLinearTime: a header sent n times in
// header_map is joined once, not copied again at every repeat (n²/2 bytes:
// 400 MiB for the 20,000 repeats of a 100 KiB request, some 64 GiB for the
// 260,000 repeats of a request at the gRPC limit).
func TestHeaderMapRepeatsJoinInLinearTime(t *testing.T) {
	e := &envoyRequest{hasHeaderMap: true}
	for range 20000 {
		e.headerMap = append(e.headerMap, headerField{key: "A", value: "b"})
	}
	var r *policy.Request
	if n := allocated(func() { r = e.view(0) }); n > 1<<20 {
		t.Errorf("%d KiB allocated to join %d repeats", n>>10, len(e.headerMap))
	}
	if got := r.Headers["a"]; got != strings.Repeat("b,", 19999)+"b" {
		t.Errorf("joined %d bytes, want %d", len(got), 2*20000-1)
	}
}
