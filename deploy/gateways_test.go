package deploy

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"github.com/phonegate/phonegate/policy"
	"google.golang.org/protobuf/encoding/protojson"
	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	securityv1 "istio.io/api/security/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwapiv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	"sigs.k8s.io/yaml"
)

// chartDefaults renders the chart as the gateway examples assume it is
// installed (release phonegate, namespace phonegate) and returns its gRPC
// Service port, body limit and policy.
func chartDefaults(t *testing.T) (service string, grpcPort int32, maxBody int, set *policy.Set) {
	t.Helper()
	r := mustRender(t, "")
	svc := r.services[0]
	for _, p := range svc.Spec.Ports {
		if p.Name == "grpc" {
			grpcPort = p.Port
		}
	}
	pg := container(r.deployments[0].Spec.Template.Spec.Containers, "phonegate")
	for _, a := range pg.Args {
		if v, ok := strings.CutPrefix(a, "--max-body-bytes="); ok {
			maxBody, _ = strconv.Atoi(v)
		}
	}
	var srcs []policy.Source
	for name, data := range r.configMaps[0].Data {
		srcs = append(srcs, policy.Source{Name: name, Data: []byte(data)})
	}
	set, err := policy.Compile(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	return svc.Name, grpcPort, maxBody, set
}

func hasRoute(set *policy.Set, name string) bool {
	for _, r := range set.Routes {
		if r.Name == name {
			return true
		}
	}
	return false
}

// The Envoy Gateway example decodes strictly into Envoy Gateway's own API
// types (github.com/envoyproxy/gateway/api/v1alpha1) and the Gateway API's,
// and calls the chart's Service with the body, failing closed.
func TestEnvoyGatewayExample(t *testing.T) {
	raw, err := os.ReadFile("gateways/envoy-gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var (
		route *gwapiv1.HTTPRoute
		sp    *egv1a1.SecurityPolicy
		grant *gwapiv1beta1.ReferenceGrant
	)
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var head struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatal(err)
		}
		strict := func(v any) {
			t.Helper()
			if err := yaml.UnmarshalStrict([]byte(doc), v); err != nil {
				t.Fatalf("%s does not decode strictly: %v", head.Kind, err)
			}
		}
		switch head.Kind {
		case "HTTPRoute":
			route = decodeInto[gwapiv1.HTTPRoute](strict)
		case "SecurityPolicy":
			sp = decodeInto[egv1a1.SecurityPolicy](strict)
		case "ReferenceGrant":
			grant = decodeInto[gwapiv1beta1.ReferenceGrant](strict)
		default:
			t.Fatalf("unexpected %s", head.Kind)
		}
	}
	if route == nil || sp == nil || grant == nil {
		t.Fatalf("route %v, security policy %v, reference grant %v", route != nil, sp != nil, grant != nil)
	}
	if sp.APIVersion != egv1a1.GroupVersion.String() || route.APIVersion != gwapiv1.GroupVersion.String() {
		t.Errorf("apiVersions %s, %s", sp.APIVersion, route.APIVersion)
	}

	service, port, maxBody, set := chartDefaults(t)
	ea := sp.Spec.ExtAuth
	if ea == nil || ea.GRPC == nil || ea.HTTP != nil || len(ea.GRPC.BackendRefs) != 1 {
		t.Fatalf("extAuth %+v: want one gRPC backend", ea)
	}
	ref := ea.GRPC.BackendRefs[0].BackendObjectReference
	if string(ref.Name) != service || ref.Port == nil || int32(*ref.Port) != port || ref.Namespace == nil {
		t.Errorf("extAuth calls %s:%v, the chart's Service is %s:%d", ref.Name, ref.Port, service, port)
	}
	if ea.BodyToExtAuth == nil || ea.BodyToExtAuth.MaxRequestBytes == 0 || int(ea.BodyToExtAuth.MaxRequestBytes) > maxBody {
		t.Errorf("bodyToExtAuth %+v: want the body sent, within phonegate's --max-body-bytes %d", ea.BodyToExtAuth, maxBody)
	}
	if ea.FailOpen == nil || *ea.FailOpen {
		t.Error("extAuth must fail closed, and say so")
	}
	if ea.Timeout == nil {
		t.Fatal("no extAuth timeout: Envoy Gateway's default is 10 s")
	}
	if d, err := time.ParseDuration(string(*ea.Timeout)); err != nil || d > 250*time.Millisecond {
		t.Errorf("timeout %s: want at most the 250 ms the alerts budget for", *ea.Timeout)
	}
	if len(ea.HeadersToExtAuth) != 0 {
		t.Errorf("headersToExtAuth %v: phonegate needs every header (content-type, x-forwarded-for, traceparent)", ea.HeadersToExtAuth)
	}
	for _, ce := range ea.ContextExtensions {
		if ce.Name == "phonegate-route" && (ce.Value == nil || !hasRoute(set, *ce.Value)) {
			t.Errorf("context extension names route %v, which the chart's policy lacks", ce.Value)
		}
	}
	if len(sp.Spec.TargetRefs) != 1 || string(sp.Spec.TargetRefs[0].Kind) != "HTTPRoute" || string(sp.Spec.TargetRefs[0].Name) != route.Name {
		t.Errorf("security policy targets %+v, want HTTPRoute %s", sp.Spec.TargetRefs, route.Name)
	}
	// The ReferenceGrant lets the policy's namespace reach the Service.
	if grant.Namespace != string(*ref.Namespace) || len(grant.Spec.From) != 1 || string(grant.Spec.From[0].Namespace) != sp.Namespace ||
		string(grant.Spec.From[0].Kind) != "SecurityPolicy" || string(grant.Spec.To[0].Kind) != "Service" || grant.Spec.To[0].Name == nil || string(*grant.Spec.To[0].Name) != service {
		t.Errorf("reference grant %+v does not let %s/SecurityPolicy reach %s/%s", grant.Spec, sp.Namespace, *ref.Namespace, service)
	}
}

// The Istio ingress example: an envoyExtAuthzGrpc provider for the chart's
// Service, and a CUSTOM AuthorizationPolicy on the ingress gateway naming it.
func TestIstioIngressExample(t *testing.T) {
	raw, err := os.ReadFile("gateways/istio-ingress-mesh-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	var mesh meshv1alpha1.MeshConfig
	if err := protojson.Unmarshal(js, &mesh); err != nil {
		t.Fatalf("not a MeshConfig: %v", err)
	}
	raw, err = os.ReadFile("gateways/istio-ingress-authorization-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var obj istioObject
	if err := yaml.UnmarshalStrict(raw, &obj); err != nil {
		t.Fatal(err)
	}
	var ap securityv1.AuthorizationPolicy
	if err := protojson.Unmarshal(obj.Spec, &ap); err != nil {
		t.Fatalf("not an AuthorizationPolicy: %v", err)
	}
	if obj.Kind != "AuthorizationPolicy" || ap.GetAction() != securityv1.AuthorizationPolicy_CUSTOM || ap.GetSelector().GetMatchLabels()["istio"] != "ingressgateway" {
		t.Errorf("%s: action %v, selector %v; want CUSTOM on the ingress gateway", obj.Kind, ap.GetAction(), ap.GetSelector())
	}
	var p *meshv1alpha1.MeshConfig_ExtensionProvider_EnvoyExternalAuthorizationGrpcProvider
	for _, ep := range mesh.GetExtensionProviders() {
		if ep.GetName() == ap.GetProvider().GetName() {
			p = ep.GetEnvoyExtAuthzGrpc()
		}
	}
	if p == nil {
		t.Fatalf("no envoyExtAuthzGrpc provider named %q", ap.GetProvider().GetName())
	}
	service, port, maxBody, _ := chartDefaults(t)
	if p.GetService() != service+".phonegate.svc.cluster.local" || p.GetPort() != uint32(port) {
		t.Errorf("provider calls %s:%d, the chart's Service is %s.phonegate:%d", p.GetService(), p.GetPort(), service, port)
	}
	body := p.GetIncludeRequestBodyInCheck()
	if !body.GetPackAsBytes() || body.GetMaxRequestBytes() == 0 || int(body.GetMaxRequestBytes()) > maxBody || p.GetFailOpen() {
		t.Errorf("provider body %v, fail open %v", body, p.GetFailOpen())
	}
	if d := p.GetTimeout().AsDuration(); d == 0 || d > 250*time.Millisecond {
		t.Errorf("timeout %v", d)
	}
}
