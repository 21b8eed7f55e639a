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
