package filter

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/phonegate/phonegate/policy"
	"google.golang.org/grpc/codes"
)

// TestExamplePolicies loads each policy of examples/policies (as `phonegate
// lint` and `serve --policy` do) and sends it the requests it was written
// for, through the real server.
func TestExamplePolicies(t *testing.T) {
	type want struct {
		status   int    // 0: allowed; else the denial's HTTP status
		decision string // x-phone-decision when allowed
		tags     string
		extra    map[string]string // more headers that must be set
	}
	type request struct {
		name, method, path, host, body string
		headers                        map[string]string
		want                           want
	}
	examples := map[string][]request{
		"high-trust.yaml": {
			{"verified mobile, national with the edge's country", "POST", "/v1/accounts", "", `{"applicant":{"phone":"07400 123456"}}`,
				map[string]string{"cf-ipcountry": "GB"}, want{decision: "allow"}},
			{"a likely number is not enough", "POST", "/v1/accounts", "", `{"applicant":{"phone":"+1 650 253 0000"}}`,
				nil, want{status: 403}},
			{"a VoIP alternate refuses the whole request", "POST", "/v1/accounts", "", `{"applicant":{"phone":"07400 123456","alternate_phone":"056 1234 5678"}}`,
				nil, want{status: 403}},
			{"no number where one is mandatory", "POST", "/v1/accounts", "", `{"applicant":{"name":"Ann"}}`,
				nil, want{status: 403}},
		},
		"standard.yaml": {
			{"US number, auto-found", "POST", "/api/register", "", `{"user":{"mobile_number":"(650) 253-0000"}}`,
				nil, want{decision: "allow"}},
			{"VoIP is tagged for review", "POST", "/api/register", "", `{"phone":"+44 56 1234 5678"}`,
				nil, want{decision: "tag", tags: "review"}},
			{"impossible number is refused", "POST", "/api/register", "", `{"phone":"12"}`,
				nil, want{status: 403}},
			{"dry-run route lets a reject through", "PATCH", "/api/users/42/phone", "", `{"phone":"12"}`,
				nil, want{decision: "allow", tags: "invalid", extra: map[string]string{HeaderDryRun: "reject"}}},
		},
		"enrichment.yaml": {
			{"verified: keep", "POST", "/leads", "", `{"country":"GB","phone":"07400 123456"}`,
				nil, want{decision: "tag", tags: "keep", extra: map[string]string{HeaderCountry: "GB"}}},
			{"invalid: drop, never refuse", "POST", "/leads", "", `{"phone":"12 34"}`,
				nil, want{decision: "tag", tags: "drop"}},
			{"a cut body is tagged", "POST", "/leads", "", `{"phone":"+447400`,
				map[string]string{partialBodyHeader: "true"}, want{decision: "tag", tags: "partial_body"}},
		},
		"otp.yaml": {
			{"signup: standard allows a mobile", "POST", "/signup", "", `{"phone":"07400 123456"}`,
				map[string]string{"cf-ipcountry": "GB"}, want{decision: "allow"}},
			{"signup: standard only tags premium rate", "POST", "/signup", "", `{"phone":"08 99 12 34 56"}`,
				map[string]string{"cf-ipcountry": "FR"}, want{decision: "allow"}},
			{"otp: a mobile gets its code", "POST", "/otp/send", "", `{"phone":"07400 123456"}`,
				map[string]string{"cf-ipcountry": "GB"}, want{decision: "allow"}},
			{"otp: premium rate is refused", "POST", "/otp/send", "", `{"phone":"08 99 12 34 56"}`,
				map[string]string{"cf-ipcountry": "FR"}, want{status: 403}},
			{"otp: shared cost is refused", "POST", "/otp/send", "", `{"phone":"0810 12 34 56"}`,
				map[string]string{"cf-ipcountry": "FR"}, want{status: 403}},
			{"otp: toll free cannot get a text", "POST", "/otp/send", "", `{"phone":"0800 123 4567"}`,
				map[string]string{"cf-ipcountry": "GB"}, want{decision: "tag", tags: "no-sms"}},
		},
		"kyc.yaml": {
			{"premium rate: 422", "POST", "/kyc/phone", "eu.bank.example", `{"phone":"08 99 12 34 56"}`,
				map[string]string{"cf-ipcountry": "FR"}, want{status: 422}},
			{"fictitious: 422", "POST", "/kyc/phone", "eu.bank.example", `{"phone":"020 7946 0123"}`,
				map[string]string{"cf-ipcountry": "GB"}, want{status: 422}},
			{"IP country differs", "POST", "/kyc/phone", "eu.bank.example", `{"phone":"+44 7400 123456"}`,
				map[string]string{"x-forwarded-for": "8.8.8.8"}, want{status: 403}},
			{"same country: allowed", "POST", "/kyc/phone", "eu.bank.example", `{"phone":"07400 123457"}`,
				map[string]string{"cf-ipcountry": "GB", "x-forwarded-for": "81.2.69.160"}, want{decision: "allow"}},
			{"second network", "POST", "/kyc/phone", "eu.bank.example", `{"phone":"07400 123457"}`,
				map[string]string{"cf-ipcountry": "GB", "x-forwarded-for": "81.2.70.1"}, want{decision: "allow"}},
			{"third network: passed around", "POST", "/kyc/phone", "eu.bank.example", `{"phone":"07400 123457"}`,
				map[string]string{"cf-ipcountry": "GB", "x-forwarded-for": "81.2.71.1"}, want{status: 403}},
			{"VoIP: review", "POST", "/kyc/phone", "eu.bank.example", `{"phone":"056 1234 5678"}`,
				map[string]string{"cf-ipcountry": "GB"}, want{decision: "tag", tags: "review,voip"}},
			{"the policy's own disposable range", "POST", "/kyc/phone", "eu.bank.example", `{"phone":"07537 123456"}`,
				map[string]string{"cf-ipcountry": "GB"}, want{decision: "tag", tags: "review,voip", extra: map[string]string{HeaderDisposable: "true"}}},
			{"another host is not this route", "POST", "/kyc/phone", "bank.example.org", `{"phone":"08 99 12 34 56"}`,
				nil, want{}},
		},
	}
	// SMS pumping: one address asks for codes to ten numbers of one range;
	// from the fifth the app is warned, the tenth is refused.
	for i := range 10 {
		w := want{decision: "allow"}
		switch {
		case i == 9:
			w = want{status: 403}
		case i >= 4:
			w = want{decision: "tag", tags: "pumping-suspect"}
		}
		examples["otp.yaml"] = append(examples["otp.yaml"], request{fmt.Sprintf("pumping: number %d of a range", i+1), "POST", "/otp/send", "",
			fmt.Sprintf(`{"phone":"+44 7400 55%04d"}`, i*7), map[string]string{"x-forwarded-for": "203.0.113.9"}, w})
	}
	files, _ := filepath.Glob("../examples/policies/*.yaml")
	files = slices.DeleteFunc(files, policy.IsTestFile) // phonegate test's, run by examples/policies
	if len(files) != len(examples) {
		t.Fatalf("examples/policies has %d files, this test covers %d", len(files), len(examples))
	}
	for _, file := range files {
		reqs, ok := examples[filepath.Base(file)]
		if !ok {
			t.Errorf("%s is not exercised", file)
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			set, err := policy.Load(file)
			if err != nil {
				t.Fatalf("lint: %v", err)
			}
			r := start(t, set)
			for _, rq := range reqs {
				t.Run(rq.name, func(t *testing.T) {
					cr := envoyCheck(rq.method, rq.path, "application/json", rq.body, rq.headers)
					if rq.host != "" {
						cr.Attributes.Request.Http.Host = rq.host
					}
					resp, err := r.auth.Check(context.Background(), cr)
					if err != nil {
						t.Fatal(err)
					}
					if rq.want.status != 0 {
						denied := resp.GetDeniedResponse()
						if codes.Code(resp.GetStatus().GetCode()) != codes.PermissionDenied || int(denied.GetStatus().GetCode()) != rq.want.status {
							t.Fatalf("got %v %v, want a %d denial", resp.GetStatus(), denied.GetStatus(), rq.want.status)
						}
						var body map[string]string
						if err := json.Unmarshal([]byte(denied.GetBody()), &body); err != nil || body["message"] == "" {
							t.Errorf("denial body %q", denied.GetBody())
						}
						return
					}
					set, _ := okHeaders(t, resp)
					if set[HeaderDecision] != rq.want.decision || set[HeaderTags] != rq.want.tags {
						t.Errorf("decision %q tags %q, want %q %q (headers %v)", set[HeaderDecision], set[HeaderTags], rq.want.decision, rq.want.tags, set)
					}
					for k, v := range rq.want.extra {
						if set[k] != v {
							t.Errorf("%s = %q, want %q", k, set[k], v)
						}
					}
				})
			}
		})
	}
}

// TestExampleRequests sends the quickstart's bodies (examples/requests) to
// phonegate on its embedded default policy, as the README's curl commands do.
func TestExampleRequests(t *testing.T) {
	set, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, set)
	for file, want := range map[string]struct {
		rejected       bool
		decision, tags string
	}{
		"good.json":  {decision: "allow"},
		"risky.json": {decision: "tag", tags: "review"},
		"bad.json":   {rejected: true},
	} {
		body, err := os.ReadFile(filepath.Join("../examples/requests", file))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := r.auth.Check(context.Background(), envoyCheck("POST", "/signup", "application/json", string(body), nil))
		if err != nil {
			t.Fatal(err)
		}
		if want.rejected {
			if resp.GetDeniedResponse().GetStatus().GetCode() != 403 {
				t.Errorf("%s: %v, want a 403", file, resp.GetStatus())
			}
			continue
		}
		if set, _ := okHeaders(t, resp); set[HeaderDecision] != want.decision || set[HeaderTags] != want.tags {
			t.Errorf("%s: %v", file, set)
		}
	}
}
