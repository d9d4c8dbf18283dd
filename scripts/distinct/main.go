// Command distinct writes N Envoy-shaped ext_authz CheckRequests, each with
// its own phone number, as one JSON array in the protobuf JSON form that ghz
// reads with --data-file: ghz sends request k of a run the array's element
// k mod N (for unary calls it cycles over the array's messages in order).
// scripts/compare.sh --distinct N uses it to measure signup traffic, where
// numbers are distinct, instead of one number repeated.
//
//	go run ./scripts/distinct -n 8000 -o /tmp/checks.json
//
// Each request has the shape of filter/testdata/load/check.json: a POST to
// /signup with Envoy's headers and a JSON signup body. What differs is, for
// request i:
//
//   - the number: a valid mobile of GB, US, CA, DE, FR, IN or BR in turn
//     (libphonenumber's ranges; NANP ranges are fixed_line_or_mobile),
//     written in international form as a user types it, and the body's
//     email and locale with it;
//   - x-request-id: a UUID (version 4 form) derived from i, so that the file
//     is the same on every run;
//   - the source address: 198.18.0.0/15 plus i+1 (RFC 2544's benchmarking
//     range, which phonegate, like any IP-country lookup, calls unknown).
//
// At most 131,070 requests: one address each from the /15.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"net/netip"
	"os"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

// maxN is the number of host addresses of 198.18.0.0/15 after its first.
const maxN = 1<<17 - 2

// countries are the numbers' ranges: number(k) is country's k'th number,
// for k below maxN/len(countries)+1, every one a mobile libphonenumber
// calls valid and none in the receive-SMS list or a fictitious range
// (TestNumbersAreValidMobiles; +1 415 200 and 202 have receive-SMS numbers,
// hence 203).
var countries = []struct {
	locale string
	number func(k int) string
}{
	{"en-GB", func(k int) string { return fmt.Sprintf("+44 7400 %06d", k) }},
	{"en-US", func(k int) string { return fmt.Sprintf("+1 415 %03d %04d", 203+k/10000, k%10000) }},
	{"en-CA", func(k int) string { return fmt.Sprintf("+1 416 %03d %04d", 200+k/10000, k%10000) }},
	{"de-DE", func(k int) string { return fmt.Sprintf("+49 151 %08d", k) }},
	{"fr-FR", func(k int) string { return fmt.Sprintf("+33 6 12 %02d %02d %02d", k/10000, k/100%100, k%100) }},
	{"en-IN", func(k int) string { return fmt.Sprintf("+91 98%03d %05d", 100+k/100000, k%100000) }},
	{"pt-BR", func(k int) string { return fmt.Sprintf("+55 11 96%03d %04d", k/10000, k%10000) }},
}

func main() {
	n := flag.Int("n", 8000, fmt.Sprintf("requests to write, 1 to %d", maxN))
	out := flag.String("o", "", "file to write (default standard output)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("distinct: ")
	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			log.Fatal(err)
		}
		w = f
	}
	if err := write(w, *n); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
}

// write writes requests 0..n-1 as a JSON array, one request a line. ghz
// takes the data for an array only if its first byte is '['.
func write(w io.Writer, n int) error {
	if n < 1 || n > maxN {
		return fmt.Errorf("-n %d: want 1 to %d (one source address a request from 198.18.0.0/15)", n, maxN)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("[")
	for i := range n {
		if i > 0 {
			bw.WriteString(",\n")
		}
		b, err := protojson.Marshal(request(i))
		if err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
		bw.Write(b)
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// request is the i'th signup, of country i mod len(countries).
func request(i int) *authv3.CheckRequest {
	c := countries[i%len(countries)]
	body := fmt.Sprintf(`{"email":"user%d@example.com","password":"correct horse battery staple","profile":{"first_name":"Ann","last_name":"Example","locale":"%s","phone":"%s"}}`,
		i, c.locale, c.number(i/len(countries)))
	var a4 [4]byte
	binary.BigEndian.PutUint32(a4[:], 198<<24|18<<16+uint32(i+1))
	addr := netip.AddrFrom4(a4)
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source: &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
			SocketAddress: &corev3.SocketAddress{Address: addr.String(), PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(32768 + i%28000)}}}}},
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: "POST", Path: "/signup", Host: "signup.example.com", Scheme: "http", Protocol: "HTTP/1.1",
			Headers: map[string]string{
				":method": "POST", ":path": "/signup", ":authority": "signup.example.com",
				"content-type": "application/json", "user-agent": "curl/8.5.0", "x-request-id": requestID(i),
			},
			Body: body,
		}},
	}}
}

// requestID is a UUID of version 4's form, the same on every run: its first
// 32 bits are a bijection of i (so distinct i give distinct ids), the other
// free bits splitmix64 of i.
func requestID(i int) string {
	x := uint32(i) ^ 0x6f1c5a0e // lowbias32: xor-shifts and odd multipliers, each invertible
	x ^= x >> 16
	x *= 0x7feb352d
	x ^= x >> 15
	x *= 0x846ca68b
	x ^= x >> 16
	r := uint64(i) + 0x9e3779b97f4a7c15 // splitmix64's finaliser
	r = (r ^ r>>30) * 0xbf58476d1ce4e5b9
	r = (r ^ r>>27) * 0x94d049bb133111eb
	r ^= r >> 31
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", x, r>>48, r>>36&0xfff, 0x8000|r>>22&0x3fff, r&0xffffffffffff)
}
