package filter

import (
	"context"
	"strings"
	"time"

	"github.com/phonegate/phonegate/policy"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/stats"
)

// tracerName names phonegate's spans' instrumentation scope.
const tracerName = "github.com/phonegate/phonegate/filter"

// The attributes of a check's span. They name what was decided and why, never
// a number: no E.164, no digits from the body, no hash of a number.
const (
	attrRoute     = attribute.Key("phonegate.route")
	attrPolicy    = attribute.Key("phonegate.policy")
	attrDecision  = attribute.Key("phonegate.decision")
	attrReason    = attribute.Key("phonegate.reason")
	attrRule      = attribute.Key("phonegate.rule")
	attrDryRun    = attribute.Key("phonegate.dry_run")
	attrErrorKind = attribute.Key("phonegate.error.kind")
)

// traceContext reads the W3C traceparent and tracestate headers. Envoy
// propagates the downstream request's trace in the request's own headers,
// which ext_authz hands over inside the CheckRequest (not as gRPC metadata),
// so that is where a check's parent is found.
var traceContext propagation.TraceContext

// tracing is the server's OpenTelemetry side; the zero value is off.
type tracing struct {
	tracer trace.Tracer // nil: tracing off, nothing is done per check
}

func newTracing(tp trace.TracerProvider) tracing {
	if tp == nil {
		return tracing{}
	}
	return tracing{tracer: tp.Tracer(tracerName)}
}

// grpcStatsHandler is otelgrpc's server instrumentation: a span per RPC,
// child of a traceparent in the gRPC metadata. Health checks (the kubelet's
// probes, every few seconds) are not traced.
func grpcStatsHandler(tp trace.TracerProvider) stats.Handler {
	return otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(tp),
		otelgrpc.WithMeterProvider(noopmetric.NewMeterProvider()), // the gRPC metrics are Prometheus's
		otelgrpc.WithPropagators(traceContext),
		otelgrpc.WithFilter(func(info *stats.RPCTagInfo) bool {
			return !strings.HasPrefix(info.FullMethodName, "/grpc.health.v1.") &&
				!strings.HasPrefix(info.FullMethodName, "/grpc.reflection.")
		}),
	)
}

// span records one check, from start to now, as a span. Its parent is the
// traceparent of the checked request's headers when it has a valid one (so
// the check joins the trace Envoy is recording for that request), linked to
// the span already in ctx (otelgrpc's, for the RPC); without one, the span in
// ctx is the parent.
func (t tracing) span(ctx context.Context, start time.Time, v *verdict, f *fault) {
	if t.tracer == nil {
		return
	}
	opts := []trace.SpanStartOption{trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindInternal)}
	parent := ctx
	if v.req != nil && v.req.Headers["traceparent"] != "" {
		// The span keeps the tracestate's members until it is exported;
		// as the request holds them they point into the whole message
		// (wirerequest.go) and would keep it alive: a copy of its own.
		carrier := propagation.MapCarrier{"traceparent": v.req.Headers["traceparent"]}
		if ts := v.req.Headers["tracestate"]; ts != "" {
			carrier["tracestate"] = strings.Clone(ts)
		}
		remote := traceContext.Extract(context.Background(), carrier)
		if sc := trace.SpanContextFromContext(remote); sc.IsValid() {
			parent = trace.ContextWithRemoteSpanContext(ctx, sc)
			if rpc := trace.SpanContextFromContext(ctx); rpc.IsValid() && rpc.TraceID() != sc.TraceID() {
				opts = append(opts, trace.WithLinks(trace.Link{SpanContext: rpc}))
			}
		}
	}
	_, span := t.tracer.Start(parent, "phonegate.check", opts...)
	switch {
	case f != nil:
		span.SetAttributes(attrErrorKind.String(f.kind))
		span.SetStatus(codes.Error, f.kind)
	case v.decision == nil:
		span.SetAttributes(attrDecision.String(string(policy.Allow))) // no route matched: not ours to judge
	default:
		d := v.decision
		span.SetAttributes(
			attrRoute.String(d.Route),
			attrPolicy.String(d.Policy),
			attrDecision.String(string(d.Action)),
			attrReason.String(string(d.Reason)),
			attrRule.String(d.Rule),
			attrDryRun.Bool(v.route != nil && v.route.DryRun),
		)
	}
	span.End()
}
