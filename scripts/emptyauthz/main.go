// Command emptyauthz is the smallest honest Envoy ext_authz v3 gRPC server in
// Go: it answers every Check with OK at once, without reading the request. It
// is the floor phonegate is measured against (scripts/compare.sh): whatever
// CPU a check costs here is grpc-go's, protobuf's and the kernel's, and
// whatever phonegate spends above it is phonegate's own work.
//
//	go run ./scripts/emptyauthz -addr 127.0.0.1:19111
//
// With -sized it answers every Check with a response of the size and shape
// of phonegate's answer to scripts/compare.sh's request instead (nine
// x-phone-* headers, ten dynamic metadata entries, 559 bytes: a route
// without metadata_details or metadata_signals), encoded once: what the client's and the
// transport's side of a check cost for that response, with no judging.
// compare.sh --empty-sized runs it so.
//
// Like phonegate it serves grpc.health.v1 (SERVING from the start) and server
// reflection (ghz reads the service's descriptor through it once, before a
// run). It has no interceptors, no stats handler and no logging. SIGTERM or
// Ctrl-C stops it gracefully.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// okResponse is shared by every call: grpc-go only reads a response to
// encode it, so one value is enough and nothing is allocated for it per call.
var okResponse = &authv3.CheckResponse{Status: &status.Status{Code: int32(codes.OK)}}

type server struct {
	authv3.UnimplementedAuthorizationServer
	answer *authv3.CheckResponse
}

func (s server) Check(context.Context, *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	return s.answer, nil
}

// sizedResponse is a response shaped as phonegate's to compare.sh's request,
// held as its encoding: its bytes are the message's unknown fields, so
// encoding it is a copy, as phonegate's own encoding nearly is.
func sizedResponse() *authv3.CheckResponse {
	var headers []*corev3.HeaderValueOption
	for _, kv := range [][2]string{{"x-phone-decision", "allow"}, {"x-phone-policy", "standard"},
		{"x-phone-e164", "+447400123456"}, {"x-phone-country", "GB"}, {"x-phone-line-type", "mobile"},
		{"x-phone-confidence", "verified"}, {"x-phone-risk-score", "5"}, {"x-phone-disposable", "false"},
		{"x-phone-carrier", "Three"}} {
		headers = append(headers, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: kv[0], Value: kv[1]},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD})
	}
	md, err := structpb.NewStruct(map[string]any{
		"decision": "allow", "reason": "no_rule", "route": "default", "policy": "standard",
		"decision_id": "6f1c5a0e-3f77-4f5e-9c3a-2b6d0d8f3b1a", "number_hash": "0123456789abcdef",
		"country": "GB", "line_type": "mobile", "confidence": "verified", "risk_score": 5.0,
	})
	if err != nil {
		log.Fatalf("emptyauthz: %v", err)
	}
	full := &authv3.CheckResponse{Status: &status.Status{Code: int32(codes.OK)}, DynamicMetadata: md,
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{Headers: headers}}}
	b, err := proto.Marshal(full)
	if err != nil {
		log.Fatalf("emptyauthz: %v", err)
	}
	resp := &authv3.CheckResponse{}
	resp.ProtoReflect().SetUnknown(b)
	return resp
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9101", "`address` to serve gRPC on (ext_authz, health, reflection)")
	sized := flag.Bool("sized", false, "answer with a response of phonegate's size and shape, not a bare OK")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("emptyauthz: unexpected argument %q (it takes only -addr and -sized)", flag.Arg(0))
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("emptyauthz: %v", err)
	}
	gs := grpc.NewServer()
	srv := server{answer: okResponse}
	if *sized {
		srv.answer = sizedResponse()
	}
	authv3.RegisterAuthorizationServer(gs, srv)
	hs := health.NewServer() // "" is SERVING from the start
	hs.SetServingStatus(authv3.Authorization_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		hs.Shutdown()
		gs.GracefulStop()
	}()
	log.Printf("emptyauthz: serving on %s", lis.Addr())
	if err := gs.Serve(lis); err != nil {
		log.Fatalf("emptyauthz: %v", err)
	}
}
