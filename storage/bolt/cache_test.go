package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
)

// read reads key in its own View: its value, or "<absent>".
func read(t *testing.T, s *bolt.Store, key string) string {
	t.Helper()
	v, err := getErr(t, s, key)
	if errors.Is(err, storage.ErrNotFound) {
		return "<absent>"
	}
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	return v
}

// TestReadCacheServesAndForgets: a key read from bbolt is read again
// without a bbolt transaction; a write to it, once flushed into bbolt, is
// what the next read sees, present or deleted, in Views and Updates alike.
func TestReadCacheServesAndForgets(t *testing.T) {
	t.Parallel()
	s := mustOpenTuned(t, filepath.Join(t.TempDir(), "data.db"), bolt.Config{NoSync: true}, time.Hour, 1<<30)
	put(t, s, "k", "v1")
	bolt.Flush(s)
	if got := read(t, s, "k"); got != "v1" {
		t.Fatalf("first read = %q, want v1", got)
	}
	before := bolt.BboltReads(s)
	for range 10 {
		if got := read(t, s, "k"); got != "v1" {
			t.Fatalf("cached read = %q, want v1", got)
		}
		if got := read(t, s, "absent"); got != "<absent>" {
			t.Fatalf("absent key read %q", got)
		}
	}
	if n := bolt.BboltReads(s) - before; n > 1 {
		t.Errorf("20 reads of a cached key and an absent one began %d bbolt transactions, want at most 1 (the absent key's first)", n)
	}

	put(t, s, "k", "v2")
	bolt.Flush(s)
	if got := read(t, s, "k"); got != "v2" {
		t.Fatalf("read after a flushed overwrite = %q, want v2", got)
	}
	put(t, s, "absent", "now")
	bolt.Flush(s)
	if got := read(t, s, "absent"); got != "now" {
		t.Fatalf("read of a key created after a cached miss = %q, want now", got)
	}
	if err := s.Update(context.Background(), func(tx storage.Tx) error { return tx.Delete([]byte("k")) }); err != nil {
		t.Fatal(err)
	}
	bolt.Flush(s)
	if got := read(t, s, "k"); got != "<absent>" {
		t.Fatalf("read after a flushed delete = %q, want absent", got)
	}
	err := s.Update(context.Background(), func(tx storage.Tx) error {
		if v, err := tx.Get([]byte("absent")); err != nil || string(v) != "now" {
			return fmt.Errorf("Update's Get = %q, %v; want now", v, err)
		}
		if _, err := tx.Get([]byte("k")); !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("Update's Get of the deleted key: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestViewHoldsFlushBack: a View that has not read bbolt yet keeps its
// snapshot even when it reads after writes were made and a flush began:
// the flush waits for the View before it commits, and the View reads what
// its snapshot had.
func TestViewHoldsFlushBack(t *testing.T) {
	t.Parallel()
	s := mustOpenTuned(t, filepath.Join(t.TempDir(), "data.db"), bolt.Config{NoSync: true}, time.Hour, 1<<30)
	put(t, s, "a", "old")
	put(t, s, "b", "old")
	bolt.Flush(s)

	started, proceed := make(chan struct{}), make(chan struct{})
	var release sync.Once
	// A failure below must still let the View end, or closing the store
	// would wait for it.
	defer release.Do(func() { close(proceed) })
	viewDone := make(chan error, 1)
	go func() {
		viewDone <- s.View(context.Background(), func(tx storage.Tx) error {
			close(started)
			<-proceed
			for _, k := range []string{"a", "b"} {
				v, err := tx.Get([]byte(k))
				if err != nil {
					return fmt.Errorf("Get(%s): %w", k, err)
				}
				if string(v) != "old" {
					return fmt.Errorf("Get(%s) = %q in a View begun before it was written, want old", k, v)
				}
			}
			return nil
		})
	}()
	<-started
	put(t, s, "a", "new")
	put(t, s, "b", "new")
	flushed := make(chan bool, 1)
	go func() { flushed <- bolt.Flush(s) }()
	// The flush freezes the layer and then waits for the View: it must
	// not have committed while the View stands.
	deadline := time.Now().Add(10 * time.Second)
	for !bolt.Frozen(s) {
		select {
		case <-flushed:
			t.Fatal("the flush committed while a View that had not read bbolt stood on the snapshot before it")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the flush never froze the layer")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-flushed:
		t.Fatal("the flush committed while a View that had not read bbolt stood on the snapshot before it")
	default:
	}
	release.Do(func() { close(proceed) })
	if err := <-viewDone; err != nil {
		t.Fatal(err)
	}
	if !<-flushed {
		t.Fatal("the flush did nothing")
	}
	for _, k := range []string{"a", "b"} {
		if got := read(t, s, k); got != "new" {
			t.Fatalf("after the flush %s = %q, want new", k, got)
		}
	}
}

// TestReadCacheConsistentUnderFlushes: writers change pairs of keys
// together while readers read both and the flusher commits every few
// writes; a reader must never see the two halves of a pair differ, nor a
// pair go back to an older value after it saw a newer one.
func TestReadCacheConsistentUnderFlushes(t *testing.T) {
	t.Parallel()
	s := mustOpenTuned(t, filepath.Join(t.TempDir(), "data.db"), bolt.Config{NoSync: true}, time.Millisecond, 4)
	ctx := context.Background()
	const pairs, rounds = 8, 300
	key := func(p int, half string) []byte { return fmt.Appendf(nil, "pair/%d/%s", p, half) }
	for p := range pairs {
		put(t, s, string(key(p, "a")), "0000")
		put(t, s, string(key(p, "b")), "0000")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	done := make(chan struct{})
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 1; r <= rounds; r++ {
				p := (r*2 + w) % pairs
				err := s.Update(ctx, func(tx storage.Tx) error {
					old, err := tx.Get(key(p, "a"))
					if err != nil {
						return err
					}
					var n int
					fmt.Sscanf(string(old), "%d", &n)
					v := fmt.Appendf(nil, "%04d", n+1)
					if err := tx.Put(key(p, "a"), v); err != nil {
						return err
					}
					return tx.Put(key(p, "b"), v)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			seen := make([]string, pairs)
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				runtime.Gosched() // as a server's reader blocks on its network between Views
				p := i % pairs
				err := s.View(ctx, func(tx storage.Tx) error {
					a, err := tx.Get(key(p, "a"))
					if err != nil {
						return err
					}
					b, err := tx.Get(key(p, "b"))
					if err != nil {
						return err
					}
					if !bytes.Equal(a, b) {
						return fmt.Errorf("pair %d read as %q and %q in one View", p, a, b)
					}
					if string(a) < seen[p] {
						return fmt.Errorf("pair %d went back from %q to %q", p, seen[p], a)
					}
					seen[p] = string(a)
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every increment arrived: the pairs add up to the writers' rounds.
	total := 0
	for p := range pairs {
		var n int
		fmt.Sscanf(read(t, s, string(key(p, "a"))), "%d", &n)
		total += n
	}
	if total != 2*rounds {
		t.Errorf("the pairs add up to %d increments, want %d", total, 2*rounds)
	}
}
