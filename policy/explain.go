package policy

import (
	"strings"
)

// RouteWhy says why req reached route r (which [Set.Route] chose): by name
// in Envoy's context_extensions, or by which conditions of its match held.
func (s *Set) RouteWhy(req *Request, r *Route) string {
	if name, ok := req.ContextExtensions[RouteExtensionKey]; ok && name == r.Name {
		return "context_extensions " + RouteExtensionKey + "=" + name
	}
	var held []string
	m := r.Match
	path := NormalizePath(req.Path)
	if m.Path != "" {
		held = append(held, "path "+path+" is "+m.Path)
	}
	if m.PathPrefix != "" {
		held = append(held, "path "+path+" starts with "+m.PathPrefix)
	}
	if m.PathRegex != nil {
		held = append(held, "path "+path+" matches "+m.PathRegex.String())
	}
	if len(m.Methods) > 0 {
		held = append(held, "method "+req.Method+" is one of "+strings.Join(m.Methods, ", "))
	}
	if m.Host != "" {
		held = append(held, "host "+req.Host+" matches "+m.Host)
	}
	if len(held) == 0 {
		return "the first route whose match holds: it matches every request"
	}
	return "the first route whose match holds: " + strings.Join(held, "; ")
}

// RuleResult is one rule evaluated for one number.
type RuleResult struct {
	Policy string `json:"policy"`
	Rule   string `json:"rule"`
	When   string `json:"when"`
	Action Action `json:"action"`
	// Held is the condition's value; Error the kind of failure when it
	// failed (a failure is a fault in Check).
	Held  bool   `json:"held"`
	Error string `json:"error,omitempty"`
	// Decided marks the rule that decided for this number: the first that
	// held. The rules after it are evaluated here only to show them.
	Decided bool `json:"decided"`
}

// Explain evaluates every rule of the route's policy for each number, past
// the first that holds, to show what each would say. It decides nothing:
// [Route.Decide] is the decision.
func (r *Route) Explain(req *Request, numbers []Number) [][]RuleResult {
	vars := newActivation(req, r.lists)
	out := make([][]RuleResult, len(numbers))
	for i := range numbers {
		vars.with(numbers[i].Insight)
		decided := false
		for _, rule := range r.Policy.Rules {
			res := RuleResult{Policy: r.Policy.Name, Rule: rule.Name, When: rule.When, Action: rule.Action}
			if val, _, err := rule.program.Eval(vars); err != nil {
				res.Error = errorKind(err)
			} else if held, ok := val.Value().(bool); !ok {
				res.Error = "condition gave a " + val.Type().TypeName() + ", want a bool"
			} else {
				res.Held = held
			}
			if res.Held && !decided {
				res.Decided, decided = true, true
			}
			out[i] = append(out[i], res)
		}
	}
	return out
}
