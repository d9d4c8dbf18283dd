package filter

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/policy"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// AuthorizationService is the gRPC service name Envoy calls, and a name the
// health service answers for.
const AuthorizationService = "envoy.service.auth.v3.Authorization"

// Options configure a [Server]. The zero value is the default.
type Options struct {
	// CacheSize bounds each engine's LRU cache of insights; 0 is
	// insight.DefaultCacheSize, negative disables it.
	CacheSize int
	// XFFTrustedHops is how many proxies in front of Envoy append to
	// x-forwarded-for and are trusted to name the client.
	XFFTrustedHops int
	// Logger receives one line per decision; nil discards.
	Logger *slog.Logger
	// HashKey keys the hash of numbers in logs and metadata; nil picks a random
	// key for the life of the process.
	HashKey []byte
	// DrainTimeout bounds how long in-flight checks may take to finish after
	// shutdown begins; 0 means 10 seconds.
	DrainTimeout time.Duration
	// MaxBodyBytes bounds a body, as sent and once inflated; a larger one is
	// handled as the route handles a body Envoy cut. 0 is DefaultMaxBodyBytes.
	MaxBodyBytes int
	// HTTPAuthzPrefix is the path under which the HTTP port answers Envoy's
	// HTTP ext_authz mode; "" is DefaultHTTPAuthzPrefix.
	HTTPAuthzPrefix string
	// Pprof serves Go's /debug/pprof/ handlers on the HTTP port.
	Pprof bool
	// GeoIP places client addresses; nil is insight's embedded table.
	GeoIP insight.GeoIP
	// LogWriter, when the Logger writes through one, has its dropped lines
	// counted in the metrics.
	LogWriter *LogWriter
	// DecisionLogJSON says the Logger is a JSON handler writing to
	// LogWriter: decision lines are then written by hand into LogWriter,
	// with slog's keys (time, level, msg) and the same attributes, without
	// slog's work per attribute (it was 8% of the server's CPU under load).
	DecisionLogJSON bool
	// Velocity counts sightings of numbers; nil is an in-process
	// insight.VelocityStore. An *insight.RedisVelocityStore shares the counts
	// across replicas.
	Velocity VelocityStore
	// TracerProvider, when set, traces every check (one span, child of the
	// W3C traceparent in the checked request's headers) and every gRPC call
	// (otelgrpc); nil turns tracing off.
	TracerProvider trace.TracerProvider
	// GRPCStreamWorkers is how many long-lived goroutines handle gRPC
	// streams: 0 is four per CPU (4×GOMAXPROCS), negative turns workers off
	// (grpc-go's default: a new goroutine, and a new stack to grow, per
	// check). A stream that finds every worker busy gets a goroutine of its
	// own, as without workers. BENCHMARKS.md has the measurement behind the
	// default.
	GRPCStreamWorkers int
}

// VelocityStore counts the sightings of numbers, ranges, addresses and
// countries over the policy's window: *insight.VelocityStore in process,
// *insight.RedisVelocityStore shared through Redis. Observe never fails and
// never waits long: a store that depends on a server falls back on local
// counts.
type VelocityStore interface {
	Observe(ctx context.Context, o insight.Sighting) insight.Velocity
	Configure(cfg insight.VelocityConfig)
}

var (
	_ VelocityStore = (*insight.VelocityStore)(nil)
	_ VelocityStore = (*insight.RedisVelocityStore)(nil)
)

// Server is phonegate's ext_authz server: Envoy's Authorization service, gRPC
// health and the HTTP endpoints.
type Server struct {
	authv3.UnimplementedAuthorizationServer

	opts    Options
	log     *slog.Logger
	current atomic.Pointer[snapshot]
	swap    sync.Mutex // serialises SetPolicy; checks never take it
	warm    atomic.Bool
	health  *health.Server
	metrics *Metrics
	// checkCall is the gRPC Check method's call info and handler for the
	// interceptors (codec.go).
	checkCall checkCall
	// cacheStats are shared by every engine the server builds, so the cache
	// counters never go back when a new policy brings a new engine.
	cacheStats insight.CacheStats
	// velocity outlives policies: a reload changes its settings, not its counts.
	velocity VelocityStore
	tracing  tracing
	// lastReloadError is the last failed reload since the policy being
	// served loaded; nil when the last reload succeeded.
	lastReloadError atomic.Pointer[reloadError]
}

// reloadError is a failed reload, as /v1/config shows it.
type reloadError struct {
	At       time.Time `json:"at"`
	Problems []string  `json:"problems"`
}

// snapshot is what one check reads: a policy set and the engine built with
// its data. It is swapped whole, so a check never sees a policy with another
// policy's tables, and a reload never waits for checks or makes them wait.
type snapshot struct {
	set      *policy.Set
	engine   *insight.Engine
	loadedAt time.Time
	outcomes sync.Map // outcomeKey -> *outcome: response pieces of each decision
}

var _ authv3.AuthorizationServer = (*Server)(nil)

// New returns a server that answers NOT_SERVING until [Server.SetPolicy] has
// been called and [Server.MarkWarm] says the engine is ready.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HashKey == nil {
		opts.HashKey = make([]byte, 32)
		rand.Read(opts.HashKey)
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 10 * time.Second
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Velocity == nil {
		opts.Velocity = insight.NewVelocityStore(insight.VelocityConfig{})
	}
	s := &Server{opts: opts, log: opts.Logger, health: health.NewServer(), velocity: opts.Velocity}
	s.metrics = newMetrics(&s.cacheStats, opts.Velocity, opts.LogWriter)
	s.checkCall = newCheckCall(s)
	s.tracing = newTracing(opts.TracerProvider)
	s.updateHealth()
	return s
}

// SetPolicy swaps in a compiled policy set. Checks in flight finish with the
// set they started with. The engine, and its cache, is kept when the set's
// data tables are those of the set it replaces; otherwise a new engine is
// built with them, since cached insights were scored with the old tables.
func (s *Server) SetPolicy(set *policy.Set) {
	s.swap.Lock()
	defer s.swap.Unlock()
	next := &snapshot{set: set, loadedAt: time.Now()}
	if cur := s.current.Load(); cur != nil && reflect.DeepEqual(cur.set.Data, set.Data) {
		next.engine = cur.engine
	} else {
		next.engine = insight.New(insight.Options{
			CacheSize: s.opts.CacheSize,
			Data:      insight.DefaultData().With(set.Data),
			Stats:     &s.cacheStats,
			GeoIP:     s.opts.GeoIP,
		})
	}
	s.velocity.Configure(set.Velocity)
	s.current.Store(next)
	s.metrics.setPolicy(set)
	s.updateHealth()
}

// ApplyReload takes the result of a policy reload: a new set is swapped in; an
// error keeps the last good set, is logged with every problem, and counted.
func (s *Server) ApplyReload(set *policy.Set, err error) {
	if err != nil {
		problems := []string{err.Error()}
		if list := policy.Errors(err); list != nil {
			problems = problems[:0]
			for _, e := range list {
				problems = append(problems, e.Error())
			}
		}
		kept := ""
		if cur := s.current.Load(); cur != nil {
			kept = cur.set.Hash
		}
		s.lastReloadError.Store(&reloadError{At: time.Now(), Problems: problems})
		s.log.Error("policy reload failed; keeping the last good policy", "problems", problems, "kept_hash", kept)
		s.metrics.reloads.WithLabelValues("failure").Inc()
		return
	}
	s.SetPolicy(set)
	s.lastReloadError.Store(nil)
	s.metrics.reloads.WithLabelValues("success").Inc()
	s.log.Info("policy reloaded", "source", set.Source, "hash", set.Hash, "routes", len(set.Routes))
}

// Policy returns the policy set being served, or nil before one is loaded.
func (s *Server) Policy() *policy.Set {
	if cur := s.current.Load(); cur != nil {
		return cur.set
	}
	return nil
}

// Warm loads the engine's data (see [insight.Engine.Warm]) and marks the
// server warm. Call it after the first SetPolicy.
func (s *Server) Warm() {
	if cur := s.current.Load(); cur != nil {
		cur.engine.Warm()
	}
	s.MarkWarm()
}

// MarkWarm says the engine has loaded its data.
func (s *Server) MarkWarm() {
	s.warm.Store(true)
	s.updateHealth()
}

// Ready reports whether the server answers checks: a policy is loaded, the
// engine is warm, and it is not draining.
func (s *Server) Ready() bool {
	st, err := s.health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: ""})
	return err == nil && st.GetStatus() == healthpb.HealthCheckResponse_SERVING
}

func (s *Server) updateHealth() {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if s.current.Load() != nil && s.warm.Load() {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(AuthorizationService, st)
}

// Serve answers gRPC on grpcLis and HTTP on httpLis until ctx is done, then
// drains: health turns NOT_SERVING, in-flight checks finish (within
// Options.DrainTimeout) and Serve returns nil. It returns early with an error
// if a listener fails.
func (s *Server) Serve(ctx context.Context, grpcLis, httpLis net.Listener) error {
	gopts := []grpc.ServerOption{
		// A CheckRequest is read whole: no larger than a body phonegate
		// would read, and its headers.
		grpc.MaxRecvMsgSize(s.opts.MaxBodyBytes + grpcHeaderRoom),
		grpc.ChainUnaryInterceptor(s.metrics.grpc.unary()),
		grpc.ChainStreamInterceptor(s.metrics.grpc.stream()),
		// Envoy keeps its connections to phonegate open and, with
		// connection_keepalive set on the cluster, pings them; grpc-go's
		// default policy closes a connection pinged more often than every 5
		// minutes (GOAWAY too_many_pings). Accept pings every 10 s or more,
		// with or without a check in flight.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
	if w := s.opts.GRPCStreamWorkers; w >= 0 {
		if w == 0 {
			w = 4 * runtime.GOMAXPROCS(0)
		}
		gopts = append(gopts, grpc.NumStreamWorkers(uint32(w)))
	}
	if s.opts.TracerProvider != nil {
		gopts = append(gopts, grpc.StatsHandler(grpcStatsHandler(s.opts.TracerProvider)))
	}
	gopts = append(gopts, grpc.ForceServerCodecV2(newCodec()))
	gs := grpc.NewServer(gopts...)
	gs.RegisterService(&authorizationService, s)
	draining := make(chan struct{})
	healthpb.RegisterHealthServer(gs, drainingHealth{s.health, draining})
	reflection.Register(gs)
	s.metrics.grpc.initialize(gs) // every method's series at 0 before its first call
	hs := &http.Server{Handler: s.HTTPHandler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}

	errc := make(chan error, 2)
	go func() { errc <- gs.Serve(grpcLis) }()
	go func() {
		if err := hs.Serve(httpLis); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
			return
		}
		errc <- nil
	}()
	s.log.Info("serving", "grpc_addr", grpcLis.Addr().String(), "http_addr", httpLis.Addr().String())

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("draining")
	s.health.Shutdown() // NOT_SERVING for every service, and it stays so
	close(draining)     // Watch streams end once they have said so
	// One deadline for the whole drain, gRPC and HTTP together.
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.DrainTimeout)
	defer cancel()
	drained := make(chan struct{})
	go func() { gs.GracefulStop(); close(drained) }()
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Shutdown(drainCtx) }()
	select {
	case <-drained:
	case <-drainCtx.Done():
		s.log.Warn("drain timeout: cancelling checks still in flight", "timeout", s.opts.DrainTimeout)
		gs.Stop()
	}
	if err := <-httpDone; err != nil {
		hs.Close() // past the deadline: drop what is left
		if serveErr == nil && !errors.Is(err, context.DeadlineExceeded) {
			serveErr = err
		}
	}
	return serveErr
}

// enforced is what a route does with a decision: a dry-run route lets a
// reject through.
func enforced(a policy.Action, dryRun bool) policy.Action {
	if dryRun && a == policy.Reject {
		return policy.Allow
	}
	return a
}
