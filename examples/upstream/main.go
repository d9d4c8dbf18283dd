// Command upstream is a stand-in signup API for trying phonegate: it answers
// every request with what it received from Envoy, the x-phone-* headers
// first, so you can see what phonegate told the upstream.
//
//	go run ./examples/upstream --addr 127.0.0.1:8081
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "`address` to listen on (Envoy's upstream in envoy.yaml)")
	flag.Parse()
	srv := &http.Server{Addr: *addr, Handler: handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("signup example listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}

// received is what the upstream answers: the phonegate headers it got, and
// the request as it arrived.
type received struct {
	Phone  map[string]string `json:"phonegate"`
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Body   string            `json:"body"`
}

func handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		out := received{Phone: map[string]string{}, Method: r.Method, Path: r.URL.Path, Body: string(body)}
		for name, values := range r.Header {
			if lower := strings.ToLower(name); strings.HasPrefix(lower, "x-phone-") {
				out.Phone[lower] = strings.Join(values, ",")
			}
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	})
}
