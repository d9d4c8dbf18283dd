package filter

import (
	"errors"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// A CheckRequest as Envoy sends it holds far more than phonegate reads:
// the destination peer, the time, TLS details, metadata, a dozen headers.
// Decoding it into go-control-plane's message (what grpc-go's proto codec
// does) allocates every one of them: the messages, a map entry and two
// strings per header. decodeCheckRequest reads the protobuf bytes instead,
// once, for the fields envoyRequest holds, and skips the rest; the strings
// it returns point into one copy of the message.
//
// It follows protobuf's rules for what a receiver makes of the bytes, so
// that the request judged is the request protobuf-go would have decoded
// (FuzzWireRequestAgrees holds it to proto.Unmarshal):
//   - a message field sent twice is merged: its scalars are the last ones
//     sent, its map entries and repeated fields accumulate;
//   - the last entry of a map with a given key wins;
//   - a field sent with the wrong wire type is an unknown field, skipped;
//   - of a oneof (Address's socket_address, pipe, envoy_internal_address),
//     the member sent last is the one set, and switching members starts the
//     new one empty.
//
// It is more lenient than protobuf-go in one way only: strings are not
// checked for valid UTF-8, and the fields it skips are not decoded, just
// stepped over. A request protobuf-go would refuse for such a reason (the
// check would fail and Envoy's failure_mode_allow decide) is judged instead,
// on the same fields: never less strictly.

// errMalformedRequest is a CheckRequest whose bytes are not protobuf.
var errMalformedRequest = errors.New("malformed CheckRequest: not protobuf wire format")

// The field numbers read, from envoy/service/auth/v3 and envoy/config/core/v3.
const (
	fCheckRequestAttributes = 1 // CheckRequest.attributes

	fAttrsSource            = 1  // AttributeContext.source (Peer)
	fAttrsRequest           = 4  // AttributeContext.request
	fAttrsContextExtensions = 10 // AttributeContext.context_extensions (map)

	fPeerAddress = 1 // Peer.address (core.v3.Address)

	fAddressSocket   = 1 // Address.socket_address, oneof address
	fAddressPipe     = 2 // Address.pipe, oneof address
	fAddressInternal = 3 // Address.envoy_internal_address, oneof address

	fSocketAddressAddress = 2 // SocketAddress.address

	fRequestHTTP = 2 // Request.http

	fHTTPMethod    = 2  // HttpRequest.method
	fHTTPHeaders   = 3  // HttpRequest.headers (map)
	fHTTPPath      = 4  // HttpRequest.path
	fHTTPHost      = 5  // HttpRequest.host
	fHTTPBody      = 11 // HttpRequest.body (string)
	fHTTPRawBody   = 12 // HttpRequest.raw_body (bytes)
	fHTTPHeaderMap = 13 // HttpRequest.header_map (core.v3.HeaderMap)

	fHeaderMapHeaders = 1 // HeaderMap.headers (repeated HeaderValue)

	fHeaderValueKey      = 1 // HeaderValue.key
	fHeaderValueValue    = 2 // HeaderValue.value
	fHeaderValueRawValue = 3 // HeaderValue.raw_value

	fMapKey   = 1 // a map entry's key
	fMapValue = 2 // a map entry's value
)

// wireRequest accumulates a CheckRequest's fields as its bytes are read.
type wireRequest struct {
	envoyRequest
	bodyField, rawBodyField []byte           // HttpRequest.body and raw_body, as sent
	addressMember           protowire.Number // the Address oneof member set last
}

type mapKV struct{ key, value string }

// decodeCheckRequest reads what phonegate needs of a CheckRequest from its
// protobuf bytes. b must not change afterwards: the strings and slices of
// the result point into it.
func decodeCheckRequest(b []byte) (*envoyRequest, error) {
	w := &wireRequest{}
	if err := w.decode(b); err != nil {
		return nil, err
	}
	return &w.envoyRequest, nil
}

// decode reads b into w.envoyRequest, as decodeCheckRequest.
func (w *wireRequest) decode(b []byte) error {
	if err := w.message(b, w.checkRequest); err != nil {
		return err
	}
	e := &w.envoyRequest
	e.body = w.rawBodyField
	if len(e.body) == 0 {
		e.body = w.bodyField
	}
	return nil
}

// mapHint is the room a map field's map is made with, on its first entry:
// Envoy sends a dozen or two headers. The map grows past it as any map
// does; entries are put in as they are read (the last of a key wins, as
// protobuf-go builds the map), so a message holding one key over and over
// is a map of one, and nothing is kept per entry sent.
const mapHint = 16

// putEntry puts kv into *m, making the map on the first entry: no entries is
// a nil map, as protobuf-go leaves it.
func putEntry(m *map[string]string, kv mapKV) {
	if *m == nil {
		*m = make(map[string]string, mapHint)
	}
	(*m)[kv.key] = kv.value
}

// message reads the fields of one message in b, handing each to field; a
// field it does not take (false) is skipped as unknown.
func (w *wireRequest) message(b []byte, field func(num protowire.Number, typ protowire.Type, v []byte) (bool, error)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber {
			return errMalformedRequest
		}
		b = b[n:]
		if typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return errMalformedRequest
			}
			taken, err := field(num, typ, v)
			if err != nil {
				return err
			}
			if taken {
				b = b[m:]
				continue
			}
		}
		// Every field phonegate reads is length-delimited: anything else,
		// including a known field sent with another wire type, is unknown.
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return errMalformedRequest
		}
		b = b[m:]
	}
	return nil
}

func (w *wireRequest) checkRequest(num protowire.Number, _ protowire.Type, v []byte) (bool, error) {
	if num == fCheckRequestAttributes {
		return true, w.message(v, w.attributes)
	}
	return false, nil
}

func (w *wireRequest) attributes(num protowire.Number, _ protowire.Type, v []byte) (bool, error) {
	switch num {
	case fAttrsSource:
		return true, w.message(v, w.peer)
	case fAttrsRequest:
		return true, w.message(v, w.request)
	case fAttrsContextExtensions:
		kv, err := w.mapEntry(v)
		if err == nil {
			putEntry(&w.contextExtensions, kv)
		}
		return true, err
	}
	return false, nil
}

func (w *wireRequest) peer(num protowire.Number, _ protowire.Type, v []byte) (bool, error) {
	if num == fPeerAddress {
		return true, w.message(v, w.address)
	}
	return false, nil
}

func (w *wireRequest) address(num protowire.Number, _ protowire.Type, v []byte) (bool, error) {
	switch num {
	case fAddressSocket, fAddressPipe, fAddressInternal:
		if w.addressMember != num {
			// Another member of the oneof was set: this one starts empty.
			w.source = ""
			w.addressMember = num
		}
		if num == fAddressSocket {
			return true, w.message(v, w.socketAddress)
		}
		return true, nil // a pipe or internal address: no source address
	}
	return false, nil
}

func (w *wireRequest) socketAddress(num protowire.Number, _ protowire.Type, v []byte) (bool, error) {
	if num == fSocketAddressAddress {
		w.source = str(v)
		return true, nil
	}
	return false, nil
}

func (w *wireRequest) request(num protowire.Number, _ protowire.Type, v []byte) (bool, error) {
	if num == fRequestHTTP {
		return true, w.message(v, w.http)
	}
	return false, nil
}

func (w *wireRequest) http(num protowire.Number, _ protowire.Type, v []byte) (bool, error) {
	switch num {
	case fHTTPMethod:
		w.method = str(v)
	case fHTTPPath:
		w.path = str(v)
	case fHTTPHost:
		w.host = str(v)
	case fHTTPBody:
		w.bodyField = v
	case fHTTPRawBody:
		w.rawBodyField = v
	case fHTTPHeaders:
		kv, err := w.mapEntry(v)
		if err == nil {
			putEntry(&w.headers, kv)
			w.phoneHeaders = w.phoneHeaders || isPhoneHeader(kv.key)
		}
		return true, err
	case fHTTPHeaderMap:
		w.hasHeaderMap = true
		return true, w.message(v, w.headerMapField)
	default:
		return false, nil
	}
	return true, nil
}

func (w *wireRequest) headerMapField(num protowire.Number, _ protowire.Type, v []byte) (bool, error) {
	if num != fHeaderMapHeaders {
		return false, nil
	}
	var hv headerField
	err := w.message(v, func(num protowire.Number, _ protowire.Type, v []byte) (bool, error) {
		switch num {
		case fHeaderValueKey:
			hv.key = str(v)
		case fHeaderValueValue:
			hv.value = str(v)
		case fHeaderValueRawValue:
			hv.raw = str(v)
		default:
			return false, nil
		}
		return true, nil
	})
	w.headerMap = append(w.headerMap, hv)
	return true, err
}

// mapEntry reads one entry of a map<string, string>: a message {key = 1;
// value = 2}, either absent meaning "".
func (w *wireRequest) mapEntry(v []byte) (mapKV, error) {
	var kv mapKV
	err := w.message(v, func(num protowire.Number, _ protowire.Type, v []byte) (bool, error) {
		switch num {
		case fMapKey:
			kv.key = str(v)
		case fMapValue:
			kv.value = str(v)
		default:
			return false, nil
		}
		return true, nil
	})
	return kv, err
}

// str is b as a string without a copy: b is part of a message's bytes that
// nothing writes to once received.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
