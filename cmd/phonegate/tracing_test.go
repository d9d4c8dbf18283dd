package main

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// collector is an OTLP/gRPC trace receiver on loopback.
type collector struct {
	collectorpb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []string // "service.name/span name"
}

func (c *collector) Export(_ context.Context, req *collectorpb.ExportTraceServiceRequest) (*collectorpb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, service+"/"+s.GetName())
			}
		}
	}
	return &collectorpb.ExportTraceServiceResponse{}, nil
}

func startCollector(t *testing.T) (*collector, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	gs := grpc.NewServer()
	collectorpb.RegisterTraceServiceServer(gs, c)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return c, "http://" + lis.Addr().String()
}

// clearOTelEnv unsets the standard variables for the test.
func clearOTelEnv(t *testing.T) {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED",
		"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"} {
		t.Setenv(name, "")
	}
}

func TestTracingOffByDefault(t *testing.T) {
	clearOTelEnv(t)
	tp, err := tracerProvider(context.Background(), "")
	if err != nil || tp != nil {
		t.Fatalf("tracerProvider with nothing set: %v, %v; want off", tp, err)
	}
}

// The flag, or the standard environment, sends spans to a real OTLP/gRPC
// receiver, as service phonegate unless OTEL_SERVICE_NAME says otherwise.
func TestTracingExportsOverOTLP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		flag    bool
		env     map[string]string
		service string
	}{
		{"flag", true, nil, "phonegate"},
		{"env", false, map[string]string{"OTEL_SERVICE_NAME": "phonegate-eu"}, "phonegate-eu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearOTelEnv(t)
			c, url := startCollector(t)
			flag := ""
			if tc.flag {
				flag = url
			} else {
				t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			tp, err := tracerProvider(context.Background(), flag)
			if err != nil || tp == nil {
				t.Fatalf("tracerProvider: %v, %v", tp, err)
			}
			_, span := tp.Tracer("test").Start(context.Background(), "phonegate.check")
			span.End()
			if err := tp.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			if len(c.spans) != 1 || c.spans[0] != tc.service+"/phonegate.check" {
				t.Errorf("the collector received %v, want %s/phonegate.check", c.spans, tc.service)
			}
		})
	}
}

func TestTracingRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, flag string
		env        map[string]string
		want       string
	}{
		{"http protocol", "", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, "OTLP/gRPC only"},
		{"other exporter", "", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_TRACES_EXPORTER": "zipkin"}, "want otlp"},
		{"flag without scheme", "otel-collector:4317", nil, "want a URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearOTelEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := tracerProvider(context.Background(), tc.flag)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	clearOTelEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317")
	t.Setenv("OTEL_SDK_DISABLED", "true")
	if tp, err := tracerProvider(context.Background(), ""); tp != nil || err != nil {
		t.Errorf("OTEL_SDK_DISABLED=true: %v, %v; want off", tp, err)
	}
}
