package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/phonegate/phonegate/internal/redistest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestServeWithRedis: PHONEGATE_REDIS_URL (as a Secret gives it) shares the
// counts of two serve processes, as the metadata of a route with
// metadata_signals shows.
func TestServeWithRedis(t *testing.T) {
	redis := redistest.Start(t)
	t.Setenv("PHONEGATE_REDIS_URL", redis.URL())
	t.Setenv("PHONEGATE_HASH_KEY", "a key the replicas share")
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte("version: 1\nroutes:\n  - {name: signup, policy: standard, metadata_signals: true}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	seen := func(s *serving) (float64, string) {
		t.Helper()
		conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		check := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
			Http: &authv3.AttributeContext_HttpRequest{
				Method: "POST", Path: "/signup", Host: "signup.example.com",
				Headers: map[string]string{":method": "POST", ":path": "/signup", "content-type": "application/json"},
				RawBody: []byte(`{"phone":"+447400123456"}`),
			},
		}}}
		cr, err := authv3.NewAuthorizationClient(conn).Check(context.Background(), check)
		if err != nil {
			t.Fatalf("check: %v\n%s", err, s.logs)
		}
		md := cr.GetDynamicMetadata().AsMap()
		v, _ := md["seen"].(float64)
		src, _ := md["velocity_source"].(string)
		return v, src
	}
	a, b := startServe(t, "--policy", pol, "--redis-timeout", "1s"), startServe(t, "--policy", pol, "--redis-timeout", "1s")
	for i, s := range []*serving{a, b, a} {
		if n, src := seen(s); n != float64(i+1) || src != "redis" {
			t.Errorf("check %d: seen %v from %q, want %d from redis", i+1, n, src, i+1)
		}
	}
	if !strings.Contains(a.logs.String(), `"msg":"velocity shared through redis"`) {
		t.Errorf("no log of the shared velocity:\n%s", a.logs)
	}
}

func TestServeRedisErrors(t *testing.T) {
	for _, tt := range []struct {
		name, url, key, want string
	}{
		{"no hash key", "redis://127.0.0.1:6379/0", "", "needs PHONEGATE_HASH_KEY"},
		{"not a redis url", "http://:hunter2@127.0.0.1:6379", "k", "redis url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PHONEGATE_HASH_KEY", tt.key)
			t.Setenv("PHONEGATE_REDIS_URL", tt.url)
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"serve", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, nil, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr.String(), tt.want)
			}
			if strings.Contains(stderr.String(), "hunter2") {
				t.Errorf("the password reached stderr: %q", stderr.String())
			}
		})
	}
	// --help never shows the URL from the environment.
	t.Setenv("PHONEGATE_REDIS_URL", "redis://:hunter2@127.0.0.1:6379/0")
	var stdout, stderr bytes.Buffer
	run(context.Background(), []string{"serve", "--help"}, nil, &stdout, &stderr)
	if out := stdout.String() + stderr.String(); strings.Contains(out, "hunter2") || !strings.Contains(out, "redis-url") {
		t.Errorf("serve --help: %s", out)
	}
}
