package filter

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The key readers as they were first written: words as lower-cased strings
// (strings.ToLower), joined with strings.Join; attribute names compared with
// strings.EqualFold one by one; paths built with a strings.Builder.
// phoneLikeKey (from the end, with lastWord), isCountryKey, isAreaCodeKey,
// describesNumber, attributeKey and pathOf read keys in place now, and TestKeyReadersAgree and
// FuzzKeyReadersAgree hold them to these.

func referenceKeyWords(key string, words []string) []string {
	const (
		other = iota
		lower
		upper
		digit
	)
	class := func(r rune) int {
		switch {
		case unicode.IsDigit(r):
			return digit
		case unicode.IsUpper(r):
			return upper
		case unicode.IsLetter(r):
			return lower
		}
		return other
	}
	start, prev := -1, other
	flush := func(end int) {
		if start >= 0 && end > start {
			words = append(words, strings.ToLower(key[start:end]))
		}
		start = -1
	}
	for i := 0; i < len(key); {
		r, size := utf8.DecodeRuneInString(key[i:])
		c := class(r)
		switch {
		case c == other:
			flush(i)
		case start < 0:
			start = i
		case c == digit && prev != digit, c != digit && prev == digit:
			flush(i)
			start = i
		case c == upper && prev == lower:
			flush(i)
			start = i
		case c == lower && prev == upper && i-start > 1:
			_, lastSize := utf8.DecodeLastRuneInString(key[:i])
			flush(i - lastSize)
			start = i - lastSize
		}
		prev = c
		i += size
	}
	flush(len(key))
	return words
}

func referencePhoneLikeKey(key string) bool {
	words := referenceKeyWords(key, nil)
	for len(words) > 0 {
		w := words[len(words)-1]
		if phoneWords[w] {
			return true
		}
		if len(words) >= 2 && words[len(words)-2] == "contact" && (w == "number" || w == "no" || w == "num") {
			return true
		}
		if !phoneQualifiers[w] && !isDigits(w) {
			return false
		}
		words = words[:len(words)-1]
	}
	return false
}

func referenceIsCountryKey(key string) bool {
	switch strings.Join(referenceKeyWords(key, nil), "") {
	case "country", "countrycode", "countryiso", "countryiso2", "iso", "iso2", "region", "regioncode",
		"dialcode", "callingcode", "countrycallingcode", "countryprefix", "cc":
		return true
	}
	return false
}

func referenceIsAreaCodeKey(key string) bool {
	switch strings.Join(referenceKeyWords(key, nil), "") {
	case "areacode", "area", "citycode", "ndc":
		return true
	}
	return false
}

func referenceDescribesNumber(key string) bool {
	if referenceIsCountryKey(key) {
		return true
	}
	words := referenceKeyWords(key, nil)
	if len(words) == 0 {
		return false
	}
	switch strings.Join(words, "") {
	case "areacode", "area", "citycode", "ndc":
		return true
	}
	switch words[len(words)-1] {
	case "id", "ext", "extension", "type", "kind", "label", "status", "date", "time", "at",
		"created", "updated", "verified", "consent", "priority", "order", "index", "position",
		"carrier", "name", "description", "note", "notes", "code":
		return true
	}
	return false
}

// referenceAttributeKey is attribute's first reading of a key: each name
// compared with strings.EqualFold.
func referenceAttributeKey(k string) int {
	switch {
	case strings.EqualFold(k, "name"), strings.EqualFold(k, "key"), strings.EqualFold(k, "attribute"), strings.EqualFold(k, "attributename"),
		strings.EqualFold(k, "attribute_name"), strings.EqualFold(k, "field"), strings.EqualFold(k, "type"):
		return attrName
	case strings.EqualFold(k, "value"):
		return attrValue
	}
	return attrOther
}

// referencePathOf is pathOf as first written, with no case for one key.
func referencePathOf(keys []string) string {
	var b strings.Builder
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

// checkKeyReaders fails t when a key reader disagrees with its reference.
func checkKeyReaders(t *testing.T, key string) {
	t.Helper()
	var spans [8]wordSpan
	var got []string
	for _, w := range keyWords(key, spans[:0]) {
		got = append(got, strings.ToLower(w.of(key)))
	}
	if want := referenceKeyWords(key, nil); !slices.Equal(got, want) {
		t.Fatalf("keyWords(%q) = %q, reference %q", key, got, want)
	}
	// lastWord reads the same words from the end.
	var fromEnd []wordSpan
	for end := len(key); ; {
		w, ok := lastWord(key, end)
		if !ok {
			break
		}
		fromEnd = append(fromEnd, w)
		end = w.start
	}
	slices.Reverse(fromEnd)
	if words := keyWords(key, nil); !slices.Equal(fromEnd, words) {
		t.Fatalf("lastWord over %q reads %v, keyWords %v", key, fromEnd, words)
	}
	for _, c := range []struct {
		name      string
		got, want func(string) bool
	}{
		{"phoneLikeKey", phoneLikeKey, referencePhoneLikeKey},
		{"isCountryKey", isCountryKey, referenceIsCountryKey},
		{"isAreaCodeKey", isAreaCodeKey, referenceIsAreaCodeKey},
		{"describesNumber", describesNumber, referenceDescribesNumber},
	} {
		if got, want := c.got(key), c.want(key); got != want {
			t.Fatalf("%s(%q) = %v, reference %v", c.name, key, got, want)
		}
	}
	if got, want := attributeKey(key), referenceAttributeKey(key); got != want {
		t.Fatalf("attributeKey(%q) = %d, reference %d", key, got, want)
	}
	for _, keys := range [][]string{{key}, {"user", key}} {
		if got, want := pathOf(keys), referencePathOf(keys); got != want {
			t.Fatalf("pathOf(%q) = %q, reference %q", keys, got, want)
		}
	}
}

// keyParts are what generated keys are made of: every word the readers look
// up, and words and characters that split, join or fold differently.
func keyParts() []string {
	parts := []string{
		"number", "no", "num", "contact", "account", "headphones", "telegram", "hotel", "x", "a", "id", "2", "44", "007",
		"TEL", "Phone", "PHONE", "pHoNe", "SMS", "MSISDN", "Number", "NUMBER", "Country", "ISO", "Code",
		"_", "-", ".", "[", "]", " ", "", "0", "9", "٣", // ARABIC-INDIC DIGIT THREE: a digit, not an ASCII one
		"\u212a", // KELVIN SIGN: lower-cases to k
		"\u017f", // LATIN SMALL LETTER LONG S: folds to s, lower-cases to itself
		"\u0130", // LATIN CAPITAL LETTER I WITH DOT ABOVE: lower-cases to i, 2 bytes to 1
		"\u023a", // LATIN CAPITAL LETTER A WITH STROKE: lower-cases to 3 bytes from 2
		"\u01c5", // LATIN CAPITAL LETTER D WITH SMALL LETTER Z WITH CARON: title case, a letter not upper
		"É", "Ó", "é", "ó", "Ｐｈｏｎｅ", "ß", "ẞ", "Σ", "σ", "ς", "日本", "\u00a0", "\u2028", "\ufffd",
		"\xff", "\xc3", "\xe2\x84", // invalid UTF-8
		strings.Repeat("a", 40), strings.Repeat("1", 40), "countrycallingcodexxxxxxxxxxxxxxxxxxxx",
	}
	for _, set := range []map[string]bool{phoneWords, phoneQualifiers} {
		for w := range set {
			parts = append(parts, w, strings.ToUpper(w), strings.ToUpper(w[:1])+w[1:])
		}
	}
	for _, w := range []string{"country", "iso", "iso2", "region", "dial", "calling", "prefix", "cc", "area", "city", "ndc",
		"ext", "extension", "type", "verified", "description", "code", "created", "at",
		"name", "key", "attribute", "attributename", "attribute_name", "field", "value", "\u212aey", "attribute_nam"} {
		parts = append(parts, w, strings.ToUpper(w), strings.ToUpper(w[:1])+w[1:])
	}
	slices.Sort(parts) // the lists are maps: the same keys each run
	return parts
}

// TestKeyReadersAgree: the key readers give what their references give, on
// the keys of the corpus and extract's cases, and on 50,000 keys made of
// list words in every case, separators, digits and runes that lower-case to
// another length or to ASCII.
func TestKeyReadersAgree(t *testing.T) {
	keys := []string{"", "phone", "phoneNumber", "SMSNumber", "teléfono", "TELÉFONO", "Teléfono", "móvil", "MÓVIL",
		"contact_number", "contactNo", "phone_country_code", "área", "countryCode", "COUNTRY_CALLING_CODE", "phone_ext",
		"mob\u0130le", "\u212aey", "ph\u00d3ne", "PHONE_NUMBER_E164", "phone\xffnumber", "phone_" + strings.Repeat("1", 50)}
	bodies := []string{}
	for _, c := range loadCorpus(t) {
		bodies = append(bodies, c.body)
	}
	for _, c := range extractCases {
		bodies = append(bodies, c.body)
	}
	for _, body := range bodies {
		// Every run of letters, digits and _ - in a body is a key of some format.
		keys = append(keys, strings.FieldsFunc(body, func(r rune) bool {
			return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-')
		})...)
	}
	for _, k := range keys {
		checkKeyReaders(t, k)
	}
	parts := keyParts()
	rng := rand.New(rand.NewPCG(14, 3))
	for range 50_000 {
		var b strings.Builder
		for n := 1 + rng.IntN(5); n > 0; n-- {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		checkKeyReaders(t, b.String())
	}
}

// FuzzKeyReadersAgree: the same, on any key.
func FuzzKeyReadersAgree(f *testing.F) {
	for _, k := range []string{"phone_number", "SMSNumber", "teléfono", "MÓVIL", "contactNo", "country_code",
		"mob\u0130le", "\u212aey", "phone\xffnumber", "area_code", "PhoneType", "Ｐｈｏｎｅ", "Attribute_Name", "VALUE"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		checkKeyReaders(t, key)
	})
}
