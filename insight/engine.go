package insight

import (
	"errors"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/nyaruka/phonenumbers/v2/carrier"
)

// MaxInputLen is the longest input the engine parses. libphonenumber refuses
// anything over 250 characters; longer inputs are answered invalid without being
// parsed or cached, so a hostile body cannot fill the cache with large keys.
const MaxInputLen = 250

// DefaultCacheSize is the number of insights kept when Options.CacheSize is 0.
// An entry holds about 560 bytes of heap, so a full default cache is ~9 MiB.
const DefaultCacheSize = 16384

// Options configure an [Engine]. The zero value is the default.
type Options struct {
	// CacheSize bounds the LRU cache of insights (entries). 0 means
	// DefaultCacheSize; a negative value disables the cache.
	CacheSize int
}

// Engine scores numbers. It is safe for concurrent use.
type Engine struct {
	cache *cache
}

// New returns an engine. Call [Engine.Warm] before serving so the first request
// does not pay for loading metadata.
func New(opts Options) *Engine {
	size := opts.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	return &Engine{cache: newCache(size)}
}

// Warm loads libphonenumber's metadata and carrier tables by scoring one example
// number of every supported region, so the first real lookup is as fast as the
// rest. It bypasses the cache.
func (e *Engine) Warm() {
	for region := range phonenumbers.GetSupportedRegions() {
		if n := phonenumbers.GetExampleNumber(region); n != nil {
			e.compute(phonenumbers.Format(n, phonenumbers.E164), "")
		}
	}
}

// CacheStats reports cache hits and misses since the engine started.
func (e *Engine) CacheStats() (hits, misses uint64) { return e.cache.stats() }

// Lookup returns the insight for input, a number as a user wrote it. region is
// an ISO 3166-1 alpha-2 hint used when the input has no country code ("" for
// none). The result is shared and must not be modified.
func (e *Engine) Lookup(input, region string) *Insight {
	input = strings.TrimSpace(input)
	region = strings.ToUpper(strings.TrimSpace(region))
	if len(input) > MaxInputLen {
		return e.compute(input, region)
	}
	key := cacheKey{input, region}
	if in, ok := e.cache.get(key); ok {
		return in
	}
	in := e.compute(input, region)
	e.cache.add(key, in)
	return in
}

// compute scores input without the cache.
func (e *Engine) compute(input, region string) *Insight {
	in := &Insight{
		Input:      input,
		RegionHint: region,
		LineType:   UnknownLine,
		Network:    Network{Reachable: Unknown, Ported: Unknown, Roaming: Unknown, Active: Unknown},
	}
	defer in.finish()

	if len(input) > MaxInputLen {
		in.Diagnostics.Format = phonenumbers.ErrNumTooLong.Error()
		return in
	}
	num, err := phonenumbers.Parse(input, region)
	if err != nil {
		in.Diagnostics.Format = parseErrorReason(err)
		return in
	}
	in.Parsed = true
	in.Possible = phonenumbers.IsPossibleNumber(num)
	in.Valid = phonenumbers.IsValidNumber(num)
	in.E164 = phonenumbers.Format(num, phonenumbers.E164)
	in.International = phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
	in.National = phonenumbers.Format(num, phonenumbers.NATIONAL)
	in.Country.Prefix = strconv.Itoa(int(num.GetCountryCode()))
	in.Country.ISO2 = phonenumbers.GetRegionCodeForNumber(num)
	if !in.Valid {
		if in.Possible {
			in.Diagnostics.Format = "the number matches no numbering plan range of its country"
		} else {
			in.Diagnostics.Format = "the number has an impossible length for its country"
		}
		return in
	}
	in.LineType = lineTypeOf(phonenumbers.GetNumberType(num))
	in.IsVirtual = in.LineType == VoIP
	// ForValidNumber: the number is valid here, and invalid numbers get no carrier.
	if name, err := carrier.GetNameForValidNumber(num, "en"); err == nil {
		in.Carrier.Name = name
	}
	return in
}

// finish runs the confidence pipeline once every signal is known.
func (in *Insight) finish() {
	label := Invalid
	if in.Parsed && in.Possible && in.Valid {
		label = lineTypeBaseline(in.LineType)
	}
	in.Diagnostics.Confidence.LineTypeBaseline = label
	in.Diagnostics.Confidence.Final = label
	in.Confidence = label
	in.ConfidenceScore = label.Score()
	in.RiskScore = riskFromConfidence(in.ConfidenceScore)
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
