package policy

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/insight"
)

// The numbers used to exercise the presets, one per confidence label.
const (
	gbMobile  = "+447400123456" // mobile: verified
	usNumber  = "+16502530000"  // fixed_line_or_mobile: likely
	gbUAN     = "+443001234567" // uan: uncertain
	gbVoIP    = "+445612345678" // voip: low
	gbInvalid = "+44770090"     // too short: invalid
)

func TestPresets(t *testing.T) {
	engine := insight.New(insight.Options{})
	type want struct {
		action Action
		tags   []string
	}
	tests := []struct {
		preset string
		number string
		want   want
	}{
		{"high-trust", gbMobile, want{Allow, nil}},
		{"high-trust", usNumber, want{Reject, []string{"untrusted"}}},
		{"high-trust", gbVoIP, want{Reject, []string{"untrusted"}}},
		{"standard", gbMobile, want{Allow, nil}},
		{"standard", usNumber, want{Allow, nil}},
		{"standard", gbUAN, want{Allow, nil}},
		{"standard", gbVoIP, want{Tag, []string{"review"}}},
		{"standard", gbInvalid, want{Reject, []string{"invalid"}}},
		{"enrichment", gbMobile, want{Tag, []string{"keep"}}},
		{"enrichment", usNumber, want{Tag, []string{"keep"}}},
		{"enrichment", gbUAN, want{Tag, []string{"keep", "warning"}}},
		{"enrichment", gbVoIP, want{Tag, []string{"drop"}}},
		{"enrichment", gbInvalid, want{Tag, []string{"drop"}}},
	}
	set, err := Compile(Source{Name: "p.yaml", Data: []byte(`version: 1
routes:
  - {name: high-trust, policy: high-trust, match: {path: /high-trust}}
  - {name: standard, policy: standard, match: {path: /standard}}
  - {name: enrichment, policy: enrichment, match: {path: /enrichment}}
`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.preset+" "+tt.number, func(t *testing.T) {
			req := &Request{Method: "POST", Path: "/" + tt.preset}
			route, err := set.Route(req)
			if err != nil || route == nil {
				t.Fatalf("route: %v, %v", route, err)
			}
			d, err := route.Decide(req, []Number{{Field: "phone", Insight: engine.Lookup(tt.number, "")}})
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.want.action || !slices.Equal(d.Tags, tt.want.tags) {
				t.Errorf("%s on %s (%s): got %s %v, want %s %v", tt.preset, tt.number,
					engine.Lookup(tt.number, "").Confidence, d.Action, d.Tags, tt.want.action, tt.want.tags)
			}
			if d.Action == Reject && (d.Status != DefaultRejectStatus || d.Message == "") {
				t.Errorf("reject without status or message: %+v", d)
			}
		})
	}
}

func TestStrictestNumberDecides(t *testing.T) {
	engine := insight.New(insight.Options{})
	set, err := Compile(Source{Name: "p.yaml", Data: []byte("version: 1\nroutes:\n  - {name: r, policy: standard}\n")})
	if err != nil {
		t.Fatal(err)
	}
	numbers := []Number{
		{Field: "a", Insight: engine.Lookup(gbMobile, "")},
		{Field: "b", Insight: engine.Lookup(gbVoIP, "")},
		{Field: "c", Insight: engine.Lookup(gbInvalid, "")},
		{Field: "d", Insight: engine.Lookup(gbVoIP, "")},
	}
	d, err := set.Routes[0].Decide(&Request{}, numbers)
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != Reject || d.Number.Field != "c" || d.Numbers != 4 {
		t.Errorf("got %s by %q of %d, want reject by c of 4", d.Action, d.Number.Field, d.Numbers)
	}
	d, _ = set.Routes[0].Decide(&Request{}, numbers[:2])
	if d.Action != Tag || d.Number.Field != "b" {
		t.Errorf("got %s by %q, want tag by b", d.Action, d.Number.Field)
	}
}

func TestRulesReadTheRequest(t *testing.T) {
	engine := insight.New(insight.Options{})
	set, err := Compile(Source{Name: "p.yaml", Data: []byte(`version: 1
routes:
  - {name: r, policy: p}
policies:
  - name: p
    rules:
      - when: request.headers["x-tenant"] == "blocked" && insight.country.iso2 == "GB"
        action: reject
        status: 451
`)})
	if err != nil {
		t.Fatal(err)
	}
	num := []Number{{Field: "phone", Insight: engine.Lookup(gbMobile, "")}}
	d, err := set.Routes[0].Decide(&Request{Headers: map[string]string{"x-tenant": "blocked"}}, num)
	if err != nil || d.Action != Reject || d.Status != 451 || d.Rule != "rule 1" {
		t.Errorf("got %+v, %v; want reject 451 by rule 1", d, err)
	}
	d, err = set.Routes[0].Decide(&Request{Headers: map[string]string{"x-tenant": "ok"}}, num)
	if err != nil || d.Action != Allow || d.Reason != ReasonNoRule {
		t.Errorf("got %+v, %v; want allow with no rule", d, err)
	}
}

func TestAbsentHeaderReadsEmpty(t *testing.T) {
	engine := insight.New(insight.Options{})
	set, err := Compile(Source{Name: "p.yaml", Data: []byte(`version: 1
routes:
  - {name: r, policy: p}
policies:
  - name: p
    rules:
      - name: tier
        when: request.headers["x-tier"] == "blocked"
        action: reject
      - name: sent
        when: '"x-tier" in request.headers'
        action: tag
`)})
	if err != nil {
		t.Fatal(err)
	}
	num := []Number{{Insight: engine.Lookup(gbMobile, "")}}
	if d, err := set.Routes[0].Decide(&Request{Headers: map[string]string{}}, num); err != nil || d.Action != Allow {
		t.Errorf("absent header: %+v, %v; want allow, no fault", d, err)
	}
	if d, err := set.Routes[0].Decide(&Request{Headers: map[string]string{"x-tier": ""}}, num); err != nil || d.Rule != "sent" {
		t.Errorf("empty header: %+v, %v; want rule sent", d, err)
	}
}

// TestRuleErrorIsNotADecision: a rule that still fails at run time (an index
// past the end of a list) is an error naming the policy, rule and kind, never
// the values it read.
func TestRuleErrorIsNotADecision(t *testing.T) {
	engine := insight.New(insight.Options{})
	set, err := Compile(Source{Name: "p.yaml", Data: []byte(`version: 1
routes:
  - {name: r, policy: p}
policies:
  - name: p
    rules:
      - name: first-warning
        when: insight.warnings[0].risk == "X"
        action: reject
      - name: as-int
        when: timestamp(insight.international) > timestamp("2020-01-01T00:00:00Z")
        action: reject
`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = set.Routes[0].Decide(&Request{Headers: map[string]string{}}, []Number{{Insight: engine.Lookup(gbMobile, "")}})
	var re *RuleError
	if !errors.As(err, &re) || re.Rule != "first-warning" || re.Policy != "p" {
		t.Fatalf("got %v, want a RuleError of rule first-warning", err)
	}
	set.Routes[0].Policy.Rules = set.Routes[0].Policy.Rules[1:]
	_, err = set.Routes[0].Decide(&Request{}, []Number{{Insight: engine.Lookup("+447400123456", "")}})
	if err == nil || strings.Contains(err.Error(), "7400") {
		t.Errorf("got %v, want an error that does not quote the number", err)
	}
}

// TestCELExtensions: the libraries Kubernetes enables are there: strings,
// lists, sets, and IP and CIDR functions over request.client_ip.
func TestCELExtensions(t *testing.T) {
	engine := insight.New(insight.Options{})
	set, err := Compile(Source{Name: "p.yaml", Data: []byte(`version: 1
routes:
  - {name: r, policy: p}
policies:
  - name: p
    rules:
      - name: office
        when: isIP(request.client_ip) && cidr("203.0.113.0/24").containsIP(request.client_ip)
        action: allow
      - name: partner
        when: request.headers["x-partner"].lowerAscii().split(",").exists(p, p.trim() == "acme")
        action: tag
        tags: [partner]
      - name: eu
        when: sets.intersects([insight.country.iso2], ["FR", "DE", "ES"])
        action: tag
        tags: [eu]
`)})
	if err != nil {
		t.Fatal(err)
	}
	fr := []Number{{Insight: engine.Lookup("+33612345678", "")}}
	for _, tt := range []struct {
		req  Request
		rule string
	}{
		{Request{ClientIP: "203.0.113.9"}, "office"},
		{Request{ClientIP: "198.51.100.1", Headers: map[string]string{"x-partner": "Globex, ACME"}}, "partner"},
		{Request{ClientIP: ""}, "eu"},
	} {
		d, err := set.Routes[0].Decide(&tt.req, fr)
		if err != nil || d.Rule != tt.rule {
			t.Errorf("%+v: rule %q, %v; want %q", tt.req, d.Rule, err, tt.rule)
		}
	}
}

// TestOTPSendPreset: the otp-send preset on the number's facts and on this
// request's velocity, as filter gives it.
func TestOTPSendPreset(t *testing.T) {
	engine := insight.New(insight.Options{})
	set, err := Compile(Source{Name: "p.yaml", Data: []byte("version: 1\nroutes:\n  - {name: otp, policy: otp-send}\n")})
	if err != nil {
		t.Fatal(err)
	}
	calm := insight.Velocity{Seen: 1, DistinctIPs: 1, DistinctNetworks: 1, RangeSeen: 1, RangeNumbers: 1, IPNumbers: 1, NetworkNumbers: 1, CountrySeen: 1, Window: "10m0s", Source: insight.SourceLocal}
	with := func(f func(v *insight.Velocity)) insight.Velocity { v := calm; f(&v); return v }
	for _, tt := range []struct {
		name, number string
		velocity     insight.Velocity
		action       Action
		tags         []string
	}{
		{"a mobile, calm", gbMobile, calm, Allow, nil},
		{"invalid", gbInvalid, calm, Reject, []string{"invalid"}},
		{"premium rate (FR 089)", "+33899123456", calm, Reject, []string{"toll-fraud"}},
		{"shared cost (FR 0810)", "+33810123456", calm, Reject, []string{"toll-fraud"}},
		{"fictitious (Ofcom drama)", "+442079460123", calm, Reject, []string{"toll-fraud"}},
		{"the tenth number of a range", gbMobile, with(func(v *insight.Velocity) { v.RangeNumbers = 10 }), Reject, []string{"sms-pumping"}},
		{"the ninth number of a range", gbMobile, with(func(v *insight.Velocity) { v.RangeNumbers = 9 }), Tag, []string{"pumping-suspect"}},
		{"the twentieth number from an address", gbMobile, with(func(v *insight.Velocity) { v.IPNumbers = 20 }), Reject, []string{"sms-pumping"}},
		{"five numbers from an address", gbMobile, with(func(v *insight.Velocity) { v.IPNumbers = 5 }), Tag, []string{"pumping-suspect"}},
		{"a busy network", gbMobile, with(func(v *insight.Velocity) { v.NetworkNumbers = 20 }), Tag, []string{"pumping-suspect"}},
		{"recent abuse", gbMobile, with(func(v *insight.Velocity) { v.Seen, v.RecentAbuse = 20, true }), Tag, []string{"pumping-suspect"}},
		{"toll free cannot get a text", "+448001234567", calm, Tag, []string{"no-sms"}},
		{"uncertain (UAN)", gbUAN, calm, Tag, []string{"review"}},
		{"VoIP", gbVoIP, calm, Tag, []string{"review"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := &Request{Method: "POST", Path: "/otp/send"}
			route, _ := set.Route(req)
			v := tt.velocity
			in := engine.ForRequest(engine.Lookup(tt.number, ""), netip.Addr{}, &v)
			d, err := route.Decide(req, []Number{{Field: "phone", Insight: in}})
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.action || !slices.Equal(d.Tags, tt.tags) {
				t.Errorf("%s (%s, %s): got %s %v (rule %q), want %s %v", tt.number, in.LineType, in.Confidence, d.Action, d.Tags, d.Rule, tt.action, tt.tags)
			}
		})
	}
}
