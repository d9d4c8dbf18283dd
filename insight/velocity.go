package insight

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Velocity is what this process has seen of a number lately, as
// IPQualityScore's recent_abuse and verification services' duplicate-number
// warnings report it, computed locally.
type Velocity struct {
	// Seen is how many checks carried the number within the window,
	// this one included.
	Seen int `json:"seen"`
	// DistinctIPs and DistinctNetworks count the client addresses, and their
	// /24 (IPv4) or /48 (IPv6) networks, seen with the number within the
	// window. They saturate at MaxTrackedAddresses.
	DistinctIPs      int `json:"distinct_ips"`
	DistinctNetworks int `json:"distinct_networks"`
	// Window is the length of the sliding window ("10m0s").
	Window string `json:"window"`
	// RecentAbuse is true when a count has reached its threshold.
	RecentAbuse bool `json:"recent_abuse"`
}

// MaxTrackedAddresses bounds the distinct addresses and networks one number
// remembers, so that an entry's size is fixed whatever the traffic.
const MaxTrackedAddresses = 16

// VelocityConfig sets the window, the thresholds and the memory bound. The
// zero value of a field takes the default.
type VelocityConfig struct {
	// Window is how far back counts go (default 10 minutes).
	Window time.Duration
	// MaxNumbers bounds how many numbers are remembered (default 20,000); the
	// least recently seen are forgotten first. Each takes about
	// VelocityEntryBytes.
	MaxNumbers int
	// Thresholds for recent_abuse; a negative value turns one off.
	Seen             int // default 20 checks
	DistinctIPs      int // default 5 addresses
	DistinctNetworks int // default 5 networks
}

// VelocityEntryBytes is about how much heap one remembered number holds,
// the LRU's own bookkeeping included (BenchmarkVelocityMemory measures it).
const VelocityEntryBytes = 700

// Defaults of VelocityConfig.
const (
	DefaultVelocityWindow     = 10 * time.Minute
	DefaultVelocityMaxNumbers = 20000
	DefaultSeenThreshold      = 20
	DefaultIPThreshold        = 5
	DefaultNetworkThreshold   = 5
)

func (c VelocityConfig) withDefaults() VelocityConfig {
	switch {
	case c.Window <= 0:
		c.Window = DefaultVelocityWindow
	case c.Window < time.Second:
		c.Window = time.Second
	}
	if c.MaxNumbers <= 0 {
		c.MaxNumbers = DefaultVelocityMaxNumbers
	}
	if c.Seen == 0 {
		c.Seen = DefaultSeenThreshold
	}
	if c.DistinctIPs == 0 {
		c.DistinctIPs = DefaultIPThreshold
	}
	if c.DistinctNetworks == 0 {
		c.DistinctNetworks = DefaultNetworkThreshold
	}
	return c
}

// VelocityStore counts sightings of numbers over a sliding window, in bounded
// memory: at most MaxNumbers entries of fixed size, the least recently seen
// evicted first. An attacker cycling through millions of numbers only evicts
// older ones. It is safe for concurrent use.
type VelocityStore struct {
	cfg     atomic.Pointer[VelocityConfig]
	entries *lru.Cache[string, *velocityEntry]
	seed    maphash.Seed
	epoch   time.Time // times are kept as seconds since epoch, in 32 bits
}

// NewVelocityStore returns an empty store.
func NewVelocityStore(cfg VelocityConfig) *VelocityStore {
	cfg = cfg.withDefaults()
	s := &VelocityStore{seed: maphash.MakeSeed(), epoch: time.Now()}
	s.entries, _ = lru.New[string, *velocityEntry](cfg.MaxNumbers) // size > 0
	s.cfg.Store(&cfg)
	return s
}

// Configure changes the window, thresholds and bound; counts are kept (a
// smaller bound evicts the least recently seen numbers).
func (s *VelocityStore) Configure(cfg VelocityConfig) {
	cfg = cfg.withDefaults()
	s.cfg.Store(&cfg)
	s.entries.Resize(cfg.MaxNumbers)
}

// Len is how many numbers are remembered.
func (s *VelocityStore) Len() int { return s.entries.Len() }

// velocityBuckets divide the window: counts are exact to a tenth of it.
const velocityBuckets = 10

type velocityEntry struct {
	mu      sync.Mutex
	buckets [velocityBuckets]struct {
		slot int64 // which bucket-length slot since the epoch
		n    uint32
	}
	ips, nets [MaxTrackedAddresses]tracked
}

// tracked is an address (or network) by hash, with when it was last seen
// (seconds since the store's epoch; 0 is empty).
type tracked struct {
	hash uint32
	last uint32
}

// Observe records a check of number (its E.164 form) from addr at now, and
// returns the counts including it. An invalid addr counts the check alone.
func (s *VelocityStore) Observe(number string, addr netip.Addr, now time.Time) Velocity {
	cfg := s.cfg.Load()
	e, ok := s.entries.Get(number)
	if !ok {
		e = &velocityEntry{}
		if prev, found, _ := s.entries.PeekOrAdd(number, e); found {
			e = prev
		}
	}
	since := max(now.Sub(s.epoch), 0)
	sec := uint32(since/time.Second) + 1 // + 1: 0 marks an empty slot
	windowSec := uint32(cfg.Window / time.Second)
	bucketLen := cfg.Window / velocityBuckets
	slot := int64(since / bucketLen)

	e.mu.Lock()
	defer e.mu.Unlock()
	b := &e.buckets[slot%velocityBuckets]
	if b.slot != slot {
		b.slot, b.n = slot, 0
	}
	b.n++
	v := Velocity{Window: cfg.Window.String()}
	for _, b := range e.buckets {
		if b.n > 0 && slot-b.slot < velocityBuckets {
			v.Seen += int(b.n)
		}
	}
	if addr.IsValid() {
		addr = addr.Unmap()
		bits := 48
		if addr.Is4() {
			bits = 24
		}
		network, _ := addr.Prefix(bits)
		v.DistinctIPs = track(&e.ips, s.hash(addr.AsSlice()), sec, windowSec)
		v.DistinctNetworks = track(&e.nets, s.hash(append(network.Addr().AsSlice(), byte(bits))), sec, windowSec)
	}
	v.RecentAbuse = reached(v.Seen, cfg.Seen) || reached(v.DistinctIPs, cfg.DistinctIPs) || reached(v.DistinctNetworks, cfg.DistinctNetworks)
	return v
}

func reached(n, threshold int) bool { return threshold > 0 && n >= threshold }

func (s *VelocityStore) hash(b []byte) uint32 {
	return uint32(maphash.Bytes(s.seed, b))
}

// track marks h seen at sec in set, reusing its slot, an empty or expired
// one, or the oldest, and returns how many of the set are within the window.
func track(set *[MaxTrackedAddresses]tracked, h, sec, window uint32) int {
	oldest := 0
	placed := false
	for i := range set {
		if set[i].last != 0 && set[i].hash == h {
			set[i].last, placed = sec, true
			break
		}
		if set[i].last < set[oldest].last {
			oldest = i
		}
	}
	if !placed {
		set[oldest] = tracked{hash: h, last: sec}
	}
	n := 0
	for _, t := range set {
		if t.last != 0 && sec-t.last < window {
			n++
		}
	}
	return n
}
