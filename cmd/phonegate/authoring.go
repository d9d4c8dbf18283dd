package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/phonegate/phonegate/filter"
	"github.com/phonegate/phonegate/policy"
	"github.com/phonegate/phonegate/policytest"
	"go.yaml.in/yaml/v3"
)

// policyTest runs policy test files: `phonegate test [PATH...]`.
func policyTest(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("test", "test [--run REGEX] [--coverage] [-v] [PATH...]", stderr)
	run := fs.String("run", "", "run only the cases whose name matches this regular expression")
	coverage := fs.Bool("coverage", false, "list the routes no case reached and the rules that decided no case")
	verbose := fs.Bool("v", false, "print every case, not only failures")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	opts := policytest.Options{Coverage: *coverage, Verbose: *verbose}
	if *run != "" {
		if opts.Run, err = regexp.Compile(*run); err != nil {
			return fmt.Errorf("--run: %w", err)
		}
	}
	files, err := policytest.Find(paths...)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		if len(paths) == 0 {
			paths = []string{"."}
		}
		return fmt.Errorf("no policy test files (*_test.yaml) in %s", strings.Join(paths, ", "))
	}
	if res := policytest.Run(stdout, files, opts); !res.OK() {
		return exitError(1)
	}
	return nil
}

// eval explains how one request would be decided: `phonegate eval`.
func eval(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", "eval --policy PATH [--request FILE|-] [--format json|text]", stderr)
	policyPath := fs.String("policy", "", "policy file or directory (required)")
	requestPath := fs.String("request", "-", "the request, as a test case's request: YAML or JSON (- reads standard input)")
	format := fs.String("format", "json", "json, or text for a person")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *policyPath == "" {
		return errors.New("--policy is required")
	}
	if *format != "json" && *format != "text" {
		return fmt.Errorf("--format %q: want json or text", *format)
	}
	set, err := policy.Load(*policyPath)
	if err != nil {
		if list := policy.Errors(err); list != nil {
			for _, e := range list {
				fmt.Fprintln(stderr, e)
			}
			return exitError(1)
		}
		return err
	}
	var raw []byte
	if *requestPath == "-" {
		raw, err = io.ReadAll(io.LimitReader(stdin, filter.MaxBodyBytesLimit))
	} else {
		raw, err = os.ReadFile(*requestPath)
	}
	if err != nil {
		return err
	}
	var req policytest.Request
	dec := yaml.NewDecoder(bytes.NewReader(raw)) // YAML reads JSON too
	dec.KnownFields(true)
	if err := dec.Decode(&req); err != nil {
		return fmt.Errorf("request %s: %v", *requestPath, err)
	}
	if req.Path == "" {
		return fmt.Errorf("request %s: needs a path", *requestPath)
	}
	srv := policytest.NewServer(set)
	e := srv.Explain(ctx, policytest.CheckRequest(req))
	out := describe(e)
	if *format == "text" {
		writeText(stdout, out)
		return nil
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// evalOutput is what eval prints.
type evalOutput struct {
	Route      string                   `json:"route"`
	RouteWhy   string                   `json:"route_why"`
	DryRun     bool                     `json:"dry_run,omitempty"`
	Numbers    []filter.ExplainedNumber `json:"numbers"`
	Decision   *evalDecision            `json:"decision"`
	DecisionID string                   `json:"decision_id,omitempty"`
	Envoy      *evalEnvoy               `json:"envoy"`
	Fault      string                   `json:"fault,omitempty"`
}

type evalDecision struct {
	Action  policy.Action `json:"action"`
	Reason  policy.Reason `json:"reason"`
	Policy  string        `json:"policy"`
	Rule    string        `json:"rule,omitempty"`
	Tags    []string      `json:"tags"`
	Status  int           `json:"status,omitempty"`
	Message string        `json:"message,omitempty"`
	Field   string        `json:"field,omitempty"` // of the deciding number
}

// evalEnvoy is the CheckResponse, spelt out: what Envoy does with it.
type evalEnvoy struct {
	Allowed         bool              `json:"allowed"`
	Status          int               `json:"status,omitempty"` // of a denial
	Headers         map[string]string `json:"headers,omitempty"`
	HeadersToRemove []string          `json:"headers_to_remove,omitempty"`
	Body            json.RawMessage   `json:"body,omitempty"` // a denial's
	DynamicMetadata map[string]any    `json:"dynamic_metadata,omitempty"`
}

func describe(e *filter.Explanation) *evalOutput {
	out := &evalOutput{Route: e.Route, RouteWhy: e.RouteWhy, DryRun: e.DryRun, Numbers: e.Numbers, DecisionID: e.DecisionID}
	if out.Route == "" && e.Fault == nil {
		out.RouteWhy = "no route matches: the request passes unjudged"
	}
	if e.Fault != nil {
		out.Fault = e.Fault.Error()
		return out
	}
	if d := e.Decision; d != nil {
		out.Decision = &evalDecision{Action: d.Action, Reason: d.Reason, Policy: d.Policy, Rule: d.Rule, Tags: d.Tags, Status: d.Status, Message: d.Message}
		if d.Number != nil {
			out.Decision.Field = d.Number.Field
		}
	}
	out.Envoy = envoyView(e.Response)
	return out
}

func envoyView(r *authv3.CheckResponse) *evalEnvoy {
	v := &evalEnvoy{Headers: map[string]string{}}
	if r == nil {
		return v
	}
	if md := r.GetDynamicMetadata(); md != nil {
		v.DynamicMetadata = md.AsMap()
	}
	if ok := r.GetOkResponse(); ok != nil {
		v.Allowed = true
		for _, h := range ok.GetHeaders() {
			v.Headers[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
		}
		v.HeadersToRemove = ok.GetHeadersToRemove()
		return v
	}
	if d := r.GetDeniedResponse(); d != nil {
		v.Status = int(d.GetStatus().GetCode())
		for _, h := range d.GetHeaders() {
			v.Headers[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
		}
		if json.Valid([]byte(d.GetBody())) {
			v.Body = json.RawMessage(d.GetBody())
		}
	}
	return v
}

// writeText is eval's --format text: the same facts, for a person.
func writeText(w io.Writer, o *evalOutput) {
	if o.Fault != "" {
		fmt.Fprintf(w, "fault: %s (Envoy's failure_mode_allow decides)\n", o.Fault)
		return
	}
	if o.Route == "" {
		fmt.Fprintf(w, "route: none (%s)\n", o.RouteWhy)
	} else {
		fmt.Fprintf(w, "route: %s (%s)", o.Route, o.RouteWhy)
		if o.DryRun {
			fmt.Fprint(w, ", dry run")
		}
		fmt.Fprintln(w)
	}
	for _, n := range o.Numbers {
		in := n.Insight
		fmt.Fprintf(w, "number at %s: %s, %s, %s, confidence %s, risk %d", n.Field, orDash(in.E164), orDash(in.Country.ISO2), in.LineType, in.Confidence, in.RiskScore)
		for _, wr := range in.Warnings {
			fmt.Fprintf(w, ", %s", wr.Risk)
		}
		fmt.Fprintln(w)
		for _, r := range n.Rules {
			mark := "false"
			switch {
			case r.Error != "":
				mark = "error: " + r.Error
			case r.Decided:
				mark = "true  <- decides: " + string(r.Action)
			case r.Held:
				mark = "true (after the deciding rule)"
			}
			fmt.Fprintf(w, "  %s/%s: %s\n      when: %s\n", r.Policy, r.Rule, mark, r.When)
		}
	}
	if d := o.Decision; d != nil {
		fmt.Fprintf(w, "decision: %s (reason %s, policy %s", d.Action, d.Reason, d.Policy)
		if d.Rule != "" {
			fmt.Fprintf(w, ", rule %s", d.Rule)
		}
		fmt.Fprintf(w, ", tags %v)\n", d.Tags)
	}
	if o.DecisionID != "" {
		fmt.Fprintf(w, "decision id: %s\n", o.DecisionID)
	}
	if e := o.Envoy; e != nil {
		if e.Allowed {
			fmt.Fprintln(w, "envoy: allows the request")
		} else {
			fmt.Fprintf(w, "envoy: denies with %d %s\n", e.Status, e.Body)
		}
		for _, k := range sortedKeys(e.Headers) {
			fmt.Fprintf(w, "  header %s: %s\n", k, e.Headers[k])
		}
		if len(e.HeadersToRemove) > 0 {
			fmt.Fprintf(w, "  removes %s\n", strings.Join(e.HeadersToRemove, ", "))
		}
		if md, err := json.Marshal(e.DynamicMetadata); err == nil && len(e.DynamicMetadata) > 0 {
			fmt.Fprintf(w, "  dynamic metadata: %s\n", md)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
