package insight

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/phonegate/phonegate/internal/redistest"
	"github.com/redis/go-redis/v9"
)

var testKey = []byte("a test key shared by the replicas")

// newRedisStore is a Redis-backed store on srv with a generous timeout: these
// tests are about counts, not about the budget.
func newRedisStore(t testing.TB, srv *redistest.Server, cfg VelocityConfig) *RedisVelocityStore {
	t.Helper()
	r, err := NewRedisVelocityStore(NewVelocityStore(cfg), RedisOptions{URL: srv.URL(), Timeout: 2 * time.Second, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// velocityStores are the two stores under one interface, to run the same
// table against both.
type velocityObserver interface {
	Observe(ctx context.Context, o Sighting) Velocity
	Configure(cfg VelocityConfig)
}

func bothStores(t *testing.T, cfg VelocityConfig) map[string]velocityObserver {
	srv := redistest.Start(t)
	return map[string]velocityObserver{SourceLocal: NewVelocityStore(cfg), SourceRedis: newRedisStore(t, srv, cfg)}
}

func see(s velocityObserver, number, addr, country string, at time.Time) Velocity {
	var a netip.Addr
	if addr != "" {
		a = netip.MustParseAddr(addr)
	}
	return s.Observe(context.Background(), Sighting{Number: number, Country: country, Addr: a, At: at})
}

// TestVelocityStoresCountAlike: the new counts (range, address, network,
// country), in both stores, from one sequence of checks.
func TestVelocityStoresCountAlike(t *testing.T) {
	for source, s := range bothStores(t, VelocityConfig{Window: 10 * time.Minute}) {
		t.Run(source, func(t *testing.T) {
			t0 := time.Now().Truncate(time.Second)
			// A pumper walks through the range +4474001 from one address.
			var v Velocity
			for i := range 12 {
				v = see(s, fmt.Sprintf("+44740012%04d", i), "8.8.8.8", "GB", t0.Add(time.Duration(i)*time.Second))
			}
			want := Velocity{Seen: 1, DistinctIPs: 1, DistinctNetworks: 1, RangeSeen: 12, RangeNumbers: 12, IPNumbers: 12, NetworkNumbers: 12, CountrySeen: 12, Window: "10m0s", Source: source}
			if v != want {
				t.Errorf("after 12 numbers of one range:\n got %+v\nwant %+v", v, want)
			}
			// The same number again: a check more, no new number.
			v = see(s, "+447400120011", "8.8.8.9", "GB", t0.Add(13*time.Second))
			want = Velocity{Seen: 2, DistinctIPs: 2, DistinctNetworks: 1, RangeSeen: 13, RangeNumbers: 12, IPNumbers: 1, NetworkNumbers: 12, CountrySeen: 13, Window: "10m0s", Source: source}
			if v != want {
				t.Errorf("a number again from a neighbour:\n got %+v\nwant %+v", v, want)
			}
			// Another range, country and address: counted apart.
			v = see(s, "+33612345678", "2001:db8::1", "FR", t0.Add(14*time.Second))
			want = Velocity{Seen: 1, DistinctIPs: 1, DistinctNetworks: 1, RangeSeen: 1, RangeNumbers: 1, IPNumbers: 1, NetworkNumbers: 1, CountrySeen: 1, Window: "10m0s", Source: source}
			if v != want {
				t.Errorf("another range:\n got %+v\nwant %+v", v, want)
			}
			// Distinct numbers saturate at MaxTrackedNumbers.
			for i := range MaxTrackedNumbers + 10 {
				v = see(s, fmt.Sprintf("+1555010%04d", i), "192.0.2.1", "US", t0.Add(15*time.Second))
			}
			if v.RangeNumbers != MaxTrackedNumbers || v.IPNumbers != MaxTrackedNumbers || v.RangeSeen != MaxTrackedNumbers+10 {
				t.Errorf("%d numbers of a range: %+v, want distinct counts saturated at %d", MaxTrackedNumbers+10, v, MaxTrackedNumbers)
			}
			// Past the window, nothing of the above counts.
			v = see(s, "+447400120011", "8.8.8.8", "GB", t0.Add(11*time.Minute+14*time.Second))
			want = Velocity{Seen: 1, DistinctIPs: 1, DistinctNetworks: 1, RangeSeen: 1, RangeNumbers: 1, IPNumbers: 1, NetworkNumbers: 1, CountrySeen: 1, Window: "10m0s", Source: source}
			if v != want {
				t.Errorf("after the window:\n got %+v\nwant %+v", v, want)
			}
		})
	}
}

// TestVelocityWindowChange: a reload that changes the window keeps counts
// right, in both stores. Shrinking 1h to 10m still counts five checks of ten
// seconds before; growing 10m to 1h does not count one of 67 minutes before.
func TestVelocityWindowChange(t *testing.T) {
	for source, s := range bothStores(t, VelocityConfig{Window: time.Hour}) {
		t.Run(source, func(t *testing.T) {
			t0 := time.Now().Truncate(time.Second)
			for i := range 5 {
				see(s, "+447400123456", fmt.Sprintf("8.8.%d.1", i), "GB", t0.Add(-10*time.Second))
			}
			s.Configure(VelocityConfig{Window: 10 * time.Minute})
			v := see(s, "+447400123456", "8.8.0.1", "GB", t0)
			if v.Seen != 6 || v.DistinctNetworks != 5 || v.RangeSeen != 6 || v.CountrySeen != 6 {
				t.Errorf("shrunk to 10m, five checks 10s before and this one: %+v", v)
			}
			// Counts go on in the shorter window's buckets.
			v = see(s, "+447400123456", "8.8.0.1", "GB", t0.Add(2*time.Minute))
			if v.Seen != 7 {
				t.Errorf("two minutes later: %+v", v)
			}
			v = see(s, "+447400123456", "8.8.0.1", "GB", t0.Add(11*time.Minute))
			if v.Seen != 2 || v.DistinctNetworks != 1 {
				t.Errorf("11 minutes later, only the check of 2m and this one: %+v", v)
			}

			// A check 67 minutes old, under a 10-minute window.
			t1 := t0.Add(30 * time.Minute)
			see(s, "+447400999999", "9.9.9.9", "GB", t1.Add(-67*time.Minute))
			s.Configure(VelocityConfig{Window: time.Hour})
			v = see(s, "+447400999999", "9.9.9.10", "GB", t1)
			if v.Seen != 1 || v.DistinctIPs != 1 || v.IPNumbers != 1 {
				t.Errorf("grown to 1h, a check 67m before counted: %+v", v)
			}
			// While a check of 50 minutes before is in the grown window.
			see(s, "+447400888888", "9.9.9.9", "GB", t1.Add(-50*time.Minute))
			v = see(s, "+447400888888", "9.9.9.11", "GB", t1)
			if v.Seen != 2 || v.DistinctIPs != 2 {
				t.Errorf("grown to 1h, a check 50m before: %+v", v)
			}
		})
	}
}

// TestRedisKeysHoldNoNumber: every key and field Redis holds is an HMAC or a
// count, never a number, range or address, and every key expires.
func TestRedisKeysHoldNoNumber(t *testing.T) {
	srv := redistest.Start(t)
	s := newRedisStore(t, srv, VelocityConfig{Window: 10 * time.Minute})
	now := time.Now()
	see(s, "+447400123456", "81.2.69.160", "GB", now)
	see(s, "+447400123457", "2001:db8::7", "GB", now)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx := context.Background()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	// Two numbers (checks, addresses, networks), one range (checks,
	// numbers), two addresses, two networks, one country.
	if len(keys) != 13 {
		t.Errorf("%d keys, want 13: %q", len(keys), keys)
	}
	secrets := []string{"7400123456", "740012345", "4474001", "81.2.69", "2001:db8", "GB", "44"}
	for _, k := range keys {
		text := k
		switch typ := c.Type(ctx, k).Val(); typ {
		case "hash":
			fields, err := c.HGetAll(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			for f, v := range fields {
				text += " " + f + "=" + v
			}
		case "zset":
			members, err := c.ZRange(ctx, k, 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			text += " " + strings.Join(members, " ")
		default:
			t.Errorf("key %q is a %s", k, typ)
		}
		for _, s := range secrets {
			if strings.Contains(strings.TrimPrefix(text, DefaultRedisPrefix), s) && !hmacLike(text, s) {
				t.Errorf("key %q holds %q: %q", k, s, text)
			}
		}
		ttl, err := c.TTL(ctx, k).Result()
		if err != nil || ttl <= 0 || ttl > 20*time.Minute {
			t.Errorf("key %q expires in %v (%v), want within twice the window", k, ttl, err)
		}
	}
}

// hmacLike reports whether s occurs in text only inside hex HMACs, which may
// by chance hold digits such as "44" but never the letters and separators of
// a raw value.
func hmacLike(text, s string) bool {
	return strings.Trim(s, "0123456789abcdef") == "" && !strings.ContainsAny(s, ".:+")
}

// TestRedisUnreachableIsLocal: with no Redis listening, a check is answered
// with local counts, counted as degraded.
func TestRedisUnreachableIsLocal(t *testing.T) {
	srv := redistest.Start(t)
	srv.Stop() // its port is now closed
	s, err := NewRedisVelocityStore(NewVelocityStore(VelocityConfig{}), RedisOptions{URL: srv.URL(), Timeout: 50 * time.Millisecond, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 3 {
		v := see(s, "+447400123456", "8.8.8.8", "GB", time.Now())
		if v.Source != SourceLocal || v.Seen != i+1 {
			t.Errorf("check %d without Redis: %+v", i+1, v)
		}
	}
	if s.Degraded() != 3 {
		t.Errorf("degraded %d, want 3", s.Degraded())
	}
}

func TestRedisOptionsRefused(t *testing.T) {
	for _, tt := range []struct {
		opts RedisOptions
		want string
	}{
		{RedisOptions{URL: "redis://127.0.0.1:6379/0"}, "no hash key"},
		{RedisOptions{URL: "http://127.0.0.1:6379", Key: testKey}, "redis url"},
		{RedisOptions{URL: "redis://:secret@127.0.0.1:6379/x", Key: testKey}, "redis url"},
		{RedisOptions{URL: "redis://:secret@127.0.0.1:bad/0", Key: testKey}, "redis url: not a valid URL"},
		{RedisOptions{URL: "redis://:sec%zzret@127.0.0.1:6379/0", Key: testKey}, "redis url: not a valid URL"},
		{RedisOptions{URL: "redis://:secret@127.0.0.1:6379/0?nope=1", Key: testKey}, "redis url: redis: unexpected option: nope"},
	} {
		_, err := NewRedisVelocityStore(NewVelocityStore(VelocityConfig{}), tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.opts, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
}

// TestRedisMemory measures what Redis holds for one number, range, address,
// network and country at their fullest (MEMORY USAGE, key included): the
// sizing in the README. A number seen from MaxTrackedAddresses addresses, in
// every bucket of the window; a range, an address and a network with
// MaxTrackedNumbers numbers.
func TestRedisMemory(t *testing.T) {
	srv := redistest.Start(t)
	s := newRedisStore(t, srv, VelocityConfig{Window: 10 * time.Minute})
	t0 := time.Now()
	for i := range 2 * velocityBuckets { // every bucket of the retention
		for j := range MaxTrackedAddresses {
			see(s, "+447400123456", fmt.Sprintf("8.8.%d.%d", j, i), "GB", t0.Add(time.Duration(i)*time.Minute/2))
		}
	}
	for i := range MaxTrackedNumbers {
		see(s, fmt.Sprintf("+44750012%04d", i), "9.9.9.9", "", t0.Add(10*time.Minute))
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx := context.Background()
	r := s.keys(s.local.cfg.Load(), &Sighting{Number: "+447500120001", Country: "GB", Addr: netip.MustParseAddr("9.9.9.9")})
	n := s.keys(s.local.cfg.Load(), &Sighting{Number: "+447400123456", Addr: netip.MustParseAddr("8.8.8.8")})
	for _, k := range []struct {
		name  string
		keys  []string
		limit int64
	}{
		{"number", n[0:3], 4096},
		{"range", r[3:5], 2560},
		{"address", r[5:6], 2560},
		{"network", r[6:7], 2560},
		{"country", r[7:8], 1024},
	} {
		var bytes, entries int64
		for _, key := range k.keys {
			b, err := c.MemoryUsage(ctx, key).Result()
			if err != nil {
				t.Fatalf("%s %s: %v", k.name, key, err)
			}
			bytes += b
			entries += c.HLen(ctx, key).Val() + c.ZCard(ctx, key).Val()
		}
		t.Logf("%-8s %5d bytes in %d keys, %d entries", k.name, bytes, len(k.keys), entries)
		if bytes > k.limit {
			t.Errorf("a %s at its fullest holds %d bytes, over %d", k.name, bytes, k.limit)
		}
	}

	// One check of a new number, in a new range, from a new address and
	// network: what a flood of distinct numbers costs a check.
	c.FlushAll(ctx)
	see(s, "+33612345678", "203.0.113.9", "FR", t0)
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, k := range keys {
		total += c.MemoryUsage(ctx, k).Val()
	}
	t.Logf("one check of a new number from a new address: %d bytes in %d keys (the country's included)", total, len(keys))
	if total > 2048 {
		t.Errorf("one check holds %d bytes", total)
	}
}

// BenchmarkRedisObserve is one check's velocity through a real redis-server
// on loopback, one at a time: the round trip and the script, with nothing
// else competing.
func BenchmarkRedisObserve(b *testing.B) {
	srv := redistest.Start(b)
	s, err := NewRedisVelocityStore(NewVelocityStore(VelocityConfig{}), RedisOptions{URL: srv.URL(), Timeout: time.Second, Key: testKey})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	addrs := []netip.Addr{netip.MustParseAddr("81.2.69.160"), netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2001:4860:4860::8888")}
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v := s.Observe(context.Background(), Sighting{Number: fmt.Sprintf("+4474001%05d", i%10000), Country: "GB", Addr: addrs[i%len(addrs)], At: now})
		if v.Source != SourceRedis {
			b.Fatalf("check %d: %+v", i, v)
		}
	}
}
