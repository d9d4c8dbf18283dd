package filter

import (
	"bytes"
	"net/netip"
	"strings"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/phonegate/phonegate/policy"
)

// partialBodyHeader is set by Envoy to "true" when it cut the body at
// with_request_body.max_request_bytes (allow_partial_message).
const partialBodyHeader = "x-envoy-auth-partial-body"

// requestView turns Envoy's CheckRequest into the plain request that policies
// read. xffTrustedHops is how many proxies in front of Envoy append to
// x-forwarded-for and are trusted.
func requestView(cr *authv3.CheckRequest, xffTrustedHops int) *policy.Request {
	return messageRequest(cr).view(xffTrustedHops)
}

// messageRequest is what phonegate reads of a CheckRequest message.
func messageRequest(cr *authv3.CheckRequest) *envoyRequest {
	attrs := cr.GetAttributes()
	h := attrs.GetRequest().GetHttp()
	e := envoyRequest{
		method:       h.GetMethod(),
		path:         h.GetPath(),
		host:         h.GetHost(),
		headers:      h.GetHeaders(),
		hasHeaderMap: h.GetHeaderMap() != nil,
		// A copy: the body is read in place (jsonTree), and a caller in
		// process may use its message's bytes again once Check returns.
		body:              bytes.Clone(h.GetRawBody()),
		source:            attrs.GetSource().GetAddress().GetSocketAddress().GetAddress(),
		contextExtensions: attrs.GetContextExtensions(),
	}
	if len(e.body) == 0 && h.GetBody() != "" {
		e.body = []byte(h.GetBody())
	}
	for _, hv := range h.GetHeaderMap().GetHeaders() {
		e.headerMap = append(e.headerMap, headerField{hv.GetKey(), hv.GetValue(), string(hv.GetRawValue())})
	}
	for name := range e.headers {
		e.phoneHeaders = e.phoneHeaders || isPhoneHeader(name)
	}
	return &e
}

// envoyRequest is what phonegate reads of a CheckRequest, however it was
// decoded: from a message (requestView) or from its bytes as received
// (wirerequest.go).
type envoyRequest struct {
	method, path, host string
	headers            map[string]string // attributes.request.http.headers; nil when none
	headerMap          []headerField     // header_map.headers, in order
	hasHeaderMap       bool              // header_map was sent, even empty
	body               []byte            // raw_body, else body
	source             string            // the source's socket address
	contextExtensions  map[string]string // nil when none
	req                policy.Request    // what view returns: made with the request, not apart
	// phoneHeaders: a name of the headers view reads starts with x-phone-
	// (any case). Read with the headers, so that a check whose client sent
	// none (the usual one) does not look through them again for headers to
	// remove.
	phoneHeaders bool
}

// headerField is a HeaderValue of header_map.
type headerField struct{ key, value, raw string }

// view is the plain request that policies read.
func (e *envoyRequest) view(xffTrustedHops int) *policy.Request {
	headers := e.headers
	if len(headers) == 0 && e.hasHeaderMap {
		// Envoy sends header_map instead of headers with encode_raw_headers: true.
		// Room for at most 64: names sent over and over make a small map.
		headers = make(map[string]string, min(len(e.headerMap), 64))
		e.phoneHeaders = false // these are the headers now
		// A name sent again is joined in a builder of its own: joining
		// strings at every repeat copies n²/2 bytes for n repeats.
		var repeated map[string]*strings.Builder
		for _, hv := range e.headerMap {
			name := asciiLower(hv.key) // as Envoy would: the name removed is the one sent
			e.phoneHeaders = e.phoneHeaders || isPhoneHeader(name)
			v := hv.raw
			if v == "" {
				v = hv.value
			}
			prev, ok := headers[name]
			if !ok {
				headers[name] = v
				continue
			}
			b := repeated[name]
			if b == nil {
				if repeated == nil {
					repeated = map[string]*strings.Builder{}
				}
				b = new(strings.Builder)
				b.WriteString(prev)
				repeated[name] = b
			}
			b.WriteByte(',')
			b.WriteString(v)
		}
		for name, b := range repeated {
			headers[name] = b.String()
		}
	}
	if headers == nil {
		headers = map[string]string{}
	}
	method := e.method
	if method == "" {
		method = headers[":method"]
	}
	path := e.path
	if path == "" {
		path = headers[":path"]
	}
	host := e.host
	if host == "" {
		host = headers[":authority"]
	}
	e.req = policy.Request{
		Method:            strings.ToUpper(method),
		Path:              policy.NormalizePath(path),
		Host:              host,
		Headers:           headers,
		ContentType:       headers["content-type"],
		Body:              e.body,
		PartialBody:       strings.EqualFold(headers[partialBodyHeader], "true"),
		ClientIP:          clientIP(headers, e.source, xffTrustedHops),
		ContextExtensions: e.contextExtensions,
	}
	return &e.req
}

// clientIP finds the address of the client: the entry of x-forwarded-for that
// the trusted hops vouch for (counting from the right, where Envoy appended
// its own downstream peer), else x-envoy-external-address, else the source
// address of the connection to Envoy. Entries that are not IP addresses are
// skipped over, never returned.
func clientIP(headers map[string]string, source string, trustedHops int) string {
	if xff := headers["x-forwarded-for"]; xff != "" {
		if ip, ok := parseIP(hopFromRight(xff, max(trustedHops, 0))); ok {
			return ip
		}
	}
	if ip, ok := parseIP(headers["x-envoy-external-address"]); ok {
		return ip
	}
	if ip, ok := parseIP(source); ok {
		return ip
	}
	return ""
}

// hopFromRight is entry k of the comma-separated list xff counting from the
// right (0 is the last), or the first entry when there are fewer: Envoy
// sends x-forwarded-for with every request, and this reads it without
// splitting it.
func hopFromRight(xff string, k int) string {
	end := len(xff)
	for ; k > 0; k-- {
		i := strings.LastIndexByte(xff[:end], ',')
		if i < 0 {
			break
		}
		end = i
	}
	return xff[strings.LastIndexByte(xff[:end], ',')+1 : end]
}

func parseIP(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false // no header: not worth a parse error
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	if addr.Is4() {
		return s, true // ParseAddr takes dotted quads only as String writes them
	}
	return addr.Unmap().String(), true
}
