package filter

import (
	"unicode"
	"unicode/utf8"
)

// Which keys `auto` reads. A key is read by its words, never by a substring:
// "headphones", "microphone", "iphone", "telegram" and "hotel" hold a phone
// word's letters but are not about phone numbers.
//
// The words of a key are split at anything that is not a letter or digit
// (_ - . brackets, spaces), at lower-to-upper case changes (camelCase), and
// between letters and digits. A key names a phone number when its last word,
// after dropping trailing qualifiers (number, no, e164, home, work, primary,
// digits, ...), is a phone word: phone_number, phoneNumber, mobile_phone,
// home_phone, phone2, whatsapp_number and msisdn are read; phone_verified,
// phone_country_code, sms_opt_in and mobile_os are not, since their values
// are facts about a number, not the number.

// phoneWords are the words that name a phone number, lower case.
var phoneWords = wordSet(
	"phone", "phones", "telephone", "telephones", "tel", "tels", "mobile", "mobiles",
	"msisdn", "msisdns", "cell", "cellphone", "cellphones", "cellular", "whatsapp", "sms",
	// Compounds written as one word.
	"phonenumber", "phonenumbers", "phoneno", "mobilenumber", "mobileno", "mobilephone",
	"cellnumber", "telnumber", "telno", "telephonenumber", "smsnumber", "whatsappnumber",
	"homephone", "workphone", "businessphone", "officephone", "contactphone", "userphone",
	"customerphone", "primaryphone", "mainphone", "altphone", "dayphone", "eveningphone",
	"emergencyphone", "billingphone", "shippingphone", "contactnumber", "contactno",
	// Other languages' words for a phone number, common in APIs.
	"telefon", "telefono", "telefone", "teléfono", "celular", "movil", "móvil", "handynummer",
)

// phoneQualifiers may follow a phone word in a key that still holds the number.
var phoneQualifiers = wordSet(
	"number", "numbers", "num", "no", "nr", "nbr", "e", "e164", "intl", "international",
	"national", "local", "raw", "formatted", "full", "value", "digits", "home", "work",
	"office", "business", "personal", "private", "primary", "secondary", "alt", "alternate",
	"alternative", "other", "main", "day", "evening", "night", "emergency", "contact",
	"confirmation", "confirm", "new", "input",
)

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// wordKinds are phoneWords and phoneQualifiers in one map, so that a word
// in neither, the usual one, costs one look-up.
var wordKinds = func() map[string]uint8 {
	m := make(map[string]uint8, len(phoneWords)+len(phoneQualifiers))
	for w := range phoneWords {
		m[w] |= wordPhone
	}
	for w := range phoneQualifiers {
		m[w] |= wordQualifier
	}
	return m
}()

const (
	wordPhone     = 1 << iota // in phoneWords
	wordQualifier             // in phoneQualifiers
)

// phoneLikeKey reports whether `auto` reads the value of key. It runs for
// every key of every body, so it reads the key in place, from its end: most
// keys are refused by their last word ("email", "first_name"), and no word
// is copied to the heap; a word is lower-cased into a buffer on the stack
// only to be looked up.
func phoneLikeKey(key string) bool {
	for end := len(key); ; {
		word, ok := lastWord(key, end)
		if !ok {
			return false
		}
		var lw [maxWordLen]byte
		w, fits := word.lower(key, lw[:0])
		var kind uint8
		if fits {
			kind = wordKinds[string(w)]
		}
		if kind&wordPhone != 0 {
			return true
		}
		// "contact_number" is a phone number; "account_number" is not.
		if fits && (string(w) == "number" || string(w) == "no" || string(w) == "num") {
			if prev, ok := lastWord(key, word.start); ok {
				var lp [maxWordLen]byte
				if p, fits := prev.lower(key, lp[:0]); fits && string(p) == "contact" {
					return true
				}
			}
		}
		if kind&wordQualifier == 0 && !isDigits(word.of(key)) {
			return false
		}
		end = word.start
	}
}

// lastWord is the last word of key[:end], the one keyWords would read last,
// or false when there is none. The rules of keyWords read from the end: a
// word is a run of digits, a run of capitals, or a run of lower-case letters
// with the one capital before it ("SMSNumber" -> SMS, Number).
func lastWord(key string, end int) (wordSpan, bool) {
	c, size := uint8(classOther), 0
	for ; end > 0; end -= size {
		if b := key[end-1]; b < utf8.RuneSelf {
			c, size = asciiClass[b], 1
		} else {
			c, size = lastRuneClass(key[:end])
		}
		if c != classOther {
			break
		}
	}
	if end == 0 {
		return wordSpan{}, false
	}
	start := end - size
	for start > 0 {
		pc, psize := uint8(0), 1
		if b := key[start-1]; b < utf8.RuneSelf {
			pc = asciiClass[b]
		} else {
			pc, psize = lastRuneClass(key[:start])
		}
		if pc != c {
			if c == classLower && pc == classUpper {
				start -= psize
			}
			break
		}
		start -= psize
	}
	return wordSpan{start, end}, true
}

// lastRuneClass is the class of the last rune of s and its size.
func lastRuneClass(s string) (uint8, int) {
	r, size := utf8.DecodeLastRuneInString(s)
	return charClass(r), size
}

// maxWordLen bounds a word, or a key's words joined, as lower-cased for a
// look-up: longer than any word of the lists here and in walk.go, so a
// longer one is in none of them.
const maxWordLen = 32

// wordSpan is one word of a key: key[start:end].
type wordSpan struct{ start, end int }

func (s wordSpan) of(key string) string { return key[s.start:s.end] }

// lower appends the word, lower-cased as strings.ToLower does, to dst, and
// reports whether it fits in dst's capacity; a word that does not is longer
// than any word looked up.
func (s wordSpan) lower(key string, dst []byte) ([]byte, bool) {
	return appendLower(dst, key[s.start:s.end])
}

// appendLower appends s lower-cased rune by rune (strings.ToLower's mapping,
// unicode.ToLower) to dst while it fits in dst's capacity.
func appendLower(dst []byte, s string) ([]byte, bool) {
	n := len(dst)
	if len(s) > cap(dst)-n {
		return appendLowerRunes(dst, s) // fits only if runes past ASCII shrink
	}
	dst = dst[:n+len(s)]
	out := dst[n:]
	for i := 0; i < len(s) && i < len(out); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return appendLowerRunes(dst[:n+i], s[i:])
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return dst, true
}

// appendLowerRunes is appendLower for any s.
func appendLowerRunes(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if len(dst) == cap(dst) {
				return dst, false
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		r = unicode.ToLower(r)
		if len(dst)+utf8.RuneLen(r) > cap(dst) {
			return dst, false
		}
		dst = utf8.AppendRune(dst, r)
		i += size
	}
	return dst, true
}

// joinedWords appends a key's words, lower-cased, with nothing between them
// ("country_code", "countryCode" -> "countrycode") to dst, and reports
// whether they fit in dst's capacity.
func joinedWords(key string, words []wordSpan, dst []byte) ([]byte, bool) {
	for _, w := range words {
		var ok bool
		if dst, ok = w.lower(key, dst); !ok {
			return dst, false
		}
	}
	return dst, true
}

// Classes of a key's characters, for splitting it into words.
const (
	classOther = iota
	classLower // a letter that is not upper case
	classUpper
	classDigit
)

func charClass(r rune) uint8 {
	switch {
	case unicode.IsDigit(r):
		return classDigit
	case unicode.IsUpper(r):
		return classUpper
	case unicode.IsLetter(r):
		return classLower
	}
	return classOther
}

// asciiClass is charClass of each ASCII character.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		t[c] = charClass(rune(c))
	}
	return t
}()

// keyWords splits key into words (see the top of this file), appended to
// words as spans of key.
func keyWords(key string, words []wordSpan) []wordSpan {
	start, prev := -1, uint8(classOther)
	flush := func(end int) {
		if start >= 0 && end > start {
			words = append(words, wordSpan{start, end})
		}
		start = -1
	}
	for i := 0; i < len(key); {
		var c uint8
		size := 1
		if b := key[i]; b < utf8.RuneSelf {
			c = asciiClass[b]
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(key[i:])
			c = charClass(r)
		}
		switch {
		case c == classOther:
			flush(i)
		case start < 0:
			start = i
		case c == classDigit && prev != classDigit, c != classDigit && prev == classDigit:
			flush(i) // letters and digits part
			start = i
		case c == classUpper && prev == classLower:
			flush(i) // camelCase
			start = i
		case c == classLower && prev == classUpper && i-start > 1:
			// "SMSNumber": the last capital starts the next word.
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

func isDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}
