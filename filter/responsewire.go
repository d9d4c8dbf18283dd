package filter

import (
	"math"
	"unicode/utf8"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// A check's CheckResponse is written straight from its verdict as protobuf
// bytes: most of it is pieces encoded once (prebuilt.go) — the decision's
// headers and metadata entries, the number's — copied one after another,
// with this request's few values (its decision id, risk score, the headers
// to remove) encoded between them. No message is built and walked per
// check. The gRPC server sends the bytes as they are (codec.go); callers in
// process (Check, Explain) get them decoded by protobuf-go, so every reader
// sees the same response. TestResponseBytes holds the bytes to the message
// a plain protobuf-go builder makes of the same verdict, for every kind of
// response.
//
// A CheckResponse has the gRPC status (field 1), one of ok_response (3) or
// denied_response (2), and dynamic_metadata (4), a Struct.

// Field numbers, from envoy/service/auth/v3/external_auth.proto,
// envoy/config/core/v3/base.proto, envoy/type/v3/http_status.proto,
// google/rpc/status.proto and google/protobuf/struct.proto.
const (
	fResponseStatus   = 1 // CheckResponse.status (google.rpc.Status)
	fResponseDenied   = 2 // CheckResponse.denied_response, oneof http_response
	fResponseOK       = 3 // CheckResponse.ok_response, oneof http_response
	fResponseMetadata = 4 // CheckResponse.dynamic_metadata (Struct)

	fStatusCode    = 1 // google.rpc.Status.code
	fStatusMessage = 2 // google.rpc.Status.message

	fDeniedStatus  = 1 // DeniedHttpResponse.status (HttpStatus)
	fDeniedHeaders = 2 // DeniedHttpResponse.headers
	fDeniedBody    = 3 // DeniedHttpResponse.body

	fHTTPStatusCode = 1 // HttpStatus.code

	fOKHeaders         = 2 // OkHttpResponse.headers
	fOKHeadersToRemove = 5 // OkHttpResponse.headers_to_remove

	fOptionHeader       = 1 // HeaderValueOption.header
	fOptionAppendAction = 3 // HeaderValueOption.append_action

	fStructFields = 1 // Struct.fields, a map<string, Value>: entries {key = 1; value = 2}
	fEntryKey     = 1
	fEntryValue   = 2
	fValueNumber  = 2 // Value.number_value (double), in the oneof kind
	fValueString  = 3 // Value.string_value
	fValueBool    = 4 // Value.bool_value
)

// The statuses of an allowed and a denied check, encoded as the response's
// field 1: google.rpc.Status{} and {code: PERMISSION_DENIED, message:
// "phone_rejected"}.
var (
	okStatusField     = appendMessage(nil, fResponseStatus, nil)
	deniedStatusField = appendMessage(nil, fResponseStatus,
		appendStringField(appendVarint(nil, fStatusCode, uint64(codes.PermissionDenied)), fStatusMessage, "phone_rejected"))
)

// deniedContentType is a denial's one header, content-type:
// application/json, as an entry of DeniedHttpResponse.headers.
var deniedContentType = encodeHeader(fDeniedHeaders, "content-type", "application/json")

// encodeHeader is a HeaderValueOption setting key to value, overwriting any
// header of that name (never appending), encoded as field num of its
// message. OkHttpResponse.headers and DeniedHttpResponse.headers are both
// field 2, so one encoding serves both.
func encodeHeader(num protowire.Number, key, value string) []byte {
	return appendHeader(nil, num, key, value)
}

func appendHeader(b []byte, num protowire.Number, key, value string) []byte {
	hv := appendStringField(appendStringField(nil, fHeaderValueKey, key), fHeaderValueValue, value)
	opt := appendMessage(nil, fOptionHeader, hv)
	opt = appendVarint(opt, fOptionAppendAction, uint64(corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD))
	return appendMessage(b, num, opt)
}

// encodeResponse is the CheckResponse Envoy gets for v, encoded.
func encodeResponse(v *verdict) []byte {
	if v.rejected() {
		return encodeDenied(v)
	}
	return encodeOK(v)
}

// encodeOK lets the request through. With a decision (a matched route) it
// sets the x-phone-* headers, the decision's then the number's; in every
// case it removes the client-sent x-phone-* headers it does not set itself.
func encodeOK(v *verdict) []byte {
	var o *outcome
	var a *numberAnnex
	var risk []byte
	okLen := 0
	if v.decision != nil {
		o = v.outcome()
		okLen += len(o.headers)
		if n := v.decision.Number; n != nil {
			a = v.annex
			risk = riskScoreHeader(n.Insight.RiskScore)
			okLen += len(a.headers) + len(risk)
		}
	}
	remove := spoofedHeaders(v)
	for _, name := range remove {
		okLen += protowire.SizeTag(fOKHeadersToRemove) + protowire.SizeBytes(len(name))
	}
	b := make([]byte, 0, len(okStatusField)+maxHead+okLen+metadataRoom(v, o, a))
	b = append(b, okStatusField...)
	b = appendMessageHead(b, fResponseOK, okLen)
	if o != nil {
		b = append(b, o.headers...)
	}
	if a != nil {
		b = append(b, a.headers...)
		b = append(b, risk...)
	}
	for _, name := range remove {
		b = protowire.AppendTag(b, fOKHeadersToRemove, protowire.BytesType)
		b = protowire.AppendString(b, name)
	}
	if v.decision != nil {
		b = appendMetadata(b, v, o, a)
	}
	return b
}

// encodeDenied rejects the request with the rule's status, a JSON content
// type and the denial's JSON body.
func encodeDenied(v *verdict) []byte {
	o, a := v.outcome(), v.annex
	body := denialJSON(v)
	status := appendVarint(make([]byte, 0, 8), fHTTPStatusCode, uint64(v.decision.Status))
	inner := sizeMessage(fDeniedStatus, len(status)) + len(deniedContentType) + sizeBytesField(fDeniedBody, body)
	b := make([]byte, 0, len(deniedStatusField)+maxHead+inner+metadataRoom(v, o, a))
	b = append(b, deniedStatusField...)
	b = appendMessageHead(b, fResponseDenied, inner)
	b = appendMessage(b, fDeniedStatus, status)
	b = append(b, deniedContentType...)
	if len(body) > 0 {
		b = protowire.AppendTag(b, fDeniedBody, protowire.BytesType)
		b = protowire.AppendBytes(b, body)
	}
	return appendMetadata(b, v, o, a)
}

// decodeResponse is an encoded CheckResponse as protobuf-go reads it: what
// callers in process get, and what Envoy reads from the same bytes. The
// bytes are phonegate's own: an error is a fault of phonegate's.
func decodeResponse(b []byte) (*authv3.CheckResponse, error) {
	resp := new(authv3.CheckResponse)
	if err := proto.Unmarshal(b, resp); err != nil {
		return nil, status.Error(codes.Internal, "phonegate: response: "+err.Error())
	}
	return resp, nil
}

// maxHead is the most a length-delimited field's tag and length take here:
// a one-byte tag (fields 1 to 15) and a length of up to 5 bytes.
const maxHead = 1 + 5

// appendMetadata appends the dynamic metadata Envoy's access log and later
// filters read (namespace envoy.filters.http.ext_authz): the decision's
// entries and the number's, built once, and this request's (the number's
// field, the numbers found and disposable only on a route with
// metadata_details, its IP and velocity signals only on a route with
// metadata_signals). It never holds a raw number. The Struct's length is
// known only once its entries are written: they are written after room for
// the longest head, which is then closed up.
func appendMetadata(b []byte, v *verdict, o *outcome, a *numberAnnex) []byte {
	d := v.decision
	at := len(b)
	b = append(b, make([]byte, maxHead)...)
	b = append(b, o.metadata...)
	b = appendStringEntry(b, "decision_id", v.id)
	details := v.route.MetadataDetails
	if details {
		b = appendNumberEntry(b, "numbers_found", d.Numbers)
	}
	if n := d.Number; n != nil {
		in := n.Insight
		b = append(b, a.metadata...)
		b = appendNumberEntry(b, "risk_score", in.RiskScore)
		if details {
			b = appendStringEntry(b, "field", n.Field)
			b = appendBoolEntry(b, "disposable", in.IsDisposable)
		}
		// This request's own signals are opt-in: each entry is bytes
		// Envoy and whatever reads the response decode on every check.
		if v.route.MetadataSignals {
			if in.IP != nil {
				b = appendStringEntry(b, "ip_country", in.IP.Country)
				b = appendStringEntry(b, "ip_match", in.IP.Match)
			}
			if in.Velocity != nil {
				b = appendNumberEntry(b, "seen", in.Velocity.Seen)
				b = appendBoolEntry(b, "recent_abuse", in.Velocity.RecentAbuse)
				b = appendStringEntry(b, "velocity_source", in.Velocity.Source)
			}
		}
	}
	entries := len(b) - at - maxHead
	head := appendMessageHead(make([]byte, 0, maxHead), fResponseMetadata, entries)
	copy(b[at:], head)
	copy(b[at+len(head):], b[at+maxHead:])
	return b[:len(b)-(maxHead-len(head))]
}

// metadataRoom bounds what appendMetadata appends for v, so that a
// response is one allocation: the prebuilt entries, and this request's
// (TestResponseBytes checks the bound).
func metadataRoom(v *verdict, o *outcome, a *numberAnnex) int {
	if o == nil {
		return 0
	}
	// Each entry's key, heads and value of fixed size, with one-byte
	// lengths: decision_id 18, risk_score 27; on a route with
	// metadata_details numbers_found 30, field 12, disposable 19 (106 in
	// all, in 128 with room for longer lengths); on a route with
	// metadata_signals ip_country 19, ip_match 17, seen 21, recent_abuse 22,
	// velocity_source 25 (104, in 128); and the strings.
	n := maxHead + len(o.metadata) + 128 + len(v.id)
	if d := v.decision; d.Number != nil {
		in := d.Number.Insight
		n += len(a.metadata)
		if v.route.MetadataDetails {
			n += len(d.Number.Field)
		}
		if v.route.MetadataSignals {
			n += 128
			if in.IP != nil {
				n += len(in.IP.Country) + len(in.IP.Match)
			}
			if in.Velocity != nil {
				n += len(in.Velocity.Source)
			}
		}
	}
	return n
}

// Struct entries. Each is a map entry {key, value}, its value a Value
// message with one member of the oneof kind set.

// appendEntryHead appends an entry's head, its key (never empty here) and
// the head of a Value of valLen bytes.
func appendEntryHead(b []byte, key string, valLen int) []byte {
	entryLen := sizeMessage(fEntryKey, len(key)) + sizeMessage(fEntryValue, valLen)
	b = appendMessageHead(b, fStructFields, entryLen)
	b = protowire.AppendTag(b, fEntryKey, protowire.BytesType)
	b = protowire.AppendString(b, key)
	return appendMessageHead(b, fEntryValue, valLen)
}

// appendStringEntry writes a string value, also an empty one: a Value
// whose string_value is "" is still a string (the oneof member is set).
func appendStringEntry(b []byte, key, s string) []byte {
	b = appendEntryHead(b, key, protowire.SizeTag(fValueString)+protowire.SizeBytes(len(s)))
	b = protowire.AppendTag(b, fValueString, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendNumberEntry(b []byte, key string, n int) []byte {
	b = appendEntryHead(b, key, protowire.SizeTag(fValueNumber)+protowire.SizeFixed64())
	b = protowire.AppendTag(b, fValueNumber, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(float64(n)))
}

func appendBoolEntry(b []byte, key string, x bool) []byte {
	b = appendEntryHead(b, key, protowire.SizeTag(fValueBool)+protowire.SizeVarint(protowire.EncodeBool(x)))
	b = protowire.AppendTag(b, fValueBool, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeBool(x))
}

// Proto3 scalars and strings are written only when not zero or empty; a
// message field that is set is written even when empty.

// sizeMessage is the size of a length-delimited field of n bytes: a
// message, or a string or bytes written even when empty.
func sizeMessage(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func appendMessageHead(b []byte, num protowire.Number, n int) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(n))
}

func appendMessage(b []byte, num protowire.Number, m []byte) []byte {
	return append(appendMessageHead(b, num, len(m)), m...)
}

func sizeBytesField(num protowire.Number, s []byte) int {
	if len(s) == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(s))
}

func appendStringField(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// validHeaderName reports whether name can be sent back in a response: a
// protobuf string must be UTF-8, or Envoy could not read the response.
// Envoy sends only header names of ASCII token characters; a client
// talking to the gRPC port directly could send others.
func validHeaderName(name string) bool { return utf8.ValidString(name) }
