package bolt

import (
	"hash/maphash"
	"sync"
)

// The read cache keeps what transactions read from bbolt, present or
// absent, so that a transaction whose keys all come from the layers or the
// cache never begins a bbolt read transaction: beginning one, finding the
// bucket and seeking a cursor cost about 3 µs and ten allocations, a fifth
// of a describe-by-name's CPU in the store.
//
// An entry is the value of its key in bbolt as of transaction tx. It stays
// right until a commit changes the key. The flusher therefore removes the
// keys a commit wrote (the frozen layer's) once the commit is done and
// before anything can read bbolt as of it: before the snapshot over the
// commit is published and before Updates see the base move (wmu). A
// reader that read bbolt before the commit may still be about to put what
// it read: each shard remembers the last commit that changed one of its
// keys (epoch), and a put read before that commit is dropped. A reader
// takes an entry only if it was read as of a transaction no later than the
// state the reader stands on, so an entry put by a newer reader is not
// shown to an older one.
//
// Values are copies (bbolt's point into its memory map, valid only while
// its transaction lasts) and are never written after being put, so a Get
// can hand them out as it hands out a layer's.

// cacheShards spreads the cache's locks: readers on other shards never
// wait for each other.
const cacheShards = 64

// defaultCacheBytes bounds the cache: the keys, values and a rough
// per-entry overhead of all shards together.
const defaultCacheBytes = 16 << 20

// cacheEntryOverhead is a rough count of what an entry costs besides its
// key and value (map slot, string and slice headers).
const cacheEntryOverhead = 64

// readCache is a sharded map from key to what bbolt held for it.
type readCache struct {
	seed       maphash.Seed
	shardBytes int // each shard's bound
	shards     [cacheShards]cacheShard
}

// cacheShard is one lock's share of the cache.
type cacheShard struct {
	mu      sync.Mutex
	entries map[string]cached
	bytes   int
	// epoch is the ID of the last bbolt commit that wrote a key of this
	// shard: a put of what was read before it may be stale and is dropped.
	epoch int
	// Keeps two shards' locks off one cache line.
	_ [40]byte
}

// cached is a key's value in bbolt as of transaction tx; present false
// means bbolt did not have the key.
type cached struct {
	val     []byte
	present bool
	tx      int
}

func newReadCache(maxBytes int) *readCache {
	c := &readCache{seed: maphash.MakeSeed(), shardBytes: maxBytes / cacheShards}
	for i := range c.shards {
		c.shards[i].entries = make(map[string]cached)
	}
	return c
}

func (c *readCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

// get returns what bbolt held for key, if the cache knows it as of a
// transaction no later than maxTx.
func (c *readCache) get(key []byte, maxTx int) (val []byte, present, ok bool) {
	sh := c.shard(key)
	sh.mu.Lock()
	e, ok := sh.entries[string(key)]
	sh.mu.Unlock()
	if !ok || e.tx > maxTx {
		return nil, false, false
	}
	return e.val, e.present, true
}

// put records that bbolt held val (or, if !present, nothing) for key as of
// transaction tx, unless a commit since tx wrote a key of its shard. It
// returns the value as kept (a copy), or val if it was not kept.
func (c *readCache) put(key, val []byte, present bool, tx int) []byte {
	size := len(key) + len(val) + cacheEntryOverhead
	if size > c.shardBytes/8 {
		return val // one large value would push out many small ones
	}
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if tx < sh.epoch {
		return val
	}
	if old, ok := sh.entries[string(key)]; ok {
		if old.tx >= tx {
			return val
		}
		sh.bytes -= len(key) + len(old.val) + cacheEntryOverhead
	}
	for sh.bytes+size > c.shardBytes && len(sh.entries) > 0 {
		sh.evict()
	}
	if present {
		val = append(make([]byte, 0, len(val)), val...)
	}
	sh.entries[string(key)] = cached{val: val, present: present, tx: tx}
	sh.bytes += size
	return val
}

// evict drops about a quarter of the shard's bytes, in the map's own
// random order: no bookkeeping on the read path, and what is read often
// comes back at its next miss.
func (sh *cacheShard) evict() {
	goal := sh.bytes - sh.bytes/4
	for k, e := range sh.entries {
		if sh.bytes <= goal {
			return
		}
		delete(sh.entries, k)
		sh.bytes -= len(k) + len(e.val) + cacheEntryOverhead
	}
}

// committed forgets the keys of f, which bbolt transaction tx has just
// written, and drops from then on the puts of what was read before tx in
// their shards.
func (c *readCache) committed(f *layer, tx int) {
	f.Ascend(func(e *entry) bool {
		sh := c.shard(e.key)
		sh.mu.Lock()
		if old, ok := sh.entries[string(e.key)]; ok {
			delete(sh.entries, string(e.key))
			sh.bytes -= len(e.key) + len(old.val) + cacheEntryOverhead
		}
		sh.epoch = max(sh.epoch, tx)
		sh.mu.Unlock()
		return true
	})
}
