package filter

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/phonegate/phonegate/policy"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"
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

// okResponse lets the request through. With a decision (a matched route) it
// sets the x-phone-* headers; in every case it removes client-sent x-phone-*
// headers that it does not overwrite itself.
func okResponse(v *verdict) *authv3.CheckResponse {
	req, d := v.req, v.decision
	dryRun := v.route != nil && v.route.DryRun
	var set []*corev3.HeaderValueOption
	ours := map[string]bool{}
	if d != nil {
		for _, h := range upstreamHeaders(d, dryRun) {
			ours[h[0]] = true
			set = append(set, &corev3.HeaderValueOption{
				Header:       &corev3.HeaderValue{Key: h[0], Value: h[1]},
				AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
			})
		}
	}
	ok := &authv3.OkHttpResponse{Headers: set, HeadersToRemove: spoofedHeaders(req.Headers, ours)}
	resp := &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(codes.OK)},
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok},
	}
	if d != nil {
		resp.DynamicMetadata = metadata(v)
	}
	return resp
}

// deniedResponse rejects the request with the rule's status and a JSON body.
func deniedResponse(v *verdict) *authv3.CheckResponse {
	d, b := v.decision, denialJSON(v)
	return &authv3.CheckResponse{
		Status: &rpcstatus.Status{Code: int32(codes.PermissionDenied), Message: "phone_rejected"},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status: &typev3.HttpStatus{Code: typev3.StatusCode(d.Status)},
			Headers: []*corev3.HeaderValueOption{{
				Header:       &corev3.HeaderValue{Key: "content-type", Value: "application/json"},
				AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
			}},
			Body: string(b),
		}},
		DynamicMetadata: metadata(v),
	}
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
func spoofedHeaders(headers map[string]string, ours map[string]bool) []string {
	var out []string
	for name := range headers {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, HeaderPrefix) && !ours[lower] {
			out = append(out, lower)
		}
	}
	sort.Strings(out)
	return out
}

// metadata is the dynamic metadata Envoy's access log reads under the
// envoy.filters.http.ext_authz namespace. It never holds a raw number.
func metadata(v *verdict) *structpb.Struct {
	d, hash := v.decision, v.hash
	dryRun := v.route != nil && v.route.DryRun
	f := map[string]*structpb.Value{
		"decision_id":   structpb.NewStringValue(v.id),
		"enforced":      structpb.NewStringValue(string(enforced(d.Action, dryRun))),
		"dry_run":       structpb.NewBoolValue(dryRun),
		"decision":      structpb.NewStringValue(string(d.Action)),
		"reason":        structpb.NewStringValue(string(d.Reason)),
		"route":         structpb.NewStringValue(d.Route),
		"policy":        structpb.NewStringValue(d.Policy),
		"numbers_found": structpb.NewNumberValue(float64(d.Numbers)),
	}
	if d.Rule != "" {
		f["rule"] = structpb.NewStringValue(d.Rule)
	}
	if len(d.Tags) > 0 {
		f["tags"] = structpb.NewStringValue(strings.Join(d.Tags, ","))
	}
	if d.Number != nil {
		in := d.Number.Insight
		f["field"] = structpb.NewStringValue(d.Number.Field)
		f["number_hash"] = structpb.NewStringValue(hash)
		f["country"] = structpb.NewStringValue(in.Country.ISO2)
		f["line_type"] = structpb.NewStringValue(string(in.LineType))
		f["confidence"] = structpb.NewStringValue(string(in.Confidence))
		f["risk_score"] = structpb.NewNumberValue(float64(in.RiskScore))
		f["disposable"] = structpb.NewBoolValue(in.IsDisposable)
		if in.IP != nil {
			f["ip_country"] = structpb.NewStringValue(in.IP.Country)
			f["ip_match"] = structpb.NewStringValue(in.IP.Match)
		}
		if in.Velocity != nil {
			f["seen"] = structpb.NewNumberValue(float64(in.Velocity.Seen))
			f["recent_abuse"] = structpb.NewBoolValue(in.Velocity.RecentAbuse)
			f["velocity_source"] = structpb.NewStringValue(in.Velocity.Source)
		}
	}
	return &structpb.Struct{Fields: f}
}
