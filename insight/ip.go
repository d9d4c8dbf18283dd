package insight

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/phuslu/iploc"
)

// IP is where the client of a request is, against the number's country, as
// Vonage Number Insight Advanced reports it (ip_match_level, ip_country).
type IP struct {
	Address string `json:"address"`
	// Country is the ISO 3166-1 alpha-2 country of the address, "" when
	// unknown (private, loopback and unallocated addresses).
	Country string `json:"country"`
	// Match is "country" (the address is in the number's country),
	// "mismatch", or "unknown" when either side is unknown: never a mismatch
	// for want of data.
	Match string `json:"match"`
}

// The values of IP.Match.
const (
	MatchCountry  = "country"
	MatchMismatch = "mismatch"
	MatchUnknown  = "unknown"
)

// GeoIP maps an address to the ISO 3166-1 alpha-2 code of its country.
type GeoIP interface {
	Country(netip.Addr) (string, bool)
}

// EmbeddedGeoIP is the country table that ships in the binary
// (github.com/phuslu/iploc, built from IP2Location LITE data): no set-up,
// IPv4 and IPv6.
type EmbeddedGeoIP struct{}

// Country looks addr up in the embedded table.
func (EmbeddedGeoIP) Country(addr netip.Addr) (string, bool) {
	c := iploc.IPCountry(addr)
	if len(c) != 2 || c == "ZZ" {
		return "", false
	}
	return c, true
}

// MaxMindGeoIP reads a MaxMind-format database (GeoLite2-Country,
// GeoIP2-Country or City, DB-IP's mmdb, ...).
type MaxMindGeoIP struct {
	r *maxminddb.Reader
}

// OpenMaxMind opens an .mmdb file.
func OpenMaxMind(path string) (*MaxMindGeoIP, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip database %s: %w", path, err)
	}
	return &MaxMindGeoIP{r: r}, nil
}

// Close releases the database.
func (m *MaxMindGeoIP) Close() error { return m.r.Close() }

// mmdbCountry is the part of a MaxMind record phonegate reads: the country
// of the address, else the country where its network is registered.
type mmdbCountry struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

// Country looks addr up in the database.
func (m *MaxMindGeoIP) Country(addr netip.Addr) (string, bool) {
	var rec mmdbCountry
	if err := m.r.Lookup(addr).Decode(&rec); err != nil {
		return "", false
	}
	c := rec.Country.ISOCode
	if c == "" {
		c = rec.RegisteredCountry.ISOCode
	}
	return c, len(c) == 2
}

// ipOf places a client address against a number's country. Addresses that
// are not public (private, loopback, link-local, CGNAT, documentation ...)
// have no country.
//
// text is the address as the caller has it, if that is how String writes it
// (it saves formatting it again); "" formats addr.
func ipOf(ip *IP, geo GeoIP, addr netip.Addr, text, numberCountry string) {
	addr = addr.Unmap()
	if text == "" {
		text = addr.String()
	}
	*ip = IP{Address: text, Match: MatchUnknown}
	if !isPublic(addr) {
		return
	}
	c, ok := geo.Country(addr)
	if !ok {
		return
	}
	ip.Country = c
	switch numberCountry {
	case "", nonGeographicRegion:
	case c:
		ip.Match = MatchCountry
	default:
		ip.Match = MatchMismatch
	}
}

// Ranges that are not on the public internet, beyond what netip reports.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT (RFC 6598)
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (RFC 5737)
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking (RFC 2544)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation (RFC 3849)
}

func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
