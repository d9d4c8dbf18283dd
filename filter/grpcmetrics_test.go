package filter

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/phonegate/phonegate/policy"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
)

// TestGRPCMetricsMatchGoGRPCMiddleware: phonegate's gRPC metrics are
// go-grpc-middleware's Prometheus provider's, as dashboards and alerts read
// them. Both count the same calls on one real server (unary calls that
// succeed and fail, a server stream cancelled, a bidirectional stream),
// and expose the same families, help, types, series and counts.
func TestGRPCMetricsMatchGoGRPCMiddleware(t *testing.T) {
	theirs := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(grpcprom.WithHistogramBuckets(grpcHandlingBuckets)))
	ours := newGRPCMetrics(grpcHandlingBuckets)
	srv := New(Options{})
	gs := grpc.NewServer(
		grpc.ForceServerCodecV2(newCodec()),
		grpc.ChainUnaryInterceptor(theirs.UnaryServerInterceptor(), ours.unary()),
		grpc.ChainStreamInterceptor(theirs.StreamServerInterceptor(), ours.stream()),
	)
	gs.RegisterService(&authorizationService, srv)
	healthpb.RegisterHealthServer(gs, health.NewServer())
	reflection.Register(gs)
	theirs.InitializeMetrics(gs)
	ours.initialize(gs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(lis)
	defer gs.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	auth := authv3.NewAuthorizationClient(conn)
	req := envoyCheck("POST", "/signup", "application/json", `{"phone":"+44 7400 123456"}`, nil)

	if _, err := auth.Check(ctx, req); err == nil {
		t.Fatal("Check with no policy loaded: no error")
	}
	set, _ := policy.Default()
	srv.SetPolicy(set)
	for range 3 {
		if _, err := auth.Check(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	hc := healthpb.NewHealthClient(conn)
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	watch, err := hc.Watch(wctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	refl, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refl.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	if _, err := refl.Recv(); err != nil {
		t.Fatal(err)
	}
	refl.CloseSend()
	refl.Recv() // io.EOF once the server has ended the stream
	// Both see a stream end at once; wait until both counted it.
	gs.GracefulStop()

	got, want := gathered(t, ours), gathered(t, theirs)
	if len(want) != 5 {
		t.Fatalf("go-grpc-middleware exposes %d families, want 5", len(want))
	}
	for name, w := range want {
		if g := got[name]; g != w {
			t.Errorf("%s:\n ours   %s\n theirs %s", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: not one of go-grpc-middleware's", name)
		}
	}
}

// gathered is each family of c written as one comparable line: help, type,
// and each series' labels and count (a histogram's sample count and
// buckets' bounds, not its times).
func gathered(t *testing.T, c prometheus.Collector) map[string]string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, mf := range mfs {
		var series []string
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := fmt.Sprint(m.GetCounter().GetValue())
			if mf.GetType() == dto.MetricType_HISTOGRAM {
				var bounds []string
				for _, b := range m.GetHistogram().GetBucket() {
					bounds = append(bounds, fmt.Sprint(b.GetUpperBound()))
				}
				v = fmt.Sprintf("%d samples, buckets %s", m.GetHistogram().GetSampleCount(), strings.Join(bounds, ","))
			}
			series = append(series, strings.Join(labels, ",")+" "+v)
		}
		sort.Strings(series)
		out[mf.GetName()] = fmt.Sprintf("%s | %s | %s", mf.GetHelp(), mf.GetType(), strings.Join(series, "; "))
	}
	return out
}

// BenchmarkGRPCMetricsUnary is what counting one Check costs, the handler
// doing nothing: go-grpc-middleware's interceptor against phonegate's.
func BenchmarkGRPCMetricsUnary(b *testing.B) {
	theirs := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(grpcprom.WithHistogramBuckets(grpcHandlingBuckets)))
	ours := newGRPCMetrics(grpcHandlingBuckets)
	gs := grpc.NewServer()
	gs.RegisterService(&authorizationService, New(Options{}))
	theirs.InitializeMetrics(gs)
	ours.initialize(gs)
	info := &grpc.UnaryServerInfo{FullMethod: authv3.Authorization_Check_FullMethodName}
	handler := func(context.Context, any) (any, error) { return nil, nil }
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		i    grpc.UnaryServerInterceptor
	}{{"go-grpc-middleware", theirs.UnaryServerInterceptor()}, {"phonegate", ours.unary()}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.i(ctx, nil, info, handler)
			}
		})
	}
}
