package policytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/phonegate/phonegate/filter"
	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/policy"
	"go.yaml.in/yaml/v3"
)

// File is a policy test file as written.
type File struct {
	// Policy is the policy file or directory the cases run against,
	// relative to the test file; empty means the test file's directory.
	Policy string `yaml:"policy"`
	Cases  []Case `yaml:"cases"`
}

// Case is one request and what its decision must be.
type Case struct {
	Name    string  `yaml:"name"`
	Request Request `yaml:"request"`
	Expect  Expect  `yaml:"expect"`
	line    int
}

// Request is the request Envoy would forward.
type Request struct {
	Method            string            `yaml:"method"` // default POST
	Path              string            `yaml:"path"`
	Host              string            `yaml:"host"`
	Headers           map[string]string `yaml:"headers"`
	Body              string            `yaml:"body"`
	ContextExtensions map[string]string `yaml:"context_extensions"`
	// ClientIP is the peer's address (default 192.0.2.1, a documentation
	// address with no country): x-forwarded-for in headers counts as in
	// serve with --xff-trusted-hops 1.
	ClientIP string `yaml:"client_ip"`
}

// Expect lists what must hold; keys left out are not checked.
type Expect struct {
	Decision string   `yaml:"decision"` // allow | tag | reject | pass (no route matched)
	Tags     []string `yaml:"tags"`     // at least these
	Status   int      `yaml:"status"`
	Route    string   `yaml:"route"`
	Rule     string   `yaml:"rule"`
	Reason   string   `yaml:"reason"`
}

// Options select and report.
type Options struct {
	Run *regexp.Regexp // cases whose name matches; nil runs all
	// Coverage lists the routes no case reached and the rules that decided
	// no case.
	Coverage bool
	// Verbose prints every case, passing or not.
	Verbose bool
}

// Result counts the cases run.
type Result struct {
	Passed, Failed int
	// Errors are files that could not be read or whose policy did not load.
	Errors int
}

// OK reports whether every case passed and every file loaded.
func (r Result) OK() bool { return r.Failed == 0 && r.Errors == 0 }

// Find lists the policy test files (*_test.yaml, *_test.yml) under paths:
// files named directly, and the test files of directories, recursively.
func Find(paths ...string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if !d.IsDir() && policy.IsTestFile(d.Name()) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// Run runs the cases of each file and writes failures (and, with
// Options.Coverage, what no case reached) to w, then the last line
// "N passed, M failed".
func Run(w io.Writer, files []string, opts Options) Result {
	var res Result
	for _, f := range files {
		r := runFile(w, f, opts)
		res.Passed += r.Passed
		res.Failed += r.Failed
		res.Errors += r.Errors
	}
	fmt.Fprintf(w, "%d passed, %d failed", res.Passed, res.Failed)
	if res.Errors > 0 {
		fmt.Fprintf(w, ", %d files in error", res.Errors)
	}
	fmt.Fprintln(w)
	return res
}

// runFile runs one test file: a server of its own, with a fresh velocity
// store, answering the cases in order as Check would.
func runFile(w io.Writer, name string, opts Options) Result {
	file, err := ReadFile(name)
	if err != nil {
		fmt.Fprintf(w, "%v\n", err)
		return Result{Errors: 1}
	}
	polPath := filepath.Dir(name)
	if file.Policy != "" {
		polPath = filepath.Join(filepath.Dir(name), file.Policy)
	}
	set, err := policy.Load(polPath)
	if err != nil {
		fmt.Fprintf(w, "%s: policy %s: %v\n", name, polPath, err)
		return Result{Errors: 1}
	}
	srv := NewServer(set)

	var res Result
	reachedRoutes := map[string]bool{}
	decidedRules := map[string]bool{} // policy + "\x00" + rule
	for _, c := range file.Cases {
		if opts.Run != nil && !opts.Run.MatchString(c.Name) {
			continue
		}
		e := srv.Explain(context.Background(), CheckRequest(c.Request))
		if e.Route != "" {
			reachedRoutes[e.Route] = true
		}
		if d := e.Decision; d != nil && d.Rule != "" {
			decidedRules[d.Policy+"\x00"+d.Rule] = true
		}
		if problems := c.Expect.compare(e); len(problems) > 0 {
			res.Failed++
			fmt.Fprintf(w, "%s:%d: case %q: %s\n", name, c.line, c.Name, strings.Join(problems, "; "))
		} else {
			res.Passed++
			if opts.Verbose {
				fmt.Fprintf(w, "%s:%d: case %q: ok\n", name, c.line, c.Name)
			}
		}
	}
	if opts.Coverage {
		writeCoverage(w, name, set, reachedRoutes, decidedRules)
	}
	return res
}

// NewServer is the server a test file's cases run against: the set's
// policy, a fresh velocity store, logs discarded.
func NewServer(set *policy.Set) *filter.Server {
	srv := filter.New(filter.Options{
		Velocity:       insight.NewVelocityStore(set.Velocity),
		XFFTrustedHops: 1,
	})
	srv.SetPolicy(set)
	srv.MarkWarm()
	return srv
}

func writeCoverage(w io.Writer, name string, set *policy.Set, routes, rules map[string]bool) {
	var missing []string
	used := map[string]bool{}
	for _, r := range set.Routes {
		used[r.Policy.Name] = true
		if !routes[r.Name] {
			missing = append(missing, "route "+r.Name)
		}
	}
	for _, pname := range slices.Sorted(maps.Keys(used)) {
		for _, rule := range set.Policies[pname].Rules {
			if !rules[pname+"\x00"+rule.Name] {
				missing = append(missing, fmt.Sprintf("policy %s rule %s", pname, rule.Name))
			}
		}
	}
	if len(missing) == 0 {
		fmt.Fprintf(w, "%s: coverage: every route reached, every rule decided a case\n", name)
		return
	}
	fmt.Fprintf(w, "%s: coverage: no case reached or decided by:\n", name)
	for _, m := range missing {
		fmt.Fprintf(w, "  %s\n", m)
	}
}

// ReadFile reads a test file, refusing unknown keys with their line.
func ReadFile(name string) (*File, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	f := &File{}
	if err := dec.Decode(f); err != nil {
		return nil, yamlError(name, err)
	}
	// A second pass for each case's line (anchors and merge keys resolved
	// by the first).
	var lines struct {
		Cases []yaml.Node `yaml:"cases"`
	}
	if err := yaml.Unmarshal(b, &lines); err != nil || len(lines.Cases) != len(f.Cases) {
		return nil, fmt.Errorf("%s: cases: want a list of cases", name)
	}
	for i := range f.Cases {
		c := &f.Cases[i]
		c.line = lines.Cases[i].Line
		at := fmt.Sprintf("%s:%d", name, c.line)
		if c.Name == "" {
			return nil, fmt.Errorf("%s: a case needs a name", at)
		}
		if c.Request.Path == "" {
			return nil, fmt.Errorf("%s: case %q: request needs a path", at, c.Name)
		}
		switch c.Expect.Decision {
		case "", "allow", "tag", "reject", "pass":
		default:
			return nil, fmt.Errorf("%s: case %q: expect decision %q: want allow, tag, reject or pass", at, c.Name, c.Expect.Decision)
		}
	}
	if len(f.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases", name)
	}
	return f, nil
}

// yamlError turns yaml's "line N: field x not found in type T" into
// "file:N: unknown key "x"".
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %v", name, err)
	}
	var msgs []string
	for _, e := range te.Errors {
		if m := yamlLine.FindStringSubmatch(e); m != nil {
			e = name + ":" + m[1] + ": " + unknownField.ReplaceAllString(m[2], `unknown key "$1"`)
		} else {
			e = name + ": " + e
		}
		msgs = append(msgs, e)
	}
	return errors.New(strings.Join(msgs, "\n"))
}

var (
	yamlLine     = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)
)

// CheckRequest is the CheckRequest Envoy would send for r.
func CheckRequest(r Request) *authv3.CheckRequest {
	method := r.Method
	if method == "" {
		method = "POST"
	}
	headers := map[string]string{":method": strings.ToUpper(method), ":path": r.Path}
	if r.Host != "" {
		headers[":authority"] = r.Host
	}
	for k, v := range r.Headers {
		headers[strings.ToLower(k)] = v
	}
	ip := r.ClientIP
	if ip == "" {
		ip = "192.0.2.1"
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source: &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
			SocketAddress: &corev3.SocketAddress{Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 40000}},
		}}},
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: strings.ToUpper(method), Path: r.Path, Host: r.Host, Headers: headers,
			RawBody: []byte(r.Body), Size: int64(len(r.Body)),
		}},
		ContextExtensions: r.ContextExtensions,
	}}
}

// compare lists how an explanation differs from what the case expects.
func (x Expect) compare(e *filter.Explanation) []string {
	var out []string
	if e.Fault != nil {
		return []string{"want a decision, got a fault: " + e.Fault.Error()}
	}
	d := e.Decision
	got := func(f func(*policy.Decision) string) string {
		if d == nil {
			return ""
		}
		return f(d)
	}
	decision := "pass"
	if d != nil {
		decision = string(d.Action)
	}
	if x.Decision != "" && x.Decision != decision {
		out = append(out, fmt.Sprintf("want decision %s, got %s", x.Decision, decision))
	}
	if x.Route != "" && x.Route != e.Route {
		out = append(out, fmt.Sprintf("want route %q, got %q", x.Route, e.Route))
	}
	if r := got(func(d *policy.Decision) string { return d.Rule }); x.Rule != "" && x.Rule != r {
		out = append(out, fmt.Sprintf("want rule %q, got %q", x.Rule, r))
	}
	if r := got(func(d *policy.Decision) string { return string(d.Reason) }); x.Reason != "" && x.Reason != r {
		out = append(out, fmt.Sprintf("want reason %s, got %s", x.Reason, r))
	}
	if x.Status != 0 {
		status := 0
		if d != nil && d.Action == policy.Reject && !e.DryRun {
			status = d.Status
		}
		if status != x.Status {
			out = append(out, fmt.Sprintf("want status %d, got %d", x.Status, status))
		}
	}
	if len(x.Tags) > 0 {
		var tags []string
		if d != nil {
			tags = d.Tags
		}
		var missing []string
		for _, t := range x.Tags {
			if !slices.Contains(tags, t) {
				missing = append(missing, t)
			}
		}
		if len(missing) > 0 {
			sort.Strings(tags)
			out = append(out, fmt.Sprintf("want tags including %v, got %v", x.Tags, tags))
		}
	}
	return out
}
