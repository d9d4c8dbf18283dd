package filter

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/policy"
	"google.golang.org/grpc/codes"
)

// compress writes s through a compressor, as a client's content-encoding does.
func compress[W io.WriteCloser](s string, newWriter func(io.Writer) W) string {
	var b bytes.Buffer
	w := newWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func gzipped(s string) string  { return compress(s, gzip.NewWriter) }
func deflated(s string) string { return compress(s, zlib.NewWriter) }

func TestBodies(t *testing.T) {
	srv := New(Options{MaxBodyBytes: 4096})
	srv.SetPolicy(mustCompile(t, `
version: 1
routes:
  - {name: strict, policy: standard, match: {path: /strict}, content_type_mismatch: reject, denial_details: true}
  - {name: signup, policy: standard}
`))
	srv.MarkWarm()
	r := serveOn(t, srv)
	ctx := context.Background()
	type want struct {
		status int // 0: allowed
		reason string
		e164   string
	}
	for _, tt := range []struct {
		name, path, contentType, body string
		headers                       map[string]string
		want                          want
	}{
		{"gzip JSON", "/signup", "application/json", gzipped(`{"phone":"+44 56 1234 5678"}`),
			map[string]string{"content-encoding": "gzip"}, want{reason: "rule", e164: "+445612345678"}},
		{"deflate (zlib) JSON", "/signup", "application/json", deflated(`{"phone":"12"}`),
			map[string]string{"content-encoding": "deflate"}, want{status: 403, reason: "rule"}},
		{"gzip hiding an invalid number", "/signup", "application/json", gzipped(`{"phone":"12"}`),
			map[string]string{"content-encoding": "gzip"}, want{status: 403, reason: "rule"}},
		{"gzip bomb: inflates past the limit", "/signup", "application/json", gzipped(`{"phone":"` + strings.Repeat("0", 100000) + `"}`),
			map[string]string{"content-encoding": "gzip"}, want{status: 403, reason: "body_too_large"}},
		{"body over the limit as sent", "/signup", "application/json", `{"bio":"` + strings.Repeat("a", 5000) + `"}`,
			nil, want{status: 403, reason: "body_too_large"}},
		{"broken gzip", "/signup", "application/json", "not gzip",
			map[string]string{"content-encoding": "gzip"}, want{status: 403, reason: "unparsable_body"}},
		{"an encoding phonegate cannot read", "/signup", "application/json", "xx",
			map[string]string{"content-encoding": "br"}, want{status: 403, reason: "unparsable_body"}},
		{"form with a repeated key", "/signup", "application/x-www-form-urlencoded", "phone=%2B447400123456&phone=12",
			nil, want{status: 403, reason: "rule"}},
		{"multipart", "/signup", "multipart/form-data; boundary=b",
			"--b\r\nContent-Disposition: form-data; name=\"phone\"\r\n\r\n+44 56 1234 5678\r\n--b--\r\n", nil, want{reason: "rule", e164: "+445612345678"}},
		{"content type in odd casing with parameters", "/signup", "Application/JSON; Charset=UTF-8", `{"phone":"+447400123456"}`,
			nil, want{reason: "no_rule", e164: "+447400123456"}},
		{"JSON sent as a form, parsed as JSON", "/signup", "application/x-www-form-urlencoded", `{"phone":"12"}`,
			nil, want{status: 403, reason: "rule"}},
		{"JSON sent as a form, refused by the route", "/strict", "application/x-www-form-urlencoded", `{"phone":"+447400123456"}`,
			nil, want{status: 403, reason: "unparsable_body"}},
		{"free text", "/signup", "text/plain", "call me: +44 56 1234 5678",
			nil, want{reason: "rule", e164: "+445612345678"}},
		{"too many numbers in one body", "/signup", "application/json",
			`{"phone":["+447400123400","+447400123401","+447400123402","+447400123403","+447400123404","+447400123405",` +
				`"+447400123406","+447400123407","+447400123408","+447400123409","+447400123410","+447400123411",` +
				`"+447400123412","+447400123413","+447400123414","+447400123415","+447400123416"]}`,
			nil, want{status: 403, reason: "unparsable_body"}},
		{"nesting past the depth limit", "/signup", "application/json",
			strings.Repeat(`{"a":`, 40) + `{"phone":"+447400123456"}` + strings.Repeat("}", 40),
			nil, want{status: 403, reason: "unparsable_body"}},
		{"malformed JSON", "/signup", "application/json", `{"phone": "+44 7400 123456",}`,
			nil, want{status: 403, reason: "unparsable_body"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := r.auth.Check(ctx, envoyCheck("POST", tt.path, tt.contentType, tt.body, tt.headers))
			if err != nil {
				t.Fatal(err)
			}
			md := resp.GetDynamicMetadata().AsMap()
			if md["reason"] != tt.want.reason {
				t.Errorf("reason %v, want %s", md["reason"], tt.want.reason)
			}
			if tt.want.status != 0 {
				if codes.Code(resp.GetStatus().GetCode()) != codes.PermissionDenied || int(resp.GetDeniedResponse().GetStatus().GetCode()) != tt.want.status {
					t.Fatalf("got %v, want a %d denial", resp.GetStatus(), tt.want.status)
				}
				return
			}
			if set, _ := okHeaders(t, resp); set[HeaderE164] != tt.want.e164 {
				t.Errorf("e164 %q, want %q", set[HeaderE164], tt.want.e164)
			}
		})
	}
}

func TestDenialDetails(t *testing.T) {
	r := start(t, mustCompile(t, `
version: 1
routes:
  - {name: plain, policy: standard, match: {path: /plain}}
  - {name: detailed, policy: standard, match: {path: /detailed}, denial_details: true}
`))
	body := func(path string) map[string]any {
		resp, err := r.auth.Check(context.Background(), envoyCheck("POST", path, "application/json", `{"phone":"+44 7700 900"}`, nil))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(resp.GetDeniedResponse().GetBody()), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := body("/plain"); m["signals"] != nil {
		t.Errorf("signals in a plain denial: %v", m)
	}
	sig, _ := body("/detailed")["signals"].(map[string]any)
	if sig["confidence"] != "invalid" || sig["risk_score"] != 100.0 || sig["reason"] != "rule" {
		t.Errorf("signals %v", sig)
	}
	if w, _ := sig["warnings"].([]any); len(w) == 0 || w[0] != "INVALID_NUMBER" {
		t.Errorf("warnings %v", sig["warnings"])
	}
}

func TestPanicIsAFaultAndCounted(t *testing.T) {
	r := start(t, mustCompile(t, testPolicy))
	_, f := r.srv.check(context.Background(), func() *policy.Request { panic("boom") })
	if f == nil || f.kind != faultPanic || f.code != codes.Internal {
		t.Fatalf("fault %+v, want a recovered panic", f)
	}
	if m := get(t, r.http+"/metrics"); !strings.Contains(m, `phonegate_check_errors_total{kind="panic"} 1`) {
		t.Error("the panic is not counted")
	}
}

func TestHTTPAuthzMode(t *testing.T) {
	r := start(t, mustCompile(t, testPolicy))
	post := func(path, body string, headers map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", r.http+"/authz"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	resp := post("/signup", `{"phone":"+44 56 1234 5678"}`, map[string]string{"X-Phone-Confidence": "verified", "X-Phone-Verified": "yes"})
	if resp.StatusCode != 200 || resp.Header.Get(HeaderDecision) != "tag" || resp.Header.Get(HeaderConfidence) != "low" ||
		resp.Header.Get(HeaderTags) != "review" || resp.Header.Get(HeaderE164) != "+445612345678" {
		t.Errorf("allow: %d %v", resp.StatusCode, resp.Header)
	}
	if got := resp.Header.Get(headersToRemove); got != "x-phone-verified" {
		t.Errorf("%s = %q, want the spoofed header phonegate does not overwrite", headersToRemove, got)
	}

	resp = post("/us/signup", `{"phone":"12"}`, nil)
	b, _ := io.ReadAll(resp.Body)
	var denial map[string]string
	if resp.StatusCode != 403 || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &denial) != nil || denial["error"] != "phone_rejected" {
		t.Errorf("reject: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}

	// No route (a GET): 200, nothing set, client x-phone-* removed.
	req, _ := http.NewRequest("GET", r.http+"/authz/profile", nil)
	req.Header.Set("X-Phone-Decision", "allow")
	gresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	gresp.Body.Close()
	if gresp.StatusCode != 200 || gresp.Header.Get(HeaderDecision) != "" || gresp.Header.Get(headersToRemove) != "x-phone-decision" {
		t.Errorf("unmatched: %d %v", gresp.StatusCode, gresp.Header)
	}

	// A body over the limit is judged as one Envoy cut: rejected by default.
	big := `{"phone":"+447400123456","bio":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}`
	if resp := post("/signup", big, nil); resp.StatusCode != 403 {
		t.Errorf("oversized body: %d, want 403", resp.StatusCode)
	}
}

func TestInsightEndpoint(t *testing.T) {
	r := start(t, mustCompile(t, testPolicy+"data:\n  disposable_prefixes: [\"+447400\"]\n"))
	resp, err := http.Get(r.http + "/v1/insight?number=07400%20123456&region=gb")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var in map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v", resp.StatusCode, err)
	}
	if in["e164"] != "+447400123456" || in["is_disposable"] != true || in["confidence"] != "low" {
		t.Errorf("insight %v: want the policy's data applied", in)
	}
	if resp, _ := http.Get(r.http + "/v1/insight"); resp.StatusCode != 400 {
		t.Errorf("no number: %d, want 400", resp.StatusCode)
	}
	resp, err = http.Get(r.http + "/v1/insight?number=%2B447400123456&ip=8.8.8.8")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var withIP struct {
		IP       map[string]string `json:"ip"`
		Velocity any               `json:"velocity"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&withIP); err != nil || withIP.IP["match"] != "mismatch" || withIP.IP["country"] != "US" || withIP.Velocity != nil {
		t.Errorf("with ip: %+v %v", withIP, err)
	}
	if resp, _ := http.Get(r.http + "/v1/insight?number=1&ip=nope"); resp.StatusCode != 400 {
		t.Errorf("bad ip: %d, want 400", resp.StatusCode)
	}
	// A region that is none, or a huge number, is refused and never cached.
	_, missesBefore := r.srv.current.Load().engine.CacheStats()
	for _, q := range []string{"number=07400123456&region=UK", "number=1&region=" + strings.Repeat("x", 1<<20), "number=" + strings.Repeat("1", 300)} {
		resp, err := http.Get(r.http + "/v1/insight?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%.40s: %d, want 400", q, resp.StatusCode)
		}
	}
	if _, misses := r.srv.current.Load().engine.CacheStats(); misses != missesBefore {
		t.Errorf("refused questions reached the engine: %d misses, %d before", misses, missesBefore)
	}
}

func TestCheckMetrics(t *testing.T) {
	r := start(t, mustCompile(t, testPolicy))
	ctx := context.Background()
	r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"phone":"+447400123456","mobile":"+447400123457"}`, nil))
	r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"phone":"+447400123456"}`, nil))
	r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"phone":"12"}`, nil))
	r.auth.Check(ctx, envoyCheck("GET", "/x", "", "", nil))
	m := get(t, r.http+"/metrics")
	for _, want := range []string{
		`phonegate_checks_total{decision="allow",policy="standard",reason="no_rule",route="catch-all"} 2`,
		`phonegate_checks_total{decision="reject",policy="standard",reason="rule",route="catch-all"} 1`,
		`phonegate_checks_total{decision="allow",policy="",reason="",route=""} 1`,
		`phonegate_numbers_found_total{route="catch-all"} 4`,
		`phonegate_insight_cache_hits_total 1`,
		`phonegate_insight_cache_misses_total 3`,
		`phonegate_check_duration_seconds_count 4`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
