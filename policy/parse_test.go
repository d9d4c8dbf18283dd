package policy

import (
	"strings"
	"testing"
)

func TestCompileErrorsHavePositions(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each a whole "file:line:col: message" prefix
	}{
		{"unknown top-level key", "version: 1\nroutez: []\n",
			[]string{`p.yaml:2:1: unknown key "routez" in policy file: want one of version, routes, policies`}},
		{"missing version", "routes: []\n",
			[]string{`p.yaml:1:1: missing ` + "`version: 1`"}},
		{"wrong version", "version: 2\n",
			[]string{`p.yaml:1:10: unsupported version 2: this phonegate reads version 1`}},
		{"unknown action lists the allowed ones", `version: 1
policies:
  - name: p
    rules:
      - when: "true"
        action: block
`, []string{`p.yaml:6:17: unknown action "block": want one of allow, tag, reject`}},
		{"CEL that does not compile", `version: 1
policies:
  - name: p
    rules:
      - name: r
        when: insight.confidence ==
        action: tag
`, []string{`p.yaml:6:15: policy "p": rule "r": condition: `}},
		{"CEL that is not a bool", `version: 1
policies:
  - name: p
    rules:
      - name: r
        when: insight.risk_score + 1
        action: tag
`, []string{`p.yaml:6:15: policy "p": rule "r": condition: condition gives int, want bool`}},
		{"route names a missing policy", `version: 1
routes:
  - name: signup
    policy: strict
`, []string{`p.yaml:4:13: route "signup" names policy "strict", which is not defined: want one of enrichment, high-trust, otp-send, standard`}},
		{"duplicate route names", `version: 1
routes:
  - {name: a, policy: standard}
  - {name: a, policy: standard}
`, []string{`p.yaml:4:5: route "a" is defined twice (first at p.yaml:3)`}},
		{"wrong type", `version: 1
routes:
  - name: a
    policy: standard
    match: {methods: POST}
`, []string{`p.yaml:5:22: value must be a list, got the string "POST"`}},
		{"status on a tag", `version: 1
policies:
  - name: p
    rules:
      - {when: "true", action: tag, status: 451}
`, []string{`p.yaml:5:9: rule "rule 1" sets a status, which only a reject uses`}},
		{"non-4xx status", `version: 1
policies:
  - name: p
    rules:
      - {when: "true", action: reject, status: 302}
`, []string{`p.yaml:5:48: status 302 is not a 4xx HTTP status`}},
		{"YAML syntax error", "version: 1\nroutes: [\n", []string{`p.yaml:2:1: did not find expected node content`}},
		{"a misspelled insight field", `version: 1
policies:
  - name: p
    rules:
      - {when: insight.is_disposible, action: tag}
`, []string{`p.yaml:5:16: policy "p": rule "rule 1": condition: 1:8: undefined field 'is_disposible' (insight has `}},
		{"a request field that does not exist", `version: 1
policies:
  - name: p
    rules:
      - {when: request.tenant == "x", action: tag}
`, []string{`p.yaml:5:16: policy "p": rule "rule 1": condition: 1:8: undefined field 'tenant' (insight has carrier, confidence`}},
		{"a condition that gives a string", `version: 1
policies:
  - name: p
    rules:
      - {when: insight.line_type, action: tag}
`, []string{`p.yaml:5:16: policy "p": rule "rule 1": condition: condition gives string, want bool`}},
		{"a comparison of a number with a string", `version: 1
policies:
  - name: p
    rules:
      - {when: insight.risk_score > "50", action: tag}
`, []string{`p.yaml:5:16: policy "p": rule "rule 1": condition: 1:20: found no matching overload for '_>_' applied to '(int, string)'`}},
		{"a condition of dynamic type", `version: 1
policies:
  - name: p
    rules:
      - {when: 'dyn(insight.risk_score)', action: tag}
`, []string{`p.yaml:5:16: policy "p": rule "rule 1": condition: condition gives a value whose type is known only at run time`}},
		{"an empty action", `version: 1
policies:
  - name: p
    rules:
      - {when: "true", action: ""}
`, []string{`p.yaml:5:32: empty action: want one of allow, tag, reject`}},
		{"a second YAML document", "version: 1\n---\nroutes: []\n", []string{`p.yaml:2:1: a second YAML document: a policy file holds one (split policies across files of a directory instead)`}},
		{"several problems at once", `version: 1
routes:
  - name: a
    policy: nope
    colour: blue
`, []string{`p.yaml:5:5: unknown key "colour" in route`, `p.yaml:4:13: route "a" names policy "nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(Source{Name: "p.yaml", Data: []byte(tt.yaml)})
			if err == nil {
				t.Fatal("compiled without error")
			}
			list := Errors(err)
			if len(list) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(list), len(tt.want), err)
			}
			for i, w := range tt.want {
				if got := list[i].Error(); !strings.HasPrefix(got, w) {
					t.Errorf("error %d:\n got %s\nwant %s", i, got, w)
				}
			}
		})
	}
}

func TestCompileReadsEveryField(t *testing.T) {
	set, err := Compile(Source{Name: "p.yaml", Data: []byte(`version: 1
routes:
  - name: kyc
    match: {path: /kyc, methods: [post, PUT]}
    fields: [user.phone, "contacts[*].phone"]
    region: gb
    policy: strict
    on_no_number: reject
    on_partial_body: tag
    on_unparsable_body: allow
policies:
  - name: strict
    rules:
      - name: premium
        when: insight.line_type == "premium_rate"
        action: reject
        status: 451
        message: no premium numbers
        tags: [premium]
`)})
	if err != nil {
		t.Fatal(err)
	}
	r := set.Routes[0]
	if r.Name != "kyc" || r.Match.Path != "/kyc" || strings.Join(r.Match.Methods, ",") != "POST,PUT" ||
		fieldsOf(r) != "user.phone,contacts[*].phone" || r.Region.Fixed != "GB" ||
		r.OnNoNumber != Reject || r.OnPartialBody != Tag || r.OnUnparsableBody != Allow {
		t.Errorf("route %+v", r)
	}
	rule := r.Policy.Rules[0]
	if r.Policy.Name != "strict" || rule.Name != "premium" || rule.Action != Reject || rule.Status != 451 ||
		rule.Message != "no premium numbers" || strings.Join(rule.Tags, ",") != "premium" {
		t.Errorf("rule %+v", rule)
	}
	if len(set.Hash) != 12 {
		t.Errorf("hash %q", set.Hash)
	}
}

func TestRouteDefaults(t *testing.T) {
	set, err := Compile(Source{Name: "p.yaml", Data: []byte("version: 1\nroutes:\n  - {name: r, policy: standard}\n")})
	if err != nil {
		t.Fatal(err)
	}
	r := set.Routes[0]
	if r.OnNoNumber != Allow || r.OnPartialBody != Reject || r.OnUnparsableBody != Reject || fieldsOf(r) != "auto" {
		t.Errorf("defaults %+v: want allow on no number, reject partial and unparsable bodies, auto fields", r)
	}
}

func TestDefaultPolicy(t *testing.T) {
	set, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Routes) != 1 || set.Routes[0].Policy.Name != "standard" || set.Source != "embedded default" {
		t.Fatalf("default set %+v", set)
	}
	r, _ := set.Route(&Request{Method: "POST", Path: "/anything"})
	if r == nil {
		t.Error("default policy does not match a POST")
	}
	if r, _ := set.Route(&Request{Method: "GET", Path: "/anything"}); r != nil {
		t.Error("default policy matches a GET")
	}
}

// FuzzCompile: no input panics the parser, and every error has a position
// in the file.
func FuzzCompile(f *testing.F) {
	f.Add([]byte("version: 1\nroutes:\n  - {name: r, policy: standard, match: {path_prefix: /s}}\n"))
	f.Add([]byte("version: 1\npolicies:\n  - name: p\n    rules:\n      - {when: 'insight.valid', action: tag, tags: [a]}\n"))
	f.Add([]byte("version: 1\nroutes: &a [*a]\n")) // an alias loop
	f.Add([]byte("{version: 1, routes: [{name: ~}]}"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Compile(Source{Name: "f.yaml", Data: data})
		if err == nil {
			return
		}
		list := Errors(err)
		if len(list) == 0 {
			t.Fatalf("error without a position: %v", err)
		}
		for _, e := range list {
			if e.Line < 1 || e.File != "f.yaml" {
				t.Fatalf("error without a position: %q", e.Error())
			}
		}
	})
}

func fieldsOf(r *Route) string {
	var s []string
	for _, f := range r.Fields {
		s = append(s, f.Path)
	}
	return strings.Join(s, ",")
}
