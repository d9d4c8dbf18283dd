package filter

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/phonegate/phonegate/policy"
)

// Errors of extraction. Each makes the body unparsable for the route.
var (
	errTooManyNumbers = fmt.Errorf("more than %d phone numbers in one body", maxNumbersPerBody)
	// errContentTypeMismatch: the body is JSON but declared a form, and the
	// route refuses such bodies.
	errContentTypeMismatch = errors.New("the body is JSON but its content type says a form")
)

// body is a request body read into a tree of keys, with what the free-text
// pass needs.
type body struct {
	tree *tree
	text bool // the body is free text: its one value is read by the free-text pass only
}

// readBody reads a body into a tree, by what it is. The declared content type
// is believed when the body fits it; a body that is plainly JSON under a form
// type (an attempt to slip past a parser the upstream does not share) is read
// as JSON, or refused when mismatch is policy.MismatchReject. An undeclared or
// unknown type is sniffed: JSON, else a form, else free text. A content type
// whose parameters do not parse is judged by its media type alone: it decides
// how to read the body, never the outcome. GraphQL documents
// (application/graphql, or the "query" of a JSON GraphQL request, batched or
// not) add their arguments to the tree (graphql.go).
func readBody(contentType string, raw []byte, mismatch policy.Mismatch) (*body, error) {
	trimmed := bytes.TrimSpace(raw)
	b := &body{tree: newTree(len(trimmed) / 16)}
	if len(trimmed) == 0 {
		return b, nil
	}
	mediaType, params, err := parseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
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
	t := b.tree
	switch {
	case declaredJSON:
		if err := jsonTree(raw, t); err != nil {
			return nil, err
		}
		return b, graphQLOverJSON(t)
	case mediaType == "application/x-www-form-urlencoded":
		return b, formTree(trimmed, t)
	case mediaType == "multipart/form-data":
		return b, multipartTree(raw, params["boundary"], t)
	case mediaType == "application/graphql":
		if _, err := t.add(0, "", kindString, string(raw)); err != nil {
			return nil, err
		}
		return b, graphQLTree(string(raw), t, 0)
	}
	// Sniffed: a body that only looks like JSON or a form and is not one is
	// text ("[URGENT] call me"), never a reason to refuse.
	switch {
	case looksJSON:
		if err := jsonTree(raw, t); err == nil {
			return b, graphQLOverJSON(t)
		} else if errLimit(err) {
			return nil, err
		}
	case looksLikeForm(trimmed):
		if err := formTree(trimmed, t); err == nil {
			return b, nil
		} else if errLimit(err) {
			return nil, err
		}
	}
	b.tree.release()
	b.tree = newTree(1)
	b.text = true
	_, err = b.tree.add(0, "", kindString, string(raw)) // text/plain, ...
	return b, err
}

// graphQLOverJSON adds the arguments of a JSON GraphQL request's document to
// the tree. A "query" that does not parse as GraphQL is left as text: a
// signup API may have a search query field of its own.
func graphQLOverJSON(t *tree) error {
	roots := []int32{0}
	for c := t.nodes[0].first; c >= 0; c = t.nodes[c].next {
		if t.nodes[c].key == "" && t.nodes[c].kind == kindArray {
			// A batch: [{"query": ...}, {"query": ...}].
			for e := t.nodes[c].first; e >= 0; e = t.nodes[e].next {
				roots = append(roots, e)
			}
		}
	}
	for _, r := range roots {
		doc, ok := isGraphQLRequest(t, r)
		if !ok {
			continue
		}
		if err := graphQLTree(doc, t, r); err != nil && errLimit(err) {
			return err
		}
	}
	return nil
}

// looksLikeForm: key=value pairs joined by &, with no spaces or line breaks
// (which a form encodes) — not prose that happens to hold an "=".
func looksLikeForm(b []byte) bool {
	return bytes.IndexByte(b, '=') > 0 && !bytes.ContainsAny(b, " \t\r\n")
}

// extract finds the values that fields name in b (see walker), and under
// `auto`, when no phone-like key holds a value, numbers written in the text
// of the body, using region for numbers without a country code.
func extract(b *body, fields []policy.Field, region string) ([]found, error) {
	w := newWalker(b.tree, fields)
	defer w.release()
	if !b.text {
		w.walk(0)
	} else if w.auto {
		w.texts = append(w.texts, b.tree.nodes[1].value)
	}
	if w.err != nil {
		return nil, w.err
	}
	if len(w.out) == 0 && w.auto {
		return findInText(w.texts, region), nil
	}
	// The values outlive the walker, which goes back to the pool.
	out := make([]found, len(w.out))
	copy(out, w.out)
	return out, nil
}

// valueAt is the first non-blank value at field in b, for a route's region
// hint from a body field.
func valueAt(b *body, field policy.Field) string {
	w := newWalker(b.tree, []policy.Field{field})
	defer w.release()
	w.walk(0)
	for _, f := range w.out {
		return f.value
	}
	return ""
}

// Bounds on the free-text pass: how much text, and how many candidates the
// matcher may reject, per body.
const (
	maxFreeText       = 16 << 10
	maxFreeTextTries  = 64
	freeTextFieldName = "(text)"
)

// findInText finds numbers written in free text: possible numbers, not only
// valid ones, so a made-up number in a message is still judged; but only
// those of a full number's length, since a year or a short code in a text
// field is possible as a number dialled locally and is not a phone number.
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
			if phonenumbers.IsPossibleNumberWithReason(match.Number()) != phonenumbers.IS_POSSIBLE {
				continue
			}
			if out = append(out, found{field: freeTextFieldName, value: match.RawString()}); len(out) >= maxNumbersPerBody {
				return out
			}
		}
	}
	return out
}

// parseMediaType is mime.ParseMediaType with a fast path for the usual
// parameterless, lower-case type ("application/json"), which it would parse
// to itself with a map of no parameters.
func parseMediaType(ct string) (string, map[string]string, error) {
	slash := strings.IndexByte(ct, '/')
	if slash <= 0 || slash == len(ct)-1 {
		return mime.ParseMediaType(ct)
	}
	for i := 0; i < len(ct); i++ {
		c := ct[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i == slash || strings.IndexByte("!#$&^_.+-", c) >= 0) {
			return mime.ParseMediaType(ct)
		}
	}
	return ct, nil, nil
}
