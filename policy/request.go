package policy

// Request is the plain view of one request that routes match and rules read.
// Package filter builds it from Envoy's CheckRequest; nothing here knows gRPC.
type Request struct {
	Method string
	Path   string // without the query string
	Host   string
	// Headers have lower-case names, as Envoy sends them.
	Headers     map[string]string
	ContentType string
	Body        []byte
	// PartialBody is true when Envoy cut the body at its buffer limit
	// (x-envoy-auth-partial-body: true): numbers past the cut are unseen.
	PartialBody bool
	ClientIP    string
	// ContextExtensions are the per-route values from Envoy's
	// check_settings.context_extensions.
	ContextExtensions map[string]string
}

// RouteExtensionKey is the context_extensions key that names a route directly.
const RouteExtensionKey = "phonegate-route"
