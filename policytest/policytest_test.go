package policytest

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const testPolicy = `version: 1
routes:
  - name: register
    match: {path: /register}
    fields: [phone]
    region: GB
    policy: strict
policies:
  - name: strict
    rules:
      - name: invalid
        when: insight.confidence == "invalid"
        action: reject
        status: 422
        tags: [invalid]
      - name: seen-twice
        when: insight.velocity.seen >= 2
        action: tag
        tags: [again]
      - name: never
        when: "false"
        action: tag
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRun: passing and failing cases, the failure format, velocity across
// a file's cases, a fresh store per file, and coverage.
func TestRun(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"signup.yaml": testPolicy,
		"a_test.yaml": `cases:
  - name: a mobile passes
    request: {path: /register, headers: {content-type: application/json}, body: '{"phone": "07400 123456"}'}
    expect: {decision: allow, reason: no_rule, route: register}
  - name: the second sighting is tagged
    request: {path: /register, headers: {content-type: application/json}, body: '{"phone": "07400 123456"}'}
    expect: {decision: tag, tags: [again], rule: seen-twice}
  - name: wrong on purpose
    request: {path: /register, headers: {content-type: application/json}, body: '{"phone": "12"}'}
    expect: {decision: tag, status: 403, tags: [other]}
`,
		// Another file starts with no sightings.
		"b_test.yaml": `policy: signup.yaml
cases:
  - name: first sighting again
    request: {path: /register, headers: {content-type: application/json}, body: '{"phone": "07400 123456"}'}
    expect: {decision: allow}
`,
	})
	files, err := Find(dir)
	if err != nil || len(files) != 2 {
		t.Fatalf("Find: %v %v", files, err)
	}
	var out bytes.Buffer
	res := Run(&out, files, Options{Coverage: true})
	if res.Passed != 3 || res.Failed != 1 || res.OK() {
		t.Errorf("result %+v\n%s", res, out.String())
	}
	got := out.String()
	wantLine := filepath.Join(dir, "a_test.yaml") + `:8: case "wrong on purpose": want decision tag, got reject; want status 403, got 422; want tags including [other], got [invalid]`
	if !strings.Contains(got, wantLine+"\n") {
		t.Errorf("output lacks\n%s\ngot\n%s", wantLine, got)
	}
	if !strings.HasSuffix(got, "3 passed, 1 failed\n") {
		t.Errorf("last line: %q", got)
	}
	if want := filepath.Join(dir, "a_test.yaml") + ": coverage: no case reached or decided by:\n  policy strict rule never\n"; !strings.Contains(got, want) {
		t.Errorf("coverage: want\n%s\ngot\n%s", want, got)
	}

	// --run selects cases by name.
	out.Reset()
	res = Run(&out, files, Options{Run: regexp.MustCompile("mobile")})
	if res.Passed != 1 || res.Failed != 0 || out.String() != "1 passed, 0 failed\n" {
		t.Errorf("--run: %+v %q", res, out.String())
	}
}

// TestReadFileErrors: mistakes in a test file are reported with the file
// and line, never run as passing cases.
func TestReadFileErrors(t *testing.T) {
	for body, want := range map[string]string{
		"cases:\n  - name: x\n    request: {path: /a}\n    expect: {decison: allow}\n":  `:4: unknown key "decison"`,
		"cases:\n  - name: x\n    request: {path: /a}\n    expect: {decision: block}\n": `:2: case "x": expect decision "block": want allow, tag, reject or pass`,
		"cases:\n  - request: {path: /a}\n":                                             `:2: a case needs a name`,
		"cases:\n  - name: x\n    request: {body: '{}'}\n":                              `:2: case "x": request needs a path`,
		"policy: x.yaml\n": `: no cases`,
	} {
		dir := writeFiles(t, map[string]string{"p_test.yaml": body})
		_, err := ReadFile(filepath.Join(dir, "p_test.yaml"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %s", body, err, want)
		}
	}
}

// TestReadmeTestFile: the README's policy test file reads, and its case
// passes against the policy it shows the route of (standard, on
// /api/register).
func TestReadmeTestFile(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(# signup_test.yaml\n.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README shows no signup_test.yaml")
	}
	dir := writeFiles(t, map[string]string{
		"signup_test.yaml": string(m[1]),
		"signup.yaml":      "version: 1\nroutes:\n  - {name: register, match: {path_prefix: /api/register}, fields: [auto], policy: standard}\n",
	})
	var out bytes.Buffer
	if res := Run(&out, []string{filepath.Join(dir, "signup_test.yaml")}, Options{}); !res.OK() || res.Passed != 1 {
		t.Errorf("%+v\n%s", res, out.String())
	}
}
