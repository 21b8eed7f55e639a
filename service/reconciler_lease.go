package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
)

// Ownership between servers sharing one store (docs/DECISIONS.md "Cache
// clusters: the fleet"). Every server keeps a lease in the store,
//
//	f/lease/{serverID} → {"deadline": wall-clock time}
//
// written when its reconciler starts and renewed every third of LeaseTTL
// by an ordinary Update, so that it works the same on bbolt and etcd (no
// etcd lease primitive). A node belongs to the server its record names
// (cacheNodeRecord.Owner), and only that server runs it. A server whose
// deadline has passed by more than LeaseGrace is dead to the others: in
// its full pass, a live server re-places the dead server's nodes on
// itself, one Update per cluster that rechecks the lease and the owners,
// so that of several servers racing for a cluster exactly one wins. The
// node gets a new address (the dead server's engine may still hold the
// old one on a shared host) and a fresh engine, as AWS replaces a node on
// a failed host: its data is gone. A server that comes back finds its
// old nodes named to another owner and removes their engines.

// Defaults of the lease settings.
const (
	defaultLeaseTTL = 15 * time.Second
)

// leasePrefix is the common prefix of the servers' leases.
var leasePrefix = []byte("f/lease/")

func leaseKey(serverID string) []byte { return []byte(string(leasePrefix) + serverID) }

// leaseRecord is one server's lease.
type leaseRecord struct {
	// Deadline is when the lease ends unless renewed, on the renewing
	// server's clock.
	Deadline time.Time `json:"deadline"`
}

// errNotMine says a cluster's nodes belong to another server, found out
// inside the write that would have placed them: another reconciler got
// there first, and this one leaves the cluster to it.
var errNotMine = errors.New("the cluster's nodes belong to another server")

// renew writes this server's lease: a deadline LeaseTTL from now. It
// returns the deadline the lease had before (zero when it had none).
func (r *Reconciler) renew(ctx context.Context) (previous time.Time, err error) {
	now := r.s.clock.Now()
	b, err := json.Marshal(leaseRecord{Deadline: now.Add(r.cfg.LeaseTTL)})
	if err != nil {
		return time.Time{}, err
	}
	err = r.s.store.Update(ctx, func(tx storage.Tx) error {
		previous = time.Time{}
		if l, ok, err := readLease(tx, r.cfg.ServerID); err != nil {
			return err
		} else if ok {
			previous = l.Deadline
		}
		return tx.Put(leaseKey(r.cfg.ServerID), b)
	})
	return previous, err
}

// keepLease writes the lease at once, then renews it every third of the
// TTL on a goroutine of its own until ctx ends, so that a slow engine
// call on Run's goroutine never lets the lease lapse. The returned
// channel closes when the goroutine has ended: no renewal follows.
func (r *Reconciler) keepLease(ctx context.Context) <-chan struct{} {
	renew := func() {
		prev, err := r.renew(ctx)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				r.log.Warn("renew this server's lease", "server_id", r.cfg.ServerID, "err", err)
			}
		case !prev.IsZero() && r.s.clock.Now().After(prev.Add(r.cfg.LeaseGrace)):
			// Paused, cut off from the store, or restarted late: other
			// servers may have taken this server's nodes; the next full
			// pass removes the engines of those it no longer owns.
			r.log.Warn("this server's lease had expired; other servers may have taken its nodes over",
				"server_id", r.cfg.ServerID, "expired_at", prev)
		}
	}
	renew()
	done := make(chan struct{})
	every := max(r.cfg.LeaseTTL/3, time.Millisecond)
	ticks, stop := r.cfg.NewTicker(every)
	go func() {
		defer close(done)
		defer stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticks:
				renew()
			}
		}
	}()
	return done
}

// readLease reads one server's lease; a lease that cannot be decoded
// counts as none.
func readLease(tx storage.Tx, serverID string) (leaseRecord, bool, error) {
	var l leaseRecord
	b, err := tx.Get(leaseKey(serverID))
	if errors.Is(err, storage.ErrNotFound) {
		return l, false, nil
	}
	if err != nil {
		return l, false, err
	}
	if json.Unmarshal(b, &l) != nil {
		return leaseRecord{}, false, nil
	}
	return l, true, nil
}

// readLeases reads every server's lease.
func (r *Reconciler) readLeases(ctx context.Context) (map[string]leaseRecord, error) {
	out := map[string]leaseRecord{}
	err := r.s.store.View(ctx, func(tx storage.Tx) error {
		clear(out)
		return tx.Scan(leasePrefix, nil, func(k, v []byte) (bool, error) {
			var l leaseRecord
			if json.Unmarshal(v, &l) == nil {
				out[string(k[len(leasePrefix):])] = l
			}
			return true, nil
		})
	})
	return out, err
}

// expired reports whether the server that holds (or, with found false,
// lacks) lease l is dead to this one at now: its deadline passed more than
// the grace ago. A server with no lease at all (an owner named by records
// from before leases, or imported ones) is dead once this reconciler has
// been up for a whole TTL and grace without seeing it write one: a live
// server writes its lease before placing anything.
func (r *Reconciler) expired(l leaseRecord, found bool, now time.Time) bool {
	if !found {
		return now.After(r.started.Add(r.cfg.LeaseTTL + r.cfg.LeaseGrace))
	}
	return now.After(l.Deadline.Add(r.cfg.LeaseGrace))
}

// deadOwners names the owners of rec's nodes, other than this server,
// whose leases have expired.
func (r *Reconciler) deadOwners(rec *cacheClusterRecord, leases map[string]leaseRecord, now time.Time) []string {
	var dead []string
	for _, n := range rec.Nodes {
		if n.Owner == "" || n.Owner == r.cfg.ServerID || slices.Contains(dead, n.Owner) {
			continue
		}
		l, ok := leases[n.Owner]
		if r.expired(l, ok, now) {
			dead = append(dead, n.Owner)
		}
	}
	return dead
}

// takeOver re-places on this server, in one Update, the nodes of a
// cluster whose owners are dead, after checking inside the write that
// they still are and still own them: of several servers racing, the
// first to commit wins and the others find a live owner. The old
// address of every such node is retired (retireAddress): the dead
// server's engine may still hold it. A node that runs gets a new address
// and the cluster's events say it is being recovered; a node on its way
// out (the cluster being deleted or given up on, the node being removed)
// only changes owner, for this server to finish the work. Generation
// grows, so that any commit of the old owner still under way fails, and
// the work mark follows it. It returns the record as written and the IDs
// of the nodes recovered, or nil when nothing was taken over.
func (r *Reconciler) takeOver(ctx context.Context, sc scope, id string) (*cacheClusterRecord, []string, error) {
	var out *cacheClusterRecord
	var recovered []string
	var from []string
	now := r.s.clock.Now()
	err := r.s.store.Update(ctx, func(tx storage.Tx) error {
		out, recovered, from = nil, nil, nil
		cur, err := cacheClusters.GetStored(tx, sc, id)
		if err != nil || cur == nil {
			return err
		}
		dead := map[string]bool{}
		for _, n := range cur.Nodes {
			if n.Owner == "" || n.Owner == r.cfg.ServerID {
				continue
			}
			if _, seen := dead[n.Owner]; seen {
				continue
			}
			l, ok, err := readLease(tx, n.Owner)
			if err != nil {
				return err
			}
			dead[n.Owner] = r.expired(l, ok, now)
			if dead[n.Owner] {
				from = append(from, n.Owner)
			}
		}
		if len(from) == 0 {
			return nil
		}
		leaving := cur.Status == clusterDeleting || cur.Status == clusterIncompatibleNetwork
		var res reservations
		for i := range cur.Nodes {
			n := &cur.Nodes[i]
			if !dead[n.Owner] {
				continue
			}
			if n.Address != "" {
				if err := retireAddress(tx, sc, id, n); err != nil {
					return err
				}
			}
			if n.Address != "" && !leaving && n.Status != nodeDeleting {
				ip, port, err := r.reserve(tx, &res, sc, id, n.ID, cur.Port)
				if err != nil {
					return err
				}
				n.Address, n.Port = ip, port
				if !n.Created.IsZero() {
					recovered = append(recovered, n.ID)
				}
			}
			n.Owner = r.cfg.ServerID
		}
		cur.Generation++
		switch _, err := tx.Get(workKey(sc, id)); {
		case err == nil:
			if err := markWork(tx, sc, id, cur.Generation); err != nil {
				return err
			}
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
		if err := cacheClusters.Put(tx, sc, cur); err != nil {
			return err
		}
		out = cur
		if len(recovered) == 0 {
			return nil
		}
		return appendClusterEvents(tx, sc, id, now, []string{"Recovering cache nodes " + strings.Join(recovered, ", ")})
	})
	if err != nil || out == nil {
		return nil, nil, err
	}
	r.log.Warn("took over the nodes of a server whose lease expired", "cluster", clusterKeyPrefix(sc, id),
		"from", strings.Join(from, ","), "recovered", strings.Join(recovered, ","))
	if len(recovered) > 0 {
		r.startRecovered(ctx, sc, out, recovered, now)
	}
	return out, recovered, nil
}

// startRecovered starts the engines of nodes just taken over, fresh:
// whatever this host still keeps of the node (its engine from a time this
// server owned it) is removed first, as AWS's replacement node starts
// empty. Once every one answers, the recovery's end is an event, after
// the one that began it (at).
func (r *Reconciler) startRecovered(ctx context.Context, sc scope, rec *cacheClusterRecord, ids []string, at time.Time) {
	if r.e != nil {
		for i := range rec.Nodes {
			n := &rec.Nodes[i]
			if !slices.Contains(ids, n.ID) {
				continue
			}
			spec, err := r.nodeSpec(ctx, sc, rec, n, rec.AppliedParams)
			if err == nil {
				err = r.engineCall(ctx, func(ctx context.Context) error {
					if err := r.e.Remove(ctx, spec.Key); err != nil {
						return fmt.Errorf("remove what is left of the node here: %w", err)
					}
					return r.e.Ensure(ctx, spec)
				})
			}
			if err != nil {
				// The full pass starts it later (adopt); the recovery's
				// end then goes without an event.
				if ctx.Err() == nil {
					r.log.Warn("start a node taken over", "node", nodeKey(sc, rec.ID, n.ID), "err", err)
				}
				return
			}
			r.running[spec.Key] = true
			r.applied[spec.Key] = specFingerprint(spec)
		}
	}
	now := r.s.clock.Now()
	if !now.After(at) {
		now = at.Add(time.Microsecond)
	}
	err := r.s.store.Update(ctx, func(tx storage.Tx) error {
		ok, err := cacheClusters.Exists(tx, sc, rec.ID)
		if err != nil || !ok {
			return err
		}
		return appendClusterEvents(tx, sc, rec.ID, now, []string{"Finished recovery for cache nodes " + strings.Join(ids, ", ")})
	})
	if err != nil && ctx.Err() == nil {
		r.log.Warn("record the end of a recovery", "cluster", rec.ID, "err", err)
	}
}

// takeOverDead takes over every cluster with a node of a dead owner, and
// puts the records as written into clusters.
func (r *Reconciler) takeOverDead(ctx context.Context, clusters []clusterAt, leases map[string]leaseRecord) {
	now := r.s.clock.Now()
	for i, c := range clusters {
		if ctx.Err() != nil {
			return
		}
		if len(r.deadOwners(c.rec, leases, now)) == 0 {
			continue
		}
		rec, _, err := r.takeOver(ctx, c.sc, c.rec.ID)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("take over the nodes of a dead server", "cluster", c.rec.ID, "err", err)
			}
			continue
		}
		if rec != nil {
			clusters[i].rec = rec
		}
	}
}

// dropDeadLeases deletes the leases of dead servers that own no node any
// more (after their nodes were taken over), so that servers that never
// come back leave nothing behind; the check is made again inside the
// write. A server that comes back writes its lease anew.
func (r *Reconciler) dropDeadLeases(ctx context.Context, clusters []clusterAt, leases map[string]leaseRecord) error {
	owners := map[string]bool{}
	for _, c := range clusters {
		for _, n := range c.rec.Nodes {
			owners[n.Owner] = true
		}
	}
	now := r.s.clock.Now()
	var drop []string
	for id, l := range leases {
		if id != r.cfg.ServerID && !owners[id] && r.expired(l, true, now) {
			drop = append(drop, id)
		}
	}
	if len(drop) == 0 {
		return nil
	}
	return r.s.store.Update(ctx, func(tx storage.Tx) error {
		for _, id := range drop {
			l, ok, err := readLease(tx, id)
			if err != nil {
				return err
			}
			if ok && r.expired(l, true, now) {
				if err := tx.Delete(leaseKey(id)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Retired addresses. The address of a node taken over stays reserved
// after the takeover, since the dead owner's engine may still listen on
// it (a server killed with -9 leaves its engines running, and servers
// may share a host's loopback): another node placed there could not
// start. The reservation's value names the old owner instead of a node,
//
//	f/addr/{ip}:{port} → "retired {owner} {node key}"
//
// and the old owner releases it when it runs again, once it has removed
// the engines of the nodes it no longer owns. A server that never comes
// back keeps its nodes' old addresses reserved.

// retiredPrefix starts the value of a retired reservation; node keys
// never contain a space.
const retiredPrefix = "retired "

// retiredOwner is the server a retired reservation's value names, and
// whether the value is one.
func retiredOwner(v string) (string, bool) {
	rest, ok := strings.CutPrefix(v, retiredPrefix)
	if !ok {
		return "", false
	}
	owner, _, _ := strings.Cut(rest, " ")
	return owner, true
}

// retireAddress turns the reservation of n's address, when it is still
// n's, into a retired one naming n's owner.
func retireAddress(tx storage.Tx, sc scope, id string, n *cacheNodeRecord) error {
	k := addrKey(n.Address, n.Port)
	key := nodeKey(sc, id, n.ID)
	v, err := tx.Get(k)
	if errors.Is(err, storage.ErrNotFound) || err == nil && string(v) != key {
		return nil
	}
	if err != nil {
		return err
	}
	return tx.Put(k, []byte(retiredPrefix+n.Owner+" "+key))
}

// releaseRetired deletes the retired reservations that name this server:
// called once it runs no engine of a node it does not own.
func (r *Reconciler) releaseRetired(ctx context.Context) error {
	mineRetired := func(v string) bool {
		owner, ok := retiredOwner(v)
		return ok && owner == r.cfg.ServerID
	}
	found := false
	err := r.s.store.View(ctx, func(tx storage.Tx) error {
		found = false
		return tx.Scan(addrPrefix, nil, func(_, v []byte) (bool, error) {
			found = mineRetired(string(v))
			return !found, nil
		})
	})
	if err != nil || !found {
		return err
	}
	return r.s.store.Update(ctx, func(tx storage.Tx) error {
		return releaseAddresses(tx, mineRetired)
	})
}

// removeStrays removes the engines under this server's engine directory
// whose nodes are not this server's: left by a run before a kill -9 for a
// node deleted since, or of a node another server took over while this
// one was paused or down. Never two processes for one node, never an
// orphan.
func (r *Reconciler) removeStrays(ctx context.Context, mine map[string]bool) error {
	if r.e == nil {
		return nil
	}
	var keys []string
	err := r.engineCall(ctx, func(ctx context.Context) error {
		var err error
		keys, err = r.e.Nodes(ctx)
		return err
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, key := range keys {
		if mine[key] {
			continue
		}
		r.log.Info("removing an engine of a node this server does not own", "node", key)
		if err := r.engineCall(ctx, func(ctx context.Context) error { return r.e.Remove(ctx, key) }); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", key, err))
			continue
		}
		delete(r.running, key)
	}
	return errors.Join(errs...)
}
