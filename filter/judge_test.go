package filter

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/phonegate/phonegate/policy"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// logSink keeps every line a server logs, for tests that read them.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

// take returns the lines logged since the last take.
func (l *logSink) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

// judged is what one transport made of a request: the decision and reason of
// its check log line ("" when no route matched and nothing was judged), and
// the transport's own answer.
type judged struct {
	decision, reason string
	answer           string // "ok", "denied" or "fault"
	errText          string // a fault's message (gRPC) or body (HTTP)
	logs             []string
}

// judgeServer is a server on loopback whose log lines a test reads.
type judgeServer struct {
	*running
	sink *logSink
}

func startJudge(t testing.TB, set *policy.Set) *judgeServer {
	t.Helper()
	sink := &logSink{}
	srv := New(Options{Logger: slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug})), HashKey: []byte("test key")})
	srv.SetPolicy(set)
	srv.MarkWarm()
	return &judgeServer{running: serveOn(t, srv), sink: sink}
}

// viaGRPC sends the request to Check as Envoy's ext_authz filter would.
func (j *judgeServer) viaGRPC(t testing.TB, method, path, contentType, body string, headers map[string]string) judged {
	t.Helper()
	j.sink.take()
	resp, err := j.auth.Check(context.Background(), envoyCheck(method, path, contentType, body, headers))
	var out judged
	switch {
	case err != nil:
		out.answer, out.errText = "fault", err.Error()
	case codes.Code(resp.GetStatus().GetCode()) == codes.OK:
		out.answer = "ok"
	default:
		out.answer = "denied"
	}
	out.logs = j.sink.take()
	out.decision, out.reason = checkLine(t, out.logs)
	return out
}

// viaHTTP sends the request to the HTTP ext_authz mode as Envoy's
// http_service would: the original method and path behind /authz.
func (j *judgeServer) viaHTTP(t testing.TB, method, path, contentType, body string, headers map[string]string) judged {
	t.Helper()
	j.sink.take()
	req, err := http.NewRequest(method, j.http+DefaultHTTPAuthzPrefix+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out judged
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		t.Fatalf("HTTP mode answered %s %s with a redirect (%d to %q): Envoy would hand it to the client", method, path, resp.StatusCode, resp.Header.Get("Location"))
	case resp.StatusCode == http.StatusOK:
		out.answer = "ok"
	case resp.StatusCode >= 500:
		out.answer, out.errText = "fault", string(b)
	default:
		out.answer = "denied"
	}
	out.logs = j.sink.take()
	out.decision, out.reason = checkLine(t, out.logs)
	return out
}

// checkLine reads the decision and reason of the one "check" line in lines.
func checkLine(t testing.TB, lines []string) (decision, reason string) {
	t.Helper()
	for _, l := range lines {
		var rec struct{ Msg, Decision, Reason string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		if rec.Msg == "check" {
			return rec.Decision, rec.Reason
		}
	}
	return "", ""
}

// explicitPolicy names its fields, as a team that knows its API does.
const explicitPolicy = `
version: 1
routes:
  - name: register
    match: {path_prefix: /api/register, methods: [POST]}
    fields: [applicant.phone]
    policy: standard
  - name: graphql
    match: {path: /graphql, methods: [POST]}
    fields: [variables.phone, variables.input.phone]
    policy: standard
`

// TestJudgesWhatTheUserMeant: real signups are not refused, and no encoding
// trick lets a bad number through, the same in gRPC and HTTP mode.
func TestJudgesWhatTheUserMeant(t *testing.T) {
	def, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	servers := map[string]*judgeServer{
		"default":  startJudge(t, def),
		"explicit": startJudge(t, mustCompile(t, explicitPolicy)),
	}
	const (
		jsonCT = "application/json"
		formCT = "application/x-www-form-urlencoded"
	)
	bad := `{"applicant":{"phone":"12"}}`
	for _, tt := range []struct {
		name, policy, method, path, contentType, body string
		decision, reason                              string
	}{
		// Real signups, not refused.
		{"optional phone left empty", "default", "POST", "/signup", jsonCT, `{"email":"a@b.c","phone":""}`, "allow", "no_number"},
		{"optional phone left blank", "default", "POST", "/signup", jsonCT, `{"email":"a@b.c","phone":"   "}`, "allow", "no_number"},
		{"optional form field left empty", "default", "POST", "/signup", formCT, "email=a%40b.c&phone=", "allow", "no_number"},
		{"headphones", "default", "POST", "/signup", jsonCT, `{"headphones":"yes"}`, "allow", "no_number"},
		{"microphone", "default", "POST", "/signup", jsonCT, `{"microphone":"on"}`, "allow", "no_number"},
		{"device.iphone", "default", "POST", "/signup", jsonCT, `{"device":{"iphone":"15 Pro"}}`, "allow", "no_number"},
		{"a content type whose parameter does not parse", "default", "POST", "/signup", "text/plain; x", "I would like an account", "allow", "no_number"},
		{"a national number with its country beside it", "default", "POST", "/signup", jsonCT, `{"phone":{"number":"07400 123456","country":"GB"}}`, "allow", "no_rule"},
		{"a valid mobile", "default", "POST", "/signup", jsonCT, `{"phone":"+447400123456"}`, "allow", "no_rule"},
		{"applicant's phone left empty", "explicit", "POST", "/api/register", jsonCT, `{"applicant":{"phone":""}}`, "allow", "no_number"},
		{"applicant's valid phone", "explicit", "POST", "/api/register", jsonCT, `{"applicant":{"phone":"+447400123456"}}`, "allow", "no_rule"},

		// Bad numbers, not let through.
		{"form key user[phone]", "default", "POST", "/signup", formCT, "email=a%40b.c&user[phone]=12", "reject", "rule"},
		{"form key phone[] beside a good one", "default", "POST", "/signup", formCT, "phone[]=%2B447400123456&phone[]=12", "reject", "rule"},
		{"form key contacts[0][phone]", "default", "POST", "/signup", formCT, "contacts%5B0%5D%5Bphone%5D=12", "reject", "rule"},
		{"a phone key holding an object", "default", "POST", "/signup", jsonCT, `{"phone":{"number":"12","country":"GB"}}`, "reject", "rule"},
		{"Cognito attribute", "default", "POST", "/signup", "application/x-amz-json-1.1", `{"UserAttributes":[{"Name":"phone_number","Value":"12"}]}`, "reject", "rule"},
		{"GraphQL literal beside good variables", "default", "POST", "/graphql", jsonCT,
			`{"query":"mutation ($phone: String) { signup(phone: \"12\", other: $phone) { id } }","variables":{"phone":"+447400123456"}}`, "reject", "rule"},
		{"application/graphql document", "default", "POST", "/graphql", "application/graphql", `mutation { signup(email: "a@b.c", phone: "12") { id } }`, "reject", "rule"},
		{"case twin of the named key", "explicit", "POST", "/api/register", jsonCT, `{"applicant":{"phone":"+447400123456","PHONE":"12"}}`, "reject", "rule"},
		{"case twin of the parent", "explicit", "POST", "/api/register", jsonCT, `{"Applicant":{"phone":"12"},"applicant":{"phone":"+447400123456"}}`, "reject", "rule"},
		{"GraphQL literal beside a good variables.phone", "explicit", "POST", "/graphql", jsonCT,
			`{"query":"mutation ($p: String) { signup(phone: $p, backup: \"x\") { id } signup(phone: \"12\") { id } }","variables":{"p":"+447400123456","phone":"+447400123456"}}`, "reject", "rule"},
		{"path //api/register", "explicit", "POST", "//api/register", jsonCT, bad, "reject", "rule"},
		{"path /api//register", "explicit", "POST", "/api//register", jsonCT, bad, "reject", "rule"},
		{"path /api/%72egister", "explicit", "POST", "/api/%72egister", jsonCT, bad, "reject", "rule"},
		{"path /api/./register", "explicit", "POST", "/api/./register", jsonCT, bad, "reject", "rule"},
		{"path /api/x/../register", "explicit", "POST", "/api/x/../register", jsonCT, bad, "reject", "rule"},
		{"path /API/Register/", "explicit", "POST", "/API/Register/", jsonCT, bad, "reject", "rule"},
		{"path with a query", "explicit", "POST", "/api/register?step=1", jsonCT, bad, "reject", "rule"},
		{"method in lower case", "explicit", "post", "/api/register", jsonCT, bad, "reject", "rule"},

		// What is not a route's stays unjudged.
		{"another path", "explicit", "POST", "/api/login", jsonCT, bad, "", ""},
		{"an encoded slash is not a slash", "explicit", "POST", "/api%2Fregister", jsonCT, bad, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := servers[tt.policy]
			for transport, send := range map[string]func(testing.TB, string, string, string, string, map[string]string) judged{
				"grpc": j.viaGRPC, "http": j.viaHTTP,
			} {
				got := send(t, tt.method, tt.path, tt.contentType, tt.body, nil)
				if got.decision != tt.decision || got.reason != tt.reason {
					t.Errorf("%s: decision %q reason %q, want %q %q (logs %q)", transport, got.decision, got.reason, tt.decision, tt.reason, got.logs)
				}
				if want := map[bool]string{true: "denied", false: "ok"}[tt.decision == "reject"]; got.answer != want {
					t.Errorf("%s: answered %s, want %s", transport, got.answer, want)
				}
			}
		})
	}
}

// TestBodyOverTheLimitIsTheSameInBothModes: a body past --max-body-bytes is
// body_too_large in gRPC and HTTP mode alike, not a body Envoy cut.
func TestBodyOverTheLimitIsTheSameInBothModes(t *testing.T) {
	sink := &logSink{}
	srv := New(Options{MaxBodyBytes: 1024, Logger: slog.New(slog.NewJSONHandler(sink, nil))})
	def, _ := policy.Default()
	srv.SetPolicy(def)
	srv.MarkWarm()
	j := &judgeServer{running: serveOn(t, srv), sink: sink}
	big := `{"phone":"+447400123456","bio":"` + strings.Repeat("a", 2000) + `"}`
	for transport, got := range map[string]judged{
		"grpc": j.viaGRPC(t, "POST", "/signup", "application/json", big, nil),
		"http": j.viaHTTP(t, "POST", "/signup", "application/json", big, nil),
	} {
		if got.decision != "reject" || got.reason != "body_too_large" {
			t.Errorf("%s: %q %q, want reject body_too_large", transport, got.decision, got.reason)
		}
	}
}

// TestRuleErrorsAreCounted: a rule that fails at run time is a fault (a gRPC
// error, so Envoy's failure_mode_allow decides) counted by policy and rule.
func TestRuleErrorsAreCounted(t *testing.T) {
	j := startJudge(t, mustCompile(t, `
version: 1
routes:
  - {name: r, fields: [phone], policy: p}
policies:
  - name: p
    rules:
      - name: first-warning
        when: insight.warnings[0].risk == "X"
        action: reject
`))
	got := j.viaGRPC(t, "POST", "/signup", "application/json", `{"phone":"+447400123456"}`, nil)
	if got.answer != "fault" || !strings.Contains(got.errText, `rule "first-warning"`) {
		t.Fatalf("answer %s %q, want a fault naming the rule", got.answer, got.errText)
	}
	resp, err := http.Get(j.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `phonegate_rule_errors_total{policy="p",rule="first-warning"} 1`; !strings.Contains(string(b), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

// TestDecisionID: every decision has an id, Envoy's x-request-id when it is
// a UUID, else a new one, the same in the log line, the dynamic metadata and
// a denial's body, so support can find a complaint's decision.
func TestDecisionID(t *testing.T) {
	def, _ := policy.Default()
	j := startJudge(t, def)
	const envoyID = "6f1c5a0e-3f77-4f5e-9c3a-2b6d0d8f3b1a"
	for _, tt := range []struct{ name, requestID, body string }{
		{"Envoy's id, on a denial", envoyID, `{"phone":"+44 12"}`},
		{"Envoy's id, on an allow", envoyID, `{"phone":"+447400123456"}`},
		{"a client's id that is no UUID is not echoed", "+447400123456", `{"phone":"+44 12"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j.sink.take()
			resp, err := j.auth.Check(context.Background(), envoyCheck("POST", "/signup", "application/json", tt.body, map[string]string{"x-request-id": tt.requestID}))
			if err != nil {
				t.Fatal(err)
			}
			fromMeta, _ := resp.GetDynamicMetadata().AsMap()["decision_id"].(string)
			var fromLog string
			for _, l := range j.sink.take() {
				var rec struct {
					Msg        string
					DecisionID string `json:"decision_id"`
				}
				if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "check" {
					fromLog = rec.DecisionID
				}
			}
			want := tt.requestID
			if !isUUID(want) {
				want = fromLog
				if !isUUID(want) {
					t.Fatalf("generated id %q is not a UUID", want)
				}
			}
			if fromLog != want || fromMeta != want {
				t.Errorf("log %q, metadata %q, want %q", fromLog, fromMeta, want)
			}
			if body := resp.GetDeniedResponse().GetBody(); body != "" {
				var denial struct {
					DecisionID string `json:"decision_id"`
				}
				if json.Unmarshal([]byte(body), &denial); denial.DecisionID != want {
					t.Errorf("denial %s, want decision_id %q", body, want)
				}
			}
		})
	}
}

// TestGRPCReceiveLimitFollowsTheBodyLimit: a CheckRequest past the body limit
// and the room for headers is refused by gRPC (RESOURCE_EXHAUSTED, so
// Envoy's failure_mode_allow decides) and counted; one just within is judged.
func TestGRPCReceiveLimitFollowsTheBodyLimit(t *testing.T) {
	srv := New(Options{MaxBodyBytes: 4096})
	def, _ := policy.Default()
	srv.SetPolicy(def)
	srv.MarkWarm()
	r := serveOn(t, srv)
	ok := envoyCheck("POST", "/signup", "application/json", `{"phone":"+447400123456","bio":"`+strings.Repeat("a", 4000)+`"}`, nil)
	if _, err := r.auth.Check(context.Background(), ok); err != nil {
		t.Fatalf("a body within the limit: %v", err)
	}
	big := envoyCheck("POST", "/signup", "application/json", `{"bio":"`+strings.Repeat("a", 4096+grpcHeaderRoom)+`"}`, nil)
	_, err := r.auth.Check(context.Background(), big)
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("an oversize CheckRequest: %v, want RESOURCE_EXHAUSTED", err)
	}
	resp, err := http.Get(r.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `phonegate_check_errors_total{kind="too_large"} 1`; !strings.Contains(string(b), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}
