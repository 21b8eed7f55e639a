package bolt

import (
	"encoding/binary"
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

// metaBucketName holds the store's own bookkeeping, out of the keys' way:
// appliedKey, the number of the last log record bbolt has.
var (
	metaBucketName = []byte("elasticache-server-meta")
	appliedKey     = []byte("applied")
)

// defaultLockTimeout is long enough to ride out a previous server that is
// still closing, short enough that a misconfigured start fails at once.
const defaultLockTimeout = 100 * time.Millisecond

// Config holds Open's optional settings; the zero value is the production
// setting.
type Config struct {
	// NoSync skips fsync of the log and of bbolt's commits. Only for tests
	// that do not need durability: a crash may then lose answered writes or
	// corrupt the file.
	NoSync bool
	// LockTimeout is how long Open waits for the file lock before failing
	// with ErrLocked. Zero means 100ms.
	LockTimeout time.Duration
	// NoBatch gives every Update its own log write and fsync, even when
	// Updates overlap. It exists so benchmarks can measure what group commit
	// saves; production leaves it off.
	NoBatch bool
}

// tuning sets when the flusher moves the in-memory layer into bbolt. Tests
// make it tiny, so that layers are frozen and flushed under every test.
type tuning struct {
	flushEvery   time.Duration // at least this often while there are writes
	flushEntries int           // or once the top layer has this many keys
	flushBytes   int           // or this many bytes of keys and values
	beforeSync   func()        // tests: called before each log write
}

// Every 100 ms a commit of a few thousand keys in key order: bbolt's pages
// are then shared by many keys, where a group commit of 16 random keys
// wrote 40-odd pages. The bounds keep memory and the time a restart after a
// crash spends replaying the log small.
var defaultTuning = tuning{flushEvery: 100 * time.Millisecond, flushEntries: 8192, flushBytes: 16 << 20}

// Store is a storage.Store on one bbolt file and a write-ahead log. It is
// safe for concurrent use.
//
// How a write travels: an Update runs alone (wmu), reading through the
// in-memory layers into bbolt and writing into the top layer and a log
// record. The syncer writes the records that queued meanwhile to the log
// with one fdatasync, publishes a snapshot of the layers for Views, and
// only then are the Updates answered: group commit without a batch delay,
// since records queue while the previous fdatasync runs. The flusher, every
// 100 ms or so, freezes the top layer, waits until its records are durable,
// applies it to bbolt in one commit, and drops it. A crash loses at most
// the log records whose fdatasync had not returned, none of them answered;
// Open replays the rest into bbolt.
//
// A full disk is survived (diskfull.go): a log write that fails
// with ENOSPC or EDQUOT takes back every record not yet durable, its own
// and those queued after it, and the Updates that wrote or read them fail
// with storage.ErrUnavailable; a flush that fails so keeps its layer and
// tries again. Any other failure of the log or bbolt stops the store
// (fail) until the process restarts.
type Store struct {
	db      *bbolt.DB
	path    string
	log     *wal
	noBatch bool
	tune    tuning

	// gate refuses transactions once Close begins and lets it wait for
	// the running ones.
	gate storage.Gate

	// wmu serialises Updates and guards the fields up to the blank line.
	wmu         sync.Mutex
	top         *layer // newest writes, some perhaps not yet durable
	frozen      *layer // writes being applied to bbolt; nil when none
	frozenTop   uint64 // last log record whose writes frozen holds
	baseTx      int    // bbolt transaction ID of the state under the layers
	activeBytes int    // bytes written to top, to decide when to flush
	pend        []byte // records not yet handed to the syncer
	rotateAt    int    // where in pend the next generation starts, or -1
	next        *batch // the log write pend's records will go out in
	inflight    *batch // the log write under way; nil if none
	inflightSeq uint64 // last record of the write under way

	// lastSeq is the number of the last record queued: written under wmu,
	// read by the syncer's gather without it.
	lastSeq   atomic.Uint64
	durable   atomic.Uint64         // last record known durable
	failure   atomic.Pointer[error] // why transactions are refused: the log or bbolt failed
	pubMu     sync.Mutex            // orders the syncer's and flusher's publications
	published atomic.Pointer[snapshot]
	// retired are the snapshots published before the current one that
	// Views still stand on (pubMu).
	retired []*snapshot
	// committed is the ID of bbolt's newest commit.
	committed atomic.Int64
	// cache holds what transactions read from bbolt (cache.go).
	cache   *readCache
	spare   []byte       // syncer only: the previous pend, for reuse
	soloMu  sync.Mutex   // NoBatch: one Update at a time, log write included
	flushMu sync.Mutex   // one flush at a time: the flusher's, or a test's Flush
	abandon atomic.Bool  // tests: Close as a crash would, leaving the log
	syncs   atomic.Int64 // log writes, each with its fdatasync
	// stalled is why the last flush could not commit (the disk is full),
	// nil once one did: the flusher then waits for its timer, not for
	// kicks, and Close leaves the log for the next Open.
	stalled atomic.Pointer[error]
	// fault stands in for the disk in tests (see diskFault); nil
	// otherwise.
	fault atomic.Pointer[diskFault]

	kickSync  chan struct{}
	kickFlush chan struct{}
	stopFlush chan struct{}
	flushDone chan struct{}
	stopSync  chan struct{}
	syncDone  chan struct{}
}

// batch is one log write and its outcome, shared by the Updates (and the
// flusher) that wait for it.
type batch struct {
	done chan struct{} // closed once the write has ended
	err  error         // written before done is closed: nil if the records are durable
}

func newBatch() *batch { return &batch{done: make(chan struct{})} }

// snapshot is what a View reads: durable layers over bbolt as of baseTx or,
// when frozen is set, as of the commit that applies frozen (baseTx+1).
// Both give the same answers because frozen holds exactly that commit's
// writes.
type snapshot struct {
	newest, frozen *layer
	baseTx         int
	// readers counts the Views standing on the snapshot (pin): the
	// flusher does not commit past what they can read (awaitReaders).
	readers atomic.Int64
}

// maxTx is the newest bbolt transaction the snapshot can read over.
func (p *snapshot) maxTx() int {
	if p.frozen != nil {
		return p.baseTx + 1
	}
	return p.baseTx
}

var _ storage.Store = (*Store)(nil)

// Open opens or creates the database file at path and its write-ahead log
// beside it (path-wal.0, path-wal.1), replaying into the file what the log
// holds beyond it; the directory must exist. It fails with an error
// wrapping ErrLocked if another holder has the file, and ErrNotDatabase if
// the file is not one of ours.
func Open(path string, cfg Config) (*Store, error) {
	return open(path, cfg, defaultTuning)
}

func open(path string, cfg Config, tune tuning) (*Store, error) {
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
	s, err := start(db, path, cfg, tune)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// start recovers from the log and starts the syncer and the flusher.
func start(db *bbolt.DB, path string, cfg Config, tune tuning) (*Store, error) {
	if err := initBucket(db, path); err != nil {
		return nil, err
	}
	log, err := openWAL(path, cfg.NoSync)
	if err != nil {
		return nil, err
	}
	last, err := recoverLog(db, log)
	if err != nil {
		_ = log.close()
		return nil, fmt.Errorf("storage/bolt: open %s: %w", path, err)
	}
	btx, err := db.Begin(false)
	if err != nil {
		_ = log.close()
		return nil, fmt.Errorf("storage/bolt: open %s: %w", path, err)
	}
	baseTx := btx.ID()
	_ = btx.Rollback()

	s := &Store{
		db: db, path: path, log: log, noBatch: cfg.NoBatch, tune: tune,
		top: newLayer(), baseTx: baseTx, rotateAt: -1,
		cache:     newReadCache(defaultCacheBytes),
		next:      newBatch(),
		kickSync:  make(chan struct{}, 1),
		kickFlush: make(chan struct{}, 1),
		stopFlush: make(chan struct{}),
		flushDone: make(chan struct{}),
		stopSync:  make(chan struct{}),
		syncDone:  make(chan struct{}),
	}
	log.fault = &s.fault
	s.lastSeq.Store(last)
	s.durable.Store(last)
	s.published.Store(&snapshot{baseTx: baseTx})
	s.committed.Store(int64(baseTx))
	go s.flusher()
	if cfg.NoBatch {
		close(s.syncDone) // Updates write the log themselves
	} else {
		go s.syncer()
	}
	return s, nil
}

// recoverLog applies to bbolt, in one commit, the log records it does not
// have yet, and retires the log once it has them. It returns the number of
// the last record.
func recoverLog(db *bbolt.DB, log *wal) (uint64, error) {
	var applied uint64
	err := db.View(func(btx *bbolt.Tx) error {
		applied = readApplied(btx)
		return nil
	})
	if err != nil {
		return 0, err
	}
	recs, found, err := replayable(log.files, applied)
	if err != nil {
		return 0, err
	}
	if len(recs) > 0 {
		err := db.Update(func(btx *bbolt.Tx) error {
			b := btx.Bucket(bucketName)
			for _, r := range recs {
				err := decodeOps(r.payload, func(o walOp) error {
					if o.op == opDelete {
						return b.Delete(o.key)
					}
					return b.Put(o.key, o.val)
				})
				if err != nil {
					return fmt.Errorf("replay record %d: %w", r.seq, err)
				}
			}
			applied = recs[len(recs)-1].seq
			return writeApplied(btx, applied)
		})
		if err != nil {
			return 0, fmt.Errorf("replay the write-ahead log: %w", err)
		}
	}
	if found {
		if err := log.retire(); err != nil {
			return 0, err
		}
	}
	return applied, nil
}

func readApplied(btx *bbolt.Tx) uint64 {
	if v := btx.Bucket(metaBucketName).Get(appliedKey); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func writeApplied(btx *bbolt.Tx, seq uint64) error {
	return btx.Bucket(metaBucketName).Put(appliedKey, binary.BigEndian.AppendUint64(nil, seq))
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

// initBucket creates the buckets in a new file (and the meta bucket in a
// file from before the log) and refuses a bbolt file that holds other
// buckets but not ours: that is another program's database.
func initBucket(db *bbolt.DB, path string) error {
	var ours, hasMeta, foreign bool
	err := db.View(func(tx *bbolt.Tx) error {
		ours = tx.Bucket(bucketName) != nil
		hasMeta = tx.Bucket(metaBucketName) != nil
		return tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			if string(name) != string(metaBucketName) {
				foreign = true
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("storage/bolt: open %s: read buckets: %w", path, err)
	}
	if !ours && foreign {
		return fmt.Errorf("%w: %s is a bbolt database of another program", ErrNotDatabase, path)
	}
	if ours && hasMeta {
		return nil
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketName); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(metaBucketName)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage/bolt: open %s: create bucket: %w", path, err)
	}
	return nil
}
