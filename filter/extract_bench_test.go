package filter

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/policy"
)

// BenchmarkExtract is the extraction step of one check alone, in process:
// what decide runs before the engine (decodeBody, readBody, regionHint,
// extract with the default policy's route, the tree released), over bodies
// of the shapes signup APIs send. Each body comes in 1,000 variants with
// distinct numbers, cycled, as a signup API sees them.
//
//	json-signup   signupBody(): 1 KiB of JSON, one phone key in a nested profile
//	json-nested   testdata/bodies/shopify-customer-create-1.txt: phone keys at two depths, one in an array of addresses
//	json-cognito  testdata/bodies/cognito-signup-1.txt: {"Name": "phone_number", "Value": ...} attributes
//	form          testdata/bodies/stripe-customer-create-1.txt: form-urlencoded with bracketed names
//	graphql       testdata/bodies/shopify-storefront-customer-create-1.txt: a GraphQL mutation over JSON, with variables
func BenchmarkExtract(b *testing.B) {
	set, err := policy.Default()
	if err != nil {
		b.Fatal(err)
	}
	corpus := map[string]corpusCase{}
	for _, c := range loadCorpus(b) {
		corpus[c.file] = c
	}
	signup := corpusCase{path: "/signup", contentType: "application/json", body: signupBody()}
	for _, bc := range []struct {
		name string
		c    corpusCase
	}{
		{"json-signup", signup},
		{"json-nested", corpus["shopify-customer-create-1.txt"]},
		{"json-cognito", corpus["cognito-signup-1.txt"]},
		{"form", corpus["stripe-customer-create-1.txt"]},
		{"graphql", corpus["shopify-storefront-customer-create-1.txt"]},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.c.body == "" {
				b.Fatalf("no corpus body for %s", bc.name)
			}
			reqs := distinctBodies(bc.c, 1000)
			route, err := set.Route(reqs[0])
			if err != nil || route == nil {
				b.Fatalf("route: %v %v", route, err)
			}
			// Every variant yields what the first does, with its own number.
			want := -1
			for _, req := range reqs {
				got, err := extractStep(req, route)
				if err != nil {
					b.Fatal(err)
				}
				if want < 0 {
					want = len(got)
				}
				if len(got) != want || want == 0 {
					b.Fatalf("%d values found, want %d (and at least one)", len(got), want)
				}
			}
			b.SetBytes(int64(len(bc.c.body)))
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				if _, err := extractStep(reqs[i%len(reqs)], route); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// extractStep is decide's extraction, as check.go runs it.
func extractStep(req *policy.Request, route *policy.Route) ([]found, error) {
	raw, err := decodeBody(req, 0)
	if err != nil {
		return nil, err
	}
	b, err := readBody(req.ContentType, raw, route.ContentTypeMismatch)
	if b != nil {
		defer func() { b.tree.release() }()
	}
	if err != nil {
		return nil, err
	}
	return extract(b, route.Fields, regionHint(req, b, route.Region))
}

// longDigits are the runs of digits long enough to be a phone number's, in a
// body as written (a form's %2B prefix is not part of one).
var longDigits = regexp.MustCompile(`[0-9]{7,}`)

// distinctBodies are n requests of c's shape whose numbers differ: the last
// five digits of every run of seven or more are the variant's.
func distinctBodies(c corpusCase, n int) []*policy.Request {
	reqs := make([]*policy.Request, n)
	for i := range reqs {
		tail := fmt.Sprintf("%05d", 10000+i*89)
		body := longDigits.ReplaceAllStringFunc(c.body, func(run string) string {
			return run[:len(run)-len(tail)] + tail
		})
		if c.body == signupBody() {
			body = strings.Replace(c.body, "+44 7400 123456", fmt.Sprintf("+44 7400 %06d", 100000+i*97), 1)
		}
		reqs[i] = &policy.Request{
			Method:      "POST",
			Path:        c.path,
			Host:        "signup.example.com",
			Headers:     map[string]string{"content-type": c.contentType},
			ContentType: c.contentType,
			Body:        []byte(body),
			ClientIP:    "198.51.100.7",
		}
	}
	return reqs
}
