package enrich

import (
	"net/netip"
	"sync"

	"github.com/alertgw/alertgw/normalize"
)

// geoCache remembers lookups by address. It is sharded so that workers on
// different cores rarely meet on a lock, and each shard keeps two
// generations: when the current one is full it becomes the previous one
// and a fresh one starts; a hit in the previous generation moves the entry
// forward. That is a cheap approximation of LRU with no per-entry list and
// no allocation on hits: addresses seen often stay, one-off scanners age out.
type geoCache struct {
	shards [cacheShards]cacheShard
	limit  int // entries per generation per shard
}

const cacheShards = 64

type cacheShard struct {
	mu        sync.Mutex
	cur, prev map[netip.Addr]*normalize.Geo
	_         [40]byte // keep shards on separate cache lines
}

// newGeoCache returns a cache of about size entries (up to twice that in
// the two generations); size 0 disables caching.
func newGeoCache(size int) *geoCache {
	if size <= 0 {
		return nil
	}
	c := &geoCache{limit: max(size/cacheShards, 16)}
	for i := range c.shards {
		c.shards[i].cur = make(map[netip.Addr]*normalize.Geo, c.limit)
	}
	return c
}

func (c *geoCache) shard(a netip.Addr) *cacheShard {
	// The low bytes of an address vary most between hosts; mixing two of
	// them spreads neighbours across shards.
	b := a.As16()
	h := uint(b[15]) ^ uint(b[14])<<3 ^ uint(b[13])<<5 ^ uint(b[11])
	return &c.shards[h%cacheShards]
}

// get returns the cached result and whether there was one; a cached nil
// means "looked up, nothing known".
func (c *geoCache) get(a netip.Addr) (*normalize.Geo, bool) {
	s := c.shard(a)
	s.mu.Lock()
	g, ok := s.cur[a]
	if !ok {
		if g, ok = s.prev[a]; ok {
			s.putLocked(a, g, c.limit)
		}
	}
	s.mu.Unlock()
	return g, ok
}

func (c *geoCache) put(a netip.Addr, g *normalize.Geo) {
	s := c.shard(a)
	s.mu.Lock()
	s.putLocked(a, g, c.limit)
	s.mu.Unlock()
}

func (s *cacheShard) putLocked(a netip.Addr, g *normalize.Geo, limit int) {
	if len(s.cur) >= limit {
		s.prev = s.cur
		s.cur = make(map[netip.Addr]*normalize.Geo, limit)
	}
	s.cur[a] = g
}
