package insight

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
// never a reason to fail a check. The go-redis client reconnects by itself.
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
	local    *VelocityStore
	client   *redis.Client
	timeout  time.Duration
	key      []byte
	prefix   string
	degraded atomic.Uint64
}

// NewRedisVelocityStore returns a store sharing counts through the Redis at
// opts.URL and keeping local ones in local. It does not dial: the client
// connects on first use and reconnects by itself.
func NewRedisVelocityStore(local *VelocityStore, opts RedisOptions) (*RedisVelocityStore, error) {
	if len(opts.Key) == 0 {
		return nil, errors.New("redis velocity: no hash key (every replica must share one: set PHONEGATE_HASH_KEY)")
	}
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err) // the URL may hold a password: not repeated
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultRedisTimeout
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultRedisPrefix
	}
	// A check never waits longer than its timeout, retries included: a
	// retry after a timeout would only be late.
	ro.ContextTimeoutEnabled = true
	ro.MaxRetries = -1
	ro.DialerRetries = 1
	ro.PoolTimeout = opts.Timeout
	// Connections are dialed in the background too, so that a dial slower
	// than one check's budget (TLS, a distant Redis) still succeeds.
	ro.MinIdleConns = max(ro.MinIdleConns, 2)
	ro.DialTimeout = max(ro.DialTimeout, time.Second)
	return &RedisVelocityStore{local: local, client: redis.NewClient(ro), timeout: opts.Timeout, key: opts.Key, prefix: opts.Prefix}, nil
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
// the local ones when Redis did not answer within the timeout.
func (r *RedisVelocityStore) Observe(ctx context.Context, o Sighting) Velocity {
	v := r.local.Observe(ctx, o)
	cfg := r.local.cfg.Load()
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	counts, err := redisScript.Run(ctx, r.client, r.keys(cfg, &o), r.args(cfg, &o)...).Int64Slice()
	if err != nil || len(counts) != 8 {
		r.degraded.Add(1)
		return v
	}
	v = Velocity{
		Seen: int(counts[0]), DistinctIPs: int(counts[1]), DistinctNetworks: int(counts[2]),
		RangeSeen: int(counts[3]), RangeNumbers: int(counts[4]),
		IPNumbers: int(counts[5]), NetworkNumbers: int(counts[6]),
		CountrySeen: int(counts[7]),
		Window:      cfg.Window.String(), Source: SourceRedis,
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

// keys are the script's KEYS: number, range, address, network, country; an
// empty one is skipped by the script.
func (r *RedisVelocityStore) keys(cfg *VelocityConfig, o *Sighting) []string {
	keys := make([]string, 5)
	keys[0] = r.prefix + "n:" + r.hmacHex(redisNumber, []byte(o.Number))
	if rg := NumberRange(o.Number, cfg.RangeDigits); rg != "" {
		keys[1] = r.prefix + "r:" + r.hmacHex(redisRange, []byte(rg))
	}
	if o.Addr.IsValid() {
		addr := o.Addr.Unmap()
		keys[2] = r.prefix + "i:" + r.hmacHex(redisAddr, addr.AsSlice())
		nw := AddrNetwork(addr)
		keys[3] = r.prefix + "w:" + r.hmacHex(redisNetwork, append(nw.Addr().AsSlice(), byte(nw.Bits())))
	}
	if o.Country != "" {
		keys[4] = r.prefix + "c:" + r.hmacHex(redisCountry, []byte(o.Country))
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
// counts, in one round trip. Each key is a hash: a field "b<first>" holds
// "<checks>:<last>", a bucket of the window's checks from second first to
// second last (so that a changed window still reads old buckets right), and
// fields "<kind><hmac>" hold when a member was last seen. Fields older than
// the retention (twice the window) are dropped, members beyond the cap the
// least recently seen first, and every key written expires after the
// retention.
var redisScript = redis.NewScript(`
local now, win, blen, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local capA, capN = tonumber(ARGV[8]), tonumber(ARGV[9])

-- observe counts a check in key (when seen) and marks the members, each
-- {prefix, member, cap}; it returns the checks in the window and, for each
-- member's prefix, the distinct members seen in the window.
local function observe(key, seen, members)
  local flat = redis.call('HGETALL', key)
  local del = {}
  local buckets, newest = {}, nil
  local sets = {}
  for i = 1, #flat, 2 do
    local f, v = flat[i], flat[i + 1]
    if string.sub(f, 1, 1) == 'b' then
      local first = tonumber(string.sub(f, 2))
      local n, last = string.match(v, '^(%d+):(%d+)$')
      n, last = tonumber(n), tonumber(last)
      if last <= now - keep then
        table.insert(del, f)
      else
        local b = {f = f, first = first, last = last, n = n}
        table.insert(buckets, b)
        if newest == nil or first > newest.first then newest = b end
      end
    elseif tonumber(v) <= now - keep then
      table.insert(del, f)
    else
      local p = string.sub(f, 1, 1)
      sets[p] = sets[p] or {}
      table.insert(sets[p], {f = f, t = tonumber(v)})
    end
  end
  local checks = 0
  if seen then
    if newest == nil or now >= newest.first + blen then
      newest = {f = 'b' .. now, first = now, last = now, n = 0}
      table.insert(buckets, newest)
    end
    newest.n = newest.n + 1
    newest.last = math.max(newest.last, now)
    redis.call('HSET', key, newest.f, newest.n .. ':' .. newest.last)
    for _, b in ipairs(buckets) do
      if b.last > now - win then checks = checks + b.n end
    end
  end
  local counts = {}
  for _, m in ipairs(members) do
    local p, f, cap = m[1], m[1] .. m[2], m[3]
    local set = sets[p] or {}
    local mine = nil
    for _, e in ipairs(set) do
      if e.f == f then mine = e end
    end
    if mine == nil then
      mine = {f = f, t = now}
      table.insert(set, mine)
    end
    mine.t = math.max(mine.t, now)
    redis.call('HSET', key, f, mine.t)
    table.sort(set, function(a, b) return a.t > b.t end)
    local n = 0
    for i, e in ipairs(set) do
      if i > cap then
        table.insert(del, e.f)
      elseif e.t > now - win then
        n = n + 1
      end
    end
    table.insert(counts, n)
  end
  if #del > 0 then redis.call('HDEL', key, unpack(del)) end
  redis.call('EXPIRE', key, keep)
  return checks, counts
end

local num, addr, net = ARGV[5], ARGV[6], ARGV[7]
local out = {0, 0, 0, 0, 0, 0, 0, 0}
local nm = {}
if addr ~= '' then
  nm = {{'i', addr, capA}, {'w', net, capA}}
end
local c
out[1], c = observe(KEYS[1], true, nm)
if addr ~= '' then out[2], out[3] = c[1], c[2] end
if KEYS[2] ~= '' then
  out[4], c = observe(KEYS[2], true, {{'n', num, capN}})
  out[5] = c[1]
end
if KEYS[3] ~= '' then
  local _, c3 = observe(KEYS[3], false, {{'n', num, capN}})
  out[6] = c3[1]
  local _, c4 = observe(KEYS[4], false, {{'n', num, capN}})
  out[7] = c4[1]
end
if KEYS[5] ~= '' then
  out[8] = observe(KEYS[5], true, {})
end
return out
`)
