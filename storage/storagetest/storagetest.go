package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
)

// Run runs the conformance suite against the backend that open creates.
//
// open is called once per subtest, from parallel subtests, and must return a
// fresh, empty store (for a shared server, an empty key space of its own)
// that it releases with t.Cleanup. Some subtests Close the store themselves,
// so that cleanup must accept a store already closed (ErrClosed). Durability
// across a crash is not checked here; it needs a process to kill.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"EmptyValue", testEmptyValue},
		{"EmptyKeyRejected", testEmptyKeyRejected},
		{"ValuesAreCopied", testValuesAreCopied},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"LargeValue", testLargeValue},
		{"ManyKeysOneTx", testManyKeysOneTx},

		{"ScanOrder", testScanOrder},
		{"ScanPaging", testScanPaging},
		{"ScanEarlyStop", testScanEarlyStop},
		{"ScanErrorAborts", testScanErrorAborts},
		{"ScanDeleteWhileVisiting", testScanDeleteWhileVisiting},

		{"UpdateErrorAborts", testUpdateErrorAborts},
		{"ViewIsReadOnly", testViewIsReadOnly},
		{"ReadYourWrites", testReadYourWrites},
		{"ScanSeesOwnWrites", testScanSeesOwnWrites},
		{"TxAfterReturn", testTxAfterReturn},

		{"SnapshotIsolation", testSnapshotIsolation},
		{"ConsistentReadsUnderWrites", testConsistentReadsUnderWrites},
		{"ConcurrentIncrements", testConcurrentIncrements},
		{"CreateIfAbsentRace", testCreateIfAbsentRace},
		{"ConcurrentAppendsOnce", testConcurrentAppendsOnce},
		{"FailingWritersDoNotDropOthers", testFailingWritersDoNotDropOthers},

		{"CanceledBeforeStart", testCanceledBeforeStart},
		{"CanceledBeforeCommit", testCanceledBeforeCommit},
		{"Closed", testClosed},
		{"CloseWaitsForTransactions", testCloseWaitsForTransactions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			if s == nil {
				t.Fatal("open returned a nil store")
			}
			tc.fn(t, s)
		})
	}
}

// waitLimit bounds every wait on another goroutine, so that a backend that
// deadlocks fails the test instead of hanging it. It is a deadline, never a
// speed requirement.
const waitLimit = 10 * time.Second

// errTest is the sentinel the suite's own transaction functions return, to
// check that errors come back intact.
var errTest = errors.New("storagetest: error from the test's function")

// pair is one key and value, as strings so that diffs print readably.
type pair struct{ Key, Value string }

// put commits key/value pairs (k1, v1, k2, v2, ...) in one Update.
func put(tb testing.TB, s storage.Store, kv ...string) {
	tb.Helper()
	if len(kv)%2 != 0 {
		tb.Fatalf("put: odd number of arguments")
	}
	err := s.Update(tb.Context(), func(tx storage.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Put([]byte(kv[i]), []byte(kv[i+1])); err != nil {
				return fmt.Errorf("put %q: %w", kv[i], err)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("Update: %v", err)
	}
}

// get reads key in its own View; ok is false if the key is missing.
func get(tb testing.TB, s storage.Store, key string) (value string, ok bool) {
	tb.Helper()
	err := s.View(tb.Context(), func(tx storage.Tx) error {
		var err error
		value, ok, err = txGet(tx, key)
		return err
	})
	if err != nil {
		tb.Fatalf("View: %v", err)
	}
	return value, ok
}

// txGet reads key inside tx, copying the value; a missing key is ok=false,
// not an error.
func txGet(tx storage.Tx, key string) (value string, ok bool, err error) {
	v, err := tx.Get([]byte(key))
	if errors.Is(err, storage.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("get %q: %w", key, err)
	}
	return string(v), true, nil
}

// wantValue fails tb unless key holds want in a fresh View.
func wantValue(tb testing.TB, s storage.Store, key, want string) {
	tb.Helper()
	got, ok := get(tb, s, key)
	if !ok {
		tb.Errorf("Get(%q): missing, want %q", key, want)
	} else if got != want {
		tb.Errorf("Get(%q) = %q, want %q", key, got, want)
	}
}

// wantMissing fails tb unless key is absent in a fresh View.
func wantMissing(tb testing.TB, s storage.Store, key string) {
	tb.Helper()
	if got, ok := get(tb, s, key); ok {
		tb.Errorf("Get(%q) = %q, want ErrNotFound", key, got)
	}
}

// txScan collects what tx.Scan visits, copying keys and values.
func txScan(tx storage.Tx, prefix, after []byte) ([]pair, error) {
	var got []pair
	err := tx.Scan(prefix, after, func(k, v []byte) (bool, error) {
		got = append(got, pair{string(k), string(v)})
		return true, nil
	})
	return got, err
}

// scan runs txScan in its own View.
func scan(tb testing.TB, s storage.Store, prefix, after []byte) []pair {
	tb.Helper()
	var got []pair
	err := s.View(tb.Context(), func(tx storage.Tx) error {
		var err error
		got, err = txScan(tx, prefix, after)
		return err
	})
	if err != nil {
		tb.Fatalf("View: %v", err)
	}
	return got
}

// wait receives from ch, failing tb if nothing arrives within waitLimit.
func wait[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		tb.Fatalf("%s: nothing after %s; deadlock?", what, waitLimit)
		panic("unreachable")
	}
}
