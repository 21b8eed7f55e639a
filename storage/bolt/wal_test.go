package bolt_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
)

// mustOpenTuned opens a store at path with the flusher's limits given and
// closes it when the test ends (unless the test closed it).
func mustOpenTuned(tb testing.TB, path string, cfg bolt.Config, every time.Duration, entries int) *bolt.Store {
	tb.Helper()
	s, err := bolt.OpenTuned(path, cfg, every, entries)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	closeAtEnd(tb, s)
	return s
}

// neverFlush keeps every write in the log and the in-memory layer.
func neverFlush(tb testing.TB, path string) *bolt.Store {
	return mustOpenTuned(tb, path, bolt.Config{}, time.Hour, 1<<30)
}

// bboltContents reads the closed store file with bbolt itself: what is in
// bbolt, not what the log would add.
func bboltContents(tb testing.TB, path string) map[string]string {
	tb.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		tb.Fatalf("bbolt.Open: %v", err)
	}
	defer db.Close()
	got := map[string]string{}
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("elasticache-server")).ForEach(func(k, v []byte) error {
			got[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

func scanAll(tb testing.TB, s storage.Store) map[string]string {
	tb.Helper()
	got := map[string]string{}
	err := s.View(tb.Context(), func(tx storage.Tx) error {
		return tx.Scan(nil, nil, func(k, v []byte) (bool, error) {
			got[string(k)] = string(v)
			return true, nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

func del(tb testing.TB, s storage.Store, keys ...string) {
	tb.Helper()
	err := s.Update(tb.Context(), func(tx storage.Tx) error {
		for _, k := range keys {
			if err := tx.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCrashRecoversFromTheLog writes, overwrites and deletes with the
// flusher held off, so that only the log has the writes, "crashes", and
// checks that Open puts every one of them into bbolt, and that after a
// clean Close the log is retired.
func TestCrashRecoversFromTheLog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	s := neverFlush(t, path)
	put(t, s, "a", "1", "b", "2", "c", "3")
	put(t, s, "b", "22")
	del(t, s, "c", "missing")
	put(t, s, "d", "")
	want := map[string]string{"a": "1", "b": "22", "d": ""}
	if got := scanAll(t, s); !equalMaps(got, want) {
		t.Fatalf("before the crash: %v, want %v", got, want)
	}
	if err := bolt.Crash(s); err != nil {
		t.Fatalf("Crash: %v", err)
	}
	if got := bboltContents(t, path); len(got) != 0 {
		t.Fatalf("bbolt has %v before recovery; the test meant the log alone to hold the writes", got)
	}

	s2 := mustOpenAt(t, path, bolt.Config{})
	if got := scanAll(t, s2); !equalMaps(got, want) {
		t.Errorf("after recovery: %v, want %v", got, want)
	}
	put(t, s2, "e", "5")
	want["e"] = "5"
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := bboltContents(t, path); !equalMaps(got, want) {
		t.Errorf("bbolt after a clean close: %v, want %v", got, want)
	}
	for _, p := range bolt.WALPaths(path) {
		head := make([]byte, 16)
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.ReadAt(head, 0)
		f.Close()
		for _, b := range head {
			if b != 0 {
				t.Errorf("%s starts with %x after a clean close; want it retired", p, head)
				break
			}
		}
	}
	s3 := mustOpenAt(t, path, bolt.Config{})
	if got := scanAll(t, s3); !equalMaps(got, want) {
		t.Errorf("after a clean restart: %v, want %v", got, want)
	}
}

// TestCrashUnderLoad runs 16 writers against a store that freezes and
// flushes every few keys, crashes it while they write, and checks that
// every Update that was answered survives and no refused one appears. Over
// several rounds on one file, so that the log files are written over.
func TestCrashUnderLoad(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	acked := map[string]bool{}
	refused := map[string]bool{}
	for round := range 4 {
		s, err := bolt.OpenTuned(path, bolt.Config{}, time.Millisecond, 5)
		if err != nil {
			t.Fatalf("round %d: Open: %v", round, err)
		}
		for k := range acked {
			if _, err := getErr(t, s, k); err != nil {
				t.Fatalf("round %d: answered write %s lost: %v", round, k, err)
			}
		}
		for k := range refused {
			if _, err := getErr(t, s, k); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("round %d: refused write %s is there: %v", round, k, err)
			}
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		crashed := make(chan struct{})
		for w := range 16 {
			wg.Go(func() {
				for i := 0; ; i++ {
					k := fmt.Sprintf("r%d/w%02d/%04d", round, w, i)
					err := s.Update(t.Context(), func(tx storage.Tx) error {
						return tx.Put([]byte(k), []byte(k))
					})
					mu.Lock()
					if err == nil {
						acked[k] = true
					} else {
						refused[k] = true
					}
					mu.Unlock()
					if err != nil {
						if !errors.Is(err, storage.ErrClosed) {
							t.Errorf("Update: %v", err)
						}
						return
					}
					select {
					case <-crashed:
						return
					default:
					}
				}
			})
		}
		// Let the writers run until a few flushes have happened.
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= (round+1)*400 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if err := bolt.Crash(s); err != nil {
			t.Fatalf("Crash: %v", err)
		}
		close(crashed)
		wg.Wait()
	}
	s := mustOpenAt(t, path, bolt.Config{})
	got := scanAll(t, s)
	for k := range acked {
		if got[k] != k {
			t.Errorf("answered write %s: %q after the last recovery", k, got[k])
		}
	}
	if len(got) != len(acked) {
		t.Errorf("%d keys after recovery, %d writes answered", len(got), len(acked))
	}
	t.Logf("%d answered writes over 4 crashes", len(acked))
}

// crashAfterThreeRecords writes a=1, b=2 and c=3 in three Updates that
// only the log holds, crashes the store, and returns the store's path and
// the log file that holds the three records, open for writing.
func crashAfterThreeRecords(t *testing.T) (path string, wal *os.File) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "data.db")
	s := neverFlush(t, path)
	put(t, s, "a", "1")
	put(t, s, "b", "2")
	put(t, s, "c", "3")
	if err := bolt.Crash(s); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(bolt.WALPaths(path)[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return path, f
}

// TestTornTailIsDropped cuts the log in the middle of its last record, as a
// crash during its write would, and adds the garbage a write over an older
// generation leaves: the records before it are replayed, the torn one (never
// answered) is not, and Open does not fail.
func TestTornTailIsDropped(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		harm func(t *testing.T, f *os.File, size int64)
	}{
		{"Cut", func(t *testing.T, f *os.File, size int64) {
			if err := f.Truncate(size - 3); err != nil {
				t.Fatal(err)
			}
		}},
		{"Garbage", func(t *testing.T, f *os.File, size int64) {
			if _, err := f.WriteAt([]byte("garbage that is no record at all"), size-5); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path, f := crashAfterThreeRecords(t)
			fi, _ := f.Stat()
			c.harm(t, f, fi.Size())
			f.Close()
			s2 := mustOpenAt(t, path, bolt.Config{})
			want := map[string]string{"a": "1", "b": "2"}
			if got := scanAll(t, s2); !equalMaps(got, want) {
				t.Errorf("after recovery: %v, want %v", got, want)
			}
		})
	}
}

// TestDamagedRecordRefusesToOpen flips a byte inside a record that has
// records after it: replaying would lose answered writes without a word,
// so Open fails and says why.
func TestDamagedRecordRefusesToOpen(t *testing.T) {
	t.Parallel()
	path, f := crashAfterThreeRecords(t)
	// The second record's payload: past the first record (16-byte header,
	// op, key and value lengths, "a", "1") and the second one's header.
	off := int64(16+1+1+1+1+1) + 16 + 3
	b := make([]byte, 1)
	_, _ = f.ReadAt(b, off)
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s2, err := bolt.Open(path, bolt.Config{})
	if err == nil {
		s2.Close()
		t.Fatal("Open succeeded on a log with a damaged record in the middle")
	}
	t.Logf("Open: %v", err)
}

// TestGroupCommit checks that concurrent Updates share log writes: 16
// writers, 50 Updates each, in fewer fdatasyncs than Updates.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, bolt.Config{})
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				put(t, s, fmt.Sprintf("%02d/%03d", w, i), "x")
			}
		})
	}
	wg.Wait()
	syncs := bolt.Syncs(s)
	if syncs >= writers*each {
		t.Errorf("%d log writes for %d Updates: no group commit", syncs, writers*each)
	}
	t.Logf("%d Updates in %d log writes", writers*each, syncs)
	if got := scanAll(t, s); len(got) != writers*each {
		t.Errorf("%d keys, want %d", len(got), writers*each)
	}
}

// TestViewsSeeOnlyDurableWrites holds the log write of an Update: until it
// is done, a View does not see the write (a crash could still take it
// back), an Update does (it is ordered after it in the log), and the
// Update that wrote is not answered.
func TestViewsSeeOnlyDurableWrites(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	var held sync.Once
	entered := make(chan struct{})
	var armed sync.Mutex
	arm := false
	s, err := bolt.OpenHooked(filepath.Join(t.TempDir(), "data.db"), bolt.Config{}, time.Hour, 1<<30, func() {
		armed.Lock()
		a := arm
		armed.Unlock()
		if a {
			held.Do(func() { close(entered) })
			<-hold
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	put(t, s, "k", "old")
	armed.Lock()
	arm = true
	armed.Unlock()
	answered := make(chan error, 1)
	go func() {
		answered <- s.Update(t.Context(), func(tx storage.Tx) error { return tx.Put([]byte("k"), []byte("new")) })
	}()
	<-entered
	select {
	case err := <-answered:
		t.Fatalf("Update answered (%v) before its log write", err)
	default:
	}
	if got := get(t, s, "k"); got != "old" {
		t.Errorf("View sees %q while the write is not durable, want old", got)
	}
	var seen string
	ran := make(chan struct{})
	readDone := make(chan error, 1)
	go func() {
		readDone <- s.Update(t.Context(), func(tx storage.Tx) error {
			defer close(ran)
			v, err := tx.Get([]byte("k"))
			seen = string(v)
			return err
		})
	}()
	<-ran
	for range 1000 {
		select {
		case err := <-readDone:
			t.Fatalf("an Update that read a write not yet durable was answered (%v)", err)
		default:
			runtime.Gosched()
		}
	}
	armed.Lock()
	arm = false
	armed.Unlock()
	close(hold)
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	if err := <-readDone; err != nil {
		t.Fatal(err)
	}
	if seen != "new" {
		t.Errorf("the second Update read %q, want new", seen)
	}
	if got := get(t, s, "k"); got != "new" {
		t.Errorf("View after the log write: %q, want new", got)
	}
}

// TestCloseGivesBackAGrownLog writes one Update larger than the log files
// keep, closes, and checks that the file that held it was cut back and
// that the store reopens with everything.
func TestCloseGivesBackAGrownLog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	s, err := bolt.Open(path, bolt.Config{})
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "small", "x")
	big := strings.Repeat("v", 1<<20)
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		for i := range 20 {
			if err := tx.Put(fmt.Appendf(nil, "big/%02d", i), []byte(big)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var grown bool
	for _, p := range bolt.WALPaths(path) {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 16<<20 {
			grown = true
		}
	}
	if !grown {
		t.Fatal("no log file grew past 16 MiB; the test needs one that did")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range bolt.WALPaths(path) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 16<<20 {
			t.Errorf("%s is %d bytes after Close, want it cut back", p, fi.Size())
		}
	}
	s2 := mustOpenAt(t, path, bolt.Config{})
	if got := get(t, s2, "big/19"); got != big {
		t.Errorf("big/19 after reopening: %d bytes", len(got))
	}
	if got := get(t, s2, "small"); got != "x" {
		t.Errorf("small after reopening: %q", got)
	}
}

// TestLogFailureRefusesWrites breaks the log under the store: the Update
// whose record could not be written is not answered with success, later
// Updates and Views are refused with the same cause (so the server's
// health check fails and it gets restarted), and after a restart
// everything answered before is there and the failed write is not.
func TestLogFailureRefusesWrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	s, err := bolt.OpenTuned(path, bolt.Config{}, time.Hour, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "before", "1")
	bolt.BreakLog(s)
	err = s.Update(t.Context(), func(tx storage.Tx) error { return tx.Put([]byte("lost"), []byte("x")) })
	if err == nil {
		t.Fatal("an Update whose log write failed was answered with success")
	}
	t.Logf("Update after the log broke: %v", err)
	err2 := s.Update(t.Context(), func(tx storage.Tx) error { return tx.Put([]byte("later"), []byte("y")) })
	if err2 == nil || err2.Error() != err.Error() {
		t.Errorf("the next Update: %v, want the same refusal", err2)
	}
	if _, err3 := getErr(t, s, "before"); err3 == nil || err3.Error() != err.Error() {
		t.Errorf("a View: %v, want the same refusal", err3)
	}
	_ = s.Close() // the log files are gone; what Close says about them is not the point
	s2 := mustOpenAt(t, path, bolt.Config{})
	if got := get(t, s2, "before"); got != "1" {
		t.Errorf("after a restart, the answered write: %q", got)
	}
	for _, k := range []string{"lost", "later"} {
		if _, err := getErr(t, s2, k); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("after a restart, %s: %v, want ErrNotFound", k, err)
		}
	}
}
