package filter

import (
	"encoding/json"
	"net/http"
)

// HTTPHandler serves the HTTP port: /healthz (the process is alive), /readyz
// (a policy is loaded, the engine warm, and not draining; with the policy's
// hash) and /metrics (Prometheus).
func (s *Server) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.serveReadyz)
	mux.Handle("GET /metrics", s.metrics.handler())
	return mux
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
