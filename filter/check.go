package filter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/policy"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// verdict is the outcome of one check, before it is written as a gRPC
// CheckResponse or an HTTP response.
type verdict struct {
	req      *policy.Request
	decision *policy.Decision // nil when no route matched: pass, headers cleaned
	route    *policy.Route
	hash     string // keyed hash of the deciding number, for logs and metadata
}

// rejected reports whether the verdict denies the request (a dry-run route
// never does).
func (v *verdict) rejected() bool {
	return v.decision != nil && v.decision.Action == policy.Reject && !v.route.DryRun
}

// fault is a failure of phonegate's own, never a decision: it becomes a gRPC
// error (so Envoy's failure_mode_allow decides) and is counted by kind.
type fault struct {
	kind string // the label of phonegate_check_errors_total
	code codes.Code
	err  error
}

func (f *fault) Error() string { return f.err.Error() }

// The kinds of fault.
const (
	faultNoPolicy     = "no_policy"
	faultUnknownRoute = "unknown_route"
	faultRule         = "rule"
	faultCanceled     = "canceled"
	faultPanic        = "panic"
)

// Check answers one ext_authz request from Envoy. A decision, reject
// included, is an OK gRPC reply; only a fault of phonegate's is a gRPC error,
// so Envoy's failure_mode_allow decides what happens to the request.
func (s *Server) Check(ctx context.Context, cr *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	v, f := s.check(ctx, func() *policy.Request { return requestView(cr, s.opts.XFFTrustedHops) })
	if f != nil {
		return nil, status.Error(f.code, "phonegate: "+f.err.Error())
	}
	if v.rejected() {
		return deniedResponse(v.decision, v.route.DenialDetails, v.hash), nil
	}
	dryRun := v.route != nil && v.route.DryRun
	return okResponse(v.req, v.decision, dryRun, v.hash), nil
}

// check runs one request through the current policy: route, extraction,
// scoring, decision. It recovers from a panic, counts and logs the outcome.
// view builds the request inside the recovery, since it reads untrusted input.
func (s *Server) check(ctx context.Context, view func() *policy.Request) (v verdict, f *fault) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, "check panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			v, f = verdict{}, &fault{faultPanic, codes.Internal, errors.New("internal error")}
		}
		s.metrics.observe(&v, f, time.Since(start))
		s.tracing.span(ctx, start, &v, f)
	}()
	if err := ctx.Err(); err != nil {
		return v, &fault{faultCanceled, status.FromContextError(err).Code(), err}
	}
	cur := s.current.Load()
	if cur == nil {
		return v, &fault{faultNoPolicy, codes.Unavailable, errors.New("no policy loaded yet")}
	}
	v.req = view()
	route, err := cur.set.Route(v.req)
	if err != nil {
		s.log.ErrorContext(ctx, "route", "error", err)
		return v, &fault{faultUnknownRoute, codes.FailedPrecondition, err}
	}
	if route == nil {
		return v, nil // not ours to judge
	}
	v.route = route
	d, err := s.decide(v.req, route, cur.engine)
	if err != nil {
		s.log.ErrorContext(ctx, "decide", "route", route.Name, "error", err)
		return verdict{}, &fault{faultRule, codes.Internal, err}
	}
	if err := ctx.Err(); err != nil {
		return verdict{}, &fault{faultCanceled, status.FromContextError(err).Code(), err}
	}
	v.decision = &d
	if n := d.Number; n != nil {
		v.hash = numberHash(s.opts.HashKey, n.Insight.E164, n.Insight.Input)
	}
	s.logDecision(context.WithoutCancel(ctx), &v, time.Since(start))
	return v, nil
}

// decide reads the body, extracts the numbers the route names, scores them and
// applies the route's policy.
func (s *Server) decide(req *policy.Request, route *policy.Route, engine *insight.Engine) (policy.Decision, error) {
	if req.PartialBody {
		return route.Fallback(policy.ReasonPartialBody), nil
	}
	body, err := decodeBody(req, s.opts.MaxBodyBytes)
	switch {
	case errors.Is(err, errBodyTooLarge):
		s.log.Info("body over the limit", "route", route.Name, "limit", s.opts.MaxBodyBytes)
		return route.Fallback(policy.ReasonBodyTooLarge), nil
	case err != nil:
		s.log.Info("undecodable body", "route", route.Name, "content_encoding", req.Headers["content-encoding"], "error", err)
		return route.Fallback(policy.ReasonUnparsableBody), nil
	}
	region := regionHint(req, body, route.Region)
	values, err := extract(req.ContentType, body, route.Fields, region, route.ContentTypeMismatch)
	if err != nil {
		s.log.Info("unparsable body", "route", route.Name, "content_type", req.ContentType, "error", err)
		return route.Fallback(policy.ReasonUnparsableBody), nil
	}
	// The number's facts come from the cache; the client's address and the
	// number's velocity are this request's, added on top.
	addr, _ := netip.ParseAddr(req.ClientIP)
	now := time.Now()
	seen := make(map[string]*insight.Velocity, len(values)) // a number twice in a body is one sighting
	numbers := make([]policy.Number, len(values))
	for i, v := range values {
		base := engine.Lookup(v.value, region)
		var vel *insight.Velocity
		if base.E164 != "" {
			if vel = seen[base.E164]; vel == nil {
				o := s.velocity.Observe(base.E164, addr, now)
				vel = &o
				seen[base.E164] = vel
			}
		}
		numbers[i] = policy.Number{Field: v.field, Insight: engine.ForRequest(base, addr, vel)}
	}
	return route.Decide(req, numbers)
}

func (s *Server) logDecision(ctx context.Context, v *verdict, took time.Duration) {
	d, dryRun := v.decision, v.route.DryRun
	attrs := []slog.Attr{
		slog.String("route", d.Route),
		slog.String("policy", d.Policy),
		slog.String("decision", string(d.Action)),
		slog.String("reason", string(d.Reason)),
		slog.Int("numbers", d.Numbers),
		slog.Float64("latency_ms", float64(took.Microseconds())/1000),
	}
	if d.Rule != "" {
		attrs = append(attrs, slog.String("rule", d.Rule))
	}
	if dryRun {
		attrs = append(attrs, slog.Bool("dry_run", true), slog.String("enforced", string(enforced(d.Action, dryRun))))
	}
	if n := d.Number; n != nil {
		attrs = append(attrs,
			slog.String("field", n.Field),
			slog.String("number_hash", v.hash),
			slog.String("confidence", string(n.Insight.Confidence)),
			slog.Int("risk_score", n.Insight.RiskScore),
		)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "check", attrs...)
}
