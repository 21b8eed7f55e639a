package etcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/elasticache-server/elasticache-server/storage"
)

// Scan reads etcd in pages that start small and double, so that a Scan
// that stops early costs about what it visited, and a long one takes few
// round trips.
const (
	firstPage = 32
	maxPage   = 1024
)

// tx is a storage.Tx on a snapshot of the cluster. Reads go to etcd at the
// snapshot's revision, fixed by the first read; in an Update, writes are
// buffered until commit and reads see them first, and what was read is
// recorded so that commit can check it is unchanged.
type tx struct {
	s        *Store
	ctx      context.Context
	writable bool
	done     atomic.Bool

	// rev is the snapshot's revision, 0 until the first read.
	rev int64
	// err is the first failed read; stale says it failed because the
	// snapshot was compacted, which a retry on a fresh one gets past.
	err   error
	stale bool

	// reads maps each etcd key read, by Get or a Scan's visit, to its
	// modification revision in the snapshot (0: missing).
	reads map[string]int64
	// ranges are the etcd key ranges [start, end) that Scans covered; end
	// "\x00" means "to the end of the key space", as etcd has it.
	ranges []keyRange
	// writes are the buffered Puts and Deletes by storage key; order holds
	// the same keys sorted, for Scan.
	writes map[string]write
	order  []string
}

type keyRange struct{ start, end string }

// write is one buffered change: a new value, or a deletion.
type write struct {
	value   []byte
	deleted bool
}

func newTx(s *Store, ctx context.Context, writable bool) *tx {
	t := &tx{s: s, ctx: ctx, writable: writable}
	if writable {
		t.reads = map[string]int64{}
		t.writes = map[string]write{}
	}
	return t
}

// run calls fn with t and retires t when fn returns or panics.
func (t *tx) run(fn func(storage.Tx) error) error {
	defer t.done.Store(true)
	return fn(t)
}

// read runs one range request at the snapshot's revision (fixing it on the
// first read), turning failures into storage errors and remembering the
// first of them.
func (t *tx) read(op, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if t.err != nil {
		// The snapshot is broken; every later read would be a guess.
		return nil, t.err
	}
	if t.rev != 0 {
		opts = append(opts, clientv3.WithRev(t.rev))
	}
	ctx, cancel := t.s.rpcContext(t.ctx)
	defer cancel()
	resp, err := t.s.cli.Get(ctx, key, opts...)
	if err != nil {
		if cerr := t.ctx.Err(); cerr != nil {
			err = fmt.Errorf("storage/etcd: %s: %w", op, cerr)
		} else {
			err = t.s.classify(ctx, err, op)
			t.stale = errors.Is(err, errStale)
		}
		t.err = err
		return nil, err
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	return resp, nil
}

// Get returns the value of key: the buffered write if the transaction
// wrote it, else the snapshot's.
func (t *tx) Get(key []byte) ([]byte, error) {
	if t.done.Load() {
		return nil, errTxDone
	}
	if len(key) == 0 {
		return nil, storage.ErrNotFound
	}
	if w, ok := t.writes[string(key)]; ok {
		if w.deleted {
			return nil, storage.ErrNotFound
		}
		return w.value, nil
	}
	k := t.s.key(key)
	resp, err := t.read("get", k)
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		if t.writable {
			t.reads[k] = 0
		}
		return nil, storage.ErrNotFound
	}
	kv := resp.Kvs[0]
	if t.writable {
		t.reads[k] = kv.ModRevision
	}
	if kv.Value == nil {
		return []byte{}, nil
	}
	return kv.Value, nil
}

// Put buffers key=value, copying both.
func (t *tx) Put(key, value []byte) error {
	if t.done.Load() {
		return errTxDone
	}
	switch {
	case !t.writable:
		return storage.ErrReadOnly
	case len(key) == 0:
		return errors.New("storage/etcd: put: empty key")
	}
	t.buffer(string(key), write{value: bytes.Clone(value)})
	return nil
}

// Delete buffers the removal of key; a missing key is not an error.
func (t *tx) Delete(key []byte) error {
	if t.done.Load() {
		return errTxDone
	}
	if !t.writable {
		return storage.ErrReadOnly
	}
	if len(key) == 0 {
		return nil
	}
	t.buffer(string(key), write{deleted: true})
	return nil
}

func (t *tx) buffer(key string, w write) {
	if w.value == nil && !w.deleted {
		w.value = []byte{}
	}
	if _, ok := t.writes[key]; !ok {
		// Appending is the common case (keys written in ascending order,
		// or one key), and costs no copy.
		if n := len(t.order); n == 0 || t.order[n-1] < key {
			t.order = append(t.order, key)
		} else {
			i, _ := slices.BinarySearch(t.order, key)
			t.order = slices.Insert(t.order, i, key)
		}
	}
	t.writes[key] = w
}

// nextWrite returns the first buffered key in [from, end) that is greater
// than after (all of them when after is nil); end nil means no bound.
func (t *tx) nextWrite(from, after, end []byte) (string, bool) {
	lo := string(from)
	i, _ := slices.BinarySearch(t.order, lo)
	if after != nil {
		j, found := slices.BinarySearch(t.order, string(after))
		if found {
			j++
		}
		i = max(i, j)
	}
	if i == len(t.order) {
		return "", false
	}
	k := t.order[i]
	if end != nil && k >= string(end) {
		return "", false
	}
	return k, true
}

// Scan merges the snapshot's keys, read page by page, with the buffered
// writes, visiting each key once in ascending order. Writes made by fn are
// seen from the key after the visited one on: the buffered keys are looked
// up afresh after each call, while the snapshot's pages do not change.
func (t *tx) Scan(prefix, after []byte, fn func(key, value []byte) (bool, error)) error {
	if t.done.Load() {
		return errTxDone
	}
	// The storage key range is [lo, hi); hi nil has no bound.
	lo := prefix
	if after != nil && bytes.Compare(after, prefix) >= 0 {
		lo = append(bytes.Clone(after), 0)
	}
	hi := prefixEnd(prefix)
	if hi != nil && bytes.Compare(lo, hi) >= 0 {
		return nil
	}
	// The etcd key range: the store's prefix in front; hi nil ends where
	// the store's prefix does.
	start := t.s.key(lo)
	var end string
	if hi != nil {
		end = t.s.key(hi)
	} else if pe := prefixEnd([]byte(t.s.prefix)); pe != nil {
		end = string(pe)
	} else {
		end = "\x00"
	}
	if start == "" {
		start = "\x00" // etcd has no empty key, and "" is not a valid start
	}

	var (
		page     []*kvPair
		pi       int
		from     = start // where the next page starts
		more     = true  // etcd may have keys from `from` on
		pageSize = int64(firstPage)
		cursor   []byte // the storage key visited last
		covered  = end  // where validation of the range stops
	)
	defer func() {
		if t.writable && t.rev != 0 {
			t.ranges = append(t.ranges, keyRange{start, covered})
		}
	}()
	plen := len(t.s.prefix)
	for {
		if pi == len(page) && more {
			resp, err := t.read("scan", from, clientv3.WithRange(end), clientv3.WithLimit(pageSize))
			if err != nil {
				covered = start // nothing validated; the tx fails anyway
				return err
			}
			page, pi, more = page[:0], 0, resp.More
			for _, kv := range resp.Kvs {
				page = append(page, &kvPair{key: kv.Key, value: kv.Value, modRev: kv.ModRevision})
			}
			if len(page) > 0 {
				from = string(page[len(page)-1].key) + "\x00"
			} else {
				more = false
			}
			pageSize = min(2*pageSize, maxPage)
		}
		var snapKey []byte
		if pi < len(page) {
			snapKey = page[pi].key[plen:]
		}
		bufKey, buffered := "", false
		if t.writable {
			bufKey, buffered = t.nextWrite(lo, cursor, hi)
		}
		if snapKey == nil && !buffered {
			return nil
		}
		var key, value []byte
		switch {
		case snapKey != nil && (!buffered || bytes.Compare(snapKey, []byte(bufKey)) <= 0):
			kv := page[pi]
			pi++
			if t.writable {
				t.reads[string(kv.key)] = kv.modRev
			}
			key, value = snapKey, kv.value
			if buffered && bufKey == string(snapKey) {
				w := t.writes[bufKey]
				if w.deleted {
					cursor = key
					continue
				}
				value = w.value
			}
		default:
			w := t.writes[bufKey]
			key = []byte(bufKey)
			if w.deleted {
				cursor = key
				continue
			}
			value = w.value
		}
		if value == nil {
			value = []byte{}
		}
		cursor = key
		ok, err := fn(key, value)
		if err != nil || !ok {
			covered = t.s.key(key) + "\x00"
			return err
		}
	}
}

// kvPair is one key of a Scan page.
type kvPair struct {
	key, value []byte
	modRev     int64
}

// commit sends the buffered writes in one etcd transaction guarded by the
// compares described at Store. committed is false when a compare failed: a
// concurrent writer changed what fn read, and nothing was written. A
// transaction without writes needs no commit.
func (t *tx) commit() (committed bool, err error) {
	if len(t.writes) == 0 {
		return true, nil
	}
	cmps := make([]clientv3.Cmp, 0, len(t.reads)+len(t.ranges))
	for k, rev := range t.reads {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", rev))
	}
	seen := map[keyRange]bool{}
	for _, r := range t.ranges {
		if seen[r] || r.start == r.end {
			continue
		}
		seen[r] = true
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r.start), "<", t.rev+1).WithRange(r.end))
	}
	ops := make([]clientv3.Op, 0, len(t.order))
	for _, k := range t.order {
		w := t.writes[k]
		if w.deleted {
			ops = append(ops, clientv3.OpDelete(t.s.key([]byte(k))))
		} else {
			ops = append(ops, clientv3.OpPut(t.s.key([]byte(k)), string(w.value)))
		}
	}
	ctx, cancel := t.s.rpcContext(t.ctx)
	defer cancel()
	resp, err := t.s.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		if cerr := t.ctx.Err(); cerr != nil {
			return false, fmt.Errorf("storage/etcd: commit abandoned, outcome unknown: %w", cerr)
		}
		err = t.s.classify(ctx, err, fmt.Sprintf("commit of %d writes and %d compares", len(ops), len(cmps)))
		if errors.Is(err, storage.ErrUnavailable) {
			err = fmt.Errorf("%w (the transaction may or may not have been applied)", err)
		}
		return false, err
	}
	return resp.Succeeded, nil
}

// prefixEnd is the smallest key greater than every key with prefix p, or
// nil when there is none (p empty or all 0xff).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
