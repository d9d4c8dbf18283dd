package filter

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// A body, whatever its format, is read into a tree of keys before any number
// is looked for, so that one walk (walk.go) applies one model to JSON, forms,
// multipart and GraphQL alike: the same paths, the same case rules, the same
// handling of objects under a phone key.

// nodeKind is what a node holds.
type nodeKind uint8

const (
	kindObject  nodeKind = iota // keyed children, duplicates kept in order
	kindArray                   // unkeyed children
	kindString                  // value holds the string
	kindNumber                  // value holds the number as written
	kindLiteral                 // true, false, null: never a phone number
)

// node is one value of the tree. Nodes live in one slice and link by index,
// so a tree is a few allocations whatever its size.
type node struct {
	key         string // its key in the parent object; "" for array elements
	value       string // strings and numbers
	kind        nodeKind
	first, next int32 // first child, next sibling; -1 for none
	last        int32 // last child, for appending in order; -1 for none
}

// tree is a body's values. nodes[0] is the root; a body that is not an object
// or array at the top has an object root holding it under no key.
type tree struct {
	nodes []node
}

// Bounds on the tree of one body. A body within the byte limit may still hold
// a huge number of tiny values; no signup form comes near these.
const (
	maxDepth = 32   // nesting of objects and arrays (or a form name's brackets)
	maxNodes = 8192 // values of one body, keys of objects included
)

var (
	errTooDeep      = fmt.Errorf("nested deeper than %d levels", maxDepth)
	errTooManyNodes = fmt.Errorf("more than %d values", maxNodes)
)

// errBody is a body that cannot be read as what it claims. Its message is the
// format and a position, never a value from the body: bodies hold numbers,
// and errors reach logs.
type errBody struct {
	format string // "JSON", "form", "multipart", "GraphQL"
	offset int64  // byte offset, or -1 when unknown
	line   int    // line (GraphQL), 0 when unknown
	col    int
	why    string // what kind of problem, in words that hold no body bytes
}

func (e *errBody) Error() string {
	switch {
	case e.line > 0:
		return fmt.Sprintf("%s body: %s at line %d, column %d", e.format, e.why, e.line, e.col)
	case e.offset >= 0:
		return fmt.Sprintf("%s body: %s at byte %d", e.format, e.why, e.offset)
	}
	return fmt.Sprintf("%s body: %s", e.format, e.why)
}

func newTree(capacity int) *tree {
	t := trees.Get().(*tree)
	t.nodes = slices.Grow(t.nodes[:0], max(capacity, 16))
	t.nodes = append(t.nodes, node{kind: kindObject, first: -1, next: -1, last: -1})
	return t
}

// trees keeps trees between checks: a check reuses one's nodes.
var trees = sync.Pool{New: func() any { return new(tree) }}

// release gives t back for reuse; nothing may use it after. Its nodes are
// cleared so that a pooled tree keeps no body alive.
func (t *tree) release() {
	if cap(t.nodes) > maxNodes/4 {
		return // a huge body's nodes are left to the collector
	}
	clear(t.nodes)
	t.nodes = t.nodes[:0]
	trees.Put(t)
}

// add appends a child to parent and returns its index.
func (t *tree) add(parent int32, key string, kind nodeKind, value string) (int32, error) {
	if len(t.nodes) >= maxNodes {
		return -1, errTooManyNodes
	}
	i := int32(len(t.nodes))
	t.nodes = append(t.nodes, node{key: key, kind: kind, value: value, first: -1, next: -1, last: -1})
	p := &t.nodes[parent]
	if p.last < 0 {
		p.first = i
	} else {
		t.nodes[p.last].next = i
	}
	p.last = i
	return i, nil
}

// child returns the first child of parent with exactly this key and kind, or
// -1. Forms use it to gather user[name] and user[phone] under one user.
func (t *tree) child(parent int32, key string, kind nodeKind) int32 {
	for c := t.nodes[parent].first; c >= 0; c = t.nodes[c].next {
		if n := &t.nodes[c]; n.key == key && n.kind == kind {
			return c
		}
	}
	return -1
}

// copyInto appends a deep copy of the subtree at src under parent, with key.
// GraphQL uses it to place a variable's value where an argument refers to it.
func (t *tree) copyInto(parent int32, key string, src int32, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	n := t.nodes[src]
	dst, err := t.add(parent, key, n.kind, n.value)
	if err != nil {
		return err
	}
	for c := n.first; c >= 0; c = t.nodes[c].next {
		if err := t.copyInto(dst, t.nodes[c].key, c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// errLimit reports whether err is one of the tree's bounds, which make a
// body unreadable whatever its format.
func errLimit(err error) bool {
	return errors.Is(err, errTooDeep) || errors.Is(err, errTooManyNodes)
}
