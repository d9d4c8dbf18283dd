package filter

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"github.com/phonegate/phonegate/policy"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"
)

// validator is what go-control-plane's generated ValidateAll gives a message.
type validator interface{ ValidateAll() error }

// TestEnvoyYAML loads the repository's envoy.yaml strictly into Envoy's v3
// Bootstrap, validates it and every message packed in an Any (generated
// validation does not descend into Any), and checks the contract DESIGN.md
// gives: ext_authz over gRPC V3 with the body as bytes, failing closed,
// calling a cluster that points at phonegate's gRPC port.
func TestEnvoyYAML(t *testing.T) {
	raw, err := os.ReadFile("../envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	var bs bootstrapv3.Bootstrap
	if err := (protojson.UnmarshalOptions{}).Unmarshal(js, &bs); err != nil {
		t.Fatalf("envoy.yaml is not a valid v3 Bootstrap: %v", err)
	}
	if err := bs.ValidateAll(); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	validateAnys(t, bs.ProtoReflect())

	clusters := map[string]uint32{}
	for _, c := range bs.GetStaticResources().GetClusters() {
		port := c.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetPortValue()
		clusters[c.GetName()] = port
	}
	if p := bs.GetAdmin().GetAddress().GetSocketAddress().GetPortValue(); p != 9901 {
		t.Errorf("admin port %d, want 9901", p)
	}
	lis := bs.GetStaticResources().GetListeners()[0]
	if p := lis.GetAddress().GetSocketAddress().GetPortValue(); p != 10000 {
		t.Errorf("listener port %d, want 10000", p)
	}
	var hcm hcmv3.HttpConnectionManager
	if err := lis.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatal(err)
	}
	defaultSet, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	podSet, err := policy.Load("../deploy/base/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{} // path -> ext_authz applies
	for _, vh := range hcm.GetRouteConfig().GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			if ra := r.GetRoute(); ra != nil {
				if _, ok := clusters[ra.GetCluster()]; !ok {
					t.Errorf("route %v sends to cluster %q, which is not defined", r.GetMatch(), ra.GetCluster())
				}
			}
			checked[r.GetMatch().GetPath()+r.GetMatch().GetPrefix()] = true
			cfg, ok := r.GetTypedPerFilterConfig()["envoy.filters.http.ext_authz"]
			if !ok {
				continue
			}
			var per extauthzv3.ExtAuthzPerRoute
			if err := cfg.UnmarshalTo(&per); err != nil {
				t.Fatal(err)
			}
			if per.GetDisabled() {
				checked[r.GetMatch().GetPath()+r.GetMatch().GetPrefix()] = false
			}
			// A route Envoy names must exist in the policies phonegate serves
			// with this file: the embedded default (a local run) and the pod's.
			if name, ok := per.GetCheckSettings().GetContextExtensions()[policy.RouteExtensionKey]; ok {
				for _, set := range []*policy.Set{defaultSet, podSet} {
					req := &policy.Request{ContextExtensions: map[string]string{policy.RouteExtensionKey: name}}
					if _, err := set.Route(req); err != nil {
						t.Errorf("route %v names phonegate route %q: %v (%s)", r.GetMatch(), name, err, set.Source)
					}
				}
			}
		}
	}
	if checked["/healthz"] || !checked["/signup"] || !checked["/"] {
		t.Errorf("ext_authz on routes: %v; want it off on /healthz only", checked)
	}
	// Paths reach phonegate and the router in one spelling, and an encoded
	// slash never reaches them (policy.NormalizePath leaves it encoded).
	if !hcm.GetNormalizePath().GetValue() || !hcm.GetMergeSlashes() ||
		hcm.GetPathWithEscapedSlashesAction() != hcmv3.HttpConnectionManager_REJECT_REQUEST {
		t.Errorf("path handling: normalize_path %v, merge_slashes %v, path_with_escaped_slashes_action %v; want true, true, REJECT_REQUEST",
			hcm.GetNormalizePath().GetValue(), hcm.GetMergeSlashes(), hcm.GetPathWithEscapedSlashesAction())
	}
	if len(hcm.GetAccessLog()) == 0 {
		t.Error("no access log")
	}
	if clusters["upstream"] != 8081 {
		t.Errorf("upstream cluster port %d, want 8081", clusters["upstream"])
	}
	var authz extauthzv3.ExtAuthz
	if err := hcm.GetHttpFilters()[0].GetTypedConfig().UnmarshalTo(&authz); err != nil {
		t.Fatalf("first HTTP filter is not ext_authz: %v", err)
	}
	if authz.GetTransportApiVersion().String() != "V3" || authz.GetFailureModeAllow() ||
		!authz.GetWithRequestBody().GetPackAsBytes() || !authz.GetWithRequestBody().GetAllowPartialMessage() ||
		authz.GetGrpcService().GetTimeout() == nil {
		t.Errorf("ext_authz settings %v", &authz)
	}
	if c := authz.GetGrpcService().GetEnvoyGrpc().GetClusterName(); clusters[c] != 9001 {
		t.Errorf("ext_authz calls cluster %q on port %d, want phonegate's gRPC port 9001", c, clusters[c])
	}
}

// validateAnys walks m and validates every message packed in an Any.
func validateAnys(t *testing.T, m protoreflect.Message) {
	t.Helper()
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			t.Errorf("Any %s: %v (is its package imported?)", a.GetTypeUrl(), err)
			return
		}
		if v, ok := inner.(validator); ok {
			if err := v.ValidateAll(); err != nil {
				t.Errorf("%s: %v", a.GetTypeUrl(), err)
			}
		}
		validateAnys(t, inner.ProtoReflect())
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				validateAnys(t, v.List().Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				validateAnys(t, mv.Message())
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			validateAnys(t, v.Message())
		}
		return true
	})
}

// TestAccessLogReadsWhatPhonegateWrites: every dynamic metadata key the
// access log of envoy.yaml prints is one phonegate writes on a route with
// no metadata option, for a tagged request (a rule and tags decided): a key
// phonegate stopped writing, or one behind an option, would print "-".
func TestAccessLogReadsWhatPhonegateWrites(t *testing.T) {
	raw, err := os.ReadFile("../envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	keys := regexp.MustCompile(`%DYNAMIC_METADATA\(envoy\.filters\.http\.ext_authz:([a-z_]+)\)%`).FindAllStringSubmatch(string(raw), -1)
	if len(keys) < 8 {
		t.Fatalf("the access log prints %d of phonegate's metadata keys, want the decision's and the number's", len(keys))
	}
	set, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{})
	srv.SetPolicy(set)
	srv.MarkWarm()
	resp, err := srv.Check(context.Background(), envoyCheck("POST", "/signup", "application/json", `{"phone":"+44 56 1234 5678"}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	md := resp.GetDynamicMetadata().GetFields()
	if md["decision"].GetStringValue() != "tag" || md["rule"].GetStringValue() == "" {
		t.Fatalf("the check was not tagged by a rule: %v", md)
	}
	for _, k := range keys {
		if _, ok := md[k[1]]; !ok {
			t.Errorf("envoy.yaml's access log prints %s, which phonegate's default metadata does not hold", k[1])
		}
	}
}

// TestDeployEnvoyIsTheLocalOne: deploy/base carries a copy of envoy.yaml (a
// kustomization may not read files above it); they must not drift.
func TestDeployEnvoyIsTheLocalOne(t *testing.T) {
	local, err := os.ReadFile("../envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pod, err := os.ReadFile("../deploy/base/envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(local) != string(pod) {
		t.Error("deploy/base/envoy.yaml differs from envoy.yaml: cp envoy.yaml deploy/base/envoy.yaml")
	}
}

// TestEnvoyYAMLStripExample: the commented header_mutation filter envoy.yaml
// shows (for failure_mode_allow: true) is a valid Envoy HTTP filter that
// removes every x-phone-* header.
func TestEnvoyYAMLStripExample(t *testing.T) {
	raw, err := os.ReadFile("../envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(raw), "# BEGIN strip-x-phone\n")
	block, _, ok2 := strings.Cut(block, "# END strip-x-phone")
	if !ok || !ok2 {
		t.Fatal("envoy.yaml lost its strip-x-phone example")
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if _, code, found := strings.Cut(l, "# "); found {
			lines = append(lines, code)
		}
	}
	js, err := yaml.YAMLToJSON([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	js = []byte(strings.TrimSuffix(strings.TrimPrefix(string(js), "["), "]"))
	var f hcmv3.HttpFilter
	if err := (protojson.UnmarshalOptions{}).Unmarshal(js, &f); err != nil {
		t.Fatalf("the example is not an HttpFilter: %v", err)
	}
	if err := f.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	var hm headermutationv3.HeaderMutation
	if err := f.GetTypedConfig().UnmarshalTo(&hm); err != nil {
		t.Fatal(err)
	}
	if err := hm.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	m := hm.GetMutations().GetRequestMutations()
	if len(m) != 1 || m[0].GetRemoveOnMatch().GetKeyMatcher().GetPrefix() != HeaderPrefix {
		t.Errorf("mutations %v: want x-phone-* removed", m)
	}
}
