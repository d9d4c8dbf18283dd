package filter

import (
	"regexp"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/policy"
)

// numbersIn returns the digits of every number-like run in s (seven digits
// or more, with the separators people write between them), digits only.
func numbersIn(s string) []string {
	var out []string
	for _, m := range numberRun.FindAllString(s, -1) {
		if d := digitsOnly(m); len(d) >= 7 {
			out = append(out, d)
		}
	}
	return out
}

var numberRun = regexp.MustCompile(`[0-9][0-9 ().\-]*[0-9]`)

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// leaks reports the numbers of sent that appear in text: in any run of
// digits and the separators people write numbers with, digits compared.
// (Random hex in ids and hashes makes short runs, not a number's.)
func leaks(text string, sent []string) []string {
	var runs []string
	for _, m := range numberRun.FindAllString(text, -1) {
		runs = append(runs, digitsOnly(m))
	}
	var out []string
	for _, n := range sent {
		for _, r := range runs {
			if strings.Contains(r, n) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// TestNoNumberInLogs sends every hostile and real body of the test suite (the
// extraction table, the end-to-end cases, the corpus), bodies that fail to
// parse next to a number, numbers in header values and rules that fail on a
// number, through both transports at debug level, and scans every log line
// and every fault's message for the digits of every number sent.
func TestNoNumberInLogs(t *testing.T) {
	type request struct {
		path, contentType, body string
		headers                 map[string]string
	}
	var reqs []request
	for _, c := range extractCases {
		reqs = append(reqs, request{"/signup", c.contentType, c.body, nil})
	}
	for _, c := range loadCorpus(t) {
		reqs = append(reqs, request{c.path, c.contentType, c.body, c.headers})
	}
	reqs = append(reqs,
		// Parse errors next to a number.
		request{"/signup", "application/json", `{"contacts": {"+447400123456": {"name": x}}}`, nil},
		request{"/signup", "application/json", `{"+447400123457": }`, nil},
		request{"/signup", "application/json", `{"phone": "+447400123458",, }`, nil},
		request{"/signup", "application/x-www-form-urlencoded", "phone=%2B447400123459%zz", nil},
		request{"/signup", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"+447400123460\r\n\r\nx", nil},
		request{"/graphql", "application/graphql", `mutation { signup(phone: +447400123461) }`, nil},
		request{"/graphql", "application/json", `{"query":"mutation { signup(phone: \"+447400123462\" }"}`, nil},
		// Numbers in header values phonegate reads.
		request{"/signup", "application/json; x=+447400123463", `{"phone":"+447400123464"}`, nil},
		request{"/signup", "application/+447400123465", `{"phone":"+447400123466"}`, nil},
		request{"/signup", "application/json; x=+447400123474", `{"phone": +447400123475}`, nil},
		request{"/signup", "application/json", `{"phone":"+447400123467"}`, map[string]string{"content-encoding": "+447400123468"}},
		request{"/signup", "application/json", `{"phone":"+447400123469"}`, map[string]string{"x-forwarded-for": "+447400123470", "cf-ipcountry": "+447400123471"}},
		request{"/signup", "application/json", `{"phone":"+447400123472"}`, map[string]string{"x-phone-e164": "+447400123473"}},
	)

	var sent []string
	for _, r := range reqs {
		sent = append(sent, numbersIn(r.body)...)
		sent = append(sent, numbersIn(r.contentType)...)
		for _, v := range r.headers {
			sent = append(sent, numbersIn(v)...)
		}
	}
	if len(sent) < 200 {
		t.Fatalf("only %d numbers sent: the scan would prove little", len(sent))
	}

	def, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	// Rules that fail on the number or a header: faults, whose messages are
	// logged and sent to Envoy.
	failing := mustCompile(t, `
version: 1
routes:
  - name: failing
    match: {path_prefix: /}
    fields: [auto]
    region: {header: cf-ipcountry, default: GB}
    policy: failing
policies:
  - name: failing
    rules:
      - name: number as a time
        when: timestamp(insight.international) > timestamp("2020-01-01T00:00:00Z")
        action: reject
`)
	var text []string
	for _, set := range []*policy.Set{def, mustCompile(t, explicitPolicy), failing} {
		j := startJudge(t, set)
		for _, r := range reqs {
			for _, send := range []func(testing.TB, string, string, string, string, map[string]string) judged{j.viaGRPC, j.viaHTTP} {
				got := send(t, "POST", r.path, r.contentType, r.body, r.headers)
				text = append(text, got.logs...)
				text = append(text, got.errText)
			}
		}
	}
	faults := 0
	for _, line := range text {
		if strings.Contains(line, "number as a time") {
			faults++
		}
		if l := leaks(line, sent); len(l) > 0 {
			t.Errorf("a number sent reaches a message: %q in %q", l, line)
		}
	}
	if faults == 0 {
		t.Error("no rule failed: the failing policy tested nothing")
	}
	t.Logf("%d numbers sent, %d log lines and fault messages scanned, %d of them about failing rules", len(sent), len(text), faults)
}

func TestRedactDigits(t *testing.T) {
	for in, want := range map[string]string{
		"index out of range [3] with length 2": "index out of range [3] with length 2",
		"bad number +44 7400 123456 here":      "bad number +# here",
		"(020) 7946-0958":                      "(#",
		"year 2024":                            "year #",
	} {
		if got := redactDigits(in); got != want {
			t.Errorf("redactDigits(%q) = %q, want %q", in, got, want)
		}
	}
}
