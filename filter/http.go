package filter

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strings"

	"github.com/phonegate/phonegate/insight"
)

// HTTPHandler serves the HTTP port: /healthz (the process is alive), /readyz
// (a policy is loaded, the engine warm, and not draining; with the policy's
// hash), /metrics (Prometheus), /v1/insight (what phonegate makes of a
// number) and, under /authz, Envoy's HTTP ext_authz mode.
func (s *Server) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.serveReadyz)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /v1/insight", s.serveInsight)
	mux.HandleFunc("GET /v1/config", s.serveConfig)
	if s.opts.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	prefix := s.authzPrefix()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The HTTP ext_authz mode is dispatched on the raw path, before
		// ServeMux, which answers "//" and ".." paths with a redirect to
		// their clean form: Envoy would hand that redirect to the client
		// and the request would never be judged.
		if p := requestPath(r); p == prefix || strings.HasPrefix(p, prefix+"/") {
			s.serveHTTPAuthz(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// requestPath is the path as the client sent it, percent-encodings and all,
// without the query.
func requestPath(r *http.Request) string {
	p := r.RequestURI
	if !strings.HasPrefix(p, "/") {
		p = r.URL.EscapedPath() // absolute-form or "*"
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	return p
}

type readiness struct {
	Status       string `json:"status"`
	PolicyHash   string `json:"policy_hash,omitempty"`
	PolicySource string `json:"policy_source,omitempty"`
}

func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	rd := readiness{Status: "ready"}
	if set := s.Policy(); set != nil {
		rd.PolicyHash, rd.PolicySource = set.Hash, set.Source
	}
	code := http.StatusOK
	if !s.Ready() {
		rd.Status, code = "not ready", http.StatusServiceUnavailable
	}
	writeJSON(w, code, rd)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// serveInsight answers GET /v1/insight?number=&region=&ip=: the insight of one
// number, as `phonegate lookup` prints it, for "why was my number flagged?".
// It uses the engine of the policy being served, so its data tables apply.
func (s *Server) serveInsight(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	number := q.Get("number")
	if number == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "missing_number", "message": "give the number as ?number=+447400123456 (and &region=GB for a national one)"})
		return
	}
	if len(number) > insight.MaxInputLen {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_number", "message": fmt.Sprintf("number is over %d characters: no phone number is", insight.MaxInputLen)})
		return
	}
	// Only a region libphonenumber knows is a hint; anything else would make
	// every national number invalid, and would be cached under its own key.
	region := strings.ToUpper(strings.TrimSpace(q.Get("region")))
	if region != "" && !insight.IsRegion(region) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_region", "message": "region must be an ISO 3166-1 alpha-2 region libphonenumber knows, such as GB or US"})
		return
	}
	cur := s.current.Load()
	if cur == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "not_ready", "message": "no policy loaded yet"})
		return
	}
	in := cur.engine.Lookup(number, region)
	if ip := q.Get("ip"); ip != "" {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_ip", "message": "ip is not an IP address"})
			return
		}
		in = cur.engine.ForRequest(in, addr, nil) // a question, not a sighting: velocity untouched
	}
	writeJSON(w, http.StatusOK, in)
}
