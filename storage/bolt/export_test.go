package bolt

import "time"

// OpenTuned opens a store whose flusher moves the top layer into bbolt
// every flushEvery or once it holds flushEntries keys, instead of the
// production values. Tiny values put frozen layers and flushes under every
// test; huge ones keep every write in the log alone.
func OpenTuned(path string, cfg Config, flushEvery time.Duration, flushEntries int) (*Store, error) {
	return open(path, cfg, tuning{flushEvery: flushEvery, flushEntries: flushEntries, flushBytes: defaultTuning.flushBytes})
}

// OpenHooked is OpenTuned with beforeSync called before every log write.
func OpenHooked(path string, cfg Config, flushEvery time.Duration, flushEntries int, beforeSync func()) (*Store, error) {
	return open(path, cfg, tuning{flushEvery: flushEvery, flushEntries: flushEntries, flushBytes: defaultTuning.flushBytes, beforeSync: beforeSync})
}

// Syncs returns how many log writes (each with its fdatasync) s has made.
func Syncs(s *Store) int64 { return s.syncs.Load() }

// WALPaths returns the log files of the store file at path.
func WALPaths(path string) [2]string { return walPaths(path) }

// Crash closes s as a crash of the process would leave its files: what was
// written to the log stays there, nothing more goes into bbolt, and the log
// is not retired. The next Open has to recover from the log.
func Crash(s *Store) error {
	s.abandon.Store(true)
	return s.Close()
}

// Flush moves what s holds in memory into bbolt now, as the flusher does.
func Flush(s *Store) bool { return s.flush(false) }

// BreakLog closes s's log files under it, so that the next log write fails
// as a failing disk's would.
func BreakLog(s *Store) {
	for _, f := range s.log.files {
		_ = f.Close()
	}
}

// The operations a disk fault is asked about: a log file's write, its
// fdatasync, and a flush's commit into bbolt.
const (
	OpLogWrite = opLogWrite
	OpLogSync  = opLogSync
	OpFlush    = opFlush
)

// InjectDiskFault puts fault in place of s's disk: before each log write,
// log fdatasync and flush commit, fault is asked with the operation's name
// and an error it returns fails the operation as the system call would (a
// failed log write still leaves half its bytes in the file, as one cut
// short by a full disk does). nil takes the fault away.
func InjectDiskFault(s *Store, fault func(op string) error) {
	if fault == nil {
		s.fault.Store(nil)
		return
	}
	f := diskFault(fault)
	s.fault.Store(&f)
}

// Frozen reports whether s has a frozen layer: a flush has frozen the top
// layer and not yet committed it.
func Frozen(s *Store) bool {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.frozen != nil
}

// Queued returns how many Updates' records wait for the next log write.
func Queued(s *Store) int {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	n := 0
	for rest := s.pend; len(rest) > 0; n++ {
		rec, _, whole, _ := nextRecord(rest)
		if !whole {
			break
		}
		rest = rest[len(rec):]
	}
	return n
}

// BboltReads reports how many bbolt read transactions s has begun.
func BboltReads(s *Store) int { return s.db.Stats().TxN }
