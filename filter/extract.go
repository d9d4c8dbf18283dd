package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"slices"
	"strings"
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
)

// found is one value under a phone field.
type found struct {
	field string // where: a JSON path ("contacts[*].phone") or a form field name
	value string
}

// extract finds the values of fields in body, by its content type. A content
// type phonegate does not read is sniffed: a body that looks like JSON is read
// as JSON, anything else as a form.
func extract(contentType string, body []byte, fields []string) ([]found, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	m := newFieldMatcher(fields)
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType = ""
	}
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		return extractJSON(body, m)
	case mediaType == "application/x-www-form-urlencoded":
		return extractForm(body, m)
	case mediaType == "multipart/form-data":
		return extractMultipart(body, params["boundary"], m)
	}
	if trimmed := bytes.TrimSpace(body); trimmed[0] == '{' || trimmed[0] == '[' {
		return extractJSON(body, m)
	}
	return extractForm(body, m)
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

// extractJSON walks the body token by token, so duplicate keys are all seen
// (a map would keep only the last and let a body hide a bad number behind a
// good one). Strings and numbers under a wanted path are read; true, false and
// null are not numbers and are skipped.
func extractJSON(body []byte, m *fieldMatcher) ([]found, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out []found
	// Each frame is one open object or array: its path, and for objects the
	// key whose value comes next.
	type frame struct {
		path, key string
		inObject  bool
		wantKey   bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) > 0 {
				return nil, errors.New("JSON body ends inside a value")
			}
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("JSON body: %w", err)
		}
		// The path and key of the value this token starts.
		var path, key string
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if top.inObject && top.wantKey {
				if d, ok := tok.(json.Delim); ok && d == '}' {
					stack = stack[:n-1]
					continue
				}
				top.key, top.wantKey = tok.(string), false
				continue
			}
			if top.inObject {
				key = top.key
				path = joinPath(top.path, key)
				top.wantKey = true
			} else {
				// An array's elements take the array's own key, so
				// "phones": ["+1...", "+44..."] is read under auto.
				key = top.key
				path = top.path + "[*]"
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxJSONDepth {
					return nil, errTooDeep
				}
				stack = append(stack, frame{path: path, key: key, inObject: t == '{', wantKey: t == '{'})
			case ']':
				stack = stack[:len(stack)-1]
				// The enclosing object's next token is a key again: already set.
			}
		case string:
			if m.wants(path, key) {
				if out = append(out, found{path, t}); len(out) > maxNumbersPerBody {
					return nil, errTooManyNumbers
				}
			}
		case json.Number:
			if m.wants(path, key) {
				if out = append(out, found{path, t.String()}); len(out) > maxNumbersPerBody {
					return nil, errTooManyNumbers
				}
			}
		}
	}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// extractForm reads an application/x-www-form-urlencoded body; every value of
// a repeated key counts.
func extractForm(body []byte, m *fieldMatcher) ([]found, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("form body: %w", err)
	}
	var out []found
	for _, key := range sortedKeys(values) {
		if !m.wants(key, key) {
			continue
		}
		for _, v := range values[key] {
			if out = append(out, found{key, v}); len(out) > maxNumbersPerBody {
				return nil, errTooManyNumbers
			}
		}
	}
	return out, nil
}

// extractMultipart reads the text parts of a multipart/form-data body; file
// parts are skipped.
func extractMultipart(body []byte, boundary string, m *fieldMatcher) ([]found, error) {
	if boundary == "" {
		return nil, errors.New("multipart body without a boundary parameter")
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	var out []found
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("multipart body: %w", err)
		}
		name := part.FormName()
		if part.FileName() != "" || !m.wants(name, name) {
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, maxMultipartPartLen))
		if err != nil {
			return nil, fmt.Errorf("multipart body: part %q: %w", name, err)
		}
		if out = append(out, found{name, string(v)}); len(out) > maxNumbersPerBody {
			return nil, errTooManyNumbers
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
