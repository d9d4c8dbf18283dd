package filter

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/url"
	"strings"
)

// maxMultipartPartLen bounds what is read of one text part of a multipart body.
const maxMultipartPartLen = 64 << 10

// formTree reads an application/x-www-form-urlencoded body into t. Every pair
// counts, a repeated name included, and names are read as the web frameworks
// bind them (see insertFormValue).
func formTree(body []byte, t *tree) error {
	for pair := range strings.SplitSeq(string(body), "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(name)
		value, err2 := url.QueryUnescape(value)
		if err1 != nil || err2 != nil {
			return &errBody{format: "form", offset: -1, why: "malformed percent-encoding"}
		}
		if err := insertFormValue(t, name, value); err != nil {
			return err
		}
	}
	return nil
}

// multipartTree reads the text parts of a multipart/form-data body into t, by
// their names as formTree reads them; file parts are skipped.
func multipartTree(body []byte, boundary string, t *tree) error {
	if boundary == "" {
		return &errBody{format: "multipart", offset: -1, why: "no boundary parameter"}
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// multipart's messages quote the part's headers: keep the kind.
			return &errBody{format: "multipart", offset: -1, why: "malformed part"}
		}
		if part.FileName() != "" {
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, maxMultipartPartLen))
		if err != nil {
			return &errBody{format: "multipart", offset: -1, why: "malformed part"}
		}
		if err := insertFormValue(t, part.FormName(), string(v)); err != nil {
			return err
		}
	}
}

// insertFormValue places one form value in the tree by its name, the way
// Rails, PHP, Express (qs) and Spring bind names: "user[phone]" and
// "user.phone" are the key phone of the object user, "phone[]" an element of
// the array phone, "contacts[0][phone]" the key phone of an element of the
// array contacts. Pairs that share a prefix share its objects, so
// "phone[number]" and "phone[country]" are siblings. An unclosed bracket is
// part of the key.
func insertFormValue(t *tree, name, value string) error {
	var buf [8]string // room for the usual name's keys, on the stack
	segs := formName(name, buf[:0])
	if len(segs) > maxDepth {
		return errTooDeep
	}
	parent := int32(0)
	for i, seg := range segs[:len(segs)-1] {
		// The container's kind comes from what the next segment is.
		kind := kindObject
		if next := segs[i+1]; next == "" || isIndex(next) {
			kind = kindArray
		}
		key := seg
		if t.nodes[parent].kind == kindArray && seg == "" {
			// "a[][b]": each empty index starts a new element.
			idx, err := t.add(parent, "", kind, "")
			if err != nil {
				return err
			}
			parent = idx
			continue
		}
		idx := t.child(parent, key, kind)
		if idx < 0 {
			var err error
			if idx, err = t.add(parent, key, kind, ""); err != nil {
				return err
			}
		}
		parent = idx
	}
	last := segs[len(segs)-1]
	if t.nodes[parent].kind == kindArray {
		last = "" // an element: its index is not a key
	}
	_, err := t.add(parent, last, kindString, value)
	return err
}

// formName splits a form field name into its keys, appended to segs:
// "a[b][0].c" -> a, b, 0, c. Dots separate keys outside brackets; a
// bracket's content is one key, empty for "[]".
func formName(name string, segs []string) []string {
	start := 0 // of the key being read outside brackets
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '.':
			segs = append(segs, name[start:i])
			start = i + 1
		case '[':
			end := strings.IndexByte(name[i:], ']')
			if end < 0 {
				return append(segs, name[start:]) // unclosed: part of the key
			}
			if i > start || len(segs) == 0 {
				segs = append(segs, name[start:i])
			}
			segs = append(segs, name[i+1:i+end])
			i += end
			if i+1 < len(name) && name[i+1] == '.' {
				i++
			}
			start = i + 1
		}
	}
	if start < len(name) || len(segs) == 0 {
		segs = append(segs, name[start:])
	}
	return segs
}

// isIndex reports whether a bracket segment is an array index.
func isIndex(s string) bool {
	if s == "" || len(s) > 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
