package filter

import (
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/phonegate/phonegate/policy"
)

// DefaultHTTPAuthzPrefix is where the HTTP ext_authz mode listens on the HTTP
// port: Envoy's http_service (and Istio's envoyExtAuthzHttp) sends the
// original request there with this path_prefix in front of its path.
const DefaultHTTPAuthzPrefix = "/authz"

// headersToRemove is the response header that asks Envoy's HTTP ext_authz
// filter to remove request headers before it forwards the request.
const headersToRemove = "x-envoy-auth-headers-to-remove"

// serveHTTPAuthz answers Envoy's HTTP ext_authz mode with the same decisions
// as Check: 200 with the x-phone-* headers (and x-envoy-auth-headers-to-remove
// naming the client's own x-phone-* headers) to let the request through, or
// the denial's status, content type and JSON body. Envoy forwards any other
// answer to the client, so a fault of phonegate's is a 503 with a JSON body:
// the request is refused, never let through unjudged.
//
// Envoy sends only the headers its allowed_headers lets through: allow
// content-type, content-encoding, x-forwarded-for, x-envoy-auth-partial-body
// and the prefix x-phone- so that phonegate sees what it must judge and clean.
func (s *Server) serveHTTPAuthz(w http.ResponseWriter, r *http.Request) {
	v, f := s.check(r.Context(), func() *policy.Request { return s.httpRequestView(r) })
	h := w.Header()
	if f != nil {
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":"phonegate_unavailable","message":"the phone check could not be made"}`)
		return
	}
	if v.rejected() {
		h.Set("Content-Type", "application/json")
		w.WriteHeader(v.decision.Status)
		w.Write(denialJSON(&v))
		return
	}
	if v.decision != nil {
		for _, o := range upstreamHeaders(v.decision, v.route.DryRun) { // the gRPC mode's headers
			h.Set(o[0], o[1])
		}
	}
	if spoofed := spoofedHeaders(&v); len(spoofed) > 0 {
		h.Set(headersToRemove, strings.Join(spoofed, ","))
	}
	w.WriteHeader(http.StatusOK)
}

// httpRequestView builds the request view from what Envoy's HTTP ext_authz
// filter sent: the original method, the original path behind the prefix
// (normalized as in gRPC mode), the allowed headers, and the buffered body.
// At most one byte past MaxBodyBytes is read, so a larger body is judged
// body_too_large exactly as in gRPC mode.
func (s *Server) httpRequestView(r *http.Request) *policy.Request {
	headers := make(map[string]string, len(r.Header))
	for name, values := range r.Header {
		headers[strings.ToLower(name)] = strings.Join(values, ",")
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, int64(s.opts.MaxBodyBytes)+1))
	source, _, _ := net.SplitHostPort(r.RemoteAddr)
	return &policy.Request{
		Method:      strings.ToUpper(r.Method),
		Path:        policy.NormalizePath(strings.TrimPrefix(requestPath(r), s.authzPrefix())),
		Host:        strings.ToLower(r.Host),
		Headers:     headers,
		ContentType: headers["content-type"],
		Body:        body,
		PartialBody: strings.EqualFold(headers[partialBodyHeader], "true"),
		ClientIP:    clientIP(headers, source, s.opts.XFFTrustedHops),
	}
}

func (s *Server) authzPrefix() string {
	if s.opts.HTTPAuthzPrefix == "" {
		return DefaultHTTPAuthzPrefix
	}
	return strings.TrimSuffix(s.opts.HTTPAuthzPrefix, "/")
}
