package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/elasticache-server/elasticache-server/storage"
)

// ErrTooLarge is wrapped by Update when etcd refuses a transaction for its
// size: more compares or writes than the cluster's --max-txn-ops (128 by
// default), or a request larger than its --max-request-bytes (1.5 MiB by
// default) or than Config.MaxRequestBytes. Retrying does not help; the
// transaction must be split or the cluster's limits raised.
var ErrTooLarge = errors.New("storage/etcd: transaction exceeds the etcd cluster's limits (--max-txn-ops, --max-request-bytes)")

// errTxDone answers calls on a Tx whose function has returned.
var errTxDone = errors.New("storage/etcd: transaction used after its function returned")

// Defaults for the zero values of Config.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 5 * time.Second
	// DefaultMaxRequestBytes is the client's own default send limit. It is
	// above etcd's default --max-request-bytes of 1.5 MiB, so with default
	// settings the cluster is the one that refuses an oversized request.
	DefaultMaxRequestBytes = 2 << 20
)

// Optimistic retry. A conflicting Update runs again after a random pause
// (full jitter) that doubles from minBackoff up to maxBackoff, at most
// maxAttempts times in all. Under heavy contention on one key (every create
// of an account updates its group count) the pause is what spreads the
// contenders out so that each round lets one of them through; 100 attempts
// covers a hundred commits by others while one transaction waits, at most
// about 100 × 50ms = 5s of pauses.
const (
	maxAttempts = 100
	minBackoff  = time.Millisecond
	maxBackoff  = 50 * time.Millisecond
)

// Keepalive pings let the client notice a member that stopped answering
// without closing its connections (a frozen process, a partition) and move
// to another. etcd answers pings more frequent than its
// --grpc-keepalive-min-time (5s by default) with GOAWAY, so not below that.
const (
	keepAliveTime    = 10 * time.Second
	keepAliveTimeout = 3 * time.Second
)

// Config holds what Open needs; only Endpoints is required.
type Config struct {
	// Endpoints are the client URLs of the cluster's members: host:port,
	// or http(s)://host:port. Any one reachable member with a leader is
	// enough.
	Endpoints []string
	// Prefix is put in front of every key, so that deployments (or tests)
	// can share a cluster without seeing each other's keys. It may be
	// empty, which uses the whole key space.
	Prefix string
	// TLS, when set, is used for the connections to the members (client
	// certificate and CA); nil means plain TCP.
	TLS *tls.Config
	// DialTimeout bounds Open's first contact with the cluster. Zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// RequestTimeout bounds each request to etcd. A request that gets no
	// answer in time (no leader, lost quorum, unreachable members) fails
	// with an error wrapping storage.ErrUnavailable. Zero means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxRequestBytes is the largest request the client sends; a larger
	// transaction fails with ErrTooLarge without being sent. The cluster's
	// --max-request-bytes must be at least as large for it to be accepted.
	// Zero means DefaultMaxRequestBytes.
	MaxRequestBytes int
}

// Store is a storage.Store on an etcd cluster. It is safe for concurrent
// use, also by several processes on one cluster and prefix: they see one
// state, and their Updates are serialisable together.
//
// View reads at one revision of the cluster: its first read is
// linearizable (it sees every Update answered before it, through any
// server) and fixes the revision; later reads use that revision.
//
// Update runs fn against such a snapshot, buffering its writes, and commits
// them in one etcd transaction whose compares check that nothing fn read
// has changed since: each key read by Get or visited by Scan must still
// have the modification revision seen (0 for a missing key, so a key that
// appeared is caught; a visited key that disappeared is caught too), and
// each range that a Scan covered must hold no key modified after the
// snapshot (so a key inserted into it is caught). A transaction that only
// read needs no commit: the snapshot is consistent. If a compare fails, fn
// runs again on a fresh snapshot. Writes alone are not compared: a blind
// write is serialisable at its commit.
//
// So an Update costs one request per read or Scan page and one for the
// commit. etcd limits a transaction to --max-txn-ops compares and as many
// writes (128 by default): an Update may read and write about a hundred
// keys, and a Scan inside Update counts one compare per visited key plus
// one per Scan; beyond that it fails with ErrTooLarge.
type Store struct {
	cli      *clientv3.Client
	prefix   string
	timeout  time.Duration
	maxBytes int

	// mu guards closing and active: Close must wait for transactions that
	// started before it, and refuse ones that start after.
	mu       sync.Mutex
	idle     *sync.Cond
	closing  bool
	active   int
	released chan struct{}
}

var _ storage.Store = (*Store)(nil)

// Open connects to the cluster and checks, within cfg.DialTimeout, that it
// answers a linearizable read under cfg.Prefix. It fails with an error
// wrapping storage.ErrUnavailable when the cluster cannot be reached or has
// no leader, and with a plain error for a configuration it cannot use.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("storage/etcd: no endpoints")
	}
	dialTimeout := cmpOr(cfg.DialTimeout, DefaultDialTimeout)
	maxBytes := cmpOr(cfg.MaxRequestBytes, DefaultMaxRequestBytes)
	// A few client-side retries of reads, across the members, ride out a
	// member that just went away; more would only delay the answer when
	// the cluster has no leader (the client's default is 100).
	retries := uint(max(3, 2*len(cfg.Endpoints)))
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            cfg.Endpoints,
		DialTimeout:          dialTimeout,
		DialKeepAliveTime:    keepAliveTime,
		DialKeepAliveTimeout: keepAliveTimeout,
		TLS:                  cfg.TLS,
		// Leave room for the gRPC envelope around the request.
		MaxCallSendMsgSize: maxBytes + 64<<10,
		MaxUnaryRetries:    retries,
		Logger:             zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("storage/etcd: client for %s: %w", strings.Join(cfg.Endpoints, ","), err)
	}
	s := &Store{
		cli:      cli,
		prefix:   cfg.Prefix,
		timeout:  cmpOr(cfg.RequestTimeout, DefaultRequestTimeout),
		maxBytes: maxBytes,
		released: make(chan struct{}),
	}
	s.idle = sync.NewCond(&s.mu)

	pctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	probe := s.key(nil)
	if probe == "" {
		probe = "\x00" // etcd has no empty key
	}
	_, err = cli.Get(clientv3.WithRequireLeader(pctx), probe, clientv3.WithCountOnly())
	if err != nil {
		_ = cli.Close()
		eps := strings.Join(cfg.Endpoints, ",")
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("storage/etcd: open: %w", ctx.Err())
		case pctx.Err() != nil:
			return nil, fmt.Errorf("%w: storage/etcd: open: no answer from %s within %s", storage.ErrUnavailable, eps, dialTimeout)
		}
		return nil, fmt.Errorf("storage/etcd: open %s: %w", eps, s.classify(pctx, err, "first read"))
	}
	return s, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// key is the etcd key of a storage key.
func (s *Store) key(k []byte) string { return s.prefix + string(k) }

// rpcContext bounds one request to RequestTimeout and makes a member
// without a leader refuse it at once instead of queueing it.
func (s *Store) rpcContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	return clientv3.WithRequireLeader(ctx), cancel
}

// begin registers a transaction, or refuses it once Close has been called.
func (s *Store) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return storage.ErrClosed
	}
	s.active++
	return nil
}

// end unregisters a transaction and wakes Close when it was the last.
func (s *Store) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.active == 0 && s.closing {
		s.idle.Broadcast()
	}
}

// View runs fn on a consistent snapshot of the cluster. It returns
// storage.ErrClosed after Close, and an error wrapping ctx.Err() without
// running fn if ctx is already done. A read that etcd cannot answer within
// RequestTimeout fails with an error wrapping storage.ErrUnavailable;
// fn's own error is returned unchanged.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage/etcd: view not started: %w", err)
	}
	return newTx(s, ctx, false).run(fn)
}

// Update runs fn as an optimistic transaction (see Store) and returns once
// etcd has committed it, that is once a quorum of members has it on disk.
// fn runs again when a concurrent Update changed what it read, at most 100
// times in all; after that Update fails with an error wrapping
// storage.ErrConflict. It returns storage.ErrClosed after Close, an error
// wrapping ctx.Err(), having written nothing, if ctx is done before fn runs
// or by the time it returns, ErrTooLarge for a transaction the cluster
// refuses for its size, and an error wrapping storage.ErrUnavailable when
// etcd does not answer within RequestTimeout: if that happens during the
// commit the transaction may or may not have been applied. fn's own error
// is returned unchanged.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage/etcd: update not started: %w", err)
	}
	var lastConflict error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return fmt.Errorf("storage/etcd: update abandoned while retrying a conflict: %w", err)
			}
		}
		t := newTx(s, ctx, true)
		err := t.run(fn)
		if t.stale {
			// The snapshot became unreadable (compacted) under fn: its
			// reads, and whatever it decided on them, do not count.
			lastConflict = t.err
			continue
		}
		if err != nil {
			return err
		}
		if t.err != nil {
			// fn ignored a failed read; what it decided may rest on it.
			return t.err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("storage/etcd: update abandoned before commit: %w", err)
		}
		committed, err := t.commit()
		if err != nil {
			return err
		}
		if committed {
			return nil
		}
		lastConflict = fmt.Errorf("%w: what the transaction read was changed by another writer", storage.ErrConflict)
	}
	return fmt.Errorf("storage/etcd: update gave up after %d attempts: %w", maxAttempts, lastConflict)
}

// backoff is the pause before attempt (1-based retry count): a random
// duration up to a ceiling that doubles with each attempt.
func backoff(attempt int) time.Duration {
	ceiling := maxBackoff
	if attempt < 16 {
		ceiling = min(minBackoff<<attempt, maxBackoff)
	}
	return rand.N(ceiling) + 1
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Close waits for running transactions, refusing new ones with
// storage.ErrClosed meanwhile, then closes the connections to the cluster.
// A second Close waits for the first to finish and returns
// storage.ErrClosed. Close must not be called from inside a transaction's
// function: it would wait for itself.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		<-s.released
		return storage.ErrClosed
	}
	s.closing = true
	for s.active > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	defer close(s.released)
	if err := s.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("storage/etcd: close: %w", err)
	}
	return nil
}

// errStale marks a read of a snapshot revision that etcd no longer has.
var errStale = errors.New("storage/etcd: the transaction's snapshot revision was compacted")

// classify turns an error of the etcd client into one of the storage
// contract: ErrTooLarge for a request refused for its size, errStale (a
// conflict: retry on a fresh snapshot) for a compacted revision,
// storage.ErrUnavailable for everything a later retry may get past (no
// leader, lost quorum, timeouts, unreachable members, a full database), and
// the client's error as it is otherwise (bad credentials, for example). The
// caller checks its own context first: a caller that gave up gets its
// ctx.Err(), not this. rpcCtx is the request's context: once its deadline
// has passed, whatever the error looks like, the cluster did not answer in
// time (a 3.4 member whose own copy of the deadline expires first answers
// with code Unknown, "context deadline exceeded").
func (s *Store) classify(rpcCtx context.Context, err error, op string) error {
	switch {
	case rpcCtx.Err() != nil:
		return fmt.Errorf("%w: %s: no answer from etcd within %s", storage.ErrUnavailable, op, s.timeout)
	case errors.Is(err, rpctypes.ErrTooManyOps), errors.Is(err, rpctypes.ErrRequestTooLarge):
		return fmt.Errorf("%w: %s: %v", ErrTooLarge, op, err)
	case errors.Is(err, rpctypes.ErrCompacted), errors.Is(err, rpctypes.ErrFutureRev):
		return fmt.Errorf("%w: %w: %s: %v", storage.ErrConflict, errStale, op, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %s: no answer from etcd within %s", storage.ErrUnavailable, op, s.timeout)
	}
	code := status.Code(err)
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		code = ee.Code()
	}
	switch code {
	case codes.ResourceExhausted:
		if strings.Contains(err.Error(), "larger than max") {
			// The client's own send limit (MaxRequestBytes).
			return fmt.Errorf("%w: %s: request over %d bytes: %v", ErrTooLarge, op, s.maxBytes, err)
		}
		return fmt.Errorf("%w: %s: %v", storage.ErrUnavailable, op, err)
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Aborted:
		return fmt.Errorf("%w: %s: %v", storage.ErrUnavailable, op, err)
	case codes.Unknown:
		// A member's own context ran out: it did not answer in time.
		if msg := err.Error(); strings.Contains(msg, context.DeadlineExceeded.Error()) || strings.Contains(msg, context.Canceled.Error()) {
			return fmt.Errorf("%w: %s: %v", storage.ErrUnavailable, op, err)
		}
	}
	return fmt.Errorf("storage/etcd: %s: %w", op, err)
}
