package policy

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// ErrUnknownRoute is returned by [Set.Route] when Envoy's context_extensions
// name a route the loaded policy does not define: a configuration fault,
// answered with a gRPC error so Envoy's failure mode decides.
var ErrUnknownRoute = errors.New("unknown route")

// Route picks the route for req: the one named by the context_extensions key
// `phonegate-route`, else the first whose match fits. It returns nil when no
// route applies.
func (s *Set) Route(req *Request) (*Route, error) {
	if name, ok := req.ContextExtensions[RouteExtensionKey]; ok {
		for _, r := range s.Routes {
			if r.Name == name {
				return r, nil
			}
		}
		return nil, fmt.Errorf("context_extensions %s=%q: %w", RouteExtensionKey, name, ErrUnknownRoute)
	}
	for _, r := range s.Routes {
		if r.Match.matches(req) {
			return r, nil
		}
	}
	return nil, nil
}

func (m *Match) matches(req *Request) bool {
	if m.Path != "" && req.Path != m.Path {
		return false
	}
	if m.PathPrefix != "" && !strings.HasPrefix(req.Path, m.PathPrefix) {
		return false
	}
	if m.PathRegex != nil && !m.PathRegex.MatchString(req.Path) {
		return false
	}
	if len(m.Methods) > 0 && !slices.Contains(m.Methods, req.Method) {
		return false
	}
	if m.Host != "" && !hostMatches(m.Host, req.Host) {
		return false
	}
	return true
}

// hostMatches compares a request's host (port dropped) with an exact host or
// a leading wildcard, which matches at least one more label.
func hostMatches(pattern, host string) bool {
	host = strings.ToLower(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return len(host) > len(suffix) && strings.HasSuffix(host, suffix)
	}
	return host == pattern
}
