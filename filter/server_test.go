package filter

import (
	"context"
	"encoding/json"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/phonegate/phonegate/policy"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// testPolicy is the default catch-all (with the metadata's details) plus a
// route with a region hint, so a nationally written number can be tested.
const testPolicy = `
version: 1
routes:
  - name: us-signup
    match: {path_prefix: /us/signup, methods: [POST]}
    fields: [phone]
    region: US
    policy: standard
  - name: catch-all
    match: {methods: [POST]}
    fields: [auto]
    policy: standard
    metadata_details: true
`

// running is a phonegate server on loopback and a gRPC client connected to it.
type running struct {
	srv      *Server
	auth     authv3.AuthorizationClient
	health   healthpb.HealthClient
	http     string // base URL of the HTTP port
	grpcAddr string
	stop     func() error
}

// start serves set on 127.0.0.1 ports chosen by the kernel, warm and ready.
func start(t testing.TB, set *policy.Set) *running {
	t.Helper()
	srv := New(Options{})
	if set != nil {
		srv.SetPolicy(set)
	}
	srv.MarkWarm()
	return serveOn(t, srv)
}

func serveOn(t testing.TB, srv *Server) *running {
	t.Helper()
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, grpcLis, httpLis) }()
	conn, err := grpc.NewClient(grpcLis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	r := &running{
		srv:      srv,
		auth:     authv3.NewAuthorizationClient(conn),
		health:   healthpb.NewHealthClient(conn),
		http:     "http://" + httpLis.Addr().String(),
		grpcAddr: grpcLis.Addr().String(),
	}
	// stop cancels Serve once and returns what it returned, to every caller.
	r.stop = sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	t.Cleanup(func() {
		conn.Close()
		if err := r.stop(); err != nil {
			t.Errorf("Serve returned %v", err)
		}
	})
	return r
}

func mustCompile(t testing.TB, yaml string) *policy.Set {
	t.Helper()
	set, err := policy.Compile(policy.Source{Name: "test.yaml", Data: []byte(yaml)})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// envoyCheck builds a CheckRequest as Envoy's ext_authz filter sends it with
// with_request_body {pack_as_bytes: true}: lower-case headers with the
// pseudo-headers, the body in raw_body, the peer addresses.
func envoyCheck(method, path, contentType, body string, extra map[string]string) *authv3.CheckRequest {
	headers := map[string]string{
		":authority":        "signup.example.com",
		":method":           method,
		":path":             path,
		":scheme":           "http",
		"user-agent":        "curl/8.5.0",
		"accept":            "*/*",
		"x-forwarded-proto": "http",
		"x-request-id":      "6f1c5a0e-3f77-4f5e-9c3a-2b6d0d8f3b1a",
	}
	if body != "" {
		headers["content-type"] = contentType
		headers["content-length"] = strconv.Itoa(len(body))
	}
	for k, v := range extra {
		headers[k] = v
	}
	sock := func(ip string, port uint32) *corev3.Address {
		return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
		}}}
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source:      &authv3.AttributeContext_Peer{Address: sock("203.0.113.7", 51234)},
		Destination: &authv3.AttributeContext_Peer{Address: sock("10.0.0.5", 10000)},
		Request: &authv3.AttributeContext_Request{
			Time: timestamppb.Now(),
			Http: &authv3.AttributeContext_HttpRequest{
				Id:       "13427906204339178001",
				Method:   method,
				Headers:  headers,
				Path:     path,
				Host:     "signup.example.com",
				Scheme:   "http",
				Protocol: "HTTP/1.1",
				Size:     int64(len(body)),
				RawBody:  []byte(body),
			},
		},
	}}
}

// okHeaders returns the headers an OK response sets, failing if the response
// is not an OK.
func okHeaders(t *testing.T, resp *authv3.CheckResponse) (set map[string]string, removed []string) {
	t.Helper()
	if c := codes.Code(resp.GetStatus().GetCode()); c != codes.OK {
		t.Fatalf("status %v, want OK; denied body %q", c, resp.GetDeniedResponse().GetBody())
	}
	ok := resp.GetOkResponse()
	if ok == nil {
		t.Fatal("OK status without an OkHttpResponse")
	}
	set = map[string]string{}
	for _, h := range ok.GetHeaders() {
		if h.GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
			t.Errorf("header %s: append action %v, want OVERWRITE_IF_EXISTS_OR_ADD", h.GetHeader().GetKey(), h.GetAppendAction())
		}
		set[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
	}
	return set, ok.GetHeadersToRemove()
}

func TestCheckEndToEnd(t *testing.T) {
	r := start(t, mustCompile(t, testPolicy))
	ctx := context.Background()

	t.Run("valid mobile is allowed with headers", func(t *testing.T) {
		resp, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"email":"a@example.com","phone":"+44 7400 123456"}`, nil))
		if err != nil {
			t.Fatal(err)
		}
		set, _ := okHeaders(t, resp)
		want := map[string]string{
			HeaderDecision:   "allow",
			HeaderPolicy:     "standard",
			HeaderE164:       "+447400123456",
			HeaderCountry:    "GB",
			HeaderLineType:   "mobile",
			HeaderCarrier:    "Three",
			HeaderConfidence: "verified",
			HeaderRiskScore:  "5",
			HeaderDisposable: "false",
		}
		for k, v := range want {
			if set[k] != v {
				t.Errorf("%s = %q, want %q", k, set[k], v)
			}
		}
		md := resp.GetDynamicMetadata().AsMap()
		if md["decision"] != "allow" || md["route"] != "catch-all" || md["field"] != "phone" || md["numbers_found"] != 1.0 {
			t.Errorf("dynamic metadata %v", md)
		}
		if h, _ := md["number_hash"].(string); h == "" || h == "+447400123456" {
			t.Errorf("number_hash %q: want a keyed hash, never the number", h)
		}
	})

	t.Run("invalid number is rejected with a JSON 403", func(t *testing.T) {
		resp, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"user":{"phone":"+44 7700 900"}}`, nil))
		if err != nil {
			t.Fatal(err)
		}
		if c := codes.Code(resp.GetStatus().GetCode()); c != codes.PermissionDenied {
			t.Fatalf("status %v, want PermissionDenied", c)
		}
		denied := resp.GetDeniedResponse()
		if got := denied.GetStatus().GetCode(); got != 403 {
			t.Errorf("HTTP status %d, want 403", got)
		}
		if ct := headerValue(denied.GetHeaders(), "content-type"); ct != "application/json" {
			t.Errorf("content-type %q, want application/json", ct)
		}
		var body map[string]string
		if err := json.Unmarshal([]byte(denied.GetBody()), &body); err != nil {
			t.Fatalf("denial body %q is not JSON: %v", denied.GetBody(), err)
		}
		if body["error"] != "phone_rejected" || body["policy"] != "standard" || body["field"] != "user.phone" || body["message"] == "" {
			t.Errorf("denial body %v", body)
		}
	})

	t.Run("national number with the route's region hint", func(t *testing.T) {
		resp, err := r.auth.Check(ctx, envoyCheck("POST", "/us/signup", "application/x-www-form-urlencoded", "name=Ann&phone=%28650%29+253-0000", nil))
		if err != nil {
			t.Fatal(err)
		}
		set, _ := okHeaders(t, resp)
		if set[HeaderE164] != "+16502530000" || set[HeaderCountry] != "US" || set[HeaderConfidence] != "likely" {
			t.Errorf("headers %v, want e164 +16502530000, country US, confidence likely", set)
		}
	})

	t.Run("the same national number without a hint is rejected", func(t *testing.T) {
		resp, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/x-www-form-urlencoded", "phone=%28650%29+253-0000", nil))
		if err != nil {
			t.Fatal(err)
		}
		if c := codes.Code(resp.GetStatus().GetCode()); c != codes.PermissionDenied {
			t.Errorf("status %v, want PermissionDenied", c)
		}
	})

	t.Run("VoIP number is tagged for review", func(t *testing.T) {
		resp, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"mobile_number":"+44 56 1234 5678"}`, nil))
		if err != nil {
			t.Fatal(err)
		}
		set, _ := okHeaders(t, resp)
		if set[HeaderDecision] != "tag" || set[HeaderTags] != "review" || set[HeaderLineType] != "voip" || set[HeaderConfidence] != "low" {
			t.Errorf("headers %v, want tag/review for a VoIP number", set)
		}
	})

	t.Run("body with no number is allowed", func(t *testing.T) {
		resp, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"email":"a@example.com","age":31}`, nil))
		if err != nil {
			t.Fatal(err)
		}
		set, _ := okHeaders(t, resp)
		if set[HeaderDecision] != "allow" || set[HeaderTags] != "no_number" {
			t.Errorf("headers %v, want allow with tag no_number", set)
		}
		if _, ok := set[HeaderE164]; ok {
			t.Errorf("x-phone-e164 set with no number: %v", set)
		}
	})

	t.Run("spoofed x-phone headers are overwritten or removed", func(t *testing.T) {
		spoof := map[string]string{"x-phone-confidence": "verified", "x-phone-verified": "yes", "x-phone-e164": "+15555550100"}
		resp, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"phone":"+44 56 1234 5678"}`, spoof))
		if err != nil {
			t.Fatal(err)
		}
		set, removed := okHeaders(t, resp)
		if set["x-phone-confidence"] != "low" || set["x-phone-e164"] != "+445612345678" {
			t.Errorf("spoofed headers not overwritten: %v", set)
		}
		if !slices.Contains(removed, "x-phone-verified") {
			t.Errorf("headers_to_remove %v, want x-phone-verified", removed)
		}
		for _, h := range removed {
			if _, ours := set[h]; ours {
				t.Errorf("%s both set and removed", h)
			}
		}
	})

	t.Run("spoofed headers are removed on an unmatched route too", func(t *testing.T) {
		resp, err := r.auth.Check(ctx, envoyCheck("GET", "/profile", "", "", map[string]string{"x-phone-confidence": "verified", "X-Phone-Decision": "allow"}))
		if err != nil {
			t.Fatal(err)
		}
		set, removed := okHeaders(t, resp)
		if len(set) != 0 {
			t.Errorf("headers set on an unmatched route: %v", set)
		}
		slices.Sort(removed)
		if !slices.Equal(removed, []string{"x-phone-confidence", "x-phone-decision"}) {
			t.Errorf("headers_to_remove %v", removed)
		}
		if resp.GetDynamicMetadata() != nil {
			t.Errorf("metadata on an unmatched route: %v", resp.GetDynamicMetadata())
		}
	})

	t.Run("partial body is rejected, not allowed by accident", func(t *testing.T) {
		resp, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"phone":"+44 7400 123456","bio":"aaaa`, map[string]string{partialBodyHeader: "true"}))
		if err != nil {
			t.Fatal(err)
		}
		if c := codes.Code(resp.GetStatus().GetCode()); c != codes.PermissionDenied {
			t.Fatalf("status %v, want PermissionDenied", c)
		}
		if md := resp.GetDynamicMetadata().AsMap(); md["reason"] != "partial_body" {
			t.Errorf("metadata reason %v, want partial_body", md["reason"])
		}
	})

	t.Run("a bad number is not hidden behind a good one", func(t *testing.T) {
		body := `{"phone":"+44 7400 123456","phone":"12"}`
		resp, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", body, nil))
		if err != nil {
			t.Fatal(err)
		}
		if c := codes.Code(resp.GetStatus().GetCode()); c != codes.PermissionDenied {
			t.Fatalf("status %v, want PermissionDenied for a duplicate key holding an invalid number", c)
		}
		if md := resp.GetDynamicMetadata().AsMap(); md["numbers_found"] != 2.0 {
			t.Errorf("numbers_found %v, want 2", md["numbers_found"])
		}
	})

	t.Run("malformed JSON is rejected", func(t *testing.T) {
		resp, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"phone": "+44 7400 123456"`, nil))
		if err != nil {
			t.Fatal(err)
		}
		if c := codes.Code(resp.GetStatus().GetCode()); c != codes.PermissionDenied {
			t.Fatalf("status %v, want PermissionDenied", c)
		}
	})
}

func TestCheckUnknownRouteIsAFault(t *testing.T) {
	r := start(t, mustCompile(t, testPolicy))
	req := envoyCheck("POST", "/signup", "application/json", `{"phone":"+447400123456"}`, nil)
	req.Attributes.ContextExtensions = map[string]string{policy.RouteExtensionKey: "no-such-route"}
	_, err := r.auth.Check(context.Background(), req)
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("err %v, want FailedPrecondition so Envoy's failure mode applies", err)
	}
	req.Attributes.ContextExtensions[policy.RouteExtensionKey] = "us-signup"
	resp, err := r.auth.Check(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if md := resp.GetDynamicMetadata().AsMap(); md["route"] != "us-signup" {
		t.Errorf("route %v, want us-signup chosen by context_extensions", md["route"])
	}
}

func TestHealthFollowsPolicyWarmthAndDrain(t *testing.T) {
	// A drain timeout far past the test's: an open Watch stream must not
	// hold shutdown until it.
	srv := New(Options{DrainTimeout: time.Hour})
	r := serveOn(t, srv)
	ctx := context.Background()
	check := func(want healthpb.HealthCheckResponse_ServingStatus, service string) {
		t.Helper()
		resp, err := r.health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatalf("health %q: %v", service, err)
		}
		if resp.GetStatus() != want {
			t.Errorf("health %q = %v, want %v", service, resp.GetStatus(), want)
		}
	}
	check(healthpb.HealthCheckResponse_NOT_SERVING, "")
	if _, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"phone":"+447400123456"}`, nil)); status.Code(err) != codes.Unavailable {
		t.Errorf("check before a policy: %v, want Unavailable", err)
	}
	srv.SetPolicy(mustCompile(t, testPolicy))
	check(healthpb.HealthCheckResponse_NOT_SERVING, "")
	srv.MarkWarm()
	check(healthpb.HealthCheckResponse_SERVING, "")
	check(healthpb.HealthCheckResponse_SERVING, AuthorizationService)

	// Watch, then stop: the watcher must see NOT_SERVING before the server goes.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	watch, err := r.health.Watch(wctx, &healthpb.HealthCheckRequest{Service: AuthorizationService})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := watch.Recv(); err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first watch status %v, %v", first.GetStatus(), err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	next, err := watch.Recv()
	if err != nil {
		t.Fatalf("watch ended without NOT_SERVING: %v", err)
	}
	if next.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("status while draining %v, want NOT_SERVING", next.GetStatus())
	}
	// Then the server ends the stream, and shutdown finishes with it open on
	// the client's side.
	if _, err := watch.Recv(); err == nil {
		t.Error("the watch stream went on after NOT_SERVING")
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
	case <-wctx.Done():
		t.Fatal("shutdown waited on the open health Watch stream (hang guard)")
	}
}

func headerValue(hs []*corev3.HeaderValueOption, name string) string {
	for _, h := range hs {
		if h.GetHeader().GetKey() == name {
			return h.GetHeader().GetValue()
		}
	}
	return ""
}

// TestMetadataEncoding: the metadata written as bytes decodes, in a receiver,
// into the dynamic_metadata Struct with every key and value, for an allowed
// and a rejected check; the details (field, numbers_found, disposable) are
// there only on a route with metadata_details, the request's IP and velocity
// signals only on a route with metadata_signals, dry_run and enforced on
// neither (they are not dry runs); and the field number is the
// descriptor's.
func TestMetadataEncoding(t *testing.T) {
	if n := (&authv3.CheckResponse{}).ProtoReflect().Descriptor().Fields().ByName("dynamic_metadata").Number(); n != fResponseMetadata {
		t.Fatalf("dynamic_metadata is field %d, the encoder writes %d", n, fResponseMetadata)
	}
	def, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	// The default route, with the request's signals, or the details, in
	// the metadata.
	signals := mustCompile(t, `
version: 1
routes:
  - {name: default, match: {methods: [POST]}, fields: [auto], policy: standard, metadata_signals: true}
`)
	details := mustCompile(t, `
version: 1
routes:
  - {name: default, match: {methods: [POST]}, fields: [auto], policy: standard, metadata_details: true}
`)
	signalKeys := []string{"ip_country", "ip_match", "seen", "recent_abuse", "velocity_source"}
	detailKeys := []string{"numbers_found", "field", "disposable"}
	for _, set := range []*policy.Set{def, signals, details} {
		on := map[*policy.Set]string{def: "default", signals: "metadata_signals", details: "metadata_details"}[set]
		srv := New(Options{})
		srv.SetPolicy(set)
		srv.MarkWarm()
		valid := map[string]any{"decision": "allow", "reason": "no_rule", "route": "default", "policy": "standard",
			"country": "GB", "line_type": "mobile", "confidence": "verified", "risk_score": 5.0}
		invalid := map[string]any{"decision": "reject", "rule": "invalid", "tags": "invalid", "confidence": "invalid", "risk_score": 100.0}
		// An invalid number has no velocity; the request has an IP (a
		// documentation address: no country, match unknown).
		validAbsent := slices.Concat(signalKeys, detailKeys, []string{"dry_run", "enforced"})
		invalidAbsent := slices.Clone(validAbsent)
		switch set {
		case signals:
			valid["ip_country"], valid["ip_match"], valid["seen"], valid["recent_abuse"], valid["velocity_source"] = "", "unknown", 1.0, false, "local"
			invalid["ip_country"], invalid["ip_match"] = "", "unknown"
			validAbsent, invalidAbsent = validAbsent[5:], validAbsent[2:]
		case details:
			valid["numbers_found"], valid["field"], valid["disposable"] = 1.0, "phone", false
			invalid["numbers_found"], invalid["field"], invalid["disposable"] = 1.0, "phone", false
			validAbsent = slices.Concat(signalKeys, []string{"dry_run", "enforced"})
			invalidAbsent = validAbsent
		}
		for _, tc := range []struct {
			body   string
			want   map[string]any
			absent []string
		}{
			{`{"phone":"+44 7400 123456"}`, valid, validAbsent},
			{`{"phone":"555-0100"}`, invalid, invalidAbsent},
		} {
			resp, err := srv.Check(context.Background(), envoyCheck("POST", "/signup", "application/json", tc.body, nil))
			if err != nil {
				t.Fatal(err)
			}
			md := resp.GetDynamicMetadata().AsMap()
			for k, v := range tc.want {
				if md[k] != v {
					t.Errorf("%s: %s: metadata %s = %v, want %v", on, tc.body, k, md[k], v)
				}
			}
			for _, k := range tc.absent {
				if v, ok := md[k]; ok {
					t.Errorf("%s: %s: metadata %s = %v, want none", on, tc.body, k, v)
				}
			}
			if h, _ := md["number_hash"].(string); len(h) != 16 || md["decision_id"] != "6f1c5a0e-3f77-4f5e-9c3a-2b6d0d8f3b1a" {
				t.Errorf("%s: hash %v, decision id %v", tc.body, md["number_hash"], md["decision_id"])
			}
		}
	}
}
