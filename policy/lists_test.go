package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/insight"
)

// listPolicy lets the QA team's numbers through whatever else holds, and
// refuses the fraud team's numbers and prefixes.
const listPolicy = `version: 1
lists:
  qa: qa-numbers.txt
  blocked: ../secret/blocked.txt
routes:
  - {name: signup, policy: p}
policies:
  - name: p
    rules:
      - name: qa
        when: insight.e164 in lists.qa
        action: allow
      - name: blocked
        when: insight.e164 in lists["blocked"]
        action: reject
        message: refused
      - when: "true"
        action: tag
        tags: [other]
`

// listDir writes the policy in dir/policy and its lists beside it, and in
// dir/secret as a Secret would be mounted, and returns the policy's path.
func listDir(t *testing.T, qa, blocked string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"policy", "secret"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(dir, "policy", "policy.yaml"), listPolicy)
	write(t, filepath.Join(dir, "policy", "qa-numbers.txt"), qa)
	write(t, filepath.Join(dir, "secret", "blocked.txt"), blocked)
	return filepath.Join(dir, "policy", "policy.yaml")
}

func TestListsInRules(t *testing.T) {
	path := listDir(t, "# QA's test handsets\n+447400123456\n\n+15550100*   # the NANP's fictitious range\n",
		"+447700900123\n+3361234*\n")
	set, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if set.Lists["qa"].Len() != 2 || set.Lists["blocked"].Len() != 2 {
		t.Fatalf("lists: qa %d, blocked %d entries", set.Lists["qa"].Len(), set.Lists["blocked"].Len())
	}
	engine := insight.New(insight.Options{})
	for _, tt := range []struct {
		number string
		action Action
		rule   string
	}{
		{"+447400123456", Allow, "qa"},       // a number of the list
		{"+15550100123", Allow, "qa"},        // under a prefix of the list
		{"+447400123457", Tag, ""},           // a neighbour is not in it
		{"+447700900123", Reject, "blocked"}, // blocked number
		{"+33612345678", Reject, "blocked"},  // blocked prefix
		{"not a number", Tag, ""},            // no e164: in no list
	} {
		req := &Request{Method: "POST", Path: "/signup"}
		route, _ := set.Route(req)
		d, err := route.Decide(req, []Number{{Field: "phone", Insight: engine.Lookup(tt.number, "")}})
		if err != nil {
			t.Fatalf("%s: %v", tt.number, err)
		}
		if d.Action != tt.action || (tt.rule != "" && d.Rule != tt.rule) {
			t.Errorf("%s: %s by %q, want %s by %q", tt.number, d.Action, d.Rule, tt.action, tt.rule)
		}
	}
}

func TestListErrors(t *testing.T) {
	var many strings.Builder
	for i := range MaxListEntries + 1 {
		fmt.Fprintf(&many, "+1%010d\n", i)
	}
	big := strings.Repeat("#", MaxListBytes+1)
	for _, tt := range []struct {
		name, qa, blocked string
		want              string
	}{
		{"an entry with spaces", "+447400123456\n  +44 7400 123457\n", "", "qa-numbers.txt:2:3: not a number or a prefix"},
		{"letters", "+4474001234ab\n", "", "qa-numbers.txt:1:1: not a number or a prefix"},
		{"too long", "+1234567890123456\n", "", "qa-numbers.txt:1:1: not a number or a prefix"},
		{"a star inside", "+44*74\n", "", "qa-numbers.txt:1:1: not a number or a prefix"},
		{"too many entries", many.String(), "", fmt.Sprintf("qa-numbers.txt:%d:1: list \"qa\" holds more than %d entries", MaxListEntries+1, MaxListEntries)},
		{"too many bytes", big, "", fmt.Sprintf("policy.yaml:3:7: list \"qa\": %s: over %d bytes", "QA", MaxListBytes)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := listDir(t, tt.qa, tt.blocked)
			_, err := Load(path)
			want := strings.ReplaceAll(tt.want, "QA", filepath.Join(filepath.Dir(path), "qa-numbers.txt"))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want one containing %q", err, want)
			}
			// The temporary directory's random name may hold any digits.
			if strings.Contains(strings.ReplaceAll(err.Error(), filepath.Dir(path), "DIR"), "7400") {
				t.Errorf("the error repeats a number of the list: %v", err)
			}
		})
	}
}

func TestListDeclarationErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "ok.txt"), "+447400123456\n")
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"missing file", "version: 1\nlists:\n  qa: nope.txt\n", "p.yaml:3:7: list \"qa\": " + filepath.Join(dir, "nope.txt") + ": open"},
		{"bad name", "version: 1\nlists:\n  QA-team: ok.txt\n", "p.yaml:3:3: list name \"QA-team\": want a lower-case letter"},
		{"not a mapping", "version: 1\nlists: [ok.txt]\n", "p.yaml:2:8: lists must be a mapping"},
		{"unknown list in a rule", "version: 1\nlists: {qa: ok.txt}\npolicies:\n  - name: p\n    rules:\n      - {when: insight.e164 in lists.fraud, action: reject}\n",
			`p.yaml:6:16: policy "p": rule "rule 1": no list "fraud": want one of the ` + "`lists:`" + ` section's (qa)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "p.yaml")
			write(t, path, tt.yaml)
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestListChangeReloads: a change to a list file, in the policy's directory
// or in another (a Secret mounted apart), reloads the policy, with a new hash.
func TestListChangeReloads(t *testing.T) {
	path := listDir(t, "+447400123456\n", "+447700900123\n")
	first, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ch := reloads(t, path, first.Hash)
	secret := filepath.Join(filepath.Dir(filepath.Dir(path)), "secret", "blocked.txt")
	write(t, secret, "+447700900123\n+447700900124\n")
	r := next(t, ch)
	if r.err != nil || r.set.Lists["blocked"].Len() != 2 || r.set.Hash == first.Hash {
		t.Fatalf("after the Secret's list changed: %+v", r)
	}
	write(t, filepath.Join(filepath.Dir(path), "qa-numbers.txt"), "+447400123456\nnot a number\n")
	if r := next(t, ch); r.err == nil || !strings.Contains(r.err.Error(), "qa-numbers.txt:2:1") {
		t.Fatalf("after a bad list: %+v", r)
	}
}

// FuzzParseList: a list file never panics the parser, and what it accepts
// holds only well-formed entries, each contained.
func FuzzParseList(f *testing.F) {
	f.Add([]byte("+447400123456\n+1555*\n# comment\n\n"))
	f.Add([]byte("+44 7400\n"))             // a space: refused
	f.Add([]byte("+*\n"))                   // no digits
	f.Add([]byte("\xff\xfe+44\r\n+33612#")) // bytes that are not UTF-8, CRLF
	f.Fuzz(func(t *testing.T, data []byte) {
		l, errs := parseList("fuzz", "fuzz.txt", data)
		if (l == nil) == (errs == nil) {
			t.Fatalf("list %v and errors %v", l, errs)
		}
		if l == nil {
			return
		}
		for n := range l.numbers {
			if !listEntry.MatchString(n) || !l.Contains(n) {
				t.Errorf("number %q accepted but malformed or not contained", n)
			}
		}
		for p := range l.prefixes {
			if !listEntry.MatchString(p+"*") || !l.Contains(p+"0") {
				t.Errorf("prefix %q accepted but malformed or not matching", p)
			}
		}
	})
}
