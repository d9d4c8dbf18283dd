package filter

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/policy"
)

// found is one value to judge as a phone number.
type found struct {
	field  string // the route's field that named it, or under auto the path where it was
	value  string
	region string // a country given beside it (see countryHint), "" for none
}

// maxNumbersPerBody bounds the distinct values judged in one body; a body
// with more is refused as unparsable.
const maxNumbersPerBody = 16

// walker finds the values a route's fields name in a tree. The model, which
// package policy's documentation states for policy authors:
//
//   - A path of keys names the values under those keys from the top of the
//     body, keys compared ignoring case (every case twin counts), arrays and
//     empty keys passed through.
//   - `auto` names the values under keys whose words end in a phone word
//     (phonekey.go); values with no digit at all are not numbers there.
//   - A named key holding an object or array yields the values inside it,
//     but for country fields, which become the region hint of the values
//     beside them, and fields that describe the number (type, id, ext,
//     verified, ...); inside, values with no digit are not numbers.
//   - An object that is a name/value attribute ({"Name": "phone_number",
//     "Value": "..."}, as AWS Cognito sends) counts as the key it names.
//   - Empty and blank values are no number, like null, true and false.
type walker struct {
	t      *tree
	fields []policy.Field
	auto   bool
	keys   []string // keys from the top to the node being looked at
	out    []found
	texts  []string // string values no field named, for the free-text pass
	err    error

	// Room for the usual body, so that walking one allocates nothing more.
	keyBuf  [maxDepth + 1]string
	outBuf  [4]found
	textBuf [32]string
}

// newWalker returns a walker of t from the pool: a check's walk allocates
// nothing of its own. Give it back with release.
func newWalker(t *tree, fields []policy.Field) *walker {
	w := walkers.Get().(*walker)
	w.t, w.fields = t, fields
	w.keys, w.out, w.texts = w.keyBuf[:0], w.outBuf[:0], w.textBuf[:0]
	for _, f := range fields {
		w.auto = w.auto || f.Auto
	}
	return w
}

// walkers keeps walkers between checks.
var walkers = sync.Pool{New: func() any { return new(walker) }}

// release gives w back for reuse; nothing may use it, or a slice of its, after.
// It is cleared so that a pooled walker keeps no body alive: the used part
// of each buffer (keys clear their slot as they are left).
func (w *walker) release() {
	w.reset()
	walkers.Put(w)
}

func (w *walker) reset() {
	if cap(w.keys) > len(w.keyBuf) {
		clear(w.keyBuf[:]) // left for a bigger slice, without its keys cleared
	}
	clear(w.outBuf[:min(len(w.out), len(w.outBuf))])
	clear(w.textBuf[:min(len(w.texts), len(w.textBuf))])
	w.t, w.fields, w.auto, w.keys, w.out, w.texts, w.err = nil, nil, false, nil, nil, nil, nil
}

// leave pops the last key of w.keys, clearing its slot.
func (w *walker) leave() {
	w.keys[len(w.keys)-1] = ""
	w.keys = w.keys[:len(w.keys)-1]
}

// walk looks at every child of parent.
func (w *walker) walk(parent int32) {
	for c := w.t.nodes[parent].first; c >= 0 && w.err == nil; c = w.t.nodes[c].next {
		n := &w.t.nodes[c]
		keyed := n.key != "" && w.t.nodes[parent].kind == kindObject
		if keyed {
			w.keys = append(w.keys, n.key)
		}
		if field, explicit, ok := w.named(keyed); ok {
			w.take(c, field, explicit, "")
		} else {
			switch n.kind {
			case kindObject:
				w.attribute(c)
				w.walk(c)
			case kindArray:
				w.walk(c)
			case kindString:
				if w.auto {
					w.texts = append(w.texts, n.value)
				}
			}
		}
		if keyed {
			w.leave()
		}
	}
}

// named reports whether the value at w.keys is one the route's fields name:
// a path (explicit) first, else a phone-like last key under auto.
func (w *walker) named(keyed bool) (field string, explicit, ok bool) {
	if !keyed {
		return "", false, false
	}
	for i := range w.fields {
		if w.fields[i].Matches(w.keys) {
			return w.fields[i].Path, true, true
		}
	}
	if w.auto && phoneLikeKey(w.keys[len(w.keys)-1]) {
		return pathOf(w.keys), false, true
	}
	return "", false, false
}

// attribute reads an object that is a name/value pair as the key it names.
func (w *walker) attribute(obj int32) {
	var name string
	value := int32(-1)
	for c := w.t.nodes[obj].first; c >= 0; c = w.t.nodes[c].next {
		n := &w.t.nodes[c]
		switch attributeKey(n.key) {
		case attrName:
			if n.kind == kindString && name == "" {
				name = n.value
			}
		case attrValue:
			if value < 0 {
				value = c
			}
		}
	}
	if name == "" || value < 0 {
		return
	}
	w.keys = append(w.keys, name)
	if field, explicit, ok := w.named(true); ok {
		w.take(value, field, explicit, "")
	}
	w.leave()
}

// What a key of a name/value attribute object is.
const (
	attrOther = iota
	attrName  // name, key, attribute, attributename, attribute_name, field, type
	attrValue // value
)

// attributeKey reads a key of an object that may be a name/value attribute,
// ignoring case as strings.EqualFold does. It runs for every key of every
// object no field names: an ASCII key, the usual one, is lower-cased once on
// the stack and looked up, instead of compared with each name in turn.
func attributeKey(k string) int {
	if k == "" {
		return attrOther
	}
	switch k[0] | ('a' - 'A') { // the first letter, of either case
	case 'n', 'k', 'a', 'f', 't', 'v':
	default:
		if k[0] < utf8.RuneSelf {
			return attrOther // an ASCII rune folds to no name's first letter
		}
	}
	var buf [len("attribute_name")]byte
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= utf8.RuneSelf {
			return attributeKeyFold(k) // "\u212aey" (a Kelvin sign) is "key"
		}
		if i == len(buf) {
			// More runes than any name has, whatever the rest holds.
			return attrOther
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(k)]) {
	case "name", "key", "attribute", "attributename", "attribute_name", "field", "type":
		return attrName
	case "value":
		return attrValue
	}
	return attrOther
}

// attributeKeyFold is attributeKey for any key, by Unicode case folding.
func attributeKeyFold(k string) int {
	switch {
	case strings.EqualFold(k, "name"), strings.EqualFold(k, "key"), strings.EqualFold(k, "attribute"), strings.EqualFold(k, "attributename"),
		strings.EqualFold(k, "attribute_name"), strings.EqualFold(k, "field"), strings.EqualFold(k, "type"):
		return attrName
	case strings.EqualFold(k, "value"):
		return attrValue
	}
	return attrOther
}

// take adds the value at idx, or the values inside it. strict is true for a
// value a route's path names directly (or an element of an array it names):
// that is judged even without a digit, as the policy author said it is a
// number; values auto guessed, and values inside an object, need a digit.
func (w *walker) take(idx int32, field string, strict bool, region string) {
	n := &w.t.nodes[idx]
	switch n.kind {
	case kindString, kindNumber:
		v := strings.TrimSpace(n.value)
		if v == "" || (!strict && !hasDigit(v)) {
			return // an optional field left empty is no number
		}
		w.add(found{field: field, value: v, region: region})
	case kindArray:
		for c := n.first; c >= 0; c = w.t.nodes[c].next {
			w.take(c, field, strict, region)
		}
	case kindObject:
		if hint := w.countryHint(idx); hint != "" {
			region = hint
		}
		area := w.areaCode(idx)
		for c := n.first; c >= 0; c = w.t.nodes[c].next {
			child := &w.t.nodes[c]
			switch {
			case describesNumber(child.key):
			case area != "" && child.kind != kindObject && child.kind != kindArray &&
				!strings.HasPrefix(strings.TrimSpace(child.value), "+") && hasDigit(child.value):
				// {"area_code": "415", "number": "555 0132"}: one number in two parts.
				w.add(found{field: field, value: area + " " + strings.TrimSpace(child.value), region: region})
			default:
				w.take(c, field, false, region)
			}
		}
	}
}

// areaCode is the value of an area-code field of the object at idx, or "".
func (w *walker) areaCode(idx int32) string {
	for c := w.t.nodes[idx].first; c >= 0; c = w.t.nodes[c].next {
		n := &w.t.nodes[c]
		if n.kind != kindString && n.kind != kindNumber {
			continue
		}
		if isAreaCodeKey(n.key) {
			if v := strings.TrimSpace(n.value); hasDigit(v) {
				return v
			}
		}
	}
	return ""
}

// isAreaCodeKey: area_code, areaCode, area, city_code, ndc.
func isAreaCodeKey(key string) bool {
	var words [4]wordSpan
	var buf [maxWordLen]byte
	joined, ok := joinedWords(key, keyWords(key, words[:0]), buf[:0])
	return ok && isAreaCodeWords(joined)
}

func isAreaCodeWords(joined []byte) bool {
	switch string(joined) {
	case "areacode", "area", "citycode", "ndc":
		return true
	}
	return false
}

func (w *walker) add(f found) {
	for _, o := range w.out {
		if o.value == f.value && o.region == f.region {
			return // one number read twice (a GraphQL variable and its argument)
		}
	}
	if len(w.out) == maxNumbersPerBody {
		w.err = errTooManyNumbers
		return
	}
	w.out = append(w.out, f)
}

// countryHint is the region given by a country field of the object at idx:
// an ISO code ("GB") or a calling code ("44", "+44").
func (w *walker) countryHint(idx int32) string {
	for c := w.t.nodes[idx].first; c >= 0; c = w.t.nodes[c].next {
		n := &w.t.nodes[c]
		if (n.kind != kindString && n.kind != kindNumber) || !isCountryKey(n.key) {
			continue
		}
		if r := regionOf(n.value); r != "" {
			return r
		}
	}
	return ""
}

// regionOf reads a region from a country value: an ISO 3166-1 alpha-2 code
// libphonenumber knows, or a country calling code.
func regionOf(v string) string {
	v = strings.ToUpper(strings.TrimSpace(v))
	if len(v) == 2 && insight.IsRegion(v) {
		return v
	}
	return insight.RegionForCallingCode(v)
}

// isCountryKey: country, country_code, countryCode, iso2, region, dial_code,
// calling_code and the like.
func isCountryKey(key string) bool {
	var words [4]wordSpan
	var buf [maxWordLen]byte
	joined, ok := joinedWords(key, keyWords(key, words[:0]), buf[:0])
	return ok && isCountryWords(joined)
}

func isCountryWords(joined []byte) bool {
	switch string(joined) {
	case "country", "countrycode", "countryiso", "countryiso2", "iso", "iso2", "region", "regioncode",
		"dialcode", "callingcode", "countrycallingcode", "countryprefix", "cc":
		return true
	}
	return false
}

// describesNumber: keys inside a phone object whose values describe the
// number rather than hold it, and are never judged as one.
func describesNumber(key string) bool {
	var spans [4]wordSpan
	words := keyWords(key, spans[:0])
	if len(words) == 0 {
		return false
	}
	var buf [maxWordLen]byte
	if joined, ok := joinedWords(key, words, buf[:0]); ok && (isCountryWords(joined) || isAreaCodeWords(joined)) {
		return true // an area code is joined to the number: see take
	}
	var lw [maxWordLen]byte
	last, ok := words[len(words)-1].lower(key, lw[:0])
	if !ok {
		return false
	}
	switch string(last) {
	case "id", "ext", "extension", "type", "kind", "label", "status", "date", "time", "at",
		"created", "updated", "verified", "consent", "priority", "order", "index", "position",
		"carrier", "name", "description", "note", "notes", "code":
		return true
	}
	return false
}

func hasDigit(s string) bool {
	for _, r := range s {
		if unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// pathOf names the place of a value found under auto, for logs and denials.
// Keys are body bytes: one that is not a plain key of a modest length (a phone
// number used as a key, say) is written as "?", so no number reaches a log.
func pathOf(keys []string) string {
	if len(keys) == 1 { // the usual top-level "phone": no copy
		if plainKey(keys[0]) {
			return keys[0]
		}
		return "?"
	}
	var b strings.Builder
	n := len(keys)
	for _, k := range keys {
		n += len(k)
	}
	b.Grow(n)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('.')
		}
		if plainKey(k) {
			b.WriteString(k)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// plainKey: at most 64 bytes of letters, digits, _ and -, with at most three
// digits.
func plainKey(k string) bool {
	if len(k) > 64 {
		return false
	}
	digits := 0
	for _, r := range k {
		switch {
		case unicode.IsDigit(r):
			if digits++; digits > 3 {
				return false
			}
		case unicode.IsLetter(r), r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}
