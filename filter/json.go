package filter

import (
	"bytes"
	"errors"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// jsonTree reads a JSON body into t, token by token (jsontext, the streaming
// layer of the Go team's JSON v2), so that duplicate keys are all kept: a map
// would keep only one and let a body hide a bad number behind a good one.
// Several documents one after another are all read, since a decoder in the
// upstream may read any of them. The keys of a top-level object are the
// root's; any other top-level value sits under the root with no key.
func jsonTree(body []byte, t *tree) error {
	dec := jsontext.NewDecoder(bytes.NewReader(body),
		jsontext.AllowDuplicateNames(true), // every value counts: see above
		jsontext.AllowInvalidUTF8(true))    // judge the number, not the encoding
	type frame struct {
		idx     int32
		object  bool
		key     string // objects: the key whose value comes next
		haveKey bool
	}
	var stack []frame
	for {
		tok, err := dec.ReadToken()
		if err == io.EOF {
			if len(stack) > 0 {
				return &errBody{format: "JSON", offset: dec.InputOffset(), why: "unexpected end"}
			}
			return nil
		}
		if err != nil {
			return jsonError(err, dec.InputOffset())
		}
		kind := tok.Kind()
		parent, key := int32(0), ""
		if n := len(stack); n > 0 {
			f := &stack[n-1]
			switch {
			case f.object && !f.haveKey:
				if kind == '}' {
					stack = stack[:n-1]
				} else {
					f.key, f.haveKey = tok.String(), true
				}
				continue
			case kind == ']':
				stack = stack[:n-1]
				continue
			}
			parent = f.idx
			if f.object {
				key, f.haveKey = f.key, false
			}
		}
		switch kind {
		case '{', '[':
			if len(stack) >= maxDepth {
				return errTooDeep
			}
			idx := int32(0) // a top-level object is the root
			if len(stack) > 0 || kind == '[' {
				k := kindArray
				if kind == '{' {
					k = kindObject
				}
				if idx, err = t.add(parent, key, k, ""); err != nil {
					return err
				}
			}
			stack = append(stack, frame{idx: idx, object: kind == '{'})
		case '"':
			_, err = t.add(parent, key, kindString, tok.String())
		case '0':
			_, err = t.add(parent, key, kindNumber, tok.String())
		default: // true, false, null
			_, err = t.add(parent, key, kindLiteral, "")
		}
		if err != nil {
			return err
		}
	}
}

// jsonError reduces a decoder's error to its kind and byte offset: jsontext's
// messages quote the body (the offending character, the JSON pointer of the
// key, which may be a phone number) and errors are logged.
func jsonError(err error, offset int64) error {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		offset = se.ByteOffset
	}
	why := "syntax error"
	if errors.Is(err, io.ErrUnexpectedEOF) {
		why = "unexpected end"
	}
	return &errBody{format: "JSON", offset: offset, why: why}
}
