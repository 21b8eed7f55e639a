package metrics

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
	"github.com/elasticache-server/elasticache-server/storage/storagetest"
)

// stepClock advances by step at every reading, so that each transaction
// the wrapper times takes exactly step.
type stepClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func openBolt(tb testing.TB) storage.Store {
	tb.Helper()
	s, err := bolt.Open(filepath.Join(tb.TempDir(), "metrics.db"), bolt.Config{NoSync: true})
	if err != nil {
		tb.Fatalf("open bolt: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestInstrumentStore times every transaction of a real bbolt store and
// classifies how it ended; conflicts and errors have counters of their own.
func TestInstrumentStore(t *testing.T) {
	t.Parallel()
	clock := &stepClock{t: time.Unix(0, 0), step: 3 * time.Millisecond}
	m := New(Config{Now: clock.Now})
	st := m.InstrumentStore(openBolt(t))
	ctx := context.Background()
	put := func(tx storage.Tx) error { return tx.Put([]byte("k"), []byte("v")) }
	get := func(tx storage.Tx) error { _, err := tx.Get([]byte("k")); return err }
	fail := func(err error) func(storage.Tx) error { return func(storage.Tx) error { return err } }

	check := func(err, want error) {
		t.Helper()
		if !errors.Is(err, want) { // errors.Is(err, nil) holds only for a nil err
			t.Fatalf("transaction returned %v, want %v", err, want)
		}
	}
	check(st.Update(ctx, put), nil)
	check(st.Update(ctx, put), nil)
	check(st.View(ctx, get), nil)
	check(st.View(ctx, get), nil)
	check(st.View(ctx, get), nil)
	// Errors come back unchanged through the wrapper.
	check(st.Update(ctx, fail(fmt.Errorf("lost: %w", storage.ErrConflict))), storage.ErrConflict)
	check(st.Update(ctx, fail(fmt.Errorf("etcd: %w", storage.ErrUnavailable))), storage.ErrUnavailable)
	errBad := errors.New("bad record")
	check(st.View(ctx, fail(errBad)), errBad)
	// Only an Update can conflict; a View that says so is an error.
	check(st.View(ctx, fail(fmt.Errorf("odd backend: %w", storage.ErrConflict))), storage.ErrConflict)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	check(st.View(canceled, get), context.Canceled)
	check(st.Update(canceled, put), context.Canceled)

	fams := gather(t, m)
	wantCounts := map[string]uint64{}
	for _, k := range kinds {
		for _, o := range outcomes {
			if k != KindView || o != OutcomeConflict {
				wantCounts["kind="+k+",outcome="+o] = 0
			}
		}
	}
	wantCounts["kind=update,outcome=ok"] = 2
	wantCounts["kind=view,outcome=ok"] = 3
	wantCounts["kind=update,outcome=conflict"] = 1
	wantCounts["kind=update,outcome=unavailable"] = 1
	wantCounts["kind=view,outcome=error"] = 2
	wantCounts["kind=view,outcome=canceled"] = 1
	wantCounts["kind=update,outcome=canceled"] = 1
	if d := cmp.Diff(wantCounts, histCounts(fams, "elasticache_store_transaction_duration_seconds")); d != "" {
		t.Errorf("transaction counts (-want +got):\n%s", d)
	}
	h := series(fams, "elasticache_store_transaction_duration_seconds")["kind=view,outcome=ok"].GetHistogram()
	if got := fmt.Sprintf("%.6f", h.GetSampleSum()); got != "0.009000" {
		t.Errorf("view ok duration sum = %s, want 0.009000 (3 × 3ms)", got)
	}
	if got := bucketCount(t, h, 0.0025); got != 0 {
		t.Errorf("bucket le=0.0025 = %d, want 0", got)
	}
	if got := bucketCount(t, h, 0.005); got != 3 {
		t.Errorf("bucket le=0.005 = %d, want 3", got)
	}
	if d := cmp.Diff(map[string]float64{"": 1}, counterValues(fams, "elasticache_store_conflicts_total")); d != "" {
		t.Errorf("conflicts (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]float64{"kind=update": 1, "kind=view": 2}, counterValues(fams, "elasticache_store_errors_total")); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
}

// TestInstrumentStoreClosed counts transactions on a closed store as errors.
func TestInstrumentStoreClosed(t *testing.T) {
	t.Parallel()
	m := New(Config{})
	st := m.InstrumentStore(openBolt(t))
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := st.View(context.Background(), func(storage.Tx) error { return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("View after Close = %v, want ErrClosed", err)
	}
	fams := gather(t, m)
	if got := histCounts(fams, "elasticache_store_transaction_duration_seconds")["kind=view,outcome=error"]; got != 1 {
		t.Errorf("view errors timed = %d, want 1", got)
	}
	if got := counterValues(fams, "elasticache_store_errors_total")["kind=view"]; got != 1 {
		t.Errorf("store_errors_total{kind=view} = %v, want 1", got)
	}
}

// TestInstrumentStoreConformance runs the storage suite on a measured
// bbolt store: the wrapper changes no behaviour of the store.
func TestInstrumentStoreConformance(t *testing.T) {
	t.Parallel()
	m := New(Config{})
	storagetest.Run(t, func(t *testing.T) storage.Store { return m.InstrumentStore(openBolt(t)) })
}

// nopStore runs transactions without a store, so that what the wrapper
// costs is all there is to measure.
type nopStore struct{}

func (nopStore) View(_ context.Context, fn func(storage.Tx) error) error   { return fn(nil) }
func (nopStore) Update(_ context.Context, fn func(storage.Tx) error) error { return fn(nil) }
func (nopStore) Close() error                                              { return nil }

// TestInstrumentStoreDoesNotAllocate holds the wrapper to no allocation of
// its own per transaction, success or failure.
func TestInstrumentStoreDoesNotAllocate(t *testing.T) {
	st := New(Config{}).InstrumentStore(nopStore{})
	ctx := context.Background()
	ok := func(storage.Tx) error { return nil }
	conflict := func(storage.Tx) error { return storage.ErrConflict }
	if n := testing.AllocsPerRun(1000, func() { _ = st.View(ctx, ok); _ = st.Update(ctx, conflict) }); n != 0 {
		t.Errorf("a measured View and Update allocate %v times, want 0", n)
	}
}

// BenchmarkInstrumentStore is the wrapper's cost per transaction.
func BenchmarkInstrumentStore(b *testing.B) {
	st := New(Config{}).InstrumentStore(nopStore{})
	ctx := context.Background()
	ok := func(storage.Tx) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		_ = st.Update(ctx, ok)
	}
}
