package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/policy"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	networkingv1 "istio.io/api/networking/v1"
	securityv1 "istio.io/api/security/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingk8s "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// rendered is a kustomization's output, each object decoded strictly into its
// API type.
type rendered struct {
	deployments  []*appsv1.Deployment
	services     []*corev1.Service
	configMaps   []*corev1.ConfigMap
	pdbs         []*policyv1.PodDisruptionBudget
	netpols      []*networkingk8s.NetworkPolicy
	serviceEntry []*networkingv1.ServiceEntry
	authz        []*securityv1.AuthorizationPolicy
}

// istioObject is an Istio custom resource: Kubernetes metadata around a spec
// that is one of istio.io/api's protobuf messages.
type istioObject struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       json.RawMessage   `json:"spec"`
}

func render(t *testing.T, dir string) rendered {
	t.Helper()
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out rendered
	for _, res := range resMap.Resources() {
		y, err := res.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		kind := res.GetKind()
		strict := func(v any) {
			t.Helper()
			if err := yaml.UnmarshalStrict(y, v); err != nil {
				t.Fatalf("%s %s does not decode strictly: %v\n%s", kind, res.GetName(), err, y)
			}
		}
		istio := func(spec proto.Message) {
			t.Helper()
			var obj istioObject
			strict(&obj)
			if err := protojson.Unmarshal(obj.Spec, spec); err != nil {
				t.Fatalf("%s %s spec: %v", kind, res.GetName(), err)
			}
		}
		switch kind {
		case "Deployment":
			var d appsv1.Deployment
			strict(&d)
			out.deployments = append(out.deployments, &d)
		case "Service":
			var s corev1.Service
			strict(&s)
			out.services = append(out.services, &s)
		case "ConfigMap":
			var c corev1.ConfigMap
			strict(&c)
			out.configMaps = append(out.configMaps, &c)
		case "NetworkPolicy":
			var np networkingk8s.NetworkPolicy
			strict(&np)
			out.netpols = append(out.netpols, &np)
		case "PodDisruptionBudget":
			var p policyv1.PodDisruptionBudget
			strict(&p)
			out.pdbs = append(out.pdbs, &p)
		case "ServiceEntry":
			var se networkingv1.ServiceEntry
			istio(&se)
			out.serviceEntry = append(out.serviceEntry, &se)
		case "AuthorizationPolicy":
			var ap securityv1.AuthorizationPolicy
			istio(&ap)
			out.authz = append(out.authz, &ap)
		default:
			t.Fatalf("%s renders a %s, which this test does not check", dir, kind)
		}
	}
	return out
}

func container(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

func TestBase(t *testing.T) {
	r := render(t, "base")
	if len(r.deployments) != 1 || len(r.services) != 1 || len(r.pdbs) != 1 || len(r.configMaps) != 2 {
		t.Fatalf("rendered %d deployments, %d services, %d PDBs, %d config maps", len(r.deployments), len(r.services), len(r.pdbs), len(r.configMaps))
	}
	pod := r.deployments[0].Spec.Template.Spec
	pg := container(pod.InitContainers, "phonegate")
	if pg == nil {
		t.Fatal("no phonegate init container")
	}
	if pg.RestartPolicy == nil || *pg.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Error("phonegate is not a native sidecar (restartPolicy: Always)")
	}
	for name, probe := range map[string]*corev1.Probe{"startup": pg.StartupProbe, "readiness": pg.ReadinessProbe, "liveness": pg.LivenessProbe} {
		if probe == nil || probe.GRPC == nil || probe.GRPC.Port != 9001 {
			t.Errorf("%s probe %+v: want gRPC health on 9001", name, probe)
		}
	}
	checkSecurity(t, pod)
	hashKey := false
	for _, e := range pg.Env {
		if e.Name == "PHONEGATE_HASH_KEY" {
			hashKey = true
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Optional == nil || !*e.ValueFrom.SecretKeyRef.Optional {
				t.Errorf("the hash key must come from an optional Secret: %+v", e)
			}
		}
	}
	if !hashKey {
		t.Error("no PHONEGATE_HASH_KEY: replicas would hash numbers differently")
	}
	if pg.Resources.Requests.Memory().IsZero() || pg.Resources.Limits.Memory().IsZero() {
		t.Error("phonegate has no memory request or limit")
	}

	// The policy: a ConfigMap mounted whole, as a directory, where --policy
	// points, and a policy that compiles.
	args := strings.Join(pg.Args, " ")
	var mount *corev1.VolumeMount
	for i, m := range pg.VolumeMounts {
		if m.Name == "policy" {
			mount = &pg.VolumeMounts[i]
		}
	}
	if mount == nil || mount.SubPath != "" || !strings.Contains(args, "--policy="+mount.MountPath) {
		t.Fatalf("policy mount %+v, args %s: want the ConfigMap mounted as a directory (no subPath) where --policy points", mount, args)
	}
	for _, v := range pod.Volumes {
		if v.Name == "policy" && (v.ConfigMap == nil || v.ConfigMap.Name != "phonegate-policy") {
			t.Errorf("policy volume %+v", v)
		}
	}
	for _, cm := range r.configMaps {
		if cm.Name != "phonegate-policy" {
			continue
		}
		var srcs []policy.Source
		for name, data := range cm.Data {
			srcs = append(srcs, policy.Source{Name: name, Data: []byte(data)})
		}
		if _, err := policy.Compile(srcs...); err != nil {
			t.Errorf("the ConfigMap's policy does not compile: %v", err)
		}
	}

	// Every flag in the container's args is one `phonegate serve` accepts.
	flags := serveFlags(t)
	for _, a := range pg.Args[1:] {
		name := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-")
		if !slices.Contains(flags, name) {
			t.Errorf("arg %q: phonegate serve has no flag %q (it has %v)", a, name, flags)
		}
	}
	if pg.Args[0] != "serve" {
		t.Errorf("args start %q, want serve", pg.Args[0])
	}
	if envoy := container(pod.Containers, "envoy"); envoy == nil || !slices.Contains(envoy.Args, "/etc/envoy/envoy.yaml") {
		t.Errorf("envoy container %+v", envoy)
	}

	// phonegate's gRPC port is never open to the cluster: only Envoy's is,
	// and phonegate's HTTP port to a namespace.
	if len(r.netpols) != 1 {
		t.Fatalf("%d network policies", len(r.netpols))
	}
	var open []string
	for _, rule := range r.netpols[0].Spec.Ingress {
		for _, p := range rule.Ports {
			if len(rule.From) == 0 {
				open = append(open, p.Port.String())
			}
			if p.Port.String() == "phonegate-grpc" || p.Port.IntValue() == 9001 {
				t.Errorf("the network policy admits phonegate's gRPC port: %+v", rule)
			}
		}
	}
	if !slices.Equal(open, []string{"envoy-http"}) {
		t.Errorf("ports open to all: %v, want envoy-http only", open)
	}
	for _, svc := range r.services {
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.String() != "envoy-http" {
				t.Errorf("service %s exposes %s", svc.Name, p.TargetPort.String())
			}
		}
	}
}

// checkSecurity wants every container locked down.
func checkSecurity(t *testing.T, pod corev1.PodSpec) {
	t.Helper()
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.SeccompProfile == nil {
		t.Errorf("pod security context %+v", pod.SecurityContext)
	}
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("container %s security context %+v", c.Name, sc)
		}
	}
}

// serveFlags lists the flags of `phonegate serve`, from its own help.
func serveFlags(t *testing.T) []string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "phonegate")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/phonegate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		flags = append(flags, m[1])
	}
	if len(flags) < 5 {
		t.Fatalf("could not read the flags of phonegate serve --help:\n%s", out)
	}
	return flags
}

func TestIstio(t *testing.T) {
	r := render(t, "istio")
	pod := r.deployments[0].Spec.Template.Spec
	if container(pod.Containers, "envoy") != nil {
		t.Error("the overlay keeps the base's Envoy; Istio injects its own")
	}
	app := container(pod.Containers, "app")
	if app == nil || len(app.Ports) != 1 || app.Ports[0].ContainerPort != 8081 {
		t.Fatalf("app container %+v", app)
	}
	if container(pod.InitContainers, "phonegate") == nil {
		t.Fatal("phonegate is gone")
	}
	if port := r.netpols[0].Spec.Ingress[0].Ports[0].Port.String(); port != "app-http" || len(r.netpols[0].Spec.Ingress[0].From) != 0 {
		t.Errorf("the network policy opens %s, want the app's port", port)
	}
	if svc := r.services[0]; svc.Spec.Ports[0].TargetPort.String() != "app-http" {
		t.Errorf("the service targets %s", svc.Spec.Ports[0].TargetPort.String())
	}
	checkSecurity(t, pod)
	if len(r.authz) != 1 || len(r.serviceEntry) != 1 {
		t.Fatalf("%d authorization policies, %d service entries", len(r.authz), len(r.serviceEntry))
	}
	ap := r.authz[0]
	if ap.GetAction() != securityv1.AuthorizationPolicy_CUSTOM || ap.GetProvider().GetName() != "phonegate" {
		t.Errorf("authorization policy: action %v provider %q", ap.GetAction(), ap.GetProvider().GetName())
	}
	podLabels := r.deployments[0].Spec.Template.Labels
	for k, v := range ap.GetSelector().GetMatchLabels() {
		if podLabels[k] != v {
			t.Errorf("the policy selects %s=%s, the pod has %v", k, v, podLabels)
		}
	}

	// The mesh config: its provider is the one the policy names, calls the
	// ServiceEntry's host on phonegate's gRPC port, sends the body as bytes
	// and fails closed.
	raw, err := os.ReadFile("istio/mesh-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	var mesh meshv1alpha1.MeshConfig
	if err := protojson.Unmarshal(js, &mesh); err != nil {
		t.Fatalf("mesh-config.yaml is not a MeshConfig: %v", err)
	}
	var grpcProvider *meshv1alpha1.MeshConfig_ExtensionProvider_EnvoyExternalAuthorizationGrpcProvider
	for _, p := range mesh.GetExtensionProviders() {
		if p.GetName() == ap.GetProvider().GetName() {
			grpcProvider = p.GetEnvoyExtAuthzGrpc()
		}
	}
	if grpcProvider == nil {
		t.Fatal("mesh config has no envoyExtAuthzGrpc provider named as the policy says")
	}
	se := r.serviceEntry[0]
	if !slices.Contains(se.GetHosts(), grpcProvider.GetService()) || grpcProvider.GetPort() != 9001 ||
		se.GetEndpoints()[0].GetAddress() != "127.0.0.1" || se.GetPorts()[0].GetNumber() != 9001 {
		t.Errorf("provider %s:%d, service entry %v", grpcProvider.GetService(), grpcProvider.GetPort(), se)
	}
	if n := mesh.GetPathNormalization().GetNormalization(); n != meshv1alpha1.MeshConfig_ProxyPathNormalization_MERGE_SLASHES {
		t.Errorf("path normalization %v, want MERGE_SLASHES (what phonegate's route matching assumes)", n)
	}
	body := grpcProvider.GetIncludeRequestBodyInCheck()
	if !body.GetPackAsBytes() || !body.GetAllowPartialMessage() || body.GetMaxRequestBytes() == 0 || grpcProvider.GetFailOpen() {
		t.Errorf("provider body %v, fail open %v", body, grpcProvider.GetFailOpen())
	}
}

// TestRedisComponent: the redis component, on the base, gives phonegate
// --redis-url from a Secret (through PHONEGATE_REDIS_URL), makes the hash key
// required, and adds only flags phonegate serve has.
func TestRedisComponent(t *testing.T) {
	r := render(t, "redis")
	if len(r.deployments) != 1 {
		t.Fatalf("%d deployments", len(r.deployments))
	}
	pod := r.deployments[0].Spec.Template.Spec
	pg := container(pod.InitContainers, "phonegate")
	if pg == nil {
		t.Fatal("no phonegate init container")
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range pg.Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("env %s twice", e.Name)
		}
		env[e.Name] = e
	}
	url := env["PHONEGATE_REDIS_URL"]
	if url.Value != "" || url.ValueFrom == nil || url.ValueFrom.SecretKeyRef == nil ||
		url.ValueFrom.SecretKeyRef.Name != "phonegate-redis" || url.ValueFrom.SecretKeyRef.Key != "url" ||
		(url.ValueFrom.SecretKeyRef.Optional != nil && *url.ValueFrom.SecretKeyRef.Optional) {
		t.Errorf("PHONEGATE_REDIS_URL %+v: want it from the Secret phonegate-redis, key url, required", url)
	}
	key := env["PHONEGATE_HASH_KEY"]
	if key.ValueFrom == nil || key.ValueFrom.SecretKeyRef == nil || key.ValueFrom.SecretKeyRef.Optional == nil || *key.ValueFrom.SecretKeyRef.Optional {
		t.Errorf("PHONEGATE_HASH_KEY %+v: want it required with Redis", key)
	}
	if env["GOMEMLIMIT"].Value == "" {
		t.Error("the component dropped the base's env")
	}
	flags := serveFlags(t)
	sawTimeout := false
	for _, a := range pg.Args[1:] {
		name := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-")
		if !slices.Contains(flags, name) {
			t.Errorf("arg %q: phonegate serve has no flag %q", a, name)
		}
		sawTimeout = sawTimeout || name == "redis-timeout"
	}
	if !sawTimeout || pg.Args[0] != "serve" || !slices.Contains(pg.Args, "--policy=/etc/phonegate/policies") {
		t.Errorf("args %v: want the base's, and --redis-timeout", pg.Args)
	}
	checkSecurity(t, pod)
}
