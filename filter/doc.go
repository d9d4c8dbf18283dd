// Package filter is the Envoy side of phonegate: an implementation of Envoy's
// external authorization service (envoy.service.auth.v3.Authorization) and the
// HTTP port beside it.
//
// # One check
//
// [Server.Check] turns Envoy's CheckRequest into a [policy.Request] (method,
// path, host, lower-case headers, the raw body, whether Envoy cut it, the
// client IP, the route's context_extensions), asks the loaded [policy.Set] for
// the route, extracts the phone numbers the route names from the body (JSON,
// form or multipart), scores each with the [insight.Engine], and lets the
// route's policy decide. The strictest decision of all numbers wins.
//
// # The answer
//
// Allow and tag are an OK CheckResponse whose OkHttpResponse sets the
// x-phone-* headers (x-phone-decision, x-phone-tags, x-phone-e164,
// x-phone-country, x-phone-line-type, x-phone-carrier, x-phone-confidence,
// x-phone-risk-score, x-phone-disposable, x-phone-policy) with overwrite
// semantics and removes every other client-sent x-phone-* header, on every
// checked request, matched or not, so the upstream can trust them. Dynamic
// metadata carries the same for Envoy's access log, with a keyed hash in place
// of the number. A reject is PERMISSION_DENIED with a DeniedHttpResponse: the
// rule's status (403 by default), content-type application/json and the body
// {"error":"phone_rejected","message":...,"policy":...,"field":...}.
//
// A fault of phonegate's (no policy yet, a route Envoy names that the policy
// lacks, a rule that fails to evaluate, a recovered panic) is a gRPC error and
// never a denial, so Envoy's failure_mode_allow decides.
//
// # Serving
//
// [Server.Serve] runs the gRPC server (Authorization, grpc.health.v1 and
// reflection) and the HTTP server: /healthz, /readyz, /metrics (Prometheus),
// /v1/insight, and Envoy's HTTP ext_authz mode under /authz, which answers
// with the same decisions as Check. Health is NOT_SERVING until a policy is
// loaded and the engine is warm, and again while draining.
//
// With [Options.TracerProvider] set, every check is one span, a child of the
// W3C traceparent in the checked request's headers, whose attributes name the
// route, policy, decision, reason and rule and never a number (trace.go); gRPC
// calls are traced by otelgrpc. The standard gRPC server metrics
// (grpc_server_*) are served beside phonegate's own.
//
// One file per concern: request.go (CheckRequest -> request view), body.go
// (content-encoding and size), extract.go (numbers out of JSON, forms,
// multipart and free text), check.go (the check every transport shares),
// response.go (decision -> CheckResponse), httpauthz.go (the HTTP mode),
// metrics.go, trace.go, server.go (lifecycle, policy swaps, health).
//
// This package is the only one that imports go-control-plane; it knows nothing
// of YAML or of how numbers are scored.
package filter
