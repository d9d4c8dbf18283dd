package filter

import (
	"context"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// drainingHealth is grpc.health.v1 whose Watch streams end when the server
// drains: a Watch stays open for as long as its client likes, and gRPC's
// graceful stop waits for every stream, so an open Watch (Envoy's or a
// mesh's health checker) would otherwise hold shutdown for the whole drain
// timeout. A watcher is sent NOT_SERVING first, then its stream is ended.
type drainingHealth struct {
	*health.Server
	drain <-chan struct{} // closed when draining starts
}

// watchGrace bounds how long a Watch stream may take to deliver
// NOT_SERVING once draining starts before it is ended anyway.
const watchGrace = 100 * time.Millisecond

func (h drainingHealth) Watch(req *healthpb.HealthCheckRequest, stream grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	ws := &watchStream{ServerStreamingServer: stream, ctx: ctx}
	go func() {
		select {
		case <-ctx.Done():
			return
		case <-h.drain:
		}
		// Health.Shutdown has queued NOT_SERVING for this watcher: let it
		// be sent, then end the stream.
		deadline := time.After(watchGrace)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for !ws.notServing.Load() {
			select {
			case <-ctx.Done():
				return
			case <-deadline:
				cancel()
				return
			case <-tick.C:
			}
		}
		cancel()
	}()
	err := h.Server.Watch(req, ws)
	if ctx.Err() != nil && stream.Context().Err() == nil {
		return nil // ended by the drain, not by the client
	}
	return err
}

// watchStream is a Watch stream whose context the drain can end, and which
// notes when NOT_SERVING has been sent on it.
type watchStream struct {
	grpc.ServerStreamingServer[healthpb.HealthCheckResponse]
	ctx        context.Context
	notServing atomic.Bool
}

func (w *watchStream) Context() context.Context { return w.ctx }

func (w *watchStream) Send(r *healthpb.HealthCheckResponse) error {
	err := w.ServerStreamingServer.Send(r)
	if err == nil && r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		w.notServing.Store(true)
	}
	return err
}
