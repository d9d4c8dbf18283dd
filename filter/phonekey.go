package filter

import (
	"strings"
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

// phoneLikeKey reports whether `auto` reads the value of key.
func phoneLikeKey(key string) bool {
	var buf [8]string
	words := keyWords(key, buf[:0])
	for len(words) > 0 {
		w := words[len(words)-1]
		if phoneWords[w] {
			return true
		}
		// "contact_number" is a phone number; "account_number" is not.
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

// keyWords splits key into lower-case words (see the top of this file).
func keyWords(key string, words []string) []string {
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
			flush(i) // letters and digits part
			start = i
		case c == upper && prev == lower:
			flush(i) // camelCase
			start = i
		case c == lower && prev == upper && i-start > 1:
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
