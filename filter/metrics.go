package filter

import (
	"errors"
	"net/http"
	"runtime"
	"time"

	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/internal/buildinfo"
	"github.com/phonegate/phonegate/policy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the server's Prometheus collectors, on a registry of its own
// (so tests and several servers in one process do not collide), served at
// /metrics with the Go and process collectors.
type Metrics struct {
	registry   *prometheus.Registry
	reloads    *prometheus.CounterVec
	policyInfo *prometheus.GaugeVec
	checks     *prometheus.CounterVec
	latency    prometheus.Histogram
	numbers    *prometheus.CounterVec
	errors     *prometheus.CounterVec
	ruleErrors *prometheus.CounterVec
	// grpc are the standard gRPC server metrics (grpc_server_started_total,
	// grpc_server_handled_total, grpc_server_handling_seconds, ...), by
	// service, method and code, as every gRPC service of a platform has them.
	grpc *grpcMetrics
}

// degradedCounter is a velocity store that may answer with local counts
// because its shared store did not (insight.RedisVelocityStore).
type degradedCounter interface{ Degraded() uint64 }

// grpcHandlingBuckets are the buckets of grpc_server_handling_seconds: from
// half a millisecond to a second, with 125 ms (half of the 250 ms ext_authz
// timeout of envoy.yaml, the latency alert's budget) and 250 ms as bounds.
var grpcHandlingBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.125, 0.25, 0.5, 1}

func newMetrics(cache *insight.CacheStats, velocity VelocityStore, logw *LogWriter) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "phonegate_checks_total",
			Help: "Checks decided, by route, policy, decision (allow, tag, reject: the real decision, enforced or not on dry-run routes) and reason (rule, no_rule, no_number, partial_body, body_too_large, unparsable_body; none for requests no route matched).",
		}, []string{"route", "policy", "decision", "reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "phonegate_check_duration_seconds",
			Help:    "Time to answer a check, from the request view to the decision, faults included.",
			Buckets: prometheus.ExponentialBuckets(10e-6, 2.5, 10), // 10 µs to 38 ms
		}),
		numbers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "phonegate_numbers_found_total",
			Help: "Phone numbers found in request bodies, by route.",
		}, []string{"route"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "phonegate_check_errors_total",
			Help: "Checks that failed with a fault of phonegate's (a gRPC error: Envoy's failure_mode_allow decides), by kind: no_policy, unknown_route, rule, canceled, panic, too_large (a CheckRequest over the gRPC receive limit, --max-body-bytes plus 256 KiB, refused by gRPC).",
		}, []string{"kind"}),
		ruleErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "phonegate_rule_errors_total",
			Help: "Rules that failed to evaluate at run time (each also a check fault of kind rule), by policy and rule.",
		}, []string{"policy", "rule"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "phonegate_policy_reload_total",
			Help: "Policy reloads after a change on disk, by result: success (swapped in) or failure (the last good policy kept).",
		}, []string{"result"}),
		policyInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "phonegate_policy_info",
			Help: "The policy being served: 1 for its hash (the first 12 hex digits of its files' SHA-256) and source.",
		}, []string{"hash", "source"}),
	}
	for _, result := range []string{"success", "failure"} {
		m.reloads.WithLabelValues(result) // exported at 0 before the first reload
	}
	for _, kind := range []string{faultNoPolicy, faultUnknownRoute, faultRule, faultCanceled, faultPanic, faultTooLarge} {
		m.errors.WithLabelValues(kind)
	}
	cacheHits := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "phonegate_insight_cache_hits_total",
		Help: "Insights answered from the LRU cache.",
	}, func() float64 { return float64(cache.Hits.Load()) })
	cacheMisses := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "phonegate_insight_cache_misses_total",
		Help: "Insights computed because the LRU cache did not hold them.",
	}, func() float64 { return float64(cache.Misses.Load()) })
	logDropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "phonegate_log_lines_dropped_total",
		Help: "Log lines dropped because the log's destination was slower than the checks (a check never waits for its log line).",
	}, func() float64 {
		if logw == nil {
			return 0
		}
		return float64(logw.Dropped())
	})
	velocityDegraded := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "phonegate_velocity_degraded_total",
		Help: "Checks whose velocity counts are this replica's alone because Redis (--redis-url) did not answer within --redis-timeout; 0 without Redis.",
	}, func() float64 {
		if d, ok := velocity.(degradedCounter); ok {
			return float64(d.Degraded())
		}
		return 0
	})
	m.grpc = newGRPCMetrics(grpcHandlingBuckets)
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "phonegate_build_info",
		Help: "1, labelled with phonegate's version, the Go version, the libphonenumber metadata release and each embedded data set's version (and newest date), as `phonegate version` prints them.",
	}, append([]string{"version", "goversion"}, dataSetLabels()...))
	buildInfo.WithLabelValues(append([]string{buildinfo.Version(), runtime.Version()}, dataSetValues()...)...).Set(1)
	m.registry.MustRegister(buildInfo, logDropped, velocityDegraded, m.reloads, m.policyInfo, m.checks, m.latency, m.numbers, m.errors, m.ruleErrors, cacheHits, cacheMisses, m.grpc,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// dataSetLabels and dataSetValues spell the embedded data sets as labels of
// phonegate_build_info: one label a set, its version and newest date.
func dataSetLabels() []string {
	var labels []string
	for _, d := range insight.DataSets() {
		labels = append(labels, d.Name)
	}
	return labels
}

func dataSetValues() []string {
	var values []string
	for _, d := range insight.DataSets() {
		v := d.Version
		if d.Date != "" {
			v += " " + d.Date
		}
		values = append(values, v)
	}
	return values
}

func (m *Metrics) setPolicy(set *policy.Set) {
	m.policyInfo.Reset()
	m.policyInfo.WithLabelValues(set.Hash, set.Source).Set(1)
	// Every rule's error counter starts at 0, so an alert on its rate sees
	// the series before the first failure.
	for _, p := range set.Policies {
		for _, r := range p.Rules {
			m.ruleErrors.WithLabelValues(p.Name, r.Name)
		}
	}
}

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// observe counts one check: its decision, or its fault, and its latency.
func (m *Metrics) observe(v *verdict, f *fault, took time.Duration) {
	m.latency.Observe(took.Seconds())
	switch {
	case f != nil:
		m.errors.WithLabelValues(f.kind).Inc()
		var re *policy.RuleError
		if errors.As(f.err, &re) {
			m.ruleErrors.WithLabelValues(re.Policy, re.Rule).Inc()
		}
	case v.decision == nil:
		m.checks.WithLabelValues("", "", string(policy.Allow), "").Inc()
	default:
		d, o := v.decision, v.outcome() // check sets v.metrics: o has the series
		o.checks.Inc()
		if d.Numbers > 0 {
			o.numbers.Add(float64(d.Numbers))
		}
	}
}
