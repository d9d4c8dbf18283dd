package filter

import (
	"errors"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// maxGraphQLTokens bounds the document a GraphQL body may hold: a signup
// mutation is a few hundred tokens; the bound keeps the parser's recursion
// and time small whatever the body.
const maxGraphQLTokens = 20000

// graphQLVariables is the key under which a GraphQL request's arguments are
// read: beside the JSON `variables`, so that a route's "variables.phone" reads
// `signUp(phone: "...")` as it reads {"variables": {"phone": "..."}}.
const graphQLVariables = "variables"

// graphQLTree reads the arguments of a GraphQL document into t under the
// object root, as the key "variables": the arguments of every field at any
// depth, of every operation and fragment, each under its own name, with
// object and list values as objects and arrays. An argument that is a
// variable ($p) takes the value the request's variables give it (and the
// variable's default), so `signUp(phone: $p)` with {"p": "..."} is read as
// variables.phone. A literal argument cannot hide behind a good variable: both
// are read, and the strictest outcome wins.
func graphQLTree(doc string, t *tree, root int32) error {
	q, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: doc}, maxGraphQLTokens)
	if err != nil {
		return graphQLError(err)
	}
	g := graphQL{t: t, vars: -1}
	for c := t.nodes[root].first; c >= 0; c = t.nodes[c].next {
		if n := &t.nodes[c]; n.kind == kindObject && strings.EqualFold(n.key, graphQLVariables) {
			g.vars = c // the request's own variables, for $references
			break
		}
	}
	if g.args, err = t.add(root, graphQLVariables, kindObject, ""); err != nil {
		return err
	}
	// Defaults apply where the request gives no value; both are read.
	g.defaults = map[string]*ast.Value{}
	for _, op := range q.Operations {
		for _, v := range op.VariableDefinitions {
			if v.DefaultValue != nil {
				g.defaults[v.Variable] = v.DefaultValue
			}
		}
	}
	for _, op := range q.Operations {
		if err := g.selections(op.SelectionSet, 1); err != nil {
			return err
		}
	}
	for _, f := range q.Fragments {
		if err := g.selections(f.SelectionSet, 1); err != nil {
			return err
		}
	}
	return nil
}

type graphQL struct {
	t        *tree
	vars     int32 // the request's variables object, or -1
	args     int32 // where arguments go
	defaults map[string]*ast.Value
}

func (g *graphQL) selections(set ast.SelectionSet, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				if err := g.value(g.args, a.Name, a.Value, depth); err != nil {
					return err
				}
			}
			if err := g.selections(s.SelectionSet, depth+1); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := g.selections(s.SelectionSet, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// value adds one argument value under parent with key.
func (g *graphQL) value(parent int32, key string, v *ast.Value, depth int) error {
	if v == nil {
		return nil
	}
	if depth > maxDepth {
		return errTooDeep
	}
	t := g.t
	var err error
	switch v.Kind {
	case ast.Variable:
		if d := g.defaults[v.Raw]; d != nil && d.Kind != ast.Variable {
			if err := g.value(parent, key, d, depth); err != nil {
				return err
			}
		}
		if g.vars < 0 {
			return nil
		}
		for c := t.nodes[g.vars].first; c >= 0; c = t.nodes[c].next {
			if strings.EqualFold(t.nodes[c].key, v.Raw) {
				if err := t.copyInto(parent, key, c, depth); err != nil {
					return err
				}
			}
		}
	case ast.StringValue, ast.BlockValue:
		_, err = t.add(parent, key, kindString, v.Raw)
	case ast.IntValue, ast.FloatValue:
		_, err = t.add(parent, key, kindNumber, v.Raw)
	case ast.ListValue, ast.ObjectValue:
		kind := kindArray
		if v.Kind == ast.ObjectValue {
			kind = kindObject
		}
		idx, err := t.add(parent, key, kind, "")
		if err != nil {
			return err
		}
		for _, c := range v.Children {
			if err := g.value(idx, c.Name, c.Value, depth+1); err != nil {
				return err
			}
		}
	default: // booleans, null, enums
		_, err = t.add(parent, key, kindLiteral, "")
	}
	return err
}

// graphQLError keeps the position of a parse error, not its message, which
// quotes the document.
func graphQLError(err error) error {
	e := &errBody{format: "GraphQL", offset: -1, why: "syntax error"}
	var ge *gqlerror.Error
	if errors.As(err, &ge) && len(ge.Locations) > 0 {
		e.line, e.col = ge.Locations[0].Line, ge.Locations[0].Column
	}
	return e
}

// isGraphQLRequest reports whether the object at idx looks like a GraphQL
// request over JSON (it has a string "query"), and returns the document.
func isGraphQLRequest(t *tree, idx int32) (string, bool) {
	if t.nodes[idx].kind != kindObject {
		return "", false
	}
	for c := t.nodes[idx].first; c >= 0; c = t.nodes[c].next {
		if n := &t.nodes[c]; n.kind == kindString && strings.EqualFold(n.key, "query") {
			return n.value, true
		}
	}
	return "", false
}
