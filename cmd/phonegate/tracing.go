package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// tracerProvider returns an OpenTelemetry tracer provider that exports spans
// over OTLP/gRPC, or nil when tracing is off, which it is unless endpoint
// (--otlp-endpoint) or OpenTelemetry's standard environment
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) names
// a collector. The rest of the standard environment applies as the SDK reads
// it: OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _INSECURE and the certificates,
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and
// its argument; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it
// off.
func tracerProvider(ctx context.Context, endpoint string) (*sdktrace.TracerProvider, error) {
	if endpoint == "" && os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil, nil
	}
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") || os.Getenv("OTEL_TRACES_EXPORTER") == "none" {
		return nil, nil
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := os.Getenv(name); p != "" && p != "grpc" {
			return nil, fmt.Errorf("%s=%q: phonegate exports traces over OTLP/gRPC only; want grpc", name, p)
		}
	}
	if e := os.Getenv("OTEL_TRACES_EXPORTER"); e != "" && e != "otlp" {
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: want otlp or none", e)
	}
	var opts []otlptracegrpc.Option
	if endpoint != "" {
		if !strings.Contains(endpoint, "://") {
			return nil, fmt.Errorf("--otlp-endpoint %q: want a URL such as http://otel-collector:4317 (http:// for plaintext)", endpoint)
		}
		opts = append(opts, otlptracegrpc.WithEndpointURL(endpoint))
	}
	exp, err := otlptracegrpc.New(ctx, opts...) // connects lazily: a collector down never stops serving
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	// service.name is phonegate unless OTEL_SERVICE_NAME or
	// OTEL_RESOURCE_ATTRIBUTES say otherwise (later detectors win).
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "phonegate")),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}
