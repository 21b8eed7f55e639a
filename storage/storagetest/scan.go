package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/elasticache-server/elasticache-server/storage"
)

// diffPairs is cmp.Diff for scan results, with nil and empty equal.
func diffPairs(got, want []pair) string {
	return cmp.Diff(got, want, cmpopts.EquateEmpty())
}

// trickyKeys are the keys an ordered scan most easily gets wrong: a key
// equal to a prefix, keys that extend it with 0x00 and 0xff, prefixes made
// of 0xff only (whose exclusive upper bound does not exist), and neighbours
// on either side of each prefix.
var trickyKeys = []string{
	"\x00", "\x00\x00", "\x01",
	"o", "o\xff", "o\xff\xff",
	"p", "p\x00", "p\x00\x00", "p\x01",
	"pa", "pa\x00", "pab", "pb",
	"p\xfe\xff", "p\xff", "p\xff\x00", "p\xff\xff",
	"q", "q\x00",
	"\xff", "\xff\x00", "\xff\xff", "\xff\xff\x00", "\xff\xff\xff",
}

// putTricky stores trickyKeys in a scrambled order over several
// transactions, each with value "v:" + key.
func putTricky(t testing.TB, s storage.Store) {
	t.Helper()
	n := len(trickyKeys)
	for start := 0; start < 3; start++ {
		var kv []string
		for i := start; i < n; i += 3 {
			k := trickyKeys[(i*7)%n] // 7 is coprime with n: a permutation
			kv = append(kv, k, "v:"+k)
		}
		put(t, s, kv...)
	}
}

// modelScan is what Scan must return over trickyKeys, computed the obvious
// way.
func modelScan(prefix, after []byte) []pair {
	keys := slices.Clone(trickyKeys)
	slices.Sort(keys) // Go orders strings bytewise, as storage orders keys
	var want []pair
	for _, k := range keys {
		if strings.HasPrefix(k, string(prefix)) && (after == nil || k > string(after)) {
			want = append(want, pair{k, "v:" + k})
		}
	}
	return want
}

func testScanOrder(t *testing.T, s storage.Store) {
	putTricky(t, s)

	// Spelled out, so that the model itself is checked.
	spot := []struct {
		prefix, after string
		nilAfter      bool
		want          []string
	}{
		{"p", "", true, []string{"p", "p\x00", "p\x00\x00", "p\x01", "pa", "pa\x00", "pab", "pb", "p\xfe\xff", "p\xff", "p\xff\x00", "p\xff\xff"}},
		{"p", "p", false, []string{"p\x00", "p\x00\x00", "p\x01", "pa", "pa\x00", "pab", "pb", "p\xfe\xff", "p\xff", "p\xff\x00", "p\xff\xff"}},
		{"p", "pa", false, []string{"pa\x00", "pab", "pb", "p\xfe\xff", "p\xff", "p\xff\x00", "p\xff\xff"}},
		{"p\xff", "", true, []string{"p\xff", "p\xff\x00", "p\xff\xff"}},
		{"\xff\xff", "", true, []string{"\xff\xff", "\xff\xff\x00", "\xff\xff\xff"}},
		{"", "\xff\xff\x00", false, []string{"\xff\xff\xff"}},
	}
	for _, c := range spot {
		var after []byte
		if !c.nilAfter {
			after = []byte(c.after)
		}
		var want []pair
		for _, k := range c.want {
			want = append(want, pair{k, "v:" + k})
		}
		if diff := diffPairs(modelScan([]byte(c.prefix), after), want); diff != "" {
			t.Fatalf("suite bug: model for prefix %q after %q (-model +want):\n%s", c.prefix, after, diff)
		}
	}

	prefixes := [][]byte{nil, {}, []byte("p"), []byte("pa"), []byte("pab"), []byte("pabc"),
		[]byte("p\x00"), []byte("p\xff"), []byte("o"), []byte("\x00"), []byte("\xff"),
		[]byte("\xff\xff"), []byte("\xff\xff\xff\xff"), []byte("z")}
	afters := [][]byte{nil, {}, []byte("a"), []byte("p"), []byte("p\x00"), []byte("pa"),
		[]byte("pa\x01"), []byte("p\xfe"), []byte("p\xff"), []byte("p\xff\xff\xff"), []byte("q"),
		[]byte("\x00"), []byte("\xff\xff"), []byte("\xff\xff\xff\xff")}
	check := func(tx storage.Tx) error {
		for _, prefix := range prefixes {
			for _, after := range afters {
				got, err := txScan(tx, prefix, after)
				if err != nil {
					return fmt.Errorf("scan prefix %q after %q: %w", prefix, after, err)
				}
				if diff := diffPairs(got, modelScan(prefix, after)); diff != "" {
					t.Errorf("Scan(prefix %q, after %q) (-got +want):\n%s", prefix, after, diff)
				}
			}
		}
		return nil
	}
	if err := s.View(t.Context(), check); err != nil {
		t.Fatalf("View: %v", err)
	}
	if err := s.Update(t.Context(), check); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// testScanPaging pages through a prefix the way a marker-paginated API
// does: each page starts strictly after the last key of the one before.
func testScanPaging(t *testing.T, s storage.Store) {
	putTricky(t, s)
	for _, prefix := range []string{"", "p", "\xff"} {
		var got []pair
		var after []byte
		for pages := 0; ; pages++ {
			if pages > len(trickyKeys) {
				t.Fatalf("prefix %q: paging does not end", prefix)
			}
			var page []pair
			err := s.View(t.Context(), func(tx storage.Tx) error {
				page = nil
				return tx.Scan([]byte(prefix), after, func(k, v []byte) (bool, error) {
					page = append(page, pair{string(k), string(v)})
					return len(page) < 2, nil
				})
			})
			if err != nil {
				t.Fatalf("View: %v", err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = []byte(page[len(page)-1].Key)
		}
		if diff := diffPairs(got, modelScan([]byte(prefix), nil)); diff != "" {
			t.Errorf("pages of prefix %q (-got +want):\n%s", prefix, diff)
		}
	}
}

func putNumbered(t testing.TB, s storage.Store, prefix string, n int) {
	t.Helper()
	var kv []string
	for i := range n {
		kv = append(kv, fmt.Sprintf("%s%03d", prefix, i), fmt.Sprint(i))
	}
	put(t, s, kv...)
}

func testScanEarlyStop(t *testing.T, s storage.Store) {
	putNumbered(t, s, "n/", 100)
	put(t, s, "n0", "outside the prefix", "m", "before it")
	for _, stopAt := range []int{1, 3, 99, 100} {
		calls := 0
		var keys []string
		err := s.View(t.Context(), func(tx storage.Tx) error {
			calls, keys = 0, nil
			return tx.Scan([]byte("n/"), nil, func(k, v []byte) (bool, error) {
				calls++
				keys = append(keys, string(k))
				return calls < stopAt, nil
			})
		})
		if err != nil {
			t.Fatalf("View: %v", err)
		}
		if calls != stopAt {
			t.Errorf("stop after %d: fn called %d times", stopAt, calls)
		}
		if len(keys) > 0 && (keys[0] != "n/000" || keys[len(keys)-1] != fmt.Sprintf("n/%03d", stopAt-1)) {
			t.Errorf("stop after %d: visited %q ... %q", stopAt, keys[0], keys[len(keys)-1])
		}
	}
}

func testScanErrorAborts(t *testing.T, s storage.Store) {
	putNumbered(t, s, "n/", 10)
	calls := 0
	var scanErr error
	err := s.View(t.Context(), func(tx storage.Tx) error {
		calls = 0
		scanErr = tx.Scan([]byte("n/"), nil, func(k, v []byte) (bool, error) {
			calls++
			if calls == 3 {
				return true, fmt.Errorf("at %q: %w", k, errTest)
			}
			return true, nil
		})
		return scanErr
	})
	if !errors.Is(scanErr, errTest) {
		t.Errorf("Scan returned %v, want the error from fn", scanErr)
	}
	if !errors.Is(err, errTest) {
		t.Errorf("View returned %v, want the error from fn", err)
	}
	if calls != 3 {
		t.Errorf("fn called %d times, want 3 (the scan must stop at the error)", calls)
	}

	// Inside Update the error aborts the whole transaction.
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		if err := tx.Put([]byte("written-before-scan"), []byte("x")); err != nil {
			return err
		}
		return tx.Scan([]byte("n/"), nil, func(k, v []byte) (bool, error) {
			if err := tx.Delete(k); err != nil {
				return false, err
			}
			return true, errTest
		})
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("Update returned %v, want the error from fn", err)
	}
	wantMissing(t, s, "written-before-scan")
	wantValue(t, s, "n/000", "0")
}

// testScanDeleteWhileVisiting deletes every key a Scan visits, the way a
// service removes a record and everything under it in one transaction.
func testScanDeleteWhileVisiting(t *testing.T, s storage.Store) {
	putNumbered(t, s, "d/", 50)
	put(t, s, "c", "before", "d0", "after")
	var visited []string
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		visited = nil
		return tx.Scan([]byte("d/"), nil, func(k, v []byte) (bool, error) {
			visited = append(visited, string(k))
			return true, tx.Delete(k)
		})
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	var want []string
	for i := range 50 {
		want = append(want, fmt.Sprintf("d/%03d", i))
	}
	if diff := cmp.Diff(visited, want); diff != "" {
		t.Errorf("keys visited while deleting (-got +want):\n%s", diff)
	}
	if diff := diffPairs(scan(t, s, nil, nil), []pair{{"c", "before"}, {"d0", "after"}}); diff != "" {
		t.Errorf("store after deleting d/ (-got +want):\n%s", diff)
	}

	// Again with keys written by the same transaction, which a backend may
	// hold in different structures from committed ones.
	visited = nil
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		visited = nil
		for i := range 50 {
			if err := tx.Put(fmt.Appendf(nil, "d/%03d", i), []byte("new")); err != nil {
				return err
			}
		}
		return tx.Scan([]byte("d/"), nil, func(k, v []byte) (bool, error) {
			visited = append(visited, string(k))
			return true, tx.Delete(k)
		})
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if diff := cmp.Diff(visited, want); diff != "" {
		t.Errorf("keys of the same tx visited while deleting (-got +want):\n%s", diff)
	}
	if diff := diffPairs(scan(t, s, nil, nil), []pair{{"c", "before"}, {"d0", "after"}}); diff != "" {
		t.Errorf("store after deleting d/ again (-got +want):\n%s", diff)
	}

	// Overwriting each visited key also visits each once.
	putNumbered(t, s, "u/", 20)
	calls := 0
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		calls = 0
		return tx.Scan([]byte("u/"), nil, func(k, v []byte) (bool, error) {
			calls++
			if calls > 100 {
				return false, fmt.Errorf("scan keeps revisiting keys it overwrote (at %q)", k)
			}
			return true, tx.Put(k, append(bytes.Clone(v), '+'))
		})
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if calls != 20 {
		t.Errorf("overwriting scan called fn %d times, want 20", calls)
	}
	wantValue(t, s, "u/007", "7+")
}
