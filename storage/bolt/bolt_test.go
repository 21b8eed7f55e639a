package bolt_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
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
	return mustOpenAt(tb, filepath.Join(tb.TempDir(), "data.db"), cfg)
}

// mustOpenAt opens the store file at path, which may exist already, and
// closes it when the test ends (unless the test closed it).
func mustOpenAt(tb testing.TB, path string, cfg bolt.Config) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(path, cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	closeAtEnd(tb, s)
	return s
}

// closeAtEnd closes s when the test ends and fails it if that Close
// fails for another reason than the test having closed s already.
func closeAtEnd(tb testing.TB, s *bolt.Store) {
	tb.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, storage.ErrClosed) {
			tb.Errorf("Close: %v", err)
		}
	})
}

// TestConformance runs the suite with fsync on: as configured for
// production, with every Update writing the log alone, with the top layer
// flushed into bbolt after every couple of keys (so that frozen layers and
// flushes race every test), and with nothing ever flushed (everything read
// from the layers).
func TestConformance(t *testing.T) {
	for _, c := range []struct {
		name    string
		cfg     bolt.Config
		every   time.Duration
		entries int
	}{
		{"Default", bolt.Config{}, 0, 0},
		{"NoBatch", bolt.Config{NoBatch: true}, 0, 0},
		{"FlushAlways", bolt.Config{}, time.Millisecond, 2},
		{"NeverFlush", bolt.Config{}, time.Hour, 1 << 30},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			storagetest.Run(t, func(t *testing.T) storage.Store {
				if c.every == 0 {
					return mustOpen(t, c.cfg)
				}
				return mustOpenTuned(t, filepath.Join(t.TempDir(), "data.db"), c.cfg, c.every, c.entries)
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
