//go:build ignore

// gen.go writes numplan.bin: for every country calling code of the
// nyaruka/phonenumbers version go.mod pins, one DFA over the digits of a
// national significant number that tells, with the number's length, what
// libphonenumber's GetRegionCodeForNumber, GetNumberType, the choice of
// number format (national and international) and the national-prefix check
// of Parse would answer (run by go generate in this directory, or with
// -out DIR).
//
// Every pattern the answers depend on is a component of the DFA: each
// number type of each region of the code (a full match, as
// isNumberMatchingDesc tests it), each region's leading digits (a prefix
// match), each format's pattern (full) and last leading-digits pattern
// (prefix), and the national prefix for parsing (prefix). The patterns are
// parsed and compiled by regexp/syntax, as the regexp package nyaruka uses
// does, and the DFA is the subset construction over the ten digits of all
// components at once; a state records which components accept there. What
// the library computes from those matches and the length (the first
// matching type in its order, the first matching region, the first
// matching format, possible lengths) is computed here, for each set of
// accepting components and each length, with nyaruka's own code paths
// followed step by step.
//
// A calling code is refused (written with the reason, and then answered by
// nyaruka at run time) when anything cannot be compiled exactly: a pattern
// with an assertion other than ^ and $, missing metadata, too many states.
// A format whose groups cannot be cut by length alone is marked, and a
// number that needs it goes to nyaruka too.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/nyaruka/phonenumbers/v2/metadata"
)

// Keep in step with format.go.
const (
	magic      = "PGNP"
	maxNSN     = 17 // libphonenumber's longest national significant number
	minNSN     = 2
	lengths    = maxNSN - minNSN + 1
	none       = 0xFF
	maxStates  = 1 << 16
	resultSize = 6
)

// Result flags.
const (
	flagFallback = 1 << iota // nyaruka must answer: national prefix present, or a format not compiled
)

// Status of a calling code.
const (
	statusCompiled = 0
	statusRefused  = 1
)

func main() {
	out := flag.String("out", ".", "directory to write numplan.bin to")
	flag.Parse()
	codes := make([]int, 0, 256)
	for cc := range metadata.CountryCodeToRegion() {
		codes = append(codes, cc)
	}
	slices.Sort(codes)
	var b []byte
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(codes)))
	refused, states := 0, 0
	for _, cc := range codes {
		rec, n, err := compileCode(cc)
		b = binary.LittleEndian.AppendUint16(b, uint16(cc))
		if err != nil {
			refused++
			msg := err.Error()
			if len(msg) > 255 {
				msg = msg[:255]
			}
			fmt.Fprintf(os.Stderr, "+%d refused: %s\n", cc, msg)
			b = append(b, statusRefused, byte(len(msg)))
			b = append(b, msg...)
			continue
		}
		states += n
		b = append(b, statusCompiled)
		b = append(b, rec...)
	}
	path := filepath.Join(*out, "numplan.bin")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%s: %d calling codes, %d refused, %d states, %d bytes\n", path, len(codes), refused, states, len(b))
}

// descs are the number descriptions in the order getNumberTypeHelper tests
// them, the general description first.
const (
	dGeneral = iota
	dPremium
	dTollFree
	dShared
	dVoip
	dPersonal
	dPager
	dUAN
	dVoicemail
	dFixed
	dMobile
	nDescs
)

var descTypes = [nDescs]phonenumbers.PhoneNumberType{
	dGeneral: phonenumbers.UNKNOWN, dPremium: phonenumbers.PREMIUM_RATE, dTollFree: phonenumbers.TOLL_FREE,
	dShared: phonenumbers.SHARED_COST, dVoip: phonenumbers.VOIP, dPersonal: phonenumbers.PERSONAL_NUMBER,
	dPager: phonenumbers.PAGER, dUAN: phonenumbers.UAN, dVoicemail: phonenumbers.VOICEMAIL,
	dFixed: phonenumbers.FIXED_LINE, dMobile: phonenumbers.MOBILE,
}

func descsOf(md *metadata.PhoneMetadata) [nDescs]*metadata.PhoneNumberDesc {
	return [nDescs]*metadata.PhoneNumberDesc{
		md.GetGeneralDesc(), md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(), md.GetVoip(),
		md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetFixedLine(), md.GetMobile(),
	}
}

// region is one region of a calling code and its components.
type region struct {
	code    string
	md      *metadata.PhoneMetadata
	desc    [nDescs]int // component of each description
	lengths [nDescs][]int32
	leading int // component of the leading digits, -1 if none
}

// format is one number format of the main region and its components.
type format struct {
	nf      *metadata.NumberFormat
	leading int // -1: no leading digits
	pattern int
}

func compileCode(cc int) ([]byte, int, error) {
	codes := metadata.CountryCodeToRegion()[cc]
	if len(codes) == 0 || len(codes) > 250 {
		return nil, 0, fmt.Errorf("%d regions", len(codes))
	}
	if phonenumbers.GetCountryMobileToken(cc) != "" {
		// The geocoder re-parses such a number without its token.
		return nil, 0, fmt.Errorf("a mobile token (%q): geocoding re-parses the number", phonenumbers.GetCountryMobileToken(cc))
	}
	var comps []component
	add := func(pattern string, prefix bool) (int, error) {
		c, err := compile(pattern, prefix)
		if err != nil {
			return 0, err
		}
		comps = append(comps, c)
		return len(comps) - 1, nil
	}
	regions := make([]region, len(codes))
	for i, code := range codes {
		var md *metadata.PhoneMetadata
		var ok bool
		if code == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
			md, ok = metadata.NonGeoMetadata(cc)
		} else {
			md, ok = metadata.RegionMetadata(code)
		}
		if !ok || md == nil {
			return nil, 0, fmt.Errorf("region %s: no metadata", code)
		}
		r := region{code: code, md: md, leading: -1}
		for d, desc := range descsOf(md) {
			if desc == nil {
				return nil, 0, fmt.Errorf("region %s: description %d missing", code, d)
			}
			// isNumberMatchingDesc: possible lengths, then ^(?:pattern)$.
			var err error
			if r.desc[d], err = add("^(?:"+desc.GetNationalNumberPattern()+")$", false); err != nil {
				return nil, 0, fmt.Errorf("region %s: %w", code, err)
			}
			r.lengths[d] = desc.PossibleLength
		}
		if ld := md.GetLeadingDigits(); len(codes) > 1 && ld != "" {
			var err error
			if r.leading, err = add("^(?:"+ld+")", true); err != nil {
				return nil, 0, fmt.Errorf("region %s leading digits: %w", code, err)
			}
		}
		regions[i] = r
	}
	main := regions[0].md
	addFormats := func(list []*metadata.NumberFormat) ([]format, error) {
		var fs []format
		for _, nf := range list {
			f := format{nf: nf, leading: -1}
			var err error
			if ld := nf.GetLeadingDigitsPattern(); len(ld) > 0 {
				// FindStringIndex with the match at 0: a prefix match of the raw pattern.
				if f.leading, err = add(ld[len(ld)-1], true); err != nil {
					return nil, fmt.Errorf("format %q leading digits: %w", nf.GetPattern(), err)
				}
			}
			if f.pattern, err = add("^(?:"+nf.GetPattern()+")$", false); err != nil {
				return nil, fmt.Errorf("format %q: %w", nf.GetPattern(), err)
			}
			fs = append(fs, f)
		}
		return fs, nil
	}
	natFormats, err := addFormats(main.GetNumberFormat())
	if err != nil {
		return nil, 0, err
	}
	intlFormats, err := addFormats(main.GetIntlNumberFormat())
	if err != nil {
		return nil, 0, err
	}
	npfp := -1
	if p := main.GetNationalPrefixForParsing(); p != "" {
		if npfp, err = add("^(?:"+p+")", true); err != nil {
			return nil, 0, fmt.Errorf("national prefix for parsing: %w", err)
		}
	}
	possible, err := possibleLengths(main)
	if err != nil {
		return nil, 0, err
	}

	// The format entries: the national form of each number format, then
	// the international ones (the number formats again, without the
	// national prefix rule, when the region has no intl formats).
	type entry struct {
		pattern, template string
	}
	var entries []entry
	for _, f := range natFormats {
		entries = append(entries, entry{f.nf.GetPattern(), nationalTemplate(f.nf)})
	}
	intlBase := len(entries)
	intlList := intlFormats
	if len(intlFormats) == 0 {
		intlList = natFormats
	}
	for _, f := range intlList {
		entries = append(entries, entry{f.nf.GetPattern(), f.nf.GetFormat()})
	}
	if len(entries) >= none {
		return nil, 0, fmt.Errorf("%d formats", len(entries))
	}
	var encEntries []byte
	entryOK := make([]bool, len(entries))
	for i, e := range entries {
		enc, err := compileFormat(e.pattern, e.template)
		if err != nil {
			fmt.Fprintf(os.Stderr, "+%d format %q -> %q: not compiled (%v): numbers it formats go to nyaruka\n", cc, e.pattern, e.template, err)
			encEntries = append(encEntries, 0)
			continue
		}
		entryOK[i] = true
		encEntries = append(encEntries, 1)
		encEntries = append(encEntries, enc...)
	}

	d, err := buildDFA(comps)
	if err != nil {
		return nil, 0, err
	}

	// What the library answers for a set of accepting components and a length.
	answer := func(acc []bool, n int) [resultSize]byte {
		matches := func(r *region, k int) bool {
			if !acc[r.desc[k]] {
				return false
			}
			return len(r.lengths[k]) == 0 || slices.Contains(r.lengths[k], int32(n))
		}
		typeIn := func(r *region) phonenumbers.PhoneNumberType { // getNumberTypeHelper
			if !matches(r, dGeneral) {
				return phonenumbers.UNKNOWN
			}
			for k := dPremium; k <= dVoicemail; k++ {
				if matches(r, k) {
					return descTypes[k]
				}
			}
			same := r.md.GetSameMobileAndFixedLinePattern()
			if matches(r, dFixed) {
				if same || matches(r, dMobile) {
					return phonenumbers.FIXED_LINE_OR_MOBILE
				}
				return phonenumbers.FIXED_LINE
			}
			if !same && matches(r, dMobile) {
				return phonenumbers.MOBILE
			}
			return phonenumbers.UNKNOWN
		}
		var res [resultSize]byte
		who := none // GetRegionCodeForNumber
		if len(regions) == 1 {
			who = 0
		} else {
			for i := range regions {
				r := &regions[i]
				if r.md.GetLeadingDigits() != "" {
					if acc[r.leading] {
						who = i
						break
					}
				} else if typeIn(r) != phonenumbers.UNKNOWN {
					who = i
					break
				}
			}
		}
		res[0] = byte(who)
		typ := phonenumbers.UNKNOWN
		if who != none {
			typ = typeIn(&regions[who])
		}
		res[1] = byte(typ)
		choose := func(fs []format, base int) int { // chooseFormattingPatternForNumber
			for i, f := range fs {
				if (f.leading < 0 || acc[f.leading]) && acc[f.pattern] {
					return base + i
				}
			}
			return none
		}
		nat, intl := choose(natFormats, 0), choose(intlList, intlBase)
		res[2], res[3] = byte(nat), byte(intl)
		name := none // the geocoder's country: the one region where the number is valid
		if len(regions) == 1 {
			name = 0
		} else {
			for i := range regions {
				if typeIn(&regions[i]) != phonenumbers.UNKNOWN {
					if name != none {
						name = none
						break
					}
					name = i
				}
			}
		}
		res[4] = byte(name)
		if (npfp >= 0 && acc[npfp]) || (nat != none && !entryOK[nat]) || (intl != none && !entryOK[intl]) {
			res[5] |= flagFallback
		}
		return res
	}

	var b []byte
	b = append(b, byte(len(regions)))
	for _, r := range regions {
		b = append(b, byte(len(r.code)))
		b = append(b, r.code...)
	}
	b = append(b, possible[:]...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(d.next)))
	b = binary.LittleEndian.AppendUint16(b, uint16(d.start))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(d.accepts)))
	b = append(b, byte(len(entries)))
	for _, t := range d.next {
		for _, s := range t {
			b = binary.LittleEndian.AppendUint16(b, uint16(s))
		}
	}
	for _, a := range d.accept {
		b = binary.LittleEndian.AppendUint16(b, uint16(a))
	}
	for _, set := range d.accepts {
		acc := make([]bool, len(comps))
		for _, c := range set {
			acc[c] = true
		}
		for n := minNSN; n <= maxNSN; n++ {
			res := answer(acc, n)
			b = append(b, res[:]...)
		}
	}
	b = append(b, encEntries...)
	return b, len(d.next), nil
}

// possibleLengths is IsPossibleNumberWithReason's verdict for each length of
// national number, from the main region's metadata (testNumberLength with
// UNKNOWN).
func possibleLengths(md *metadata.PhoneMetadata) ([maxNSN + 1]byte, error) {
	var out [maxNSN + 1]byte
	general := md.GetGeneralDesc()
	if general == nil {
		return out, fmt.Errorf("no general description")
	}
	for n := range out {
		var v phonenumbers.ValidationResult
		switch {
		case general.GetNationalNumberPattern() == "":
			switch {
			case n < minNSN:
				v = phonenumbers.TOO_SHORT
			case n > maxNSN:
				v = phonenumbers.TOO_LONG
			default:
				v = phonenumbers.IS_POSSIBLE
			}
		default:
			lens := general.PossibleLength
			if len(lens) == 0 {
				return out, fmt.Errorf("no possible lengths")
			}
			v = testLength(int32(n), lens, general.PossibleLengthLocalOnly)
		}
		out[n] = byte(v)
	}
	return out, nil
}

// testLength is testNumberLength's comparison of a length.
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

// firstGroupPattern is nyaruka's: the first $N of a format.
var firstGroupPattern = regexp.MustCompile(`(\$\d)`)

// nationalTemplate is the template formatNsnUsingPatternWithCarrier gives
// ReplaceAllString for the NATIONAL format without a carrier code.
func nationalTemplate(nf *metadata.NumberFormat) string {
	format := nf.GetFormat()
	rule := nf.GetNationalPrefixFormattingRule()
	if rule == "" {
		return format
	}
	loc := firstGroupPattern.FindStringSubmatchIndex(format)
	if loc == nil {
		return format
	}
	expanded := firstGroupPattern.ExpandString(nil, rule, format, loc)
	return format[:loc[0]] + string(expanded) + format[loc[1]:]
}

// compileFormat encodes how regexp.MustCompile(pattern).ReplaceAllString(nsn,
// template) writes a national number the pattern fully matches: the
// pattern's top-level pieces (their length, at most one of them variable,
// and the group each captures) and the template with each group reference
// as a byte 1..31. It refuses a pattern whose leftmost-first match could
// stop short of the whole number or whose groups a length does not fix.
func compileFormat(pattern, template string) ([]byte, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	pieces := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		pieces = re.Sub
	}
	if len(pieces) > 31 {
		return nil, fmt.Errorf("%d pieces", len(pieces))
	}
	variable := -1
	var enc []byte
	enc = append(enc, byte(len(pieces)))
	total := 0
	for i, p := range pieces {
		group := 0
		inner := p
		if p.Op == syntax.OpCapture {
			group, inner = p.Cap, p.Sub[0]
			if group > 31 {
				return nil, fmt.Errorf("group %d", group)
			}
		}
		if hasCapture(inner) {
			return nil, fmt.Errorf("nested group in %s", p)
		}
		lo, hi := lengthRange(inner)
		if lo != hi {
			if variable >= 0 {
				return nil, fmt.Errorf("two pieces of variable length")
			}
			if !greedyOnce(inner) {
				return nil, fmt.Errorf("piece %s: its length is not one greedy repetition", p)
			}
			variable = i
		}
		total += lo
		l, v := lo, byte(0)
		if lo != hi {
			l, v = 0, 1
		}
		if l > 255 {
			return nil, fmt.Errorf("piece of %d characters", l)
		}
		enc = append(enc, byte(l), byte(group), v)
	}
	if total == 0 && variable < 0 {
		return nil, fmt.Errorf("pattern matches the empty string")
	}
	// Expand the template as regexp does, with each group's text a control
	// byte naming it.
	compiled := regexp.MustCompile(pattern)
	groups := compiled.NumSubexp()
	if groups > 31 {
		return nil, fmt.Errorf("%d groups", groups)
	}
	if strings.IndexFunc(template, func(r rune) bool { return r < 0x20 }) >= 0 {
		return nil, fmt.Errorf("control character in the template")
	}
	var src []byte
	match := []int{0, groups}
	for g := 1; g <= groups; g++ {
		src = append(src, byte(g))
		match = append(match, g-1, g)
	}
	out := compiled.Expand(nil, []byte(template), src, match)
	if len(out) > 255 {
		return nil, fmt.Errorf("template of %d bytes", len(out))
	}
	enc = append(enc, byte(len(out)))
	enc = append(enc, out...)
	return enc, nil
}

func hasCapture(re *syntax.Regexp) bool {
	if re.Op == syntax.OpCapture {
		return true
	}
	for _, s := range re.Sub {
		if hasCapture(s) {
			return true
		}
	}
	return false
}

const unbounded = 1 << 20

// lengthRange is the shortest and longest string re matches (in runes).
func lengthRange(re *syntax.Regexp) (int, int) {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune), len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1, 1
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0, 0
	case syntax.OpCapture:
		return lengthRange(re.Sub[0])
	case syntax.OpConcat:
		lo, hi := 0, 0
		for _, s := range re.Sub {
			a, b := lengthRange(s)
			lo, hi = lo+a, min(hi+b, unbounded)
		}
		return lo, hi
	case syntax.OpAlternate:
		lo, hi := unbounded, 0
		for _, s := range re.Sub {
			a, b := lengthRange(s)
			lo, hi = min(lo, a), max(hi, b)
		}
		return lo, hi
	case syntax.OpStar:
		return 0, unbounded
	case syntax.OpPlus:
		a, _ := lengthRange(re.Sub[0])
		return a, unbounded
	case syntax.OpQuest:
		_, b := lengthRange(re.Sub[0])
		return 0, b
	case syntax.OpRepeat:
		a, b := lengthRange(re.Sub[0])
		hi := unbounded
		if re.Max >= 0 {
			hi = min(b*re.Max, unbounded)
		}
		return a * re.Min, hi
	}
	return 0, unbounded // OpNoMatch and anything unknown: never "fixed"
}

// greedyOnce reports whether re's length varies at one greedy repetition of
// a single character and nowhere else. Then the leftmost-first match of a
// pattern whose other pieces are of fixed length takes as many repetitions
// as the whole string allows: when the anchored pattern matches the whole
// number, so does the unanchored match ReplaceAllString finds.
func greedyOnce(re *syntax.Regexp) bool {
	single := func(s *syntax.Regexp) bool {
		switch s.Op {
		case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			return true
		case syntax.OpLiteral:
			return len(s.Rune) == 1
		}
		return false
	}
	switch re.Op {
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		return re.Flags&syntax.NonGreedy == 0 && single(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			if a, b := lengthRange(s); a != b {
				if !greedyOnce(s) {
					return false
				}
				n++
			}
		}
		return n == 1
	}
	return false
}

// component is one pattern compiled to an NFA program.
type component struct {
	prog   *syntax.Prog
	prefix bool // accepts once any prefix has matched
}

func compile(pattern string, prefix bool) (component, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return component{}, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return component{}, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	for _, in := range prog.Inst {
		if in.Op == syntax.InstEmptyWidth {
			if e := syntax.EmptyOp(in.Arg); e != syntax.EmptyBeginText && e != syntax.EmptyEndText {
				return component{}, fmt.Errorf("pattern %q: assertion %v not compiled", pattern, e)
			}
		}
	}
	return component{prog, prefix}, nil
}

// closure adds to set the instructions reachable from pc without reading a
// character: rune instructions, matches and end-of-text assertions (which
// only the end can pass).
func closure(p *syntax.Prog, pc uint32, atStart, atEnd bool, set map[uint32]bool, seen map[uint32]bool) {
	if seen[pc] {
		return
	}
	seen[pc] = true
	in := &p.Inst[pc]
	switch in.Op {
	case syntax.InstAlt, syntax.InstAltMatch:
		closure(p, in.Out, atStart, atEnd, set, seen)
		closure(p, in.Arg, atStart, atEnd, set, seen)
	case syntax.InstCapture, syntax.InstNop:
		closure(p, in.Out, atStart, atEnd, set, seen)
	case syntax.InstEmptyWidth:
		switch syntax.EmptyOp(in.Arg) {
		case syntax.EmptyBeginText:
			if atStart {
				closure(p, in.Out, atStart, atEnd, set, seen)
			}
		case syntax.EmptyEndText:
			if atEnd {
				closure(p, in.Out, atStart, atEnd, set, seen)
			} else {
				set[pc] = true
			}
		}
	case syntax.InstFail:
	default: // runes and match
		set[pc] = true
	}
}

// threads of one component in a DFA state: nil when dead; done when a
// prefix component has matched.
type threads struct {
	done bool
	pcs  []uint32
}

func sortedPCs(set map[uint32]bool) []uint32 {
	out := make([]uint32, 0, len(set))
	for pc := range set {
		out = append(out, pc)
	}
	slices.Sort(out)
	return out
}

func (c *component) matched(pcs []uint32, atEnd bool) bool {
	for _, pc := range pcs {
		in := &c.prog.Inst[pc]
		if in.Op == syntax.InstMatch {
			return true
		}
		if atEnd && in.Op == syntax.InstEmptyWidth {
			set := map[uint32]bool{}
			closure(c.prog, pc, false, true, set, map[uint32]bool{})
			for q := range set {
				if c.prog.Inst[q].Op == syntax.InstMatch {
					return true
				}
			}
		}
	}
	return false
}

func (c *component) settle(pcs []uint32) threads {
	if c.prefix && c.matched(pcs, false) {
		return threads{done: true}
	}
	return threads{pcs: pcs}
}

type dfa struct {
	start   int
	next    [][10]int
	accept  []int   // accept set of each state
	accepts [][]int // the distinct accept sets; 0 is the empty set
}

func key(ts []threads) string {
	var b bytes.Buffer
	for i, t := range ts {
		if !t.done && len(t.pcs) == 0 {
			continue
		}
		binary.Write(&b, binary.LittleEndian, uint16(i))
		if t.done {
			b.WriteByte(1)
			continue
		}
		b.WriteByte(0)
		binary.Write(&b, binary.LittleEndian, uint16(len(t.pcs)))
		for _, pc := range t.pcs {
			binary.Write(&b, binary.LittleEndian, uint16(pc))
		}
	}
	return b.String()
}

func buildDFA(comps []component) (*dfa, error) {
	for _, c := range comps {
		if len(c.prog.Inst) > 1<<16 {
			return nil, fmt.Errorf("a program of %d instructions", len(c.prog.Inst))
		}
	}
	d := &dfa{accepts: [][]int{{}}}
	acceptIdx := map[string]int{"": 0}
	index := map[string]int{}
	var states [][]threads
	intern := func(ts []threads) int {
		k := key(ts)
		if i, ok := index[k]; ok {
			return i
		}
		i := len(states)
		index[k] = i
		states = append(states, ts)
		var acc []int
		for ci := range comps {
			if ts[ci].done || comps[ci].matched(ts[ci].pcs, true) {
				acc = append(acc, ci)
			}
		}
		ak := fmt.Sprint(acc)
		if len(acc) == 0 {
			ak = ""
		}
		a, ok := acceptIdx[ak]
		if !ok {
			a = len(d.accepts)
			acceptIdx[ak] = a
			d.accepts = append(d.accepts, acc)
		}
		d.accept = append(d.accept, a)
		d.next = append(d.next, [10]int{})
		return i
	}
	dead := make([]threads, len(comps))
	intern(dead) // state 0
	start := make([]threads, len(comps))
	for ci := range comps {
		c := &comps[ci]
		set := map[uint32]bool{}
		closure(c.prog, uint32(c.prog.Start), true, false, set, map[uint32]bool{})
		start[ci] = c.settle(sortedPCs(set))
	}
	d.start = intern(start)
	for s := 1; s < len(states); s++ {
		if len(states) > maxStates {
			return nil, fmt.Errorf("more than %d states", maxStates)
		}
		for digit := range 10 {
			r := rune('0' + digit)
			nt := make([]threads, len(comps))
			for ci := range comps {
				t := states[s][ci]
				if t.done {
					nt[ci] = t
					continue
				}
				c := &comps[ci]
				set := map[uint32]bool{}
				seen := map[uint32]bool{}
				for _, pc := range t.pcs {
					in := &c.prog.Inst[pc]
					switch in.Op {
					case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
						if in.MatchRune(r) {
							closure(c.prog, in.Out, false, false, set, seen)
						}
					}
				}
				nt[ci] = c.settle(sortedPCs(set))
			}
			d.next[s][digit] = intern(nt)
		}
	}
	if len(states) > maxStates {
		return nil, fmt.Errorf("more than %d states", maxStates)
	}
	return minimize(d), nil
}

// minimize merges equivalent states (Moore's partition refinement), keeping
// the dead state 0 first.
func minimize(d *dfa) *dfa {
	n := len(d.next)
	class := make([]int, n)
	copy(class, d.accept)
	for {
		sigs := map[string]int{}
		next := make([]int, n)
		for s := range n {
			sig := fmt.Sprint(class[s], func() [10]int {
				var t [10]int
				for i, x := range d.next[s] {
					t[i] = class[x]
				}
				return t
			}())
			c, ok := sigs[sig]
			if !ok {
				c = len(sigs)
				sigs[sig] = c
			}
			next[s] = c
		}
		if countDistinct(next) == countDistinct(class) {
			class = next
			break
		}
		class = next
	}
	// Renumber: the dead state's class first, then in order of first use.
	order := map[int]int{class[0]: 0}
	reps := []int{0}
	for s := range n {
		if _, ok := order[class[s]]; !ok {
			order[class[s]] = len(reps)
			reps = append(reps, s)
		}
	}
	out := &dfa{accepts: d.accepts, start: order[class[d.start]]}
	for _, s := range reps {
		var t [10]int
		for i, x := range d.next[s] {
			t[i] = order[class[x]]
		}
		out.next = append(out.next, t)
		out.accept = append(out.accept, d.accept[s])
	}
	// Drop accept sets no state uses, keeping the empty set 0.
	used := map[int]int{0: 0}
	sets := [][]int{{}}
	for i, a := range out.accept {
		j, ok := used[a]
		if !ok {
			j = len(sets)
			used[a] = j
			sets = append(sets, d.accepts[a])
		}
		out.accept[i] = j
	}
	out.accepts = sets
	return out
}

func countDistinct(xs []int) int {
	m := map[int]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return len(m)
}
