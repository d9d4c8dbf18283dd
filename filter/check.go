package filter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
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
	numbers  []policy.Number // as judged, for Explain
	// noPhoneHeaders: the request is known to carry no x-phone-* header, so
	// there is none to remove (spoofedHeaders).
	noPhoneHeaders bool
	hash           string       // keyed hash of the deciding number, for logs and metadata
	annex          *numberAnnex // the deciding number's prebuilt response pieces
	outcomes       *sync.Map    // the policy set's prebuilt outcomes (outcomeKey -> *outcome)
	metrics        *Metrics     // the server's, for the outcome's series
	// id names the decision in logs, metadata and a denial's body: Envoy's
	// x-request-id when it is one, else a new one.
	id string
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
// so Envoy's failure_mode_allow decides what happens to the request. The
// response is the one the gRPC server sends, as protobuf-go reads it.
func (s *Server) Check(ctx context.Context, cr *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	var e *envoyRequest
	v, f := s.check(ctx, func() *policy.Request { e = messageRequest(cr); return e.view(s.opts.XFFTrustedHops) })
	v.noPhoneHeaders = e != nil && !e.phoneHeaders // as view read the headers
	b, err := checkResponse(v, f)
	if err != nil {
		return nil, err
	}
	return decodeResponse(b.bytes())
}

// checkWire answers a Check call of the gRPC server: the request as its
// codec read it, the response encoded for the codec to send as it is.
func (s *Server) checkWire(ctx context.Context, in *wireCheck) (*encodedResponse, error) {
	v, f := s.check(ctx, func() *policy.Request { return in.view(s.opts.XFFTrustedHops) })
	v.noPhoneHeaders = !in.phoneHeaders // as view read the headers
	return checkResponse(v, f)
}

// checkResponse is a check's outcome as Envoy receives it.
func checkResponse(v verdict, f *fault) (*encodedResponse, error) {
	if f != nil {
		return nil, status.Error(f.code, "phonegate: "+f.err.Error())
	}
	return newEncodedResponse(encodeResponse(&v)), nil
}

// check runs one request through the current policy: route, extraction,
// scoring, decision. It recovers from a panic, counts and logs the outcome.
// view builds the request inside the recovery, since it reads untrusted input.
func (s *Server) check(ctx context.Context, view func() *policy.Request) (v verdict, f *fault) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, "check panicked", "panic", redactDigits(fmt.Sprint(p)), "stack", string(debug.Stack()))
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
	v.id = decisionID(v.req.Headers["x-request-id"])
	d, numbers, err := s.decide(ctx, v.req, route, cur.engine)
	if err != nil {
		// A RuleError names the policy, rule and kind, never a value.
		s.log.ErrorContext(ctx, "rule failed", "route", route.Name, "error", err)
		return verdict{}, &fault{faultRule, codes.Internal, err}
	}
	if err := ctx.Err(); err != nil {
		return verdict{}, &fault{faultCanceled, status.FromContextError(err).Code(), err}
	}
	v.decision, v.numbers, v.outcomes, v.metrics = &d, numbers, &cur.outcomes, s.metrics
	if n := d.Number; n != nil {
		v.annex = s.annexOf(n.Insight)
		v.hash = v.annex.hash
	}
	s.logDecision(ctx, &v, time.Since(start))
	return v, nil
}

// decide reads the body, extracts the numbers the route names, scores them and
// applies the route's policy.
func (s *Server) decide(ctx context.Context, req *policy.Request, route *policy.Route, engine *insight.Engine) (policy.Decision, []policy.Number, error) {
	if req.PartialBody {
		return route.Fallback(policy.ReasonPartialBody), nil, nil
	}
	raw, err := decodeBody(req, s.opts.MaxBodyBytes)
	switch {
	case errors.Is(err, errBodyTooLarge):
		s.log.Info("body over the limit", "route", route.Name, "limit", s.opts.MaxBodyBytes)
		return route.Fallback(policy.ReasonBodyTooLarge), nil, nil
	case err != nil:
		// The error names the encoding's kind, never the header's value.
		s.log.Info("undecodable body", "route", route.Name, "error", err)
		return route.Fallback(policy.ReasonUnparsableBody), nil, nil
	}
	b, err := readBody(req.ContentType, raw, route.ContentTypeMismatch)
	if b != nil {
		defer func() { b.tree.release() }() // the values found are strings of their own
	}
	var values []found
	region := route.Region.Fixed
	if err == nil {
		region = regionHint(req, b, route.Region)
		values, err = extract(b, route.Fields, region)
	}
	if err != nil {
		// Extraction errors say the format and a position, never body bytes.
		s.log.Info("unparsable body", "route", route.Name, "media_type", mediaTypeOf(req.ContentType), "error", err)
		return route.Fallback(policy.ReasonUnparsableBody), nil, nil
	}
	// The number's facts come from the cache; the client's address and the
	// number's velocity are this request's, added on top.
	addr, _ := netip.ParseAddr(req.ClientIP)
	now := time.Now()
	seen := make(map[string]*insight.Velocity, len(values)) // a number twice in a body is one sighting
	numbers := make([]policy.Number, len(values))
	for i, v := range values {
		hint := region
		if v.region != "" {
			hint = v.region // a country given beside the number
		}
		base := engine.Lookup(v.value, hint)
		var vel *insight.Velocity
		if base.E164 != "" {
			if vel = seen[base.E164]; vel == nil {
				o := s.velocity.Observe(ctx, insight.Sighting{Number: base.E164, Country: base.Country.ISO2, Addr: addr, At: now})
				vel = &o
				seen[base.E164] = vel
			}
		}
		numbers[i] = policy.Number{Field: v.field, Insight: engine.ForRequestFrom(base, addr, req.ClientIP, vel)}
	}
	d, err := route.Decide(req, numbers)
	return d, numbers, err
}

// regionHint resolves a route's region hint for one request: the header or
// body field it names when that holds a region libphonenumber knows (an ISO
// code, or a calling code in a body field), else the route's fixed region. A
// value that is no region is ignored: it would make every national number
// unparsable.
func regionHint(req *policy.Request, b *body, h policy.RegionHint) string {
	var r string
	switch {
	case h.Header != "":
		if v := strings.ToUpper(strings.TrimSpace(req.Headers[h.Header])); insight.IsRegion(v) {
			r = v
		}
	case h.Field != nil:
		r = regionOf(valueAt(b, *h.Field))
	}
	if r == "" {
		return h.Fixed
	}
	return r
}

// mediaTypeOf is the media type of a content type, for logs: its parameters
// are the client's bytes and are left out, and so is a type that is not a
// plain token.
func mediaTypeOf(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) || len(mt) > 100 || hasDigitRun(mt) {
		return "invalid"
	}
	return mt
}

func (s *Server) logDecision(ctx context.Context, v *verdict, took time.Duration) {
	if !s.log.Enabled(ctx, slog.LevelInfo) {
		return // nothing built for a line no one reads
	}
	if s.opts.DecisionLogJSON && s.opts.LogWriter != nil {
		now := time.Now()
		s.opts.LogWriter.writeWith(func(b []byte) []byte { return appendDecisionJSON(b, now, v, took) })
		return
	}
	ctx = context.WithoutCancel(ctx) // the line is written even if the caller has gone
	d, dryRun := v.decision, v.route.DryRun
	attrs := []slog.Attr{
		slog.String("decision_id", v.id),
		slog.String("route", d.Route),
		slog.String("policy", d.Policy),
		slog.String("decision", string(d.Action)),
		slog.String("reason", string(d.Reason)),
		slog.Int("numbers", d.Numbers),
		slog.Int64("latency_us", took.Microseconds()),
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

// decisionID is the id of one decision: Envoy's x-request-id when it is a
// UUID, as Envoy makes them (use_remote_address: true makes Envoy replace one
// sent by an outside client), else a new random UUID. Anything else a client
// sent is not echoed: it could be anything, a phone number included.
func decisionID(requestID string) string {
	if isUUID(requestID) {
		return strings.ToLower(requestID)
	}
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// isUUID reports whether s is written as a UUID: 8-4-4-4-12 hex digits.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}
