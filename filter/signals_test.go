package filter

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
)

// TestVelocityRule: the same number from five networks within the window is
// refused by a rule reading insight.velocity; the first four pass and carry
// the counts in the metadata (the route sets metadata_signals).
func TestVelocityRule(t *testing.T) {
	r := start(t, mustCompile(t, `
version: 1
velocity:
  window: 10m
  recent_abuse: {distinct_networks: 5}
routes:
  - {name: signup, policy: p, metadata_signals: true}
policies:
  - name: p
    rules:
      - when: insight.velocity.distinct_networks >= 5
        action: reject
        message: this number is being used from too many places
`))
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		xff := fmt.Sprintf("8.8.%d.8", i) // five /24 networks
		resp, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"phone":"+447400123456"}`, map[string]string{"x-forwarded-for": xff}))
		if err != nil {
			t.Fatal(err)
		}
		md := resp.GetDynamicMetadata().AsMap()
		if md["seen"] != float64(i) {
			t.Errorf("check %d: seen %v", i, md["seen"])
		}
		rejected := codes.Code(resp.GetStatus().GetCode()) == codes.PermissionDenied
		if rejected != (i == 5) {
			t.Fatalf("check %d from %s: rejected=%v", i, xff, rejected)
		}
		if (md["recent_abuse"] == true) != (i == 5) {
			t.Errorf("check %d: recent_abuse %v", i, md["recent_abuse"])
		}
	}
	// Another number is unaffected.
	resp, err := r.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", `{"phone":"+33612345678"}`, map[string]string{"x-forwarded-for": "8.8.9.8"}))
	if err != nil || codes.Code(resp.GetStatus().GetCode()) != codes.OK {
		t.Errorf("another number: %v %v", resp.GetStatus(), err)
	}
}

// TestIPCountryRule: the client's address (x-forwarded-for, placed by the
// embedded table) against the number's country, as a rule and the
// metadata (the route sets metadata_signals) read it.
func TestIPCountryRule(t *testing.T) {
	r := start(t, mustCompile(t, `
version: 1
routes:
  - {name: kyc, policy: p, metadata_signals: true}
policies:
  - name: p
    rules:
      - when: insight.ip.match == "mismatch"
        action: reject
        status: 403
`))
	for _, tt := range []struct {
		xff, ipMatch string
		rejected     bool
	}{
		{"81.2.69.160", "country", false}, // GB address, GB number
		{"8.8.8.8", "mismatch", true},     // US address
		{"10.0.0.7", "unknown", false},    // private: never a mismatch
	} {
		resp, err := r.auth.Check(context.Background(), envoyCheck("POST", "/kyc", "application/json", `{"phone":"+447400123456"}`, map[string]string{"x-forwarded-for": tt.xff}))
		if err != nil {
			t.Fatal(err)
		}
		if md := resp.GetDynamicMetadata().AsMap(); md["ip_match"] != tt.ipMatch {
			t.Errorf("%s: ip_match %v, want %s", tt.xff, md["ip_match"], tt.ipMatch)
		}
		if rejected := codes.Code(resp.GetStatus().GetCode()) == codes.PermissionDenied; rejected != tt.rejected {
			t.Errorf("%s: rejected=%v", tt.xff, rejected)
		}
	}
}
