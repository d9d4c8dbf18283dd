// Command emptyauthz is the smallest honest Envoy ext_authz v3 gRPC server in
// Go: it answers every Check with OK at once, without reading the request. It
// is the floor phonegate is measured against (scripts/compare.sh): whatever
// CPU a check costs here is grpc-go's, protobuf's and the kernel's, and
// whatever phonegate spends above it is phonegate's own work.
//
//	go run ./scripts/emptyauthz -addr 127.0.0.1:19111
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

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
)

// okResponse is shared by every call: grpc-go only reads a response to
// encode it, so one value is enough and nothing is allocated for it per call.
var okResponse = &authv3.CheckResponse{Status: &status.Status{Code: int32(codes.OK)}}

type server struct {
	authv3.UnimplementedAuthorizationServer
}

func (server) Check(context.Context, *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	return okResponse, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9101", "`address` to serve gRPC on (ext_authz, health, reflection)")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("emptyauthz: unexpected argument %q (it takes only -addr)", flag.Arg(0))
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("emptyauthz: %v", err)
	}
	gs := grpc.NewServer()
	authv3.RegisterAuthorizationServer(gs, server{})
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
