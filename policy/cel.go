package policy

import (
	"fmt"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/interpreter"
)

// celEnv declares what a rule's `when` may read: `insight`, the number's
// insight as its JSON object, `request`, the request view, and `lists`, the
// operator's lists by name (lists.go).
var celEnv = func() *cel.Env {
	env, err := cel.NewEnv(
		cel.Variable("insight", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("request", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("lists", cel.MapType(cel.StringType, cel.DynType)),
	)
	if err != nil {
		panic(fmt.Sprintf("policy: building the CEL environment: %v", err))
	}
	return env
}()

// compileCondition checks that src is CEL returning a bool and plans it.
func compileCondition(src string) (cel.Program, error) {
	ast, iss := celEnv.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("condition returns %s, want bool", ast.OutputType())
	}
	return celEnv.Program(ast)
}

// requestValue is the request as CEL sees it.
func requestValue(r *Request) map[string]any {
	return map[string]any{
		"method":    r.Method,
		"path":      r.Path,
		"host":      r.Host,
		"headers":   r.Headers,
		"client_ip": r.ClientIP,
	}
}

// activation gives a rule its variables without building a map per
// evaluation.
type activation struct {
	insight, request, lists map[string]any
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
