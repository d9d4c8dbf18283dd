package filter

import (
	"context"
	"maps"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcMetrics are the standard gRPC server metrics of go-grpc-middleware's
// Prometheus provider (grpc_server_started_total, _handled_total,
// _msg_received_total, _msg_sent_total, _handling_seconds): the same names,
// help, labels and counts, which dashboards and alerts read
// (TestGRPCMetricsMatchGoGRPCMiddleware holds them to the provider). The
// provider builds a reporter and looks up five series by their label values
// on every call, a few microseconds a Check; here each method's series are
// looked up once, when the server is built, and a call adds to them.
type grpcMetrics struct {
	started, handled, received, sent *prometheus.CounterVec
	handling                         *prometheus.HistogramVec
	// methods are the series of each registered method, by full method
	// name: a map replaced whole by initialize, never written in place.
	methods atomic.Pointer[map[string]*methodSeries]
}

// methodSeries are one method's series; handled by status code.
type methodSeries struct {
	started, received, sent prometheus.Counter
	handling                prometheus.Observer
	handled                 [codes.Unauthenticated + 1]prometheus.Counter
	handledVec              *prometheus.CounterVec // for a code grpc-go does not define
	labels                  [3]string              // grpc_type, grpc_service, grpc_method
}

func newGRPCMetrics(buckets []float64) *grpcMetrics {
	labels := []string{"grpc_type", "grpc_service", "grpc_method"}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	return &grpcMetrics{
		started:  counter("grpc_server_started_total", "Total number of RPCs started on the server.", labels...),
		handled:  counter("grpc_server_handled_total", "Total number of RPCs completed on the server, regardless of success or failure.", append(labels, "grpc_code")...),
		received: counter("grpc_server_msg_received_total", "Total number of RPC stream messages received on the server.", labels...),
		sent:     counter("grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.", labels...),
		handling: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grpc_server_handling_seconds",
			Help:    "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
			Buckets: buckets,
		}, labels),
	}
}

func (m *grpcMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.started.Describe(ch)
	m.handled.Describe(ch)
	m.received.Describe(ch)
	m.sent.Describe(ch)
	m.handling.Describe(ch)
}

func (m *grpcMetrics) Collect(ch chan<- prometheus.Metric) {
	m.started.Collect(ch)
	m.handled.Collect(ch)
	m.received.Collect(ch)
	m.sent.Collect(ch)
	m.handling.Collect(ch)
}

// initialize makes every method's series, at 0, before the first call.
func (m *grpcMetrics) initialize(gs *grpc.Server) {
	methods := map[string]*methodSeries{}
	if old := m.methods.Load(); old != nil {
		maps.Copy(methods, *old)
	}
	for service, info := range gs.GetServiceInfo() {
		for _, mi := range info.Methods {
			typ := "unary"
			switch {
			case mi.IsClientStream && mi.IsServerStream:
				typ = "bidi_stream"
			case mi.IsClientStream:
				typ = "client_stream"
			case mi.IsServerStream:
				typ = "server_stream"
			}
			methods["/"+service+"/"+mi.Name] = m.series(typ, service, mi.Name)
		}
	}
	m.methods.Store(&methods)
}

func (m *grpcMetrics) series(typ, service, method string) *methodSeries {
	s := &methodSeries{labels: [3]string{typ, service, method}, handledVec: m.handled}
	s.started = m.started.WithLabelValues(typ, service, method)
	s.received = m.received.WithLabelValues(typ, service, method)
	s.sent = m.sent.WithLabelValues(typ, service, method)
	s.handling = m.handling.WithLabelValues(typ, service, method)
	for c := range s.handled {
		s.handled[c] = m.handled.WithLabelValues(typ, service, method, codes.Code(c).String())
	}
	return s
}

// of returns a call's series: its method's, or (for a method the server
// did not register, which no interceptor sees today) looked up by name.
func (m *grpcMetrics) of(fullMethod, typ string) *methodSeries {
	if methods := m.methods.Load(); methods != nil {
		if s, ok := (*methods)[fullMethod]; ok {
			return s
		}
	}
	service, method := "unknown", "unknown"
	if name := strings.TrimPrefix(fullMethod, "/"); strings.Contains(name, "/") {
		service, method, _ = strings.Cut(name, "/")
	}
	return m.series(typ, service, method)
}

// done counts a finished call by its status code, as the provider does: a
// context error is the code gRPC gives it.
func (s *methodSeries) done(err error, start time.Time) {
	st, ok := status.FromError(err)
	if !ok {
		st = status.FromContextError(err)
	}
	if c := st.Code(); int(c) < len(s.handled) {
		s.handled[c].Inc()
	} else {
		// Not a code grpc-go defines: its own series, as the provider makes.
		s.handledVec.WithLabelValues(s.labels[0], s.labels[1], s.labels[2], c.String()).Inc()
	}
	s.handling.Observe(time.Since(start).Seconds())
}

// unary counts a unary call: started, its request received, its response
// sent (when there is one), handled by code, and its time.
func (m *grpcMetrics) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		s := m.of(info.FullMethod, "unary")
		s.started.Inc()
		s.received.Inc()
		resp, err := handler(ctx, req)
		if err == nil {
			s.sent.Inc()
		}
		s.done(err, start)
		return resp, err
	}
}

// stream counts a streaming call: started, each message received and sent,
// handled by code when it ends, and its time.
func (m *grpcMetrics) stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		typ := "bidi_stream"
		switch {
		case info.IsClientStream && !info.IsServerStream:
			typ = "client_stream"
		case !info.IsClientStream && info.IsServerStream:
			typ = "server_stream"
		}
		s := m.of(info.FullMethod, typ)
		s.started.Inc()
		err := handler(srv, &countedStream{ServerStream: ss, series: s})
		s.done(err, start)
		return err
	}
}

// countedStream counts the messages a stream receives and sends.
type countedStream struct {
	grpc.ServerStream
	series *methodSeries
}

func (c *countedStream) SendMsg(msg any) error {
	err := c.ServerStream.SendMsg(msg)
	if err == nil {
		c.series.sent.Inc()
	}
	return err
}

func (c *countedStream) RecvMsg(msg any) error {
	err := c.ServerStream.RecvMsg(msg)
	if err == nil {
		c.series.received.Inc()
	}
	return err
}
