package insight

import (
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
