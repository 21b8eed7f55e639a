package metrics

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/elasticache-server/elasticache-server/storage"
)

// The kind label of the store metrics.
const (
	KindView   = "view"
	KindUpdate = "update"
)

// The outcome label of elasticache_store_transaction_duration_seconds.
const (
	// OutcomeOK is a transaction that committed (Update) or read (View).
	OutcomeOK = "ok"
	// OutcomeConflict is an Update that lost to concurrent writers after
	// the backend's retries (storage.ErrConflict). Views have no such
	// outcome: a View that reports a conflict counts as an error.
	OutcomeConflict = "conflict"
	// OutcomeUnavailable is a store that could not be reached or did not
	// answer in time (storage.ErrUnavailable).
	OutcomeUnavailable = "unavailable"
	// OutcomeCanceled is a transaction given up because its context
	// ended: a client that went away, a deadline.
	OutcomeCanceled = "canceled"
	// OutcomeError is any other failure: a closed store, an error of the
	// transaction's function.
	OutcomeError = "error"
)

// Indexes of kinds and outcomes, for the resolved series.
const (
	kindView = iota
	kindUpdate
)

const (
	outcomeOK = iota
	outcomeConflict
	outcomeUnavailable
	outcomeCanceled
	outcomeError
)

var (
	kinds    = [...]string{kindView: KindView, kindUpdate: KindUpdate}
	outcomes = [...]string{
		outcomeOK: OutcomeOK, outcomeConflict: OutcomeConflict, outcomeUnavailable: OutcomeUnavailable,
		outcomeCanceled: OutcomeCanceled, outcomeError: OutcomeError,
	}
)

// storeMetrics are the store's instruments, every series resolved up front:
// the label sets are small and fixed, and a series at zero tells "no
// conflict yet" apart from "not measured".
type storeMetrics struct {
	duration  *prometheus.HistogramVec
	conflicts prometheus.Counter
	errors    *prometheus.CounterVec
	// observers[kind][outcome] and errs[kind] are the resolved series.
	observers [len(kinds)][len(outcomes)]prometheus.Observer
	errs      [len(kinds)]prometheus.Counter
}

func newStoreMetrics() storeMetrics {
	s := storeMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Name:      "store_transaction_duration_seconds",
			Help: "Time a store transaction took as its caller saw it, retries and commit included, " +
				"by kind (view, update) and outcome (ok, conflict, unavailable, canceled, error).",
			Buckets: durationBuckets,
		}, []string{"kind", "outcome"}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "store_conflicts_total",
			Help:      "Updates that failed with a conflict after the backend's retries (storage.ErrConflict).",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "store_errors_total",
			Help: "Store transactions that failed for a reason other than a conflict or their context " +
				"ending: the store unavailable or closed, a failing transaction function.",
		}, []string{"kind"}),
	}
	for k, kind := range kinds {
		for o, outcome := range outcomes {
			if k == kindView && o == outcomeConflict {
				continue // never exported: see observeTx
			}
			s.observers[k][o] = s.duration.WithLabelValues(kind, outcome)
		}
		s.errs[k] = s.errors.WithLabelValues(kind)
	}
	return s
}

func (s *storeMetrics) register(reg *prometheus.Registry) {
	reg.MustRegister(s.duration, s.conflicts, s.errors)
}

// outcomeOf classifies a transaction's error as an index of outcomes.
func outcomeOf(err error) int {
	switch {
	case err == nil:
		return outcomeOK
	case errors.Is(err, storage.ErrConflict):
		return outcomeConflict
	case errors.Is(err, storage.ErrUnavailable):
		return outcomeUnavailable
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return outcomeCanceled
	default:
		return outcomeError
	}
}

// InstrumentStore returns s measured: every View and Update is timed and
// classified. The function given to a transaction and its Tx are passed
// through untouched, so the wrapper costs two clock reads and a few
// atomic adds per transaction, and no allocation.
func (m *Metrics) InstrumentStore(s storage.Store) storage.Store {
	return &measuredStore{Store: s, m: m}
}

// measuredStore is a storage.Store whose transactions are measured. Close
// is the wrapped store's.
type measuredStore struct {
	storage.Store
	m *Metrics
}

func (s *measuredStore) View(ctx context.Context, fn func(storage.Tx) error) error {
	start := s.m.now()
	err := s.Store.View(ctx, fn)
	s.m.observeTx(kindView, s.m.since(start).Seconds(), err)
	return err
}

func (s *measuredStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	start := s.m.now()
	err := s.Store.Update(ctx, fn)
	s.m.observeTx(kindUpdate, s.m.since(start).Seconds(), err)
	return err
}

// observeTx records one transaction of kind (kindView, kindUpdate) that
// took seconds.
func (m *Metrics) observeTx(kind int, seconds float64, err error) {
	o := outcomeOf(err)
	if kind == kindView && o == outcomeConflict {
		// Only Update may conflict (storage.Store's contract); a View that
		// says so is a backend error, and a series that is always zero
		// would only suggest otherwise.
		o = outcomeError
	}
	m.store.observers[kind][o].Observe(seconds)
	switch o {
	case outcomeConflict:
		m.store.conflicts.Inc()
	case outcomeUnavailable, outcomeError:
		m.store.errs[kind].Inc()
	}
}
