package filter

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/internal/redistest"
	"github.com/phonegate/phonegate/policy"
	"google.golang.org/grpc/codes"
)

// signupBody is a realistic 1 KiB signup JSON body with one phone number.
func signupBody() string {
	var b strings.Builder
	b.WriteString(`{"email":"ann.example@example.com","password":"correct horse battery staple",`)
	b.WriteString(`"profile":{"first_name":"Ann","last_name":"Example","locale":"en-GB","timezone":"Europe/London",`)
	b.WriteString(`"phone":"+44 7400 123456","marketing_opt_in":false},"bio":"`)
	for b.Len() < 1000 {
		b.WriteString("lorem ipsum dolor sit amet ")
	}
	b.WriteString(`"}`)
	return b.String()
}

// BenchmarkCheck is one Check call in process, as the gRPC server handles
// it outside grpc-go's transport: the request's bytes read by the server's
// codec, the check (request view, route, extraction, insight, velocity,
// policy), the response encoded and handed to the codec. The body is a
// 1 KiB JSON signup body whose number is in the cache. The requests carry
// 8,000 distinct numbers (each checked once before timing, so each is
// cached) from 8,000 client addresses, cycled, as a signup API sees them;
// each number is seen about ten times in a run, below the velocity
// thresholds.
func BenchmarkCheck(b *testing.B) {
	srv, wire := checkBench(b)
	b.SetBytes(int64(len(signupBody())))
	codec := newCodec()
	benchmarkCodecLoop(b, codec, wire, func(in mem.BufferSlice) (any, error) {
		return checkHandler(srv, context.Background(), func(v any) error { return codec.Unmarshal(in, v) }, nil)
	})
}

// checkBench is a server with the default policy and the requests of
// BenchmarkCheck as bytes, each checked once.
func checkBench(b *testing.B) (*Server, []mem.BufferSlice) {
	set, err := policy.Default()
	if err != nil {
		b.Fatal(err)
	}
	srv := New(Options{CacheSize: 16384})
	srv.SetPolicy(set)
	srv.MarkWarm()
	var wire []mem.BufferSlice
	for _, req := range distinctChecks(8000) {
		resp, err := srv.Check(context.Background(), req)
		if err != nil || codes.Code(resp.GetStatus().GetCode()) != codes.OK {
			b.Fatalf("check: %v %v", resp, err)
		}
		raw, _ := proto.Marshal(req)
		wire = append(wire, mem.BufferSlice{mem.SliceBuffer(raw)})
	}
	return srv, wire
}

// benchmarkCodecLoop checks the requests in turn with check and has codec
// write each response.
func benchmarkCodecLoop(b *testing.B, codec encoding.CodecV2, wire []mem.BufferSlice, check func(mem.BufferSlice) (any, error)) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		resp, err := check(wire[i%len(wire)])
		if err != nil {
			b.Fatal(err)
		}
		out, err := codec.Marshal(resp)
		if err != nil {
			b.Fatal(err)
		}
		out.Free()
		i++
	}
}

// distinctChecks are n CheckRequests of signupBody's shape, each with its
// own number (+44 7400 1xxxxx, mobiles libphonenumber vouches for), request
// id and client address: signup traffic, where numbers are distinct.
func distinctChecks(n int) []*authv3.CheckRequest {
	base := signupBody()
	reqs := make([]*authv3.CheckRequest, n)
	for i := range reqs {
		body := strings.Replace(base, "+44 7400 123456", fmt.Sprintf("+44 7400 %06d", 100000+i*97), 1)
		reqs[i] = envoyCheck("POST", "/signup", "application/json", body,
			map[string]string{"x-request-id": fmt.Sprintf("6f1c5a0e-3f77-4f5e-9c3a-%012d", i)})
		reqs[i].Attributes.Source.Address.GetSocketAddress().Address = fmt.Sprintf("198.51.%d.%d", i/250, i%250+1)
	}
	return reqs
}

// BenchmarkCheckGRPC is Check over real gRPC on loopback: the client and the
// server share the machine's cores, as a sidecar shares a pod's. Four
// connections, GOMAXPROCS*16 concurrent callers, the decision log written as
// JSON (to io.Discard). It reports req/s and the median and 99th percentile
// of a check's latency as the client sees it.
func BenchmarkCheckGRPC(b *testing.B) {
	benchmarkCheckGRPC(b, Options{}, 16)
}

// BenchmarkCheckGRPCWorkers is BenchmarkCheckGRPC with grpc-go's stream
// workers off (a new goroutine a check, as grpc-go does by default) and on
// (four a CPU, phonegate's default).
func BenchmarkCheckGRPCWorkers(b *testing.B) {
	for _, w := range []struct {
		name    string
		workers int
	}{{"off", -1}, {"4xcpus", 0}} {
		b.Run("workers="+w.name, func(b *testing.B) { benchmarkCheckGRPC(b, Options{GRPCStreamWorkers: w.workers}, 16) })
	}
}

// BenchmarkVelocityGRPC is BenchmarkCheckGRPC with velocity kept in process
// (local) or shared through a real redis-server on loopback (redis, one Lua
// script a check, --redis-timeout's default), under a light load (2 callers:
// the machine is not saturated, the difference is the Redis round trip) and
// a saturating one (32 callers). It reports the share of checks that fell
// back on local counts.
func BenchmarkVelocityGRPC(b *testing.B) {
	for _, store := range []string{insight.SourceLocal, insight.SourceRedis} {
		for _, callers := range []int{2, 32} {
			b.Run(fmt.Sprintf("store=%s/callers=%d", store, callers), func(b *testing.B) {
				opts := Options{}
				var rs *insight.RedisVelocityStore
				if store == insight.SourceRedis {
					srv := redistest.Start(b)
					var err error
					rs, err = insight.NewRedisVelocityStore(insight.NewVelocityStore(insight.VelocityConfig{}), insight.RedisOptions{URL: srv.URL(), Key: fleetKey})
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { rs.Close() })
					opts = Options{Velocity: rs, HashKey: fleetKey}
				}
				benchmarkCheckGRPC(b, opts, callers/runtime.GOMAXPROCS(0))
				if rs != nil {
					b.ReportMetric(float64(rs.Degraded())/float64(b.N), "degraded/op")
				}
			})
		}
	}
}

func benchmarkCheckGRPC(b *testing.B, opts Options, parallelism int) {
	set, err := policy.Default()
	if err != nil {
		b.Fatal(err)
	}
	opts.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	srv := New(opts)
	srv.SetPolicy(set)
	srv.MarkWarm()
	r := serveOn(b, srv)
	reqs := distinctChecks(8000) // each cached by a first check below, as in BenchmarkCheck
	for _, req := range reqs {
		if _, err := srv.Check(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Uint64
	clients := make([]authv3.AuthorizationClient, 4)
	for i := range clients {
		conn, err := grpc.NewClient(strings.TrimPrefix(r.grpcAddr, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		clients[i] = authv3.NewAuthorizationClient(conn)
	}
	ctx := context.Background()
	var next atomic.Uint32
	var mu sync.Mutex
	var took []time.Duration
	b.SetParallelism(max(parallelism, 1))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c := clients[next.Add(1)%uint32(len(clients))]
		var mine []time.Duration
		for pb.Next() {
			req := reqs[seq.Add(1)%uint64(len(reqs))]
			t := time.Now()
			if _, err := c.Check(ctx, req); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t))
		}
		mu.Lock()
		took = append(took, mine...)
		mu.Unlock()
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	if len(took) > 0 {
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
	}
}

// BenchmarkCheckCodec is BenchmarkCheck done two ways. "proto" is the
// plain way, with protobuf-go's messages: grpc-go's proto codec decodes a
// CheckRequest, Check's view of it, the response built as a CheckResponse
// (referenceResponse, the oracle of TestResponseBytes) and marshalled by
// protobuf-go. "phonegate" is the server's: its codec reads the bytes, and
// the response is written as bytes from pieces encoded once
// (responsewire.go).
func BenchmarkCheckCodec(b *testing.B) {
	srv, wire := checkBench(b)
	protoCodec, ours := encoding.GetCodecV2(grpcproto.Name), newCodec()
	ctx := context.Background()
	b.Run("proto", func(b *testing.B) {
		benchmarkCodecLoop(b, protoCodec, wire, func(in mem.BufferSlice) (any, error) {
			req := new(authv3.CheckRequest)
			if err := protoCodec.Unmarshal(in, req); err != nil {
				return nil, err
			}
			v, f := srv.check(ctx, func() *policy.Request { return requestView(req, 0) })
			if f != nil {
				return nil, f
			}
			return referenceResponse(&v), nil
		})
	})
	b.Run("phonegate", func(b *testing.B) {
		benchmarkCodecLoop(b, ours, wire, func(in mem.BufferSlice) (any, error) {
			return checkHandler(srv, ctx, func(v any) error { return ours.Unmarshal(in, v) }, nil)
		})
	})
}
