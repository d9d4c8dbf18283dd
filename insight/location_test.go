package insight

import (
	"slices"
	"testing"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/nyaruka/phonenumbers/v2/carrier"
	"github.com/nyaruka/phonenumbers/v2/geocoding"
	"github.com/nyaruka/phonenumbers/v2/timezone"
)

// TestLocationMatchesLibphonenumber: the engine's shortcut for locations
// gives what libphonenumber's GetDescriptionForNumber and
// GetTimeZonesForNumber give, and its carrier what GetNameForValidNumber
// gives, for every valid number of the agreement fixture (the engine reads
// the library's data from package prefixdata's tables).
func TestLocationMatchesLibphonenumber(t *testing.T) {
	e := New(Options{CacheSize: -1})
	checked := 0
	for _, row := range readAgreementFixture(t) {
		in := e.Lookup(row.Input, row.Region)
		if !in.Valid {
			continue
		}
		num, err := phonenumbers.Parse(row.Input, row.Region)
		if err != nil {
			t.Fatal(err)
		}
		desc, _ := geocoding.GetDescriptionForNumber(num, "en")
		zones, _ := timezone.GetTimeZonesForNumber(num)
		zones = knownZones(zones)
		if in.Location.Description != desc || !slices.Equal(in.Location.TimeZones, zones) {
			t.Errorf("%q (%s): location %q %v, libphonenumber %q %v", row.Input, row.Region,
				in.Location.Description, in.Location.TimeZones, desc, zones)
		}
		if name, _ := carrier.GetNameForValidNumber(num, "en"); in.Carrier.Name != name {
			t.Errorf("%q (%s): carrier %q, libphonenumber %q", row.Input, row.Region, in.Carrier.Name, name)
		}
		checked++
	}
	if checked < 1000 {
		t.Errorf("only %d valid numbers checked", checked)
	}
}
