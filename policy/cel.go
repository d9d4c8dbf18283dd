package policy

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
	"github.com/phonegate/phonegate/insight"
)

// Rules read three variables, declared with their types so that a rule
// that could fail at run time for a reason a check can catch does not load:
//
//   - insight: an [insight.Insight] itself, its fields named as in its JSON
//     form (cel-go's native types read the struct by reflection: nothing is
//     built per insight, and nothing is kept on a cached one);
//   - request: a [ruleRequest] (method, path, host, headers, client_ip);
//   - lists: the operator's lists by name (lists.go).
//
// A field that does not exist, a comparison of a string with a number, a
// condition that is not a bool: each is an error at load, at file:line:col.

// ruleRequest is the request as rules read it.
type ruleRequest struct {
	Method   string      `json:"method"`
	Path     string      `json:"path"`
	Host     string      `json:"host"`
	Headers  ruleHeaders `json:"headers"`
	ClientIP string      `json:"client_ip"`
}

// The CEL type names of the two variables.
var (
	insightTypeName = "insight.Insight"
	requestTypeName = "policy.ruleRequest"
)

// celEnv declares what a rule's `when` may read.
var celEnv = func() *cel.Env {
	env, err := cel.NewEnv(
		ext.NativeTypes(reflect.TypeFor[insight.Insight](), reflect.TypeFor[ruleRequest](), ext.ParseStructTag("json")),
		cel.Variable("insight", cel.ObjectType(insightTypeName)),
		cel.Variable("request", cel.ObjectType(requestTypeName)),
		cel.Variable("lists", cel.MapType(cel.StringType, cel.DynType)),
		// 0.5 < insight.confidence_score and insight.risk_score >= 50.0
		// compare as numbers, not as a type error.
		cel.CrossTypeNumericComparisons(true),
		// The extension libraries Kubernetes enables for its CEL: string
		// functions (lowerAscii, split, ...), lists (slice, flatten, ...),
		// sets (sets.contains, ...), and IP and CIDR functions
		// (cidr("203.0.113.0/24").containsIP(request.client_ip)).
		ext.Strings(), ext.Lists(), ext.Sets(), ext.Network(),
	)
	if err != nil {
		panic(fmt.Sprintf("policy: building the CEL environment: %v", err))
	}
	return env
}()

// compileCondition checks that src is CEL over the declared variables that
// gives a bool, and plans it.
func compileCondition(src string) (cel.Program, error) {
	ast, iss := celEnv.Compile(src)
	if iss.Err() != nil {
		return nil, fieldHint(iss.Err())
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("condition gives %s, want bool: a rule's `when` must be true or false for every request", typeName(t))
	}
	return celEnv.Program(ast)
}

func typeName(t *cel.Type) string {
	if t.IsExactType(cel.DynType) {
		return "a value whose type is known only at run time (dyn); compare it, as in `... == true`"
	}
	return t.String()
}

// fieldHint adds the fields that exist to CEL's "undefined field" error.
func fieldHint(err error) error {
	msg := err.Error()
	if !strings.Contains(msg, "undefined field") {
		return err
	}
	return fmt.Errorf("%s (insight has %s; request has %s)", oneLine(msg),
		strings.Join(fieldNames(insightTypeName), ", "), strings.Join(fieldNames(requestTypeName), ", "))
}

func fieldNames(typeName string) []string {
	names, _ := celEnv.CELTypeProvider().FindStructFieldNames(typeName)
	slices.Sort(names)
	return names
}

// InsightFields lists the fields rules may read on `insight`, for docs and
// errors.
func InsightFields() []string { return fieldNames(insightTypeName) }

// requestValue is the request as rules see it.
func requestValue(r *Request) ruleRequest {
	return ruleRequest{Method: r.Method, Path: r.Path, Host: r.Host, Headers: ruleHeaders{r.Headers}, ClientIP: r.ClientIP}
}

// newActivation is the variables of a route's rules for one request, made
// once and given each number's insight in turn (with its insight).
func newActivation(req *Request, lists map[string]any) *activation {
	a := &activation{req: requestValue(req), lists: lists}
	a.request = &a.req
	return a
}

// with sets the insight the rules read next.
func (a *activation) with(in *insight.Insight) *activation {
	a.insight = judgedView(in)
	return a
}

// noIP and noVelocity stand for the request signals of an insight that has
// none, so a rule reading insight.ip.match or insight.velocity.seen never
// fails: unknown and zero.
var (
	noIP       = insight.IP{Match: insight.MatchUnknown}
	noVelocity = insight.Velocity{}
)

// activation gives a rule its variables without building a map per
// evaluation.
type activation struct {
	insight *insight.Insight
	request *ruleRequest
	lists   map[string]any
	req     ruleRequest // what request points to: one allocation for both
}

var _ interpreter.Activation = (*activation)(nil)

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "insight":
		return a.insight, true
	case "request":
		return a.request, true
	case "lists":
		return a.lists, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// ruleHeaders is request.headers: a map(string, string) whose absent keys
// read as "", so that `request.headers["x-tier"] == "gold"` is false on a
// request without the header instead of a fault. `"x-tier" in
// request.headers` still says whether it was sent.
type ruleHeaders struct{ m map[string]string }

var (
	headersType               = types.NewMapType(types.StringType, types.StringType)
	_           traits.Mapper = ruleHeaders{}
	_           ref.Val       = ruleHeaders{}
	emptyString               = types.String("")
)

func (h ruleHeaders) Type() ref.Type { return headersType }
func (h ruleHeaders) Value() any     { return h.m }

func (h ruleHeaders) ConvertToNative(t reflect.Type) (any, error) {
	return types.DefaultTypeAdapter.NativeToValue(h.m).ConvertToNative(t)
}

func (h ruleHeaders) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.MapType:
		return h
	case types.TypeType:
		return types.MapType
	}
	return types.NewErr("type conversion error from map to '%s'", t)
}

func (h ruleHeaders) Equal(other ref.Val) ref.Val {
	return types.DefaultTypeAdapter.NativeToValue(h.m).Equal(other)
}

func (h ruleHeaders) Contains(key ref.Val) ref.Val {
	k, ok := key.(types.String)
	if !ok {
		return types.False
	}
	_, found := h.m[string(k)]
	return types.Bool(found)
}

func (h ruleHeaders) Get(key ref.Val) ref.Val {
	v, _ := h.Find(key)
	return v
}

// Find never fails for a string key: an absent header is "".
func (h ruleHeaders) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return types.NewErr("headers are keyed by string, not %s", key.Type().TypeName()), false
	}
	if v, found := h.m[string(k)]; found {
		return types.String(v), true
	}
	return emptyString, true
}

func (h ruleHeaders) Iterator() traits.Iterator {
	return types.DefaultTypeAdapter.NativeToValue(h.m).(traits.Mapper).Iterator()
}

func (h ruleHeaders) Size() ref.Val { return types.Int(len(h.m)) }
