package storagetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/elasticache-server/elasticache-server/storage"
)

func testUpdateErrorAborts(t *testing.T, s storage.Store) {
	put(t, s, "a", "1", "c", "3")
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		for _, step := range []func() error{
			func() error { return tx.Put([]byte("a"), []byte("changed")) },
			func() error { return tx.Put([]byte("b"), []byte("new")) },
			func() error { return tx.Delete([]byte("c")) },
		} {
			if err := step(); err != nil {
				return fmt.Errorf("unexpected: %v", err) // not %w: must not look like errTest
			}
		}
		return fmt.Errorf("deciding to abort: %w", errTest)
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("Update returned %v, want the error from fn (errors.Is)", err)
	}
	wantValue(t, s, "a", "1")
	wantMissing(t, s, "b")
	wantValue(t, s, "c", "3")
}

func testViewIsReadOnly(t *testing.T, s storage.Store) {
	put(t, s, "a", "1")
	err := s.View(t.Context(), func(tx storage.Tx) error {
		if err := tx.Put([]byte("a"), []byte("2")); !errors.Is(err, storage.ErrReadOnly) {
			t.Errorf("Put in View: err = %v, want ErrReadOnly", err)
		}
		if err := tx.Put([]byte("b"), []byte("2")); !errors.Is(err, storage.ErrReadOnly) {
			t.Errorf("Put of a new key in View: err = %v, want ErrReadOnly", err)
		}
		if err := tx.Delete([]byte("a")); !errors.Is(err, storage.ErrReadOnly) {
			t.Errorf("Delete in View: err = %v, want ErrReadOnly", err)
		}
		// The snapshot is untouched by the refused writes.
		if v, ok, err := txGet(tx, "a"); err != nil || !ok || v != "1" {
			t.Errorf("Get(a) in View after refused writes = %q, %v, %v; want 1", v, ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	wantValue(t, s, "a", "1")
	wantMissing(t, s, "b")
}

func testReadYourWrites(t *testing.T, s storage.Store) {
	put(t, s, "old", "1", "gone", "x")
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		steps := []struct {
			do        func() error
			key, want string
			wantOK    bool
		}{
			{func() error { return tx.Put([]byte("new"), []byte("n")) }, "new", "n", true},
			{func() error { return tx.Put([]byte("old"), []byte("2")) }, "old", "2", true},
			{func() error { return tx.Delete([]byte("gone")) }, "gone", "", false},
			{func() error { return tx.Put([]byte("gone"), []byte("back")) }, "gone", "back", true},
			{func() error { return tx.Delete([]byte("new")) }, "new", "", false},
		}
		for i, st := range steps {
			if err := st.do(); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
			v, ok, err := txGet(tx, st.key)
			if err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
			if ok != st.wantOK || v != st.want {
				t.Errorf("step %d: Get(%q) = %q (present %v), want %q (present %v)", i, st.key, v, ok, st.want, st.wantOK)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantValue(t, s, "old", "2")
	wantValue(t, s, "gone", "back")
	wantMissing(t, s, "new")
}

func testScanSeesOwnWrites(t *testing.T, s storage.Store) {
	put(t, s, "p/1", "1", "p/2", "2", "p/3", "3", "q", "outside")
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		for _, op := range []struct{ key, val string }{
			{"p/2", ""}, // delete
			{"p/4", "4"},
			{"p/0", "0"},
			{"p/3", "three"},
			{"p/5", "5"},
			{"p/5", ""}, // put then delete in the same tx
			{"p", "exact prefix"},
		} {
			var err error
			if op.val == "" {
				err = tx.Delete([]byte(op.key))
			} else {
				err = tx.Put([]byte(op.key), []byte(op.val))
			}
			if err != nil {
				return err
			}
		}
		got, err := txScan(tx, []byte("p"), nil)
		if err != nil {
			return err
		}
		want := []pair{{"p", "exact prefix"}, {"p/0", "0"}, {"p/1", "1"}, {"p/3", "three"}, {"p/4", "4"}}
		if diff := diffPairs(got, want); diff != "" {
			t.Errorf("Scan in the writing tx (-got +want):\n%s", diff)
		}
		got, err = txScan(tx, []byte("p/"), []byte("p/1"))
		if err != nil {
			return err
		}
		if diff := diffPairs(got, want[3:]); diff != "" {
			t.Errorf("Scan after p/1 in the writing tx (-got +want):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := []pair{{"p", "exact prefix"}, {"p/0", "0"}, {"p/1", "1"}, {"p/3", "three"}, {"p/4", "4"}, {"q", "outside"}}
	if diff := diffPairs(scan(t, s, nil, nil), want); diff != "" {
		t.Errorf("Scan after commit (-got +want):\n%s", diff)
	}
}

// testTxAfterReturn uses a Tx after its function returned. That is a
// caller bug, but it must surface as an error, not take the process down.
func testTxAfterReturn(t *testing.T, s storage.Store) {
	put(t, s, "k", "v")
	var leaked []storage.Tx
	capture := func(tx storage.Tx) error {
		leaked = append(leaked, tx)
		return nil
	}
	if err := s.View(t.Context(), capture); err != nil {
		t.Fatalf("View: %v", err)
	}
	if err := s.Update(t.Context(), capture); err != nil {
		t.Fatalf("Update: %v", err)
	}
	// A later write, so that a backend reusing memory has reason to.
	put(t, s, "k", "v2", "other", "x")
	for i, tx := range leaked {
		if v, err := tx.Get([]byte("k")); err == nil {
			t.Errorf("tx %d: Get after return = %q, nil; want an error", i, v)
		}
		if err := tx.Put([]byte("k"), []byte("late")); err == nil {
			t.Errorf("tx %d: Put after return succeeded; want an error", i)
		}
		if err := tx.Delete([]byte("k")); err == nil {
			t.Errorf("tx %d: Delete after return succeeded; want an error", i)
		}
		called := false
		err := tx.Scan(nil, nil, func(k, v []byte) (bool, error) {
			called = true
			return true, nil
		})
		if err == nil || called {
			t.Errorf("tx %d: Scan after return: err = %v, fn called %v; want an error and no call", i, err, called)
		}
	}
	wantValue(t, s, "k", "v2")
}
