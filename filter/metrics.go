package filter

import (
	"net/http"

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
}

func newMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
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
	m.registry.MustRegister(m.reloads, m.policyInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) setPolicy(set *policy.Set) {
	m.policyInfo.Reset()
	m.policyInfo.WithLabelValues(set.Hash, set.Source).Set(1)
}

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}
