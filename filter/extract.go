package filter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"slices"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/nyaruka/phonenumbers/v2"
	"github.com/phonegate/phonegate/policy"
)

// AutoField is the field name that asks for phone-like keys to be found.
const AutoField = "auto"

// Limits bound what one body may cost to read.
const (
	maxJSONDepth        = 32
	maxNumbersPerBody   = 16
	maxMultipartPartLen = 64 << 10
)

// Errors of extraction. Each makes the body unparsable for the route.
var (
	errTooDeep        = fmt.Errorf("JSON nested deeper than %d levels", maxJSONDepth)
	errTooManyNumbers = fmt.Errorf("more than %d phone numbers in one body", maxNumbersPerBody)
	// errContentTypeMismatch: the body is JSON but declared a form, and the
	// route refuses such bodies.
	errContentTypeMismatch = errors.New("the body is JSON but its content type says a form")
)

// found is one value under a phone field.
type found struct {
	field string // where: a JSON path ("contacts[*].phone") or a form field name
	value string
}

// extract finds the values of fields in body, by what the body is. The
// declared content type is believed when the body fits it; a body that is
// plainly JSON under another declared type (an attempt to slip past a parser
// the upstream does not share) is parsed as JSON, or refused when mismatch
// is policy.MismatchReject. An undeclared or unknown type is sniffed: JSON,
// else a form, else free text. With `auto`, when no phone-like key holds a
// value, numbers written in the text itself are found with libphonenumber's
// matcher, using region for numbers without a country code.
func extract(contentType string, body []byte, fields []string, region string, mismatch policy.Mismatch) ([]found, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, nil
	}
	m := newFieldMatcher(fields)
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType = ""
	}
	looksJSON := trimmed[0] == '{' || trimmed[0] == '['
	declaredJSON := mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
	declaredForm := mediaType == "application/x-www-form-urlencoded" || mediaType == "multipart/form-data"
	if declaredForm && looksJSON {
		if mismatch == policy.MismatchReject {
			return nil, errContentTypeMismatch
		}
		declaredJSON, declaredForm = true, false
	}

	var out []found
	var texts []string // string values, for the free-text pass
	switch {
	case declaredJSON:
		out, texts, err = extractJSON(body, m)
	case mediaType == "application/x-www-form-urlencoded":
		out, texts, err = extractForm(body, m)
	case mediaType == "multipart/form-data":
		out, texts, err = extractMultipart(body, params["boundary"], m)
	case looksJSON:
		out, texts, err = extractJSON(body, m)
	case looksLikeForm(trimmed):
		out, texts, err = extractForm(body, m)
	default:
		texts = []string{string(body)} // text/plain, application/graphql, ...
	}
	if err != nil {
		return nil, err
	}
	if len(out) == 0 && m.auto {
		out = findInText(texts, region)
	}
	return out, nil
}

// looksLikeForm: key=value pairs joined by &, with no spaces or line breaks
// (which a form encodes) — not prose that happens to hold an "=".
func looksLikeForm(b []byte) bool {
	return bytes.IndexByte(b, '=') > 0 && !bytes.ContainsAny(b, " \t\r\n")
}

// Bounds on the free-text pass: how much text, and how many candidates the
// matcher may reject, per body.
const (
	maxFreeText       = 16 << 10
	maxFreeTextTries  = 64
	freeTextFieldName = "(text)"
)

// findInText finds numbers written in free text: possible numbers, not only
// valid ones, so a made-up number in a message is still judged.
func findInText(texts []string, region string) []found {
	var out []found
	budget := maxFreeText
	for _, t := range texts {
		if budget <= 0 {
			break
		}
		if len(t) > budget {
			t = t[:budget]
		}
		budget -= len(t)
		for match := range phonenumbers.FindNumbersWithLeniency(t, region, phonenumbers.POSSIBLE, maxFreeTextTries) {
			if out = append(out, found{freeTextFieldName, match.RawString()}); len(out) >= maxNumbersPerBody {
				return out
			}
		}
	}
	return out
}

// fieldMatcher says whether a JSON path or form field name is one to read.
type fieldMatcher struct {
	auto  bool
	paths []string
}

func newFieldMatcher(fields []string) *fieldMatcher {
	m := &fieldMatcher{}
	for _, f := range fields {
		if f == AutoField {
			m.auto = true
		} else {
			m.paths = append(m.paths, f)
		}
	}
	return m
}

// wants reports whether the value at path, whose last key is key, is read.
func (m *fieldMatcher) wants(path, key string) bool {
	return slices.Contains(m.paths, path) || (m.auto && phoneLikeKey(key))
}

// phoneLikeKeys are the normalised names (lower case, no _ - . or spaces) that
// `auto` reads; phoneLikeSuffixes catch home_phone, user_mobile_number and kin.
var (
	phoneLikeKeys     = []string{"tel", "cell", "msisdn", "mobile", "phone", "telephone", "phoneno", "phonenum"}
	phoneLikeSuffixes = []string{"phone", "phonenumber", "mobilenumber", "mobile", "msisdn", "telephone", "cellphone", "cellnumber", "telnumber"}
)

func phoneLikeKey(key string) bool {
	k := strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.', ' ':
			return -1
		}
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, key)
	// Plurals name lists of numbers: "phones", "mobile_numbers".
	if len(k) > 4 && strings.HasSuffix(k, "s") {
		k = k[:len(k)-1]
	}
	if slices.Contains(phoneLikeKeys, k) {
		return true
	}
	for _, s := range phoneLikeSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// extractJSON walks the body token by token (jsontext, the streaming layer
// of the Go team's JSON v2), so duplicate keys are all seen: a map would keep
// only the last and let a body hide a bad number behind a good one. Strings
// and numbers under a wanted path are read; true, false and null are not
// numbers and are skipped. Paths are only built for values that need one.
func extractJSON(body []byte, m *fieldMatcher) (out []found, texts []string, err error) {
	dec := jsontext.NewDecoder(bytes.NewReader(body),
		jsontext.AllowDuplicateNames(true), // every value counts: see above
		jsontext.AllowInvalidUTF8(true))    // judge the number, not the encoding
	// Each frame is one open object or array.
	type frame struct {
		seg      string // its segment in its parent's path: a key, "[*]", or "" at the top
		key      string // objects: the key whose value comes next; arrays: the array's own key
		inObject bool
		wantKey  bool
	}
	var stack []frame
	// pathOf is the path of a value whose own segment is last.
	pathOf := func(last string) string {
		var b strings.Builder
		for _, f := range append(stack[1:len(stack):len(stack)], frame{seg: last}) {
			switch {
			case f.seg == "[*]":
				b.WriteString("[*]")
			case b.Len() > 0:
				b.WriteByte('.')
				b.WriteString(f.seg)
			default:
				b.WriteString(f.seg)
			}
		}
		return b.String()
	}
	for {
		tok, err := dec.ReadToken()
		if err == io.EOF {
			if len(stack) > 0 {
				return nil, nil, errors.New("JSON body ends inside a value")
			}
			return out, texts, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("JSON body: %w", err)
		}
		kind := tok.Kind()
		// The segment and key of the value this token starts.
		var seg, key string
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if top.inObject && top.wantKey {
				if kind == '}' {
					stack = stack[:n-1]
					continue
				}
				top.key, top.wantKey = tok.String(), false
				continue
			}
			if top.inObject {
				seg, key = top.key, top.key
				top.wantKey = true
			} else {
				// An array's elements take the array's own key, so
				// "phones": ["+1...", "+44..."] is read under auto.
				seg, key = "[*]", top.key
			}
		}
		switch kind {
		case '{', '[':
			if len(stack) >= maxJSONDepth {
				return nil, nil, errTooDeep
			}
			stack = append(stack, frame{seg: seg, key: key, inObject: kind == '{', wantKey: kind == '{'})
		case ']':
			stack = stack[:len(stack)-1]
		case '"', '0':
			if len(stack) == 0 {
				continue // a bare scalar body has no field
			}
			byKey := m.auto && phoneLikeKey(key)
			var path string
			if byKey || len(m.paths) > 0 {
				path = pathOf(seg)
			}
			if byKey || slices.Contains(m.paths, path) {
				if out = append(out, found{path, tok.String()}); len(out) > maxNumbersPerBody {
					return nil, nil, errTooManyNumbers
				}
			} else if m.auto && kind == '"' {
				texts = append(texts, tok.String())
			}
		}
	}
}

// extractForm reads an application/x-www-form-urlencoded body; every value of
// a repeated key counts.
func extractForm(body []byte, m *fieldMatcher) (out []found, texts []string, err error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, nil, fmt.Errorf("form body: %w", err)
	}
	for _, key := range sortedKeys(values) {
		if !m.wants(key, key) {
			if m.auto {
				texts = append(texts, values[key]...)
			}
			continue
		}
		for _, v := range values[key] {
			if out = append(out, found{key, v}); len(out) > maxNumbersPerBody {
				return nil, nil, errTooManyNumbers
			}
		}
	}
	return out, texts, nil
}

// extractMultipart reads the text parts of a multipart/form-data body; file
// parts are skipped.
func extractMultipart(body []byte, boundary string, m *fieldMatcher) (out []found, texts []string, err error) {
	if boundary == "" {
		return nil, nil, errors.New("multipart body without a boundary parameter")
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			return out, texts, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("multipart body: %w", err)
		}
		name := part.FormName()
		if part.FileName() != "" {
			continue
		}
		wanted := m.wants(name, name)
		if !wanted && !m.auto {
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, maxMultipartPartLen))
		if err != nil {
			return nil, nil, fmt.Errorf("multipart body: part %q: %w", name, err)
		}
		if !wanted {
			texts = append(texts, string(v))
			continue
		}
		if out = append(out, found{name, string(v)}); len(out) > maxNumbersPerBody {
			return nil, nil, errTooManyNumbers
		}
	}
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
