package bolt

import "time"

// AlwaysBatch sends every Update of s through bbolt's Batch, as if another
// writer were always under way, with the given limits. Tests use it to put
// concurrent Updates deterministically into one batch, and to run the
// conformance suite on the batch path alone. Call it before sharing s.
func AlwaysBatch(s *Store, size int, delay time.Duration) {
	s.writers.Add(1)
	s.db.MaxBatchSize = size
	s.db.MaxBatchDelay = delay
}

// HoldWriter makes s count one more Update under way until release is
// called, so that Updates started meanwhile are batched.
func HoldWriter(s *Store) (release func()) {
	s.writers.Add(1)
	return func() { s.writers.Add(-1) }
}

// SetBatchLimits sets bbolt's batch size and delay.
func SetBatchLimits(s *Store, size int, delay time.Duration) {
	s.db.MaxBatchSize = size
	s.db.MaxBatchDelay = delay
}

// LoneUpdateCommitsAlone reports whether an Update that finds no other
// under way would commit in a transaction of its own.
func LoneUpdateCommitsAlone(s *Store) bool { return s.solo(1) }
