package filter

// grpcHeaderRoom is what a CheckRequest may hold beyond its body: headers,
// addresses, context extensions. The gRPC receive limit is the body limit
// plus this, so that a body Envoy was allowed to send is never refused by
// gRPC, and nothing much larger is read into memory.
const grpcHeaderRoom = 256 << 10

// faultTooLarge is a CheckRequest over the gRPC receive limit: gRPC refuses
// it (RESOURCE_EXHAUSTED) from its length, without reading it, so Envoy's
// failure_mode_allow decides; checkHandler counts it.
const faultTooLarge = "too_large"
