package filter

import (
	"bytes"
	"context"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/phonegate/phonegate/policy"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// TestCodecWritesWhatProtoWrites: every kind of response the server sends
// (allowed and tagged, rejected, dry run, spoofed headers removed, not
// routed) reads back, after the server's codec wrote it, as the message
// grpc-go's proto codec would have sent.
func TestCodecWritesWhatProtoWrites(t *testing.T) {
	srv := New(Options{})
	srv.SetPolicy(mustCompile(t, `
version: 1
routes:
  - {name: trial, policy: standard, match: {path: /trial}, dry_run: true}
  - {name: signup, policy: standard, match: {path: /signup}, denial_details: true}
`))
	srv.MarkWarm()
	ours, theirs := newCodec(), encoding.GetCodecV2(grpcproto.Name)
	for _, tc := range []struct{ name, path, body string }{
		{"allowed", "/signup", `{"phone":"+44 7400 123456"}`},
		{"rejected", "/signup", `{"phone":"555-0100"}`},
		{"dry run", "/trial", `{"phone":"555-0100"}`},
		{"no number", "/signup", `{"email":"a@example.com"}`},
		{"not routed", "/other", `{"phone":"+44 7400 123456"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := envoyCheck("POST", tc.path, "application/json", tc.body, map[string]string{"x-phone-decision": "allow", "X-Phone-Spoof": "1"})
			resp, err := srv.Check(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ours.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			want, err := theirs.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			var gotMsg, wantMsg authv3.CheckResponse
			if err := proto.Unmarshal(got.Materialize(), &gotMsg); err != nil {
				t.Fatal(err)
			}
			if err := proto.Unmarshal(want.Materialize(), &wantMsg); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(&gotMsg, &wantMsg) {
				t.Errorf("the codec wrote\n%v\nproto writes\n%v", &gotMsg, &wantMsg)
			}
			if _, ok := marshalCheckResponse(resp); !ok {
				t.Error("marshalCheckResponse left the response to protobuf-go")
			}
			if !bytes.Equal(got.Materialize(), want.Materialize()) {
				t.Errorf("bytes differ from protobuf-go's:\n%x\n%x", got.Materialize(), want.Materialize())
			}
			if tc.path != "/other" && len(gotMsg.GetDynamicMetadata().GetFields()) == 0 {
				t.Error("no dynamic metadata in the response as written")
			}
		})
	}
}

// TestCodecFallsBackForOtherFields: a response with a field
// marshalCheckResponse does not write is written by protobuf-go, whole.
func TestCodecFallsBackForOtherFields(t *testing.T) {
	hdr := func() []*corev3.HeaderValueOption { return []*corev3.HeaderValueOption{newHeader("x-a", "1")} }
	unknown := protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 1)
	optUnknown, valueUnknown := newHeader("x-a", "1"), newHeader("x-b", "2")
	optUnknown.ProtoReflect().SetUnknown(unknown)
	valueUnknown.Header.ProtoReflect().SetUnknown(unknown)
	for name, resp := range map[string]*authv3.CheckResponse{
		"response headers to add": {Status: okStatus, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
			Headers: hdr(), ResponseHeadersToAdd: hdr()}}},
		"an error response":     {HttpResponse: &authv3.CheckResponse_ErrorResponse{ErrorResponse: &authv3.DeniedHttpResponse{Body: "x"}}},
		"metadata as a message": {Status: okStatus, DynamicMetadata: &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewBoolValue(true)}}},
		"a header option with an unknown field": {Status: okStatus, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
			Headers: []*corev3.HeaderValueOption{optUnknown}}}},
		"a header value with an unknown field": {Status: deniedStatus, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Headers: []*corev3.HeaderValueOption{valueUnknown}}}},
		"a header with keep_empty_value": {Status: okStatus, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
			Headers: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-a"}, KeepEmptyValue: true}}}}},
	} {
		if _, ok := marshalCheckResponse(resp); ok {
			t.Errorf("%s: marshalCheckResponse wrote it", name)
		}
		got, err := newCodec().Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		var back authv3.CheckResponse
		if err := proto.Unmarshal(got.Materialize(), &back); err != nil || !proto.Equal(&back, resp) {
			t.Errorf("%s: read back %v (%v), sent %v", name, &back, err, resp)
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
