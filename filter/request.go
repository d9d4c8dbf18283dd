package filter

import (
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
	attrs := cr.GetAttributes()
	h := attrs.GetRequest().GetHttp()
	headers := h.GetHeaders()
	if len(headers) == 0 && h.GetHeaderMap() != nil {
		// Envoy sends header_map instead of headers with encode_raw_headers: true.
		headers = make(map[string]string, len(h.GetHeaderMap().GetHeaders()))
		for _, hv := range h.GetHeaderMap().GetHeaders() {
			name := strings.ToLower(hv.GetKey())
			v := string(hv.GetRawValue())
			if v == "" {
				v = hv.GetValue()
			}
			if prev, ok := headers[name]; ok {
				v = prev + "," + v
			}
			headers[name] = v
		}
	}
	if headers == nil {
		headers = map[string]string{}
	}
	method := h.GetMethod()
	if method == "" {
		method = headers[":method"]
	}
	path := h.GetPath()
	if path == "" {
		path = headers[":path"]
	}
	host := h.GetHost()
	if host == "" {
		host = headers[":authority"]
	}
	body := h.GetRawBody()
	if len(body) == 0 && h.GetBody() != "" {
		body = []byte(h.GetBody())
	}
	return &policy.Request{
		Method:            strings.ToUpper(method),
		Path:              policy.NormalizePath(path),
		Host:              host,
		Headers:           headers,
		ContentType:       headers["content-type"],
		Body:              body,
		PartialBody:       strings.EqualFold(headers[partialBodyHeader], "true"),
		ClientIP:          clientIP(headers, attrs.GetSource().GetAddress().GetSocketAddress().GetAddress(), xffTrustedHops),
		ContextExtensions: attrs.GetContextExtensions(),
	}
}

// clientIP finds the address of the client: the entry of x-forwarded-for that
// the trusted hops vouch for (counting from the right, where Envoy appended
// its own downstream peer), else x-envoy-external-address, else the source
// address of the connection to Envoy. Entries that are not IP addresses are
// skipped over, never returned.
func clientIP(headers map[string]string, source string, trustedHops int) string {
	if xff := headers["x-forwarded-for"]; xff != "" {
		hops := strings.Split(xff, ",")
		i := len(hops) - 1 - max(trustedHops, 0)
		if i < 0 {
			i = 0
		}
		if ip, ok := parseIP(hops[i]); ok {
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
