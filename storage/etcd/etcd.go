package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
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
// (full jitter) that doubles from minBackoff up to maxBackoff; after
// maxAttempts conflicts it gives up. Under heavy contention on one key
// (every create of an account updates its group count) the pause is what
// spreads the contenders out so that each round lets one of them through;
// 100 conflicts covers a hundred commits by others while one transaction
// waits, at most about 100 × 50ms = 5s of pauses. A run that failed only
// because it started from stale knowledge (a miss, see Store) is not a
// conflict: it runs again at once and does not count, up to maxAttempts
// misses (each miss makes at least one key fresh, so a function that reads
// a few keys misses a few times at most).
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
	// CacheBytes bounds the memory of what Update remembers of the keys it
	// read (see Store): keys, values and bookkeeping, least recently used
	// first out. Zero means DefaultCacheBytes; below zero, nothing is
	// remembered (every Update then starts from guesses, which costs a
	// second round trip wherever a key it reads exists).
	CacheBytes int
}

// Store is a storage.Store on an etcd cluster. It is safe for concurrent
// use, also by several processes on one cluster and prefix: they see one
// state, and their Updates are serialisable together.
//
// View reads at one revision of the cluster: its first read is
// linearizable (it sees every Update answered before it, through any
// server) and fixes the revision; later reads use that revision.
//
// Update is optimistic, and in the common case one round trip: one etcd
// transaction that compares everything fn read and, if all of it holds,
// applies fn's buffered writes. fn's Gets do not ask etcd: they answer from
// a bounded cache of what this Store last saw of each key (by its own
// commits, and by earlier failed ones), and a key it knows nothing of is
// guessed absent (modification revision 0), which is right for the name a
// create is about. The commit compares, for each key read by Get or
// visited by Scan, the modification revision fn was given (0 for a missing
// key, so a key that appeared is caught; a visited key that disappeared is
// caught too), and for each range a Scan covered that no key in it was
// modified after the Scan's snapshot (so a key inserted into it is
// caught). Scans read etcd, at one revision, page by page. If a compare
// fails, nothing is written, and the transaction's Else branch returns the
// current value of every key fn read by Get; fn runs again on those. A run
// that failed only on what the Store knew before this Update began (stale
// cache, a wrong guess) is a miss, and runs again at once; one that failed
// on something read during this Update lost to a concurrent writer, and
// runs again after a pause.
//
// An Update that writes nothing, or whose fn returns an error, is trusted
// only once its reads are validated, by the same transaction without
// writes, unless they are already one snapshot taken during the Update
// (read by Scan, or brought by one failed commit): a fault decided on a
// stale cache entry runs again on fresh data. So every Update's outcome is
// that of fn on the cluster's state at one revision between its call and
// its return, as the storage contract requires.
//
// etcd limits a transaction to --max-txn-ops compares, and as many writes
// and as many Else reads (128 by default): an Update may read and write
// about a hundred keys, and a Scan inside Update counts one compare per
// visited key plus one per Scan; beyond that it fails with ErrTooLarge.
type Store struct {
	cli      *clientv3.Client
	prefix   string
	timeout  time.Duration
	maxBytes int
	cache    *cache

	// gate refuses transactions once Close begins and lets it wait for
	// the running ones.
	gate storage.Gate
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
		cache:    newCache(cmpOr(cfg.CacheBytes, DefaultCacheBytes)),
	}

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

// View runs fn on a consistent snapshot of the cluster. It returns
// storage.ErrClosed after Close, and an error wrapping ctx.Err() without
// running fn if ctx is already done. A read that etcd cannot answer within
// RequestTimeout fails with an error wrapping storage.ErrUnavailable;
// fn's own error is returned unchanged.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.gate.Enter(ctx, "storage/etcd: view"); err != nil {
		return err
	}
	defer s.gate.Leave()
	return newTx(s, ctx, nil).run(fn)
}

// Update runs fn as an optimistic transaction (see Store) and returns once
// etcd has committed it, that is once a quorum of members has it on disk.
// fn runs again when what it read turns out to be stale or to have been
// changed by a concurrent Update; after 100 runs that lost to concurrent
// writers Update fails with an error wrapping storage.ErrConflict. It
// returns storage.ErrClosed after Close, an error wrapping ctx.Err(),
// having written nothing, if ctx is done before fn runs or by the time it
// returns (before fn's reads could be validated, for a fn that failed),
// ErrTooLarge for a transaction the cluster refuses for its size, and an
// error wrapping storage.ErrUnavailable when etcd does not answer within
// RequestTimeout: if that happens during the commit the transaction may or
// may not have been applied. fn's own error is returned unchanged, once
// what fn read is known to have been current.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.gate.Enter(ctx, "storage/etcd: update"); err != nil {
		return err
	}
	defer s.gate.Leave()
	u := &updateState{}
	var lastConflict error
	conflicts, misses := 0, 0
	for pause := false; ; {
		if pause {
			if err := sleep(ctx, backoff(conflicts)); err != nil {
				return fmt.Errorf("storage/etcd: update abandoned while retrying a conflict: %w", err)
			}
		}
		t := newTx(s, ctx, u)
		err := t.run(fn)
		out := conflicted
		switch {
		case t.stale:
			// The snapshot became unreadable (compacted) under fn: its
			// reads, and whatever it decided on them, do not count.
			lastConflict = t.err
		case t.err != nil:
			// A read of etcd failed; fn's error, or the read's if fn
			// ignored it (what it decided may rest on it).
			if err != nil {
				return err
			}
			return t.err
		default:
			validateOnly := err != nil || len(t.writes) == 0
			if err != nil && t.settled() {
				return err
			}
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("storage/etcd: update abandoned before commit: %w", cerr)
			}
			if validateOnly && t.settled() {
				return nil
			}
			var cerr error
			out, cerr = t.commit(validateOnly)
			switch {
			case cerr != nil:
				return cerr
			case out == committed:
				return err
			}
			lastConflict = fmt.Errorf("%w: what the transaction read was changed by another writer", storage.ErrConflict)
		}
		if out == missed && misses < maxAttempts {
			misses++
			pause = false
			continue
		}
		conflicts++
		if conflicts >= maxAttempts {
			return fmt.Errorf("storage/etcd: update gave up after %d conflicting runs: %w", conflicts, lastConflict)
		}
		pause = true
	}
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
	if !s.gate.Close() {
		return storage.ErrClosed
	}
	defer s.gate.Release()
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
