package insight

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/phonegate/phonegate/insight/internal/numplan"
	"github.com/phonegate/phonegate/insight/internal/prefixdata"
)

// MaxInputLen is the longest input the engine parses. libphonenumber refuses
// anything over 250 characters; longer inputs are answered invalid without being
// parsed or cached, so a hostile body cannot fill the cache with large keys.
const MaxInputLen = 250

// DefaultCacheSize is the number of insights kept when Options.CacheSize is 0.
// A full default cache holds about DefaultCacheSize × CacheEntryBytes, 9 MiB:
// signup traffic is mostly distinct numbers, so the cache serves retries and
// repeated abuse, and a larger one buys little but memory.
const DefaultCacheSize = 8192

// CacheEntryBytes bounds the heap one cached insight holds, its key, warnings
// and diagnostics included (measured through a server's checks with distinct
// numbers by package filter's TestMemoryIsBoundedThroughCheck, and by
// BenchmarkCacheEntryHeap). Nothing per request is kept on an entry, and
// nothing it keeps is a slice of a request body.
const CacheEntryBytes = 1152

// Options configure an [Engine]. The zero value is the default.
type Options struct {
	// CacheSize bounds the LRU cache of insights (entries). 0 means
	// DefaultCacheSize; a negative value disables the cache.
	CacheSize int
	// Data are the tables the pipeline reads; nil means [DefaultData]. Use
	// DefaultData().With(extra) to extend them.
	Data *Data
	// Stats receives the cache's hits and misses; nil keeps them per engine.
	Stats *CacheStats
	// GeoIP places client addresses; nil is the embedded table.
	GeoIP GeoIP
}

// Engine scores numbers. It is safe for concurrent use.
type Engine struct {
	cache  *cache
	tables *tables
	geo    GeoIP
	// nyarukaOnly makes every lookup take nyaruka's path, never the
	// compiled tables of package numplan: the tests' oracle.
	nyarukaOnly bool
}

// New returns an engine. Call [Engine.Warm] before serving so the first request
// does not pay for loading metadata.
func New(opts Options) *Engine {
	size := opts.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	data := opts.Data
	if data == nil {
		data = DefaultData()
	}
	geo := opts.GeoIP
	if geo == nil {
		geo = EmbeddedGeoIP{}
	}
	return &Engine{cache: newCache(size, opts.Stats), tables: compileData(data), geo: geo}
}

// Warm opens the engine's tables so the first real lookup is as fast as the
// rest. It bypasses the cache. Numbers in international form are answered
// from tables read in place (package numplan; carrier, geocoding and time
// zones from package prefixdata), so warming is opening them: the
// receive-SMS list, and a few numbers scored, one geographic so that the
// geocoding table, opened on first use, is open. A number in national form
// is read by package numplan too, which on its first such number loads
// nyaruka's metadata and on a region's first compiles that region's three
// patterns it runs (the rest still go to nyaruka, whose first use of a
// region compiles that region's regular expressions); Warm does not do that
// for every region ahead of time (it was most of the start-up: 60–80 ms and
// 9 MB).
func (e *Engine) Warm() {
	receiveSMS()
	for _, n := range warmNumbers {
		e.compute(n, "")
	}
}

// warmNumbers are scored by Warm: mobiles, geographic and non-geographic
// numbers of a few regions, in international form.
var warmNumbers = []string{"+447400123456", "+442079460000", "+12015550123", "+33612345678", "+4930123456", "+81312345678", "+61491570156", "+80012345678"}

// CacheStats reports cache hits and misses since the engine started.
func (e *Engine) CacheStats() (hits, misses uint64) {
	return e.cache.stats.Hits.Load(), e.cache.stats.Misses.Load()
}

// Lookup returns the insight for input, a number as a user wrote it. region is
// an ISO 3166-1 alpha-2 hint used when the input has no country code ("" for
// none). The result is shared and must not be modified.
func (e *Engine) Lookup(input, region string) *Insight {
	input = strings.TrimSpace(input)
	region = strings.ToUpper(strings.TrimSpace(region))
	if len(input) > MaxInputLen {
		return e.compute(input, region)
	}
	if in, ok := e.cache.get(cacheKey{input, region}); ok {
		return in
	}
	// What is kept must not be a slice of something larger: input is often
	// a piece of a request body, and a cached substring would keep the whole
	// body alive as long as the entry lives.
	input, region = strings.Clone(input), strings.Clone(region)
	in := e.compute(input, region)
	e.cache.add(cacheKey{input, region}, in)
	return in
}

// compute scores input without the cache.
func (e *Engine) compute(input, region string) *Insight {
	a := &annexed{in: Insight{
		Input:      input,
		RegionHint: region,
		LineType:   UnknownLine,
		Carrier:    Carrier{Type: Unknown},
		Location:   Location{TimeZones: []string{}},
		Network:    Network{Reachable: Unknown, Ported: Unknown, Roaming: Unknown, Active: Unknown},
	}}
	in := &a.in
	in.annex = &a.annex
	defer e.finish(in)

	if len(input) > MaxInputLen {
		in.Diagnostics.Format.Reason = "too long to be a phone number"
		return in
	}
	if !e.nyarukaOnly {
		// International input, answered by the compiled tables when they
		// can (package numplan says which inputs they leave to nyaruka).
		if n, ok := numplan.Parse(input); ok {
			fromPlan(in, &n)
			return in
		}
		// National input with a region hint, when the region's national
		// prefix is a plain one (numplan.ParseNational says which).
		if n, ok := numplan.ParseNational(input, region); ok {
			fromPlan(in, &n)
			return in
		}
	}
	num, err := phonenumbers.Parse(input, region)
	if err != nil {
		in.Diagnostics.Format.Reason = parseErrorReason(err)
		return in
	}
	in.Parsed = true
	possible := phonenumbers.IsPossibleNumberWithReason(num)
	in.Diagnostics.Format.Possible = possibleNames[possible]
	in.Possible = possible == phonenumbers.IS_POSSIBLE || possible == phonenumbers.IS_POSSIBLE_LOCAL_ONLY
	// IsValidNumber is GetNumberType(num) != UNKNOWN for the number's own
	// region: computing the type once serves both (the agreement test holds
	// this to Google's verdicts).
	typ := phonenumbers.GetNumberType(num)
	in.Valid = typ != phonenumbers.UNKNOWN
	in.E164 = phonenumbers.Format(num, phonenumbers.E164)
	in.International = phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
	in.National = phonenumbers.Format(num, phonenumbers.NATIONAL)
	code := num.GetCountryCode()
	in.Country = countryOf(phonenumbers.GetRegionCodeForNumber(num), code, strconv.Itoa(int(code)))
	if !in.Valid {
		in.Diagnostics.Format.Reason = invalidReason(in)
		return in
	}
	in.LineType = lineTypeOf(typ)
	in.IsVirtual = in.LineType == VoIP
	in.Carrier.Type = carrierTypes[in.LineType]
	// ForValidNumber: the number is valid here, and invalid numbers get no carrier.
	in.Carrier.Name = prefixdata.CarrierForValidNumber(num)
	locate(in, num, typ)
	return in
}

// invalidReason says why a parsed number is not valid.
func invalidReason(in *Insight) string {
	if in.Possible {
		return "the number matches no numbering plan range of its country"
	}
	return "the number has an impossible length for its country (" + in.Diagnostics.Format.Possible + ")"
}

// fromPlan fills in what compute fills from nyaruka's answers, from the
// compiled tables' answers for a number in international form. Each step
// stands for the nyaruka path's and gives what it gives (the tests hold
// the two paths' insights equal).
func fromPlan(in *Insight, n *numplan.Number) {
	in.Parsed = true
	in.Diagnostics.Format.Possible = possibleNames[n.Possible]
	in.Possible = n.Possible == phonenumbers.IS_POSSIBLE || n.Possible == phonenumbers.IS_POSSIBLE_LOCAL_ONLY
	in.Valid = n.Type != phonenumbers.UNKNOWN
	in.E164, in.International, in.National = n.E164, n.International, n.National
	// The calling code's digits, as E.164 writes them after the "+".
	digits := 1
	for c := n.CallingCode; c >= 10; c /= 10 {
		digits++
	}
	prefix := n.E164[1 : 1+digits]
	in.Country = countryOf(n.Region, n.CallingCode, prefix)
	if !in.Valid {
		in.Diagnostics.Format.Reason = invalidReason(in)
		return
	}
	in.LineType = lineTypeOf(n.Type)
	in.IsVirtual = in.LineType == VoIP
	in.Carrier.Type = carrierTypes[in.LineType]
	// prefixdata's ForValidNumber functions read the E.164 string.
	in.Carrier.Name = prefixdata.Carrier(in.E164)
	if phonenumbers.IsNumberGeographicalForType(n.Type, int(n.CallingCode)) {
		// DescriptionForValidNumber: the area, else the geocoder's country
		// (numplan refuses the codes with a mobile token to remove).
		in.Location.Description = prefixdata.Area(in.E164)
		if in.Location.Description == "" {
			in.Location.Description = prefixdata.RegionName(n.GeoRegion)
		}
		if zones := prefixdata.TimeZones(in.E164); zones != nil {
			in.Location.TimeZones = knownZones(zones)
		}
		return
	}
	if !n.SharedCode {
		if in.Country.ISO2 != nonGeographicRegion {
			in.Location.Description = in.Country.Name
		}
	} else {
		in.Location.Description = prefixdata.RegionName(n.GeoRegion)
	}
	if zones := prefixdata.TimeZonesForCountryCode(n.CallingCode); zones != nil {
		in.Location.TimeZones = knownZones(zones)
	}
}

// locate fills the location of a valid number. It does what libphonenumber's
// GetDescriptionForNumber and GetTimeZonesForNumber do (package prefixdata
// holds the library's data and answers as it does), without computing the
// number type a third and fourth time: a geographic number is looked up by
// its digits; any other has the location of its country, which depends on
// the dialing code alone.
func locate(in *Insight, num *phonenumbers.PhoneNumber, typ phonenumbers.PhoneNumberType) {
	if typ != phonenumbers.UNKNOWN && phonenumbers.IsNumberGeographicalForType(typ, int(num.GetCountryCode())) {
		in.Location.Description = prefixdata.DescriptionForValidNumber(num)
		if zones := prefixdata.TimeZonesForGeographicalNumber(num); zones != nil {
			in.Location.TimeZones = knownZones(zones)
		}
		return
	}
	code := num.GetCountryCode()
	if len(phonenumbers.GetRegionCodesForCountryCode(int(code))) == 1 {
		if in.Country.ISO2 != nonGeographicRegion { // a global service is nowhere
			in.Location.Description = in.Country.Name
		}
	} else {
		// A code shared by several regions (+1, +7, +47, ...): libphonenumber
		// names the country only when the number is valid in just one of them.
		in.Location.Description = prefixdata.CountryNameForNumber(num)
	}
	if zones := prefixdata.TimeZonesForCountryCode(code); zones != nil {
		in.Location.TimeZones = knownZones(zones)
	}
}

// knownZones drops ICU's Etc/Unknown. zones are shared and read-only, and so
// is the result: an insight's time zones are never modified.
func knownZones(zones []string) []string {
	if !slices.Contains(zones, prefixdata.UnknownZone) {
		return zones
	}
	out := make([]string, 0, len(zones))
	for _, z := range zones {
		if z != prefixdata.UnknownZone {
			out = append(out, z)
		}
	}
	return out
}

// finish runs the confidence pipeline once the number's facts are known,
// then derives the risk score and the warnings.
func (e *Engine) finish(in *Insight) {
	in.runPipeline(e.tables)
	in.RiskScore = riskScore(in)
	in.Warnings = warnings(in)
	if in.Warnings == nil {
		in.Warnings = []Warning{}
	}
}

// carrierTypes is the kind of network each line type implies, in the words
// of Vonage Number Insight's network_type.
var carrierTypes = map[LineType]string{
	Mobile:            "mobile",
	FixedLine:         "landline",
	FixedLineOrMobile: "mobile_or_landline",
	TollFree:          "landline_tollfree",
	PremiumRate:       "landline_premium",
	VoIP:              "virtual",
	Pager:             "pager",
	SharedCost:        Unknown,
	PersonalNumber:    Unknown,
	UAN:               Unknown,
	Voicemail:         Unknown,
	UnknownLine:       Unknown,
}

var possibleNames = map[phonenumbers.ValidationResult]string{
	phonenumbers.IS_POSSIBLE:            "is_possible",
	phonenumbers.IS_POSSIBLE_LOCAL_ONLY: "is_possible_local_only",
	phonenumbers.INVALID_COUNTRY_CODE:   "invalid_country_code",
	phonenumbers.TOO_SHORT:              "too_short",
	phonenumbers.INVALID_LENGTH:         "invalid_length",
	phonenumbers.TOO_LONG:               "too_long",
}

// parseErrorReason turns libphonenumber's parse error into a sentence.
func parseErrorReason(err error) string {
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return "unknown country code, or none given and no region hint to supply one"
	case errors.Is(err, phonenumbers.ErrNotANumber):
		return "not a phone number"
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return "too short to be a phone number"
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return "too long to be a phone number"
	}
	return err.Error()
}

// ForRequest returns the insight of base for one request: the cached
// number's facts, with the client's address placed against the number's
// country (when addr is valid) and the number's velocity (when v is not nil),
// and the warnings and risk score that follow. base is not changed: the IP
// and velocity of one request never reach the cache.
func (e *Engine) ForRequest(base *Insight, addr netip.Addr, v *Velocity) *Insight {
	return e.ForRequestFrom(base, addr, "", v)
}

// ForRequestFrom is ForRequest with the client's address also as text, as
// netip writes it ("" to have it written), which saves formatting it again
// on every check.
func (e *Engine) ForRequestFrom(base *Insight, addr netip.Addr, addrText string, v *Velocity) *Insight {
	if !addr.IsValid() && v == nil {
		return base
	}
	r := &requestInsight{in: *base} // the copy and its IP, one allocation
	in := &r.in
	in.Warnings = slices.Clip(base.Warnings)
	if addr.IsValid() {
		ipOf(&r.ip, e.geo, addr, addrText, base.Country.ISO2)
		in.IP = &r.ip
		if in.IP.Match == MatchMismatch {
			in.Warnings = append(in.Warnings, ipMismatchWarning(in.IP, base.Country.ISO2))
			in.RiskScore = min(in.RiskScore+weightIPMismatch, 100)
		}
	}
	if v != nil {
		in.Velocity = v
		if v.RecentAbuse {
			in.Warnings = append(in.Warnings, recentAbuseWarning(v.Window))
			in.RiskScore = min(in.RiskScore+weightRecentAbuse, 100)
		}
	}
	return in
}

// requestInsight is an insight with this request's signals and the IP it
// points to.
type requestInsight struct {
	in Insight
	ip IP
}
