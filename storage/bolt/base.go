package bolt

import (
	"fmt"
	"sync"
	"sync/atomic"

	bbolt "go.etcd.io/bbolt"
)

// readBase is one bbolt read transaction that every View and Update reads
// through while bbolt's state stays what it was when the transaction
// began: from one flush's commit to the next. Beginning and ending a bbolt
// read transaction costs about 0.7 us and takes two locks that every
// reader shares (on the test machine two cores doing nothing else got no
// more transactions a second than one); a describe paid that for every
// request.
//
// bbolt documents its transactions as not safe for use from several
// goroutines. What that guards is a writable transaction's node and
// bucket caches: a read-only one reads the memory map and allocates its
// own cursors, and its statistics are atomics (go.etcd.io/bbolt v1.5.0:
// newBucket makes the caches only when writable; Bucket.Bucket and
// pageNode use them only when present). The race detector runs the
// conformance suite over concurrent readers of one base; a bbolt upgrade
// has to keep that true, and the reasoning is in docs/DECISIONS.md.
type readBase struct {
	btx    *bbolt.Tx
	bucket *bbolt.Bucket
	// state counts the transactions reading through the base, plus
	// baseRetired once the flusher is about to commit: from then on no
	// transaction may start on it, and the last to leave ends it. A read
	// transaction left open would stop that commit from growing the
	// memory map (bbolt waits for every reader before it remaps).
	state atomic.Int64
	// cursors are reused by Gets: bbolt allocates a cursor and grows its
	// stack for every lookup otherwise.
	cursors sync.Pool
}

const baseRetired = 1 << 40

// openBase begins the read transaction of a new base.
func openBase(db *bbolt.DB) (*readBase, error) {
	btx, err := db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("storage/bolt: begin read transaction: %w", err)
	}
	rb := &readBase{btx: btx, bucket: btx.Bucket(bucketName)}
	if rb.bucket == nil {
		_ = btx.Rollback()
		return nil, fmt.Errorf("storage/bolt: bucket %q is missing", bucketName)
	}
	rb.cursors.New = func() any { return rb.bucket.Cursor() }
	return rb, nil
}

// acquire admits one more transaction unless the base is retired.
func (rb *readBase) acquire() bool {
	for {
		n := rb.state.Load()
		if n >= baseRetired {
			return false
		}
		if rb.state.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release ends an acquire; the last transaction out of a retired base
// ends its bbolt transaction.
func (rb *readBase) release() {
	if rb.state.Add(-1) == baseRetired {
		_ = rb.btx.Rollback()
	}
}

// retire refuses new transactions and ends the bbolt transaction once the
// running ones have left. Only the flusher and Close call it, once per base.
func (rb *readBase) retire() {
	if rb.state.Add(baseRetired) == baseRetired {
		_ = rb.btx.Rollback()
	}
}

// seek is Cursor.Seek on a pooled cursor. The slices it returns point
// into the memory map, not into the cursor, so the cursor can go back at
// once.
func (rb *readBase) seek(key []byte) (k, v []byte) {
	c := rb.cursors.Get().(*bbolt.Cursor)
	k, v = c.Seek(key)
	rb.cursors.Put(c)
	return k, v
}
