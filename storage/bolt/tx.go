package bolt

import (
	"bytes"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/google/btree"
	bbolt "go.etcd.io/bbolt"

	"github.com/elasticache-server/elasticache-server/storage"
)

// entry is a key's newest value in an in-memory layer, or its deletion.
// Its slices are never written after the entry is made, so snapshots and
// scans can hand them out.
type entry struct {
	key, val []byte
	del      bool
}

// layer is an ordered set of entries. A small degree keeps the nodes that
// copy-on-write copies after each snapshot small.
type layer = btree.BTreeG[*entry]

const layerDegree = 8

func newLayer() *layer {
	return btree.NewG(layerDegree, func(a, b *entry) bool { return bytes.Compare(a.key, b.key) < 0 })
}

// tx is a storage.Tx over a stack: up to two in-memory layers, newest
// first, over the read cache and bbolt. An entry in a layer hides what the
// layers below and bbolt have for its key. The bbolt read transaction is
// begun at the first read that neither the layers nor the cache answer.
//
// Values from bbolt point into its read-only memory map and values from
// layers are shared with other transactions: the storage contract says not
// to write to them, and callers that decode a value at once should not pay
// a copy for every read.
type tx struct {
	s      *Store
	layers [2]*layer // nil: absent
	// base is the bbolt transaction the layers go over; bbolt may also be
	// read as of any later one up to maxTx (the commit of a frozen
	// layer, which reads the same under it).
	base, maxTx int
	// btx and b are bbolt's read transaction and the keys' bucket, once
	// begun (bucket).
	btx *bbolt.Tx
	b   *bbolt.Bucket
	// cursor serves every Get of the transaction: bbolt allocates a
	// cursor and grows its stack for each one otherwise.
	cursor *bbolt.Cursor
	// probe is the key a layer lookup searches for: a pointer to an
	// entry of its own would be one more allocation for every Get.
	probe    entry
	writable bool
	// writes counts Puts and Deletes, so that a Scan whose callback wrote
	// knows to look again from the key it visited.
	writes uint64
	// undo holds what each write replaced in the top layer, to roll an
	// aborted Update back; only for writable transactions.
	undo []undoRec

	// done and inflight let finish wait for calls already inside bbolt and
	// turn later calls into errTxDone. They are atomics, not a mutex,
	// because calls nest: Scan's callback calls Get.
	done     atomic.Bool
	inflight atomic.Int32
}

type undoRec struct {
	key  []byte
	prev *entry
	had  bool // prev is what was there; otherwise the key was absent
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

// bucket returns the keys' bucket in bbolt, beginning the read
// transaction at the first call. bbolt must then be as of a transaction
// the layers go over: the flusher does not commit past it while a View
// stands on its snapshot (awaitReaders), nor while an Update holds wmu.
func (t *tx) bucket() (*bbolt.Bucket, error) {
	if t.b != nil {
		return t.b, nil
	}
	btx, err := t.s.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("storage/bolt: read: %w", err)
	}
	if id := btx.ID(); id < t.base || id > t.maxTx {
		_ = btx.Rollback()
		return nil, fmt.Errorf("storage/bolt: read: bbolt is as of transaction %d, outside %d-%d that the layers go over", id, t.base, t.maxTx)
	}
	t.btx, t.b = btx, btx.Bucket(bucketName)
	return t.b, nil
}

// release ends the bbolt read transaction, if one was begun.
func (t *tx) release() {
	if t.btx != nil {
		_ = t.btx.Rollback()
	}
}

// get looks key up through the stack: the layers, the read cache, bbolt.
// What bbolt answers goes into the cache.
func (t *tx) get(key []byte) ([]byte, bool, error) {
	for _, l := range t.layers {
		if l == nil {
			continue
		}
		t.probe.key = key
		e, ok := l.Get(&t.probe)
		t.probe.key = nil
		if ok {
			return e.val, !e.del, nil
		}
	}
	if v, present, ok := t.s.cache.get(key, t.maxTx); ok {
		return v, present, nil
	}
	b, err := t.bucket()
	if err != nil {
		return nil, false, err
	}
	// A cursor rather than Bucket.Get, whose nil means "missing" but which
	// does not promise a non-nil slice for an empty value.
	if t.cursor == nil {
		t.cursor = b.Cursor()
	}
	k, v := t.cursor.Seek(key)
	present := bytes.Equal(k, key)
	if !present {
		v = nil
	} else if v == nil {
		v = []byte{}
	}
	return t.s.cache.put(key, v, present, t.btx.ID()), present, nil
}

// Get returns the value of key or storage.ErrNotFound.
func (t *tx) Get(key []byte) ([]byte, error) {
	if err := t.enter(); err != nil {
		return nil, err
	}
	defer t.leave()
	if len(key) == 0 {
		return nil, storage.ErrNotFound
	}
	v, ok, err := t.get(key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, storage.ErrNotFound
	}
	return v, nil
}

// Put sets key to a copy of value in the top layer and the Update's log
// record.
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
	buf := make([]byte, len(key)+len(value))
	copy(buf, key)
	copy(buf[len(key):], value)
	t.write(&entry{key: buf[:len(key):len(key)], val: buf[len(key):]}, opPut)
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
	if len(key) == 0 {
		return nil
	}
	if _, ok, err := t.get(key); err != nil || !ok {
		return err // nothing to hide: no entry, no log
	}
	t.write(&entry{key: append([]byte(nil), key...), del: true}, opDelete)
	return nil
}

// write puts e in the top layer, remembering what it replaced, and appends
// the operation to the Update's record.
func (t *tx) write(e *entry, op byte) {
	prev, had := t.layers[0].ReplaceOrInsert(e)
	t.undo = append(t.undo, undoRec{key: e.key, prev: prev, had: had})
	t.s.pend = appendOp(t.s.pend, op, e.key, e.val)
	t.s.activeBytes += len(e.key) + len(e.val)
	t.writes++
}

// rollback takes an aborted Update's writes out of the top layer, newest
// first, so each key gets back what it had.
func (t *tx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		if u.had {
			t.layers[0].ReplaceOrInsert(u.prev)
		} else {
			t.layers[0].Delete(&entry{key: u.key})
		}
	}
}

// Scan merges the layers and bbolt in key order. A layer is read a chunk at
// a time (its B-tree only iterates through callbacks); after a callback
// that wrote, every source is read again from just past the key visited.
func (t *tx) Scan(prefix, after []byte, fn func(key, value []byte) (bool, error)) error {
	if err := t.enter(); err != nil {
		return err
	}
	defer t.leave()
	var its [2]layerIter
	for i, l := range t.layers {
		its[i] = layerIter{l: l, prefix: prefix}
		its[i].seek(after)
	}
	b, err := t.bucket()
	if err != nil {
		return err
	}
	c := b.Cursor()
	bk, bv := seekAfter(c, prefix, after)
	var last []byte // copy of the key being visited, reused
	for {
		// The smallest key on offer; on a tie the newest layer wins.
		var key, val []byte
		del, found := false, false
		for i := range its {
			if e, ok := its[i].head(); ok && (!found || bytes.Compare(e.key, key) < 0) {
				key, val, del, found = e.key, e.val, e.del, true
			}
		}
		if bk != nil && bytes.HasPrefix(bk, prefix) && (!found || bytes.Compare(bk, key) < 0) {
			key, val, del, found = bk, bv, false, true
			if val == nil {
				val = []byte{}
			}
		}
		if !found {
			return nil
		}
		last = append(last[:0], key...)
		if !del {
			writes := t.writes
			more, err := fn(key, val)
			if err != nil || !more {
				return err
			}
			if t.writes != writes {
				for i := range its {
					its[i].seek(last)
				}
				bk, bv = seekAfter(c, nil, last)
				continue
			}
		}
		for i := range its {
			its[i].skip(last)
		}
		if bk != nil && bytes.Equal(bk, last) {
			bk, bv = c.Next()
		}
	}
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

// layerChunk is how many entries a layer iterator reads at a time.
const layerChunk = 32

// layerIter walks the entries of a layer that have a prefix, in order.
type layerIter struct {
	l      *layer
	prefix []byte
	buf    []*entry
	i      int
	more   bool // the layer may have entries past buf
}

// seek positions the iterator on the first entry with the prefix and a key
// greater than after (any key, if after is nil).
func (it *layerIter) seek(after []byte) {
	it.buf, it.i, it.more = it.buf[:0], 0, false
	if it.l == nil {
		return
	}
	from := it.prefix
	if after != nil && bytes.Compare(after, it.prefix) >= 0 {
		from = after
	}
	it.l.AscendGreaterOrEqual(&entry{key: from}, func(e *entry) bool {
		if after != nil && bytes.Equal(e.key, after) {
			return true
		}
		if !bytes.HasPrefix(e.key, it.prefix) {
			return false
		}
		if len(it.buf) == layerChunk {
			it.more = true
			return false
		}
		it.buf = append(it.buf, e)
		return true
	})
}

// head returns the entry the iterator is on.
func (it *layerIter) head() (*entry, bool) {
	if it.i < len(it.buf) {
		return it.buf[it.i], true
	}
	if !it.more {
		return nil, false
	}
	it.seek(it.buf[len(it.buf)-1].key)
	return it.head()
}

// skip moves past key if the iterator is on it.
func (it *layerIter) skip(key []byte) {
	if e, ok := it.head(); ok && bytes.Equal(e.key, key) {
		it.i++
	}
}
