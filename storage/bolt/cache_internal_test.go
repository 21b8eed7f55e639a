package bolt

import (
	"fmt"
	"testing"
)

// TestReadCacheRules: the bound holds, an entry read as of a later
// transaction is not shown to an older reader, and a commit forgets its
// keys and refuses what was read before it.
func TestReadCacheRules(t *testing.T) {
	c := newReadCache(1 << 20)
	val := make([]byte, 100)
	for i := range 10000 {
		c.put(fmt.Appendf(nil, "k/%05d", i), val, true, 1)
	}
	total := 0
	for i := range c.shards {
		sh := &c.shards[i]
		if sh.bytes > c.shardBytes {
			t.Errorf("shard %d holds %d bytes, over its %d", i, sh.bytes, c.shardBytes)
		}
		n := 0
		for k, e := range sh.entries {
			n += len(k) + len(e.val) + cacheEntryOverhead
		}
		if n != sh.bytes {
			t.Errorf("shard %d counts %d bytes, holds %d", i, sh.bytes, n)
		}
		total += len(sh.entries)
	}
	if total == 0 || total >= 10000 {
		t.Errorf("the cache holds %d of 10,000 entries; want some, not all, within 1 MiB", total)
	}

	c = newReadCache(1 << 20)
	k := []byte("key")
	c.put(k, []byte("v5"), true, 5)
	if _, _, ok := c.get(k, 4); ok {
		t.Error("an entry read as of transaction 5 was shown to a reader as of 4")
	}
	if v, present, ok := c.get(k, 5); !ok || !present || string(v) != "v5" {
		t.Errorf("get as of 5 = %q, %v, %v; want v5", v, present, ok)
	}
	l := newLayer()
	l.ReplaceOrInsert(&entry{key: k, val: []byte("v6")})
	c.committed(l, 6)
	if _, _, ok := c.get(k, 6); ok {
		t.Error("a key written by commit 6 is still cached")
	}
	c.put(k, []byte("v5"), true, 5) // a reader as of 5, late
	if _, _, ok := c.get(k, 6); ok {
		t.Error("a value read before commit 6 was put after it")
	}
	c.put(k, nil, false, 6)
	if _, present, ok := c.get(k, 7); !ok || present {
		t.Errorf("an absent key read as of 6: present %v, cached %v; want cached as absent", present, ok)
	}
	big := make([]byte, c.shardBytes)
	if got := c.put([]byte("big"), big, true, 6); &got[0] != &big[0] {
		t.Error("a value larger than an eighth of a shard was copied into the cache")
	}
}
