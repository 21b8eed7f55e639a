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

// tx is a storage.Tx. In a View it reads a snapshot of the cluster, at
// the revision fixed by its first read. In an Update, Get answers from
// what the Store already knows (its cache, or what a failed commit of this
// Update brought back) and, for a key it knows nothing of, guesses that
// the key does not exist; Scan reads etcd at a snapshot revision; writes
// are buffered until commit and reads see them first. Everything read is
// recorded, so that the commit can check it is what the cluster holds.
type tx struct {
	s        *Store
	ctx      context.Context
	writable bool
	done     atomic.Bool
	// u is the state of the Update this run belongs to; nil in a View.
	u *updateState

	// rev is the revision of Scan's reads (every read's, in a View), 0
	// until the first.
	rev int64
	// err is the first failed read; stale says it failed because the
	// snapshot was compacted, which a retry on a fresh one gets past.
	err   error
	stale bool

	// reads maps each etcd key read, by Get or a Scan's visit, to what fn
	// was told of it. The first answer for a key is the one kept: fn
	// decided on it, so the commit must check that one.
	reads map[string]readRec
	// ranges are the etcd key ranges [start, end) that Scans covered; end
	// "\x00" means "to the end of the key space", as etcd has it.
	ranges []keyRange
	// writes are the buffered Puts and Deletes by storage key; order holds
	// the same keys sorted, for Scan.
	writes map[string]write
	order  []string
}

// updateState is what one Update carries from one run of its function to
// the next.
type updateState struct {
	// fresh holds, for each key read by Get, what the Else branch of a
	// failed commit returned: the cluster's state then, for the next run.
	// nil until a commit fails.
	fresh map[string]entry
	// first is the revision of the first answer etcd gave this Update (0:
	// none yet). An entry seen at or after it describes the cluster during
	// the Update: a commit that fails on such a read lost to a concurrent
	// writer (a conflict); one that fails only on older reads started
	// from stale knowledge (a miss).
	first int64
}

// observe notes an answer of etcd at revision rev.
func (u *updateState) observe(rev int64) {
	if u.first == 0 {
		u.first = rev
	}
}

// readRec is one key as fn saw it.
type readRec struct {
	entry
	// fresh says the entry was seen during this Update (see updateState).
	fresh bool
	// get says fn read the key by Get: the commit's Else branch fetches
	// its current state. Keys only visited by Scan are read afresh by the
	// next run's Scan instead.
	get bool
}

type keyRange struct{ start, end string }

// write is one buffered change: a new value, or a deletion.
type write struct {
	value   []byte
	deleted bool
}

func newTx(s *Store, ctx context.Context, u *updateState) *tx {
	t := &tx{s: s, ctx: ctx, writable: u != nil, u: u}
	if t.writable {
		t.reads = map[string]readRec{}
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
		if t.u != nil {
			t.u.observe(t.rev)
		}
	}
	return resp, nil
}

// Get returns the value of key: the buffered write if the transaction
// wrote it; in a View, the snapshot's; in an Update, what the transaction
// already read of key, else the latest the Store knows (see lookup).
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
	if t.writable {
		r, ok := t.reads[k]
		if !ok {
			r = t.lookup(k)
			t.reads[k] = r
		}
		if r.modRev == 0 {
			return nil, storage.ErrNotFound
		}
		if r.value == nil {
			return []byte{}, nil
		}
		return r.value, nil
	}
	resp, err := t.read("get", k)
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, storage.ErrNotFound
	}
	kv := resp.Kvs[0]
	if kv.Value == nil {
		return []byte{}, nil
	}
	return kv.Value, nil
}

// lookup is what an Update reads for etcd key k without asking etcd: the
// later of what a failed commit of this Update returned and what the
// Store's cache holds; for a key known to neither, a guess that it does
// not exist (modification revision 0), which is what a create reads. The
// commit compares it all, so a wrong guess costs a retry, never a wrong
// result.
func (t *tx) lookup(k string) readRec {
	e, ok := t.u.fresh[k]
	if c, cok := t.s.cache.get(k); cok && (!ok || c.seen > e.seen) {
		e, ok = c, true
	}
	r := readRec{get: true}
	if ok {
		r.entry = e
		r.fresh = t.u.first != 0 && e.seen >= t.u.first
	}
	return r
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
			if _, seen := t.reads[string(kv.key)]; t.writable && !seen {
				t.reads[string(kv.key)] = readRec{entry: entry{value: kv.value, modRev: kv.modRev, seen: t.rev}, fresh: true}
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

// outcome is how a commit ended.
type outcome int

const (
	// committed: every compare held; the writes, if any, are applied.
	committed outcome = iota
	// missed: a compare failed, but only on reads the Update took from what
	// the Store knew before it (cache entries, guesses). The Else branch
	// brought their current state; the next run can start at once.
	missed
	// conflicted: something fn read during this Update, or a range it
	// scanned, was changed by a concurrent writer.
	conflicted
)

// commit sends, in one etcd transaction, the buffered writes (none when
// validateOnly: fn failed or wrote nothing, and only what it read is
// checked) guarded by the compares described at Store. The Else branch,
// run by etcd when a compare fails, reads the current state of every key
// fn read by Get, so that the next run needs no read of its own: a failed
// commit is one round trip, like a successful one. What the transaction
// learns goes into the Store's cache either way.
func (t *tx) commit(validateOnly bool) (outcome, error) {
	cmps := make([]clientv3.Cmp, 0, len(t.reads)+len(t.ranges))
	gets := make([]string, 0, len(t.reads))
	for k, r := range t.reads {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", r.modRev))
		if r.get {
			gets = append(gets, k)
		}
	}
	var seen map[keyRange]bool
	for _, r := range t.ranges {
		if seen == nil {
			seen = map[keyRange]bool{}
		}
		if seen[r] || r.start == r.end {
			continue
		}
		seen[r] = true
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r.start), "<", t.rev+1).WithRange(r.end))
	}
	var ops []clientv3.Op
	var written []string // the etcd keys of t.order
	if !validateOnly {
		ops = make([]clientv3.Op, 0, len(t.order))
		written = make([]string, len(t.order))
		for i, k := range t.order {
			w := t.writes[k]
			written[i] = t.s.prefix + k
			if w.deleted {
				ops = append(ops, clientv3.OpDelete(written[i]))
			} else {
				ops = append(ops, clientv3.OpPut(written[i], string(w.value)))
			}
		}
	}
	elseOps := make([]clientv3.Op, len(gets))
	for i, k := range gets {
		elseOps[i] = clientv3.OpGet(k)
	}
	ctx, cancel := t.s.rpcContext(t.ctx)
	defer cancel()
	resp, err := t.s.cli.Txn(ctx).If(cmps...).Then(ops...).Else(elseOps...).Commit()
	if err != nil {
		if cerr := t.ctx.Err(); cerr != nil {
			return conflicted, fmt.Errorf("storage/etcd: commit abandoned, outcome unknown: %w", cerr)
		}
		what := fmt.Sprintf("commit of %d writes and %d compares", len(ops), len(cmps))
		if validateOnly {
			what = fmt.Sprintf("validation of %d compares", len(cmps))
		}
		err = t.s.classify(ctx, err, what)
		if errors.Is(err, storage.ErrUnavailable) && len(ops) > 0 {
			err = fmt.Errorf("%w (the transaction may or may not have been applied)", err)
		}
		return conflicted, err
	}
	rev := resp.Header.Revision
	if resp.Succeeded {
		t.remember(rev, written)
		return committed, nil
	}
	t.u.observe(rev)
	// With no key read by Get changed, a range or a Scan's visit failed:
	// those were read during this Update.
	stale, changed := false, false
	for i, k := range gets {
		e := entry{seen: rev}
		if i < len(resp.Responses) {
			if rr := resp.Responses[i].GetResponseRange(); rr != nil && len(rr.Kvs) > 0 {
				e.value, e.modRev = rr.Kvs[0].Value, rr.Kvs[0].ModRevision
			}
		}
		if t.u.fresh == nil {
			t.u.fresh = make(map[string]entry, len(gets))
		}
		t.u.fresh[k] = e
		t.s.cache.put(k, e)
		if r := t.reads[k]; r.modRev != e.modRev {
			// Changed since this Update saw it: a conflict, whatever
			// else was merely stale.
			changed = changed || r.fresh
			stale = stale || !r.fresh
		}
	}
	if stale && !changed {
		return missed, nil
	}
	return conflicted, nil
}

// remember puts into the Store's cache what a successful commit at
// revision rev established: every key read by Get still had the state fn
// saw, and every written key (written: their etcd keys, in t.order's
// order; none for a validation) now has its new value, cached only if it
// was read, or was cached already: keys that are only ever written, like
// events, are not worth the room.
func (t *tx) remember(rev int64, written []string) {
	for k, r := range t.reads {
		if !r.get {
			continue
		}
		if _, w := t.writes[k[len(t.s.prefix):]]; w && written != nil {
			continue
		}
		t.s.cache.put(k, entry{value: r.value, modRev: r.modRev, seen: rev})
	}
	for i, k := range written {
		w := t.writes[t.order[i]]
		e := entry{seen: rev}
		if !w.deleted {
			e.value, e.modRev = w.value, rev
		}
		if r, ok := t.reads[k]; ok && r.get {
			t.s.cache.put(k, e)
		} else {
			t.s.cache.refresh(k, e)
		}
	}
}

// settled reports whether what fn decided can be trusted without asking
// etcd: everything it read is one snapshot of the cluster, taken during
// this Update (or it read nothing). A run that writes nothing, or fails,
// then needs no round trip, as a read-only transaction on fresh reads
// never did; otherwise its reads must be validated first.
func (t *tx) settled() bool {
	var rev int64
	if len(t.ranges) > 0 {
		rev = t.rev
	}
	for _, r := range t.reads {
		if !r.fresh || (rev != 0 && r.seen != rev) {
			return false
		}
		rev = r.seen
	}
	return true
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
