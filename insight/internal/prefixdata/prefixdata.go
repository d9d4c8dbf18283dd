package prefixdata

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

//go:generate go run gen.go

var (
	//go:embed carrier_en.bin
	carrierData string
	//go:embed geocoding_en.bin
	geocodingData string
	//go:embed timezones.bin
	timezoneData string
	//go:embed regions_en.bin
	regionData string

	carrierTable = load("carrier_en.bin", carrierData)
	zoneTable    = load("timezones.bin", timezoneData)
	regionTable  = load("regions_en.bin", regionData)
	// geocodingTable is read on first use: reading even its header maps
	// about 2 MB of the binary (the kernel maps a page cache folio at a
	// time), which a process that never places a geographic number (a
	// lookup of one mobile) need not carry.
	geocodingTable = sync.OnceValue(func() *table {
		t := load("geocoding_en.bin", geocodingData)
		return &t
	})

	// zoneLists are the distinct lists of time zones, by value index:
	// substrings of the embedded file, split once (315 lists, two
	// allocations) so a lookup can return one without allocating.
	zoneLists = splitZoneLists(&zoneTable)
)

// UnknownZone is what libphonenumber answers for a number no prefix of which
// has time zones: ICU's unknown zone.
const UnknownZone = "Etc/Unknown"

// unknownZones is the answer of a lookup that finds nothing.
var unknownZones = []string{UnknownZone}

// mapperWindow is how much of the E.164 string libphonenumber's carrier and
// geocoding lookups read: 10 characters, the "+" and 9 digits.
const mapperWindow = 10

func splitZoneLists(t *table) [][]string {
	zones := 0
	for i := range t.values {
		zones += strings.Count(t.value(i), "&") + 1
	}
	all := make([]string, 0, zones)
	lists := make([][]string, t.values)
	for i := range lists {
		v, from := t.value(i), len(all)
		for {
			z, rest, more := strings.Cut(v, "&")
			all = append(all, z)
			if !more {
				break
			}
			v = rest
		}
		lists[i] = all[from:len(all):len(all)]
	}
	return lists
}

// CarrierNames lists every English carrier name of the table, as
// libphonenumber spells it (for checks of the engine's carrier profiles).
func CarrierNames() []string {
	names := make([]string, carrierTable.values)
	for i := range names {
		names[i] = carrierTable.value(i)
	}
	return names
}

// Carrier is the English name of the carrier of the range e164 (as
// phonenumbers.Format writes it, "+447400123456") falls in, or "": what
// nyaruka's carrier package finds for it.
func Carrier(e164 string) string { return mapperValue(&carrierTable, e164) }

// Area is the English description of the area e164 is in (the geocoding
// data's longest matching prefix), or "" when no prefix matches. Unlike
// [DescriptionForValidNumber] it neither removes a mobile token nor falls
// back to the country's name.
func Area(e164 string) string { return mapperValue(geocodingTable(), e164) }

// TimeZones are the time zones of the longest prefix of number (E.164,
// the "+" optional) that has any, [UnknownZone] alone when none has, or nil
// where libphonenumber fails (a number with something other than digits).
// The slice is shared: never modify it.
func TimeZones(number string) []string { return zoneLookup(number) }

func mapperValue[S text](t *table, e164 S) string {
	if idx, r := scan(t, e164, mapperWindow, 1); r == found {
		return t.value(idx)
	}
	return ""
}

func zoneLookup[S text](number S) []string {
	for len(number) > 0 && number[0] == '+' {
		number = number[1:]
	}
	idx, r := scan(&zoneTable, number, zoneTable.maxLen, 0)
	switch r {
	case found:
		return zoneLists[idx]
	case absent:
		return unknownZones
	}
	return nil
}

// e164 is phonenumbers.Format(num, phonenumbers.E164) written into buf: no
// allocation for a number that has a national number.
func e164(buf *[40]byte, num *phonenumbers.PhoneNumber) []byte {
	if num.GetNationalNumber() == 0 {
		// The library formats such a number from its raw input.
		return []byte(phonenumbers.Format(num, phonenumbers.E164))
	}
	b := append(buf[:0], '+')
	b = strconv.AppendInt(b, int64(num.GetCountryCode()), 10)
	if num.GetItalianLeadingZero() && num.GetNumberOfLeadingZeros() > 0 {
		for range min(num.GetNumberOfLeadingZeros(), 10) {
			b = append(b, '0')
		}
	}
	return strconv.AppendUint(b, num.GetNationalNumber(), 10)
}

// CarrierForValidNumber is carrier.GetNameForValidNumber(num, "en"): the
// English name of the carrier of the number's range, or "".
func CarrierForValidNumber(num *phonenumbers.PhoneNumber) string {
	var buf [40]byte
	return mapperValue(&carrierTable, e164(&buf, num))
}

// DescriptionForValidNumber is geocoding.GetDescriptionForValidNumber(num,
// "en"): the area the number is in, else its country's English name, else
// "". A mobile token (Argentina's 9) is removed first, as the library does.
func DescriptionForValidNumber(num *phonenumbers.PhoneNumber) string {
	lookup := num
	if token := phonenumbers.GetCountryMobileToken(int(num.GetCountryCode())); token != "" {
		// Rare (one country's mobiles): the library's own parse, allocations and all.
		national := phonenumbers.GetNationalSignificantNumber(num)
		if strings.HasPrefix(national, token) {
			region := phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode()))
			if copied, err := phonenumbers.Parse(national[len(token):], region); err == nil {
				lookup = copied
			}
		}
	}
	var buf [40]byte
	if area := mapperValue(geocodingTable(), e164(&buf, lookup)); area != "" {
		return area
	}
	return CountryNameForNumber(num)
}

// DescriptionForNumber is geocoding.GetDescriptionForNumber(num, "en"): ""
// for a number of no known type, the country's name for a non-geographical
// one, else [DescriptionForValidNumber].
func DescriptionForNumber(num *phonenumbers.PhoneNumber) string {
	typ := phonenumbers.GetNumberType(num)
	if typ == phonenumbers.UNKNOWN {
		return ""
	}
	if !phonenumbers.IsNumberGeographicalForType(typ, int(num.GetCountryCode())) {
		return CountryNameForNumber(num)
	}
	return DescriptionForValidNumber(num)
}

// regionNames are the English names of regions, as the library renders them
// (for a code outside regions_en.bin).
var regionNames = display.Regions(language.English)

// CountryNameForNumber is the English name of the number's country, as
// libphonenumber's geocoder names it: the one region of its calling code,
// or among the regions sharing it the one where the number is valid; ""
// when it is valid in several or none, or the region is not a country.
func CountryNameForNumber(num *phonenumbers.PhoneNumber) string {
	regions := phonenumbers.GetRegionCodesForCountryCode(int(num.GetCountryCode()))
	if len(regions) == 1 {
		return RegionName(regions[0])
	}
	where := "ZZ"
	for _, r := range regions {
		if phonenumbers.IsValidNumberForRegion(num, r) {
			if where != "ZZ" {
				return ""
			}
			where = r
		}
	}
	return RegionName(where)
}

// RegionName is the English name of a region libphonenumber supports, as
// its geocoder writes it ("GB" -> "United Kingdom"); "" for "ZZ" and "001".
func RegionName(code string) string {
	if code == "" || code == "ZZ" || code == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
		return ""
	}
	if len(code) == 2 {
		key := uint32(code[0])<<8 | uint32(code[1])
		if idx, ok := regionTable.find(digitCount(uint64(key)), key); ok {
			return regionTable.value(idx)
		}
	}
	// Not a region the library supports: x/text's name, as the library.
	r, err := language.ParseRegion(code)
	if err != nil {
		return ""
	}
	return regionNames.Name(r)
}

// TimeZonesForGeographicalNumber is
// timezone.GetTimeZonesForGeographicalNumber(num): the time zones of the
// number's longest prefix that has any. The slice is shared: never modify it.
func TimeZonesForGeographicalNumber(num *phonenumbers.PhoneNumber) []string {
	var buf [40]byte
	return zoneLookup(e164(&buf, num))
}

// TimeZonesForCountryCode is what timezone.GetTimeZonesForNumber answers
// for a valid non-geographical number of the calling code: the zones of the
// code alone. The slice is shared: never modify it.
func TimeZonesForCountryCode(code int32) []string {
	var buf [12]byte
	return zoneLookup(strconv.AppendInt(buf[:0], int64(code), 10))
}

// TimeZonesForNumber is timezone.GetTimeZonesForNumber(num): [UnknownZone]
// for a number of no known type, the calling code's zones for a
// non-geographical one, else [TimeZonesForGeographicalNumber].
func TimeZonesForNumber(num *phonenumbers.PhoneNumber) []string {
	typ := phonenumbers.GetNumberType(num)
	if typ == phonenumbers.UNKNOWN {
		return unknownZones
	}
	if !phonenumbers.IsNumberGeographicalForType(typ, int(num.GetCountryCode())) {
		return TimeZonesForCountryCode(num.GetCountryCode())
	}
	return TimeZonesForGeographicalNumber(num)
}
