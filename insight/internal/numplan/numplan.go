package numplan

import (
	_ "embed"
	"fmt"

	"github.com/nyaruka/phonenumbers/v2"
)

//go:generate go run gen.go

//go:embed numplan.bin
var data string

// plans are the calling codes by number; nil where there is none.
var plans = load()

func load() *[1000]*code {
	codes, err := parse(data)
	if err != nil {
		panic(fmt.Sprintf("numplan: embedded numplan.bin: %v (run go generate in insight/internal/numplan)", err))
	}
	var out [1000]*code
	for cc, c := range codes {
		out[cc] = c
	}
	return &out
}

// Number is what libphonenumber says of a number parsed from international
// form.
type Number struct {
	// CallingCode is the country calling code (44).
	CallingCode int32
	// Region is GetRegionCodeForNumber: "GB", "001" for a global code, ""
	// when the number fits none of the regions sharing its code.
	Region string
	// Type is GetNumberType.
	Type phonenumbers.PhoneNumberType
	// Possible is IsPossibleNumberWithReason.
	Possible phonenumbers.ValidationResult
	// E164, International and National are Format's three forms. They share
	// one allocation.
	E164, International, National string
	// SharedCode: the calling code has several regions.
	SharedCode bool
	// GeoRegion is the region whose name libphonenumber's geocoder gives the
	// number when it has no area: the code's one region, or of the regions
	// sharing it the one where the number is valid; "" when it is valid in
	// several or none.
	GeoRegion string
}

// maxDigits is a calling code and the longest national number.
const maxDigits = 3 + maxNSN

// Parse answers for input what nyaruka's Parse (with any region),
// IsPossibleNumberWithReason, GetNumberType, GetRegionCodeForNumber and
// Format would, when input is a number in international form: "+", then
// digits and the separators space - . ( ) /, nothing else. ok is false
// when the input is not in that form, or the library would answer in a way
// the tables do not (a parse error, a national prefix after the calling
// code, a refused calling code): then ask nyaruka. It does not allocate,
// but for the three formats, made in one string.
func Parse(input string) (n Number, ok bool) {
	if len(input) < 2 || input[0] != '+' {
		return n, false
	}
	var digits [maxDigits]byte
	nd := 0
	for i := 1; i < len(input); i++ {
		switch c := input[i]; c {
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			if nd == len(digits) {
				return n, false // too long: nyaruka says so
			}
			digits[nd] = c
			nd++
		case ' ', '-', '.', '(', ')', '/':
		default:
			return n, false
		}
	}
	// Parse wants three digits and no 0 in front of the code.
	if nd < 3 || digits[0] == '0' {
		return n, false
	}
	// extractCountryCode: the first of 1 to 3 digits that is a code.
	var c *code
	cc, ccLen := 0, 0
	for i := range 3 {
		cc = cc*10 + int(digits[i]-'0')
		if p := plans[cc]; p != nil {
			c, ccLen = p, i+1
			break
		}
	}
	if c == nil || c.refused != "" {
		return n, false
	}
	return answer(c, cc, ccLen, digits[:nd])
}

// answer is Parse's answer for digits, calling code cc (its first ccLen
// digits, plan c) and the national number.
func answer(c *code, cc, ccLen int, digits []byte) (n Number, ok bool) {
	nd := len(digits)
	nsn := digits[ccLen:nd]
	l := len(nsn)
	// Too short or long is a parse error; several leading zeros are kept
	// by the library in a way E.164 does not show: nyaruka answers both.
	if l < minNSN || l > maxNSN || (nsn[0] == '0' && nsn[1] == '0') {
		return n, false
	}
	s := c.start
	for _, d := range nsn {
		if s == 0 {
			break
		}
		s = u16(data, c.next+2*(s*10+int(d-'0')))
	}
	acc := u16(data, c.accept+2*s)
	res := data[c.results+(acc*lengths+l-minNSN)*resultSize:][:resultSize]
	if res[5]&flagFallback != 0 {
		return n, false
	}

	var buf [3*maxDigits + 2*255 + 8]byte
	b := append(buf[:0], '+')
	b = append(b, digits[:nd]...)
	e164 := len(b)
	b = append(b, '+')
	b = append(b, digits[:ccLen]...)
	b = append(b, ' ')
	b, ok = c.format(b, int(res[3]), nsn)
	if !ok {
		return n, false
	}
	intl := len(b)
	if b, ok = c.format(b, int(res[2]), nsn); !ok {
		return n, false
	}
	all := string(b)

	n = Number{
		CallingCode:   int32(cc),
		Type:          phonenumbers.PhoneNumberType(res[1]),
		Possible:      phonenumbers.ValidationResult(c.possible[l]),
		E164:          all[:e164],
		International: all[e164:intl],
		National:      all[intl:],
		SharedCode:    len(c.regions) > 1,
	}
	if res[0] != none {
		n.Region = c.regions[res[0]]
	}
	if res[4] != none {
		n.GeoRegion = c.regions[res[4]]
	}
	return n, true
}

// format appends nsn written by format entry i (none: as it is).
func (c *code) format(b []byte, i int, nsn []byte) ([]byte, bool) {
	if i == none {
		return append(b, nsn...), true
	}
	e := &c.entries[i]
	if !e.ok {
		return b, false
	}
	// The pieces' lengths are fixed but one, which takes the rest.
	fixed := 0
	for p := 0; p < len(e.pieces); p += 3 {
		fixed += int(e.pieces[p])
	}
	rest := len(nsn) - fixed
	if rest < 0 {
		return b, false
	}
	var groups [32][2]int
	at := 0
	for p := 0; p < len(e.pieces); p += 3 {
		n := int(e.pieces[p])
		if e.pieces[p+2] == 1 {
			n, rest = rest, 0
		}
		if g := e.pieces[p+1]; g != 0 && g < 32 {
			groups[g] = [2]int{at, at + n}
		}
		at += n
	}
	if at != len(nsn) {
		return b, false
	}
	for j := 0; j < len(e.template); j++ {
		if t := e.template[j]; t < 0x20 {
			g := groups[t]
			b = append(b, nsn[g[0]:g[1]]...)
		} else {
			b = append(b, t)
		}
	}
	return b, true
}

// Refused lists the calling codes the tables do not answer for, with the
// reason, and Compiled the number of those they do.
func Refused() map[int]string {
	out := map[int]string{}
	for cc, c := range plans {
		if c != nil && c.refused != "" {
			out[cc] = c.refused
		}
	}
	return out
}

// Compiled is the number of calling codes the tables answer for.
func Compiled() int {
	n := 0
	for _, c := range plans {
		if c != nil && c.refused == "" {
			n++
		}
	}
	return n
}
