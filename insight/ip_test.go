package insight

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// fakeGeo places addresses by a map, so tests do not depend on the embedded
// table's current allocation of an address.
type fakeGeo map[string]string

func (f fakeGeo) Country(a netip.Addr) (string, bool) {
	c, ok := f[a.String()]
	return c, ok
}

func TestForRequestIP(t *testing.T) {
	geo := fakeGeo{"81.2.69.160": "GB", "8.8.8.8": "US"}
	e := New(Options{GeoIP: geo})
	gb := e.Lookup("+447400123456", "")
	tests := []struct {
		addr, country, match string
		warned               bool
		risk                 int
	}{
		{"81.2.69.160", "GB", MatchCountry, false, 5},
		{"8.8.8.8", "US", MatchMismatch, true, 5 + weightIPMismatch},
		{"10.1.2.3", "", MatchUnknown, false, 5},             // private
		{"127.0.0.1", "", MatchUnknown, false, 5},            // loopback
		{"100.64.1.1", "", MatchUnknown, false, 5},           // CGNAT
		{"203.0.113.7", "", MatchUnknown, false, 5},          // documentation range
		{"fd00::1", "", MatchUnknown, false, 5},              // IPv6 ULA
		{"9.9.9.9", "", MatchUnknown, false, 5},              // not in the table
		{"::ffff:81.2.69.160", "GB", MatchCountry, false, 5}, // IPv4-mapped
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			in := e.ForRequest(gb, netip.MustParseAddr(tt.addr), nil)
			if in.IP == nil || in.IP.Country != tt.country || in.IP.Match != tt.match || in.RiskScore != tt.risk {
				t.Fatalf("ip %+v risk %d; want %s %s risk %d", in.IP, in.RiskScore, tt.country, tt.match, tt.risk)
			}
			if warned := slices.Contains(codes(in), WarnIPCountryMismatch); warned != tt.warned {
				t.Errorf("warnings %v", codes(in))
			}
		})
	}
	// The cached number is untouched by any request.
	if gb.IP != nil || gb.RiskScore != 5 || slices.Contains(codes(gb), WarnIPCountryMismatch) {
		t.Errorf("the cached insight changed: %+v", gb)
	}
	if e.Lookup("+447400123456", "") != gb {
		t.Error("the cache no longer holds the number's insight")
	}
	// A global number has no country to match against.
	if in := e.ForRequest(e.Lookup("+800 1234 5678", ""), netip.MustParseAddr("8.8.8.8"), nil); in.IP.Match != MatchUnknown {
		t.Errorf("+800 against a US address: %s", in.IP.Match)
	}
}

func TestEmbeddedGeoIP(t *testing.T) {
	for addr, want := range map[string]string{
		"8.8.8.8":              "US", // Google Public DNS
		"81.2.69.160":          "GB", // MaxMind's own test address
		"193.0.6.139":          "NL", // RIPE NCC
		"2001:4860:4860::8888": "US",
	} {
		if got, ok := (EmbeddedGeoIP{}).Country(netip.MustParseAddr(addr)); !ok || got != want {
			t.Errorf("%s: %q %v, want %s", addr, got, ok, want)
		}
	}
	if _, ok := (EmbeddedGeoIP{}).Country(netip.MustParseAddr("10.0.0.1")); ok {
		t.Error("a private address has a country")
	}
}

// TestMaxMindGeoIP builds a small MaxMind database, as GeoLite2-Country is
// laid out, and reads it.
func TestMaxMindGeoIP(t *testing.T) {
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	insert := func(cidr string, rec mmdbtype.Map) {
		_, n, _ := net.ParseCIDR(cidr)
		if err := w.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	country := func(code string) mmdbtype.Map {
		return mmdbtype.Map{"iso_code": mmdbtype.String(code)}
	}
	insert("81.2.69.0/24", mmdbtype.Map{"country": country("GB"), "registered_country": country("GB")})
	insert("2a02:c7f::/32", mmdbtype.Map{"country": country("GB")})
	insert("5.6.7.0/24", mmdbtype.Map{"registered_country": country("FR")}) // no country: the registered one
	path := filepath.Join(t.TempDir(), "tiny.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()

	db, err := OpenMaxMind(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for addr, want := range map[string]string{"81.2.69.160": "GB", "2a02:c7f:1::1": "GB", "5.6.7.8": "FR", "8.8.8.8": ""} {
		got, ok := db.Country(netip.MustParseAddr(addr))
		if got != want || ok != (want != "") {
			t.Errorf("%s: %q %v, want %q", addr, got, ok, want)
		}
	}
	e := New(Options{GeoIP: db})
	if in := e.ForRequest(e.Lookup("+33612345678", ""), netip.MustParseAddr("81.2.69.160"), nil); in.IP.Match != MatchMismatch {
		t.Errorf("FR number from a GB address: %+v", in.IP)
	}
	if _, err := OpenMaxMind(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("a missing database opened")
	}
}
