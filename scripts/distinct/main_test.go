package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/phonegate/phonegate/insight"
)

// TestWriteIsDistinctSignups reads back what write gives ghz: a JSON array
// (ghz's test for one: the first byte is '['), with no "{{" (ghz would
// execute the data as a Go template and stop caching its messages), of n
// CheckRequests that protojson unmarshals, each with its own number, valid
// in its locale's country, its own x-request-id and its own source address.
// n is above phonegate's default cache size, as compare.sh --distinct 8000
// is near it.
func TestWriteIsDistinctSignups(t *testing.T) {
	const n = insight.DefaultCacheSize + 100
	var buf bytes.Buffer
	if err := write(&buf, n); err != nil {
		t.Fatal(err)
	}
	if buf.Bytes()[0] != '[' {
		t.Fatalf("output starts with %q, not '[': ghz would read one message", buf.Bytes()[0])
	}
	if bytes.Contains(buf.Bytes(), []byte("{{")) {
		t.Fatal(`output has "{{": ghz would run it as a template`)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &elems); err != nil {
		t.Fatal(err)
	}
	if len(elems) != n {
		t.Fatalf("%d requests, want %d", len(elems), n)
	}
	engine := insight.New(insight.Options{CacheSize: -1})
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	bench := netip.MustParsePrefix("198.18.0.0/15")
	numbers, ids, addrs := map[string]int{}, map[string]int{}, map[string]int{}
	countries := map[string]int{}
	for i, e := range elems {
		var req authv3.CheckRequest
		if err := protojson.Unmarshal(e, &req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		http := req.GetAttributes().GetRequest().GetHttp()
		var body struct {
			Profile struct{ Locale, Phone string }
		}
		if err := json.Unmarshal([]byte(http.GetBody()), &body); err != nil {
			t.Fatalf("request %d: body %q: %v", i, http.GetBody(), err)
		}
		in := engine.Lookup(body.Profile.Phone, "")
		if !in.Valid || in.LineType != insight.Mobile && in.LineType != insight.FixedLineOrMobile ||
			in.IsDisposable || in.IsFictitious || in.Confidence != insight.Verified && in.Confidence != insight.Likely {
			t.Errorf("request %d: %q is valid=%v %s %s disposable=%v fictitious=%v: not a plain mobile",
				i, body.Profile.Phone, in.Valid, in.LineType, in.Confidence, in.IsDisposable, in.IsFictitious)
		}
		if _, region, _ := strings.Cut(body.Profile.Locale, "-"); in.Country.ISO2 != region {
			t.Errorf("request %d: %q is of %q, its locale %q", i, body.Profile.Phone, in.Country.ISO2, body.Profile.Locale)
		}
		countries[in.Country.ISO2]++
		if j, ok := numbers[in.E164]; ok {
			t.Errorf("requests %d and %d have the number %s", j, i, in.E164)
		}
		numbers[in.E164] = i
		id := http.GetHeaders()["x-request-id"]
		if !uuid.MatchString(id) {
			t.Errorf("request %d: x-request-id %q is not a version 4 UUID's form", i, id)
		}
		if j, ok := ids[id]; ok {
			t.Errorf("requests %d and %d have the x-request-id %s", j, i, id)
		}
		ids[id] = i
		a := req.GetAttributes().GetSource().GetAddress().GetSocketAddress().GetAddress()
		if ip, err := netip.ParseAddr(a); err != nil || !bench.Contains(ip) || ip == bench.Addr() {
			t.Errorf("request %d: source address %q is not a host of %s", i, a, bench)
		}
		if j, ok := addrs[a]; ok {
			t.Errorf("requests %d and %d come from %s", j, i, a)
		}
		addrs[a] = i
	}
	if len(countries) != 7 {
		t.Errorf("countries %v, want 7", countries)
	}
}

// TestRequestHasCheckJSONShape: but for what distinct changes, a request is
// filter/testdata/load/check.json, the request compare.sh sends by default.
func TestRequestHasCheckJSONShape(t *testing.T) {
	b, err := os.ReadFile("../../filter/testdata/load/check.json")
	if err != nil {
		t.Fatal(err)
	}
	var want authv3.CheckRequest
	if err := protojson.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	got := request(0)
	for _, r := range []*authv3.CheckRequest{got, &want} {
		r.Attributes.Source.Address.GetSocketAddress().Address = ""
		r.Attributes.Source.Address.GetSocketAddress().PortSpecifier = nil
		r.Attributes.Request.Http.Body = ""
		r.Attributes.Request.Http.Headers["x-request-id"] = ""
	}
	if !proto.Equal(got, &want) {
		t.Errorf("request(0) without its number, id and address:\n%v\ncheck.json's:\n%v", got, &want)
	}
}

// TestNumbersAreValidMobiles looks up every number write can give, up to
// maxN requests: each valid, a mobile (fixed_line_or_mobile in NANP),
// neither disposable nor fictitious, and all distinct.
func TestNumbersAreValidMobiles(t *testing.T) {
	engine := insight.New(insight.Options{CacheSize: -1})
	seen := make(map[string]bool, maxN)
	for i := range maxN {
		c := countries[i%len(countries)]
		number := c.number(i / len(countries))
		in := engine.Lookup(number, "")
		if !in.Valid || in.LineType != insight.Mobile && in.LineType != insight.FixedLineOrMobile ||
			in.IsDisposable || in.IsFictitious || !strings.HasSuffix(c.locale, "-"+in.Country.ISO2) {
			t.Fatalf("request %d: %q is valid=%v %s of %q disposable=%v fictitious=%v", i, number,
				in.Valid, in.LineType, in.Country.ISO2, in.IsDisposable, in.IsFictitious)
		}
		if seen[in.E164] {
			t.Fatalf("request %d: %s again", i, in.E164)
		}
		seen[in.E164] = true
	}
}

func TestWriteRefusesN(t *testing.T) {
	for _, n := range []int{0, -1, maxN + 1} {
		if err := write(&bytes.Buffer{}, n); err == nil {
			t.Errorf("write(%d) gave no error", n)
		}
	}
}
