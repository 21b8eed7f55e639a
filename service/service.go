package service

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// ElastiCache implements api.Service. Operations it does not implement yet
// answer NotImplemented through the embedded api.Unimplemented.
type ElastiCache struct {
	api.Unimplemented

	store   storage.Store
	clock   Clock
	cfg     Config
	kinds   *schema.Registry
	markers schema.Markers
	// fleet is the reconciler the request path nudges after marking
	// work (workMarked); nil when none runs (tests of the request path
	// alone).
	fleet atomic.Pointer[Reconciler]
}

// Open prepares the store for this server (layout check and upgrade, the
// marker key) and returns the service. It fails wrapping
// schema.ErrNewerSchema when the store was written by a newer server.
func Open(ctx context.Context, store storage.Store, clock Clock, cfg Config) (*ElastiCache, error) {
	if clock == nil {
		clock = SystemClock{}
	}
	kinds, err := newRegistry()
	if err != nil {
		return nil, err
	}
	key, err := schema.Prepare(ctx, store)
	if err != nil {
		return nil, fmt.Errorf("prepare store: %w", err)
	}
	return &ElastiCache{store: store, clock: clock, cfg: cfg, kinds: kinds, markers: schema.NewMarkers(key)}, nil
}

// ErrNewerSchema is returned by Open when the store was written by a newer
// server: reading it could lose what this server does not understand.
var ErrNewerSchema = schema.ErrNewerSchema

// scope is an (account, region) pair: the unit of isolation.
type scope = schema.Scope

// scopeOf returns the (account, region) a request acts in.
func scopeOf(ctx context.Context) (scope, error) {
	c, ok := api.CallerFrom(ctx)
	if !ok || c.AccountID == "" || c.Region == "" {
		return scope{}, errors.New("service: request without a caller")
	}
	return scope{Account: c.AccountID, Region: c.Region}, nil
}

// storeError turns a storage failure into what the client should see:
// retryable failures become ServiceUnavailable, the rest stay internal (the
// handler logs them and answers InternalFailure without details).
func storeError(err error) error {
	if err == nil {
		return nil
	}
	var f api.Fault
	if errors.As(err, &f) {
		return err
	}
	if errors.Is(err, storage.ErrUnavailable) || errors.Is(err, storage.ErrConflict) ||
		errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (%v)", api.ServiceUnavailable(), err)
	}
	return err
}

// update runs fn in a write transaction. fn reports an AWS fault by
// returning it as its first result, after deciding and before writing
// anything: a fault is an answer, not a failed transaction, so a batching
// store does not re-run the batch for it, and nothing half-done commits.
func (s *ElastiCache) update(ctx context.Context, fn func(tx storage.Tx) (fault error, err error)) error {
	var fault error
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		g := &writeCountingTx{Tx: tx}
		var err error
		fault, err = fn(g)
		if err == nil && fault != nil && g.writes > 0 {
			// A fault must be decided before anything is written; one that
			// comes after a write would commit half a request. Abort instead.
			return fmt.Errorf("service: fault %q returned after %d writes", fault, g.writes)
		}
		return err
	})
	if err != nil {
		return storeError(err)
	}
	return fault
}

// writeCountingTx lets update check that a fault comes before any write.
type writeCountingTx struct {
	storage.Tx
	writes int
}

func (t *writeCountingTx) Put(k, v []byte) error { t.writes++; return t.Tx.Put(k, v) }

func (t *writeCountingTx) Delete(k []byte) error { t.writes++; return t.Tx.Delete(k) }

// view runs fn in a read transaction.
func (s *ElastiCache) view(ctx context.Context, fn func(tx storage.Tx) error) error {
	return storeError(s.store.View(ctx, fn))
}
