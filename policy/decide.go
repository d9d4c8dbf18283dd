package policy

import (
	"fmt"
	"strings"

	"github.com/phonegate/phonegate/insight"
)

// Number is one phone number found in a request.
type Number struct {
	// Field is where it was found: a JSON path ("user.phone") or a form field.
	Field   string
	Insight *insight.Insight
}

// Reason says what produced a decision.
type Reason string

// The reasons a decision is made.
const (
	ReasonRule           Reason = "rule"            // a rule's condition held
	ReasonNoRule         Reason = "no_rule"         // numbers found, no rule held: allow
	ReasonNoNumber       Reason = "no_number"       // the body held no number
	ReasonPartialBody    Reason = "partial_body"    // Envoy cut the body
	ReasonUnparsableBody Reason = "unparsable_body" // the body is not what it claims
	ReasonBodyTooLarge   Reason = "body_too_large"  // over the size limit, as sent or inflated
)

// Decision is the verdict on one request.
type Decision struct {
	Action Action
	Reason Reason
	Route  string
	Policy string
	Rule   string // the deciding rule, when Reason is ReasonRule
	Tags   []string
	// Status and Message are for a reject: the HTTP status and what the client reads.
	Status  int
	Message string
	// Number is the number that decided; nil when none did.
	Number *Number
	// Numbers is how many numbers were found.
	Numbers int
}

// Fallback is the route's decision when no number can be judged.
func (r *Route) Fallback(reason Reason) Decision {
	d := Decision{Reason: reason, Route: r.Name, Policy: r.Policy.Name}
	switch reason {
	case ReasonPartialBody:
		d.Action, d.Message = r.OnPartialBody, "the request body was cut before phonegate could read every phone number"
	case ReasonBodyTooLarge:
		// A body too large to read is one phonegate cannot see whole: as cut.
		d.Action, d.Message = r.OnPartialBody, "the request body is too large for phonegate to read every phone number"
	case ReasonUnparsableBody:
		d.Action, d.Message = r.OnUnparsableBody, "the request body could not be parsed as its content type says"
	default:
		d.Action, d.Message = r.OnNoNumber, "the request holds no phone number"
	}
	if d.Action == Reject {
		d.Status = DefaultRejectStatus
	} else {
		d.Message = ""
	}
	d.Tags = []string{string(reason)}
	return d
}

// RuleError is a rule that failed to evaluate for one request: a fault, never
// a decision. Its message names the policy, the rule and the kind of failure,
// never a value the rule read (CEL's messages can quote them: a number, a
// header), since it is logged and sent to Envoy.
type RuleError struct {
	Policy, Rule string
	Kind         string // "no such key", "no such overload", ...
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("policy %q: rule %q: %s", e.Policy, e.Rule, e.Kind)
}

// errorKind keeps the kind of a CEL evaluation error: the words before its
// first colon ("no such key: +4474..." -> "no such key").
func errorKind(err error) string {
	kind, _, _ := strings.Cut(err.Error(), ":")
	kind = strings.TrimSpace(kind)
	if kind == "" || len(kind) > 60 || strings.ContainsAny(kind, "0123456789\"'") {
		return "evaluation error"
	}
	return kind
}

// Decide judges every number with the route's policy; the strictest action
// wins (reject > tag > allow), and among equals the first number found. A
// rule that fails to evaluate is an error, never a decision.
func (r *Route) Decide(req *Request, numbers []Number) (Decision, error) {
	if len(numbers) == 0 {
		return r.Fallback(ReasonNoNumber), nil
	}
	vars := newActivation(req, r.lists)
	var best Decision
	for i := range numbers {
		d, err := r.Policy.decide(&numbers[i], vars.with(numbers[i].Insight))
		if err != nil {
			return Decision{}, fmt.Errorf("route %q: %w", r.Name, err)
		}
		if i == 0 || d.Action.Stricter(best.Action) {
			best = d
		}
	}
	best.Route, best.Numbers = r.Name, len(numbers)
	return best, nil
}

// decide runs the rules in order for one number.
// vars are the rules' variables, with n's insight.
func (p *Policy) decide(n *Number, vars *activation) (Decision, error) {
	for _, rule := range p.Rules {
		out, _, err := rule.program.Eval(vars)
		if err != nil {
			return Decision{}, &RuleError{Policy: p.Name, Rule: rule.Name, Kind: errorKind(err)}
		}
		if held, ok := out.Value().(bool); !ok {
			return Decision{}, &RuleError{Policy: p.Name, Rule: rule.Name, Kind: "condition gave a " + out.Type().TypeName() + ", want a bool"}
		} else if !held {
			continue
		}
		d := Decision{Action: rule.Action, Reason: ReasonRule, Policy: p.Name, Rule: rule.Name, Tags: rule.Tags, Number: n}
		if rule.Action == Reject {
			d.Status, d.Message = rule.Status, rule.Message
			if d.Status == 0 {
				d.Status = DefaultRejectStatus
			}
			if d.Message == "" {
				d.Message = "this phone number cannot be used to sign up"
			}
		}
		return d, nil
	}
	return Decision{Action: Allow, Reason: ReasonNoRule, Policy: p.Name, Number: n}, nil
}

// judgedView is the insight rules read. A number judged without request
// signals has them as unknown and zero (one copy, never the cached insight
// changed).
func judgedView(in *insight.Insight) *insight.Insight {
	if in.IP != nil && in.Velocity != nil {
		return in
	}
	c := *in
	if c.IP == nil {
		c.IP = &noIP
	}
	if c.Velocity == nil {
		c.Velocity = &noVelocity
	}
	return &c
}
