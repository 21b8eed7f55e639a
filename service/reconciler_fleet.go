package service

import (
	"context"
	"errors"

	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// The full pass compares the whole fleet with the records, whatever the
// work index says: it removes the engines of nodes no record gives this
// server any more (an account reset or an import erased their clusters
// without a delete, or another server took them over), those it runs and
// those it finds on disk; it takes over the nodes of servers whose leases
// expired (reconciler_lease.go); it adopts (or restarts) the engines of
// this server's available clusters, which is how a server started again
// after a kill -9 takes its nodes back; and it drops address reservations
// of nodes that no longer exist. Then it works on the work index.

// clusterAt is a cluster record, its scope and the values of its
// parameter group.
type clusterAt struct {
	sc     scope
	rec    *cacheClusterRecord
	values map[string]string
}

// fullPass reconciles every cluster of the store, then the work index.
func (r *Reconciler) fullPass(ctx context.Context) {
	clusters, err := r.allClusters(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("read clusters", "err", err)
		}
		return
	}
	leases, err := r.readLeases(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("read the servers' leases", "err", err)
		}
		return
	}
	nodes := map[string]bool{} // every node key a record has
	mineNodes := map[string]bool{}
	for _, c := range clusters {
		for _, n := range c.rec.Nodes {
			key := nodeKey(c.sc, c.rec.ID, n.ID)
			nodes[key] = true
			if n.Owner == r.cfg.ServerID && n.Status != nodeDeleting {
				mineNodes[key] = true
			}
		}
	}
	errRunning := r.removeRunning(ctx, func(key string) bool { return !mineNodes[key] })
	if errRunning != nil {
		r.log.Warn("remove orphaned engines", "err", errRunning)
	}
	errStrays := r.removeStrays(ctx, mineNodes)
	if errStrays != nil && ctx.Err() == nil {
		r.log.Warn("remove engines of nodes this server does not own", "err", errStrays)
	}
	if errRunning == nil && errStrays == nil && ctx.Err() == nil {
		// No engine of this server holds an address it no longer owns.
		if err := r.releaseRetired(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("release the retired addresses of this server's former nodes", "err", err)
		}
	}
	r.takeOverDead(ctx, clusters, leases)
	if err := r.dropDeadLeases(ctx, clusters, leases); err != nil && ctx.Err() == nil {
		r.log.Warn("drop the leases of dead servers", "err", err)
	}
	for _, c := range clusters {
		if ctx.Err() != nil {
			return
		}
		if c.rec.Status == clusterAvailable && r.mine(c.rec) {
			r.adopt(ctx, c.sc, c.rec)
			// A primary taken over elsewhere has a new address, a user
			// changed while this server was down: the engines follow.
			if err := r.reconfigure(ctx, c.sc, c.rec, true); err != nil && ctx.Err() == nil && !errors.Is(err, errWaitPrimary) {
				r.log.Warn("reconfigure the engines' access", "cluster", c.rec.ID, "err", err)
			}
			if err := r.syncParams(ctx, c); err != nil && ctx.Err() == nil {
				r.log.Warn("apply parameter group changes", "cluster", c.rec.ID, "err", err)
			}
		}
	}
	if err := r.releaseStale(ctx, nodes); err != nil && ctx.Err() == nil {
		r.log.Warn("release stale address reservations", "err", err)
	}
	r.workPass(ctx)
}

// allClusters reads every cluster record of every account and region.
func (r *Reconciler) allClusters(ctx context.Context) ([]clusterAt, error) {
	var out []clusterAt
	err := r.s.store.View(ctx, func(tx storage.Tx) error {
		out = out[:0]
		return schema.EachScope(tx, func(sc scope) error {
			recs, err := cacheClusters.All(tx, sc)
			if err != nil {
				return err
			}
			groups := map[string]map[string]string{}
			for _, rec := range recs {
				values, ok := groups[rec.ParameterGroup]
				if !ok {
					g, err := parameterGroups.Get(tx, sc, rec.ParameterGroup)
					if err != nil {
						return err
					}
					if g != nil {
						values = g.Values
					}
					groups[rec.ParameterGroup] = values
				}
				out = append(out, clusterAt{sc: sc, rec: rec, values: values})
			}
			return nil
		})
	})
	return out, err
}

// adopt ensures the engines of an available cluster's placed nodes that
// this reconciler does not run yet: a previous run's process is adopted
// (the runner finds it by its pid file), a dead one started again, with
// the parameters last applied.
func (r *Reconciler) adopt(ctx context.Context, sc scope, rec *cacheClusterRecord) {
	if r.e == nil {
		return
	}
	for i := range rec.Nodes {
		n := &rec.Nodes[i]
		if n.Address == "" || n.Owner != r.cfg.ServerID || r.running[nodeKey(sc, rec.ID, n.ID)] {
			continue
		}
		spec, err := r.nodeSpec(ctx, sc, rec, n, rec.AppliedParams)
		if err == nil {
			err = r.start(ctx, spec)
		}
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("start node", "node", nodeKey(sc, rec.ID, n.ID), "err", err)
			}
			continue
		}
		r.log.Debug("node running", "node", spec.Key, "address", spec.Address, "port", spec.Port)
	}
}

// syncParams applies to an available cluster what changed in its
// parameter group since it was last applied (ModifyCacheParameterGroup
// and ResetCacheParameterGroup change every cluster of the group, as on
// AWS): dynamic parameters at once, static ones pending a reboot. The
// cluster stays available.
func (r *Reconciler) syncParams(ctx context.Context, c clusterAt) error {
	pc, err := r.applyGroup(ctx, c)
	if err != nil || pc == nil {
		return err
	}
	now := r.s.clock.Now()
	return r.s.store.Update(ctx, func(tx storage.Tx) error {
		cur, err := current(tx, c.sc, c.rec.ID, c.rec.Generation)
		if err != nil || cur.Status != clusterAvailable {
			return err // changed meanwhile: its work applies the group
		}
		events := pc.record(cur)
		if err := cacheClusters.Put(tx, c.sc, cur); err != nil {
			return err
		}
		return appendClusterEvents(tx, c.sc, cur.ID, now, events)
	})
}

// paramChange is what applyGroup did to a cluster's engines.
type paramChange struct {
	values, changed map[string]string
	// static are the changed names that wait for a reboot.
	static []string
}

// applyGroup sends the engines of an available cluster what changed in
// its parameter group since it was last applied; nil when nothing did.
func (r *Reconciler) applyGroup(ctx context.Context, c clusterAt) (*paramChange, error) {
	rec := c.rec
	changed := changedParams(effectiveParams(rec.Family, rec.AppliedParams), effectiveParams(rec.Family, c.values))
	if len(changed) == 0 {
		return nil, nil
	}
	static, err := r.applyParams(ctx, c.sc, rec, rec.Nodes, c.values, changed)
	if err != nil {
		return nil, err
	}
	return &paramChange{values: c.values, changed: changed, static: static}, nil
}

// record writes the change into the cluster's record and returns its
// events.
func (pc *paramChange) record(cur *cacheClusterRecord) []string {
	cur.AppliedParams = pc.values
	if len(pc.static) > 0 {
		cur.ParamStatus, cur.NodesToReboot = paramsPendingReboot, nodeIDs(cur)
		setNodeParamStatus(cur, paramsPendingReboot)
	}
	return paramEvents(pc.changed)
}

// releaseStale deletes the address reservations of nodes no record has,
// after checking again inside the write (a reservation written since the
// read belongs to a node placed since); retired ones are left to the
// server they name.
func (r *Reconciler) releaseStale(ctx context.Context, nodes map[string]bool) error {
	stale := false
	err := r.s.store.View(ctx, func(tx storage.Tx) error {
		stale = false
		return tx.Scan(addrPrefix, nil, func(_, v []byte) (bool, error) {
			_, retired := retiredOwner(string(v))
			stale = !retired && !nodes[string(v)]
			return !stale, nil
		})
	})
	if err != nil || !stale {
		return err
	}
	return r.s.store.Update(ctx, func(tx storage.Tx) error {
		return releaseAddresses(tx, func(node string) bool {
			if _, retired := retiredOwner(node); retired || nodes[node] {
				// A retired address is its old owner's to release.
				return false
			}
			exists, err := nodeExists(tx, node)
			return err == nil && !exists
		})
	})
}

// nodeExists reports whether a node key names a node of a stored cluster.
func nodeExists(tx storage.Tx, key string) (bool, error) {
	sc, cluster, node, ok := parseNodeKey(key)
	if !ok {
		return false, nil
	}
	rec, err := cacheClusters.GetStored(tx, sc, cluster)
	if err != nil || rec == nil {
		return false, err
	}
	for _, n := range rec.Nodes {
		if n.ID == node {
			return true, nil
		}
	}
	return false, nil
}

// recover starts again the engine of a node whose process ended unasked,
// with AWS's recovery events around it. A node of a cluster under work is
// left to that work, which ensures its nodes anyway.
func (r *Reconciler) recover(ctx context.Context, key string) {
	delete(r.running, key)
	sc, id, nodeID, ok := parseNodeKey(key)
	if !ok || r.e == nil {
		return
	}
	rec, err := r.load(ctx, sc, id)
	if err != nil || rec == nil || rec.Status != clusterAvailable {
		return
	}
	i := -1
	for j, n := range rec.Nodes {
		if n.ID == nodeID && n.Owner == r.cfg.ServerID && n.Address != "" {
			i = j
		}
	}
	if i < 0 {
		return
	}
	r.log.Warn("engine exited; recovering the node", "node", key)
	if err := r.event(ctx, sc, id, "Recovering cache nodes "+nodeID); err != nil {
		r.log.Warn("record recovery event", "node", key, "err", err)
	}
	spec, err := r.nodeSpec(ctx, sc, rec, &rec.Nodes[i], rec.AppliedParams)
	if err == nil {
		err = r.start(ctx, spec)
	}
	if err != nil {
		// The next full pass tries again.
		r.log.Warn("recover node", "node", key, "err", err)
		return
	}
	if err := r.event(ctx, sc, id, "Finished recovery for cache nodes "+nodeID); err != nil {
		r.log.Warn("record recovery event", "node", key, "err", err)
	}
}

// event appends one event of a cluster, if the cluster still exists.
func (r *Reconciler) event(ctx context.Context, sc scope, id, msg string) error {
	now := r.s.clock.Now()
	return r.s.store.Update(ctx, func(tx storage.Tx) error {
		ok, err := cacheClusters.Exists(tx, sc, id)
		if err != nil || !ok {
			return err
		}
		return schema.AppendEvent(tx, sc, now, cacheClusterKind, id, msg)
	})
}
