package filter

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/policy"
	"google.golang.org/grpc/codes"
)

func TestDryRunReportsButAllows(t *testing.T) {
	r := start(t, mustCompile(t, `
version: 1
routes:
  - {name: trial, policy: high-trust, dry_run: true}
`))
	resp, err := r.auth.Check(context.Background(), envoyCheck("POST", "/signup", "application/json", `{"phone":"+44 56 1234 5678"}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	set, _ := okHeaders(t, resp) // fails unless the request was let through
	if set[HeaderDecision] != "allow" || set[HeaderDryRun] != "reject" || set[HeaderTags] != "untrusted" {
		t.Errorf("headers %v: want decision allow, dry-run reject", set)
	}
	md := resp.GetDynamicMetadata().AsMap()
	if md["decision"] != "reject" || md["enforced"] != "allow" || md["dry_run"] != true {
		t.Errorf("metadata %v: want the real decision reject, enforced allow", md)
	}
}

func TestRegionHintFromHeaderAndField(t *testing.T) {
	r := start(t, mustCompile(t, `
version: 1
routes:
  - {name: header, policy: standard, match: {path: /h}, region: {header: cf-ipcountry, default: US}}
  - {name: field, policy: standard, match: {path: /f}, region: {field: country}}
`))
	ctx := context.Background()
	for _, tt := range []struct {
		name, path, body string
		headers          map[string]string
		wantE164         string
	}{
		{"header says GB", "/h", `{"phone":"07400 123456"}`, map[string]string{"cf-ipcountry": "gb"}, "+447400123456"},
		{"no header: the default", "/h", `{"phone":"(650) 253-0000"}`, nil, "+16502530000"},
		{"junk header: the default", "/h", `{"phone":"(650) 253-0000"}`, map[string]string{"cf-ipcountry": "XX1"}, "+16502530000"},
		{"body field", "/f", `{"country":"FR","phone":"06 12 34 56 78"}`, nil, "+33612345678"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := r.auth.Check(ctx, envoyCheck("POST", tt.path, "application/json", tt.body, tt.headers))
			if err != nil {
				t.Fatal(err)
			}
			if set, _ := okHeaders(t, resp); set[HeaderE164] != tt.wantE164 {
				t.Errorf("e164 %q, want %q", set[HeaderE164], tt.wantE164)
			}
		})
	}
}

func TestDataSectionReachesTheEngine(t *testing.T) {
	r := start(t, mustCompile(t, testPolicy))
	ctx := context.Background()
	check := func() map[string]string {
		t.Helper()
		resp, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"phone":"+447400123456"}`, nil))
		if err != nil {
			t.Fatal(err)
		}
		set, _ := okHeaders(t, resp)
		return set
	}
	if h := check(); h[HeaderDisposable] != "false" {
		t.Fatalf("before: %v", h)
	}
	// The same number, cached by the old engine, must be scored again with
	// the new tables.
	r.srv.ApplyReload(mustCompile(t, testPolicy+"data:\n  disposable_prefixes: [\"+447400\"]\n"), nil)
	if h := check(); h[HeaderDisposable] != "true" || h[HeaderDecision] != "tag" || h[HeaderConfidence] != "low" {
		t.Errorf("after adding the prefix: %v", h)
	}
}

func TestBadReloadKeepsTheLastGoodPolicy(t *testing.T) {
	good := mustCompile(t, testPolicy)
	r := start(t, good)
	_, err := policy.Compile(policy.Source{Name: "edit.yaml", Data: []byte("version: 1\nroutes:\n  - {name: a, policy: nope}\n")})
	if err == nil {
		t.Fatal("the bad edit compiled")
	}
	r.srv.ApplyReload(nil, err)
	if r.srv.Policy() != good {
		t.Fatal("a failed reload replaced the policy")
	}
	resp, err := r.auth.Check(context.Background(), envoyCheck("POST", "/signup", "application/json", `{"phone":"12"}`, nil))
	if err != nil || codes.Code(resp.GetStatus().GetCode()) != codes.PermissionDenied {
		t.Errorf("check after a failed reload: %v, %v", resp.GetStatus(), err)
	}

	next := mustCompile(t, strings.Replace(testPolicy, "catch-all", "catch-all-2", 1))
	r.srv.ApplyReload(next, nil)
	metrics := get(t, r.http+"/metrics")
	for _, want := range []string{
		`phonegate_policy_reload_total{result="failure"} 1`,
		`phonegate_policy_reload_total{result="success"} 1`,
		`phonegate_policy_info{hash="` + next.Hash + `",source=""} 1`,
		`receive_sms_numbers="2.1.1628 2026-08-22"`,
		`libphonenumber_metadata="` + insight.LibphonenumberVersion(),
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, good.Hash) {
		t.Error("/metrics still shows the replaced policy's hash")
	}
	if rd := get(t, r.http+"/readyz"); !strings.Contains(rd, `"policy_hash":"`+next.Hash+`"`) {
		t.Errorf("/readyz %s", rd)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestChecksDuringReloads sends checks from several goroutines while the
// policy is swapped again and again, with and without data tables: every
// check gets a decision, none an error.
func TestChecksDuringReloads(t *testing.T) {
	plain := mustCompile(t, testPolicy)
	withData := mustCompile(t, testPolicy+"data:\n  disposable_prefixes: [\"+447400\"]\n")
	r := start(t, plain)
	const workers, checksEach, reloads = 4, 200, 100
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range checksEach {
				resp, err := r.auth.Check(context.Background(), envoyCheck("POST", "/signup", "application/json", `{"phone":"+447400123456"}`, nil))
				if err != nil {
					errs <- err
					return
				}
				if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
					errs <- fmt.Errorf("status %v", resp.GetStatus())
					return
				}
			}
			errs <- nil
		}()
	}
	for i := range reloads {
		if i%2 == 0 {
			r.srv.ApplyReload(withData, nil)
		} else {
			r.srv.ApplyReload(plain, nil)
		}
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
