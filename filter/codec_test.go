package filter

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/phonegate/phonegate/policy"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// referenceResponse is the CheckResponse a verdict stands for, built the
// plain way, with protobuf-go's messages, from the contract the README
// states: the x-phone-* headers (upstreamHeaders), the client's other
// x-phone-* headers removed, a denial's status, content type and JSON body,
// and the metadata table (dry_run and enforced only on a dry-run route, the
// number's field, the numbers found and disposable only on a route with
// metadata_details, this request's IP and velocity signals only on a route
// with metadata_signals). It is the oracle encodeResponse is held to.
func referenceResponse(v *verdict) *authv3.CheckResponse {
	header := func(k, val string) *corev3.HeaderValueOption {
		return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: val},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}
	}
	resp := &authv3.CheckResponse{}
	d := v.decision
	if v.rejected() {
		resp.Status = &rpcstatus.Status{Code: int32(codes.PermissionDenied), Message: "phone_rejected"}
		resp.HttpResponse = &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: typev3.StatusCode(d.Status)},
			Headers: []*corev3.HeaderValueOption{header("content-type", "application/json")},
			Body:    string(denialJSON(v)),
		}}
	} else {
		ok := &authv3.OkHttpResponse{HeadersToRemove: spoofedHeaders(v)}
		if d != nil {
			for _, h := range upstreamHeaders(d, v.route.DryRun) {
				ok.Headers = append(ok.Headers, header(h[0], h[1]))
			}
		}
		resp.Status = &rpcstatus.Status{}
		resp.HttpResponse = &authv3.CheckResponse_OkResponse{OkResponse: ok}
	}
	if d == nil {
		return resp
	}
	md := map[string]any{
		"decision_id": v.id, "decision": string(d.Action), "reason": string(d.Reason), "route": d.Route, "policy": d.Policy,
	}
	if v.route.DryRun {
		md["dry_run"], md["enforced"] = true, string(enforced(d.Action, true))
	}
	if v.route.MetadataDetails {
		md["numbers_found"] = float64(d.Numbers)
	}
	if d.Rule != "" {
		md["rule"] = d.Rule
	}
	if len(d.Tags) > 0 {
		md["tags"] = strings.Join(d.Tags, ",")
	}
	if n := d.Number; n != nil {
		in := n.Insight
		md["number_hash"], md["country"] = v.hash, in.Country.ISO2
		md["line_type"], md["confidence"] = string(in.LineType), string(in.Confidence)
		md["risk_score"] = float64(in.RiskScore)
		if v.route.MetadataDetails {
			md["field"], md["disposable"] = n.Field, in.IsDisposable
		}
		if in.IP != nil && v.route.MetadataSignals {
			md["ip_country"], md["ip_match"] = in.IP.Country, in.IP.Match
		}
		if in.Velocity != nil && v.route.MetadataSignals {
			md["seen"], md["recent_abuse"], md["velocity_source"] = float64(in.Velocity.Seen), in.Velocity.RecentAbuse, in.Velocity.Source
		}
	}
	s, err := structpb.NewStruct(md)
	if err != nil {
		panic(err)
	}
	resp.DynamicMetadata = s
	return resp
}

// TestResponseBytes: for every kind of response the server sends (allowed,
// tagged, rejected with and without denial details, dry run, no number, an
// invalid number, not routed, client-sent x-phone-* headers overwritten or
// removed, with and without the optional metadata entries), the bytes
// encodeResponse writes read back, with protobuf-go's
// checks (UTF-8 strings included) and nothing left unknown, as exactly the
// message referenceResponse builds; the codec sends them as they are, and
// Check returns that message.
func TestResponseBytes(t *testing.T) {
	srv := New(Options{})
	srv.SetPolicy(mustCompile(t, `
version: 1
routes:
  - {name: trial, policy: standard, match: {path: /trial}, dry_run: true}
  - {name: details, policy: high-trust, match: {path: /details}, denial_details: true}
  - {name: rich, policy: enrichment, match: {path: /rich}}
  - {name: signup, policy: standard, match: {path: /signup}}
  - {name: signals, policy: standard, match: {path: /signals}, metadata_signals: true}
  - {name: signals-strict, policy: high-trust, match: {path: /signals-strict}, metadata_signals: true}
  - {name: signals-details, policy: high-trust, match: {path: /signals-details}, denial_details: true, metadata_signals: true}
  - {name: meta-details, policy: standard, match: {path: /meta-details}, metadata_details: true}
  - {name: everything, policy: standard, match: {path: /everything}, dry_run: true, metadata_details: true, metadata_signals: true}
`))
	srv.MarkWarm()
	spoof := map[string]string{"x-phone-decision": "allow", "X-Phone-Spoof": "1", "x-phone-e164": "+1"}
	// The metadata's optional entries: the request's signals (its IP's, and
	// the number's velocity, a valid number's only), the details, and a
	// dry run's.
	ip := []string{"ip_country", "ip_match"}
	signals := append(slices.Clone(ip), "seen", "recent_abuse", "velocity_source")
	details := []string{"numbers_found", "field", "disposable"}
	dryRun := []string{"dry_run", "enforced"}
	all := slices.Concat(signals, details, dryRun)
	for _, tc := range []struct {
		name, path, body string
		headers          map[string]string
		action           policy.Action // "" when no route matches
		optional         []string      // the optional entries the metadata holds
	}{
		{"allowed", "/signup", `{"phone":"+44 7400 123456"}`, nil, policy.Allow, nil},
		{"allowed, spoofed headers", "/signup", `{"phone":"+44 7400 123456"}`, spoof, policy.Allow, nil},
		{"tagged", "/signup", `{"phone":"+44 56 1234 5678"}`, nil, policy.Tag, nil},
		{"rejected", "/signup", `{"phone":"555-0100"}`, spoof, policy.Reject, nil},
		{"rejected with details", "/details", `{"phone":"+1 800 555 0199"}`, nil, policy.Reject, nil},
		{"dry run", "/trial", `{"phone":"555-0100"}`, spoof, policy.Reject, dryRun},
		{"no number", "/signup", `{"email":"a@example.com"}`, spoof, policy.Allow, nil},
		{"invalid number let through", "/rich", `{"phone":"12"}`, nil, policy.Tag, nil},
		{"two numbers", "/rich", `{"phone":"+44 7400 123456","home_phone":"+1 212 555 0123"}`, nil, policy.Tag, nil},
		{"not routed", "/other", `{"phone":"+44 7400 123456"}`, spoof, "", nil},
		{"not routed, no x-phone header", "/other", `{"phone":"+44 7400 123456"}`, nil, "", nil},
		{"allowed, metadata signals", "/signals", `{"phone":"+44 7400 123456"}`, nil, policy.Allow, signals},
		{"tagged, metadata signals", "/signals", `{"phone":"+44 56 1234 5678"}`, nil, policy.Tag, signals},
		{"rejected, metadata signals", "/signals-strict", `{"phone":"+1 800 555 0199"}`, spoof, policy.Reject, signals},
		{"invalid number, metadata signals", "/signals", `{"phone":"555-0100"}`, nil, policy.Reject, ip},
		{"rejected with details, metadata signals", "/signals-details", `{"phone":"+1 800 555 0199"}`, nil, policy.Reject, signals},
		{"no number, metadata signals", "/signals", `{"email":"a@example.com"}`, nil, policy.Allow, nil},
		{"allowed, metadata details", "/meta-details", `{"user":{"phone":"+44 7400 123456"}}`, nil, policy.Allow, details},
		{"tagged, metadata details", "/meta-details", `{"phone":"+44 56 1234 5678"}`, nil, policy.Tag, details},
		{"rejected, metadata details", "/meta-details", `{"phone":"555-0100"}`, nil, policy.Reject, details},
		{"no number, metadata details", "/meta-details", `{"email":"a@example.com"}`, nil, policy.Allow, []string{"numbers_found"}},
		{"dry run, every option", "/everything", `{"phone":"555-0100"}`, spoof, policy.Reject, slices.Concat(ip, details, dryRun)},
		{"dry run allowed, every option", "/everything", `{"phone":"+44 7400 123456"}`, nil, policy.Allow, all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := envoyCheck("POST", tc.path, "application/json", tc.body, tc.headers)
			v, f := srv.check(context.Background(), func() *policy.Request { return requestView(req, 0) })
			if f != nil {
				t.Fatal(f)
			}
			if got := v.action(); got != tc.action {
				t.Fatalf("decided %q, want %q: the case does not test what it says", got, tc.action)
			}
			b := encodeResponse(&v)
			// An allowed response without x-phone-* headers to remove is one
			// allocation: metadataRoom's bound holds.
			if !v.rejected() && tc.headers == nil {
				if n := testing.AllocsPerRun(10, func() { encodeResponse(&v) }); n != 1 {
					t.Errorf("the response took %v allocations, want 1", n)
				}
			}
			var got authv3.CheckResponse
			if err := proto.Unmarshal(b, &got); err != nil {
				t.Fatalf("the bytes do not decode: %v", err)
			}
			want := referenceResponse(&v)
			if !proto.Equal(&got, want) {
				t.Errorf("encodeResponse wrote\n%v\nthe reference is\n%v", &got, want)
			}
			for _, k := range all {
				if _, ok := got.GetDynamicMetadata().GetFields()[k]; ok != slices.Contains(tc.optional, k) {
					t.Errorf("metadata entry %s present: %v, want %v", k, ok, !ok)
				}
			}
			sent, err := newCodec().Marshal(newEncodedResponse(b))
			if err != nil || !bytes.Equal(sent.Materialize(), b) {
				t.Errorf("the codec sent %x (%v), not the bytes", sent.Materialize(), err)
			}
			viaCheck, err := srv.Check(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			// A second check of the number counts one more sighting (its
			// risk score may differ); its status and headers' names do not.
			names := func(r *authv3.CheckResponse) (n []string) {
				for _, h := range append(r.GetOkResponse().GetHeaders(), r.GetDeniedResponse().GetHeaders()...) {
					n = append(n, h.GetHeader().GetKey())
				}
				return append(n, r.GetOkResponse().GetHeadersToRemove()...)
			}
			if !proto.Equal(viaCheck.GetStatus(), got.GetStatus()) || !slices.Equal(names(viaCheck), names(&got)) {
				t.Errorf("Check returned\n%v\nthe bytes are\n%v", viaCheck, &got)
			}
		})
	}
}

// action is what the verdict decided, "" without a route.
func (v *verdict) action() policy.Action {
	if v.decision == nil {
		return ""
	}
	return v.decision.Action
}

// TestCodecLeavesOtherMessagesToProto: a message other than a Check
// response (health's, reflection's, a CheckResponse built as a message) is
// written by grpc-go's proto codec, byte for byte.
func TestCodecLeavesOtherMessagesToProto(t *testing.T) {
	theirs := encoding.GetCodecV2(grpcproto.Name)
	for _, m := range []proto.Message{
		&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING},
		&authv3.CheckResponse{Status: &rpcstatus.Status{Code: 7}, DynamicMetadata: &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewBoolValue(true)}}},
	} {
		got, err := newCodec().Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		want, err := theirs.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Materialize(), want.Materialize()) {
			t.Errorf("%T: the codec wrote %x, grpc-go's %x", m, got.Materialize(), want.Materialize())
		}
	}
}

// rawMessage is a gRPC message sent as the bytes it holds.
type rawMessage []byte

// rawCodec sends rawMessages as they are and reads replies as protobuf.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }
func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*rawMessage))}, nil
}
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}

// TestServerCodecOverGRPC: over a real connection, a CheckRequest sent as
// bytes is judged as the message is, bytes that are not a CheckRequest get
// the error grpc-go's own codec gives (and the server goes on), and health
// and server reflection, which go through grpc-go's proto codec, still
// answer and still describe Envoy's Authorization service.
func TestServerCodecOverGRPC(t *testing.T) {
	set, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, set)
	ctx := context.Background()
	conn, err := grpc.NewClient(r.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	call := func(b []byte) (*authv3.CheckResponse, error) {
		msg, resp := rawMessage(b), new(authv3.CheckResponse)
		return resp, conn.Invoke(ctx, authv3.Authorization_Check_FullMethodName, &msg, resp, grpc.ForceCodecV2(rawCodec{}))
	}

	// Two encodings of a request with a bad number: one message, and the
	// same split in two (a receiver merges them). Both are rejected.
	bad := envoyCheck("POST", "/signup", "application/json", `{"phone":"555-0100"}`, nil)
	whole, _ := proto.Marshal(bad)
	body := bad.Attributes.Request.Http.Body
	bad.Attributes.Request.Http.Body = ""
	head, _ := proto.Marshal(bad)
	split := append(head, httpReq(sfield(fHTTPBody, body))...)
	for name, b := range map[string][]byte{"one message": whole, "merged": split} {
		resp, err := call(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := codes.Code(resp.GetStatus().GetCode()); got != codes.PermissionDenied {
			t.Errorf("%s: status %v, want PermissionDenied", name, got)
		}
	}

	// Not protobuf: a gRPC error, as grpc-go's proto codec gives, and the
	// server still answers.
	if _, err := call([]byte{0x0a, 0x10, 0x01}); status.Code(err) != codes.Internal {
		t.Errorf("malformed request: %v, want code Internal", err)
	}
	if _, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"phone":"+44 7400 123456"}`, nil)); err != nil {
		t.Errorf("after a malformed request: %v", err)
	}

	if st, err := r.health.Check(ctx, &healthpb.HealthCheckRequest{Service: AuthorizationService}); err != nil || st.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health: %v %v", st, err)
	}

	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.CloseSend()
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "envoy.service.auth.v3.Authorization"},
	}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if files := resp.GetFileDescriptorResponse().GetFileDescriptorProto(); len(files) == 0 {
		t.Errorf("reflection does not describe the Authorization service: %v", resp)
	}
}
