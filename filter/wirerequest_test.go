package filter

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// wireAgrees checks that decodeCheckRequest reads b as proto.Unmarshal does:
// whenever protobuf-go decodes b into a CheckRequest, decodeCheckRequest
// decodes it too and the request policies read is the same. It reports
// whether protobuf-go decoded b.
func wireAgrees(t *testing.T, b []byte) bool {
	t.Helper()
	var cr authv3.CheckRequest
	if proto.Unmarshal(b, &cr) != nil {
		// Not a CheckRequest to protobuf-go: decodeCheckRequest may read it
		// (it checks no UTF-8) or not, but must not panic.
		decodeCheckRequest(bytes.Clone(b))
		return false
	}
	e, err := decodeCheckRequest(bytes.Clone(b))
	if err != nil {
		t.Fatalf("decodeCheckRequest(%x): %v; proto.Unmarshal read it", b, err)
	}
	for _, hops := range []int{0, 1} {
		want, got := requestView(&cr, hops), e.view(hops)
		if !bytes.Equal(want.Body, got.Body) {
			t.Fatalf("hops %d: body %q, protobuf-go read %q (input %x)", hops, got.Body, want.Body, b)
		}
		want.Body, got.Body = nil, nil
		if len(want.ContextExtensions) == 0 {
			// protobuf-go makes the map when it meets the field, even when
			// it then skips it (a wrong wire type): empty and nil read alike.
			want.ContextExtensions = nil
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("hops %d:\n got %+v\nwant %+v\n(input %x)", hops, got, want, b)
		}
	}
	return true
}

// Hand-written protobuf: field(num, parts...) is a length-delimited field
// holding the parts, concatenated.
func field(num protowire.Number, parts ...[]byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, bytes.Join(parts, nil))
}

func sfield(num protowire.Number, s string) []byte { return field(num, []byte(s)) }

func entry(k, v string) []byte { return append(sfield(1, k), sfield(2, v)...) }

// http wraps HttpRequest fields into a CheckRequest.
func httpReq(parts ...[]byte) []byte {
	return field(fCheckRequestAttributes, field(fAttrsRequest, field(fRequestHTTP, parts...)))
}

// source wraps Address fields into a CheckRequest.
func source(parts ...[]byte) []byte {
	return field(fCheckRequestAttributes, field(fAttrsSource, field(fPeerAddress, parts...)))
}

func socket(addr string) []byte {
	return field(fAddressSocket, sfield(fSocketAddressAddress, addr), protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 443))
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestWireRequestAgrees(t *testing.T) {
	varint := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
	}
	group := func(num protowire.Number, inner ...[]byte) []byte {
		b := protowire.AppendTag(nil, num, protowire.StartGroupType)
		b = append(b, join(inner...)...)
		return protowire.AppendTag(b, num, protowire.EndGroupType)
	}
	body := `{"phone":"+44 7400 123456"}`
	cases := []struct {
		name string
		b    []byte
		// check is what the view must hold, beyond agreeing with protobuf-go.
		check func(e *envoyRequest) string
	}{
		{"an ordinary request", join(source(socket("203.0.113.7")), httpReq(
			sfield(fHTTPMethod, "POST"), sfield(fHTTPPath, "/signup"), sfield(fHTTPHost, "signup.example.com"),
			field(fHTTPHeaders, entry("content-type", "application/json")), sfield(fHTTPBody, body))),
			func(e *envoyRequest) string {
				if e.source != "203.0.113.7" || string(e.body) != body || e.headers["content-type"] != "application/json" {
					return fmt.Sprintf("%+v", e)
				}
				return ""
			}},
		{"a header sent twice: the last entry wins",
			httpReq(field(fHTTPHeaders, entry("x-region", "GB")), field(fHTTPHeaders, entry("x-region", "US"))),
			func(e *envoyRequest) string { return want(e.headers["x-region"], "US") }},
		{"case twins stay two headers",
			httpReq(field(fHTTPHeaders, entry("X-Phone-Decision", "allow")), field(fHTTPHeaders, entry("x-phone-decision", "x"))),
			func(e *envoyRequest) string { return want(fmt.Sprint(len(e.headers)), "2") }},
		{"attributes sent twice are merged", join(httpReq(sfield(fHTTPBody, body)), httpReq(sfield(fHTTPMethod, "POST"))),
			func(e *envoyRequest) string { return want(string(e.body)+" "+e.method, body+" POST") }},
		{"the body sent twice: the last wins", httpReq(sfield(fHTTPBody, "first"), sfield(fHTTPBody, body)),
			func(e *envoyRequest) string { return want(string(e.body), body) }},
		{"raw_body before body", httpReq(sfield(fHTTPRawBody, body), sfield(fHTTPBody, "other")),
			func(e *envoyRequest) string { return want(string(e.body), body) }},
		{"an empty raw_body leaves body", httpReq(sfield(fHTTPBody, body), sfield(fHTTPRawBody, "")),
			func(e *envoyRequest) string { return want(string(e.body), body) }},
		{"the body as a varint is an unknown field", httpReq(sfield(fHTTPBody, body), varint(fHTTPBody, 7)),
			func(e *envoyRequest) string { return want(string(e.body), body) }},
		{"a method as a group is an unknown field", httpReq(sfield(fHTTPMethod, "POST"), group(fHTTPMethod, sfield(1, "GET"))),
			func(e *envoyRequest) string { return want(e.method, "POST") }},
		{"socket addresses merge", join(source(socket("203.0.113.7")), source(field(fAddressSocket, varint(3, 80)))),
			func(e *envoyRequest) string { return want(e.source, "203.0.113.7") }},
		{"a pipe after the socket address clears it", join(source(socket("203.0.113.7")), source(field(fAddressPipe, sfield(1, "/run/envoy.sock")))),
			func(e *envoyRequest) string { return want(e.source, "") }},
		{"a socket address after a pipe starts empty",
			join(source(socket("203.0.113.7")), source(field(fAddressInternal)), source(field(fAddressSocket, varint(3, 80)))),
			func(e *envoyRequest) string { return want(e.source, "") }},
		{"header_map folds case and repeats", httpReq(field(fHTTPHeaderMap,
			field(fHeaderMapHeaders, sfield(fHeaderValueKey, "X-Forwarded-For"), sfield(fHeaderValueRawValue, "198.51.100.1")),
			field(fHeaderMapHeaders, sfield(fHeaderValueKey, "x-forwarded-for"), sfield(fHeaderValueValue, "203.0.113.9")))),
			func(e *envoyRequest) string {
				return want(e.view(0).Headers["x-forwarded-for"], "198.51.100.1,203.0.113.9")
			}},
		{"header_map sent twice accumulates", httpReq(
			field(fHTTPHeaderMap, field(fHeaderMapHeaders, sfield(fHeaderValueKey, "a"), sfield(fHeaderValueValue, "1"))),
			field(fHTTPHeaderMap, field(fHeaderMapHeaders, sfield(fHeaderValueKey, "b"), sfield(fHeaderValueValue, "2")))),
			func(e *envoyRequest) string { return want(fmt.Sprint(len(e.headerMap)), "2") }},
		{"an empty header_map is still sent", httpReq(field(fHTTPHeaderMap)),
			func(e *envoyRequest) string { return want(fmt.Sprint(e.hasHeaderMap), "true") }},
		{"map entries: value before key, key twice, key missing", httpReq(
			field(fHTTPHeaders, sfield(2, "v1"), sfield(1, "k")),
			field(fHTTPHeaders, sfield(1, "x"), sfield(1, "k2"), sfield(2, "v2")),
			field(fHTTPHeaders, sfield(2, "no key"))),
			func(e *envoyRequest) string {
				return want(e.headers["k"]+"|"+e.headers["k2"]+"|"+e.headers[""]+"|"+e.headers["x"], "v1|v2|no key|")
			}},
		{"a map entry with an unknown field", httpReq(field(fHTTPHeaders, sfield(1, "k"), varint(3, 1), sfield(2, "v"))),
			func(e *envoyRequest) string { return want(e.headers["k"], "v") }},
		{"context extensions", field(fCheckRequestAttributes, field(fAttrsContextExtensions, entry("route", "signup"))),
			func(e *envoyRequest) string { return want(e.contextExtensions["route"], "signup") }},
		{"unknown fields at every level", join(varint(99, 1), group(98, sfield(1, "x")), field(fCheckRequestAttributes,
			varint(50, 2), field(fAttrsRequest, field(9, []byte("t")), field(fRequestHTTP, sfield(fHTTPBody, body), varint(fHTTPHeaders, 3))))),
			func(e *envoyRequest) string { return want(string(e.body), body) }},
		{"empty", nil, func(e *envoyRequest) string { return want(fmt.Sprint(e.headers == nil, len(e.body)), "true 0") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !wireAgrees(t, tc.b) {
				t.Fatalf("protobuf-go did not read the case: %x", tc.b)
			}
			e, _ := decodeCheckRequest(tc.b)
			if msg := tc.check(e); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func want(got, want string) string {
	if got != want {
		return fmt.Sprintf("got %q, want %q", got, want)
	}
	return ""
}

// TestWireRequestRefusesMalformed: bytes protobuf-go refuses for their wire
// format are refused by decodeCheckRequest too (with an error, never a
// panic), so a broken request is not judged as an empty one.
func TestWireRequestRefusesMalformed(t *testing.T) {
	full := httpReq(sfield(fHTTPBody, `{"phone":"+44 7400 123456"}`))
	cases := map[string][]byte{
		"truncated":             full[:len(full)-3],
		"field number 0":        {0x02, 0x00},
		"a stray end group":     {0x0c},
		"wire type 7":           {0x0f},
		"a length past the end": {0x0a, 0x10, 0x01},
		"a bad varint":          {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"inside a header":       httpReq(field(fHTTPHeaders, []byte{0x0a, 0x05, 'a'})),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if proto.Unmarshal(b, &authv3.CheckRequest{}) == nil {
				t.Fatalf("protobuf-go reads %x: not a malformed case", b)
			}
			if _, err := decodeCheckRequest(b); err == nil {
				t.Errorf("decodeCheckRequest(%x) = nil error", b)
			}
		})
	}
}

// TestWireRequestAgreesOnRandomRequests: random CheckRequests, marshalled
// by protobuf-go, some concatenated (a receiver merges them), read alike.
func TestWireRequestAgreesOnRandomRequests(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 2026))
	for i := range 3000 {
		b, _ := proto.Marshal(randomCheckRequest(r))
		if r.IntN(3) == 0 {
			more, _ := proto.Marshal(randomCheckRequest(r))
			b = append(b, more...)
		}
		if !wireAgrees(t, b) {
			t.Fatalf("request %d: protobuf-go refused its own encoding %x", i, b)
		}
	}
}

// randomCheckRequest is a CheckRequest with some of the fields phonegate
// reads set, from small pools of values so that keys repeat and collide.
func randomCheckRequest(r *rand.Rand) *authv3.CheckRequest {
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	names := []string{"content-type", "Content-Type", "x-forwarded-for", "x-envoy-external-address", ":method", ":path",
		":authority", "x-request-id", "x-phone-decision", "X-Phone-Risk-Score", "x-envoy-auth-partial-body", "x-region", ""}
	values := []string{"", "application/json", "POST", "/signup", "/SignUp/", "198.51.100.1, 203.0.113.7", "true", "GB", "a,b", "::ffff:198.51.100.3"}
	h := &authv3.AttributeContext_HttpRequest{}
	if r.IntN(2) == 0 {
		h.Method = pick("POST", "post", "", "GET")
	}
	if r.IntN(2) == 0 {
		h.Path = pick("/signup", "/a/../signup", "", "/signup?x=1")
	}
	if r.IntN(2) == 0 {
		h.Host = pick("signup.example.com", "")
	}
	if n := r.IntN(6); n > 0 {
		h.Headers = map[string]string{}
		for range n {
			h.Headers[pick(names...)] = pick(values...)
		}
	}
	if r.IntN(4) == 0 {
		h.HeaderMap = &corev3.HeaderMap{}
		for range r.IntN(5) {
			hv := &corev3.HeaderValue{Key: pick(names...), Value: pick(values...)}
			if r.IntN(2) == 0 {
				hv.RawValue = []byte(pick(values...))
			}
			h.HeaderMap.Headers = append(h.HeaderMap.Headers, hv)
		}
	}
	switch r.IntN(4) {
	case 0:
		h.Body = `{"phone":"+44 7400 123456"}`
	case 1:
		h.RawBody = []byte("phone=%2B447400123456")
	case 2:
		h.Body, h.RawBody = "body", []byte("raw")
	}
	attrs := &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{Http: h}}
	switch r.IntN(4) {
	case 0:
		attrs.Source = &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
			SocketAddress: &corev3.SocketAddress{Address: pick("203.0.113.7", "2001:db8::1", "not an ip", "")}}}}
	case 1:
		attrs.Source = &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_Pipe{Pipe: &corev3.Pipe{Path: "/run/x"}}}}
	case 2:
		attrs.Source = &authv3.AttributeContext_Peer{Service: "svc"}
	}
	if r.IntN(3) == 0 {
		attrs.ContextExtensions = map[string]string{pick("route", "region", ""): pick(values...)}
	}
	return &authv3.CheckRequest{Attributes: attrs}
}

// FuzzWireRequestAgrees: whatever the bytes, decodeCheckRequest never panics,
// and reads every CheckRequest protobuf-go reads as protobuf-go does.
func FuzzWireRequestAgrees(f *testing.F) {
	for _, req := range distinctChecks(3) {
		b, _ := proto.Marshal(req)
		f.Add(b)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		b, _ := proto.Marshal(randomCheckRequest(r))
		f.Add(b)
	}
	f.Add(join(source(socket("203.0.113.7")), source(field(fAddressPipe)), httpReq(field(fHTTPHeaders, entry("a", "b")))))
	f.Fuzz(func(t *testing.T, b []byte) {
		wireAgrees(t, b)
	})
}
