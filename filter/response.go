package filter

import (
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/policy"
	"github.com/prometheus/client_golang/prometheus"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
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

// deniedStatus is the gRPC status of every denial.
var deniedStatus = &rpcstatus.Status{Code: int32(codes.PermissionDenied), Message: "phone_rejected"}

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

// okResponse lets the request through. With a decision (a matched route) it
// sets the x-phone-* headers; in every case it removes client-sent x-phone-*
// headers that it does not overwrite itself.
func okResponse(v *verdict) *authv3.CheckResponse {
	var set []*corev3.HeaderValueOption
	if v.decision != nil {
		set = responseHeaders(v)
	}
	ok := &authv3.OkHttpResponse{Headers: set, HeadersToRemove: spoofedHeaders(v.req.Headers, set)}
	resp := &authv3.CheckResponse{
		Status:       okStatus,
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok},
	}
	if v.decision != nil {
		setMetadata(resp, v)
	}
	return resp
}

// responseHeaders are upstreamHeaders as HeaderValueOptions, from the
// prebuilt pieces (prebuilt.go): the decision's, then the number's.
func responseHeaders(v *verdict) []*corev3.HeaderValueOption {
	d := v.decision
	o := v.outcome()
	set := make([]*corev3.HeaderValueOption, 0, len(o.headers)+7)
	set = append(set, o.headers...)
	if d.Number == nil {
		return set
	}
	in := d.Number.Insight
	if a := v.annex; a != nil && a.e164Header != nil {
		set = append(set, a.e164Header)
	} else {
		set = append(set, newHeader(HeaderE164, in.E164))
	}
	set = append(set,
		countryHeaders.get(in.Country.ISO2),
		lineTypeHeaders.get(string(in.LineType)),
		confidenceHeaders.get(string(in.Confidence)),
		riskScoreHeader(in.RiskScore),
		disposableHeader(in.IsDisposable),
	)
	if in.Carrier.Name != "" {
		set = append(set, carrierHeaders.get(in.Carrier.Name))
	}
	return set
}

// deniedResponse rejects the request with the rule's status and a JSON body.
func deniedResponse(v *verdict) *authv3.CheckResponse {
	d, b := v.decision, denialJSON(v)
	resp := &authv3.CheckResponse{
		Status: deniedStatus,
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status: &typev3.HttpStatus{Code: typev3.StatusCode(d.Status)},
			Headers: []*corev3.HeaderValueOption{{
				Header:       &corev3.HeaderValue{Key: "content-type", Value: "application/json"},
				AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
			}},
			Body: string(b),
		}},
	}
	setMetadata(resp, v)
	return resp
}

// upstreamHeaders lists the x-phone-* headers for a decision, describing the
// number that decided. Headers about a number are left out when none did. On
// a dry-run route x-phone-decision says what was done (a reject is let
// through as allow) and x-phone-dry-run what would have been.
func upstreamHeaders(d *policy.Decision, dryRun bool) [][2]string {
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
	if d.Number == nil {
		return h
	}
	in := d.Number.Insight
	h = append(h,
		[2]string{HeaderE164, in.E164},
		[2]string{HeaderCountry, in.Country.ISO2},
		[2]string{HeaderLineType, string(in.LineType)},
		[2]string{HeaderConfidence, string(in.Confidence)},
		[2]string{HeaderRiskScore, strconv.Itoa(in.RiskScore)},
		[2]string{HeaderDisposable, strconv.FormatBool(in.IsDisposable)},
	)
	if in.Carrier.Name != "" {
		h = append(h, [2]string{HeaderCarrier, in.Carrier.Name})
	}
	return h
}

// spoofedHeaders lists the client-sent x-phone-* headers that phonegate does
// not set itself. Those it sets are overwritten instead: removing them as well
// would, in Envoy versions that remove after setting, drop our own values.
func spoofedHeaders(headers map[string]string, ours []*corev3.HeaderValueOption) []string {
	var out []string
	for name := range headers {
		if len(name) < len(HeaderPrefix) || !strings.EqualFold(name[:len(HeaderPrefix)], HeaderPrefix) {
			continue
		}
		lower := strings.ToLower(name)
		if !slices.ContainsFunc(ours, func(h *corev3.HeaderValueOption) bool { return h.GetHeader().GetKey() == lower }) {
			out = append(out, lower)
		}
	}
	sort.Strings(out)
	return out
}

// setMetadata puts the dynamic metadata Envoy's access log reads (under the
// envoy.filters.http.ext_authz namespace) into resp. It never holds a raw
// number. The Struct is written as protobuf bytes from pieces encoded once
// (the decision's, the number's) and this request's values, and carried as
// the response's field 4 in its unknown fields: encoding the response copies
// the bytes, with no Struct of Values built and walked by reflection per
// check. A receiver (Envoy, or any gRPC client) reads an ordinary
// dynamic_metadata; in process, [decodedResponse] gives the message as
// received.
func setMetadata(resp *authv3.CheckResponse, v *verdict) {
	d := v.decision
	o := v.outcome()
	// The entries are written after room for the field's tag and length
	// (at most 1 and 5 bytes), which are put in front once the length is
	// known: one buffer a check.
	const head = 6
	b := make([]byte, head, 512)
	b = append(b, o.metadata...)
	b = appendString(b, "decision_id", v.id)
	b = appendNumber(b, "numbers_found", d.Numbers)
	if d.Number != nil {
		in := d.Number.Insight
		b = appendString(b, "field", d.Number.Field)
		if v.annex != nil {
			b = append(b, v.annex.metadata...)
		} else {
			b = appendNumberMetadata(b, in, v.hash)
		}
		b = appendNumber(b, "risk_score", in.RiskScore)
		if in.IP != nil {
			b = appendString(b, "ip_country", in.IP.Country)
			b = appendString(b, "ip_match", in.IP.Match)
		}
		if in.Velocity != nil {
			b = appendNumber(b, "seen", in.Velocity.Seen)
			b = appendBool(b, "recent_abuse", in.Velocity.RecentAbuse)
			b = appendString(b, "velocity_source", in.Velocity.Source)
		}
	}
	// CheckResponse.dynamic_metadata is field 4: the Struct, length-delimited.
	var prefix [head]byte
	p := protowire.AppendTag(prefix[:0], checkResponseMetadataField, protowire.BytesType)
	p = protowire.AppendVarint(p, uint64(len(b)-head))
	start := head - len(p)
	copy(b[start:], p)
	resp.ProtoReflect().SetUnknown(b[start:])
}

// checkResponseMetadataField is CheckResponse's dynamic_metadata field
// number (TestMetadataEncoding checks it against the descriptor).
const checkResponseMetadataField = 4

// appendNumberMetadata appends what a number alone fixes: its hash, country,
// line type, confidence and whether it is disposable.
func appendNumberMetadata(b []byte, in *insight.Insight, hash string) []byte {
	b = appendString(b, "number_hash", hash)
	b = appendString(b, "country", in.Country.ISO2)
	b = appendString(b, "line_type", string(in.LineType))
	b = appendString(b, "confidence", string(in.Confidence))
	return appendBool(b, "disposable", in.IsDisposable)
}

// Struct entries: Struct.fields is a map<string, Value>, field 1, whose
// entries are messages {key = 1; value = 2}; a Value is a oneof of
// number_value (2, double), string_value (3) and bool_value (4), among others.

// appendEntryHead appends an entry's tag, length and key, and the head of a
// Value of valLen bytes.
func appendEntryHead(b []byte, key string, valLen int) []byte {
	entryLen := protowire.SizeTag(1) + protowire.SizeBytes(len(key)) + protowire.SizeTag(2) + protowire.SizeBytes(valLen)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(entryLen))
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, key)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(valLen))
}

func appendString(b []byte, key, s string) []byte {
	b = appendEntryHead(b, key, protowire.SizeTag(3)+protowire.SizeBytes(len(s)))
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendNumber(b []byte, key string, n int) []byte {
	b = appendEntryHead(b, key, protowire.SizeTag(2)+protowire.SizeFixed64())
	b = protowire.AppendTag(b, 2, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(float64(n)))
}

func appendBool(b []byte, key string, x bool) []byte {
	b = appendEntryHead(b, key, protowire.SizeTag(4)+protowire.SizeVarint(protowire.EncodeBool(x)))
	b = protowire.AppendTag(b, 4, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeBool(x))
}

// decodedResponse is resp as a receiver decodes it: its metadata, carried as
// encoded bytes, becomes the DynamicMetadata message.
func decodedResponse(resp *authv3.CheckResponse) *authv3.CheckResponse {
	b, err := proto.Marshal(resp)
	out := &authv3.CheckResponse{}
	if err != nil || proto.Unmarshal(b, out) != nil {
		return resp
	}
	return out
}

// outcome is the part of a response that a decision alone fixes: its
// headers (decision, policy, dry run, tags) and metadata values. Built once
// per route, policy, rule, action and reason, and kept with the policy set.
type outcome struct {
	headers  []*corev3.HeaderValueOption
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
	for _, h := range upstreamHeaders(&policy.Decision{Action: d.Action, Policy: d.Policy, Tags: d.Tags}, dryRun) {
		o.headers = append(o.headers, newHeader(h[0], h[1]))
	}
	add := func(k, val string) { o.metadata = appendString(o.metadata, k, val) }
	add("enforced", string(enforced(d.Action, dryRun)))
	o.metadata = appendBool(o.metadata, "dry_run", dryRun)
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
