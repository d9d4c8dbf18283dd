package insight

import (
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// nonGeographicRegion is libphonenumber's region for global codes (+800,
// +882, ...).
const nonGeographicRegion = "001"

// nonGeographicNames names the ITU-T E.164 global services, by dialing code.
var nonGeographicNames = map[int32]string{
	800: "International Freephone Service",
	808: "International Shared Cost Service",
	870: "Inmarsat",
	878: "Universal Personal Telecommunications",
	881: "Global Mobile Satellite System",
	882: "International Networks",
	883: "International Networks",
	888: "OCHA disaster relief",
	979: "International Premium Rate Service",
}

var regionNames = display.English.Regions()

// countryOf fills the country of a number from its region and dialing code.
func countryOf(iso2 string, code int32, prefix string) Country {
	if c, ok := supportedCountries()[iso2]; ok {
		c.Prefix = prefix
		return c
	}
	return namedCountry(iso2, code, prefix)
}

// supportedCountries are the countries of the regions libphonenumber
// supports, named once: x/text takes a microsecond to name a region, a
// third of the cost of scoring a number in international form.
var supportedCountries = sync.OnceValue(func() map[string]Country {
	m := make(map[string]Country, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		m[r] = namedCountry(r, 0, "")
	}
	return m
})

// namedCountry is countryOf without the table.
func namedCountry(iso2 string, code int32, prefix string) Country {
	c := Country{ISO2: iso2, Prefix: prefix}
	switch iso2 {
	case "":
	case nonGeographicRegion:
		c.Name = nonGeographicNames[code]
	default:
		if r, err := language.ParseRegion(iso2); err == nil {
			c.ISO3 = r.ISO3()
			c.Name = regionNames.Name(r)
		}
	}
	return c
}

// IsRegion reports whether code is a region libphonenumber has numbering
// metadata for ("GB", "US"; upper case). Region hints that are not such a
// region make every national number unparsable, so callers check them.
func IsRegion(code string) bool {
	_, ok := phonenumbers.GetSupportedRegions()[code]
	return ok
}

// RegionForCallingCode is the main region of a country calling code ("44" or
// "+44" -> "GB", "1" -> "US"), or "" when the code is not one.
func RegionForCallingCode(code string) string {
	code = strings.TrimPrefix(code, "+")
	n, err := strconv.Atoi(code)
	if err != nil || n <= 0 || n > 999 {
		return ""
	}
	r := phonenumbers.GetRegionCodeForCountryCode(n)
	if r == "ZZ" || r == nonGeographicRegion {
		return ""
	}
	return r
}
