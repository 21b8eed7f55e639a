package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
)

// txInt reads a decimal counter inside tx; a missing key counts as 0.
func txInt(tx storage.Tx, key string) (int, error) {
	v, ok, err := txGet(tx, key)
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("key %q holds %q, not a number: %w", key, v, err)
	}
	return n, nil
}

// txPutInt writes a decimal counter inside tx.
func txPutInt(tx storage.Tx, key string, n int) error {
	return tx.Put([]byte(key), []byte(strconv.Itoa(n)))
}

// race starts n goroutines that call fn(i) together and waits for all of
// them, returning their errors by index.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// testSnapshotIsolation commits a write while a View is open; the View
// must go on seeing the state from when it started, through Get and Scan.
func testSnapshotIsolation(t *testing.T, s storage.Store) {
	// Churn first, so that a backend with a fixed-size map has free room
	// and the concurrent commit does not need to grow it (bbolt makes a
	// writer that grows the file wait for open readers).
	filler := strings.Repeat("f", 4096)
	var kv []string
	for i := range 64 {
		kv = append(kv, fmt.Sprintf("filler/%02d", i), filler)
	}
	put(t, s, kv...)
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		return tx.Scan([]byte("filler/"), nil, func(k, _ []byte) (bool, error) {
			return true, tx.Delete(k)
		})
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}

	put(t, s, "a", "0", "b", "0", "d", "0")
	before := []pair{{"a", "0"}, {"b", "0"}, {"d", "0"}}
	writerDone := make(chan error, 1)
	committed := false
	err = s.View(t.Context(), func(tx storage.Tx) error {
		if v, _, err := txGet(tx, "a"); err != nil || v != "0" {
			return fmt.Errorf("first read of a = %q, %v; want 0", v, err)
		}
		go func() {
			writerDone <- s.Update(t.Context(), func(tx storage.Tx) error {
				for _, k := range []string{"a", "b", "c"} {
					if err := tx.Put([]byte(k), []byte("1")); err != nil {
						return err
					}
				}
				return tx.Delete([]byte("d"))
			})
		}()
		select {
		case err := <-writerDone:
			if err != nil {
				return fmt.Errorf("concurrent Update: %w", err)
			}
			committed = true
		case <-time.After(2 * time.Second):
			// Allowed: a backend may make writers wait for readers. The
			// snapshot must hold either way.
			t.Log("the concurrent Update did not commit while the View was open")
		}
		got, err := txScan(tx, nil, nil)
		if err != nil {
			return err
		}
		if diff := diffPairs(got, before); diff != "" {
			t.Errorf("View after a concurrent commit (committed %v) sees (-got +want):\n%s", committed, diff)
		}
		for _, p := range before {
			if v, ok, err := txGet(tx, p.Key); err != nil || !ok || v != p.Value {
				t.Errorf("Get(%q) in the View = %q, %v, %v; want %q", p.Key, v, ok, err, p.Value)
			}
		}
		if _, ok, err := txGet(tx, "c"); err != nil || ok {
			t.Errorf("Get(c) in the View: present %v, err %v; want ErrNotFound", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	if !committed {
		if err := wait(t, writerDone, "concurrent Update"); err != nil {
			t.Fatalf("concurrent Update: %v", err)
		}
	}
	want := []pair{{"a", "1"}, {"b", "1"}, {"c", "1"}}
	if diff := diffPairs(scan(t, s, nil, nil), want); diff != "" {
		t.Errorf("after the commit (-got +want):\n%s", diff)
	}
}

// testConsistentReadsUnderWrites moves amounts between accounts while
// readers sum them: every snapshot, read by Scan or by Get, must add up.
func testConsistentReadsUnderWrites(t *testing.T, s storage.Store) {
	const accounts, each, writers, transfers = 8, 100, 2, 25
	acct := func(i int) string { return fmt.Sprintf("acct/%d", i) }
	var kv []string
	for i := range accounts {
		kv = append(kv, acct(i), strconv.Itoa(each))
	}
	put(t, s, kv...)

	var writing sync.WaitGroup
	writeErrs := make(chan error, writers)
	for w := range writers {
		writing.Go(func() {
			for i := range transfers {
				from, to := (w+i)%accounts, (w+3*i+1)%accounts
				err := s.Update(t.Context(), func(tx storage.Tx) error {
					a, err := txInt(tx, acct(from))
					if err != nil {
						return err
					}
					if err := txPutInt(tx, acct(from), a-7); err != nil {
						return err
					}
					b, err := txInt(tx, acct(to)) // after the Put: from may equal to
					if err != nil {
						return err
					}
					return txPutInt(tx, acct(to), b+7)
				})
				if err != nil {
					writeErrs <- err
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	go func() { writing.Wait(); close(stop) }()

	var reading sync.WaitGroup
	var views atomic.Int64
	for range 2 {
		reading.Go(func() {
			for done := false; !done; {
				select {
				case <-stop:
					done = true // one more View after the last write
				default:
				}
				err := s.View(t.Context(), func(tx storage.Tx) error {
					sumScan := 0
					err := tx.Scan([]byte("acct/"), nil, func(k, v []byte) (bool, error) {
						n, err := strconv.Atoi(string(v))
						sumScan += n
						return true, err
					})
					if err != nil {
						return err
					}
					sumGet := 0
					for i := range accounts {
						n, err := txInt(tx, acct(i))
						if err != nil {
							return err
						}
						sumGet += n
					}
					if sumScan != accounts*each || sumGet != accounts*each {
						return fmt.Errorf("snapshot sums to %d by Scan and %d by Get, want %d", sumScan, sumGet, accounts*each)
					}
					return nil
				})
				if err != nil {
					t.Errorf("View: %v", err)
					return
				}
				views.Add(1)
			}
		})
	}
	wait(t, stop, "writers")
	reading.Wait()
	close(writeErrs)
	for err := range writeErrs {
		t.Errorf("Update: %v", err)
	}
	t.Logf("%d consistent views during %d transfers", views.Load(), writers*transfers)
}

// testConcurrentIncrements is a read-modify-write by many goroutines at
// once: a serialisable store loses none of them.
func testConcurrentIncrements(t *testing.T, s storage.Store) {
	const n = 64
	var runs atomic.Int64
	errs := race(n, func(int) error {
		return s.Update(t.Context(), func(tx storage.Tx) error {
			runs.Add(1)
			c, err := txInt(tx, "counter")
			if err != nil {
				return err
			}
			return txPutInt(tx, "counter", c+1)
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("Update %d: %v", i, err)
		}
	}
	wantValue(t, s, "counter", strconv.Itoa(n))
	if r := runs.Load(); r < n {
		t.Errorf("fn ran %d times for %d Updates", r, n)
	}
}

// testCreateIfAbsentRace is the "exactly one create of a name wins" rule
// of the service: fn reads, and refuses with an error if the name exists.
func testCreateIfAbsentRace(t *testing.T, s storage.Store) {
	const n = 32
	errExists := errors.New("storagetest: name already exists")
	errs := race(n, func(i int) error {
		return s.Update(t.Context(), func(tx storage.Tx) error {
			_, ok, err := txGet(tx, "name")
			if err != nil {
				return err
			}
			if ok {
				return fmt.Errorf("create %d: %w", i, errExists)
			}
			if err := tx.Put([]byte("name"), []byte(strconv.Itoa(i))); err != nil {
				return err
			}
			return tx.Put([]byte(fmt.Sprintf("owner/%02d", i)), []byte("yes"))
		})
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("both %d and %d created the name", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, errExists):
			t.Errorf("Update %d: %v, want nil or the function's own error", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no Update created the name")
	}
	wantValue(t, s, "name", strconv.Itoa(winner))
	want := []pair{{fmt.Sprintf("owner/%02d", winner), "yes"}}
	if diff := diffPairs(scan(t, s, []byte("owner/"), nil), want); diff != "" {
		t.Errorf("owner keys (-got +want):\n%s", diff)
	}
}

// testConcurrentAppendsOnce checks that however often a backend runs each
// fn, the committed state is one application of each.
func testConcurrentAppendsOnce(t *testing.T, s storage.Store) {
	const n = 16
	errs := race(n, func(i int) error {
		return s.Update(t.Context(), func(tx storage.Tx) error {
			log, _, err := txGet(tx, "log")
			if err != nil {
				return err
			}
			return tx.Put([]byte("log"), fmt.Appendf([]byte(log), "%d;", i))
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("Update %d: %v", i, err)
		}
	}
	log, _ := get(t, s, "log")
	entries := strings.Split(strings.TrimSuffix(log, ";"), ";")
	slices.SortFunc(entries, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	var want []string
	for i := range n {
		want = append(want, strconv.Itoa(i))
	}
	if !slices.Equal(entries, want) {
		t.Errorf("log = %q: each of 0..%d must appear exactly once", log, n-1)
	}
}

// testFailingWritersDoNotDropOthers mixes failing and succeeding Updates:
// the failures must abort only their own writes (bbolt batches concurrent
// writers into one transaction, which makes this worth checking).
func testFailingWritersDoNotDropOthers(t *testing.T, s storage.Store) {
	const n = 32
	errs := race(n, func(i int) error {
		return s.Update(t.Context(), func(tx storage.Tx) error {
			c, err := txInt(tx, "counter")
			if err != nil {
				return err
			}
			if i%2 == 1 {
				if err := txPutInt(tx, "counter", c+1000); err != nil {
					return err
				}
				if err := tx.Put([]byte(fmt.Sprintf("bad/%02d", i)), []byte("x")); err != nil {
					return err
				}
				return fmt.Errorf("writer %d: %w", i, errTest)
			}
			if err := txPutInt(tx, "counter", c+1); err != nil {
				return err
			}
			return tx.Put([]byte(fmt.Sprintf("ok/%02d", i)), []byte("x"))
		})
	})
	var wantOK []pair
	for i, err := range errs {
		if i%2 == 1 && !errors.Is(err, errTest) {
			t.Errorf("failing Update %d returned %v, want its own error", i, err)
		}
		if i%2 == 0 {
			if err != nil {
				t.Errorf("Update %d: %v", i, err)
			}
			wantOK = append(wantOK, pair{fmt.Sprintf("ok/%02d", i), "x"})
		}
	}
	wantValue(t, s, "counter", strconv.Itoa(n/2))
	if diff := diffPairs(scan(t, s, []byte("ok/"), nil), wantOK); diff != "" {
		t.Errorf("writes of the succeeding Updates (-got +want):\n%s", diff)
	}
	if got := scan(t, s, []byte("bad/"), nil); len(got) != 0 {
		t.Errorf("writes of failed Updates are visible: %q", got)
	}
}
