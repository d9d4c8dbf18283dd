package filter

import (
	"bytes"
	"context"
	"sync"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
)

// The gRPC server's codec and its Check method read and write Envoy's
// messages with less work than grpc-go's proto codec, and otherwise are it:
//   - a Check request is read by decodeCheckRequest (wirerequest.go) from
//     one copy of its bytes, instead of being decoded into a CheckRequest;
//   - a Check response is written by encodeResponse (responsewire.go) from
//     the verdict and pieces encoded once, and sent as those bytes, instead
//     of being built as a CheckResponse and marshalled by protobuf-go
//     (go-control-plane's vtprotobuf marshallers would save part of that,
//     but are compiled only with a build tag);
//   - every other message (health, reflection) goes through grpc-go's own
//     proto codec, unchanged.

// wireCheck is the request message of the Check method as this server
// registers it: the bytes Envoy sent, read when the codec hands them over.
type wireCheck struct {
	wireRequest
}

// wireChecks keeps Check requests between calls, so that a call reuses the
// maps of an earlier one (its headers above all, a dozen or more entries)
// instead of making them again.
var wireChecks = sync.Pool{New: func() any { return new(wireCheck) }}

// maxPooledEntries bounds the maps a pooled request keeps: one made large by
// an odd request is left to the collector, not held for the next ones.
const maxPooledEntries = 64

// release gives w back for reuse once its call has answered: nothing may
// use w, or its maps, after.
func (w *wireCheck) release() {
	if w.reset() {
		wireChecks.Put(w)
	}
}

// reset empties w for another request and reports whether it is worth
// keeping. Only the emptied maps are kept (clear keeps their room): the
// request's strings point into the copy of its bytes, which is never
// reused, so a string that outlives the check (none should) still reads
// what it read.
func (w *wireCheck) reset() bool {
	headers, extensions := w.headers, w.contextExtensions
	if len(headers) > maxPooledEntries || len(extensions) > maxPooledEntries {
		return false
	}
	clear(headers)
	clear(extensions)
	*w = wireCheck{}
	w.headers, w.contextExtensions = headers, extensions
	return true
}

// codec is the server's encoding.CodecV2, named "proto" as the one it
// stands in for.
type codec struct{ proto encoding.CodecV2 }

func newCodec() codec { return codec{encoding.GetCodecV2(grpcproto.Name)} }

func (codec) Name() string { return grpcproto.Name }

func (c codec) Unmarshal(data mem.BufferSlice, v any) (err error) {
	w, ok := v.(*wireCheck)
	if !ok {
		return c.proto.Unmarshal(data, v)
	}
	// grpc-go does not recover a panic here: it would end the process.
	// FuzzWireRequestAgrees finds none; this keeps one from taking the
	// server down.
	defer func() {
		if p := recover(); p != nil {
			err = errMalformedRequest
		}
	}()
	// A copy of our own: grpc-go reuses data's buffers once this returns,
	// and the request's strings point into the copy. A message in one
	// buffer (the usual one) is cloned: bytes.Clone does not zero the
	// memory it is about to fill, as Materialize's make does.
	if len(data) == 1 {
		return w.decode(bytes.Clone(data[0].ReadOnlyData()))
	}
	return w.decode(data.Materialize())
}

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*encodedResponse); ok {
		return r.out[:], nil
	}
	return c.proto.Marshal(v)
}

// encodedResponse is a Check call's response as the codec sends it: its
// protobuf encoding (encodeResponse) as the one-buffer slice grpc-go
// writes it from.
type encodedResponse struct {
	out [1]mem.Buffer
}

func newEncodedResponse(b []byte) *encodedResponse {
	return &encodedResponse{out: [1]mem.Buffer{mem.SliceBuffer(b)}} // Free does nothing: the GC takes it
}

// bytes is the encoding.
func (r *encodedResponse) bytes() []byte { return r.out[0].ReadOnlyData() }

// authorizationService is Envoy's Authorization service as grpc-go's
// generated code registers it, except that Check receives a wireCheck.
// Its name, method and descriptor are go-control-plane's: Envoy, server
// reflection and clients see the same service.
var authorizationService = func() grpc.ServiceDesc {
	sd := authv3.Authorization_ServiceDesc
	sd.Methods = []grpc.MethodDesc{{MethodName: "Check", Handler: checkHandler}}
	return sd
}()

func checkHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	s := srv.(*Server)
	in := wireChecks.Get().(*wireCheck)
	// The response holds nothing of the request: it is encoded by the time
	// the handler returns.
	defer in.release()
	if err := dec(in); err != nil {
		// grpc-go reads a unary request here, in dec: one over
		// grpc.MaxRecvMsgSize is refused from its length alone, unread.
		if status.Code(err) == codes.ResourceExhausted {
			s.metrics.errors.WithLabelValues(faultTooLarge).Inc()
		}
		return nil, err
	}
	if interceptor == nil {
		return s.checkWire(ctx, in)
	}
	return interceptor(ctx, in, s.checkCall.info, s.checkCall.handler)
}

// checkCall is what checkHandler hands the interceptors, the same for every
// call: made with the server (newCheckCall), not per call.
type checkCall struct {
	info    *grpc.UnaryServerInfo
	handler grpc.UnaryHandler
}

func newCheckCall(s *Server) checkCall {
	return checkCall{
		info:    &grpc.UnaryServerInfo{Server: s, FullMethod: authv3.Authorization_Check_FullMethodName},
		handler: func(ctx context.Context, req any) (any, error) { return s.checkWire(ctx, req.(*wireCheck)) },
	}
}
