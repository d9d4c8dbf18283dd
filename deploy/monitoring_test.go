package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/phonegate/phonegate/filter"
	"github.com/phonegate/phonegate/policy"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"sigs.k8s.io/yaml"
)

// promtool finds promtool (Debian's prometheus package; .ci/run installs it).
// Without it the test fails in CI and is skipped elsewhere.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool is not installed (.ci/run installs Debian's prometheus package): %v", err)
		}
		t.Skip("promtool not installed (apt-get install prometheus); CI runs this test")
	}
	return path
}

func TestPromtoolRules(t *testing.T) {
	bin := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "monitoring/rules.yaml"},
		{"test", "rules", "monitoring/rules_test.yaml"},
	} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// ruleFile is a Prometheus rule file, strictly into prometheus-operator's types.
type ruleFile struct {
	Groups []monitoringv1.RuleGroup `json:"groups"`
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	raw, err := os.ReadFile("monitoring/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.UnmarshalStrict(raw, &rf); err != nil {
		t.Fatalf("monitoring/rules.yaml: %v", err)
	}
	return rf
}

// promtoolTests is what TestRulesAreTested reads of rules_test.yaml.
type promtoolTests struct {
	Tests []struct {
		AlertRuleTest []struct {
			AlertName string `json:"alertname"`
			ExpAlerts []any  `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// Every alert has a summary, a runbook in the README, and promtool cases in
// which it fires and in which it does not.
func TestRulesAreTestedAndDocumented(t *testing.T) {
	rf := loadRules(t)
	raw, err := os.ReadFile("monitoring/rules_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pt promtoolTests
	if err := yaml.Unmarshal(raw, &pt); err != nil {
		t.Fatal(err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range pt.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.AlertName] = true
			} else {
				quiet[a.AlertName] = true
			}
		}
	}
	readme := readmeHeadings(t)
	alerts := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			if !fires[r.Alert] || !quiet[r.Alert] {
				t.Errorf("alert %s: promtool tests where it fires: %v, where it stays quiet: %v; want both", r.Alert, fires[r.Alert], quiet[r.Alert])
			}
			if r.Annotations["summary"] == "" || r.Labels["severity"] == "" {
				t.Errorf("alert %s has no summary or severity", r.Alert)
			}
			anchor := strings.ToLower(r.Alert)
			if want := "https://github.com/phonegate/phonegate/blob/main/README.md#" + anchor; r.Annotations["runbook_url"] != want {
				t.Errorf("alert %s runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
			}
			if !readme[anchor] {
				t.Errorf("alert %s: the README has no runbook heading %q", r.Alert, r.Alert)
			}
		}
	}
	if alerts < 6 {
		t.Errorf("%d alerts", alerts)
	}
}

// readmeHeadings returns the GitHub anchors of the README's headings.
func readmeHeadings(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(raw), -1) {
		h := strings.ToLower(strings.TrimSpace(m[1]))
		h = regexp.MustCompile(`[^a-z0-9 _-]`).ReplaceAllString(h, "")
		out[strings.ReplaceAll(h, " ", "-")] = true
	}
	return out
}

// The PrometheusRule of deploy/monitoring and the Helm chart's rules file
// are rules.yaml: the first has the same groups, the second the same bytes.
func TestPrometheusRuleIsRulesFile(t *testing.T) {
	rf := loadRules(t)
	raw, err := os.ReadFile("monitoring/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pr monitoringv1.PrometheusRule
	if err := yaml.UnmarshalStrict(raw, &pr); err != nil {
		t.Fatalf("monitoring/prometheusrule.yaml: %v", err)
	}
	if pr.Kind != "PrometheusRule" || pr.APIVersion != "monitoring.coreos.com/v1" {
		t.Errorf("kind %s, apiVersion %s", pr.Kind, pr.APIVersion)
	}
	a, _ := json.Marshal(pr.Spec.Groups)
	b, _ := json.Marshal(rf.Groups)
	if !bytes.Equal(a, b) {
		t.Errorf("prometheusrule.yaml's groups differ from rules.yaml's:\n%s\n%s", a, b)
	}
	src, _ := os.ReadFile("monitoring/rules.yaml")
	chart, err := os.ReadFile("helm/phonegate/files/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, chart) {
		t.Error("helm/phonegate/files/rules.yaml differs from monitoring/rules.yaml; copy it over")
	}
}

// exposed starts a real server on loopback, makes it decide a check with a
// number over gRPC (so every labelled series exists), and returns the
// metric families of its /metrics.
func exposed(t *testing.T) map[string]dto.MetricType {
	t.Helper()
	set, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	srv := filter.New(filter.Options{})
	srv.SetPolicy(set)
	srv.MarkWarm()
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
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	conn, err := grpc.NewClient(grpcLis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = authv3.NewAuthorizationClient(conn).Check(ctx, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source: &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "203.0.113.7"}}}},
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: "POST", Path: "/signup", Host: "signup.example.com",
			Headers: map[string]string{"content-type": "application/json"},
			RawBody: []byte(`{"phone":"+44 7400 123456"}`),
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + httpLis.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]dto.MetricType{}
	for name, f := range fams {
		out[name] = f.GetType()
	}
	return out
}

// seriesNames lists the names a family exposes: a histogram's and a
// summary's _bucket, _sum and _count series too.
func seriesNames(fams map[string]dto.MetricType) map[string]bool {
	out := map[string]bool{}
	for name, typ := range fams {
		out[name] = true
		if typ == dto.MetricType_HISTOGRAM || typ == dto.MetricType_SUMMARY {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[name+s] = true
			}
		}
	}
	return out
}

// grafanaVars stands in for Grafana's interval variables, which are not
// PromQL; label values such as $job are inside strings and parse as they are.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")

// metricNames parses a PromQL expression and returns every metric it selects.
func metricNames(t *testing.T, where, expr string) []string {
	t.Helper()
	node, err := parser.NewParser(parser.Options{}).ParseExpr(grafanaVars.Replace(expr))
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", where, expr, err)
		return nil
	}
	var names []string
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	if len(names) == 0 {
		t.Errorf("%s: %q selects no metric by name", where, expr)
	}
	return names
}

// dashboard is what the test reads of the Grafana dashboard.
type dashboard struct {
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

// Every metric a dashboard query or a rule names is one /metrics exposes
// (or a series a recording rule makes, or Prometheus's own up).
func TestDashboardAndRulesNameRealMetrics(t *testing.T) {
	real := seriesNames(exposed(t))
	for _, want := range []string{"phonegate_checks_total", "phonegate_check_duration_seconds_bucket", "grpc_server_handled_total", "grpc_server_handling_seconds_bucket"} {
		if !real[want] {
			t.Fatalf("/metrics has no %s: the scrape is not what this test expects", want)
		}
	}
	known := func(name string) bool {
		return real[name] || name == "up"
	}
	rf := loadRules(t)
	recorded := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
		}
	}
	checked := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			where := "rule " + r.Alert + r.Record
			for _, name := range metricNames(t, where, r.Expr.String()) {
				checked++
				if !known(name) && !recorded[name] {
					t.Errorf("%s names %s, which /metrics does not expose", where, name)
				}
			}
		}
	}

	raw, err := os.ReadFile("monitoring/dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	queries := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			queries++
			for _, name := range metricNames(t, "panel "+p.Title, tg.Expr) {
				checked++
				if !known(name) {
					t.Errorf("panel %q names %s, which /metrics does not expose", p.Title, name)
				}
			}
		}
	}
	for _, v := range d.Templating.List {
		if m := regexp.MustCompile(`^label_values\((\w+),`).FindStringSubmatch(v.Definition); m != nil {
			checked++
			if !real[m[1]] {
				t.Errorf("variable %s reads %s, which /metrics does not expose", v.Name, m[1])
			}
		}
	}
	if queries < 10 || checked < 20 {
		t.Errorf("%d queries, %d names checked: the dashboard or rules did not load", queries, checked)
	}
}

// The README's metrics table lists every phonegate_* and grpc_server_*
// family /metrics exposes, and nothing else.
func TestREADMEMetricsTable(t *testing.T) {
	fams := exposed(t)
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Metrics\n")
	if !ok {
		t.Fatal("the README has no Metrics section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	documented := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range regexp.MustCompile("`([a-z_:]+)`").FindAllStringSubmatch(first, -1) {
			documented[m[1]] = true
		}
	}
	var missing, extra []string
	for name := range fams {
		if (strings.HasPrefix(name, "phonegate_") || strings.HasPrefix(name, "grpc_server_")) && !documented[name] {
			missing = append(missing, name)
		}
	}
	for name := range documented {
		if _, ok := fams[name]; !ok {
			extra = append(extra, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("README metrics table: undocumented %v; documented but not exposed %v", missing, extra)
	}
	if len(documented) < 8 {
		t.Errorf("read %d metrics from the README's table", len(documented))
	}
}
