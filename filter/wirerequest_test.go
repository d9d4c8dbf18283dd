package filter

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// wireAgrees checks that decodeCheckRequest reads b as proto.Unmarshal does:
// whenever protobuf-go decodes b into a CheckRequest, decodeCheckRequest
// decodes it too and the request policies read is the same, and it knows
// whether a client header is an x-phone-* one (the response's headers to
// remove rely on it). It reports whether protobuf-go decoded b.
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
		m := messageRequest(&cr)
		want, got := m.view(hops), e.view(hops)
		for _, r := range []*envoyRequest{m, e} {
			if phone := slices.ContainsFunc(slices.Collect(maps.Keys(r.req.Headers)), isPhoneHeader); r.phoneHeaders != phone {
				t.Fatalf("hops %d: phoneHeaders %v, but the headers %v hold an x-phone-* name: %v (input %x)", hops, r.phoneHeaders, r.req.Headers, phone, b)
			}
		}
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
		{"a oneof member as a varint leaves the member set", join(source(socket("203.0.113.7")), source(varint(fAddressPipe, 1))),
			func(e *envoyRequest) string { return want(e.source, "203.0.113.7") }},
		{"a oneof member as a group leaves the member set", join(source(socket("203.0.113.7")), source(group(fAddressInternal, sfield(1, "x")))),
			func(e *envoyRequest) string { return want(e.source, "203.0.113.7") }},
		{"the socket address as a group after a pipe: the pipe stays", join(source(field(fAddressPipe)), source(group(fAddressSocket, sfield(fSocketAddressAddress, "203.0.113.7")))),
			func(e *envoyRequest) string { return want(e.source, "") }},
		{"the socket address's address as a varint", source(field(fAddressSocket, sfield(fSocketAddressAddress, "203.0.113.7"), varint(fSocketAddressAddress, 1))),
			func(e *envoyRequest) string { return want(e.source, "203.0.113.7") }},
		{"an empty address message keeps the member", join(source(socket("203.0.113.7")), source()),
			func(e *envoyRequest) string { return want(e.source, "203.0.113.7") }},
		{"the peer's address as fixed32 between two", join(source(socket("203.0.113.7")),
			field(fCheckRequestAttributes, field(fAttrsSource, protowire.AppendFixed32(protowire.AppendTag(nil, fPeerAddress, protowire.Fixed32Type), 1))),
			source(field(fAddressSocket, varint(3, 80)))),
			func(e *envoyRequest) string { return want(e.source, "203.0.113.7") }},
		{"the destination's address is not the source", field(fCheckRequestAttributes, field(2, field(fPeerAddress, socket("198.51.100.1")))),
			func(e *envoyRequest) string { return want(e.source, "") }},
		{"raw_value present but empty: value", httpReq(field(fHTTPHeaderMap,
			field(fHeaderMapHeaders, sfield(fHeaderValueKey, "content-type"), sfield(fHeaderValueValue, "text/plain"), sfield(fHeaderValueRawValue, "")))),
			func(e *envoyRequest) string { return want(e.view(0).Headers["content-type"], "text/plain") }},
		{"raw_value sent twice, the last empty", httpReq(field(fHTTPHeaderMap,
			field(fHeaderMapHeaders, sfield(fHeaderValueKey, "x-region"), sfield(fHeaderValueRawValue, "GB"), sfield(fHeaderValueValue, "US"), sfield(fHeaderValueRawValue, "")))),
			func(e *envoyRequest) string { return want(e.view(0).Headers["x-region"], "US") }},
		{"a header value with a wrong-typed key and an unknown field", httpReq(field(fHTTPHeaderMap,
			field(fHeaderMapHeaders, sfield(fHeaderValueKey, "x-region"), varint(fHeaderValueKey, 1), group(9), sfield(fHeaderValueValue, "GB")))),
			func(e *envoyRequest) string { return want(e.view(0).Headers["x-region"], "GB") }},
		{"an empty header value", httpReq(field(fHTTPHeaderMap, field(fHeaderMapHeaders))),
			func(e *envoyRequest) string { return want(fmt.Sprint(len(e.headerMap)), "1") }},
		{"header_map as a varint between two", httpReq(
			field(fHTTPHeaderMap, field(fHeaderMapHeaders, sfield(fHeaderValueKey, "a"), sfield(fHeaderValueValue, "1"))),
			varint(fHTTPHeaderMap, 5),
			field(fHTTPHeaderMap, field(fHeaderMapHeaders, sfield(fHeaderValueKey, "a"), sfield(fHeaderValueValue, "2")))),
			func(e *envoyRequest) string { return want(e.view(0).Headers["a"], "1,2") }},
		{"header_map's headers as a varint", httpReq(field(fHTTPHeaderMap, varint(fHeaderMapHeaders, 1))),
			func(e *envoyRequest) string { return want(fmt.Sprint(e.hasHeaderMap, len(e.headerMap)), "true 0") }},
		{"only a wrong-typed header_map: not sent", httpReq(varint(fHTTPHeaderMap, 0)),
			func(e *envoyRequest) string { return want(fmt.Sprint(e.hasHeaderMap), "false") }},
		{"headers win over header_map", httpReq(field(fHTTPHeaders, entry("x-region", "GB")),
			field(fHTTPHeaderMap, field(fHeaderMapHeaders, sfield(fHeaderValueKey, "x-region"), sfield(fHeaderValueValue, "US")))),
			func(e *envoyRequest) string { return want(e.view(0).Headers["x-region"], "GB") }},
		{"headers empty entries only: still headers", httpReq(field(fHTTPHeaders),
			field(fHTTPHeaderMap, field(fHeaderMapHeaders, sfield(fHeaderValueKey, "x-region"), sfield(fHeaderValueValue, "US")))),
			func(e *envoyRequest) string { return want(e.view(0).Headers["x-region"], "") }},
		{"a map entry that is an empty message", httpReq(field(fHTTPHeaders), field(fHTTPHeaders, entry("a", "b"))),
			func(e *envoyRequest) string { return want(fmt.Sprint(len(e.headers))+"|"+e.headers[""], "2|") }},
		{"a map entry's key as a varint", httpReq(field(fHTTPHeaders, varint(fMapKey, 7), sfield(fMapValue, "v"))),
			func(e *envoyRequest) string { return want(e.headers[""], "v") }},
		{"a map entry's value as a group", httpReq(field(fHTTPHeaders, sfield(fMapKey, "k"), group(fMapValue, sfield(1, "x")))),
			func(e *envoyRequest) string { return want(fmt.Sprint(len(e.headers))+"|"+e.headers["k"], "1|") }},
		{"headers as a fixed64 between two", httpReq(field(fHTTPHeaders, entry("a", "1")),
			protowire.AppendFixed64(protowire.AppendTag(nil, fHTTPHeaders, protowire.Fixed64Type), 1), field(fHTTPHeaders, entry("b", "2"))),
			func(e *envoyRequest) string { return want(e.headers["a"]+e.headers["b"], "12") }},
		{"context extensions as a varint between two", join(
			field(fCheckRequestAttributes, field(fAttrsContextExtensions, entry("route", "a"))),
			field(fCheckRequestAttributes, varint(fAttrsContextExtensions, 1)),
			field(fCheckRequestAttributes, field(fAttrsContextExtensions, entry("route", "b")))),
			func(e *envoyRequest) string { return want(e.contextExtensions["route"], "b") }},
		{"only wrong-typed context extensions", field(fCheckRequestAttributes, varint(fAttrsContextExtensions, 1)),
			func(e *envoyRequest) string { return want(fmt.Sprint(len(e.contextExtensions)), "0") }},
		{"attributes as a varint between two", join(httpReq(sfield(fHTTPBody, body)), varint(fCheckRequestAttributes, 1), httpReq(sfield(fHTTPMethod, "POST"))),
			func(e *envoyRequest) string { return want(string(e.body)+" "+e.method, body+" POST") }},
		{"attributes as a group between two", join(httpReq(sfield(fHTTPBody, body)), group(fCheckRequestAttributes, httpReq(sfield(fHTTPBody, "x"))), httpReq(sfield(fHTTPMethod, "POST"))),
			func(e *envoyRequest) string { return want(string(e.body)+" "+e.method, body+" POST") }},
		{"request and http as wrong types", join(httpReq(sfield(fHTTPBody, body)),
			field(fCheckRequestAttributes, varint(fAttrsRequest, 1), field(fAttrsRequest, varint(fRequestHTTP, 1)))),
			func(e *envoyRequest) string { return want(string(e.body), body) }},
		{"raw_body as a group, body as fixed32", httpReq(sfield(fHTTPRawBody, body), group(fHTTPRawBody, sfield(1, "x")),
			protowire.AppendFixed32(protowire.AppendTag(nil, fHTTPBody, protowire.Fixed32Type), 1)),
			func(e *envoyRequest) string { return want(string(e.body), body) }},
		{"a later empty raw_body clears it: body", httpReq(sfield(fHTTPRawBody, "raw"), sfield(fHTTPBody, body), sfield(fHTTPRawBody, "")),
			func(e *envoyRequest) string { return want(string(e.body), body) }},
		{"an empty body after raw_body", httpReq(sfield(fHTTPRawBody, body), sfield(fHTTPBody, "")),
			func(e *envoyRequest) string { return want(string(e.body), body) }},
		{"an empty method after a method", httpReq(sfield(fHTTPMethod, "POST"), sfield(fHTTPMethod, ""), field(fHTTPHeaders, entry(":method", "GET"))),
			func(e *envoyRequest) string { return want(e.view(0).Method, "GET") }},
		{"the largest field number, unknown, at every level", join(varint(protowire.MaxValidNumber, 1), httpReq(sfield(protowire.MaxValidNumber, "x"), sfield(fHTTPBody, body),
			field(fHTTPHeaders, varint(protowire.MaxValidNumber, 1), entry("k", "v")))),
			func(e *envoyRequest) string { return want(string(e.body)+e.headers["k"], body+"v") }},
		{"a packed repeated field and nested groups, unknown", httpReq(field(40, protowire.AppendVarint(protowire.AppendVarint(nil, 1), 300)),
			group(41, group(1, group(2, sfield(fHTTPBody, "x")))), sfield(fHTTPBody, body)),
			func(e *envoyRequest) string { return want(string(e.body), body) }},
		{"our field numbers inside an unknown group are not ours", join(group(fCheckRequestAttributes, httpReq(sfield(fHTTPBody, "x"))), httpReq(sfield(fHTTPBody, body))),
			func(e *envoyRequest) string { return want(string(e.body), body) }},
		{"a multi-byte tag for a small field number", httpReq(append([]byte{byte(fHTTPMethod<<3|2) | 0x80, 0x80, 0x00}, protowire.AppendString(nil, "POST")...)),
			func(e *envoyRequest) string { return want(e.method, "POST") }},
		{"a non-minimal length", httpReq(append([]byte{byte(fHTTPMethod<<3 | 2), 0x84, 0x00}, "POST"...)),
			func(e *envoyRequest) string { return want(e.method, "POST") }},
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
		"truncated":                     full[:len(full)-3],
		"field number 0":                {0x02, 0x00},
		"a stray end group":             {0x0c},
		"wire type 7":                   {0x0f},
		"a length past the end":         {0x0a, 0x10, 0x01},
		"a bad varint":                  {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"inside a header":               httpReq(field(fHTTPHeaders, []byte{0x0a, 0x05, 'a'})),
		"field number past the largest": protowire.AppendVarint(protowire.AppendTag(nil, protowire.MaxValidNumber+1, protowire.VarintType), 1),
		"field number past the largest, in a map entry": httpReq(field(fHTTPHeaders,
			protowire.AppendVarint(protowire.AppendTag(nil, protowire.MaxValidNumber+1, protowire.VarintType), 1))),
		"a group closed by another number": httpReq(protowire.AppendTag(protowire.AppendTag(nil, 40, protowire.StartGroupType), 41, protowire.EndGroupType)),
		"a group never closed":             httpReq(protowire.AppendTag(nil, 40, protowire.StartGroupType)),
		"inside a header_map value":        httpReq(field(fHTTPHeaderMap, field(fHeaderMapHeaders, []byte{0x12, 0x7f}))),
		"inside the source address":        source(field(fAddressSocket, []byte{0x12, 0x03, 'a'})),
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

// allocated is the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestMapOfOneKeySentOverAndOver: a map field of one key sent over and over
// (two bytes an entry, half a million in a message the server accepts) is
// read into a map of one, with nothing kept per entry sent: the decode
// allocates about what the message's copy weighs, not forty times it.
func TestMapOfOneKeySentOverAndOver(t *testing.T) {
	entries := bytes.Repeat([]byte{0x1a, 0x00}, 1<<19) // HttpRequest.headers, an empty entry
	b := httpReq(entries)
	var e *envoyRequest
	var err error
	if n := allocated(func() { e, err = decodeCheckRequest(b) }); err != nil || len(e.headers) != 1 || n > 64<<10 {
		t.Errorf("%d entries of one key: %v, a map of %d, %d KiB allocated", 1<<19, err, len(e.headers), n>>10)
	}
	if !wireAgrees(t, b) {
		t.Fatal("protobuf-go refused the message")
	}
}

// TestPooledRequestsStartEmpty: the Check handler reuses requests (and their
// maps) from a pool. A run of random requests, each read into the request
// the one before it was reset into, reads each as protobuf-go does: no
// header, context extension or field of an earlier request is left over,
// nor its having sent an x-phone-* header.
func TestPooledRequestsStartEmpty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	w := new(wireCheck)
	for i := range 500 {
		cr := randomCheckRequest(r)
		b, err := proto.Marshal(cr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.decode(b); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		want, got := requestView(cr, 0), w.view(0)
		want.Body, got.Body = nil, nil
		if len(want.ContextExtensions) == 0 && len(got.ContextExtensions) == 0 {
			want.ContextExtensions, got.ContextExtensions = nil, nil // empty and nil read alike
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("request %d, read into a request reset %d times:\n got %+v\nwant %+v", i, i, got, want)
		}
		if phone := slices.ContainsFunc(slices.Collect(maps.Keys(got.Headers)), isPhoneHeader); w.phoneHeaders != phone {
			t.Fatalf("request %d: phoneHeaders %v, want %v (headers %v)", i, w.phoneHeaders, phone, got.Headers)
		}
		if !w.reset() { // as release does, without handing w to the pool
			w = new(wireCheck)
		}
	}
}
