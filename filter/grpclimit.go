package filter

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// grpcHeaderRoom is what a CheckRequest may hold beyond its body: headers,
// addresses, context extensions. The gRPC receive limit is the body limit
// plus this, so that a body Envoy was allowed to send is never refused by
// gRPC, and nothing much larger is read into memory.
const grpcHeaderRoom = 256 << 10

// faultTooLarge is a CheckRequest over the gRPC receive limit: gRPC refuses
// it (RESOURCE_EXHAUSTED) before phonegate sees it, so Envoy's
// failure_mode_allow decides.
const faultTooLarge = "too_large"

// oversizeCounter is a gRPC stats handler that counts calls refused for
// their size: they end before any interceptor or handler runs.
type oversizeCounter struct{ m *Metrics }

var _ stats.Handler = oversizeCounter{}

func (o oversizeCounter) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (o oversizeCounter) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (o oversizeCounter) HandleConn(context.Context, stats.ConnStats) {}

func (o oversizeCounter) HandleRPC(_ context.Context, s stats.RPCStats) {
	if end, ok := s.(*stats.End); ok && end.Error != nil && status.Code(end.Error) == codes.ResourceExhausted {
		o.m.errors.WithLabelValues(faultTooLarge).Inc()
	}
}
