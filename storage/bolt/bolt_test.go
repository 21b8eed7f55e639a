package bolt_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
	"github.com/elasticache-server/elasticache-server/storage/storagetest"
)

// mustOpen opens a store on a new file in a temp dir and closes it when the
// test ends.
func mustOpen(tb testing.TB, cfg bolt.Config) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(filepath.Join(tb.TempDir(), "data.db"), cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, storage.ErrClosed) {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// TestConformance runs the suite with fsync on: as configured for
// production (batching concurrent Updates), with every Update batched, and
// with none batched.
func TestConformance(t *testing.T) {
	for _, c := range []struct {
		name        string
		cfg         bolt.Config
		alwaysBatch bool
	}{
		{"Default", bolt.Config{}, false},
		{"AlwaysBatch", bolt.Config{}, true},
		{"NoBatch", bolt.Config{NoBatch: true}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			storagetest.Run(t, func(t *testing.T) storage.Store {
				s := mustOpen(t, c.cfg)
				if c.alwaysBatch {
					bolt.AlwaysBatch(s, 16, time.Millisecond)
				}
				return s
			})
		})
	}
}

func TestOpenLocked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	first, err := bolt.Open(path, bolt.Config{NoSync: true})
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	defer first.Close()

	type result struct {
		s   *bolt.Store
		err error
	}
	second := make(chan result, 1)
	go func() {
		s, err := bolt.Open(path, bolt.Config{NoSync: true})
		second <- result{s, err}
	}()
	var r result
	select {
	case r = <-second:
	case <-time.After(2 * time.Second):
		t.Fatal("second Open of a locked file did not return within 2s")
	}
	if r.err == nil {
		r.s.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(r.err, bolt.ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", r.err)
	}
	if msg := r.err.Error(); !strings.Contains(msg, "another elasticache-server") || !strings.Contains(msg, path) {
		t.Errorf("lock error %q should name the file and say another elasticache-server holds it", msg)
	}
	t.Logf("lock error: %v", r.err)

	// The first store is unharmed, and once it closes the file opens.
	put(t, first, "k", "v")
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s, err := bolt.Open(path, bolt.Config{NoSync: true})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	defer s.Close()
	if got := get(t, s, "k"); got != "v" {
		t.Errorf("Get(k) = %q, want v", got)
	}
}

func TestReopenPersists(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	s, err := bolt.Open(path, bolt.Config{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	put(t, s, "a", "1", "b\x00\xff", "binary", "c", "")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s, err = bolt.Open(path, bolt.Config{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	for k, want := range map[string]string{"a": "1", "b\x00\xff": "binary", "c": ""} {
		if got := get(t, s, k); got != want {
			t.Errorf("after reopen Get(%q) = %q, want %q", k, got, want)
		}
	}
}

func TestOpenNotADatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(i*31 + i>>8)
	}
	files := map[string][]byte{
		"text":    []byte("this is a configuration file, not a database\n"),
		"garbage": garbage,
		"onepage": bytes.Repeat([]byte{0}, 4096),
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := bolt.Open(path, bolt.Config{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, bolt.ErrNotDatabase) {
				t.Errorf("Open = %v, want ErrNotDatabase", err)
			}
			t.Logf("Open: %v", err)
			after, rerr := os.ReadFile(path)
			if rerr != nil || !bytes.Equal(after, content) {
				t.Errorf("Open modified the file it refused")
			}
		})
	}

	t.Run("foreign bbolt", func(t *testing.T) {
		path := filepath.Join(dir, "foreign.db")
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucket([]byte("someone-else"))
			return err
		})
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		s, err := bolt.Open(path, bolt.Config{})
		if err == nil {
			s.Close()
			t.Fatal("Open of another program's bbolt file succeeded")
		}
		if !errors.Is(err, bolt.ErrNotDatabase) {
			t.Errorf("Open = %v, want ErrNotDatabase", err)
		}
	})
}

func TestOpenMissingDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "no-such-dir", "data.db")
	s, err := bolt.Open(path, bolt.Config{})
	if err == nil {
		s.Close()
		t.Fatal("Open in a missing directory succeeded")
	}
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("Open = %v, want a not-exist error naming the path", err)
	}
}

func TestCloseTwice(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, bolt.Config{NoSync: true})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// TestBatchFailureKeepsOthers forces eight Updates into one bbolt batch,
// half of them failing. bbolt then rolls the batch back, re-runs the rest
// and runs each failing function alone: every function runs more than
// once, yet each success must count once and no failure at all.
func TestBatchFailureKeepsOthers(t *testing.T) {
	t.Parallel()
	const n = 8
	s := mustOpen(t, bolt.Config{})
	// The batch starts when the eighth call arrives; the delay only bounds
	// the wait should the goroutines be slow.
	bolt.AlwaysBatch(s, n, 5*time.Second)
	errFail := errors.New("failing on purpose")
	var runs atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(t.Context(), func(tx storage.Tx) error {
				runs.Add(1)
				c, err := tx.Get([]byte("counter"))
				if errors.Is(err, storage.ErrNotFound) {
					c = []byte{0}
				} else if err != nil {
					return err
				}
				if err := tx.Put([]byte("counter"), []byte{c[0] + 1}); err != nil {
					return err
				}
				if err := tx.Put(fmt.Appendf(nil, "key/%d", i), []byte("x")); err != nil {
					return err
				}
				if i%2 == 1 {
					return fmt.Errorf("update %d: %w", i, errFail)
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 0 && err != nil {
			t.Errorf("Update %d: %v", i, err)
		}
		if i%2 == 1 && !errors.Is(err, errFail) {
			t.Errorf("Update %d = %v, want its own error", i, err)
		}
	}
	if r := runs.Load(); r <= n {
		t.Errorf("functions ran %d times for %d Updates; the batch retry path was not exercised", r, n)
	} else {
		t.Logf("%d runs for %d Updates", r, n)
	}
	if got := get(t, s, "counter"); got != string([]byte{n / 2}) {
		t.Errorf("counter = %v, want %d", []byte(got), n/2)
	}
	for i := range n {
		_, err := getErr(t, s, fmt.Sprintf("key/%d", i))
		if i%2 == 0 && err != nil {
			t.Errorf("key/%d of a successful Update: %v", i, err)
		}
		if i%2 == 1 && !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("key/%d of a failed Update: err = %v, want ErrNotFound", i, err)
		}
	}
}

func put(tb testing.TB, s storage.Store, kv ...string) {
	tb.Helper()
	err := s.Update(tb.Context(), func(tx storage.Tx) error {
		for i := 0; i+1 < len(kv); i += 2 {
			if err := tx.Put([]byte(kv[i]), []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("Update: %v", err)
	}
}

func getErr(tb testing.TB, s storage.Store, key string) (string, error) {
	tb.Helper()
	var v string
	err := s.View(tb.Context(), func(tx storage.Tx) error {
		b, err := tx.Get([]byte(key))
		v = string(b)
		return err
	})
	return v, err
}

func get(tb testing.TB, s storage.Store, key string) string {
	tb.Helper()
	v, err := getErr(tb, s, key)
	if err != nil {
		tb.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

// TestLoneUpdateAfterBatchJoinsNext checks the choice a lone Update makes:
// alone while writers come one at a time, batched right after a batch of
// several, when the rest of that batch's writers are about to come back.
func TestLoneUpdateAfterBatchJoinsNext(t *testing.T) {
	t.Parallel()
	const n = 4
	s := mustOpen(t, bolt.Config{})
	put(t, s, "a", "1")
	if !bolt.LoneUpdateCommitsAlone(s) {
		t.Fatal("after a lone Update, the next lone one would be batched")
	}

	// n Updates in one batch: it starts when the nth arrives.
	bolt.SetBatchLimits(s, n, 5*time.Second)
	release := bolt.HoldWriter(s)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { put(t, s, fmt.Sprintf("b/%d", i), "x") })
	}
	wg.Wait()
	release()
	if bolt.LoneUpdateCommitsAlone(s) {
		t.Fatalf("after a batch of %d, a lone Update would commit alone", n)
	}

	// Batched, it waits out the delay alone and commits a batch of one;
	// the next lone Update is on its own again.
	bolt.SetBatchLimits(s, n, time.Millisecond)
	put(t, s, "c", "1")
	if !bolt.LoneUpdateCommitsAlone(s) {
		t.Fatal("after a batch of one, the next lone Update would be batched")
	}
}
