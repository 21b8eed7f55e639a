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
