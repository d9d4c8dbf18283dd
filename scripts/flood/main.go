// Command flood sends N distinct phone numbers through a phonegate server's
// gRPC Check, as Envoy would send signups, and reports the server's resident
// memory as it goes: it shows that memory is bounded by construction whatever
// the number of distinct numbers.
//
//	go run ./scripts/flood -n 1000000                 # builds and starts phonegate itself
//	go run ./scripts/flood -addr 127.0.0.1:9001 -pid 1234 -n 100000
//
// Started by flood, phonegate runs on loopback with the settings of
// deploy/base (GOMEMLIMIT, flags) unless -env and -args say otherwise.
// Traffic goes to loopback only, and the run stops after N checks.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func main() {
	n := flag.Int("n", 1_000_000, "distinct numbers to send")
	conc := flag.Int("c", 8, "concurrent checks")
	addr := flag.String("addr", "", "a running phonegate's gRPC address (default: build and start one on loopback)")
	pid := flag.Int("pid", 0, "with -addr: the server's process id, for its memory")
	env := flag.String("env", "GOMEMLIMIT=80MiB GOGC=400", "environment of a started server (deploy/base's), space-separated")
	args := flag.String("args", "", "extra flags for a started server, space-separated")
	flag.Parse()
	log.SetFlags(0)

	if *addr == "" {
		stop, a, p := startServer(*env, *args)
		defer stop()
		*addr, *pid = a, p
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := authv3.NewAuthorizationClient(conn)

	fmt.Printf("server rss at start: %s\n", memory(*pid))
	var next, done, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(*n) {
					return
				}
				_, err := client.Check(context.Background(), checkRequest(i))
				if err != nil {
					failed.Add(1)
				}
				if d := done.Add(1); d%100_000 == 0 {
					fmt.Printf("%8d numbers  %6.0f checks/s  server %s\n", d, float64(d)/time.Since(start).Seconds(), memory(*pid))
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("done: %d numbers in %s, %d failed; server %s\n", *n, time.Since(start).Round(time.Millisecond), failed.Load(), memory(*pid))
	if failed.Load() > 0 {
		os.Exit(1)
	}
}

// checkRequest is the i'th signup: a distinct number of one of several
// countries, in one of the shapes signup APIs send, from a distinct address.
func checkRequest(i int64) *authv3.CheckRequest {
	var contentType, body string
	switch i % 4 {
	case 0:
		contentType, body = "application/json", fmt.Sprintf(`{"email":"u%d@example.com","phone":"+4474%08d","password":"x"}`, i, i%1e8)
	case 1:
		contentType, body = "application/json", fmt.Sprintf(`{"user":{"email":"u%d@example.com","phoneNumber":"+1 415 %03d %04d"}}`, i, 200+i/1e4%800, i%1e4)
	case 2:
		contentType, body = "application/x-www-form-urlencoded", fmt.Sprintf("email=u%d%%40example.com&phone=%%2B336%08d", i, i%1e8)
	default:
		contentType, body = "application/json", fmt.Sprintf(`{"customer":{"phone":"+49 151 %08d","name":"n"}}`, i%1e8)
	}
	ip := fmt.Sprintf("198.%d.%d.%d", 18+i>>16&1, i>>8&255, i&255)
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source: &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
			SocketAddress: &corev3.SocketAddress{Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 40000}}}}},
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: "POST", Path: "/signup", Host: "signup.example.com",
			Headers: map[string]string{":method": "POST", ":path": "/signup", "content-type": contentType, "x-forwarded-for": ip},
			RawBody: []byte(body),
		}},
	}}
}

// memory reads a process's resident memory now and at its peak.
func memory(pid int) string {
	if pid == 0 {
		return "(no pid)"
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	defer f.Close()
	var rss, hwm string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		switch k {
		case "VmRSS":
			rss = strings.TrimSpace(v)
		case "VmHWM":
			hwm = strings.TrimSpace(v)
		}
	}
	return fmt.Sprintf("rss %s (peak %s)", mib(rss), mib(hwm))
}

func mib(kb string) string {
	n, err := strconv.Atoi(strings.TrimSuffix(kb, " kB"))
	if err != nil {
		return kb
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/1024)
}

// startServer builds phonegate and serves its embedded default on free
// loopback ports, ready; stop ends it.
func startServer(env, extra string) (stop func(), grpcAddr string, pid int) {
	dir, err := os.MkdirTemp("", "flood")
	if err != nil {
		log.Fatal(err)
	}
	bin := filepath.Join(dir, "phonegate")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/phonegate").CombinedOutput(); err != nil {
		log.Fatalf("go build: %v\n%s", err, out)
	}
	grpcAddr, httpAddr := freePort(), freePort()
	args := append([]string{"serve", "--grpc-addr", grpcAddr, "--http-addr", httpAddr, "--log-level", "warn"}, strings.Fields(extra)...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), strings.Fields(env)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	for range 300 {
		if resp, err := http.Get("http://" + httpAddr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("phonegate %s (env %s)\n", strings.Join(args, " "), env)
	return func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	}, grpcAddr, cmd.Process.Pid
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
