package filter

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"
)

// jsonDecoder is a decoder and its reader, kept between bodies: a check
// reuses one instead of building its buffers again.
type jsonDecoder struct {
	dec   *jsontext.Decoder
	r     bytes.Reader
	stack []jsonFrame
}

type jsonFrame struct {
	idx     int32
	object  bool
	key     string // objects: the key whose value comes next
	haveKey bool
}

var (
	jsonOptions = []jsontext.Options{
		jsontext.AllowDuplicateNames(true), // every value counts: see jsonTree
		jsontext.AllowInvalidUTF8(true),    // judge the number, not the encoding
	}
	jsonDecoders = sync.Pool{New: func() any {
		return &jsonDecoder{dec: jsontext.NewDecoder(bytes.NewReader(nil), jsonOptions...)}
	}}
)

// jsonTree reads a JSON body into t, token by token (jsontext, the streaming
// layer of the Go team's JSON v2), so that duplicate keys are all kept: a map
// would keep only one and let a body hide a bad number behind a good one.
// Several documents one after another are all read, since a decoder in the
// upstream may read any of them. The keys of a top-level object are the
// root's; any other top-level value sits under the root with no key.
//
// Keys and strings are substrings of the body itself (unquoted apart only
// when they hold an escape), so a body costs no string of its own: body
// must not change afterwards. Every body is phonegate's own (the gRPC
// codec's copy of the message, the HTTP request read, a decompressed body,
// Check's copy of a caller's raw_body), written once and never again, and
// what outlives a check is copied (the engine clones what it caches).
func jsonTree(body []byte, t *tree) error {
	src := unsafe.String(unsafe.SliceData(body), len(body))
	d := jsonDecoders.Get().(*jsonDecoder)
	defer func() {
		d.r.Reset(nil)
		d.dec.Reset(&d.r, jsonOptions...)
		d.stack = d.stack[:0]
		jsonDecoders.Put(d)
	}()
	d.r.Reset(body)
	d.dec.Reset(&d.r, jsonOptions...)
	dec := d.dec
	// A body of valid UTF-8 with no escape, the usual one, holds only strings
	// that are their bytes between the quotes: one look at the body answers
	// for all of them.
	plain := bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body)
	// str reads the string value (or object name) next in the input.
	str := func() (string, error) {
		raw, err := dec.ReadValue()
		if err != nil {
			return "", err
		}
		end := int(dec.InputOffset())
		if (plain || bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw)) && end >= len(raw) && end <= len(src) {
			return src[end-len(raw)+1 : end-1], nil
		}
		if unq, err := jsontext.AppendUnquote(nil, raw); err == nil {
			return string(unq), nil
		}
		// An escape AppendUnquote refuses (a lone surrogate, invalid
		// UTF-8): read it as the decoder's options do, leniently.
		d := jsontext.NewDecoder(bytes.NewReader(raw), jsonOptions...)
		tok, err := d.ReadToken()
		if err != nil {
			return "", err
		}
		return tok.String(), nil
	}
	for {
		kind := dec.PeekKind()
		if kind == 0 { // the end, or an error ReadToken reports
			_, err := dec.ReadToken()
			if err == io.EOF {
				if len(d.stack) > 0 {
					return &errBody{format: "JSON", offset: dec.InputOffset(), why: "unexpected end"}
				}
				return nil
			}
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return jsonError(err, dec.InputOffset())
		}
		parent, key := int32(0), ""
		if n := len(d.stack); n > 0 {
			f := &d.stack[n-1]
			switch {
			case f.object && !f.haveKey:
				if kind == '}' {
					if _, err := dec.ReadToken(); err != nil {
						return jsonError(err, dec.InputOffset())
					}
					d.stack = d.stack[:n-1]
				} else {
					name, err := str()
					if err != nil {
						return jsonError(err, dec.InputOffset())
					}
					f.key, f.haveKey = name, true
				}
				continue
			case kind == ']':
				if _, err := dec.ReadToken(); err != nil {
					return jsonError(err, dec.InputOffset())
				}
				d.stack = d.stack[:n-1]
				continue
			}
			parent = f.idx
			if f.object {
				key, f.haveKey = f.key, false
			}
		}
		var err error
		switch kind {
		case '{', '[':
			if _, err := dec.ReadToken(); err != nil {
				return jsonError(err, dec.InputOffset())
			}
			if len(d.stack) >= maxDepth {
				return errTooDeep
			}
			idx := int32(0) // a top-level object is the root
			if len(d.stack) > 0 || kind == '[' {
				k := kindArray
				if kind == '{' {
					k = kindObject
				}
				if idx, err = t.add(parent, key, k, ""); err != nil {
					return err
				}
			}
			d.stack = append(d.stack, jsonFrame{idx: idx, object: kind == '{'})
			continue
		case '"':
			var v string
			if v, err = str(); err != nil {
				return jsonError(err, dec.InputOffset())
			}
			_, err = t.add(parent, key, kindString, v)
		case '0':
			raw, rerr := dec.ReadValue()
			if rerr != nil {
				return jsonError(rerr, dec.InputOffset())
			}
			end := int(dec.InputOffset())
			_, err = t.add(parent, key, kindNumber, src[end-len(raw):end])
		default: // true, false, null
			if _, rerr := dec.ReadToken(); rerr != nil {
				return jsonError(rerr, dec.InputOffset())
			}
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
