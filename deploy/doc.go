// Package deploy holds what a platform team copies to run phonegate: a
// container build (Dockerfile), kustomize manifests for a pod of the app,
// Envoy and phonegate as a native sidecar (base/), an overlay for Istio's
// CUSTOM authorization (istio/), and an optional component that shares
// velocity counts through Redis (components/redis/, applied by redis/). The
// package has no code: its tests render the kustomizations with the
// kustomize Go API and decode every object strictly into its Kubernetes or
// Istio API type, so what is copied works.
package deploy
