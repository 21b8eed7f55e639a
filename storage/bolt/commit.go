package bolt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
)

// maxSpare bounds the log buffer the syncer keeps for reuse, so that one
// large import does not pin its size for the life of the process.
const maxSpare = 1 << 20

// View runs fn on the latest durable snapshot: the published layers over
// bbolt as of the matching state, read through the read cache (cache.go);
// a bbolt read transaction is begun only if fn reads a key that neither
// has, and rolled back when fn returns or panics. It returns
// storage.ErrClosed after Close, and an error wrapping ctx.Err() without
// running fn if ctx is already done. fn's error is returned unchanged.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.gate.Enter(ctx, "storage/bolt: view"); err != nil {
		return err
	}
	defer s.gate.Leave()
	if err := s.failed(); err != nil {
		// The log or bbolt failed: what is on disk is no longer known,
		// and the process has to restart. Refusing reads too makes the
		// server's health check say so.
		return err
	}
	p := s.pin()
	defer p.readers.Add(-1)
	t := &tx{s: s, layers: [2]*layer{p.newest, p.frozen}, base: p.baseTx, maxTx: p.maxTx()}
	// Rolled back even if fn panics: a read transaction left open would
	// make the next commit that grows bbolt's memory map wait for ever.
	defer t.release()
	return runTx(t, fn)
}

// pin returns the published snapshot with the caller counted among its
// readers; the caller uncounts itself when done. Counting first and
// checking that the snapshot is still the published one afterwards is
// what lets the flusher trust the count of a snapshot it has replaced: a
// View that counts itself on it later finds it replaced and tries again.
// A snapshot that bbolt has already moved past (a syncer's, taken before a
// commit and published after it) is skipped the same way: the one that
// goes with the commit is out or about to be.
func (s *Store) pin() *snapshot {
	for {
		p := s.published.Load()
		p.readers.Add(1)
		if s.published.Load() == p {
			if c := int(s.committed.Load()); c >= p.baseTx && c <= p.maxTx() {
				return p
			}
		}
		p.readers.Add(-1)
		runtime.Gosched()
	}
}

// publishLocked makes p the snapshot Views read. The caller holds pubMu.
// The snapshot it replaces is kept among the retired while Views stand on
// it; one without readers can get none any more (pin).
func (s *Store) publishLocked(p *snapshot) {
	if old := s.published.Swap(p); old != nil && old.readers.Load() > 0 {
		s.retired = append(s.retired, old)
	}
	s.retired = slices.DeleteFunc(s.retired, func(r *snapshot) bool { return r.readers.Load() == 0 })
}

// awaitReaders waits until every View that stands on a snapshot unable to
// read over bbolt as of base+1 (every snapshot but those of base with f
// frozen) has ended, so that the commit of f can go ahead: a View reads
// bbolt only when it first needs to, and must then find it as of its
// snapshot. Views are short; a long one (an export) holds the flush back,
// not the Updates, whose writes wait in the top layer.
func (s *Store) awaitReaders(base int, f *layer) {
	for spins := 0; ; spins++ {
		s.pubMu.Lock()
		s.retired = slices.DeleteFunc(s.retired, func(r *snapshot) bool { return r.readers.Load() == 0 })
		busy := slices.ContainsFunc(s.retired, func(r *snapshot) bool { return r.baseTx != base || r.frozen != f })
		s.pubMu.Unlock()
		if !busy {
			return
		}
		if spins < 64 {
			runtime.Gosched()
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// runTx calls fn with t and retires t when fn returns or panics.
func runTx(t *tx, fn func(storage.Tx) error) error {
	defer t.finish()
	return fn(t)
}

// Update runs fn alone on the newest state and returns once its writes are
// in the log and fdatasynced; concurrent Updates share that fdatasync. An
// Update that fails or writes nothing still waits until what it read is
// durable, so that no answer rests on a write a crash could take back. It
// returns storage.ErrClosed after Close, and an error wrapping ctx.Err(),
// having written nothing, if ctx is done before fn runs or by the time it
// returns. fn's error is returned unchanged. If the disk is full, it
// returns an error wrapping storage.ErrUnavailable, having written nothing
// and leaving the store as it was (see diskfull.go).
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.gate.Enter(ctx, "storage/bolt: update"); err != nil {
		return err
	}
	defer s.gate.Leave()
	if s.noBatch {
		s.soloMu.Lock()
		defer s.soloMu.Unlock()
	}
	wait, err := s.apply(ctx, fn)
	if wait != nil {
		if werr := s.await(wait); werr != nil {
			// What fn wrote or read was taken back: its answer, even a
			// refusal, may not stand.
			return werr
		}
	}
	return err
}

// apply runs fn under wmu and queues its log record. It returns the log
// write that makes everything fn saw and wrote durable (nil if it already
// is) and fn's error.
func (s *Store) apply(ctx context.Context, fn func(storage.Tx) error) (wait *batch, err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.failed(); err != nil {
		return nil, err
	}
	// A read transaction of the Update's own, begun at its first read of
	// bbolt and ended before the Update waits for the log. While a flush
	// commits, bbolt may be as of baseTx or the commit after it; the
	// frozen layer makes both read the same. No flush can freeze another
	// layer, let alone commit it, while the Update holds wmu.
	t := &tx{s: s, layers: [2]*layer{s.top, s.frozen}, base: s.baseTx, maxTx: s.baseTx, writable: true}
	if s.frozen != nil {
		t.maxTx++
	}
	defer t.release()
	start := len(s.pend)
	s.pend = append(s.pend, make([]byte, walHeaderSize)...)
	done := false
	defer func() {
		if !done { // fn failed or panicked
			t.rollback()
			s.pend = s.pend[:start]
		}
	}()
	err = runTx(t, fn)
	if err == nil {
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("storage/bolt: update abandoned before commit: %w", cerr)
		} else if len(s.pend)-start-walHeaderSize > math.MaxUint32 {
			err = fmt.Errorf("storage/bolt: update: %d bytes of writes in one transaction exceed the log's limit of 4 GiB", len(s.pend)-start)
		}
	}
	if err != nil || t.writes == 0 {
		if err == nil {
			done = true
			s.pend = s.pend[:start]
		}
		return s.waitLocked(s.lastSeq.Load()), err
	}
	done = true
	sealRecord(s.pend, start, s.lastSeq.Add(1))
	if !s.noBatch {
		kick(s.kickSync)
	}
	if s.top.Len() >= s.tune.flushEntries || s.activeBytes >= s.tune.flushBytes {
		kick(s.kickFlush)
	}
	return s.next, nil
}

// kick wakes a goroutine that waits on ch, or leaves it a wake-up for when
// it next waits.
func kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// waitLocked returns the log write that makes record seq durable, or nil
// if it already is. The caller holds wmu.
func (s *Store) waitLocked(seq uint64) *batch {
	switch {
	case seq <= s.durable.Load():
		return nil
	case s.inflight != nil && seq <= s.inflightSeq:
		return s.inflight
	default:
		return s.next
	}
}

// await waits until the log write b has ended and returns its error. With
// NoBatch there is no syncer, so the waiter writes the log itself.
func (s *Store) await(b *batch) error {
	if s.noBatch {
		s.syncOnce()
	}
	<-b.done
	return b.err
}

// failed returns why transactions are refused, or nil.
func (s *Store) failed() error {
	if err := s.failure.Load(); err != nil {
		return *err
	}
	return nil
}

// fail refuses every transaction from now on: the log or bbolt failed to
// write for another reason than a full disk, so what is on disk is no
// longer known (diskfull.go says why). The process must restart, and Open
// will recover what was acknowledged. Updates whose records are queued get
// the same error; fail returns it.
func (s *Store) fail(err error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.failLocked(err)
}

// failLocked is fail for a caller that holds wmu.
func (s *Store) failLocked(err error) error {
	err = fmt.Errorf("storage/bolt: %s: refused until the server restarts: %w", s.path, err)
	if !s.failure.CompareAndSwap(nil, &err) {
		err = s.failed()
	}
	s.rotateAt = -1
	s.releaseLocked(err)
	return err
}

// syncer writes queued records to the log, one fdatasync for all of them,
// until Close stops it; then it writes what is left and returns.
func (s *Store) syncer() {
	defer close(s.syncDone)
	for {
		select {
		case <-s.kickSync:
			s.gather()
			s.syncOnce()
		case <-s.stopSync:
			s.syncOnce()
			return
		}
	}
}

// maxGatherYields bounds how long the syncer lets writers queue records
// before an fdatasync.
const maxGatherYields = 8

// gather yields the processor to runnable goroutines while that brings
// more records, so that the writers woken by the last fdatasync, and the
// requests already parsed, join the next one instead of each fdatasync
// carrying four or five: on the test machine one costs 60-70 us of CPU,
// most of it in the hypervisor's block device. A lone writer loses one
// Gosched (nothing else is runnable, so it returns at once). No timer:
// this VM's timers do not wake before a millisecond. Measured with 16
// connections creating: 14,300 -> 16,500 creates/s (interleaved, 2 and 3
// rounds), CPU per create 77 -> 68 us.
func (s *Store) gather() {
	last := s.lastSeq.Load()
	for range maxGatherYields {
		runtime.Gosched()
		now := s.lastSeq.Load()
		if now == last {
			return
		}
		last = now
	}
}

// syncOnce writes the queued records to the log and fdatasyncs it, then
// publishes the layers as they were when the records were taken and wakes
// the Updates that queued them.
func (s *Store) syncOnce() {
	s.wmu.Lock()
	if len(s.pend) == 0 || s.failed() != nil {
		s.wmu.Unlock()
		return
	}
	buf, rot, seq := s.pend, s.rotateAt, s.lastSeq.Load()
	s.pend, s.spare, s.rotateAt = s.spare, nil, -1
	snap := &snapshot{newest: s.top.Clone(), frozen: s.frozen, baseTx: s.baseTx}
	b := s.next
	s.next = newBatch()
	s.inflight, s.inflightSeq = b, seq
	s.wmu.Unlock()

	if s.tune.beforeSync != nil {
		s.tune.beforeSync()
	}
	s.syncs.Add(1)
	err := s.log.write(buf, rot)
	if err == nil {
		s.pubMu.Lock()
		s.publishLocked(snap)
		s.durable.Store(seq)
		s.pubMu.Unlock()
	}

	s.wmu.Lock()
	s.inflight = nil
	if err != nil {
		b.err = s.writeFailedLocked(err, rot >= 0)
	}
	if cap(buf) <= maxSpare {
		s.spare = buf[:0]
	}
	s.wmu.Unlock()
	close(b.done)
}

// flusher moves the top layer into bbolt every flushEvery, or sooner when
// it grows past its bounds, until Close stops it; then it flushes what is
// left and returns.
func (s *Store) flusher() {
	defer close(s.flushDone)
	timer := time.NewTimer(s.tune.flushEvery)
	defer timer.Stop()
	for {
		kicks := s.kickFlush
		if s.stalled.Load() != nil {
			// bbolt's disk is full: try again on the timer only. Every
			// Update past the flush bounds kicks, and every try writes
			// the whole frozen layer.
			kicks = nil
		}
		select {
		case <-kicks:
		case <-timer.C:
		case <-s.stopFlush:
			for !s.abandon.Load() && s.flush(true) {
			}
			return
		}
		s.flush(false)
		timer.Reset(s.tune.flushEvery)
	}
}

// flush freezes the top layer, waits until its records are durable,
// applies it to bbolt in one commit and drops it; a layer frozen by an
// earlier flush whose commit failed for want of space is applied instead,
// before anything new is frozen. It reports whether it flushed anything.
// Unless final, it leaves the top layer be while the previous freeze's
// switch of log files has not reached the syncer: two generations in one
// file would be written over together.
func (s *Store) flush(final bool) bool {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.wmu.Lock()
	if s.failed() != nil {
		s.wmu.Unlock()
		return false
	}
	f, top := s.frozen, s.frozenTop
	if f == nil {
		if s.top.Len() == 0 || (s.rotateAt >= 0 && !final) {
			s.wmu.Unlock()
			return false
		}
		f, top = s.top, s.lastSeq.Load()
		s.top, s.frozen, s.frozenTop, s.activeBytes = newLayer(), f, top, 0
		s.rotateAt = len(s.pend)
	}
	base := s.baseTx
	wait := s.waitLocked(top)
	s.wmu.Unlock()
	if final {
		kick(s.kickSync)
	}
	if wait != nil && s.await(wait) != nil {
		// f's records did not reach the log: the failed write took the
		// freeze back (or stopped the store).
		return false
	}

	// Everything in f is durable. If the last sync took the layers before
	// the freeze, its snapshot has f's writes in its newest layer; publish
	// them as the frozen layer, so that Views accept bbolt's next state.
	s.pubMu.Lock()
	if p := s.published.Load(); p.frozen != f {
		s.publishLocked(&snapshot{frozen: f, baseTx: base})
	}
	s.pubMu.Unlock()
	s.awaitReaders(base, f)

	committed, err := s.commitLayer(f, top)
	if err != nil {
		if bboltDiskFull(err) {
			// bbolt rolled the commit back; f stays frozen, its
			// records stay in the log, and the next flush tries again.
			err = fmt.Errorf("storage/bolt: %s: the disk is full; bbolt lacks %d keys the log holds: %w", s.path, f.Len(), err)
			s.stalled.Store(&err)
			return false
		}
		s.fail(err)
		return false
	}
	s.stalled.Store(nil)
	// Before anything reads bbolt as of the commit: Views once a snapshot
	// without f is published, Updates once the base moves.
	s.committed.Store(int64(committed))
	s.cache.committed(f, committed)
	s.wmu.Lock()
	s.frozen, s.frozenTop, s.baseTx = nil, 0, committed
	s.wmu.Unlock()
	s.pubMu.Lock()
	if p := s.published.Load(); p.frozen == f {
		s.publishLocked(&snapshot{newest: p.newest, baseTx: committed})
	}
	s.pubMu.Unlock()
	return true
}

// flushFillPercent is how full bbolt fills the pages it splits during a
// flush. Its default, half, suits random single inserts; a flush inserts
// thousands of keys in key order, and half-full pages then doubled the
// file: 100,000 groups imported took 126 MB, 75 MB at 0.9; 100,000
// created through the API 143 MB, 68 MB at 0.9. Fuller pages also mean
// fewer to write: creates went 15,400-16,000 -> 16,700-18,100 per second
// (3 interleaved rounds, 16 connections).
const flushFillPercent = 0.9

// commitLayer writes f to bbolt in one transaction, with top as the last
// log record bbolt has, and returns the transaction's ID.
func (s *Store) commitLayer(f *layer, top uint64) (int, error) {
	btx, err := s.db.Begin(true)
	if err != nil {
		return 0, fmt.Errorf("flush: %w", err)
	}
	b := btx.Bucket(bucketName)
	b.FillPercent = flushFillPercent
	f.Ascend(func(e *entry) bool {
		if e.del {
			err = b.Delete(e.key)
		} else {
			err = b.Put(e.key, e.val)
		}
		return err == nil
	})
	if err == nil {
		err = writeApplied(btx, top)
	}
	if err == nil {
		err = s.log.injected(opFlush)
	}
	if err != nil {
		_ = btx.Rollback()
		return 0, fmt.Errorf("flush: %w", err)
	}
	id := btx.ID()
	if err := btx.Commit(); err != nil {
		return 0, fmt.Errorf("flush: commit: %w", err)
	}
	return id, nil
}

// Close waits for running transactions, refusing new ones with
// storage.ErrClosed meanwhile, moves what is only in the log into bbolt,
// then closes the files and releases the lock. A second Close waits for the
// first to finish and returns storage.ErrClosed. Close must not be called
// from inside a transaction's function: it would wait for itself.
func (s *Store) Close() error {
	if !s.gate.Close() {
		return storage.ErrClosed
	}
	defer s.gate.Release()

	close(s.stopFlush)
	<-s.flushDone
	close(s.stopSync)
	<-s.syncDone
	var errs []error
	switch {
	case s.failed() != nil || s.abandon.Load():
	case s.frozen != nil || s.top.Len() > 0:
		// The log holds writes bbolt could not take; the next Open
		// replays them.
		cause := errors.New("the last flush did not commit")
		if stalled := s.stalled.Load(); stalled != nil {
			cause = *stalled
		}
		errs = append(errs, fmt.Errorf("storage/bolt: close: writes stay in the write-ahead log for the next start: %w", cause))
	default:
		// Every record is in bbolt: the next Open need not read the log.
		if err := s.log.retire(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.log.close(); err != nil {
		errs = append(errs, fmt.Errorf("storage/bolt: close write-ahead log: %w", err))
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("storage/bolt: close %s: %w", s.path, err))
	}
	return errors.Join(errs...)
}
