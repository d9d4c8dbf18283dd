package filter

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/internal/redistest"
	"google.golang.org/grpc/codes"
)

// fleetPolicy refuses a number checked four times in the window, whichever
// replica saw the checks; its route puts the velocity signals (seen,
// velocity_source) in the metadata, which the tests read.
const fleetPolicy = `
version: 1
velocity: {window: 10m}
routes:
  - {name: signup, match: {path: /signup}, fields: [phone], policy: p, metadata_signals: true}
policies:
  - name: p
    rules:
      - when: insight.velocity.seen >= 4
        action: reject
        message: this number is being used too often
`

var fleetKey = []byte("the fleet's shared hash key")

// replica is one phonegate server with its own Redis-backed velocity store,
// as one pod of a deployment, served on loopback.
func replica(t *testing.T, redisURL string, timeout time.Duration) (*running, *insight.RedisVelocityStore) {
	t.Helper()
	store, err := insight.NewRedisVelocityStore(insight.NewVelocityStore(insight.VelocityConfig{}), insight.RedisOptions{URL: redisURL, Timeout: timeout, Key: fleetKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := New(Options{Velocity: store, HashKey: fleetKey})
	srv.SetPolicy(mustCompile(t, fleetPolicy))
	srv.MarkWarm()
	return serveOn(t, srv), store
}

// signup sends one check of number from addr and returns its metadata and
// whether it was rejected; a gRPC error fails the test.
func signup(t *testing.T, r *running, number, addr string) (map[string]any, bool) {
	t.Helper()
	resp, err := r.auth.Check(context.Background(), envoyCheck("POST", "/signup", "application/json", `{"phone":"`+number+`"}`, map[string]string{"x-forwarded-for": addr}))
	if err != nil {
		t.Fatalf("check of %s: %v", number, err)
	}
	return resp.GetDynamicMetadata().AsMap(), codes.Code(resp.GetStatus().GetCode()) == codes.PermissionDenied
}

// TestReplicasShareVelocity: two replicas on one Redis count one number's
// checks together, so the fourth is refused wherever it lands; each replica
// alone has seen it twice.
func TestReplicasShareVelocity(t *testing.T) {
	redis := redistest.Start(t)
	a, _ := replica(t, redis.URL(), time.Second)
	b, _ := replica(t, redis.URL(), time.Second)
	for i, r := range []*running{a, b, a, b} {
		md, rejected := signup(t, r, "+447400123456", fmt.Sprintf("8.8.%d.8", i))
		if md["seen"] != float64(i+1) || md["velocity_source"] != insight.SourceRedis {
			t.Errorf("check %d: seen %v from %v, want %d from redis", i+1, md["seen"], md["velocity_source"], i+1)
		}
		if rejected != (i == 3) {
			t.Errorf("check %d: rejected=%v", i+1, rejected)
		}
	}
	// Another number is its own.
	if md, rejected := signup(t, b, "+447400654321", "8.8.8.8"); rejected || md["seen"] != float64(1) {
		t.Errorf("another number: seen %v, rejected %v", md["seen"], rejected)
	}
}

// load sends checks of distinct numbers from workers goroutines until stop
// is closed, and returns how many were answered and the errors of those that
// were not.
func load(r *running, workers int, stop <-chan struct{}) (answered func() int, errs func() []error) {
	var mu sync.Mutex
	n := 0
	var failed []error
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"phone":"+4474009%02d%03d"}`, w, i%1000)
				_, err := r.auth.Check(context.Background(), envoyCheck("POST", "/signup", "application/json", body, map[string]string{"x-forwarded-for": "8.8.8.8"}))
				mu.Lock()
				n++
				if err != nil {
					failed = append(failed, err)
				}
				mu.Unlock()
			}
		}()
	}
	done := sync.OnceFunc(wg.Wait)
	return func() int { mu.Lock(); defer mu.Unlock(); return n },
		func() []error { done(); return failed }
}

// waitFor calls cond until it holds, for up to about a minute of tries (a
// slow CI machine), and fails the test if it never does.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 600 {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("never: %s", what)
}

// TestRedisStoppedAndRestarted: Redis killed in the middle of a load fails
// no check (they go on with local counts, counted as degraded); restarted,
// the replicas share counts again without being told.
func TestRedisStoppedAndRestarted(t *testing.T) {
	redis := redistest.Start(t)
	// A stopped Redis refuses connections at once: a generous budget costs
	// this test nothing, and keeps a loaded CI machine from degrading the
	// checks that must reach Redis.
	a, store := replica(t, redis.URL(), 500*time.Millisecond)
	b, _ := replica(t, redis.URL(), 500*time.Millisecond)

	stop := make(chan struct{})
	answered, errs := load(a, 4, stop)
	waitFor(t, "100 checks answered before Redis stops", func() bool { return answered() >= 100 })
	up := store.Degraded() // on a loaded machine, a check may have been slower than its budget
	redis.Stop()
	before := answered()
	waitFor(t, "100 checks answered after Redis stopped", func() bool { return answered() >= before+100 })
	close(stop)
	if e := errs(); len(e) > 0 {
		t.Fatalf("%d checks failed with Redis stopped, the first: %v", len(e), e[0])
	}
	if store.Degraded() < up+100 {
		t.Errorf("%d checks counted as degraded with Redis stopped, want 100 at least", store.Degraded()-up)
	}
	if md, _ := signup(t, a, "+447400111111", "8.8.8.8"); md["velocity_source"] != insight.SourceLocal {
		t.Errorf("with Redis down, velocity from %v", md["velocity_source"])
	}

	redis.Restart()
	// The client reconnects by itself: counts come from Redis again...
	waitFor(t, "a check counted in Redis after the restart", func() bool {
		md, _ := signup(t, a, "+447400222222", "8.8.8.8")
		return md["velocity_source"] == insight.SourceRedis
	})
	// ... and are shared again: b sees a's checks of a new number.
	waitFor(t, "b counting in Redis", func() bool {
		md, _ := signup(t, b, "+447400333333", "8.8.8.8")
		return md["velocity_source"] == insight.SourceRedis
	})
	signup(t, a, "+447400444444", "8.8.8.8")
	if md, _ := signup(t, b, "+447400444444", "8.8.8.8"); md["seen"] != float64(2) || md["velocity_source"] != insight.SourceRedis {
		t.Errorf("after the restart, b saw a's check? seen %v from %v", md["seen"], md["velocity_source"])
	}
}

// TestRedisPausedChecksAnswer: a Redis that accepts connections but never
// answers (SIGSTOP) delays no check past its budget: every check is
// answered, with local counts, and counted as degraded. Resumed, Redis
// counts again.
func TestRedisPausedChecksAnswer(t *testing.T) {
	redis := redistest.Start(t)
	a, store := replica(t, redis.URL(), 20*time.Millisecond)
	// The first checks dial and load the script: on a loaded machine they
	// may take longer than the budget.
	waitFor(t, "a check counted in Redis before the pause", func() bool {
		md, _ := signup(t, a, "+447400123456", "8.8.8.8")
		return md["velocity_source"] == insight.SourceRedis
	})
	before := store.Degraded()
	redis.Pause()
	paused := true
	defer func() {
		if paused {
			redis.Resume()
		}
	}()
	const checks = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	sources := map[any]int{}
	for i := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Far more than the budget: a check that waited for Redis
			// instead of its budget would fail here.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := a.auth.Check(ctx, envoyCheck("POST", "/signup", "application/json", fmt.Sprintf(`{"phone":"+447400123%03d"}`, i), nil))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, err.Error())
				return
			}
			sources[resp.GetDynamicMetadata().AsMap()["velocity_source"]]++
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d of %d checks failed with Redis paused: %s", len(failed), checks, strings.Join(failed, "; "))
	}
	if sources[insight.SourceLocal] != checks {
		t.Errorf("with Redis paused, sources %v, want all %d local", sources, checks)
	}
	if d := store.Degraded() - before; d != checks {
		t.Errorf("degraded %d, want %d", d, checks)
	}
	// /metrics shows the degraded checks.
	if m, want := get(t, a.http+"/metrics"), fmt.Sprintf("\nphonegate_velocity_degraded_total %d\n", before+checks); !strings.Contains(m, want) {
		t.Errorf("/metrics has no %q", strings.TrimSpace(want))
	}
	redis.Resume()
	paused = false
	waitFor(t, "a check counted in Redis after SIGCONT", func() bool {
		md, _ := signup(t, a, "+447400999999", "8.8.8.8")
		return md["velocity_source"] == insight.SourceRedis
	})
}
