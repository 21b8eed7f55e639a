package etcd

import "sync"

// DefaultCacheBytes is the size of a Store's read cache when
// Config.CacheBytes is zero: room for about ten thousand group records and
// counters, the working set of a busy server, and small next to the
// process (a cache of 100,000 groups would be about ten times as large).
const DefaultCacheBytes = 4 << 20

// entryOverhead approximates what an entry costs besides its key and value
// (the entry itself, its map slot, its links), so that many small entries
// are bounded as well as a few large ones.
const entryOverhead = 160

// entry is what the Store knows of one etcd key: at cluster revision seen,
// the key had modification revision modRev and held value. modRev 0 means
// the key did not exist (value nil). An entry is a claim about the past:
// the key may have changed since, which Update's commit finds out.
type entry struct {
	value  []byte
	modRev int64
	seen   int64
}

// node is an entry in the cache's recency list.
type node struct {
	key        string
	e          entry
	prev, next *node
}

// cache holds the entries Update last saw for the keys it read (by Get),
// so that a later Update can read them without asking etcd, and commit in
// one round trip whatever it computed from them: the commit compares every
// key read, so a stale entry costs a failed commit (whose Else branch
// brings the current value) and never a wrong result. It is bounded to
// about limit bytes, least recently used entries going first; a limit
// below zero disables it. Safe for concurrent use.
type cache struct {
	mu    sync.Mutex
	limit int
	size  int
	items map[string]*node
	// head is the most recently used entry, tail the least.
	head, tail *node
}

func newCache(limit int) *cache {
	return &cache{limit: limit, items: map[string]*node{}}
}

// cost is what an entry for key with value counts against the limit.
func cost(key string, value []byte) int { return len(key) + len(value) + entryOverhead }

// get returns the entry of key, if any, and marks it recently used.
func (c *cache) get(key string) (entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.items[key]
	if !ok {
		return entry{}, false
	}
	c.unlink(n)
	c.pushFront(n)
	return n.e, true
}

// put records e for key unless the cache already knows key at a later
// revision: of two claims about a key, the later one is the one to keep,
// whichever goroutine arrives last. An entry larger than the whole cache
// is not kept (and drops what was known of key).
func (c *cache) put(key string, e entry) {
	c.store(key, e, true)
}

// refresh records e for key only if the cache holds key already: a blind
// write must not leave a stale entry behind, but keys that are only ever
// written (events) are not worth a place.
func (c *cache) refresh(key string, e entry) {
	c.store(key, e, false)
}

func (c *cache) store(key string, e entry, add bool) {
	if c.limit < 0 {
		return
	}
	size := cost(key, e.value)
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.items[key]
	switch {
	case ok && n.e.seen > e.seen:
		return
	case ok && size > c.limit:
		c.unlink(n)
		delete(c.items, key)
		c.size -= cost(key, n.e.value)
		return
	case ok:
		c.size += size - cost(key, n.e.value)
		n.e = e
		c.unlink(n)
	case !add || size > c.limit:
		return
	default:
		n = &node{key: key, e: e}
		c.items[key] = n
		c.size += size
	}
	c.pushFront(n)
	for c.size > c.limit {
		old := c.tail
		c.unlink(old)
		delete(c.items, old.key)
		c.size -= cost(old.key, old.e.value)
	}
}

// len and bytes report the cache's occupancy, for tests.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

func (c *cache) bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

func (c *cache) unlink(n *node) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		c.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		c.tail = n.prev
	}
	n.prev, n.next = nil, nil
}

func (c *cache) pushFront(n *node) {
	n.next = c.head
	if c.head != nil {
		c.head.prev = n
	}
	c.head = n
	if c.tail == nil {
		c.tail = n
	}
}
