package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/elasticache-server/elasticache-server/engine"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// The reconciler makes engine processes match cluster records (DESIGN.md
// §3; docs/DECISIONS.md "Cache clusters: the fleet"). The request path
// writes what the user asked for with a transitional status and marks the
// cluster in the work index; a pass reads the index and, per cluster,
// places nodes (an Update that records address, port and owner before any
// process starts, so that a crash after the start is adopted by the next
// pass, never duplicated), drives the engines, and writes the transition
// with its events in one Update that also clears the mark, only if the
// cluster's Generation is still the one it worked on.
//
// Everything runs on Run's goroutine, one cluster at a time: no two
// passes race each other over one node, and the in-memory state below
// needs no lock.

// Defaults of ReconcilerConfig.
const (
	defaultReconcileInterval = 5 * time.Second
	defaultMaxAttempts       = 5
	defaultRetryDelay        = time.Second
	// engineCallTimeout bounds one engine call, so that a hung process
	// cannot stall every other cluster's work.
	engineCallTimeout = 2 * time.Minute
)

// ReconcilerConfig tunes a Reconciler.
type ReconcilerConfig struct {
	// ServerID names this server as the owner of the nodes it places
	// (cacheNodeRecord.Owner); it only runs nodes it owns, or that no one
	// owns yet.
	ServerID string
	// Interval is the time between full passes (adoption, orphans, every
	// marked cluster); 0 is 5 s. Writes of the request path start work at
	// once through Poke.
	Interval time.Duration
	// Logger is where the reconciler logs; nil discards.
	Logger *slog.Logger
	// SharedAddress, when set, puts every node on this one address, each
	// on a port of its own from the cluster's port upwards: for platforms
	// whose loopback is 127.0.0.1 alone. Empty (Linux): every node has an
	// address of its own in 127.0.0.0/8 and the cluster's port.
	SharedAddress string
	// BindAddress, when set, is the address every engine listens on
	// (0.0.0.0, or one of the host's addresses), with SharedAddress the
	// host clients are told: nodes then reach clients on other machines.
	BindAddress string
	// FirstAddress is where the search for a free node address starts
	// (an IPv4 address in 127.0.0.0/8); empty is 127.1.0.1. Servers on
	// one host with stores of their own reserve addresses apart, so each
	// starts elsewhere (the server derives it from its ID).
	FirstAddress string
	// AddressInUse, when set, tells whether something on this host
	// already listens on ip:port; such an address is skipped. nil: none
	// is.
	AddressInUse func(ip string, port int) bool
	// MaxAttempts is how many failed attempts at one cluster's work make
	// the reconciler give up on it (incompatible-network); 0 is 5.
	MaxAttempts int
	// RetryDelay is the wait after a first failure, doubled after each
	// further one, at most Interval; 0 is 1 s.
	RetryDelay time.Duration
	// LeaseTTL is how long this server's lease in the store lasts unless
	// renewed (every third of it); 0 is 15 s. Other servers take this
	// server's nodes over once it has not renewed for LeaseTTL +
	// LeaseGrace.
	LeaseTTL time.Duration
	// LeaseGrace is how far past another server's lease deadline this
	// server still counts it alive: the clock skew between hosts (and the
	// store's latency) that leases tolerate. 0 is a third of LeaseTTL.
	LeaseGrace time.Duration
	// NewTicker returns the channel of ticks every d and the func that
	// stops it; nil is time.NewTicker. Run asks for one every Interval
	// (full passes) and one every LeaseTTL/3 (lease renewals); tests
	// drive both with it.
	NewTicker func(d time.Duration) (<-chan time.Time, func())
}

// Reconciler drives engines from the cluster records of the store. A nil
// engine.Engines is the control-plane-only mode (--engines none): records
// go through their transitions with nodes placed but no process, and an
// event per cluster says so.
type Reconciler struct {
	s   *ElastiCache
	e   engine.Engines
	cfg ReconcilerConfig
	log *slog.Logger
	// poke wakes Run for a pass over the work index; one pending nudge
	// stands for any number.
	poke chan struct{}

	// running holds the keys of the nodes this reconciler has started or
	// adopted: what a full pass compares with the records to find
	// orphans, and what it need not ensure again.
	running map[string]bool
	// applied holds, per running node, the fingerprint of the access
	// (replication source and users) it was last given: what a full pass
	// compares with the records to find engines to reconfigure.
	applied map[string]string
	// retries holds, per marked cluster, the failures of its work so far.
	retries map[string]*retryState
	// started is when the reconciler was made: an owner with no lease
	// at all counts as dead only a whole lease after it.
	started time.Time
}

// retryState is the backoff of one cluster's work.
type retryState struct {
	// gen is the generation that failed; a newer one starts afresh.
	gen      int
	attempts int
	next     time.Time
}

// NewReconciler returns the reconciler of s's clusters, driving e (nil:
// no engines), and attaches it to s so that the request path's
// workMarked reaches it.
func (s *ElastiCache) NewReconciler(e engine.Engines, cfg ReconcilerConfig) *Reconciler {
	if cfg.Interval <= 0 {
		cfg.Interval = defaultReconcileInterval
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = defaultMaxAttempts
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = defaultRetryDelay
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = defaultLeaseTTL
	}
	if cfg.LeaseGrace <= 0 {
		cfg.LeaseGrace = cfg.LeaseTTL / 3
	}
	if cfg.NewTicker == nil {
		cfg.NewTicker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reconciler{
		s: s, e: e, cfg: cfg, log: log.With("component", "reconciler"),
		poke:    make(chan struct{}, 1),
		running: map[string]bool{},
		applied: map[string]string{},
		retries: map[string]*retryState{},
		started: s.clock.Now(),
	}
	s.fleet.Store(r)
	return r
}

// workMarked tells the reconciler, if one runs, that a write marked work:
// the request path calls it after the Update commits, so that the work
// starts without waiting for the next full pass.
func (s *ElastiCache) workMarked() {
	if r := s.fleet.Load(); r != nil {
		r.Poke()
	}
}

// Poke asks for a pass over the work index soon; it never blocks.
func (r *Reconciler) Poke() {
	select {
	case r.poke <- struct{}{}:
	default:
	}
}

// Run reconciles until ctx ends: it writes this server's lease and keeps
// renewing it, makes a full pass at once (adopting the engines of a
// previous run of this server), then a pass over the work index at every
// Poke, a full pass every Interval, and a recovery for every engine that
// exits unasked. When Run returns, the lease is no longer renewed; it is
// not deleted, so that a server started again within the lease keeps its
// nodes and their data. The caller stops the engines (Engines.StopAll)
// after Run has returned.
func (r *Reconciler) Run(ctx context.Context) {
	leaseDone := r.keepLease(ctx)
	defer func() { <-leaseDone }()
	ticks, stop := r.cfg.NewTicker(r.cfg.Interval)
	defer stop()
	var exited <-chan string
	if r.e != nil {
		exited = r.e.Exited()
	}
	r.fullPass(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			r.fullPass(ctx)
		case <-r.poke:
			r.workPass(ctx)
		case key := <-exited:
			r.recover(ctx, key)
		}
	}
}

// workItem is one marked cluster.
type workItem struct {
	sc  scope
	id  string
	gen int
}

func (w workItem) String() string { return w.sc.Account + "/" + w.sc.Region + "/" + w.id }

// errGenerationMoved says the cluster changed while its work ran: what
// was made true is no longer what is asked, so the mark stays and the
// next pass works on the new generation.
var errGenerationMoved = errors.New("cluster changed while its work ran")

// errGone says the cluster's record is no longer stored.
var errGone = errors.New("cluster record gone")

// workPass works on every marked cluster whose retry is due.
func (r *Reconciler) workPass(ctx context.Context) {
	items, err := r.workItems(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("read the work index", "err", err)
		}
		return
	}
	for _, w := range items {
		if ctx.Err() != nil {
			return
		}
		if st := r.retries[w.String()]; st != nil && r.s.clock.Now().Before(st.next) {
			continue
		}
		r.reconcile(ctx, w)
	}
}

// workItems reads the work index.
func (r *Reconciler) workItems(ctx context.Context) ([]workItem, error) {
	var items []workItem
	err := r.s.store.View(ctx, func(tx storage.Tx) error {
		items = items[:0]
		return tx.Scan(workPrefix, nil, func(k, v []byte) (bool, error) {
			sc, id, ok := parseWorkKey(k)
			if !ok {
				r.log.Warn("malformed work index key", "key", string(k))
				return true, nil
			}
			gen, _ := strconv.Atoi(string(v))
			items = append(items, workItem{sc: sc, id: id, gen: gen})
			return true, nil
		})
	})
	return items, err
}

// reconcile does one marked cluster's work.
func (r *Reconciler) reconcile(ctx context.Context, w workItem) {
	rec, err := r.load(ctx, w.sc, w.id)
	if err != nil {
		r.log.Warn("read cluster", "cluster", w, "err", err)
		return
	}
	if rec == nil {
		err = r.forget(ctx, w)
	} else if !r.mine(rec) {
		// Another server's nodes: its reconciler does the work.
		return
	} else {
		err = r.transition(ctx, w, rec)
	}
	switch {
	case err == nil:
		delete(r.retries, w.String())
	case errors.Is(err, errNotMine):
		// Another server placed the nodes first: its reconciler does the
		// work.
		delete(r.retries, w.String())
	case errors.Is(err, errWaitPrimary):
		// Not a failure: the replica starts once its primary is placed,
		// at a later pass.
		r.log.Debug("replica waits for its primary", "cluster", w)
	case errors.Is(err, errGenerationMoved), errors.Is(err, errGone):
		r.log.Debug("cluster changed during its work; again at the next pass", "cluster", w)
		r.Poke()
	case ctx.Err() != nil:
	default:
		r.failed(ctx, w, rec, err)
	}
}

// transition does the work the cluster's status asks for.
func (r *Reconciler) transition(ctx context.Context, w workItem, rec *cacheClusterRecord) error {
	switch rec.Status {
	case clusterCreating:
		return r.create(ctx, w.sc, rec)
	case clusterModifying:
		return r.modify(ctx, w.sc, rec)
	case clusterRebooting:
		return r.reboot(ctx, w.sc, rec)
	case clusterDeleting:
		return r.delete(ctx, w.sc, rec)
	case clusterAvailable:
		// Its parameter group changed (markGroupClusters): apply what
		// changed, and leave applying for in-sync (or pending-reboot),
		// in the Update that clears the mark.
		values, err := r.groupValues(ctx, w.sc, rec)
		if err != nil {
			return err
		}
		pc, err := r.applyGroup(ctx, clusterAt{sc: w.sc, rec: rec, values: values})
		if err != nil {
			return err
		}
		if rec.AccessChanged {
			if err := r.ensureNodes(ctx, w.sc, rec, rec.Nodes, rec.AppliedParams); err != nil {
				return err
			}
			if err := r.reconfigure(ctx, w.sc, rec, false); err != nil {
				return err
			}
		}
		return r.commit(ctx, w.sc, rec.ID, rec.Generation, func(tx storage.Tx, cur *cacheClusterRecord) ([]string, error) {
			var events []string
			if pc != nil {
				events = pc.record(cur)
			}
			if cur.ParamStatus == paramsApplying {
				cur.ParamStatus = paramsInSync
				setNodeParamStatus(cur, paramsInSync)
			}
			return events, nil
		})
	default:
		// Nothing for the engines to do in this status (the mark of a
		// change that needs no process, or of a cluster given up on).
		return r.commit(ctx, w.sc, rec.ID, rec.Generation, func(tx storage.Tx, cur *cacheClusterRecord) ([]string, error) {
			return nil, nil
		})
	}
}

// mine reports whether this server runs the cluster's nodes: every placed
// node is owned by this server or by no one. The nodes of a server whose
// lease expired become this server's through takeOver, in a full pass.
func (r *Reconciler) mine(rec *cacheClusterRecord) bool {
	for _, n := range rec.Nodes {
		if n.Owner != "" && n.Owner != r.cfg.ServerID {
			return false
		}
	}
	return true
}

// failed counts a failure of w's work and schedules its retry; after
// MaxAttempts a cluster on its way to available is given up on.
func (r *Reconciler) failed(ctx context.Context, w workItem, rec *cacheClusterRecord, err error) {
	st := r.retries[w.String()]
	if st == nil || rec != nil && st.gen != rec.Generation {
		st = &retryState{}
		if rec != nil {
			st.gen = rec.Generation
		}
		r.retries[w.String()] = st
	}
	st.attempts++
	delay := r.cfg.RetryDelay << min(st.attempts-1, 16)
	if delay > r.cfg.Interval || delay <= 0 {
		delay = r.cfg.Interval
	}
	st.next = r.s.clock.Now().Add(delay)
	r.log.Warn("cluster work failed", "cluster", w, "attempt", st.attempts, "retry_in", delay, "err", err)
	if rec == nil || st.attempts < r.cfg.MaxAttempts || rec.Status == clusterDeleting {
		// A delete is retried for as long as it takes: giving up would
		// leave a process no record knows of.
		return
	}
	delete(r.retries, w.String())
	r.giveUp(ctx, w.sc, rec, fmt.Sprintf("The cache cluster's engines could not be started after %d attempts; see the server log", st.attempts))
}

// giveUp stops the cluster's engines and puts it in incompatible-network,
// AWS's status for a cluster that could not be made to run, which
// Terraform's waiters fail on at once (rather than after 40 minutes) and
// from which DeleteCacheCluster still works.
func (r *Reconciler) giveUp(ctx context.Context, sc scope, rec *cacheClusterRecord, why string) {
	if err := r.removeEngines(ctx, sc, rec, rec.Nodes); err != nil {
		// The next full pass removes what is left: nothing owns it.
		r.log.Warn("stop the engines of a cluster given up on", "cluster", rec.ID, "err", err)
	}
	err := r.commit(ctx, sc, rec.ID, rec.Generation, func(tx storage.Tx, cur *cacheClusterRecord) ([]string, error) {
		events := []string{why}
		if cur.Status == clusterCreating {
			events = append([]string{"Failed to create the cache cluster due to incompatible network state"}, events...)
		}
		cur.Status = clusterIncompatibleNetwork
		return events, nil
	})
	if err != nil {
		r.log.Warn("mark cluster incompatible-network", "cluster", rec.ID, "err", err)
	}
}

// load reads a cluster record; nil when none is stored.
func (r *Reconciler) load(ctx context.Context, sc scope, id string) (*cacheClusterRecord, error) {
	var rec *cacheClusterRecord
	err := r.s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		rec, err = cacheClusters.GetStored(tx, sc, id)
		return err
	})
	return rec, err
}

// commit writes a transition: in one Update it reads the cluster, refuses
// when its generation is no longer gen, lets change modify it and name
// the events, stores it, appends the events (in order, the last one now)
// and clears the work mark.
func (r *Reconciler) commit(ctx context.Context, sc scope, id string, gen int,
	change func(tx storage.Tx, cur *cacheClusterRecord) (events []string, err error)) error {
	now := r.s.clock.Now()
	return r.s.store.Update(ctx, func(tx storage.Tx) error {
		cur, err := current(tx, sc, id, gen)
		if err != nil {
			return err
		}
		events, err := change(tx, cur)
		if err != nil {
			return err
		}
		// The work of this generation configured the engines' access.
		cur.AccessChanged = false
		if err := cacheClusters.Put(tx, sc, cur); err != nil {
			return err
		}
		if err := tx.Delete(workKey(sc, id)); err != nil {
			return err
		}
		return appendClusterEvents(tx, sc, id, now, events)
	})
}

// current reads the cluster inside a write and checks its generation.
func current(tx storage.Tx, sc scope, id string, gen int) (*cacheClusterRecord, error) {
	cur, err := cacheClusters.GetStored(tx, sc, id)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, errGone
	}
	if cur.Generation != gen {
		return nil, errGenerationMoved
	}
	return cur, nil
}

// appendClusterEvents appends a cluster's events in the order given: a
// microsecond apart, the last at now, so that DescribeEvents (newest
// first) shows them in the reverse order AWS does, deterministically.
func appendClusterEvents(tx storage.Tx, sc scope, id string, now time.Time, msgs []string) error {
	for i, m := range msgs {
		at := now.Add(-time.Duration(len(msgs)-1-i) * time.Microsecond)
		if err := schema.AppendEvent(tx, sc, at, cacheClusterKind, id, m); err != nil {
			return err
		}
	}
	return nil
}

// forget handles a mark whose cluster is gone without the reconciler's
// delete (an account reset): its engines are removed, its addresses
// released, the mark dropped.
func (r *Reconciler) forget(ctx context.Context, w workItem) error {
	prefix := clusterKeyPrefix(w.sc, w.id)
	if err := r.removeRunning(ctx, func(key string) bool { return len(key) > len(prefix) && key[:len(prefix)] == prefix }); err != nil {
		return err
	}
	return r.s.store.Update(ctx, func(tx storage.Tx) error {
		rec, err := cacheClusters.GetStored(tx, w.sc, w.id)
		if err != nil || rec != nil {
			return err // recreated meanwhile: its own work will run
		}
		if err := releaseAddresses(tx, func(node string) bool { return bytes.HasPrefix([]byte(node), []byte(prefix)) }); err != nil {
			return err
		}
		return tx.Delete(workKey(w.sc, w.id))
	})
}

// removeRunning removes the engines of the running nodes whose key match
// selects.
func (r *Reconciler) removeRunning(ctx context.Context, match func(key string) bool) error {
	if r.e == nil {
		return nil
	}
	var errs []error
	for key := range r.running {
		if !match(key) {
			continue
		}
		if err := r.engineCall(ctx, func(ctx context.Context) error { return r.e.Remove(ctx, key) }); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", key, err))
			continue
		}
		delete(r.running, key)
	}
	return errors.Join(errs...)
}

// engineCall runs one engine call with its own deadline.
func (r *Reconciler) engineCall(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, engineCallTimeout)
	defer cancel()
	return fn(ctx)
}
