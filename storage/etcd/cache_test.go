package etcd

import (
	"fmt"
	"strings"
	"testing"
)

// TestCacheBounded fills the cache with what 100,000 groups would put in
// it: it keeps to its limit, the most recently used entries stay, and the
// oldest go.
func TestCacheBounded(t *testing.T) {
	t.Parallel()
	c := newCache(DefaultCacheBytes)
	record := []byte(strings.Repeat("r", 300)) // a group record with a few tags
	key := func(i int) string { return fmt.Sprintf("/elasticache/a/123456789012/us-east-1/csg/group-%06d", i) }
	const groups = 100_000
	for i := range groups {
		c.put(key(i), entry{value: record, modRev: int64(i + 1), seen: int64(i + 1)})
		if i%1000 == 0 {
			// A hot key (an account's counter) read now and then stays.
			if _, ok := c.get("/elasticache/a/123456789012/us-east-1/n/csg"); !ok && i > 0 {
				t.Fatalf("the hot counter was evicted after %d puts", i)
			}
			c.put("/elasticache/a/123456789012/us-east-1/n/csg", entry{value: []byte("7"), modRev: 5, seen: int64(i + 1)})
		}
	}
	if c.bytes() > DefaultCacheBytes {
		t.Errorf("cache holds %d bytes, over its limit of %d", c.bytes(), DefaultCacheBytes)
	}
	n := c.len()
	if n < 1000 || n >= groups/2 {
		t.Errorf("cache holds %d entries of %d put; want a bounded working set", n, groups)
	}
	if _, ok := c.get(key(0)); ok {
		t.Error("the first entry put is still cached")
	}
	if e, ok := c.get(key(groups - 1)); !ok || e.modRev != groups {
		t.Errorf("the last entry put: %+v, %v", e, ok)
	}
	t.Logf("%d groups put: %d entries, %d bytes kept", groups, n, c.bytes())
}

// TestCacheKeepsLaterClaim: of two claims about a key, the one seen at the
// later revision wins, whatever order they arrive in.
func TestCacheKeepsLaterClaim(t *testing.T) {
	t.Parallel()
	c := newCache(1 << 20)
	c.put("k", entry{value: []byte("new"), modRev: 9, seen: 10})
	c.put("k", entry{value: []byte("old"), modRev: 3, seen: 8}) // an Else branch answered earlier, arrived late
	if e, _ := c.get("k"); string(e.value) != "new" {
		t.Errorf("k = %q after a late, older claim; want new", e.value)
	}
	c.put("k", entry{seen: 12}) // deleted at 11
	if e, ok := c.get("k"); !ok || e.modRev != 0 || e.value != nil {
		t.Errorf("k = %+v, %v after a later claim of absence; want absent", e, ok)
	}
	c.refresh("only-written", entry{value: []byte("v"), modRev: 5, seen: 5})
	if _, ok := c.get("only-written"); ok {
		t.Error("refresh added a key the cache did not hold")
	}
	c.refresh("k", entry{value: []byte("blind"), modRev: 13, seen: 13})
	if e, _ := c.get("k"); string(e.value) != "blind" {
		t.Errorf("k = %q after a blind write was refreshed; want blind", e.value)
	}
}

// TestCacheLimits: an entry larger than the cache is not kept, and drops
// what was known of its key; a negative limit keeps nothing.
func TestCacheLimits(t *testing.T) {
	t.Parallel()
	c := newCache(1000)
	c.put("k", entry{value: []byte("small"), modRev: 1, seen: 1})
	c.put("k", entry{value: make([]byte, 2000), modRev: 2, seen: 2})
	if _, ok := c.get("k"); ok || c.bytes() != 0 {
		t.Errorf("after an oversized put: k cached %v, %d bytes; want neither", ok, c.bytes())
	}
	off := newCache(-1)
	off.put("k", entry{value: []byte("v"), modRev: 1, seen: 1})
	if _, ok := off.get("k"); ok || off.len() != 0 {
		t.Error("a disabled cache kept an entry")
	}
	// Eviction order: least recently used first.
	c = newCache(3 * cost("a", []byte("v")))
	for _, k := range []string{"a", "b", "c"} {
		c.put(k, entry{value: []byte("v"), modRev: 1, seen: 1})
	}
	c.get("a")
	c.put("d", entry{value: []byte("v"), modRev: 1, seen: 1})
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok := c.get(k); ok != want {
			t.Errorf("after evicting one of a (used), b, c: %s cached = %v, want %v", k, ok, want)
		}
	}
}
