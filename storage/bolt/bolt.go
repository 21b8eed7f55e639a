package bolt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/elasticache-server/elasticache-server/storage"
)

// ErrLocked is wrapped by Open when another holder has the file's lock: a
// second elasticache-server on the same data directory, or a Store in this
// process that was not closed. Two writers would corrupt the file, so Open
// gives up after Config.LockTimeout instead of waiting.
var ErrLocked = errors.New("storage/bolt: data file is held by another elasticache-server")

// ErrNotDatabase is wrapped by Open when the file exists but is not an
// elasticache-server bbolt database: not bbolt at all, damaged beyond its
// two meta pages, or a bbolt database belonging to another program.
var ErrNotDatabase = errors.New("storage/bolt: file is not an elasticache-server database")

// errTxDone answers calls on a Tx whose function has returned. bbolt would
// touch unmapped memory and crash the process; a caller bug should not.
var errTxDone = errors.New("storage/bolt: transaction used after its function returned")

// bucketName is the one bucket holding all keys. Its presence also marks a
// file as ours.
var bucketName = []byte("elasticache-server")

// defaultLockTimeout is long enough to ride out a previous server that is
// still closing, short enough that a misconfigured start fails at once.
const defaultLockTimeout = 100 * time.Millisecond

// Group commit. When Updates overlap, bbolt's Batch collects them until
// batchSize have arrived or batchDelay has passed and commits them in one
// transaction with one fsync (a lone Update skips this; see commit). A full
// batch starts at once, so batchSize is the concurrency we design for, about
// 16 writers: any larger and every batch waits out the delay. The delay is
// what a few writers wait to share an fsync. Measured with
// BenchmarkUpdateParallel and BenchmarkUpdateFew on ext4 (fsync 0.6-2.3ms):
// at 16 writers size 16 beat size 32 by 2x, and 1ms beat 2ms; at 4 writers
// 1ms beat 2ms by a quarter.
const (
	batchDelay = 1 * time.Millisecond
	batchSize  = 16
)

// Config holds Open's optional settings; the zero value is the production
// setting.
type Config struct {
	// NoSync skips fsync on commit. Only for tests that do not need
	// durability: a crash may then lose answered writes or corrupt the file.
	NoSync bool
	// LockTimeout is how long Open waits for the file lock before failing
	// with ErrLocked. Zero means 100ms.
	LockTimeout time.Duration
	// NoBatch gives every Update its own bbolt transaction and fsync, even
	// when Updates overlap. It exists so benchmarks can measure what group
	// commit saves; production leaves it off.
	NoBatch bool
}

// Store is a storage.Store on one bbolt file. It is safe for concurrent
// use; bbolt itself runs one writer at a time and any number of readers.
type Store struct {
	db      *bbolt.DB
	path    string
	noBatch bool
	writers atomic.Int32 // Updates under way, to decide whether to batch
	// lastBatch is the number of Updates the last committed write
	// transaction carried; batch counts them for the transaction under way
	// and is only touched inside write transactions, which bbolt runs one
	// at a time.
	lastBatch atomic.Int32
	batch     *batchCount

	// mu guards closing and active: Close must wait for transactions that
	// started before it, and refuse ones that start after.
	mu       sync.Mutex
	idle     *sync.Cond // signalled when active drops to 0 while closing
	closing  bool
	active   int
	released chan struct{} // closed once the file is closed
}

var _ storage.Store = (*Store)(nil)

// Open opens or creates the database file at path; the directory must
// exist. It fails with an error wrapping ErrLocked if another holder has the
// file, and ErrNotDatabase if the file is not one of ours.
func Open(path string, cfg Config) (*Store, error) {
	timeout := cfg.LockTimeout
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: timeout,
		NoSync:  cfg.NoSync,
	})
	switch {
	case errors.Is(err, bberrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s: its lock was not released within %s; stop the other server (or close the other Store in this process), or use another data directory", ErrLocked, path, timeout)
	case err != nil && isSystemError(err):
		return nil, fmt.Errorf("storage/bolt: open %s: %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %s (bbolt: %v)", ErrNotDatabase, path, err)
	}
	if err := initBucket(db, path); err != nil {
		_ = db.Close()
		return nil, err
	}
	db.MaxBatchDelay = batchDelay
	db.MaxBatchSize = batchSize
	s := &Store{db: db, path: path, noBatch: cfg.NoBatch, released: make(chan struct{})}
	s.idle = sync.NewCond(&s.mu)
	return s, nil
}

// isSystemError reports whether an error from bbolt.Open came from the
// operating system (permissions, a missing directory, mmap limits) rather
// than from the file's contents. bbolt signals bad contents with several
// sentinels and some plain strings ("file size too small"), so the contents
// case is the one defined by exclusion.
func isSystemError(err error) bool {
	var pathErr *fs.PathError
	var errno syscall.Errno
	return errors.As(err, &pathErr) || errors.As(err, &errno)
}

// initBucket creates the bucket in a new file and refuses a bbolt file that
// holds other buckets but not ours: that is another program's database.
func initBucket(db *bbolt.DB, path string) error {
	var ours, foreign bool
	err := db.View(func(tx *bbolt.Tx) error {
		ours = tx.Bucket(bucketName) != nil
		return tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			foreign = true
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("storage/bolt: open %s: read buckets: %w", path, err)
	}
	if ours {
		return nil
	}
	if foreign {
		return fmt.Errorf("%w: %s is a bbolt database of another program", ErrNotDatabase, path)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket(bucketName)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage/bolt: open %s: create bucket: %w", path, err)
	}
	return nil
}

// begin registers a transaction, or refuses it once Close has been called.
func (s *Store) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return storage.ErrClosed
	}
	s.active++
	return nil
}

// end unregisters a transaction and wakes Close when it was the last.
func (s *Store) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.active == 0 && s.closing {
		s.idle.Broadcast()
	}
}

// View runs fn in a bbolt read transaction. It returns storage.ErrClosed
// after Close, and an error wrapping ctx.Err() without running fn if ctx is
// already done. fn's error is returned unchanged.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage/bolt: view not started: %w", err)
	}
	fnFailed := false
	err := s.db.View(func(btx *bbolt.Tx) error {
		err := run(btx, false, fn)
		fnFailed = err != nil
		return err
	})
	if err != nil && !fnFailed {
		return fmt.Errorf("storage/bolt: view: %w", err)
	}
	return err
}

// Update runs fn in a write transaction and returns once it is committed
// and fsynced. Overlapping Updates share one transaction and one fsync
// unless Config.NoBatch is set; fn then runs again, alone, if it or another
// function of its batch fails, which the storage contract allows. It returns
// storage.ErrClosed after Close, and an error wrapping ctx.Err(), having
// written nothing, if ctx is done before fn runs or by the time it returns.
// fn's error is returned unchanged.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage/bolt: update not started: %w", err)
	}
	// fnFailed says whether the latest run of fn failed, so that its error
	// can be told from a bbolt one. Batch reports an fn error only after
	// running fn solo, so the latest run is the one that counts.
	fnFailed := false
	apply := func(btx *bbolt.Tx) error {
		fnFailed = true
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("storage/bolt: update not started: %w", err)
		}
		if err := run(btx, true, fn); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("storage/bolt: update abandoned before commit: %w", err)
		}
		fnFailed = false
		return nil
	}
	err := s.commit(apply)
	if err != nil && !fnFailed {
		return fmt.Errorf("storage/bolt: commit: %w", err)
	}
	return err
}

// commit runs apply in a write transaction, batched with concurrent ones
// when there are any. bbolt's Batch always waits out its delay, which a lone
// writer would pay for nothing, so a lone writer gets a transaction of its
// own, unless the last transaction carried several writers: then the others
// are most likely about to arrive. In a closed loop of N clients the batch
// of N is answered at once and its clients come back one after another; the
// first back would otherwise commit alone, holding the write lock through
// an fsync while the other N-1 queue behind it, and every round would cost
// two commits instead of one.
func (s *Store) commit(apply func(*bbolt.Tx) error) error {
	n := s.writers.Add(1)
	defer s.writers.Add(-1)
	counted := func(btx *bbolt.Tx) error {
		s.count(btx)
		return apply(btx)
	}
	if s.solo(n) {
		return s.db.Update(counted)
	}
	return s.db.Batch(counted)
}

// solo reports whether an Update that found n Updates under way (itself
// included) commits in a transaction of its own.
func (s *Store) solo(n int32) bool {
	return s.noBatch || (n == 1 && s.lastBatch.Load() <= 1)
}

// count records that one more Update runs in btx, and publishes the total
// once btx commits.
// bbolt calls commit handlers after releasing the write lock, so each
// transaction gets a counter of its own that no later one touches.
func (s *Store) count(btx *bbolt.Tx) {
	if s.batch == nil || s.batch.tx != btx {
		c := &batchCount{tx: btx}
		s.batch = c
		btx.OnCommit(func() { s.lastBatch.Store(c.n) })
	}
	s.batch.n++
}

// batchCount is the number of Updates run in one write transaction.
type batchCount struct {
	tx *bbolt.Tx
	n  int32
}

// Close waits for running transactions, refusing new ones with
// storage.ErrClosed meanwhile, then closes the file and releases its lock.
// A second Close waits for the first to finish and returns
// storage.ErrClosed. Close must not be called from inside a transaction's
// function: it would wait for itself.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		<-s.released
		return storage.ErrClosed
	}
	s.closing = true
	for s.active > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	defer close(s.released)
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("storage/bolt: close %s: %w", s.path, err)
	}
	return nil
}
