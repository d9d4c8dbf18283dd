package filter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
)

// clientPhoneHeaders is the oracle for the x-phone-* headers a client sent:
// the names of the headers Envoy's CheckRequest carries (headers, or
// header_map when headers is empty, as view reads them), lower-cased as
// Envoy's LowerCaseString does (ASCII only), whose first eight bytes are
// "x-phone-" in any ASCII case.
func clientPhoneHeaders(cr *authv3.CheckRequest) []string {
	h := cr.GetAttributes().GetRequest().GetHttp()
	var names []string
	if len(h.GetHeaders()) > 0 {
		for k := range h.GetHeaders() {
			names = append(names, k)
		}
	} else {
		for _, hv := range h.GetHeaderMap().GetHeaders() {
			names = append(names, hv.GetKey())
		}
	}
	var out []string
	for _, n := range names {
		lower := []byte(n)
		for i, c := range lower {
			if 'A' <= c && c <= 'Z' {
				lower[i] = c + 'a' - 'A'
			}
		}
		if strings.HasPrefix(string(lower), HeaderPrefix) && !slices.Contains(out, string(lower)) {
			out = append(out, string(lower))
		}
	}
	slices.Sort(out)
	return out
}

// assertNoSpoofEscapes: every client-sent x-phone-* header is either
// removed or overwritten by phonegate, and phonegate never removes one it
// sets (or one the client did not send).
func assertNoSpoofEscapes(t *testing.T, what string, cr *authv3.CheckRequest, resp *authv3.CheckResponse) {
	t.Helper()
	sent := clientPhoneHeaders(cr)
	ok := resp.GetOkResponse()
	set := map[string]bool{}
	for _, h := range ok.GetHeaders() {
		set[h.GetHeader().GetKey()] = true
	}
	removed := ok.GetHeadersToRemove()
	if resp.GetDeniedResponse() != nil {
		return // refused: nothing reaches the upstream
	}
	for _, name := range sent {
		if !set[name] && !slices.Contains(removed, name) {
			t.Errorf("%s: client header %q neither removed nor overwritten (removed %v)", what, name, removed)
		}
	}
	for _, name := range removed {
		if set[name] || !slices.Contains(sent, name) {
			t.Errorf("%s: removes %q (set by phonegate %v, sent by the client %v)", what, name, set[name], sent)
		}
	}
}

// headerMapCheck is check with its headers moved to header_map, as Envoy
// sends them with encode_raw_headers: true (raw_value, not value), plus
// extra fields appended in order.
func headerMapCheck(cr *authv3.CheckRequest, extra ...*corev3.HeaderValue) *authv3.CheckRequest {
	h := cr.GetAttributes().GetRequest().GetHttp()
	hm := &corev3.HeaderMap{}
	keys := make([]string, 0, len(h.Headers))
	for k := range h.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: k, RawValue: []byte(h.Headers[k])})
	}
	hm.Headers = append(hm.Headers, extra...)
	h.Headers, h.HeaderMap = nil, hm
	return cr
}

// TestSpoofedHeadersEscapeNoReader: over real gRPC and through Check in
// process, for the ways a CheckRequest can carry a client's x-phone-*
// headers (headers in any case, header_map with repeats and case variants,
// both fields sent, a matched route, an unmatched one, a rejection), every
// one is removed or overwritten. The requests alternate with ones carrying
// none, so a pooled request's note of an earlier one would show.
func TestSpoofedHeadersEscapeNoReader(t *testing.T) {
	r := start(t, mustCompile(t, testPolicy))
	ctx := context.Background()
	allowed, rejected := `{"phone":"+44 7400 123456"}`, `{"phone":"555-0100"}`
	cases := []struct {
		name string
		cr   func() *authv3.CheckRequest
	}{
		{"headers, mixed case", func() *authv3.CheckRequest {
			return envoyCheck("POST", "/signup", "application/json", allowed,
				map[string]string{"X-PHONE-VERIFIED": "yes", "x-Phone-E164": "+1", "x-phone-decision": "allow"})
		}},
		{"headers, unmatched route", func() *authv3.CheckRequest {
			return envoyCheck("GET", "/profile", "", "", map[string]string{"X-Phone-Trust": "high"})
		}},
		{"headers, rejected", func() *authv3.CheckRequest {
			return envoyCheck("POST", "/signup", "application/json", rejected, map[string]string{"x-phone-trust": "high"})
		}},
		{"header_map, repeated and case variants", func() *authv3.CheckRequest {
			return headerMapCheck(envoyCheck("POST", "/signup", "application/json", allowed, nil),
				&corev3.HeaderValue{Key: "x-phone-verified", RawValue: []byte("yes")},
				&corev3.HeaderValue{Key: "X-Phone-Verified", Value: "again"},
				&corev3.HeaderValue{Key: "X-PHONE-TRUST", RawValue: []byte("high")},
				&corev3.HeaderValue{Key: "x-phone-e164", RawValue: []byte("+1")})
		}},
		{"header_map, unmatched route", func() *authv3.CheckRequest {
			return headerMapCheck(envoyCheck("GET", "/profile", "", "", nil),
				&corev3.HeaderValue{Key: "X-Phone-Decision", RawValue: []byte("allow")})
		}},
		{"header_map, only the last entry is one", func() *authv3.CheckRequest {
			cr := headerMapCheck(envoyCheck("POST", "/signup", "application/json", allowed, nil))
			hm := cr.Attributes.Request.Http.HeaderMap
			hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: "x-phone-last", RawValue: []byte("1")})
			return cr
		}},
		{"headers without one, header_map with one", func() *authv3.CheckRequest {
			// Envoy sends one or the other; with both, headers are what
			// phonegate reads (as before the note), and what it cleans.
			cr := envoyCheck("POST", "/signup", "application/json", allowed, map[string]string{"x-phone-a": "1"})
			cr.Attributes.Request.Http.HeaderMap = &corev3.HeaderMap{Headers: []*corev3.HeaderValue{{Key: "x-phone-b", Value: "1"}}}
			return cr
		}},
		{"headers, non-ASCII letters lower-case into ASCII", func() *authv3.CheckRequest {
			// U+212A KELVIN SIGN lower-cases (strings.ToLower) to "k"; Envoy
			// lower-cases ASCII only, so "x-phone-k" is another header.
			return envoyCheck("POST", "/signup", "application/json", allowed, map[string]string{"x-phone-\u212a": "1", "X-Phone-\u212aX": "1"})
		}},
		{"header_map, non-ASCII letters lower-case into ASCII", func() *authv3.CheckRequest {
			return headerMapCheck(envoyCheck("POST", "/signup", "application/json", allowed, nil),
				&corev3.HeaderValue{Key: "x-phone-\u212a", RawValue: []byte("1")})
		}},
		{"no x-phone header", func() *authv3.CheckRequest {
			return envoyCheck("POST", "/signup", "application/json", allowed, map[string]string{"x-phonex": "1", "phone": "x"})
		}},
		{"header_map without one", func() *authv3.CheckRequest {
			return headerMapCheck(envoyCheck("POST", "/signup", "application/json", allowed, map[string]string{"x-phon": "1"}))
		}},
	}
	clean := func() *authv3.CheckRequest { return envoyCheck("POST", "/signup", "application/json", allowed, nil) }
	for round := range 3 {
		for _, tc := range cases {
			for _, cr := range []*authv3.CheckRequest{tc.cr(), clean(), tc.cr()} {
				what := fmt.Sprintf("round %d, %s, gRPC", round, tc.name)
				resp, err := r.auth.Check(ctx, cr)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				assertNoSpoofEscapes(t, what, cr, resp)
				resp, err = r.srv.Check(ctx, cr)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				assertNoSpoofEscapes(t, strings.Replace(what, "gRPC", "in process", 1), cr, resp)
			}
		}
	}
}

// TestPooledRequestsDoNotMix: concurrent checks over real gRPC, each with
// x-phone-* headers (or none) of its own, names unique to the check: each
// response removes exactly its own request's, never another's, whatever
// request its pooled map last held.
func TestPooledRequestsDoNotMix(t *testing.T) {
	r := start(t, mustCompile(t, testPolicy))
	ctx := context.Background()
	const workers, each = 8, 150
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(g), 14))
			for i := range each {
				extra := map[string]string{}
				var want []string
				for j := range rnd.IntN(3) {
					name := fmt.Sprintf("x-phone-w%d-c%d-h%d", g, i, j)
					if rnd.IntN(2) == 0 {
						name = strings.ToUpper(name)
					}
					extra[name] = "1"
					want = append(want, strings.ToLower(name))
				}
				for j := range rnd.IntN(20) { // other headers, to grow the pooled maps
					extra[fmt.Sprintf("x-other-%d", j)] = "v"
				}
				slices.Sort(want)
				cr := envoyCheck("POST", "/signup", "application/json", `{"phone":"+44 7400 123456"}`, extra)
				if rnd.IntN(4) == 0 { // unmatched
					cr.Attributes.Request.Http.Method, cr.Attributes.Request.Http.Headers[":method"] = "GET", "GET"
				}
				if rnd.IntN(3) == 0 {
					cr = headerMapCheck(cr)
				}
				resp, err := r.auth.Check(ctx, cr)
				if err != nil {
					errs <- err.Error()
					return
				}
				if got := resp.GetOkResponse().GetHeadersToRemove(); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
					errs <- fmt.Sprintf("worker %d check %d: removed %v, want %v", g, i, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
