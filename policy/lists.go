package policy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"go.yaml.in/yaml/v3"
)

// List is a named list of numbers and prefixes an operator maintains (test
// numbers that may bypass velocity, numbers the fraud team blocks, ...),
// read from a file a policy names. Rules read it with CEL's `in`:
//
//	insight.e164 in lists.qa_numbers
//
// holds when the list has the number itself, or a prefix of it. A List is
// immutable once loaded.
type List struct {
	Name string
	// File is the file it was read from, resolved against the policy file.
	File     string
	numbers  map[string]struct{}
	prefixes map[string]struct{}
	shortest int      // length of the shortest prefix, 0 without prefixes
	digest   [32]byte // SHA-256 of the file: part of the set's hash
}

// The bounds of lists: a list file over them is refused at load.
const (
	MaxLists       = 64
	MaxListEntries = 100_000
	MaxListBytes   = 4 << 20
)

// Len is how many numbers and prefixes the list holds.
func (l *List) Len() int { return len(l.numbers) + len(l.prefixes) }

// Contains reports whether the list holds e164 or a prefix of it. An empty
// string (a number that did not parse) is in no list.
func (l *List) Contains(e164 string) bool {
	if e164 == "" {
		return false
	}
	if _, ok := l.numbers[e164]; ok {
		return true
	}
	if l.shortest == 0 {
		return false
	}
	for n := l.shortest; n <= len(e164); n++ {
		if _, ok := l.prefixes[e164[:n]]; ok {
			return true
		}
	}
	return false
}

// listName is what a list may be called: a CEL identifier, so that a rule
// can write lists.NAME.
var listName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// listEntry is a number or a prefix in a list file: "+", then 2 to 15 digits
// (E.164's most), then "*" for a prefix.
var listEntry = regexp.MustCompile(`^\+[0-9]{2,15}\*?$`)

// lists reads the `lists:` section: names to files, relative to the policy
// file. The files are read at once, so that a problem in one is this
// policy's, at its position.
func (p *parser) lists(n *yaml.Node, into map[string]*List) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "lists must be a mapping of names to files, got %s", kindName(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name, file := k.Value, p.str(v)
		switch {
		case !listName.MatchString(name):
			p.errorf(k, "list name %q: want a lower-case letter, then letters, digits or _ (a CEL name: lists.%s)", name, strings.ReplaceAll(name, "-", "_"))
			continue
		case into[name] != nil:
			p.errorf(k, "list %q is defined twice (first read from %s)", name, into[name].File)
			continue
		case file == "":
			continue // reported by str
		case len(into) >= MaxLists:
			p.errorf(k, "list %q: more than %d lists", name, MaxLists)
			continue
		}
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(p.file), file)
		}
		l, errs := readList(name, file)
		if errs != nil {
			for _, e := range errs {
				if e.Line == 0 { // the file as a whole: the policy's position
					e.File, e.Line, e.Column, e.Message = p.file, v.Line, v.Column, fmt.Sprintf("list %q: %s: %s", name, file, e.Message)
				}
				p.errs = append(p.errs, e)
			}
			continue
		}
		into[name] = l
	}
}

// readList reads a list file: one number or prefix a line, "#" starting a
// comment, blank lines ignored. Errors name the file, line and column; they
// never repeat an entry, which may be a number.
func readList(name, file string) (*List, ErrorList) {
	f, err := os.Open(file)
	if err != nil {
		return nil, ErrorList{{File: file, Message: err.Error()}}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxListBytes+1))
	if err != nil {
		return nil, ErrorList{{File: file, Message: err.Error()}}
	}
	return parseList(name, file, data)
}

// parseList parses the bytes of a list file.
func parseList(name, file string, data []byte) (*List, ErrorList) {
	if len(data) > MaxListBytes {
		return nil, ErrorList{{File: file, Message: fmt.Sprintf("over %d bytes (MaxListBytes)", MaxListBytes)}}
	}
	l := &List{Name: name, File: file, numbers: map[string]struct{}{}, prefixes: map[string]struct{}{}, digest: sha256.Sum256(data)}
	var errs ErrorList
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, MaxListBytes)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		entry := strings.TrimSpace(text)
		if entry == "" {
			continue
		}
		col := strings.Index(text, entry) + 1
		switch {
		case !listEntry.MatchString(entry):
			errs = append(errs, &Error{File: file, Line: line, Column: col,
				Message: `not a number or a prefix: want "+" and 2 to 15 digits, no spaces, with a trailing "*" for a prefix`})
		case l.Len() >= MaxListEntries:
			errs = append(errs, &Error{File: file, Line: line, Column: col,
				Message: fmt.Sprintf("list %q holds more than %d entries (MaxListEntries)", name, MaxListEntries)})
			return nil, errs
		case strings.HasSuffix(entry, "*"):
			prefix := strings.TrimSuffix(entry, "*")
			l.prefixes[prefix] = struct{}{}
			if l.shortest == 0 || len(prefix) < l.shortest {
				l.shortest = len(prefix)
			}
		default:
			l.numbers[entry] = struct{}{}
		}
	}
	if errs != nil {
		return nil, errs
	}
	return l, nil
}

// listRef is a rule's mention of a list, checked once every file's lists
// are known.
var listRef = regexp.MustCompile(`\blists\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*["']([^"']*)["']\s*\])`)

// checkListRefs reports the lists a rule's condition names that no file
// defines, at the condition.
func (p *parser) checkListRefs(pd policyDoc, lists map[string]*List) {
	for _, rd := range pd.rules {
		for _, m := range listRef.FindAllStringSubmatch(rd.when, -1) {
			name := m[1] + m[2]
			if lists[name] == nil {
				p.errorf(rd.whenNode, "policy %q: rule %q: no list %q: want one of the `lists:` section's (%s)", pd.name, rd.name, name, listNames(lists))
			}
		}
	}
}

func listNames(lists map[string]*List) string {
	if len(lists) == 0 {
		return "none defined"
	}
	names := make([]string, 0, len(lists))
	for n := range lists {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// listsValue is the `lists` variable of CEL: each list as a value that `in`
// reads.
func listsValue(lists map[string]*List) map[string]any {
	m := make(map[string]any, len(lists))
	for name, l := range lists {
		m[name] = listValue{l}
	}
	return m
}

// listType is a List's CEL type: it supports `in` and size().
var listType = types.NewObjectType("phonegate.List", traits.ContainerType|traits.SizerType)

// listValue is a List as a CEL value.
type listValue struct{ *List }

var (
	_ ref.Val          = listValue{}
	_ traits.Container = listValue{}
	_ traits.Sizer     = listValue{}
)

func (v listValue) ConvertToNative(reflect.Type) (any, error) {
	return nil, fmt.Errorf("list %q converts to no other type", v.Name)
}

func (v listValue) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return listType
	}
	return types.NewErr("list %q converts to no other type", v.Name)
}

func (v listValue) Equal(other ref.Val) ref.Val {
	o, ok := other.(listValue)
	return types.Bool(ok && o.List == v.List)
}

func (v listValue) Type() ref.Type { return listType }
func (v listValue) Value() any     { return v.List }
func (v listValue) Size() ref.Val  { return types.Int(v.Len()) }

// Contains is `x in list`: x must be a string, an E.164 number.
func (v listValue) Contains(x ref.Val) ref.Val {
	s, ok := x.(types.String)
	if !ok {
		return types.NewErr("list %q holds numbers: `in` wants a string, got %s", v.Name, x.Type().TypeName())
	}
	return types.Bool(v.List.Contains(string(s)))
}
