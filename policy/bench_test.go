package policy

import (
	"testing"

	"github.com/phonegate/phonegate/insight"
)

// BenchmarkDecide evaluates the standard preset for one number whose insight
// is cached: the rules are compiled once at load, so this is CEL evaluation
// and the decision alone.
func BenchmarkDecide(b *testing.B) {
	set, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	route := set.Routes[0]
	engine := insight.New(insight.Options{})
	numbers := []Number{{Field: "phone", Insight: engine.Lookup("+445612345678", "")}} // VoIP: both rules run
	req := &Request{Method: "POST", Path: "/signup", Headers: map[string]string{"content-type": "application/json"}}
	b.ReportAllocs()
	for b.Loop() {
		if d, err := route.Decide(req, numbers); err != nil || d.Action != Tag {
			b.Fatal(d, err)
		}
	}
}
