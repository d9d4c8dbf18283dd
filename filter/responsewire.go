package filter

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protowire"
)

// The CheckResponses phonegate builds have a few shapes: a status, an OK
// response with headers to set and to remove, or a denial with a status,
// a header and a body, and the dynamic metadata carried as encoded bytes
// (setMetadata). protobuf-go's marshaller walks each message's field table
// twice (size, then write) for them; writing them here, from the fields
// these shapes use, costs a fraction of that. A response with any other
// field set is left to protobuf-go (the codec falls back), so nothing a
// later change adds is dropped. TestCodecWritesWhatProtoWrites holds the
// bytes to proto.Marshal's for every kind of response.

// Field numbers, from envoy/service/auth/v3/external_auth.proto,
// envoy/config/core/v3/base.proto, envoy/type/v3/http_status.proto and
// google/rpc/status.proto.
const (
	fResponseStatus = 1 // CheckResponse.status (google.rpc.Status)
	fResponseDenied = 2 // CheckResponse.denied_response, oneof http_response
	fResponseOK     = 3 // CheckResponse.ok_response, oneof http_response

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
)

// marshalCheckResponse is r's protobuf encoding, or false when r has a
// field this file does not write.
func marshalCheckResponse(r *authv3.CheckResponse) ([]byte, bool) {
	n, inner, ok := sizeCheckResponse(r)
	if !ok {
		return nil, false
	}
	b := appendCheckResponse(make([]byte, 0, n), r, inner)
	return b, len(b) == n
}

// sizeCheckResponse is the size of r's encoding and of its http_response
// message, false when r has a field this file does not write.
func sizeCheckResponse(r *authv3.CheckResponse) (n, inner int, ok bool) {
	if r.DynamicMetadata != nil || r.HttpResponse == nil && r.Status == nil {
		return 0, 0, false
	}
	n = len(r.ProtoReflect().GetUnknown())
	if st := r.Status; st != nil {
		if len(st.Details) > 0 || st.Code < 0 || len(st.ProtoReflect().GetUnknown()) > 0 {
			return 0, 0, false
		}
		n += sizeMessage(fResponseStatus, sizeStatus(st.Code, st.Message))
	}
	switch h := r.HttpResponse.(type) {
	case nil:
	case *authv3.CheckResponse_OkResponse:
		o := h.OkResponse
		if o == nil || o.DynamicMetadata != nil || len(o.ResponseHeadersToAdd) > 0 ||
			len(o.QueryParametersToSet) > 0 || len(o.QueryParametersToRemove) > 0 || len(o.ProtoReflect().GetUnknown()) > 0 {
			return 0, 0, false
		}
		m, fits := sizeHeaders(fOKHeaders, o.Headers)
		if !fits {
			return 0, 0, false
		}
		for _, name := range o.HeadersToRemove {
			m += protowire.SizeTag(fOKHeadersToRemove) + protowire.SizeBytes(len(name))
		}
		n, inner = n+sizeMessage(fResponseOK, m), m
	case *authv3.CheckResponse_DeniedResponse:
		d := h.DeniedResponse
		if d == nil || d.Status != nil && (d.Status.Code < 0 || len(d.Status.ProtoReflect().GetUnknown()) > 0) ||
			len(d.ProtoReflect().GetUnknown()) > 0 {
			return 0, 0, false
		}
		m, fits := sizeHeaders(fDeniedHeaders, d.Headers)
		if !fits {
			return 0, 0, false
		}
		if d.Status != nil {
			m += sizeMessage(fDeniedStatus, sizeVarint(fHTTPStatusCode, uint64(d.Status.Code)))
		}
		m += sizeString(fDeniedBody, d.Body)
		n, inner = n+sizeMessage(fResponseDenied, m), m
	default:
		return 0, 0, false
	}
	return n, inner, true
}

// appendCheckResponse appends r, whose http_response message is inner
// bytes long (sizeCheckResponse).
func appendCheckResponse(b []byte, r *authv3.CheckResponse, inner int) []byte {
	if st := r.Status; st != nil {
		b = appendMessageHead(b, fResponseStatus, sizeStatus(st.Code, st.Message))
		b = appendVarint(b, fStatusCode, uint64(st.Code))
		b = appendStringField(b, fStatusMessage, st.Message)
	}
	switch h := r.HttpResponse.(type) {
	case *authv3.CheckResponse_OkResponse:
		o := h.OkResponse
		b = appendMessageHead(b, fResponseOK, inner)
		b = appendHeaders(b, fOKHeaders, o.Headers)
		for _, name := range o.HeadersToRemove {
			b = protowire.AppendTag(b, fOKHeadersToRemove, protowire.BytesType)
			b = protowire.AppendString(b, name)
		}
	case *authv3.CheckResponse_DeniedResponse:
		d := h.DeniedResponse
		b = appendMessageHead(b, fResponseDenied, inner)
		if d.Status != nil {
			b = appendMessageHead(b, fDeniedStatus, sizeVarint(fHTTPStatusCode, uint64(d.Status.Code)))
			b = appendVarint(b, fHTTPStatusCode, uint64(d.Status.Code))
		}
		b = appendHeaders(b, fDeniedHeaders, d.Headers)
		b = appendStringField(b, fDeniedBody, d.Body)
	}
	return append(b, r.ProtoReflect().GetUnknown()...)
}

func sizeStatus(code int32, message string) int {
	return sizeVarint(fStatusCode, uint64(code)) + sizeString(fStatusMessage, message)
}

// sizeHeaders is the size of headers as field num of their message, false
// when one has a field this file does not write.
func sizeHeaders(num protowire.Number, headers []*corev3.HeaderValueOption) (int, bool) {
	n := 0
	for _, h := range headers {
		m, ok := sizeHeaderOption(h)
		if !ok {
			return 0, false
		}
		n += sizeMessage(num, m)
	}
	return n, true
}

func sizeHeaderOption(h *corev3.HeaderValueOption) (int, bool) {
	if h == nil || h.Append != nil || h.KeepEmptyValue || h.AppendAction < 0 || len(h.ProtoReflect().GetUnknown()) > 0 {
		return 0, false
	}
	n := sizeVarint(fOptionAppendAction, uint64(h.AppendAction))
	if hv := h.Header; hv != nil {
		if len(hv.RawValue) > 0 || len(hv.ProtoReflect().GetUnknown()) > 0 {
			return 0, false
		}
		n += sizeMessage(fOptionHeader, sizeString(fHeaderValueKey, hv.Key)+sizeString(fHeaderValueValue, hv.Value))
	}
	return n, true
}

func appendHeaders(b []byte, num protowire.Number, headers []*corev3.HeaderValueOption) []byte {
	for _, h := range headers {
		m := sizeVarint(fOptionAppendAction, uint64(h.AppendAction))
		hv := h.Header
		hvLen := 0
		if hv != nil {
			hvLen = sizeString(fHeaderValueKey, hv.Key) + sizeString(fHeaderValueValue, hv.Value)
			m += sizeMessage(fOptionHeader, hvLen)
		}
		b = appendMessageHead(b, num, m)
		if hv != nil {
			b = appendMessageHead(b, fOptionHeader, hvLen)
			b = appendStringField(b, fHeaderValueKey, hv.Key)
			b = appendStringField(b, fHeaderValueValue, hv.Value)
		}
		b = appendVarint(b, fOptionAppendAction, uint64(h.AppendAction))
	}
	return b
}

// Proto3 scalars are written only when not zero; a message field that is
// set is written even when empty.

func sizeMessage(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func appendMessageHead(b []byte, num protowire.Number, n int) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(n))
}

func sizeString(num protowire.Number, s string) int {
	if s == "" {
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

func sizeVarint(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}
