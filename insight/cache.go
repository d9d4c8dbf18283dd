package insight

import (
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
)

// cache is a bounded LRU of insights keyed by normalised input and region hint.
// golang-lru's Cache locks internally, so it is safe for concurrent use.
type cache struct {
	lru   *lru.Cache[cacheKey, *Insight] // nil when caching is disabled
	stats *CacheStats
}

// CacheStats count cache hits and misses. Several engines may share one (a
// server builds a new engine when the policy's data changes), so the counts
// only ever grow, as Prometheus counters must.
type CacheStats struct {
	Hits, Misses atomic.Uint64
}

func newCache(size int, stats *CacheStats) *cache {
	if stats == nil {
		stats = &CacheStats{}
	}
	c := &cache{stats: stats}
	if size > 0 {
		// lru.New fails only for a size <= 0, excluded above.
		c.lru, _ = lru.New[cacheKey, *Insight](size)
	}
	return c
}

// cacheKey is a struct, not a joined string, so a hit allocates nothing.
type cacheKey struct{ input, region string }

func (c *cache) get(key cacheKey) (*Insight, bool) {
	if c.lru != nil {
		if in, ok := c.lru.Get(key); ok {
			c.stats.Hits.Add(1)
			return in, true
		}
	}
	c.stats.Misses.Add(1)
	return nil, false
}

func (c *cache) add(key cacheKey, in *Insight) {
	if c.lru != nil {
		c.lru.Add(key, in)
	}
}
