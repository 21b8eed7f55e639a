package bolt

import (
	"bytes"
	"fmt"
	"runtime"
	"sync/atomic"

	bbolt "go.etcd.io/bbolt"

	"github.com/elasticache-server/elasticache-server/storage"
)

// tx is a storage.Tx over the store's bucket in one bbolt transaction.
//
// Slices from Get and Scan point into bbolt's read-only memory map: valid
// until the transaction ends, and writing to them crashes the process. The
// storage contract says as much, and callers that decode a value at once
// should not pay a copy for every read.
type tx struct {
	b        *bbolt.Bucket
	writable bool
	// writes counts Puts and Deletes, so that a Scan whose callback wrote
	// knows its bbolt cursor may be stale.
	writes uint64

	// done and inflight let finish wait for calls already inside bbolt and
	// turn later calls into errTxDone. They are atomics, not a mutex,
	// because calls nest: Scan's callback calls Get.
	done     atomic.Bool
	inflight atomic.Int32
}

// run calls fn with a tx over btx and retires the tx when fn returns or
// panics.
func run(btx *bbolt.Tx, writable bool, fn func(storage.Tx) error) error {
	t := &tx{b: btx.Bucket(bucketName), writable: writable}
	defer t.finish()
	return fn(t)
}

// enter admits a call unless the transaction is over. Every enter that
// returns nil must be matched by leave.
func (t *tx) enter() error {
	t.inflight.Add(1)
	if t.done.Load() {
		t.inflight.Add(-1)
		return errTxDone
	}
	return nil
}

func (t *tx) leave() { t.inflight.Add(-1) }

// finish marks the tx over, then waits for calls that were admitted before
// (only a leaked goroutine can have one) so that bbolt does not end the
// transaction under them. The store and load order is what makes this
// safe: a call either sees done or is counted by the time finish looks.
func (t *tx) finish() {
	t.done.Store(true)
	for t.inflight.Load() != 0 {
		runtime.Gosched()
	}
}

// Get returns the value of key or storage.ErrNotFound. The value aliases
// bbolt's memory; see tx.
func (t *tx) Get(key []byte) ([]byte, error) {
	if err := t.enter(); err != nil {
		return nil, err
	}
	defer t.leave()
	// A cursor rather than Bucket.Get, whose nil means "missing" but which
	// does not promise a non-nil slice for an empty value.
	k, v := t.b.Cursor().Seek(key)
	if len(key) == 0 || !bytes.Equal(k, key) {
		return nil, storage.ErrNotFound
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// Put sets key to a copy of value: bbolt copies the key but keeps the
// caller's value slice until commit.
func (t *tx) Put(key, value []byte) error {
	if err := t.enter(); err != nil {
		return err
	}
	defer t.leave()
	switch {
	case !t.writable:
		return storage.ErrReadOnly
	case len(key) == 0:
		return fmt.Errorf("storage/bolt: put: empty key")
	case len(key) > bbolt.MaxKeySize:
		return fmt.Errorf("storage/bolt: put: key of %d bytes exceeds the limit of %d", len(key), bbolt.MaxKeySize)
	case len(value) > bbolt.MaxValueSize:
		return fmt.Errorf("storage/bolt: put: value of %d bytes exceeds the limit of %d", len(value), bbolt.MaxValueSize)
	}
	t.writes++
	if err := t.b.Put(key, append([]byte{}, value...)); err != nil {
		return fmt.Errorf("storage/bolt: put: %w", err)
	}
	return nil
}

// Delete removes key; a missing key is not an error.
func (t *tx) Delete(key []byte) error {
	if err := t.enter(); err != nil {
		return err
	}
	defer t.leave()
	if !t.writable {
		return storage.ErrReadOnly
	}
	t.writes++
	if err := t.b.Delete(key); err != nil {
		return fmt.Errorf("storage/bolt: delete: %w", err)
	}
	return nil
}

// Scan walks a cursor from the first key after max(after, prefix) and stops
// at the first key without the prefix, so it costs what it visits. If fn
// wrote through the tx, bbolt's cursor may have moved under it, so the scan
// seeks again just past the key it last visited.
func (t *tx) Scan(prefix, after []byte, fn func(key, value []byte) (bool, error)) error {
	if err := t.enter(); err != nil {
		return err
	}
	defer t.leave()
	c := t.b.Cursor()
	k, v := seekAfter(c, prefix, after)
	var last []byte // copy of the key being visited, reused
	for k != nil && bytes.HasPrefix(k, prefix) {
		last = append(last[:0], k...)
		writes := t.writes
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
		if t.writes != writes {
			k, v = seekAfter(c, nil, last)
		} else {
			k, v = c.Next()
		}
	}
	return nil
}

// seekAfter positions c on the first key that is >= prefix and > after.
func seekAfter(c *bbolt.Cursor, prefix, after []byte) (k, v []byte) {
	if after == nil || bytes.Compare(after, prefix) < 0 {
		// Every key with the prefix is greater than after.
		if len(prefix) == 0 {
			return c.First()
		}
		return c.Seek(prefix)
	}
	k, v = c.Seek(after)
	if k != nil && bytes.Equal(k, after) {
		k, v = c.Next()
	}
	return k, v
}
