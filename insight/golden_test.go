package insight

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestInsightJSONGolden pins the JSON insight, the contract `lookup`,
// /v1/insight and the policies' `insight` share (DESIGN.md): a change to a
// field's name, type or meaning shows up here. Run with -update to accept one
// on purpose, and read the diff.
func TestInsightJSONGolden(t *testing.T) {
	e := New(Options{GeoIP: fakeGeo{"8.8.8.8": "US"}})
	var out []*Insight
	for _, n := range []struct{ input, region string }{
		{"07400 123456", "GB"},     // a verified mobile, carrier known
		{"(650) 253-0000", "US"},   // fixed_line_or_mobile
		{"+44 56 1234 5678", ""},   // VoIP
		{"+447520501234", ""},      // a disposable-number provider's range
		{"+1 201 555 0123", ""},    // fictitious, valid to libphonenumber
		{"+883 510 012345678", ""}, // non-geographic, disposable prefix
		{"+33 8 99 12 34 56", ""},  // premium rate
		{"+44 7700 900", ""},       // invalid
		{"not a number", "US"},     // does not parse
	} {
		out = append(out, e.Lookup(n.input, n.region))
	}
	v := Velocity{Seen: 6, DistinctIPs: 5, DistinctNetworks: 5, Window: "10m0s", RecentAbuse: true}
	out = append(out, e.ForRequest(e.Lookup("+447400123456", ""), netip.MustParseAddr("8.8.8.8"), &v))

	var got bytes.Buffer
	enc := json.NewEncoder(&got)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", "insights.json")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./insight -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("the JSON insight changed; if on purpose, run go test ./insight -run Golden -update and review the diff.\ngot:\n%s", got.Bytes())
	}
}
