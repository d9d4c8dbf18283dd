package insight

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions configure a [RedisVelocityStore].
type RedisOptions struct {
	// URL is redis://[user:password@]host:port/db or rediss:// (TLS); the
	// query may carry go-redis's options (dial_timeout, pool_size, ...).
	URL string
	// Timeout bounds the wait for Redis in one check; past it the check
	// decides on local counts. 0 is DefaultRedisTimeout.
	Timeout time.Duration
	// Key keys the HMAC of every number, range, address, network and country
	// written to Redis. Every replica must share it, or none sees another's
	// counts. Required.
	Key []byte
	// Prefix starts every key; "" is DefaultRedisPrefix.
	Prefix string
}

// DefaultRedisTimeout is how long a check waits for Redis by default: a
// round trip on a local network takes well under a millisecond.
const DefaultRedisTimeout = 5 * time.Millisecond

// DefaultRedisPrefix starts every key phonegate writes, v1 being the layout
// of the keys (redisScript's).
const DefaultRedisPrefix = "phonegate:v1:"

// RedisVelocityStore shares velocity counts across every replica using one
// Redis, through the local [VelocityStore] it wraps: each check is counted
// in both, and answered with Redis's counts when Redis answers within the
// timeout, with the local ones otherwise (Source says which), so Redis is
// never a reason to fail a check. A late answer still counts in Redis. The
// go-redis client reconnects by itself.
//
// What Redis holds: one hash a number, range, client address, /24 or /48
// network and country, named by an HMAC of it and expiring after twice the
// window. Its fields are the window's buckets of checks and the HMACs of the
// distinct addresses, networks or numbers seen with it, each with the second
// it was last seen, at most MaxTrackedAddresses or MaxTrackedNumbers of them
// (the least recently seen dropped first), so a distinct count is exact up to
// that cap and saturates there, and a key's size is bounded whatever the
// traffic. One check is one Lua script: one round trip. The keys a script
// touches are not declared in KEYS alone (it derives none, but touches up to
// five unrelated keys), so it needs one Redis (or a primary with replicas),
// not Redis Cluster.
type RedisVelocityStore struct {
	local   *VelocityStore
	client  *redis.Client
	timeout time.Duration
	key     []byte
	prefix  string
	// inflight bounds the scripts under way, at the client's pool size: when
	// Redis hangs, checks stop sending rather than pile up.
	inflight chan struct{}
	degraded atomic.Uint64
}

// redisScriptTimeout bounds one script, which may outlive the check that
// sent it: a check stops waiting after RedisOptions.Timeout, but its script
// goes on, so that Redis still counts the check and the connection is not
// torn down (a slow moment would otherwise cost every connection a redial).
const redisScriptTimeout = time.Second

// NewRedisVelocityStore returns a store sharing counts through the Redis at
// opts.URL and keeping local ones in local. It does not dial: the client
// connects on first use and reconnects by itself.
func NewRedisVelocityStore(local *VelocityStore, opts RedisOptions) (*RedisVelocityStore, error) {
	if len(opts.Key) == 0 {
		return nil, errors.New("redis velocity: no hash key (every replica must share one: set PHONEGATE_HASH_KEY)")
	}
	ro, err := redis.ParseURL(opts.URL)
	var ue *url.Error
	switch {
	case errors.As(err, &ue):
		// url.Error repeats the URL, password and all: say what is wanted
		// instead.
		return nil, errors.New("redis url: not a valid URL: want redis://[user:password@]host:port/db or rediss://... (the URL is not repeated: it may hold a password)")
	case err != nil:
		return nil, fmt.Errorf("redis url: %w", err) // go-redis's own errors name the scheme, database or option, never the password
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultRedisTimeout
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultRedisPrefix
	}
	// A script never outlives redisScriptTimeout, and is never retried: a
	// retry would only be late.
	ro.ContextTimeoutEnabled = true
	ro.MaxRetries = -1
	ro.DialerRetries = 1
	ro.PoolTimeout = redisScriptTimeout
	if ro.PoolSize <= 0 {
		ro.PoolSize = 10 * runtime.GOMAXPROCS(0) // go-redis's default, made explicit
	}
	// Connections are dialed in the background too, so that a dial slower
	// than one check's budget (TLS, a distant Redis) still succeeds.
	ro.MinIdleConns = max(ro.MinIdleConns, 2)
	ro.DialTimeout = max(ro.DialTimeout, time.Second)
	return &RedisVelocityStore{
		local: local, client: redis.NewClient(ro), timeout: opts.Timeout, key: opts.Key, prefix: opts.Prefix,
		inflight: make(chan struct{}, ro.PoolSize),
	}, nil
}

// Configure changes the window, thresholds and bound of both stores.
func (r *RedisVelocityStore) Configure(cfg VelocityConfig) { r.local.Configure(cfg) }

// Degraded is how many checks were answered with local counts because Redis
// did not answer in time.
func (r *RedisVelocityStore) Degraded() uint64 { return r.degraded.Load() }

// Local is the local store, kept warm for when Redis does not answer.
func (r *RedisVelocityStore) Local() *VelocityStore { return r.local }

// Close closes the client's connections.
func (r *RedisVelocityStore) Close() error { return r.client.Close() }

// Observe counts a sighting in both stores and returns Redis's counts, or
// the local ones when Redis did not answer within the timeout (or as many
// scripts as the pool has connections are already waiting for it).
func (r *RedisVelocityStore) Observe(ctx context.Context, o Sighting) Velocity {
	v := r.local.Observe(ctx, o)
	cfg := r.local.cfg.Load()
	select {
	case r.inflight <- struct{}{}:
	default:
		r.degraded.Add(1)
		return v
	}
	answer := make(chan []int64, 1)
	keys, args := r.keys(cfg, &o), r.args(cfg, &o)
	go func() {
		defer func() { <-r.inflight }()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisScriptTimeout)
		defer cancel()
		counts, err := redisScript.Run(ctx, r.client, keys, args...).Int64Slice()
		if err != nil || len(counts) != 8 {
			counts = nil
		}
		answer <- counts
	}()
	timer := time.NewTimer(r.timeout)
	defer timer.Stop()
	var counts []int64
	select {
	case counts = <-answer:
	case <-timer.C:
	case <-ctx.Done():
	}
	if counts == nil {
		r.degraded.Add(1)
		return v
	}
	v = Velocity{
		Seen: int(counts[0]), DistinctIPs: int(counts[1]), DistinctNetworks: int(counts[2]),
		RangeSeen: int(counts[3]), RangeNumbers: int(counts[4]),
		IPNumbers: int(counts[5]), NetworkNumbers: int(counts[6]),
		CountrySeen: int(counts[7]),
		Window:      *r.local.window.Load(), Source: SourceRedis,
	}
	v.RecentAbuse = cfg.recentAbuse(&v)
	return v
}

// hmacHex is the keyed hash of kind and value, 8 bytes in hex: enough that
// two of a key's at most 64 members never collide in practice, and useless
// for recovering the value without the key.
func (r *RedisVelocityStore) hmacHex(kind byte, value []byte) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte{kind, ':'})
	m.Write(value)
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// The kinds of key and member.
const (
	redisNumber  = 'n'
	redisRange   = 'r'
	redisAddr    = 'i'
	redisNetwork = 'w'
	redisCountry = 'c'
)

// keys are the script's KEYS: the number's checks, addresses and networks;
// the range's checks and numbers; the numbers of the address and of the
// network; the country's checks. Those that do not apply are empty.
func (r *RedisVelocityStore) keys(cfg *VelocityConfig, o *Sighting) []string {
	keys := make([]string, 8)
	n := r.prefix + "n:" + r.hmacHex(redisNumber, []byte(o.Number))
	keys[0] = n
	if rg := NumberRange(o.Number, cfg.RangeDigits); rg != "" {
		k := r.prefix + "r:" + r.hmacHex(redisRange, []byte(rg))
		keys[3], keys[4] = k, k+":n"
	}
	if o.Addr.IsValid() {
		keys[1], keys[2] = n+":i", n+":w"
		addr := o.Addr.Unmap()
		keys[5] = r.prefix + "i:" + r.hmacHex(redisAddr, addr.AsSlice()) + ":n"
		nw := AddrNetwork(addr)
		keys[6] = r.prefix + "w:" + r.hmacHex(redisNetwork, append(nw.Addr().AsSlice(), byte(nw.Bits()))) + ":n"
	}
	if o.Country != "" {
		keys[7] = r.prefix + "c:" + r.hmacHex(redisCountry, []byte(o.Country))
	}
	return keys
}

// args are the script's ARGV: the time, the window, its bucket length and the
// retention (seconds), the members (number, address, network), the caps.
func (r *RedisVelocityStore) args(cfg *VelocityConfig, o *Sighting) []any {
	window := int64(cfg.Window / time.Second)
	var addr, network string
	if o.Addr.IsValid() {
		a := o.Addr.Unmap()
		addr = r.hmacHex(redisAddr, a.AsSlice())
		nw := AddrNetwork(a)
		network = r.hmacHex(redisNetwork, append(nw.Addr().AsSlice(), byte(nw.Bits())))
	}
	return []any{
		o.At.Unix(), window, int64(cfg.bucketSeconds()), 2 * window,
		r.hmacHex(redisNumber, []byte(o.Number)), addr, network,
		MaxTrackedAddresses, MaxTrackedNumbers,
	}
}

// redisScript counts one check in every key it concerns and returns the
// counts, in one round trip. A number, a range and a country have a hash of
// the window's checks: a field "<first>" holds "<checks>:<last>", a bucket of
// checks from second first to second last (so that a changed window still
// reads old buckets right). A number's addresses and networks, and the
// numbers of a range, an address and a network, are sorted sets of HMACs
// scored by the second each was last seen: Redis counts, trims and caps them
// itself (ZCOUNT, ZREMRANGEBYSCORE, ZREMRANGEBYRANK), so the script's Lua
// never walks them. Buckets and members older than the retention (twice the
// window) are dropped, members beyond the cap the least recently seen first,
// and every key written expires after the retention. ZADD GT needs Redis 6.2
// or later.
var redisScript = redis.NewScript(`
local now, win, blen, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local num, addr, net = ARGV[5], ARGV[6], ARGV[7]
local capA, capN = tonumber(ARGV[8]), tonumber(ARGV[9])

-- seen counts a check in the bucket hash key and returns the checks in the
-- window.
local function seen(key)
  local flat = redis.call('HGETALL', key)
  local del = {}
  local newest, newestFirst, newestN, newestLast = nil, -1, 0, 0
  local checks = 0
  for i = 1, #flat, 2 do
    local first = tonumber(flat[i])
    local sep = string.find(flat[i + 1], ':', 1, true)
    local n, last = tonumber(string.sub(flat[i + 1], 1, sep - 1)), tonumber(string.sub(flat[i + 1], sep + 1))
    if last <= now - keep then
      table.insert(del, flat[i])
    else
      if last > now - win then checks = checks + n end
      if first > newestFirst then newest, newestFirst, newestN, newestLast = flat[i], first, n, last end
    end
  end
  if newest == nil or now >= newestFirst + blen then
    newest, newestN, newestLast = tostring(now), 0, now
  elseif newestLast <= now - win then
    checks = checks + newestN -- the bucket's older checks: its last is now
  end
  redis.call('HSET', key, newest, (newestN + 1) .. ':' .. math.max(newestLast, now))
  if #del > 0 then redis.call('HDEL', key, unpack(del)) end
  redis.call('EXPIRE', key, keep)
  return checks + 1
end

-- member marks member seen in the sorted set key and returns how many
-- distinct members it has seen in the window, at most cap.
local function member(key, m, cap)
  redis.call('ZADD', key, 'GT', now, m)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - keep)
  local over = redis.call('ZCARD', key) - cap
  if over > 0 then redis.call('ZREMRANGEBYRANK', key, 0, over - 1) end
  redis.call('EXPIRE', key, keep)
  return redis.call('ZCOUNT', key, '(' .. (now - win), '+inf')
end

local out = {0, 0, 0, 0, 0, 0, 0, 0}
out[1] = seen(KEYS[1])
if addr ~= '' then
  out[2] = member(KEYS[2], addr, capA)
  out[3] = member(KEYS[3], net, capA)
  out[6] = member(KEYS[6], num, capN)
  out[7] = member(KEYS[7], num, capN)
end
if KEYS[4] ~= '' then
  out[4] = seen(KEYS[4])
  out[5] = member(KEYS[5], num, capN)
end
if KEYS[8] ~= '' then
  out[8] = seen(KEYS[8])
end
return out
`)
