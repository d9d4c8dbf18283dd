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

// matches reports whether req fits every part of m. Paths are compared as
// [NormalizePath] leaves them and ignoring case, and an exact path also
// matches with a trailing slash: Express and ASP.NET route /API/Register/ to
// the handler of /api/register, so a route for one must catch the others.
func (m *Match) matches(req *Request) bool {
	path := NormalizePath(req.Path)
	if m.Path != "" && !strings.EqualFold(path, m.Path) &&
		!(len(path) > 1 && strings.HasSuffix(path, "/") && strings.EqualFold(path[:len(path)-1], m.Path)) {
		return false
	}
	if m.PathPrefix != "" && !(len(path) >= len(m.PathPrefix) && strings.EqualFold(path[:len(m.PathPrefix)], m.PathPrefix)) {
		return false
	}
	if m.PathRegex != nil && !m.PathRegex.MatchString(path) {
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
