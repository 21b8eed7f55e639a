package bolt

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/elasticache-server/elasticache-server/storage"
)

// A full disk is a fault to survive, not a reason to restart: the data
// already answered is safe, reads can go on, and writes can go on once
// space is freed. What the store does when the disk fills:
//
//   - A log write or its fdatasync fails with ENOSPC or EDQUOT: the
//     records of that write, and every record queued after it (their
//     Updates may have read the failed writes), are taken back: out of the
//     log files (wal.cut), out of the layers, and their Updates, and those
//     that only read them, fail with an error wrapping
//     storage.ErrUnavailable. The store is then exactly as it was after
//     its last durable record, and the next Update simply tries again.
//   - A flush's commit into bbolt fails so: bbolt rolls the transaction
//     back, the frozen layer stays (its records are durable in the log),
//     and the flusher tries again on its timer. Updates go on into the
//     log meanwhile, as far as the log's files have room.
//
// Any other error of the log or bbolt (EIO above all) stops the store:
// after a failed writeback Linux may have dropped the dirty pages and a
// second fdatasync can report success for data that is not on disk, so
// nothing written since the last good fdatasync can be trusted, and only
// a restart, replaying the log from disk, knows what is there. A full
// disk is different because the failed bytes are never relied on: they
// are cut off before anything is written after them.

// diskFault stands in for the disk in tests: asked with an operation's
// name (opLogWrite, opLogSync, opFlush) before the operation, it answers
// an error to fail it with, as the system call would, or nil to let it
// run.
type diskFault func(op string) error

// The operations a diskFault is asked about.
const (
	opLogWrite = "log write"
	opLogSync  = "log sync"
	opFlush    = "flush"
)

// diskFull reports whether err says that the disk, or the user's quota,
// is full.
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// bboltDiskFull is diskFull for an error of a bbolt commit. bbolt wraps
// the system's error when a page write or fdatasync fails, but formats
// it into its message (with %s) when growing the file fails; the text is
// the system's own, so that is what it is matched against.
func bboltDiskFull(err error) bool {
	if diskFull(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, syscall.ENOSPC.Error()) || strings.Contains(msg, syscall.EDQUOT.Error())
}

// writeFailedLocked decides what a failed log write of the records up to
// seq means and returns the error for the Updates that waited for it. The
// caller holds wmu; rotated says whether the write began a new generation.
func (s *Store) writeFailedLocked(werr error, rotated bool) error {
	if !diskFull(werr) {
		return s.failLocked(werr)
	}
	if err := s.log.cut(rotated); err != nil {
		// What the log holds past its last good record is unknown.
		return s.failLocked(fmt.Errorf("%w; then: %w", werr, err))
	}
	s.undoUnwritten(rotated)
	err := fmt.Errorf("storage/bolt: %s: the disk is full; the transaction was not written, and the store takes writes again once there is space: %w: %w", s.path, storage.ErrUnavailable, werr)
	// The Updates queued after the failed write may have read its writes:
	// their records go too.
	s.releaseLocked(err)
	return err
}

// undoUnwritten puts the layers back as they were after the last durable
// record, the state the published snapshot shows (and Views kept reading),
// dropping every write whose record failed or was queued after one that
// did. The caller holds wmu and has cut the log.
func (s *Store) undoUnwritten(rotated bool) {
	s.pubMu.Lock()
	p, durable := s.published.Load(), s.durable.Load()
	s.pubMu.Unlock()

	// cloneOf copies a published layer for writing; Clone only marks the
	// original copy-on-write, which Views reading it do not notice.
	cloneOf := func(l *layer) *layer {
		if l == nil {
			return newLayer()
		}
		return l.Clone()
	}
	aborted := false
	switch {
	case s.frozen != nil && p.frozen != s.frozen && s.frozenTop > durable:
		// p was taken before the freeze, and the frozen layer holds
		// writes that were never durable: the freeze is undone, and the
		// flusher, whose wait for those records fails, leaves it be. p's
		// top layer has the frozen layer's durable part.
		s.frozen = nil
		s.top = cloneOf(p.newest)
		aborted = true
	case s.frozen != nil && p.frozen != s.frozen:
		// p was taken just before the freeze, when the top layer held
		// exactly what was frozen: nothing durable has come since.
		s.top = newLayer()
	default:
		// p's top layer is the current top layer as it was at the last
		// durable record. (If p still shows a frozen layer that has been
		// committed since, bbolt has its writes.)
		s.top = cloneOf(p.newest)
	}
	s.activeBytes = 0
	s.top.Ascend(func(e *entry) bool {
		s.activeBytes += len(e.key) + len(e.val)
		return true
	})

	// A switch of log files that was not written is still owed to a
	// freeze that stands; one owed to an undone freeze goes with it, or
	// the next generation would be written over the files' only copy of
	// the durable part of the undone one.
	pending := rotated || s.rotateAt >= 0
	s.pend, s.rotateAt = s.pend[:0], -1
	if pending && !aborted {
		s.rotateAt = 0
	}
	s.lastSeq.Store(durable)
}

// releaseLocked drops the records queued for the next log write and ends
// the wait of their Updates with err. The caller holds wmu.
func (s *Store) releaseLocked(err error) {
	s.pend = s.pend[:0]
	b := s.next
	s.next = newBatch()
	b.err = err
	close(b.done)
}
