package filter

import (
	"context"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/policy"
	"google.golang.org/grpc/status"
)

// Explanation is how one request was decided: what `phonegate eval` prints
// and `phonegate test` compares. It comes from the same code as Check.
type Explanation struct {
	// Route is the route that matched and why; empty when none did (the
	// request passes unjudged).
	Route    string `json:"route,omitempty"`
	RouteWhy string `json:"route_why,omitempty"`
	DryRun   bool   `json:"dry_run,omitempty"`
	// Numbers are those found, in body order, each with its field path, its
	// insight (request signals included) and every rule's result.
	Numbers []ExplainedNumber `json:"numbers"`
	// Decision is the route's verdict; nil when no route matched or on a
	// fault.
	Decision *policy.Decision `json:"-"`
	// Response is what Envoy gets: the CheckResponse, or nil on a fault.
	Response *authv3.CheckResponse `json:"-"`
	// Fault is phonegate's own failure, answered as a gRPC error.
	Fault error `json:"-"`
	// DecisionID names the decision in logs, metadata and a denial's body.
	DecisionID string `json:"decision_id,omitempty"`
}

// ExplainedNumber is one number found and judged.
type ExplainedNumber struct {
	Field   string              `json:"field"`
	Insight *insight.Insight    `json:"insight"`
	Rules   []policy.RuleResult `json:"rules"`
}

// Explain answers cr as Check does, and says how: the route and why, every
// number with its insight, and every rule of the policy evaluated for each.
func (s *Server) Explain(ctx context.Context, cr *authv3.CheckRequest) *Explanation {
	v, f := s.check(ctx, func() *policy.Request { return requestView(cr, s.opts.XFFTrustedHops) })
	e := &Explanation{Numbers: []ExplainedNumber{}, DecisionID: v.id}
	if f != nil {
		e.Fault = status.Error(f.code, "phonegate: "+f.err.Error())
		return e
	}
	resp, err := decodeResponse(encodeResponse(&v))
	if err != nil {
		e.Fault = err
		return e
	}
	e.Response = resp
	if v.route == nil {
		return e
	}
	e.Route, e.DryRun, e.Decision = v.route.Name, v.route.DryRun, v.decision
	if cur := s.current.Load(); cur != nil {
		e.RouteWhy = cur.set.RouteWhy(v.req, v.route)
	}
	rules := v.route.Explain(v.req, v.numbers)
	for i, n := range v.numbers {
		e.Numbers = append(e.Numbers, ExplainedNumber{Field: n.Field, Insight: n.Insight, Rules: rules[i]})
	}
	return e
}
