package insight

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/insight/internal/prefixdata"
)

// TestCarrierProfilesMatchLibphonenumber: every embedded carrier profile
// still matches a carrier name in the libphonenumber metadata go.mod pins
// (prefixdata's carrier table, which its own test regenerates from that
// metadata), so a rename upstream cannot silently switch a profile off; and
// a profile that marks numbers disposable matches ranges where numbers of
// the receive-SMS list are actually seen.
func TestCarrierProfilesMatchLibphonenumber(t *testing.T) {
	names := prefixdata.CarrierNames()
	if len(names) < 1000 {
		t.Fatalf("%d carrier names in libphonenumber's metadata, want over 1,000", len(names))
	}

	// Receive-SMS numbers by the profile their carrier matches.
	l := receiveSMS()
	tables := compileData(DefaultData())
	seen := map[string]int{}
	for i := range l.n {
		if c, ok := tables.carrierProfile(prefixdata.Carrier("+" + strconv.FormatUint(l.num(i), 10))); ok {
			seen[c.Name]++
		}
	}

	for _, c := range DefaultData().Carriers {
		matched := slices.ContainsFunc(names, func(name string) bool {
			return strings.Contains(strings.ToLower(name), strings.ToLower(c.Name))
		})
		if !matched {
			t.Errorf("carrier profile %q matches no carrier name in libphonenumber's metadata: renamed or gone upstream; check its ranges and fix or remove the row", c.Name)
		}
		if c.Disposable && seen[strings.ToLower(c.Name)] == 0 {
			t.Errorf("carrier profile %q marks numbers disposable, but no number of the receive-SMS list is in its ranges: make it virtual, or find the evidence", c.Name)
		}
		if !c.Virtual {
			t.Errorf("carrier profile %q: every embedded profile is virtual or disposable", c.Name)
		}
		if !strings.Contains(c.Source, "libphonenumber carrier") {
			t.Errorf("carrier profile %q: the source names no libphonenumber carrier", c.Name)
		}
	}
}
