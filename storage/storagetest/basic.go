package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/elasticache-server/elasticache-server/storage"
)

func testGetMissing(t *testing.T, s storage.Store) {
	put(t, s, "present", "1")
	check := func(tx storage.Tx) error {
		for _, k := range []string{"missing", "presen", "present\x00", "\x00", "\xff"} {
			v, err := tx.Get([]byte(k))
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Get(%q) = %q, %v; want ErrNotFound", k, v, err)
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

func testPutGet(t *testing.T, s storage.Store) {
	kv := []string{
		"a", "1",
		"b/c", "value with spaces",
		"\x00", "zero key",
		"\xff\xfe", "\x00\x01\xff binary value",
		"k", "\x00",
	}
	put(t, s, kv...)
	for i := 0; i < len(kv); i += 2 {
		wantValue(t, s, kv[i], kv[i+1])
	}
}

// testEmptyValue checks that an empty value is a value, not a missing key:
// some backends signal "absent" with a nil slice.
func testEmptyValue(t *testing.T, s storage.Store) {
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		if err := tx.Put([]byte("nil"), nil); err != nil {
			return err
		}
		return tx.Put([]byte("empty"), []byte{})
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantValue(t, s, "nil", "")
	wantValue(t, s, "empty", "")
	if diff := diffPairs(scan(t, s, nil, nil), []pair{{"empty", ""}, {"nil", ""}}); diff != "" {
		t.Errorf("Scan (-got +want):\n%s", diff)
	}
}

func testEmptyKeyRejected(t *testing.T, s storage.Store) {
	for _, key := range [][]byte{nil, {}} {
		var putErr error
		err := s.Update(t.Context(), func(tx storage.Tx) error {
			putErr = tx.Put(key, []byte("v"))
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if putErr == nil {
			t.Errorf("Put(%#v) = nil, want an error", key)
		}
	}
	if got := scan(t, s, nil, nil); len(got) != 0 {
		t.Errorf("store holds %q after rejected Puts, want nothing", got)
	}
}

// testValuesAreCopied checks that the store owns what it was given: callers
// reuse buffers, so mutating them after Put must not reach the store.
func testValuesAreCopied(t *testing.T, s storage.Store) {
	var kept []byte
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		key, val := []byte("k"), []byte("v1")
		if err := tx.Put(key, val); err != nil {
			return err
		}
		key[0], val[0] = 'x', 'X'
		got, err := tx.Get([]byte("k"))
		if err != nil {
			return fmt.Errorf("get in the same tx: %w", err)
		}
		if string(got) != "v1" {
			t.Errorf("Get in the same tx after mutating the Put buffers = %q, want %q", got, "v1")
		}
		if _, err := tx.Get([]byte("x")); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(mutated key) in the same tx: err = %v, want ErrNotFound", err)
		}
		kept = bytes.Clone(got) // Get's slice is only valid in the tx
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if string(kept) != "v1" {
		t.Errorf("copy of Get's value = %q, want %q", kept, "v1")
	}
	wantValue(t, s, "k", "v1")
	wantMissing(t, s, "x")
}

func testOverwrite(t *testing.T, s storage.Store) {
	put(t, s, "k", "first")
	put(t, s, "k", "second, longer than the first")
	wantValue(t, s, "k", "second, longer than the first")
	put(t, s, "k", "3")
	wantValue(t, s, "k", "3")
	put(t, s, "k", "a", "k", "b") // twice in one tx: the last wins
	wantValue(t, s, "k", "b")
	if got := scan(t, s, nil, nil); len(got) != 1 {
		t.Errorf("Scan after overwrites = %q, want one key", got)
	}
}

func testDelete(t *testing.T, s storage.Store) {
	put(t, s, "a", "1", "b", "2", "c", "3")
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		if err := tx.Delete([]byte("b")); err != nil {
			return fmt.Errorf("delete b: %w", err)
		}
		if err := tx.Delete([]byte("never-existed")); err != nil {
			return fmt.Errorf("delete of a missing key: %w", err)
		}
		if err := tx.Delete([]byte("b")); err != nil {
			return fmt.Errorf("second delete of b: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantMissing(t, s, "b")
	wantValue(t, s, "a", "1")
	wantValue(t, s, "c", "3")

	// Delete then Put again in one tx leaves the new value.
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		if err := tx.Delete([]byte("a")); err != nil {
			return err
		}
		return tx.Put([]byte("a"), []byte("again"))
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantValue(t, s, "a", "again")
}

func testLargeValue(t *testing.T, s storage.Store) {
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>11)
	}
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		return tx.Put([]byte("big"), big)
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	err = s.View(t.Context(), func(tx storage.Tx) error {
		got, err := tx.Get([]byte("big"))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, big) {
			t.Errorf("Get(big): %d bytes back, differs from the %d put", len(got), len(big))
		}
		return tx.Scan([]byte("big"), nil, func(k, v []byte) (bool, error) {
			if !bytes.Equal(v, big) {
				t.Errorf("Scan(big): %d bytes back, differs from the %d put", len(v), len(big))
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	put(t, s, "big", "small now")
	wantValue(t, s, "big", "small now")
}

func testManyKeysOneTx(t *testing.T, s storage.Store) {
	const n = 10000
	key := func(i int) string { return fmt.Sprintf("many/%05d", i) }
	val := func(i int) string { return fmt.Sprintf("value-%d-%0100d", i, i) }
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		// Ascending: ScanOrder checks sorting, and this stays fast on
		// stores that hold a transaction's writes in one sorted array
		// until commit (bbolt), where out-of-order inserts cost O(n) each.
		for i := range n {
			if err := tx.Put([]byte(key(i)), []byte(val(i))); err != nil {
				return fmt.Errorf("put %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	got := scan(t, s, []byte("many/"), nil)
	if len(got) != n {
		t.Fatalf("Scan found %d keys, want %d", len(got), n)
	}
	for i, p := range got {
		if p.Key != key(i) || p.Value != val(i) {
			t.Fatalf("Scan entry %d = %q=%.20q..., want %q", i, p.Key, p.Value, key(i))
		}
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		wantValue(t, s, key(i), val(i))
	}
}
