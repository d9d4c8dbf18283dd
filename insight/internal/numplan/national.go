package numplan

import (
	"regexp"
	"slices"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/nyaruka/phonenumbers/v2/metadata"
)

// region is what ParseNational needs of a region hint: how nyaruka's
// parseHelper would read a number written in its national form.
type region struct {
	cc     int
	ccStr  string
	plan   *code
	prefix string // the national prefix for parsing, "" for none
	// literal: prefix is digits alone (most regions: "0", "1", "8"), so a
	// prefix match is the pattern's match.
	literal bool
	// rewrite: the region has a national prefix transform rule; a number
	// its prefix pattern matches is left to nyaruka.
	rewrite bool
	// The general description's possible lengths, for testNumberLength.
	lengths, local []int32
	// The patterns nyaruka tests, compiled on first use as its
	// regexcache does: "^(?:general)$", "^(?:international prefix)" and
	// "^(?:national prefix for parsing)".
	once              sync.Once
	patterns          [3]string
	general, idd, npp *regexp.Regexp
}

// regions are the region hints ParseNational answers for, built on first
// use from nyaruka's metadata (which its own Parse loads as well).
var (
	regionsOnce sync.Once
	regions     map[string]*region
)

func loadRegions() {
	regions = map[string]*region{}
	for code := range phonenumbers.GetSupportedRegions() {
		if r := regionFor(code); r != nil {
			regions[code] = r
		}
	}
}

// regionFor is the region of code when its national numbers can be read
// without nyaruka, nil when not: no international prefix, no possible
// lengths, or a calling code the tables refuse. A national prefix pattern
// without a transform rule is stripped by its match (a carrier code it
// captures is kept by nyaruka only when parsing with the raw input, which
// Parse does not). With a transform rule (BR, MX, the NANP islands, GG,
// JE, IM... rewrite the number) only numbers the pattern does not match
// at all are read here: nyaruka leaves those as they are.
func regionFor(code string) *region {
	md, ok := metadata.RegionMetadata(code)
	if !ok || md == nil || md.GetGeneralDesc() == nil {
		return nil
	}
	cc := int(md.GetCountryCode())
	if cc <= 0 || cc >= len(plans) || plans[cc] == nil || plans[cc].refused != "" {
		return nil
	}
	prefix := md.GetNationalPrefixForParsing()
	literal := true
	for i := 0; i < len(prefix); i++ {
		if prefix[i] < '0' || prefix[i] > '9' {
			literal = false
		}
	}
	if md.GetInternationalPrefix() == "" {
		return nil
	}
	general := md.GetGeneralDesc()
	if len(general.PossibleLength) == 0 {
		return nil
	}
	return &region{
		cc:      cc,
		ccStr:   strconv.Itoa(cc),
		plan:    plans[cc],
		prefix:  prefix,
		literal: literal,
		rewrite: md.GetNationalPrefixTransformRule() != "",
		lengths: general.PossibleLength,
		local:   general.PossibleLengthLocalOnly,
		patterns: [3]string{
			"^(?:" + general.GetNationalNumberPattern() + ")$",
			"^(?:" + md.GetInternationalPrefix() + ")",
			"^(?:" + prefix + ")",
		},
	}
}

func (r *region) compile() {
	r.once.Do(func() {
		// The patterns compiled in nyaruka's metadata: they compile.
		r.general = regexp.MustCompile(r.patterns[0])
		r.idd = regexp.MustCompile(r.patterns[1])
		r.npp = regexp.MustCompile(r.patterns[2])
	})
}

// NationalRegions is the number of region hints ParseNational can answer
// for.
func NationalRegions() int {
	regionsOnce.Do(loadRegions)
	return len(regions)
}

// maxNational is the most digits of a number in national form answered:
// a national prefix and the longest national number.
const maxNational = 8 + maxNSN

// ParseNational is Parse for a number written in national form, as nyaruka's
// Parse reads it with regionHint: digits and the separators space - . ( ) /,
// no "+". It strips the region's national prefix as
// maybeStripNationalPrefixAndCarrierCode does (not when the number is
// viable with it and not without it, not when what is left has no possible
// length) and answers from the calling code's tables. ok is false when the
// input is in another form, or the region reads national numbers in a way
// not followed here (see regionFor), or the digits start with the region's
// international prefix or its calling code (nyaruka may read them as
// international), or Parse would leave the number to nyaruka.
func ParseNational(input, regionHint string) (n Number, ok bool) {
	if len(input) == 0 || input[0] == '+' || len(input) > 250 || regionHint == "" {
		return n, false
	}
	regionsOnce.Do(loadRegions)
	r := regions[regionHint]
	if r == nil {
		return n, false
	}
	var buf [3 + maxNational]byte
	digits := append(buf[:0], r.ccStr...)
	for i := 0; i < len(input); i++ {
		switch c := input[i]; c {
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			if len(digits) == len(buf) {
				return n, false
			}
			digits = append(digits, c)
		case ' ', '-', '.', '(', ')', '/':
		default:
			return n, false
		}
	}
	ccLen := len(r.ccStr)
	d := digits[ccLen:]
	if len(d) < 3 {
		return n, false
	}
	r.compile()
	// maybeExtractCountryCode: an international prefix, or the region's
	// own calling code in front, may make nyaruka read another number.
	if r.idd.Match(d) || hasPrefix(d, r.ccStr) {
		return n, false
	}
	nsn := d
	end := r.prefixEnd(d)
	if end == rewritten {
		return n, false
	}
	if end >= 0 {
		rest := d[end:]
		if !r.general.Match(d) || r.general.Match(rest) {
			switch testLength(int32(len(rest)), r.lengths, r.local) {
			case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY, phonenumbers.INVALID_LENGTH:
			default:
				nsn = rest
			}
		}
	}
	if len(nsn) < minNSN || len(nsn) > maxNSN {
		return n, false
	}
	// The calling code written just before the national number.
	at := len(digits) - len(nsn) - ccLen
	copy(digits[at:], r.ccStr)
	return answer(r.plan, r.cc, ccLen, digits[at:])
}

// rewritten: prefixEnd found a prefix the region's transform rule may
// rewrite.
const rewritten = -2

// prefixEnd is where the national prefix for parsing ends in d, -1 when d
// does not start with it, rewritten when the region has a transform rule
// and d starts with its prefix.
func (r *region) prefixEnd(d []byte) int {
	switch {
	case r.prefix == "":
		return -1
	case r.rewrite:
		if r.npp.Match(d) {
			return rewritten
		}
		return -1
	case r.literal:
		if hasPrefix(d, r.prefix) {
			return len(r.prefix)
		}
		return -1
	}
	if m := r.npp.FindIndex(d); m != nil {
		return m[1]
	}
	return -1
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// testLength is testNumberLength's comparison of a length (the type
// UNKNOWN: the general description's lengths).
func testLength(n int32, possible, local []int32) phonenumbers.ValidationResult {
	if possible[0] == -1 {
		return phonenumbers.INVALID_LENGTH
	}
	if slices.Contains(local, n) {
		return phonenumbers.IS_POSSIBLE_LOCAL_ONLY
	}
	switch {
	case possible[0] == n:
		return phonenumbers.IS_POSSIBLE
	case possible[0] > n:
		return phonenumbers.TOO_SHORT
	case possible[len(possible)-1] < n:
		return phonenumbers.TOO_LONG
	}
	if slices.Contains(possible[1:], n) {
		return phonenumbers.IS_POSSIBLE
	}
	return phonenumbers.INVALID_LENGTH
}
