package policy_test

import (
	"fmt"

	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/policy"
)

func Example() {
	set, err := policy.Compile(policy.Source{Name: "signup.yaml", Data: []byte(`
version: 1
routes:
  - name: signup
    match: {path: /signup, methods: [POST]}
    fields: [phone]
    policy: no-premium
policies:
  - name: no-premium
    rules:
      - when: insight.line_type == "premium_rate"
        action: reject
        status: 422
        message: premium-rate numbers cannot sign up
      - when: insight.confidence == "low"
        action: tag
        tags: [review]
`)})
	if err != nil {
		fmt.Println(err)
		return
	}
	engine := insight.New(insight.Options{})
	req := &policy.Request{Method: "POST", Path: "/signup"}
	route, _ := set.Route(req)
	for _, number := range []string{"+447400123456", "+44 56 1234 5678", "+33 8 99 12 34 56"} {
		d, _ := route.Decide(req, []policy.Number{{Field: "phone", Insight: engine.Lookup(number, "")}})
		fmt.Println(number, d.Action, d.Tags, d.Status)
	}
	// Output:
	// +447400123456 allow [] 0
	// +44 56 1234 5678 tag [review] 0
	// +33 8 99 12 34 56 reject [] 422
}

func ExampleCompile_errors() {
	_, err := policy.Compile(policy.Source{Name: "signup.yaml", Data: []byte(`
version: 1
routes:
  - name: signup
    policy: strict
    colour: blue
`)})
	for _, e := range policy.Errors(err) {
		fmt.Println(e)
	}
	// Output:
	// signup.yaml:6:5: unknown key "colour" in route: want one of name, match, fields, region, policy, dry_run, denial_details, metadata_signals, metadata_details, content_type_mismatch, on_no_number, on_partial_body, on_unparsable_body
	// signup.yaml:5:13: route "signup" names policy "strict", which is not defined: want one of enrichment, high-trust, otp-send, standard
}
