package policy

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AutoField is the field name that asks phonegate to find phone-like keys
// itself.
const AutoField = "auto"

// MaxFieldDepth is the most keys a field path may have; bodies nested deeper
// than this are refused by package filter anyway.
const MaxFieldDepth = 32

// Field is one entry of a route's `fields`: either [AutoField], or a path of
// keys from the top of the body. A path matches a key of the body when every
// key along the way is equal ignoring case; arrays on the way are passed
// through, so "contacts[*].phone" and "contacts.phone" name the same keys.
type Field struct {
	// Path is the field as written in the policy ("contacts[*].phone"); it is
	// what logs and decisions name.
	Path string
	// Auto is true for `auto`.
	Auto bool
	// Keys are the path's keys, in order, without the [*] marks.
	Keys []string
}

func (f Field) String() string { return f.Path }

// ParseField reads one entry of a route's `fields`. The grammar is
//
//	field = "auto" / path
//	path  = key *( "." key / "[*]" )
//	key   = 1*( letter / digit / "_" / "-" )
//
// "[*]" marks an array and may follow any key; it is documentation, since
// arrays are passed through either way. Anything else is refused with the
// reason: JSONPath's "$." root, "*" in place of a key, array indexes (a rule
// that reads only the first contact lets the second through), quotes and
// spaces.
func ParseField(s string) (Field, error) {
	if s == AutoField {
		return Field{Path: s, Auto: true}, nil
	}
	f := Field{Path: s}
	switch {
	case s == "":
		return f, fmt.Errorf("empty field: name a key such as phone or user.phone, or auto")
	case strings.HasPrefix(s, "$"):
		return f, fmt.Errorf("field %q: paths start at the top of the body without JSONPath's $, as in %q", s, strings.TrimLeft(strings.TrimPrefix(s, "$"), "."))
	}
	rest := s
	for {
		n := keyLen(rest)
		if n == 0 {
			return f, fieldError(s, rest)
		}
		f.Keys = append(f.Keys, rest[:n])
		rest = rest[n:]
		for strings.HasPrefix(rest, "[*]") {
			rest = rest[3:]
		}
		if rest == "" {
			break
		}
		if rest[0] != '.' {
			return f, fieldError(s, rest)
		}
		rest = rest[1:]
	}
	if len(f.Keys) > MaxFieldDepth {
		return f, fmt.Errorf("field %q has %d keys: at most %d", s, len(f.Keys), MaxFieldDepth)
	}
	return f, nil
}

// keyLen is the length in bytes of the key at the start of s: letters, digits,
// _ and -.
func keyLen(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-') {
			break
		}
		n += size
	}
	return n
}

// fieldError explains what is wrong where a path stops being a path.
func fieldError(s, rest string) error {
	switch {
	case strings.HasPrefix(rest, "*"):
		return fmt.Errorf("field %q: * is not a key; mark an array with [*], as in contacts[*].phone", s)
	case strings.HasPrefix(rest, "["):
		return fmt.Errorf("field %q: only [*] may follow a key (every element is read: an index would let the others through)", s)
	case strings.HasPrefix(rest, "."), rest == "":
		return fmt.Errorf("field %q: empty key; keys are joined by single dots, as in user.phone", s)
	}
	return fmt.Errorf("field %q: %q cannot be in a key; keys are letters, digits, _ and -", s, rest[:1])
}

// Matches reports whether keys, the keys from the top of a body to a value
// (array elements passed through), are the field's path, ignoring case as
// Go's encoding/json and ASP.NET bind them: "Phone" and "PHONE" are read as
// "phone" by the application, so they are read here too.
func (f Field) Matches(keys []string) bool {
	if f.Auto || len(keys) != len(f.Keys) {
		return false
	}
	for i, k := range keys {
		if !strings.EqualFold(k, f.Keys[i]) {
			return false
		}
	}
	return true
}
