package filter

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/policy"
	"github.com/prometheus/client_golang/prometheus"
)

// The upstream headers phonegate sets. Every client-sent header with the
// prefix is removed, so the upstream can trust what it reads.
const (
	HeaderPrefix     = "x-phone-"
	HeaderDecision   = "x-phone-decision"
	HeaderTags       = "x-phone-tags"
	HeaderE164       = "x-phone-e164"
	HeaderCountry    = "x-phone-country"
	HeaderLineType   = "x-phone-line-type"
	HeaderCarrier    = "x-phone-carrier"
	HeaderConfidence = "x-phone-confidence"
	HeaderRiskScore  = "x-phone-risk-score"
	HeaderDisposable = "x-phone-disposable"
	HeaderPolicy     = "x-phone-policy"
	HeaderDryRun     = "x-phone-dry-run" // on dry-run routes: the decision not enforced
)

// denialBody is the JSON a rejected client reads.
type denialBody struct {
	Error      string   `json:"error"`
	Message    string   `json:"message"`
	Policy     string   `json:"policy"`
	Field      string   `json:"field,omitempty"`
	DecisionID string   `json:"decision_id"`       // to find the decision in the logs
	Signals    *signals `json:"signals,omitempty"` // only when the route sets denial_details
}

// signals are what the deciding number showed, for a route that tells its
// clients why (denial_details: true).
type signals struct {
	Reason     string   `json:"reason"`
	Confidence string   `json:"confidence,omitempty"`
	RiskScore  *int     `json:"risk_score,omitempty"`
	LineType   string   `json:"line_type,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
}

func (s *signals) of(d *policy.Decision) *signals {
	s.Reason = string(d.Reason)
	if d.Number != nil {
		in := d.Number.Insight
		s.Confidence, s.LineType, s.RiskScore = string(in.Confidence), string(in.LineType), &in.RiskScore
		for _, w := range in.Warnings {
			s.Warnings = append(s.Warnings, w.Risk)
		}
	}
	return s
}

// denialJSON is the body of a denial.
func denialJSON(v *verdict) []byte {
	d, details := v.decision, v.route.DenialDetails
	body := denialBody{Error: "phone_rejected", Message: d.Message, Policy: d.Policy, DecisionID: v.id}
	if d.Number != nil {
		body.Field = d.Number.Field
	}
	if details {
		body.Signals = new(signals).of(d)
	}
	b, _ := json.Marshal(body) // strings, ints and slices of strings always marshal
	return b
}

// upstreamHeaders lists the x-phone-* headers for a decision, describing the
// number that decided: the decision's, then the number's, in the order a
// response sets them. Headers about a number are left out when none did. On
// a dry-run route x-phone-decision says what was done (a reject is let
// through as allow) and x-phone-dry-run what would have been.
func upstreamHeaders(d *policy.Decision, dryRun bool) [][2]string {
	h := decisionHeaders(d, dryRun)
	if d.Number == nil {
		return h
	}
	in := d.Number.Insight
	h = append(h, numberHeaders(in)...)
	return append(h, [2]string{HeaderRiskScore, strconv.Itoa(in.RiskScore)})
}

// decisionHeaders are the headers a decision alone fixes.
func decisionHeaders(d *policy.Decision, dryRun bool) [][2]string {
	h := [][2]string{
		{HeaderDecision, string(enforced(d.Action, dryRun))},
		{HeaderPolicy, d.Policy},
	}
	if dryRun {
		h = append(h, [2]string{HeaderDryRun, string(d.Action)})
	}
	if len(d.Tags) > 0 {
		h = append(h, [2]string{HeaderTags, strings.Join(d.Tags, ",")})
	}
	return h
}

// numberHeaders are the headers a number alone fixes: all but its risk
// score, which counts this request's IP and velocity.
func numberHeaders(in *insight.Insight) [][2]string {
	h := [][2]string{
		{HeaderE164, in.E164},
		{HeaderCountry, in.Country.ISO2},
		{HeaderLineType, string(in.LineType)},
		{HeaderConfidence, string(in.Confidence)},
		{HeaderDisposable, strconv.FormatBool(in.IsDisposable)},
	}
	if in.Carrier.Name != "" {
		h = append(h, [2]string{HeaderCarrier, in.Carrier.Name})
	}
	return h
}

// spoofedHeaders lists, sorted, the client-sent x-phone-* headers that
// phonegate does not set itself. Those it sets are overwritten instead:
// removing them as well would, in Envoy versions that remove after setting,
// drop our own values.
func spoofedHeaders(v *verdict) []string {
	if v.noPhoneHeaders {
		return nil
	}
	var out []string
	var ours [][2]string
	for name := range v.req.Headers {
		if !isPhoneHeader(name) {
			continue
		}
		if ours == nil && v.decision != nil {
			ours = upstreamHeaders(v.decision, v.route.DryRun)
		}
		lower := asciiLower(name)
		if validHeaderName(lower) && !slices.ContainsFunc(ours, func(h [2]string) bool { return h[0] == lower }) {
			out = append(out, lower)
		}
	}
	sort.Strings(out)
	return out
}

// asciiLower is name lower-cased as Envoy lower-cases header names (ASCII
// letters only), so that a header named for removal is the one the client
// sent: strings.ToLower would turn U+212A KELVIN SIGN into "k" and name
// another header. It allocates only when name holds an upper-case letter.
func asciiLower(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			b := []byte(name)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return name
}

// isPhoneHeader reports whether a client header's name is in phonegate's
// x-phone-* space, in any case.
func isPhoneHeader(name string) bool {
	return len(name) >= len(HeaderPrefix) && strings.EqualFold(name[:len(HeaderPrefix)], HeaderPrefix)
}

// appendNumberMetadata appends what a number alone fixes: its hash, country,
// line type and confidence.
func appendNumberMetadata(b []byte, in *insight.Insight, hash string) []byte {
	b = appendStringEntry(b, "number_hash", hash)
	b = appendStringEntry(b, "country", in.Country.ISO2)
	b = appendStringEntry(b, "line_type", string(in.LineType))
	return appendStringEntry(b, "confidence", string(in.Confidence))
}

// outcome is the part of a response that a decision alone fixes: its
// headers (decision, policy, dry run, tags) and metadata values. Built once
// per route, policy, rule, action and reason, and kept with the policy set.
type outcome struct {
	headers  []byte // encoded OkHttpResponse.headers entries
	metadata []byte // encoded Struct entries
	// The decision's series of phonegate_checks_total and
	// phonegate_numbers_total, looked up once (nil without metrics).
	checks, numbers prometheus.Counter
}

type outcomeKey struct {
	route        *policy.Route
	policy, rule string
	action       policy.Action
	reason       policy.Reason
}

// outcome returns the verdict's outcome, building it on first use.
func (v *verdict) outcome() *outcome {
	d := v.decision
	key := outcomeKey{v.route, d.Policy, d.Rule, d.Action, d.Reason}
	if v.outcomes != nil {
		if o, ok := v.outcomes.Load(key); ok {
			return o.(*outcome)
		}
	}
	dryRun := v.route != nil && v.route.DryRun
	o := &outcome{}
	for _, h := range decisionHeaders(d, dryRun) {
		o.headers = appendHeader(o.headers, fOKHeaders, h[0], h[1])
	}
	add := func(k, val string) { o.metadata = appendStringEntry(o.metadata, k, val) }
	if dryRun {
		// Only a dry run can let through what it decided to refuse, as
		// the decision log line has it: elsewhere what was done is the
		// decision.
		o.metadata = appendBoolEntry(o.metadata, "dry_run", true)
		add("enforced", string(enforced(d.Action, dryRun)))
	}
	add("decision", string(d.Action))
	add("reason", string(d.Reason))
	add("route", d.Route)
	add("policy", d.Policy)
	if d.Rule != "" {
		add("rule", d.Rule)
	}
	if len(d.Tags) > 0 {
		add("tags", strings.Join(d.Tags, ","))
	}
	if m := v.metrics; m != nil {
		o.checks = m.checks.WithLabelValues(d.Route, d.Policy, string(d.Action), string(d.Reason))
		o.numbers = m.numbers.WithLabelValues(d.Route)
	}
	if v.outcomes != nil && v.route != nil {
		v.outcomes.Store(key, o)
	}
	return o
}
