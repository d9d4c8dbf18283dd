package insight

import (
	"context"
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Velocity is what phonegate has seen lately of a number, of its range, of the
// client's address and of the number's country, as IPQualityScore's
// recent_abuse and SMS-pumping defences (Twilio's Verify Fraud Guard, Telnyx's
// and others') report them. Every count is over the sliding window and
// includes this check. The counts are the fleet's when a shared store (Redis)
// answered, this process's otherwise; Source says which.
type Velocity struct {
	// Seen is how many checks carried the number.
	Seen int `json:"seen"`
	// DistinctIPs and DistinctNetworks count the client addresses, and their
	// /24 (IPv4) or /48 (IPv6) networks, seen with the number. They saturate
	// at MaxTrackedAddresses.
	DistinctIPs      int `json:"distinct_ips"`
	DistinctNetworks int `json:"distinct_networks"`
	// RangeSeen and RangeNumbers count the checks of, and the distinct numbers
	// in, the number's range: its E.164 form less its last
	// VelocityConfig.RangeDigits digits. Pumping walks through a range.
	RangeSeen    int `json:"range_seen"`
	RangeNumbers int `json:"range_numbers"`
	// IPNumbers and NetworkNumbers count the distinct numbers checked from the
	// client's address and from its /24 or /48 network.
	IPNumbers      int `json:"ip_numbers"`
	NetworkNumbers int `json:"network_numbers"`
	// CountrySeen counts the checks of numbers of the number's country.
	CountrySeen int `json:"country_seen"`
	// Window is the length of the sliding window ("10m0s").
	Window string `json:"window"`
	// Source is where the counts come from: SourceRedis, or SourceLocal when
	// no Redis is configured or it did not answer in time.
	Source string `json:"source"`
	// RecentAbuse is true when a count of the number (seen, distinct_ips,
	// distinct_networks) has reached its threshold.
	RecentAbuse bool `json:"recent_abuse"`
}

// The sources of a Velocity.
const (
	SourceLocal = "local"
	SourceRedis = "redis"
)

// Sighting is one check of a number: what a velocity store counts.
type Sighting struct {
	Number  string     // E.164 form
	Country string     // ISO 3166-1 alpha-2 of the number; "" counts no country
	Addr    netip.Addr // the client; invalid counts the check alone
	At      time.Time
}

// MaxTrackedAddresses bounds the distinct addresses and networks one number
// remembers, so that an entry's size is fixed whatever the traffic.
const MaxTrackedAddresses = 16

// MaxTrackedNumbers bounds the distinct numbers one range, address or network
// remembers: range_numbers, ip_numbers and network_numbers saturate there.
const MaxTrackedNumbers = 64

// VelocityConfig sets the window, the thresholds and the memory bound. The
// zero value of a field takes the default.
type VelocityConfig struct {
	// Window is how far back counts go (default 10 minutes).
	Window time.Duration
	// MaxNumbers bounds how many numbers are remembered (default 10,000), and
	// as many ranges, addresses, networks and countries; the least recently
	// seen are forgotten first. A number takes about VelocityEntryBytes, the
	// others about VelocityGroupBytes.
	MaxNumbers int
	// RangeDigits is how many trailing digits a number's range leaves out
	// (default 4: +44 7400 12 3456 is in the range +4474001).
	RangeDigits int
	// Thresholds for recent_abuse; a negative value turns one off.
	Seen             int // default 20 checks
	DistinctIPs      int // default 5 addresses
	DistinctNetworks int // default 5 networks
}

// VelocityEntryBytes is about how much heap one remembered number holds,
// and VelocityGroupBytes one range, address, network or country, the LRU's
// own bookkeeping included (TestVelocityMemoryIsBounded measures them).
const (
	VelocityEntryBytes = 700
	VelocityGroupBytes = 900
)

// Defaults of VelocityConfig.
const (
	DefaultVelocityWindow     = 10 * time.Minute
	DefaultVelocityMaxNumbers = 10000
	DefaultRangeDigits        = 4
	DefaultSeenThreshold      = 20
	DefaultIPThreshold        = 5
	DefaultNetworkThreshold   = 5
)

// MaxRangeDigits bounds VelocityConfig.RangeDigits: a range of more than
// 10^8 numbers is a country, not a range.
const MaxRangeDigits = 8

// WithDefaults fills the settings left at zero with the defaults.
func (c VelocityConfig) WithDefaults() VelocityConfig {
	switch {
	case c.Window <= 0:
		c.Window = DefaultVelocityWindow
	case c.Window < time.Second:
		c.Window = time.Second
	}
	if c.MaxNumbers <= 0 {
		c.MaxNumbers = DefaultVelocityMaxNumbers
	}
	if c.RangeDigits <= 0 {
		c.RangeDigits = DefaultRangeDigits
	}
	c.RangeDigits = min(c.RangeDigits, MaxRangeDigits)
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

// bucketSeconds is the length of the window's buckets, in whole seconds.
func (c *VelocityConfig) bucketSeconds() uint32 {
	return max(uint32(c.Window/time.Second)/velocityBuckets, 1)
}

// recentAbuse applies the thresholds to v's counts of the number.
func (c *VelocityConfig) recentAbuse(v *Velocity) bool {
	return reached(v.Seen, c.Seen) || reached(v.DistinctIPs, c.DistinctIPs) || reached(v.DistinctNetworks, c.DistinctNetworks)
}

// NumberRange is the range of an E.164 number: the number less its last
// digits digits, or "" when that would leave the country code alone or less
// ("+1" is not a range).
func NumberRange(e164 string, digits int) string {
	if len(e164)-digits < 4 { // "+" and three digits at least
		return ""
	}
	return e164[:len(e164)-digits]
}

// AddrNetwork is the /24 (IPv4) or /48 (IPv6) network of addr, the unit of
// distinct_networks and network_numbers.
func AddrNetwork(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	p, _ := addr.Prefix(bits)
	return p
}

// VelocityStore counts sightings over a sliding window in this process, in
// bounded memory: at most MaxNumbers numbers, and as many ranges, addresses,
// networks and countries, each of fixed size, the least recently seen evicted
// first. An attacker cycling through millions of numbers only evicts older
// ones. It is safe for concurrent use.
//
// Counts stay right when the window changes: a bucket remembers when it
// began and how long it ran, and an address when it was last seen, so a
// shorter window still counts what it covers and a longer one never counts
// what it does not.
type VelocityStore struct {
	cfg     atomic.Pointer[VelocityConfig]
	window  atomic.Pointer[string] // cfg.Window as text, for Velocity.Window
	entries *lru.Cache[string, *velocityEntry]
	groups  *lru.Cache[groupKey, *groupEntry]
	seed    maphash.Seed
	epoch   time.Time // times are kept as seconds since epoch, in 32 bits
}

// NewVelocityStore returns an empty store.
func NewVelocityStore(cfg VelocityConfig) *VelocityStore {
	cfg = cfg.WithDefaults()
	s := &VelocityStore{seed: maphash.MakeSeed(), epoch: velocityEpoch}
	s.entries, _ = lru.New[string, *velocityEntry](cfg.MaxNumbers) // size > 0
	s.groups, _ = lru.New[groupKey, *groupEntry](cfg.MaxNumbers)
	s.cfg.Store(&cfg)
	s.window.Store(new(cfg.Window.String()))
	return s
}

// Configure changes the window, thresholds and bound; counts are kept (a
// smaller bound evicts the least recently seen).
func (s *VelocityStore) Configure(cfg VelocityConfig) {
	cfg = cfg.WithDefaults()
	s.cfg.Store(&cfg)
	s.window.Store(new(cfg.Window.String()))
	s.entries.Resize(cfg.MaxNumbers)
	s.groups.Resize(cfg.MaxNumbers)
}

// Config is the configuration in force, defaults filled in.
func (s *VelocityStore) Config() VelocityConfig { return *s.cfg.Load() }

// Len is how many numbers are remembered.
func (s *VelocityStore) Len() int { return s.entries.Len() }

// velocityEpoch is second 0 of the store's times, kept in 32 bits: from
// November 2023 to 2160.
var velocityEpoch = time.Unix(1_700_000_000, 0)

// velocityBuckets divide the window: counts are exact to a tenth of it.
const velocityBuckets = 10

// buckets count checks over the window: a ring of buckets, each with the
// second of its first check and of its last.
type buckets struct {
	b   [velocityBuckets]bucket
	cur uint8
}

type bucket struct{ first, last, n uint32 }

// add counts one check at sec: in the current bucket while its first check
// is less than length (the window's tenth now) before, in a new one
// otherwise. Since a bucket's span is read from its checks, not from the
// window it was made under, a reload that changes the window reads old
// buckets right.
func (w *buckets) add(sec, length uint32) {
	c := &w.b[w.cur]
	if c.n != 0 && sec >= c.first+length {
		w.cur = (w.cur + 1) % velocityBuckets
		c = &w.b[w.cur]
		*c = bucket{}
	}
	if c.n == 0 {
		c.first = sec
	}
	c.last = max(c.last, sec)
	c.n++
}

// count is how many checks fell in buckets whose last check is within the
// window ending at sec: exact but for the checks of the oldest bucket, which
// may be up to a tenth of the window older.
func (w *buckets) count(sec, window uint32) int {
	n := 0
	for _, b := range w.b {
		if b.n > 0 && int64(sec)-int64(b.last) < int64(window) {
			n += int(b.n)
		}
	}
	return n
}

type velocityEntry struct {
	mu        sync.Mutex
	seen      buckets
	ips, nets [MaxTrackedAddresses]tracked
}

// groupEntry counts a range, an address, a network or a country: its checks
// and the distinct numbers among them.
type groupEntry struct {
	mu      sync.Mutex
	seen    buckets
	numbers [MaxTrackedNumbers]tracked
}

// tracked is an address, network or number by hash, with when it was last
// seen (seconds since the store's epoch; 0 is empty).
type tracked struct {
	hash uint32
	last uint32
}

// Observe records a sighting and returns the counts including it. The
// context is unused: the store never waits.
func (s *VelocityStore) Observe(_ context.Context, o Sighting) Velocity {
	cfg := s.cfg.Load()
	sec := uint32(max(o.At.Sub(s.epoch), 0) / time.Second)
	windowSec := uint32(cfg.Window / time.Second)
	bucketLen := cfg.bucketSeconds()
	v := Velocity{Window: *s.window.Load(), Source: SourceLocal}

	e, ok := s.entries.Get(o.Number)
	if !ok {
		e = &velocityEntry{}
		if prev, found, _ := s.entries.PeekOrAdd(o.Number, e); found {
			e = prev
		}
	}
	var ipHash, netHash uint32
	addr := o.Addr.Unmap()
	network := AddrNetwork(addr)
	ip16, net16 := addr.As16(), network.Addr().As16()
	if addr.IsValid() {
		ipHash = s.hash(ip16[:])
		var netBits [17]byte // the network's address and length
		copy(netBits[:], net16[:])
		netBits[16] = byte(network.Bits())
		netHash = s.hash(netBits[:])
	}
	e.mu.Lock()
	e.seen.add(sec, bucketLen)
	v.Seen = e.seen.count(sec, windowSec)
	if addr.IsValid() {
		v.DistinctIPs = track(e.ips[:], ipHash, sec, windowSec)
		v.DistinctNetworks = track(e.nets[:], netHash, sec, windowSec)
	}
	e.mu.Unlock()

	number := uint32(maphash.String(s.seed, o.Number)) | 1
	if r := NumberRange(o.Number, cfg.RangeDigits); r != "" {
		v.RangeSeen, v.RangeNumbers = s.group(newGroupKey('r', r), number, true, sec, bucketLen, windowSec)
	}
	if addr.IsValid() {
		_, v.IPNumbers = s.group(newGroupKey('i', string(ip16[:])), number, false, sec, bucketLen, windowSec)
		_, v.NetworkNumbers = s.group(newGroupKey('n', string(net16[:])), number, false, sec, bucketLen, windowSec)
	}
	if o.Country != "" {
		v.CountrySeen, _ = s.group(newGroupKey('c', o.Country), 0, true, sec, bucketLen, windowSec)
	}
	v.RecentAbuse = cfg.recentAbuse(&v)
	return v
}

// groupKey names a group: its kind (r range, i address, n network, c
// country) and up to 16 bytes (a range's digits, an address, a country
// code); a value, so that naming a group allocates nothing.
type groupKey struct {
	kind byte
	n    uint8
	b    [16]byte
}

func newGroupKey(kind byte, s string) groupKey {
	k := groupKey{kind: kind, n: uint8(min(len(s), 16))}
	copy(k.b[:], s)
	return k
}

// group counts a sighting in the group named key: a check (when seen) and
// the number (when not 0); it returns the checks and distinct numbers.
func (s *VelocityStore) group(key groupKey, number uint32, seen bool, sec, bucketLen, window uint32) (checks, numbers int) {
	g, ok := s.groups.Get(key)
	if !ok {
		g = &groupEntry{}
		if prev, found, _ := s.groups.PeekOrAdd(key, g); found {
			g = prev
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if seen {
		g.seen.add(sec, bucketLen)
		checks = g.seen.count(sec, window)
	}
	if number != 0 {
		numbers = track(g.numbers[:], number, sec, window)
	}
	return checks, numbers
}

func reached(n, threshold int) bool { return threshold > 0 && n >= threshold }

func (s *VelocityStore) hash(b []byte) uint32 {
	return uint32(maphash.Bytes(s.seed, b)) | 1 // never 0, which group reads as "no number"
}

// track marks h seen at sec in set, reusing its slot, an empty one or the
// least recently seen, and returns how many of the set are within the window.
// A time at or before the epoch is second 1, since 0 is empty. One pass
// over the set finds the slot and counts: the slot, seen at sec, is within
// the window afterwards, whatever it held before.
func track(set []tracked, h, sec, window uint32) int {
	sec = max(sec, 1)
	within := func(t tracked) bool { return t.last != 0 && int64(sec)-int64(t.last) < int64(window) }
	slot, match, n := 0, -1, 0
	for i, t := range set {
		if within(t) {
			n++
		}
		if match >= 0 {
			continue
		}
		if t.last != 0 && t.hash == h {
			match = i
		} else if t.last < set[slot].last {
			slot = i
		}
	}
	if match >= 0 {
		slot = match
	}
	if within(set[slot]) {
		n--
	}
	if match >= 0 {
		set[slot].last = max(set[slot].last, sec)
	} else {
		set[slot] = tracked{hash: h, last: sec}
	}
	return n + 1
}
