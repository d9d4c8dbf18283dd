package filter

import (
	"fmt"
	"strings"
	"time"
)

// MaxBodyBytesLimit is the largest --max-body-bytes accepted: a body is held
// whole in memory while it is judged, once per check in flight.
const MaxBodyBytesLimit = 64 << 20

// Validate reports the first option that cannot work, naming it and its
// value, so that a command can refuse to start before anything listens. The
// zero value of every option is valid (it takes the default).
func (o *Options) Validate() error {
	switch {
	case o.XFFTrustedHops < 0 || o.XFFTrustedHops > 16:
		return fmt.Errorf("xff-trusted-hops %d: want 0 to 16 proxies in front of Envoy", o.XFFTrustedHops)
	case o.DrainTimeout < 0 || o.DrainTimeout > 10*time.Minute:
		return fmt.Errorf("drain-timeout %s: want 0 (the default, 10s) to 10m", o.DrainTimeout)
	case o.MaxBodyBytes < 0 || o.MaxBodyBytes > MaxBodyBytesLimit:
		return fmt.Errorf("max-body-bytes %d: want 0 (the default, %d) to %d", o.MaxBodyBytes, DefaultMaxBodyBytes, MaxBodyBytesLimit)
	case o.CacheSize > 1<<22:
		return fmt.Errorf("cache-size %d: want at most %d entries (negative disables the cache)", o.CacheSize, 1<<22)
	}
	if p := o.HTTPAuthzPrefix; p != "" {
		switch {
		case !strings.HasPrefix(p, "/") || p == "/":
			return fmt.Errorf("http-authz-prefix %q: want a path such as /authz (not / alone)", p)
		case strings.HasSuffix(p, "/") || strings.Contains(p, "//") || strings.ContainsAny(p, "?#%\\ ") || strings.Contains(p, "/./") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/.."):
			return fmt.Errorf("http-authz-prefix %q: want a plain path without a trailing /, such as /authz", p)
		}
		for _, own := range []string{"/healthz", "/readyz", "/metrics", "/v1", "/debug"} {
			if p == own || strings.HasPrefix(p+"/", own+"/") || strings.HasPrefix(own+"/", p+"/") {
				return fmt.Errorf("http-authz-prefix %q: it would take over %s, which the HTTP port serves", p, own)
			}
		}
	}
	return nil
}
