package bolt_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
)

// diskSwitch is a disk that answers ENOSPC to the operations named in ops
// while it is full.
type diskSwitch struct {
	full atomic.Bool
	ops  map[string]bool
}

func (d *diskSwitch) fault(op string) error {
	if d.full.Load() && d.ops[op] {
		return syscall.ENOSPC
	}
	return nil
}

// fullDisk injects a diskSwitch for ops into s, empty for now.
func fullDisk(s *bolt.Store, ops ...string) *diskSwitch {
	d := &diskSwitch{ops: map[string]bool{}}
	for _, op := range ops {
		d.ops[op] = true
	}
	bolt.InjectDiskFault(s, d.fault)
	return d
}

// putErr is put that returns the Update's error.
func putErr(tb testing.TB, s storage.Store, key, value string) error {
	tb.Helper()
	return s.Update(tb.Context(), func(tx storage.Tx) error { return tx.Put([]byte(key), []byte(value)) })
}

// wantUnavailable fails the test unless err is the refusal of a full
// disk: storage.ErrUnavailable, with the system's ENOSPC kept as the
// cause.
func wantUnavailable(tb testing.TB, what string, err error) {
	tb.Helper()
	if !errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, syscall.ENOSPC) {
		tb.Fatalf("%s: %v, want an error wrapping storage.ErrUnavailable and ENOSPC", what, err)
	}
}

// wantContents fails the test unless s holds exactly want.
func wantContents(tb testing.TB, what string, s storage.Store, want map[string]string) {
	tb.Helper()
	if got := scanAll(tb, s); !equalMaps(got, want) {
		tb.Fatalf("%s: the store holds %v, want %v", what, got, want)
	}
}

// reopen ends s as a crash would (crash) or with Close, and opens the
// file again.
func reopen(t *testing.T, s *bolt.Store, path string, crash bool) *bolt.Store {
	t.Helper()
	var err error
	if crash {
		err = bolt.Crash(s)
	} else {
		err = s.Close()
	}
	if err != nil {
		t.Fatalf("close before reopening: %v", err)
	}
	return mustOpenAt(t, path, bolt.Config{})
}

// TestDiskFullRefusesWritesUntilSpaceIsBack fills the disk under the log
// (a failing write, and a write whose fdatasync fails): the Update is
// refused with storage.ErrUnavailable and tried again is refused again,
// Views go on answering from what was written, and once there is space
// again the next Update succeeds without a restart. Reopened, after a
// crash or a clean Close, the store holds exactly the answered writes.
func TestDiskFullRefusesWritesUntilSpaceIsBack(t *testing.T) {
	t.Parallel()
	for _, op := range []string{bolt.OpLogWrite, bolt.OpLogSync} {
		for _, crash := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/crash=%v", op, crash), func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(t.TempDir(), "data.db")
				s := neverFlush(t, path)
				disk := fullDisk(s, op)
				put(t, s, "before", "1")

				disk.full.Store(true)
				wantUnavailable(t, "Update on a full disk", putErr(t, s, "lost", "x"))
				wantUnavailable(t, "the same Update again", putErr(t, s, "lost", "x"))
				if got := get(t, s, "before"); got != "1" {
					t.Errorf("View on a full disk: before = %q, want 1", got)
				}
				if _, err := getErr(t, s, "lost"); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("View on a full disk: the refused write reads %v, want ErrNotFound", err)
				}
				// An Update that only reads is answered as well.
				if err := s.Update(t.Context(), func(tx storage.Tx) error {
					_, err := tx.Get([]byte("before"))
					return err
				}); err != nil {
					t.Errorf("a reading Update on a full disk: %v", err)
				}

				disk.full.Store(false)
				put(t, s, "after", "2")
				want := map[string]string{"before": "1", "after": "2"}
				wantContents(t, "once space is back", s, want)

				s = reopen(t, s, path, crash)
				wantContents(t, "reopened", s, want)
			})
		}
	}
}

// TestDiskFullTakesBackWhatWasQueuedBehind fails a log write while more
// Updates have queued behind it: one that read the failed write and wrote,
// one that read it and refused. Neither answer may stand, since both rest
// on a write that is not on disk: both fail with ErrUnavailable, and
// nothing of theirs is visible or comes back after a crash.
func TestDiskFullTakesBackWhatWasQueuedBehind(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	hold := make(chan struct{})
	entered := make(chan struct{})
	var armed atomic.Bool
	var once sync.Once
	s, err := bolt.OpenHooked(path, bolt.Config{}, time.Hour, 1<<30, func() {
		if armed.Load() {
			once.Do(func() { close(entered) })
			<-hold
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, s)
	disk := fullDisk(s, bolt.OpLogWrite)
	put(t, s, "k", "old")

	armed.Store(true)
	disk.full.Store(true)
	first := make(chan error, 1)
	go func() { first <- putErr(t, s, "k", "new") }()
	<-entered // the syncer has taken the first write and waits in the hook

	var ran sync.WaitGroup
	ran.Add(2)
	wrote := make(chan error, 1)
	go func() {
		wrote <- s.Update(t.Context(), func(tx storage.Tx) error {
			defer ran.Done()
			v, err := tx.Get([]byte("k"))
			if err != nil {
				return err
			}
			return tx.Put([]byte("copy"), v)
		})
	}()
	errExists := errors.New("k is new already")
	refused := make(chan error, 1)
	go func() {
		refused <- s.Update(t.Context(), func(tx storage.Tx) error {
			defer ran.Done()
			if v, err := tx.Get([]byte("k")); err == nil && string(v) == "new" {
				return errExists
			}
			return nil
		})
	}()
	ran.Wait()
	armed.Store(false)
	close(hold)

	wantUnavailable(t, "the Update whose write failed", <-first)
	wantUnavailable(t, "the Update that copied the failed write", <-wrote)
	err = <-refused
	wantUnavailable(t, "the Update that refused on the failed write", err)
	if errors.Is(err, errExists) {
		t.Errorf("the refusal based on the failed write was answered: %v", err)
	}
	want := map[string]string{"k": "old"}
	wantContents(t, "after the failed write", s, want)

	disk.full.Store(false)
	put(t, s, "later", "1")
	want["later"] = "1"
	wantContents(t, "once space is back", s, want)
	s = reopen(t, s, path, true)
	wantContents(t, "after a crash", s, want)
}

// TestDiskFullLeavesNoRecordBehind fails the fdatasync of a log write of
// two records, both whole in the file, then writes one record of the same
// size where the first was. Had the failed bytes been left in the file,
// the second failed record would follow it with the next number, and a
// crash would bring back a write that was refused.
func TestDiskFullLeavesNoRecordBehind(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	hold := make(chan struct{})
	entered := make(chan struct{})
	var disk *diskSwitch
	var calls atomic.Int32
	s, err := bolt.OpenHooked(path, bolt.Config{}, time.Hour, 1<<30, func() {
		switch calls.Add(1) {
		case 2: // the first write after "before": held while two more queue
			close(entered)
			<-hold
		case 3: // the two queued records, in one write
			disk.full.Store(true)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, s)
	disk = fullDisk(s, bolt.OpLogSync)
	put(t, s, "before", "0")

	first := make(chan error, 1)
	go func() { first <- putErr(t, s, "k1", "v") }()
	<-entered
	queued := make(chan error, 2)
	for _, k := range []string{"k2", "k3"} {
		go func() { queued <- putErr(t, s, k, "v") }()
	}
	waitFor(t, "two Updates to queue behind the held write", func() bool { return bolt.Queued(s) == 2 })
	close(hold)
	if err := <-first; err != nil {
		t.Fatalf("the held write: %v", err)
	}
	for range 2 {
		wantUnavailable(t, "a record of the write whose fdatasync failed", <-queued)
	}
	disk.full.Store(false)
	put(t, s, "k4", "v")
	want := map[string]string{"before": "0", "k1": "v", "k4": "v"}
	wantContents(t, "once space is back", s, want)
	s = reopen(t, s, path, true)
	wantContents(t, "after a crash", s, want)
}

// TestDiskFullUndoesAFreeze fails the log write of records that a flush
// has frozen before they were durable: the freeze is undone with them (the
// flush gives up) and so is its switch of log files, the layer's durable
// part stays readable, and the next flush, with space back, takes it.
// That flush's commit then fails too, with the next generation already in
// the other log file: a crash must find every answered write, which it
// would not if the undone freeze's switch of files had been kept (the
// next generation would have been written over the first write).
func TestDiskFullUndoesAFreeze(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	hold := make(chan struct{})
	entered := make(chan struct{})
	var armed atomic.Bool
	var once sync.Once
	s, err := bolt.OpenHooked(path, bolt.Config{}, time.Hour, 1<<30, func() {
		if armed.Load() {
			once.Do(func() { close(entered) })
			<-hold
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, s)
	logDisk := &diskSwitch{ops: map[string]bool{bolt.OpLogWrite: true}}
	bboltDisk := &diskSwitch{ops: map[string]bool{bolt.OpFlush: true}}
	bolt.InjectDiskFault(s, func(op string) error {
		if err := logDisk.fault(op); err != nil {
			return err
		}
		return bboltDisk.fault(op)
	})
	put(t, s, "a", "1")

	armed.Store(true)
	logDisk.full.Store(true)
	lost := make(chan error, 1)
	go func() { lost <- putErr(t, s, "b", "2") }()
	<-entered
	flushed := make(chan bool, 1)
	go func() { flushed <- bolt.Flush(s) }()
	waitFor(t, "the flush to freeze the top layer", func() bool { return bolt.Frozen(s) })
	armed.Store(false)
	close(hold)

	wantUnavailable(t, "the Update whose write failed", <-lost)
	if <-flushed {
		t.Fatal("Flush reports a commit of a layer whose records were not written")
	}
	if bolt.Frozen(s) {
		t.Fatal("the freeze of records that were not written is still there")
	}
	want := map[string]string{"a": "1"}
	wantContents(t, "after the failed write", s, want)

	logDisk.full.Store(false)
	put(t, s, "c", "3")
	bboltDisk.full.Store(true)
	if bolt.Flush(s) {
		t.Fatal("Flush reports a commit on a full disk")
	}
	put(t, s, "d", "4") // the next generation, in the other log file
	want["c"], want["d"] = "3", "4"
	wantContents(t, "with bbolt's disk full", s, want)
	s = reopen(t, s, path, true)
	wantContents(t, "after a crash", s, want)
}

// TestDiskFullAtTheSwitchOfLogFiles fails the first write of a new
// generation, which begins at the start of the other log file: that file
// is emptied, the switch is made again by the next write, and a crash
// then finds every answered write and no refused one.
func TestDiskFullAtTheSwitchOfLogFiles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	s := neverFlush(t, path)
	disk := fullDisk(s, bolt.OpLogWrite)
	put(t, s, "a", "1", "b", "2")
	if !bolt.Flush(s) {
		t.Fatal("Flush found nothing to do")
	}
	disk.full.Store(true)
	wantUnavailable(t, "the first write of the new generation", putErr(t, s, "lost", "x"))
	disk.full.Store(false)
	put(t, s, "c", "3")
	want := map[string]string{"a": "1", "b": "2", "c": "3"}
	wantContents(t, "once space is back", s, want)
	s = reopen(t, s, path, true)
	wantContents(t, "after a crash", s, want)
	put(t, s, "d", "4")
	want["d"] = "4"
	s = reopen(t, s, path, false)
	wantContents(t, "after a clean restart", s, want)
}

// TestDiskFullStallsAFlush fails a flush's commit into bbolt: reads and
// writes go on (the writes are in the log), the flush succeeds once there
// is space, and a Close while bbolt still lacks writes leaves them in the
// log for the next Open.
func TestDiskFullStallsAFlush(t *testing.T) {
	t.Parallel()
	for _, closeWhileFull := range []bool{false, true} {
		t.Run(fmt.Sprintf("closeWhileFull=%v", closeWhileFull), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "data.db")
			s, err := bolt.OpenTuned(path, bolt.Config{}, time.Hour, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			closeAtEnd(t, s)
			disk := fullDisk(s, bolt.OpFlush)
			put(t, s, "a", "1", "b", "2")
			disk.full.Store(true)
			if bolt.Flush(s) {
				t.Fatal("Flush reports success on a full disk")
			}
			put(t, s, "c", "3")
			want := map[string]string{"a": "1", "b": "2", "c": "3"}
			wantContents(t, "while bbolt's disk is full", s, want)

			if closeWhileFull {
				err := s.Close()
				if err == nil || !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("Close with writes bbolt lacks: %v, want an error saying the disk is full", err)
				}
				s = mustOpenAt(t, path, bolt.Config{})
				wantContents(t, "reopened", s, want)
				return
			}
			disk.full.Store(false)
			if !bolt.Flush(s) {
				t.Fatal("the flush again, with space back, did nothing")
			}
			if !bolt.Flush(s) {
				t.Fatal("the flush of what came while bbolt was full did nothing")
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := bboltContents(t, path); !equalMaps(got, want) {
				t.Fatalf("bbolt holds %v after the flushes, want %v", got, want)
			}
		})
	}
}

// TestDiskFullUnderLoad has writers increment a shared counter and write
// a key of their own while the disk fails every few log writes and flush
// commits, with the layer frozen and flushed every couple of keys. Every
// Update either succeeds or fails with ErrUnavailable; a reader never sees
// a key of a failed Update; and after a crash the store holds exactly the
// answered keys, with the counter equal to their number.
func TestDiskFullUnderLoad(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	s, err := bolt.OpenTuned(path, bolt.Config{}, time.Millisecond, 2)
	if err != nil {
		t.Fatal(err)
	}
	closeAtEnd(t, s)
	var calls atomic.Int64
	bolt.InjectDiskFault(s, func(op string) error {
		n := calls.Add(1)
		switch {
		case op == bolt.OpLogWrite && n%7 == 0, op == bolt.OpLogSync && n%11 == 0, op == bolt.OpFlush && n%5 == 0:
			return syscall.ENOSPC
		}
		return nil
	})

	const writers, each = 8, 40
	var mu sync.Mutex
	answered := map[string]string{}
	refused := map[string]bool{}
	seen := map[string]bool{}
	stop := make(chan struct{})
	var reader sync.WaitGroup
	reader.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			got := map[string]string{}
			err := s.View(t.Context(), func(tx storage.Tx) error {
				return tx.Scan([]byte("w/"), nil, func(k, _ []byte) (bool, error) {
					got[string(k)] = ""
					return true, nil
				})
			})
			if err != nil {
				t.Errorf("View: %v", err)
				return
			}
			mu.Lock()
			for k := range got {
				seen[k] = true
			}
			mu.Unlock()
		}
	})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("w/%d/%03d", w, i)
				err := s.Update(t.Context(), func(tx storage.Tx) error {
					n := 0
					if v, err := tx.Get([]byte("n")); err == nil {
						n, _ = strconv.Atoi(string(v))
					} else if !errors.Is(err, storage.ErrNotFound) {
						return err
					}
					if err := tx.Put([]byte("n"), []byte(strconv.Itoa(n+1))); err != nil {
						return err
					}
					return tx.Put([]byte(key), []byte("v"))
				})
				mu.Lock()
				switch {
				case err == nil:
					answered[key] = "v"
				case errors.Is(err, storage.ErrUnavailable):
					refused[key] = true
				default:
					t.Errorf("Update %s: %v, want success or ErrUnavailable", key, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	reader.Wait()
	if len(refused) == 0 || len(answered) == 0 {
		t.Fatalf("%d Updates answered, %d refused: the test needs both", len(answered), len(refused))
	}
	for k := range seen {
		if refused[k] {
			t.Errorf("a View saw %s, whose Update was refused", k)
		}
	}
	t.Logf("%d Updates answered, %d refused", len(answered), len(refused))

	bolt.InjectDiskFault(s, nil)
	s = reopen(t, s, path, true)
	want := map[string]string{"n": strconv.Itoa(len(answered))}
	for k, v := range answered {
		want[k] = v
	}
	wantContents(t, "after a crash", s, want)
}

// TestIOErrorStopsTheStore fails a log write with EIO: unlike a full
// disk, that is not retried. The Update is refused with an error that is
// not ErrUnavailable, and so are later Updates and Views, until a restart
// finds what was answered.
func TestIOErrorStopsTheStore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	s := neverFlush(t, path)
	put(t, s, "before", "1")
	bolt.InjectDiskFault(s, func(op string) error {
		if op == bolt.OpLogSync {
			return syscall.EIO
		}
		return nil
	})
	err := putErr(t, s, "lost", "x")
	if err == nil || errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Update whose fdatasync failed with EIO: %v, want an EIO error that is not ErrUnavailable", err)
	}
	bolt.InjectDiskFault(s, nil)
	if err2 := putErr(t, s, "later", "y"); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("the next Update: %v, want the same refusal", err2)
	}
	if _, err3 := getErr(t, s, "before"); err3 == nil || err3.Error() != err.Error() {
		t.Errorf("a View: %v, want the same refusal", err3)
	}
	_ = s.Close() // a stopped store says so again; not the point here
	s = mustOpenAt(t, path, bolt.Config{})
	if got := get(t, s, "before"); got != "1" {
		t.Errorf("after a restart, the answered write: %q", got)
	}
	if _, err := getErr(t, s, "later"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("after a restart, the refused later write: %v, want ErrNotFound", err)
	}
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("still waiting after 10s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
