package policy

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/phonegate/phonegate/insight"
)

func TestRouteMatching(t *testing.T) {
	set, err := Compile(Source{Name: "p.yaml", Data: []byte(`version: 1
routes:
  - {name: exact, policy: standard, match: {path: /signup, methods: [POST]}}
  - {name: regex, policy: standard, match: {path_regex: "/v[0-9]+/users/[^/]+/phone"}}
  - {name: wildcard-host, policy: standard, match: {host: "*.example.com", path_prefix: /api/}}
  - {name: host, policy: standard, match: {host: Signup.Example.ORG}}
`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		method, path, host, want string
	}{
		{"POST", "/signup", "a.example.net", "exact"},
		{"PUT", "/signup", "a.example.net", ""},
		{"PUT", "/v2/users/42/phone", "x", "regex"},
		{"PUT", "/v2/users/42/phone/extra", "x", ""}, // the regex matches the whole path
		{"GET", "/api/x", "eu.example.com:8443", "wildcard-host"},
		{"GET", "/api/x", "example.com", ""}, // a wildcard needs a label before it
		{"GET", "/any", "signup.example.org", "host"},
	} {
		r, err := set.Route(&Request{Method: tt.method, Path: tt.path, Host: tt.host})
		got := ""
		if r != nil {
			got = r.Name
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %s (host %s): route %q, %v; want %q", tt.method, tt.path, tt.host, got, err, tt.want)
		}
	}
}

func TestRegionHintsAndDryRun(t *testing.T) {
	set, err := Compile(Source{Name: "p.yaml", Data: []byte(`version: 1
routes:
  - {name: fixed, policy: standard, region: gb, dry_run: true}
  - {name: header, policy: standard, region: {header: CF-IPCountry, default: US}}
  - {name: field, policy: standard, region: {field: address.country}}
`)})
	if err != nil {
		t.Fatal(err)
	}
	want := []RegionHint{{Fixed: "GB"}, {Header: "cf-ipcountry", Fixed: "US"}, {Field: &Field{Path: "address.country", Keys: []string{"address", "country"}}}}
	for i, r := range set.Routes {
		if !reflect.DeepEqual(r.Region, want[i]) {
			t.Errorf("route %s: region %+v, want %+v", r.Name, r.Region, want[i])
		}
	}
	if !set.Routes[0].DryRun || set.Routes[1].DryRun {
		t.Error("dry_run not read")
	}
}

func TestDataSection(t *testing.T) {
	set, err := Compile(
		Source{Name: "a.yaml", Data: []byte(`version: 1
data:
  disposable_prefixes:
    - "+44 7400"
    - {prefix: "+3361234", source: seen on receive-SMS sites}
  carriers:
    - {name: Lycamobile, label: uncertain}
    - {name: Esendex, label: likely, disposable: false, source: our own SMS provider}
    - {name: Acme Numbers, label: uncertain, virtual: true}
  country_caps:
    - {region: ng, cap: uncertain}
  receive_sms:
    max_age: 730d
    exempt: ["+44 7304 250183", {prefix: "+3584573998", source: reassigned per ticket 7}]
`)},
		Source{Name: "b.yaml", Data: []byte("version: 1\ndata:\n  fictitious_prefixes: [\"+15550100\"]\n")},
	)
	if err != nil {
		t.Fatal(err)
	}
	d := set.Data
	if d == nil || len(d.DisposablePrefixes) != 2 || len(d.Carriers) != 3 || len(d.CountryCaps) != 1 || len(d.Fictitious) != 1 {
		t.Fatalf("data %+v", d)
	}
	if d.DisposablePrefixes[0] != (insight.PrefixEntry{Prefix: "+447400", Source: "policy a.yaml:4"}) ||
		d.DisposablePrefixes[1].Source != "seen on receive-SMS sites" {
		t.Errorf("prefixes %+v", d.DisposablePrefixes)
	}
	if d.Carriers[1] != (insight.CarrierProfile{Name: "Esendex", Label: insight.Likely, Source: "our own SMS provider"}) {
		t.Errorf("carrier %+v", d.Carriers[1])
	}
	if !d.Carriers[2].Virtual || d.Carriers[2].Disposable {
		t.Errorf("virtual carrier %+v", d.Carriers[2])
	}
	if d.ReceiveSMSMaxAge != 730*24*time.Hour || len(d.ReceiveSMSExempt) != 2 || d.ReceiveSMSExempt[0].Prefix != "+447304250183" ||
		d.ReceiveSMSExempt[1].Source != "reassigned per ticket 7" {
		t.Errorf("receive_sms: max_age %s, exempt %+v", d.ReceiveSMSMaxAge, d.ReceiveSMSExempt)
	}
	if d.CountryCaps[0].Region != "NG" || d.CountryCaps[0].Cap != insight.Uncertain {
		t.Errorf("cap %+v", d.CountryCaps[0])
	}
	if none, _ := Compile(Source{Name: "c.yaml", Data: []byte("version: 1\n")}); none.Data != nil {
		t.Error("a set without data sections has Data")
	}
}

func TestSchemaErrors(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"version: 1\nroutes:\n  - {name: a, policy: standard, match: {path_regex: \"(\"}}\n", `p.yaml:3:53: path_regex "(": missing closing )`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, match: {path: /a, path_prefix: /b}}\n", `p.yaml:3:40: match has path and path_prefix: use one of path, path_prefix or path_regex`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, match: {host: \"a.*.com\"}}\n", `p.yaml:3:47: host "a.*.com": a wildcard may only lead`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, region: USA}\n", `p.yaml:3:41: region "USA" is not an ISO 3166-1 alpha-2 region that libphonenumber knows`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, region: UK}\n", `p.yaml:3:41: region "UK" is not an ISO 3166-1 alpha-2 code: did you mean GB?`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, region: {header: x, default: XX}}\n", `p.yaml:3:62: region "XX" is not an ISO 3166-1 alpha-2 region`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, fields: [$.phone]}\n", `p.yaml:3:42: field "$.phone": paths start at the top of the body without JSONPath's $, as in "phone"`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, fields: [contacts.*.phone]}\n", `p.yaml:3:42: field "contacts.*.phone": * is not a key; mark an array with [*]`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, fields: [\"contacts[0].phone\"]}\n", `p.yaml:3:42: field "contacts[0].phone": only [*] may follow a key`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, fields: [user..phone]}\n", `p.yaml:3:42: field "user..phone": empty key`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, fields: [\"user phone\"]}\n", `p.yaml:3:42: field "user phone": " " cannot be in a key`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, fields: []}\n", `p.yaml:3:41: fields is empty`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, region: {field: auto}}\n", `p.yaml:3:49: region field: name the key that holds the country`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, match: {path: /api//register}}\n", `p.yaml:3:47: path "/api//register" is matched as requests are, normalized: write "/api/register"`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, match: {path_prefix: /api/./x}}\n", `p.yaml:3:54: path "/api/./x" is matched as requests are, normalized: write "/api/x"`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, region: {header: x, field: y}}\n", `p.yaml:3:41: region takes its hint from a header or a field, not both`},
		{"version: 1\nroutes:\n  - {name: a, policy: standard, dry_run: yes}\n", `p.yaml:3:42: want true or false, got the string "yes"`},
		{"version: 1\ndata:\n  disposable_prefixes: [\"447400\"]\n", `p.yaml:3:25: prefix "447400": want + and 1 to 15 digits`},
		{"version: 1\ndata:\n  carriers: [{name: X, label: trusted}]\n", `p.yaml:3:31: unknown confidence "trusted": want one of verified, likely, uncertain, low, invalid`},
		{"version: 1\ndata:\n  carriers: [{name: X}]\n", `p.yaml:3:14: carrier needs name and label`},
		{"version: 1\nvelocity: {window: 10ms}\n", `p.yaml:2:20: window 10ms: want at least 1s`},
		{"version: 1\nvelocity: {range_digits: 9}\n", `p.yaml:2:26: range_digits 9: want 1 to 8`},
		{"version: 1\nvelocity: {recent_abuse: {distinct_ips: 40}}\n", `p.yaml:2:41: distinct_ips 40: want 1 to 16`},
		{"version: 1\ndata:\n  blocklist: []\n", `p.yaml:3:3: unknown key "blocklist" in data: want one of disposable_prefixes, fictitious_prefixes, carriers, country_caps, receive_sms`},
		{"version: 1\ndata:\n  receive_sms: {max_age: 12h}\n", `p.yaml:3:26: max_age "12h": want at least 1d`},
		{"version: 1\ndata:\n  receive_sms: {max_age: 1y}\n", `p.yaml:3:26: duration "1y": want a number and a unit, such as 10m or 90s`},
		{"version: 1\ndata:\n  receive_sms: {max_age: xd}\n", `p.yaml:3:26: duration "xd": want a whole number of days, such as 365d`},
	} {
		_, err := Compile(Source{Name: "p.yaml", Data: []byte(tt.yaml)})
		list := Errors(err)
		if len(list) != 1 || !strings.HasPrefix(list[0].Error(), tt.want) {
			t.Errorf("%q:\n got %v\nwant %s", tt.yaml, err, tt.want)
		}
	}
}
