package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/phonegate/phonegate/filter"
	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/policy"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [flags]", stderr)
	policyPath := fs.String("policy", "", "policy `PATH`: a YAML file or a directory of them (default: the embedded default policy)")
	grpcAddr := fs.String("grpc-addr", "127.0.0.1:9001", "`address` of the gRPC server (ext_authz, health, reflection)")
	httpAddr := fs.String("http-addr", "127.0.0.1:9002", "`address` of the HTTP server (/healthz, /readyz)")
	cacheSize := fs.Int("cache-size", insight.DefaultCacheSize, "insights kept in the LRU cache (negative disables it)")
	xffHops := fs.Int("xff-trusted-hops", 0, "proxies in front of Envoy trusted to append to x-forwarded-for")
	drain := fs.Duration("drain-timeout", 10*time.Second, "how long in-flight checks may finish after SIGTERM")
	maxBody := fs.Int("max-body-bytes", filter.DefaultMaxBodyBytes, "largest body read, as sent and once inflated; larger ones are handled as the route's on_partial_body says")
	streamWorkers := fs.Int("grpc-stream-workers", 0, "goroutines that handle gRPC checks: 0 is four per CPU, negative starts one per check (grpc-go's default)")
	authzPrefix := fs.String("http-authz-prefix", filter.DefaultHTTPAuthzPrefix, "path prefix of the HTTP ext_authz mode on the HTTP port")
	geoipDB := fs.String("geoip-db", "", "MaxMind-format `.mmdb` database for IP countries (default: the embedded table)")
	pprofOn := fs.Bool("pprof", false, "serve Go's /debug/pprof/ profiles on the HTTP port (for diagnosis; do not expose)")
	redisURL := fs.String("redis-url", "", "share velocity counts across replicas through the Redis at `URL` (redis://[user:pass@]host:port/db or rediss://; default $PHONEGATE_REDIS_URL, else counts stay in process); needs PHONEGATE_HASH_KEY")
	redisTimeout := fs.Duration("redis-timeout", insight.DefaultRedisTimeout, "longest a check waits for Redis before deciding on this replica's counts")
	debounce := fs.Duration("reload-debounce", policy.DefaultDebounce, "how long to wait after a policy change before reloading")
	logFormat := fs.String("log-format", "json", "log format: json or text")
	logLevel := fs.String("log-level", "info", "lowest level logged: debug, info (one line per decision), warn or error")
	otlpEndpoint := fs.String("otlp-endpoint", "", "OpenTelemetry collector `URL` (OTLP/gRPC, e.g. http://otel-collector:4317) for a span per check (default: off, unless OTEL_EXPORTER_OTLP_ENDPOINT is set)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected argument %q (serve takes only flags)", rest[0])
	}
	// Every flag is checked before anything is loaded or listens.
	opts := filter.Options{
		CacheSize:         *cacheSize,
		XFFTrustedHops:    *xffHops,
		DrainTimeout:      *drain,
		MaxBodyBytes:      *maxBody,
		GRPCStreamWorkers: *streamWorkers,
		HTTPAuthzPrefix:   *authzPrefix,
		Pprof:             *pprofOn,
		HashKey:           hashKey(),
	}
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("--%w", err)
	}
	for flagName, addr := range map[string]string{"grpc-addr": *grpcAddr, "http-addr": *httpAddr} {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			return fmt.Errorf("--%s %q: want host:port, such as 127.0.0.1:9001", flagName, addr)
		}
	}
	if *grpcAddr == *httpAddr && !strings.HasSuffix(*grpcAddr, ":0") {
		return fmt.Errorf("--grpc-addr and --http-addr are both %q: they need a port each", *grpcAddr)
	}
	if *debounce <= 0 {
		return fmt.Errorf("--reload-debounce %s: want a positive duration such as 250ms", *debounce)
	}
	var handler slog.Handler
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", *logLevel)
	}
	hopts := &slog.HandlerOptions{Level: level}
	// Checks never wait for their log line: lines are queued and written by
	// one goroutine, flushed when serve returns.
	logw := filter.NewLogWriter(stderr, 0)
	defer logw.Close()
	switch *logFormat {
	case "json":
		handler = slog.NewJSONHandler(logw, hopts)
	case "text":
		handler = slog.NewTextHandler(logw, hopts)
	default:
		return fmt.Errorf("--log-format %q: want json or text", *logFormat)
	}
	log := slog.New(handler)

	// Watch before the first load, so no edit falls between the two.
	var watcher *policy.Watcher
	if *policyPath != "" {
		if watcher, err = policy.NewWatcher(*policyPath, *debounce); err != nil {
			fmt.Fprintln(stderr, err)
			return exitError(1)
		}
	}
	set, err := loadPolicy(*policyPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError(1)
	}
	tp, err := tracerProvider(ctx, *otlpEndpoint)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError(1)
	}
	var tracer trace.TracerProvider // nil: tracing off (a nil *TracerProvider would not be)
	if tp != nil {
		tracer = tp
		defer func() {
			flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			tp.Shutdown(flushCtx) // send the spans still batched
		}()
		log.Info("tracing on: a span per check over OTLP/gRPC")
	}
	grpcLis, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		return err
	}
	httpLis, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		grpcLis.Close()
		return err
	}
	var geo insight.GeoIP
	if *geoipDB != "" {
		db, err := insight.OpenMaxMind(*geoipDB)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitError(1)
		}
		defer db.Close()
		geo = db
	}
	if *redisURL == "" {
		// Read here, not as the flag's default, so that --help never prints
		// a password.
		*redisURL = os.Getenv("PHONEGATE_REDIS_URL")
	}
	var velocity filter.VelocityStore
	if *redisURL != "" {
		key := hashKey()
		if key == nil {
			fmt.Fprintln(stderr, "--redis-url needs PHONEGATE_HASH_KEY: the replicas must hash numbers alike to share their counts")
			return exitError(1)
		}
		rs, err := insight.NewRedisVelocityStore(insight.NewVelocityStore(set.Velocity), insight.RedisOptions{URL: *redisURL, Timeout: *redisTimeout, Key: key})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitError(1)
		}
		defer rs.Close()
		velocity = rs
		redis.SetLogger(redisLogger{log, new(atomic.Int64)})
		log.Info("velocity shared through redis", "timeout", redisTimeout.String())
	}
	opts.Velocity, opts.TracerProvider, opts.GeoIP, opts.Logger, opts.LogWriter = velocity, tracer, geo, log, logw
	opts.DecisionLogJSON = *logFormat == "json"
	srv := filter.New(opts)
	srv.SetPolicy(set)
	log.Info("policy loaded", "source", set.Source, "hash", set.Hash, "routes", len(set.Routes))
	go func() {
		start := time.Now()
		srv.Warm()
		log.Info("engine warm", "took_ms", float64(time.Since(start).Microseconds())/1000)
	}()
	if watcher != nil {
		go watcher.Run(ctx, set.Hash, srv.ApplyReload)
	}
	return srv.Serve(ctx, grpcLis, httpLis)
}

func loadPolicy(path string) (*policy.Set, error) {
	if path == "" {
		return policy.Default()
	}
	return policy.Load(path)
}

// hashKey is the key of the number hash in logs, from PHONEGATE_HASH_KEY; nil
// lets the server pick a random one for the life of the process.
func hashKey() []byte {
	if k := os.Getenv("PHONEGATE_HASH_KEY"); k != "" {
		return []byte(k)
	}
	return nil
}

// redisLogger sends go-redis's own messages (a failed dial, say) to the log
// at warn, as JSON like the other lines, at most one every ten seconds: while
// Redis is down every check would add one, and phonegate_velocity_degraded_total
// counts them already. They never hold a number, nor the URL's password.
type redisLogger struct {
	log  *slog.Logger
	last *atomic.Int64 // unix nanoseconds of the last message logged
}

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	now, last := time.Now().UnixNano(), l.last.Load()
	if now-last < int64(10*time.Second) || !l.last.CompareAndSwap(last, now) {
		return
	}
	l.log.WarnContext(ctx, "redis", "message", fmt.Sprintf(format, v...))
}
