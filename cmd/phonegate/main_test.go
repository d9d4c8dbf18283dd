package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/phonegate/phonegate/insight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// binary is phonegate built once for the tests that run it as a process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "phonegate-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "phonegate")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// serving is a `phonegate serve` process on loopback ports the kernel chose.
type serving struct {
	cmd       *exec.Cmd
	grpcAddr  string
	httpAddr  string
	logs      *syncBuffer // every log line so far
	exited    chan error
	logsReady chan struct{}
}

func startServe(t *testing.T, args ...string) *serving {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serving{cmd: cmd, logs: &syncBuffer{}, exited: make(chan error, 1), logsReady: make(chan struct{})}
	addrs := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Bytes()
			s.logs.Write(append(line, '\n'))
			var rec struct {
				Msg      string `json:"msg"`
				GRPCAddr string `json:"grpc_addr"`
				HTTPAddr string `json:"http_addr"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "serving" {
				addrs <- [2]string{rec.GRPCAddr, rec.HTTPAddr}
			}
		}
		close(s.logsReady)
		s.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case a := <-addrs:
		s.grpcAddr, s.httpAddr = a[0], a[1]
	case <-s.logsReady:
		t.Fatalf("phonegate exited before serving:\n%s", s.logs)
	}
	return s
}

func TestServeAnswersChecksAndDrainsOnSIGTERM(t *testing.T) {
	s := startServe(t)
	conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()

	// Wait for SERVING as a kubelet gRPC probe would: Watch until it says so.
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	watch, err := healthpb.NewHealthClient(conn).Watch(wctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		st, err := watch.Recv()
		if err != nil {
			t.Fatalf("health watch: %v\n%s", err, s.logs)
		}
		if st.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
	}

	resp, err := http.Get("http://" + s.httpAddr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"policy_source":"embedded default"`) {
		t.Errorf("/readyz %d %s", resp.StatusCode, body)
	}

	check := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{
			Method: "POST", Path: "/signup", Host: "signup.example.com",
			Headers: map[string]string{":method": "POST", ":path": "/signup", "content-type": "application/json"},
			RawBody: []byte(`{"phone":"+44 12"}`),
		},
	}}}
	cr, err := authv3.NewAuthorizationClient(conn).Check(ctx, check)
	if err != nil {
		t.Fatal(err)
	}
	if codes.Code(cr.GetStatus().GetCode()) != codes.PermissionDenied {
		t.Errorf("embedded default allowed an invalid number: %v", cr)
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st, err := watch.Recv()
	if err != nil || st.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health after SIGTERM: %v, %v; want NOT_SERVING", st.GetStatus(), err)
	}
	cancel() // a watch stream would otherwise hold the drain to its timeout
	if err := <-s.exited; err != nil {
		t.Fatalf("exit after SIGTERM: %v, want 0\n%s", err, s.logs)
	}
	logs := s.logs.String()
	for _, want := range []string{`"msg":"policy loaded"`, `"msg":"engine warm"`, `"msg":"check"`, `"msg":"draining"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "not a phone") {
		t.Errorf("a raw number reached the logs:\n%s", logs)
	}
}

func TestServeRefusesAnInvalidPolicy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("version: 1\nroutes:\n  - name: a\n    policy: nope\n"), 0o644)
	out, err := exec.Command(binary, "serve", "--policy", path, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0").CombinedOutput()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1\n%s", err, out)
	}
	if !strings.Contains(string(out), path+`:4:13: route "a" names policy "nope"`) {
		t.Errorf("output lacks the positioned error:\n%s", out)
	}
}

func TestLookup(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"lookup", "07400 123456", "--region", "GB"}, nil, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var in map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &in); err != nil {
		t.Fatalf("output %q is not one JSON object: %v", stdout.String(), err)
	}
	if in["e164"] != "+447400123456" || in["line_type"] != "mobile" || in["confidence"] != "verified" {
		t.Errorf("insight %v", in)
	}
}

func TestLookupStdinKeepsOrder(t *testing.T) {
	var stdout, stderr bytes.Buffer
	stdin := strings.NewReader("+447400123456\n\nnot a number\n  +16502530000  \n")
	if code := run(context.Background(), []string{"lookup"}, stdin, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	want := []string{"+447400123456", "", "not a number", "+16502530000"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), stdout.String())
	}
	for i, line := range lines {
		var in struct{ Input string }
		if err := json.Unmarshal([]byte(line), &in); err != nil || in.Input != want[i] {
			t.Errorf("line %d: %q (input %q), want input %q", i+1, line, in.Input, want[i])
		}
	}
}

func TestLookupText(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"lookup", "--format", "text", "+44 56 1234 5678"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"line type      voip", "confidence     low (0.20)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, stdout.String())
		}
	}
}

// TestVersion: the version command names the metadata and every data set,
// with the versions and newest dates a support ticket needs.
func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"version"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"phonegate ",
		"libphonenumber_metadata  " + insight.LibphonenumberVersion(),
		"receive_sms_numbers      2.1.1628, newest 2026-08-22, ",
		"receive_sms_ranges       2.1.1628, newest 2026-08-22, ",
		"carrier_profiles         updated 20",
		"fictitious_ranges        updated 20",
		"ip_country               ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
}

// TestPolicyTestCommand: `phonegate test` over the example policies passes,
// and a failing case makes it exit 1 with the case's file and line.
func TestPolicyTestCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"test", "--coverage", "../../examples/policies"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	if !regexp.MustCompile(`(?m)^[0-9]+ passed, 0 failed\n$`).MatchString(stdout.String()) {
		t.Errorf("output %q", stdout.String())
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "p.yaml"), []byte("version: 1\nroutes:\n  - {name: a, policy: standard, fields: [phone], region: GB}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "p_test.yaml"), []byte("cases:\n  - name: voip\n    request: {path: /x, headers: {content-type: application/json}, body: '{\"phone\": \"056 1234 5678\"}'}\n    expect: {decision: allow}\n"), 0o644)
	stdout.Reset()
	if code := run(context.Background(), []string{"test", dir}, nil, &stdout, &stderr); code != 1 {
		t.Errorf("a failing case: exit %d", code)
	}
	want := filepath.Join(dir, "p_test.yaml") + ":2: case \"voip\": want decision allow, got tag\n0 passed, 1 failed\n"
	if stdout.String() != want {
		t.Errorf("output %q, want %q", stdout.String(), want)
	}
	if code := run(context.Background(), []string{"test", t.TempDir()}, nil, &stdout, &stderr); code != 1 {
		t.Errorf("no test files: exit %d", code)
	}
}

// TestEval: eval explains a request: route and why, each number with its
// field and insight, every rule's result, the decision and what Envoy gets.
func TestEval(t *testing.T) {
	req := `{"path": "/api/register", "headers": {"content-type": "application/json", "x-request-id": "6f1c7c52-5a8e-4a55-9f55-6f3c1d0a7b21"}, "body": "{\"profile\": {\"mobile_number\": \"+44 56 1234 5678\"}}"}`
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"eval", "--policy", "../../examples/policies/standard.yaml"}, strings.NewReader(req), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var out struct {
		Route    string `json:"route"`
		RouteWhy string `json:"route_why"`
		Numbers  []struct {
			Field   string         `json:"field"`
			Insight map[string]any `json:"insight"`
			Rules   []struct {
				Rule    string `json:"rule"`
				Held    bool   `json:"held"`
				Decided bool   `json:"decided"`
			} `json:"rules"`
		} `json:"numbers"`
		Decision struct {
			Action, Rule, Field string
			Tags                []string
		} `json:"decision"`
		DecisionID string `json:"decision_id"`
		Envoy      struct {
			Allowed         bool              `json:"allowed"`
			Headers         map[string]string `json:"headers"`
			DynamicMetadata map[string]any    `json:"dynamic_metadata"`
		} `json:"envoy"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	if out.Route != "register" || !strings.Contains(out.RouteWhy, "starts with /api/register") {
		t.Errorf("route %q (%s)", out.Route, out.RouteWhy)
	}
	if len(out.Numbers) != 1 || out.Numbers[0].Field != "profile.mobile_number" || out.Numbers[0].Insight["line_type"] != "voip" {
		t.Fatalf("numbers %+v", out.Numbers)
	}
	rules := out.Numbers[0].Rules
	if len(rules) != 2 || rules[0].Rule != "invalid" || rules[0].Held || rules[1].Rule != "low-or-disposable" || !rules[1].Held || !rules[1].Decided {
		t.Errorf("rules %+v", rules)
	}
	if out.Decision.Action != "tag" || out.Decision.Rule != "low-or-disposable" || out.Decision.Field != "profile.mobile_number" {
		t.Errorf("decision %+v", out.Decision)
	}
	if out.DecisionID != "6f1c7c52-5a8e-4a55-9f55-6f3c1d0a7b21" || !out.Envoy.Allowed || out.Envoy.Headers["x-phone-tags"] != "review" ||
		out.Envoy.DynamicMetadata["decision_id"] != out.DecisionID {
		t.Errorf("decision id %q, envoy %+v", out.DecisionID, out.Envoy)
	}

	stdout.Reset()
	code = run(context.Background(), []string{"eval", "--policy", "../../examples/policies/standard.yaml", "--format", "text"}, strings.NewReader(req), &stdout, &stderr)
	for _, want := range []string{"route: register (", "number at profile.mobile_number: +445612345678, GB, voip", "standard/low-or-disposable: true  <- decides: tag", "decision: tag", "header x-phone-tags: review"} {
		if code != 0 || !strings.Contains(stdout.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, stdout.String())
		}
	}
	if code := run(context.Background(), []string{"eval"}, strings.NewReader(req), &stdout, &stderr); code != 1 {
		t.Errorf("no --policy: exit %d", code)
	}
}

func TestLint(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("version: 1\nroutes:\n  - {name: a, policy: high-trust}\n"), 0o644)
	os.WriteFile(bad, []byte("version: 1\npolicies:\n  - name: p\n    rules:\n      - {when: 'true', action: block}\n"), 0o644)

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"lint", good}, nil, &stdout, &stderr); code != 0 || stdout.String() != "ok: 1 files, 1 routes, 4 policies (presets included)\n" {
		t.Errorf("lint of a good file: exit %d, output %q", code, stdout.String())
	}
	// Several files are one set, as serve loads a directory: a name defined
	// in two of them is a problem.
	twin := filepath.Join(dir, "twin.yaml")
	os.WriteFile(twin, []byte("version: 1\nroutes:\n  - {name: a, policy: standard}\n"), 0o644)
	stdout.Reset()
	if code := run(context.Background(), []string{"lint", good, twin}, nil, &stdout, &stderr); code != 1 || !strings.Contains(stdout.String(), "twin.yaml:3:") {
		t.Errorf("lint of two files defining route a: exit %d, output %q", code, stdout.String())
	}
	stdout.Reset()
	code := run(context.Background(), []string{"lint", good, bad}, nil, &stdout, &stderr)
	if code != 1 {
		t.Errorf("lint of a bad file: exit %d, want 1", code)
	}
	if want := bad + `:5:32: unknown action "block": want one of allow, tag, reject`; strings.TrimSpace(stdout.String()) != want {
		t.Errorf("lint output\n %q\nwant\n %q", stdout.String(), want)
	}
}

func TestUnknownCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"serv"}, nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), `unknown command "serv"`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestProgressOnlyForATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf) // not a terminal
	for range progressAfter + 10 {
		p.add()
	}
	p.done()
	if buf.Len() != 0 {
		t.Errorf("progress written to a non-terminal: %q", buf.String())
	}

	p = newProgress(nil)
	p.w = &buf // as if stderr were a terminal
	for range progressAfter - 1 {
		p.add()
	}
	if buf.Len() != 0 {
		t.Errorf("progress shown for a small list: %q", buf.String())
	}
	p.add()
	p.done()
	if out := buf.String(); !strings.Contains(out, "\r10000 numbers, ") || !strings.HasSuffix(out, "\n") || !strings.Contains(out, "10000 numbers in ") {
		t.Errorf("progress output %q", out)
	}
}

func TestLintExamples(t *testing.T) {
	files, _ := filepath.Glob("../../examples/policies/*.yaml")
	if len(files) == 0 {
		t.Fatal("no example policies")
	}
	// Each example is a policy of its own (they would clash as one set:
	// several define a velocity section).
	for _, f := range files {
		if strings.HasSuffix(f, "_test.yaml") {
			continue
		}
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"lint", f}, nil, &stdout, &stderr); code != 0 {
			t.Errorf("lint of %s: exit %d\n%s%s", f, code, stdout.String(), stderr.String())
		}
	}
}

// TestServeHotReload edits the policy directory of a running phonegate: a good
// edit is served, a bad one is refused and counted while the last good policy
// keeps serving.
func TestServeHotReload(t *testing.T) {
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.yaml")
	os.WriteFile(policyFile, []byte("version: 1\nroutes:\n  - {name: a, policy: standard}\n"), 0o644)
	s := startServe(t, "--policy", dir, "--reload-debounce", "20ms")
	base := "http://" + s.httpAddr

	// waitFor polls url until its body contains want. The deadline only stops
	// a hung test; nothing here asserts how fast a reload is.
	waitFor := func(url, want string) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get(url)
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if strings.Contains(string(body), want) {
					return string(body)
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s never showed %q; last:\n%s\nlogs:\n%s", url, want, body, s.logs)
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	first := waitFor(base+"/readyz", `"status":"ready"`)

	os.WriteFile(policyFile, []byte("version: 1\nroutes:\n  - {name: b, policy: high-trust}\n"), 0o644)
	waitFor(base+"/metrics", `phonegate_policy_reload_total{result="success"} 1`)
	second := waitFor(base+"/readyz", `"status":"ready"`)
	if second == first {
		t.Fatalf("/readyz unchanged after a good edit: %s", second)
	}

	os.WriteFile(policyFile, []byte("version: 1\nroutes:\n  - {name: c, policy: nope}\n"), 0o644)
	waitFor(base+"/metrics", `phonegate_policy_reload_total{result="failure"} 1`)
	if now := waitFor(base+"/readyz", `"status":"ready"`); now != second {
		t.Errorf("a bad edit changed the served policy: %s, was %s", now, second)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.exited
	if logs := s.logs.String(); !strings.Contains(logs, `policy.yaml:3:23: route \"c\" names policy \"nope\"`) {
		t.Errorf("the failed reload's problem is not in the logs:\n%s", logs)
	}
}

// syncBuffer is a bytes.Buffer that a reading goroutine and the test may share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLookupIP(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"lookup", "--ip", "8.8.8.8", "+447400123456"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var in struct {
		IP        map[string]string `json:"ip"`
		RiskScore int               `json:"risk_score"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &in); err != nil || in.IP["country"] != "US" || in.IP["match"] != "mismatch" || in.RiskScore != 20 {
		t.Errorf("lookup --ip: %s (%v)", stdout.String(), err)
	}
	if code := run(context.Background(), []string{"lookup", "--ip", "nope", "1"}, nil, &stdout, &stderr); code != 1 {
		t.Errorf("a bad --ip: exit %d", code)
	}
}

// TestServeFlagErrors: a flag that cannot work is refused, by name, before
// anything listens (the gRPC address given is taken: a server that tried to
// listen would fail on it instead).
func TestServeFlagErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--log-format", "xml"}, "--log-format"},
		{[]string{"--xff-trusted-hops", "-1"}, "--xff-trusted-hops -1"},
		{[]string{"--http-authz-prefix", "/metrics"}, "--http-authz-prefix"},
		{[]string{"--http-authz-prefix", "authz"}, "--http-authz-prefix"},
		{[]string{"--max-body-bytes", "-1"}, "--max-body-bytes -1"},
		{[]string{"--drain-timeout", "-5s"}, "--drain-timeout"},
		{[]string{"--reload-debounce", "0s"}, "--reload-debounce"},
		{[]string{"--http-addr", "nowhere"}, "--http-addr"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"serve", "--grpc-addr", taken.Addr().String()}, tt.args...)
		if code := run(context.Background(), args, nil, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "phonegate serve: "+tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

// TestReadmeListsEveryServeFlag keeps the README's configuration reference
// and `phonegate serve` in step.
func TestReadmeListsEveryServeFlag(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z-]+)` \\|").FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = true
	}
	out, _ := exec.Command(binary, "serve", "--help").CombinedOutput()
	flags := regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1)
	if len(flags) == 0 {
		t.Fatalf("no flags in serve --help:\n%s", out)
	}
	for _, f := range flags {
		if !documented[f[1]] {
			t.Errorf("--%s is not in the README's configuration reference", f[1])
		}
		delete(documented, f[1])
	}
	for f := range documented {
		t.Errorf("the README documents --%s, which serve does not have", f)
	}
}

// TestLookupLongLineKeepsOneLinePerLine: a line over the limit gets an error
// object in its place, and the lines after it are looked up as usual; the
// last line may lack its newline.
func TestLookupLongLineKeepsOneLinePerLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	stdin := strings.NewReader("+447400123456\n" + strings.Repeat("9", 200000) + "\r\n+33612345678")
	if code := run(context.Background(), []string{"lookup"}, stdin, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d output lines for 3 input lines:\n%.300s", len(lines), stdout.String())
	}
	var first, third struct{ Input string }
	var second lineError
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	json.Unmarshal([]byte(lines[2]), &third)
	if first.Input != "+447400123456" || second.Error != "line_too_long" || second.Line != 2 || third.Input != "+33612345678" {
		t.Errorf("got %q / %+v / %q", first.Input, second, third.Input)
	}
}

// TestLookupStopsOnSIGINT: the real binary, reading a list from a pipe that
// stays open, stops on SIGINT, with what it wrote flushed, and exits 130.
func TestLookupStopsOnSIGINT(t *testing.T) {
	cmd := exec.Command(binary, "lookup")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	guard := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() }) // a hang guard
	defer guard.Stop()
	io.WriteString(stdin, "+447400123456\n")
	// lookup answers a line as soon as it has no other to read: wait for it.
	first, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	stdout.WriteString(first)
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		cmd.Process.Kill()
		t.Fatal("lookup did not stop on SIGINT")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("exit %v, want 130; stderr %q", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"input":"+447400123456"`) || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stdout %q, stderr %q: want the lines read so far flushed", stdout.String(), stderr.String())
	}
}
