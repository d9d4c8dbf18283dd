package deploy

import (
	"encoding/json"
	"k8s.io/apimachinery/pkg/api/equality"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/phonegate/phonegate/policy"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingk8s "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

const chartDir = "helm/phonegate"

// everyPart turns on every optional part of the chart.
const everyPart = `
hashKey: {value: "0123456789abcdef0123456789abcdef"}
redis: {url: "redis://redis.phonegate.svc:6379/0"}
tracing: {enabled: true, endpoint: "http://otel-collector.observability:4317", samplerRatio: 0.1}
autoscaling: {enabled: true, maxReplicas: 6}
networkPolicy: {enabled: true}
serviceMonitor: {enabled: true, labels: {release: kube-prometheus-stack}}
prometheusRule: {enabled: true, labels: {release: kube-prometheus-stack}}
podAnnotations: {example.com/team: signup}
extraEnv: [{name: OTEL_RESOURCE_ATTRIBUTES, value: "deployment.environment=prod"}]
`

// chartObjects is a rendered chart, each object decoded strictly into its
// Kubernetes or prometheus-operator type.
type chartObjects struct {
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	pdbs            []*policyv1.PodDisruptionBudget
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	netpols         []*networkingk8s.NetworkPolicy
	serviceMonitors []*monitoringv1.ServiceMonitor
	rules           []*monitoringv1.PrometheusRule
}

// renderChart renders the chart as `helm install --dry-run` does, client
// side, with the values (YAML) over the chart's defaults.
func renderChart(t *testing.T, valuesYAML string) (chartObjects, error) {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	vals, err := chartutil.ReadValues([]byte(valuesYAML))
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	inst := action.NewInstall(&action.Configuration{})
	inst.DryRun, inst.ClientOnly = true, true
	inst.ReleaseName, inst.Namespace = "phonegate", "signup"
	rel, err := inst.Run(chrt, vals)
	if err != nil {
		return chartObjects{}, err
	}
	var out chartObjects
	for name, doc := range releaseutil.SplitManifests(rel.Manifest) {
		var head struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		strict := func(v any) {
			t.Helper()
			if err := yaml.UnmarshalStrict([]byte(doc), v); err != nil {
				t.Fatalf("%s does not decode strictly: %v\n%s", head.Kind, err, doc)
			}
		}
		switch head.Kind {
		case "Deployment":
			out.deployments = append(out.deployments, decodeInto[appsv1.Deployment](strict))
		case "Service":
			out.services = append(out.services, decodeInto[corev1.Service](strict))
		case "ConfigMap":
			out.configMaps = append(out.configMaps, decodeInto[corev1.ConfigMap](strict))
		case "Secret":
			out.secrets = append(out.secrets, decodeInto[corev1.Secret](strict))
		case "PodDisruptionBudget":
			out.pdbs = append(out.pdbs, decodeInto[policyv1.PodDisruptionBudget](strict))
		case "HorizontalPodAutoscaler":
			out.hpas = append(out.hpas, decodeInto[autoscalingv2.HorizontalPodAutoscaler](strict))
		case "NetworkPolicy":
			out.netpols = append(out.netpols, decodeInto[networkingk8s.NetworkPolicy](strict))
		case "ServiceMonitor":
			out.serviceMonitors = append(out.serviceMonitors, decodeInto[monitoringv1.ServiceMonitor](strict))
		case "PrometheusRule":
			out.rules = append(out.rules, decodeInto[monitoringv1.PrometheusRule](strict))
		default:
			t.Fatalf("the chart renders a %s, which this test does not check:\n%s", head.Kind, doc)
		}
	}
	return out, nil
}

func decodeInto[T any](strict func(any)) *T {
	v := new(T)
	strict(v)
	return v
}

func mustRender(t *testing.T, valuesYAML string) chartObjects {
	t.Helper()
	out, err := renderChart(t, valuesYAML)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return out
}

var (
	flagsMu    sync.Mutex
	flagsCache []string
)

// chartServeFlags builds phonegate once for the chart tests.
func chartServeFlags(t *testing.T) []string {
	t.Helper()
	flagsMu.Lock()
	defer flagsMu.Unlock()
	if flagsCache == nil {
		flagsCache = serveFlags(t)
	}
	return flagsCache
}

func envVar(c *corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

// checkChart checks what holds of every rendering.
func checkChart(t *testing.T, r chartObjects) *corev1.Container {
	t.Helper()
	if len(r.deployments) != 1 || len(r.services) != 1 || len(r.configMaps) != 1 {
		t.Fatalf("%d deployments, %d services, %d config maps", len(r.deployments), len(r.services), len(r.configMaps))
	}
	d := r.deployments[0]
	pod := d.Spec.Template.Spec
	pg := container(pod.Containers, "phonegate")
	if pg == nil {
		t.Fatal("no phonegate container")
	}
	for name, probe := range map[string]*corev1.Probe{"startup": pg.StartupProbe, "readiness": pg.ReadinessProbe, "liveness": pg.LivenessProbe} {
		if probe == nil || probe.GRPC == nil || probe.GRPC.Port != 9001 {
			t.Errorf("%s probe %+v: want gRPC health on 9001", name, probe)
		}
	}
	checkSecurity(t, pod)
	// The sizing measured for deploy/base (BENCHMARKS.md) is the chart's.
	base := container(render(t, "base").deployments[0].Spec.Template.Spec.InitContainers, "phonegate")
	if base == nil {
		t.Fatal("deploy/base has no phonegate container")
	}
	if !equality.Semantic.DeepEqual(pg.Resources, base.Resources) {
		t.Errorf("resources %+v: want deploy/base's %+v", pg.Resources, base.Resources)
	}
	if e, b := envVar(pg, "GOGC"), envVar(base, "GOGC"); e == nil || b == nil || e.Value != b.Value {
		t.Errorf("GOGC %+v, want deploy/base's %+v", e, b)
	}
	if e, b := envVar(pg, "GOMEMLIMIT"), envVar(base, "GOMEMLIMIT"); e == nil || b == nil || e.Value != b.Value {
		t.Errorf("GOMEMLIMIT %+v, want deploy/base's %+v", e, b)
	}
	if e := envVar(pg, "PHONEGATE_HASH_KEY"); e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
		t.Errorf("PHONEGATE_HASH_KEY %+v: want it from a Secret", e)
	}

	// Every argument is a flag `phonegate serve` has.
	if pg.Args[0] != "serve" {
		t.Errorf("args start %q, want serve", pg.Args[0])
	}
	flags := chartServeFlags(t)
	for _, a := range pg.Args[1:] {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "--") || !slices.Contains(flags, name) {
			t.Errorf("arg %q: phonegate serve has no flag %q (it has %v)", a, name, flags)
		}
	}

	// The policy: the ConfigMap mounted whole where --policy points, and a
	// policy that compiles.
	var mount *corev1.VolumeMount
	for i, m := range pg.VolumeMounts {
		if m.Name == "policy" {
			mount = &pg.VolumeMounts[i]
		}
	}
	if mount == nil || mount.SubPath != "" || !slices.Contains(pg.Args, "--policy="+mount.MountPath) {
		t.Fatalf("policy mount %+v, args %v: want the ConfigMap mounted as a directory (no subPath) where --policy points", mount, pg.Args)
	}
	cm := r.configMaps[0]
	for _, v := range pod.Volumes {
		if v.Name == "policy" && (v.ConfigMap == nil || v.ConfigMap.Name != cm.Name) {
			t.Errorf("policy volume %+v, config map %s", v, cm.Name)
		}
	}
	var srcs []policy.Source
	for name, data := range cm.Data {
		srcs = append(srcs, policy.Source{Name: name, Data: []byte(data)})
	}
	if _, err := policy.Compile(srcs...); err != nil {
		t.Errorf("the chart's policy does not compile: %v", err)
	}

	// The Service reaches the pods on the ports the container names.
	svc := r.services[0]
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	if !sel.Matches(labels.Set(d.Spec.Template.Labels)) || !labels.SelectorFromSet(d.Spec.Selector.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("service selector %v, deployment selector %v, pod labels %v", svc.Spec.Selector, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	}
	for _, p := range svc.Spec.Ports {
		if !slices.ContainsFunc(pg.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.TargetPort.String() }) {
			t.Errorf("service port %s targets %s, which the container does not name", p.Name, p.TargetPort.String())
		}
	}
	for _, pdb := range r.pdbs {
		if !labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("PDB selects %v", pdb.Spec.Selector)
		}
	}
	return pg
}

func TestChartDefaults(t *testing.T) {
	r := mustRender(t, "")
	pg := checkChart(t, r)
	d := r.deployments[0]
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %v", d.Spec.Replicas)
	}
	if len(r.pdbs) != 1 || len(r.hpas)+len(r.netpols)+len(r.serviceMonitors)+len(r.rules)+len(r.secrets) != 0 {
		t.Errorf("defaults render %d PDBs, %d HPAs, %d network policies, %d service monitors, %d rules, %d secrets; want the PDB alone",
			len(r.pdbs), len(r.hpas), len(r.netpols), len(r.serviceMonitors), len(r.rules), len(r.secrets))
	}
	hk := envVar(pg, "PHONEGATE_HASH_KEY").ValueFrom.SecretKeyRef
	if hk.Optional == nil || !*hk.Optional {
		t.Errorf("without a hash key the Secret must be optional: %+v", hk)
	}
	for _, name := range []string{"PHONEGATE_REDIS_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if envVar(pg, name) != nil {
			t.Errorf("%s is set by default", name)
		}
	}
}

func TestChartEveryPart(t *testing.T) {
	r := mustRender(t, everyPart)
	pg := checkChart(t, r)
	d := r.deployments[0]
	if d.Spec.Replicas != nil {
		t.Errorf("with the HPA on, the Deployment sets replicas %d", *d.Spec.Replicas)
	}
	if len(r.pdbs) != 1 || len(r.hpas) != 1 || len(r.netpols) != 1 || len(r.serviceMonitors) != 1 || len(r.rules) != 1 || len(r.secrets) != 2 {
		t.Fatalf("rendered %d PDBs, %d HPAs, %d network policies, %d service monitors, %d rules, %d secrets",
			len(r.pdbs), len(r.hpas), len(r.netpols), len(r.serviceMonitors), len(r.rules), len(r.secrets))
	}
	secrets := map[string]*corev1.Secret{}
	for _, s := range r.secrets {
		secrets[s.Name] = s
	}
	for env, want := range map[string]string{"PHONEGATE_HASH_KEY": "0123456789abcdef0123456789abcdef", "PHONEGATE_REDIS_URL": "redis://redis.phonegate.svc:6379/0"} {
		e := envVar(pg, env)
		if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s %+v: want it from a Secret", env, e)
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		s := secrets[ref.Name]
		if s == nil || string(s.Data[ref.Key]) != want {
			t.Errorf("%s reads %s/%s, which the chart does not hold %q in", env, ref.Name, ref.Key, want)
		}
		if ref.Optional != nil && *ref.Optional {
			t.Errorf("%s: a Secret the chart creates is not optional", env)
		}
	}
	if e := envVar(pg, "OTEL_EXPORTER_OTLP_ENDPOINT"); e == nil || e.Value != "http://otel-collector.observability:4317" {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT %+v", e)
	}
	if e := envVar(pg, "OTEL_TRACES_SAMPLER_ARG"); e == nil || e.Value != "0.1" {
		t.Errorf("OTEL_TRACES_SAMPLER_ARG %+v", e)
	}
	if d.Spec.Template.Annotations["example.com/team"] != "signup" || envVar(pg, "OTEL_RESOURCE_ATTRIBUTES") == nil {
		t.Error("podAnnotations or extraEnv not rendered")
	}

	hpa := r.hpas[0]
	if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != d.Name || hpa.Spec.MaxReplicas != 6 {
		t.Errorf("HPA %+v", hpa.Spec)
	}
	podLabels := labels.Set(d.Spec.Template.Labels)
	np := r.netpols[0]
	if !labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(podLabels) {
		t.Errorf("network policy selects %v", np.Spec.PodSelector)
	}
	for _, rule := range np.Spec.Ingress {
		if len(rule.From) == 0 {
			t.Errorf("network policy admits everyone on %v", rule.Ports)
		}
	}

	// The ServiceMonitor scrapes the Service's http port, with job
	// "phonegate" (the label it names), which the alerts select.
	sm := r.serviceMonitors[0]
	svc := r.services[0]
	if !labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(svc.Labels)) {
		t.Errorf("service monitor selects %v, service labels %v", sm.Spec.Selector, svc.Labels)
	}
	if job := svc.Labels[sm.Spec.JobLabel]; job != "phonegate" {
		t.Errorf("the scrape job would be %q, the alerts select job=\"phonegate\"", job)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http" || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("service monitor endpoints %+v", sm.Spec.Endpoints)
	}
	if sm.Labels["release"] != "kube-prometheus-stack" || r.rules[0].Labels["release"] != "kube-prometheus-stack" {
		t.Error("serviceMonitor.labels or prometheusRule.labels not rendered")
	}

	// The PrometheusRule holds deploy/monitoring's groups.
	a, _ := json.Marshal(r.rules[0].Spec.Groups)
	b, _ := json.Marshal(loadRules(t).Groups)
	if string(a) != string(b) {
		t.Errorf("the chart's PrometheusRule differs from monitoring/rules.yaml")
	}
}

// A Redis URL of the user's own Secret; a ConfigMap of the user's own.
func TestChartExistingSecretsAndConfigMap(t *testing.T) {
	chrt, err := renderChart(t, `
redis: {existingSecret: my-redis, secretKey: uri}
hashKey: {existingSecret: my-key}
policy: {existingConfigMap: my-policy}
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(chrt.configMaps) != 0 || len(chrt.secrets) != 0 {
		t.Errorf("%d config maps, %d secrets rendered; the user's own are named", len(chrt.configMaps), len(chrt.secrets))
	}
	pg := container(chrt.deployments[0].Spec.Template.Spec.Containers, "phonegate")
	if ref := envVar(pg, "PHONEGATE_REDIS_URL").ValueFrom.SecretKeyRef; ref.Name != "my-redis" || ref.Key != "uri" {
		t.Errorf("redis ref %+v", ref)
	}
	if ref := envVar(pg, "PHONEGATE_HASH_KEY").ValueFrom.SecretKeyRef; ref.Name != "my-key" || (ref.Optional != nil && *ref.Optional) {
		t.Errorf("hash key ref %+v", ref)
	}
	if v := chrt.deployments[0].Spec.Template.Spec.Volumes[0]; v.ConfigMap == nil || v.ConfigMap.Name != "my-policy" {
		t.Errorf("policy volume %+v", v)
	}
}

// values.schema.json refuses what the chart does not know or cannot use.
func TestChartSchemaRefuses(t *testing.T) {
	for _, tc := range []struct{ name, values, want string }{
		{"unknown top-level value", "replicas: 3", "replicas"},
		{"unknown nested value", "serviceMonitor: {enabeld: true}", "enabeld"},
		{"mistyped count", "replicaCount: two", "replicaCount"},
		{"mistyped switch", `prometheusRule: {enabled: "yes"}`, "enabled"},
		{"unknown log level", "config: {logLevel: verbose}", "logLevel"},
		{"not a duration", "config: {drainTimeout: 10}", "drainTimeout"},
		{"a policy file not named .yaml", "policy: {files: {'../x': 'version: 1'}}", "'../x'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderChart(t, tc.values)
			if err == nil || !strings.Contains(err.Error(), "values don't meet the specifications of the schema") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("values %q: error %v; want the schema to refuse %s", tc.values, err, tc.want)
			}
		})
	}
}

// helm lint is clean, with the defaults and with every part on.
func TestChartLint(t *testing.T) {
	for name, values := range map[string]string{"defaults": "", "every part": everyPart} {
		vals, err := chartutil.ReadValues([]byte(values))
		if err != nil {
			t.Fatal(err)
		}
		linter := lint.All(chartDir, vals, "signup", false)
		for _, m := range linter.Messages {
			// "icon is recommended" is the one note a chart without an
			// icon gets; anything else is a finding.
			if m.Severity == support.InfoSev && strings.Contains(m.Err.Error(), "icon is recommended") {
				continue
			}
			t.Errorf("%s: helm lint: %s", name, m)
		}
	}
	if _, err := os.Stat(chartDir + "/values.schema.json"); err != nil {
		t.Error(err)
	}
}

// A policy of the user's own replaces the chart's, as values.yaml says.
func TestChartPolicyFiles(t *testing.T) {
	r := mustRender(t, `
policy:
  files:
    policy.yaml: null
    signup.yaml: |
      version: 1
      routes:
        - name: signup
          match: {path_prefix: /signup}
          fields: [phone]
          policy: high-trust
`)
	checkChart(t, r)
	data := r.configMaps[0].Data
	if len(data) != 1 || data["signup.yaml"] == "" {
		t.Errorf("config map holds %v, want signup.yaml alone", slices.Collect(maps.Keys(data)))
	}
}
