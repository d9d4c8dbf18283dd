package filter

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/phonegate/phonegate/policy"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

const (
	envoyTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	envoySpanID  = "00f067aa0ba902b7"
	traceparent  = "00-" + envoyTraceID + "-" + envoySpanID + "-01"
)

const tracedPolicy = `
version: 1
routes:
  - name: signup
    match: {path_prefix: /signup}
    fields: [phone]
    region: GB
    policy: strict
policies:
  - name: strict
    rules:
      - name: no-voip
        when: insight.line_type == "voip"
        action: reject
`

// traced serves tracedPolicy with an in-memory span exporter.
func traced(t *testing.T) (*running, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	srv := New(Options{TracerProvider: tp})
	srv.SetPolicy(mustCompile(t, tracedPolicy))
	srv.MarkWarm()
	return serveOn(t, srv), exp
}

// spansNamed waits for n spans of that name to end (otelgrpc ends its span
// after the reply is on its way) and returns them.
func spansNamed(t *testing.T, exp *tracetest.InMemoryExporter, name string, n int) []tracetest.SpanStub {
	t.Helper()
	for range 500 {
		var out []tracetest.SpanStub
		for _, s := range exp.GetSpans() {
			if s.Name == name {
				out = append(out, s)
			}
		}
		if len(out) >= n {
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d spans named %q ended; spans: %v", n, name, exp.GetSpans().Snapshots())
	return nil
}

func attrs(s tracetest.SpanStub) map[attribute.Key]string {
	out := map[attribute.Key]string{}
	for _, kv := range s.Attributes {
		out[kv.Key] = kv.Value.Emit()
	}
	return out
}

// noNumber fails if any attribute of any span holds the number's digits.
func noNumber(t *testing.T, exp *tracetest.InMemoryExporter, digits ...string) {
	t.Helper()
	for _, s := range exp.GetSpans() {
		for _, kv := range s.Attributes {
			for _, d := range digits {
				if strings.Contains(kv.Value.Emit(), d) {
					t.Errorf("span %s attribute %s = %q holds the number", s.Name, kv.Key, kv.Value.Emit())
				}
			}
		}
	}
}

// A check is one span, a child of the traceparent Envoy put in the request's
// headers (not in the gRPC metadata), with the decision and no number.
func TestCheckSpanJoinsEnvoysTrace(t *testing.T) {
	r, exp := traced(t)
	resp, err := r.auth.Check(context.Background(), envoyCheck("POST", "/signup", "application/json",
		`{"phone":"+44 56 1234 5678"}`, map[string]string{"traceparent": traceparent}))
	if err != nil || resp.GetDeniedResponse() == nil {
		t.Fatalf("check: %v, %v; want a reject", resp, err)
	}
	check := spansNamed(t, exp, "phonegate.check", 1)
	rpc := spansNamed(t, exp, "envoy.service.auth.v3.Authorization/Check", 1)
	if len(check) != 1 || len(rpc) != 1 {
		t.Fatalf("%d check spans, %d RPC spans; want one each", len(check), len(rpc))
	}
	s := check[0]
	if s.SpanContext.TraceID().String() != envoyTraceID || s.Parent.SpanID().String() != envoySpanID || !s.Parent.IsRemote() {
		t.Errorf("check span trace %s parent %s: want a child of Envoy's %s/%s", s.SpanContext.TraceID(), s.Parent.SpanID(), envoyTraceID, envoySpanID)
	}
	// The RPC span, in a trace of its own (no traceparent in the gRPC
	// metadata), is linked.
	if len(s.Links) != 1 || s.Links[0].SpanContext.SpanID() != rpc[0].SpanContext.SpanID() {
		t.Errorf("check span links %v, want the RPC span %s", s.Links, rpc[0].SpanContext.SpanID())
	}
	want := map[attribute.Key]string{attrRoute: "signup", attrPolicy: "strict", attrDecision: "reject", attrReason: "rule", attrRule: "no-voip", attrDryRun: "false"}
	got := attrs(s)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("attributes %v, want exactly %v", got, want)
	}
	noNumber(t, exp, "1234", "5678", "+44")
	if s.EndTime.Before(s.StartTime) || s.StartTime.IsZero() {
		t.Errorf("span from %v to %v", s.StartTime, s.EndTime)
	}
}

// Without a traceparent in the request, the check span is a child of
// otelgrpc's span for the call; a fault sets an error status; health checks
// (the kubelet's probes) are not traced.
func TestCheckSpanWithoutTraceparent(t *testing.T) {
	r, exp := traced(t)
	if _, err := r.health.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.Check(context.Background(), envoyCheck("POST", "/signup", "application/json", `{"phone":"+44 7400 123456"}`, nil)); err != nil {
		t.Fatal(err)
	}
	cr := envoyCheck("POST", "/signup", "application/json", `{}`, nil)
	cr.Attributes.ContextExtensions = map[string]string{"phonegate-route": "nope"}
	if _, err := r.auth.Check(context.Background(), cr); err == nil {
		t.Fatal("a route the policy lacks is a fault")
	}
	rpc := spansNamed(t, exp, "envoy.service.auth.v3.Authorization/Check", 2)
	check := spansNamed(t, exp, "phonegate.check", 2)
	// otelgrpc's spans end after the reply, in any order: pair them by trace.
	rpcByTrace := map[trace.TraceID]trace.SpanID{}
	for _, s := range rpc {
		rpcByTrace[s.SpanContext.TraceID()] = s.SpanContext.SpanID()
	}
	for i, s := range check {
		if id, ok := rpcByTrace[s.SpanContext.TraceID()]; !ok || s.Parent.SpanID() != id || s.Parent.IsRemote() {
			t.Errorf("check span %d: trace %s parent %s, want a child of its RPC span (RPC spans by trace: %v)", i, s.SpanContext.TraceID(), s.Parent.SpanID(), rpcByTrace)
		}
	}
	if len(rpcByTrace) != 2 {
		t.Errorf("the two calls share a trace: %v", rpcByTrace)
	}
	if got := attrs(check[0]); got[attrDecision] != "allow" || got[attrReason] != "no_rule" {
		t.Errorf("allowed check attributes %v", got)
	}
	if got := attrs(check[1]); got[attrErrorKind] != faultUnknownRoute || check[1].Status.Code != otelcodes.Error {
		t.Errorf("faulty check: attributes %v, status %v", got, check[1].Status)
	}
	for _, s := range exp.GetSpans() {
		if strings.Contains(s.Name, "grpc.health") {
			t.Errorf("health check traced: %s", s.Name)
		}
	}
	noNumber(t, exp, "7400", "123456")
}

// The HTTP ext_authz mode reads the traceparent from the request's headers
// as well.
func TestHTTPAuthzSpan(t *testing.T) {
	r, exp := traced(t)
	req, _ := http.NewRequest("POST", r.http+"/authz/signup", strings.NewReader(`{"phone":"+44 7400 123456"}`))
	req.Header.Set("content-type", "application/json")
	req.Header.Set("traceparent", traceparent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	s := spansNamed(t, exp, "phonegate.check", 1)[0]
	if s.SpanContext.TraceID().String() != envoyTraceID || s.Parent.SpanID().String() != envoySpanID {
		t.Errorf("span trace %s parent %s", s.SpanContext.TraceID(), s.Parent.SpanID())
	}
	if got := attrs(s); got[attrRoute] != "signup" || got[attrDecision] != "allow" {
		t.Errorf("attributes %v", got)
	}
}

// With no TracerProvider, nothing is traced and nothing is paid: the server
// installs no stats handler and check makes no span.
func TestTracingOffByDefault(t *testing.T) {
	srv := New(Options{})
	if srv.tracing.tracer != nil {
		t.Fatal("tracing is on without a TracerProvider")
	}
	// The check runs inside a recorded span: a server that took its tracer
	// from the context's span would record one more.
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	srv.SetPolicy(mustCompile(t, tracedPolicy))
	srv.MarkWarm()
	if _, err := srv.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"phone":"+44 7400 123456"}`, map[string]string{"traceparent": traceparent})); err != nil {
		t.Fatal(err)
	}
	parent.End()
	if spans := exp.GetSpans(); len(spans) != 1 || spans[0].Name != "request" {
		t.Errorf("spans %v: want only the test's own", spans.Snapshots())
	}
}

// BenchmarkCheckTraced is BenchmarkCheck with tracing on: the request carries
// a sampled traceparent, and every check records a span into the SDK's batch
// processor (its exporter discards), as a server exporting over OTLP does.
func BenchmarkCheckTraced(b *testing.B) {
	set, err := policy.Default()
	if err != nil {
		b.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	defer tp.Shutdown(context.Background())
	srv := New(Options{TracerProvider: tp})
	srv.SetPolicy(set)
	srv.MarkWarm()
	req := envoyCheck("POST", "/signup", "application/json", signupBody(), map[string]string{"traceparent": traceparent})
	ctx := context.Background()
	if _, err := srv.Check(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.Check(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCheckSpanHoldsNoPieceOfTheRequest: the span keeps the request's
// tracestate until it is exported, long after the check. The request's
// strings point into one copy of the whole message (wirerequest.go): a
// tracestate kept as it is would keep the whole message, body included,
// alive with the span (up to the batch processor's 2,048 queued spans).
func TestCheckSpanHoldsNoPieceOfTheRequest(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	msg := []byte("vendor=abc,other=def" + strings.Repeat("x", 1000))
	v := verdict{req: &policy.Request{Headers: map[string]string{
		"traceparent": traceparent,
		"tracestate":  str(msg[:20]),
	}}}
	newTracing(tp).span(context.Background(), time.Now(), &v, nil)
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	ts := spans[0].SpanContext().TraceState()
	if ts.Get("vendor") != "abc" || ts.Get("other") != "def" {
		t.Fatalf("tracestate %q, want Envoy's", ts.String())
	}
	lo, hi := uintptr(unsafe.Pointer(&msg[0])), uintptr(unsafe.Pointer(&msg[len(msg)-1]))
	for _, s := range []string{ts.Get("vendor"), ts.Get("other")} {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(s))); lo <= p && p <= hi {
			t.Errorf("the span's tracestate %q points into the request's message", s)
		}
	}
}
