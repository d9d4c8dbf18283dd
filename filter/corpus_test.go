package filter

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/policy"
)

// corpusCase is one request body of filter/testdata/bodies: the shape a real
// signup API documents (or a hostile variation), and the decision the default
// policy must give it.
type corpusCase struct {
	file        string
	source      string
	method      string
	path        string
	contentType string
	headers     map[string]string
	want        string // allow, tag or reject
	note        string
	body        string
}

// loadCorpus reads every case file: "key: value" header lines (source,
// method, path, content-type, header, want, note), a line "---", then the
// body to the end of the file less one final newline.
func loadCorpus(t testing.TB) []corpusCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "bodies", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		head, body, ok := strings.Cut(string(raw), "\n---\n")
		if !ok {
			t.Fatalf("%s: no --- line between the header and the body", f)
		}
		c := corpusCase{file: filepath.Base(f), method: "POST", headers: map[string]string{}, body: strings.TrimSuffix(body, "\n")}
		sc := bufio.NewScanner(strings.NewReader(head))
		for line := 1; sc.Scan(); line++ {
			key, value, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				t.Fatalf("%s:%d: want key: value", f, line)
			}
			value = strings.TrimSpace(value)
			switch key {
			case "source":
				c.source = value
			case "method":
				c.method = value
			case "path":
				c.path = value
			case "content-type":
				c.contentType = value
			case "header":
				name, v, ok := strings.Cut(value, ":")
				if !ok {
					t.Fatalf("%s:%d: want header: name: value", f, line)
				}
				c.headers[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(v)
			case "want":
				c.want = value
			case "note":
				c.note = value
			default:
				t.Fatalf("%s:%d: unknown key %q", f, line, key)
			}
		}
		if c.source == "" || c.path == "" || c.note == "" || !slices.Contains([]string{"allow", "tag", "reject"}, c.want) {
			t.Fatalf("%s: needs source, path, note and want (allow, tag or reject)", f)
		}
		cases = append(cases, c)
	}
	return cases
}

// TestCorpus sends every body of the corpus through the real server, over
// gRPC and in HTTP mode, under the embedded default policy, and checks the
// decision each must get: no real signup refused, no hostile one let through.
func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) < 100 {
		t.Fatalf("the corpus holds %d bodies, want at least 100", len(cases))
	}
	def, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	j := startJudge(t, def)
	url := regexp.MustCompile(`^https?://`)
	realShapes := 0
	for _, c := range cases {
		if url.MatchString(c.source) {
			realShapes++
		}
		t.Run(c.file, func(t *testing.T) {
			for transport, send := range map[string]func(testing.TB, string, string, string, string, map[string]string) judged{
				"grpc": j.viaGRPC, "http": j.viaHTTP,
			} {
				got := send(t, c.method, c.path, c.contentType, c.body, c.headers)
				if got.decision != c.want {
					t.Errorf("%s: %s (reason %s), want %s: %s", transport, got.decision, got.reason, c.want, c.note)
				}
			}
		})
	}
	t.Logf("%d bodies, %d in the documented shape of a real API", len(cases), realShapes)
}
