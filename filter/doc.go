// Package filter is the Envoy side of phonegate: an implementation of Envoy's
// external authorization service (envoy.service.auth.v3.Authorization) and the
// HTTP port beside it.
//
// # One check
//
// [Server.Check] turns Envoy's CheckRequest into a [policy.Request] (method,
// normalized path, host, lower-case headers, the raw body, whether Envoy cut
// it, the client IP, the route's context_extensions), asks the loaded
// [policy.Set] for the route, reads the body into a tree of keys (JSON, forms
// and multipart with bracket names, GraphQL arguments), finds the values the
// route's fields name in it (the model is stated in package policy's doc),
// scores each with the [insight.Engine], and lets the route's policy decide.
// The strictest decision of all numbers wins.
//
// Each number found is a sighting for the server's [VelocityStore]: in
// process by default, or an *insight.RedisVelocityStore (Options.Velocity)
// that shares the counts of every replica through Redis and, when Redis does
// not answer within its timeout, answers with local counts, counted in
// phonegate_velocity_degraded_total. Velocity never fails a check.
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
// The gRPC server reads a CheckRequest from its bytes as received, for the
// fields phonegate uses, with protobuf's rules for repeated and merged fields
// (wirerequest.go, held to proto.Unmarshal by a fuzz target), and writes
// the CheckResponse as bytes straight from the decision and pieces encoded
// once per decision and per number (responsewire.go, held to a response
// built with protobuf-go's messages); codec.go plugs both into grpc-go for
// the Check method alone. [Server.Check] takes a decoded CheckRequest, for
// callers in process, judges it the same way and returns the same bytes
// decoded.
//
// With [Options.TracerProvider] set, every check is one span, a child of the
// W3C traceparent in the checked request's headers, whose attributes name the
// route, policy, decision, reason and rule and never a number (trace.go); gRPC
// calls are traced by otelgrpc. The standard gRPC server metrics
// (grpc_server_*, as go-grpc-middleware's provider names them; grpcmetrics.go)
// are served beside phonegate's own.
//
// One file per concern: request.go (CheckRequest -> request view) with
// wirerequest.go and codec.go (the same from the bytes), body.go
// (content-encoding and size), tree.go (the tree a body is read into) with
// json.go, form.go (forms and multipart) and graphql.go, walk.go (the values
// a route's fields name) with phonekey.go (which keys auto reads), extract.go
// (content types, free text), redact.go (nothing from a request in a
// message), check.go (the check every transport shares),
// response.go (what a decision sets: headers, metadata, a denial's body)
// with prebuilt.go (the pieces encoded once) and responsewire.go (the
// CheckResponse's bytes), logwriter.go and decisionlog.go
// (the decision log), httpauthz.go (the HTTP mode), metrics.go with
// grpcmetrics.go, trace.go, server.go (lifecycle, policy swaps, health).
//
// This package is the only one that imports go-control-plane; it knows nothing
// of YAML or of how numbers are scored.
package filter
