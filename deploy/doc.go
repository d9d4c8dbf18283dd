// Package deploy holds what a platform team copies to run phonegate: a
// container build (Dockerfile), kustomize manifests for a pod of the app, Envoy
// and phonegate as a native sidecar (base/), an overlay for Istio's CUSTOM
// authorization (istio/), an optional component that shares velocity counts
// through Redis (components/redis/, applied by redis/); a Helm chart for the shared-service shape
// (helm/phonegate), gateway examples for Envoy Gateway and Istio's ingress
// (gateways/), and alerts, their promtool tests and a Grafana dashboard
// (monitoring/). The package has no code: its tests render the
// kustomizations with the kustomize Go API and the chart with Helm's Go SDK,
// decode every object strictly into its Kubernetes, prometheus-operator,
// Envoy Gateway, Gateway API or Istio type, run promtool on the rules, and
// check every metric the rules and the dashboard name against a real
// server's /metrics, so what is copied works.
package deploy
