package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/elasticache-server/elasticache-server/storage"
)

// The transitions, one per transitional status. Each is idempotent: run
// again after a crash or a Generation change, it finds the nodes it placed
// and the engines it started, and finishes. The event messages are AWS's
// (its SNS event table, and DescribeEvents examples).

// noEngineEvent is the event of a cluster created in the control-plane-
// only mode.
const noEngineEvent = "No cache engine runs for this cluster: the server manages the control plane only (--engines none)"

// create places the cluster's nodes, starts their engines and makes the
// cluster available.
func (r *Reconciler) create(ctx context.Context, sc scope, rec *cacheClusterRecord) error {
	if r.e != nil {
		if _, err := r.e.Available(rec.Engine); err != nil {
			r.log.Error("engine not installed: the cluster cannot run", "cluster", rec.ID, "engine", rec.Engine, "err", err)
			r.giveUp(ctx, sc, rec, fmt.Sprintf("The %s engine is not installed on this server", rec.Engine))
			return nil
		}
	}
	rec, err := r.place(ctx, sc, rec.ID, rec.Generation, func(cur *cacheClusterRecord) {
		if len(cur.Nodes) < cur.NumNodes {
			// The request path wrote fewer nodes than asked: the missing
			// ones are added here, as a scale-out would.
			planNodes(cur, sc.Region)
		}
	})
	if err != nil {
		return err
	}
	values, err := r.groupValues(ctx, sc, rec)
	if err != nil {
		return err
	}
	if err := r.ensureNodes(ctx, sc, rec, rec.Nodes, values); err != nil {
		return err
	}
	if rec.AccessChanged {
		// Who may use the engines changed while they were being made.
		if err := r.reconfigure(ctx, sc, rec, true); err != nil {
			return err
		}
	}
	return r.commit(ctx, sc, rec.ID, rec.Generation, func(tx storage.Tx, cur *cacheClusterRecord) ([]string, error) {
		now := r.s.clock.Now()
		var events []string
		for i := range cur.Nodes {
			n := &cur.Nodes[i]
			n.Status, n.ParamStatus = nodeAvailable, paramsInSync
			if n.Created.IsZero() {
				n.Created = now
			}
			events = append(events, fmt.Sprintf("Added cache node %s in availability zone %s", n.ID, n.AZ))
		}
		cur.Status, cur.ParamStatus, cur.NodesToReboot = clusterAvailable, paramsInSync, nil
		cur.AppliedParams = values
		cur.RunningNodeType, cur.RunningEngineVersion = cur.NodeType, cur.EngineVersion
		events = append(events, "Cache cluster created")
		if r.e == nil {
			events = append(events, noEngineEvent)
		}
		return events, memberAvailable(tx, sc, cur, now)
	})
}

// ensureNodes makes the engines of nodes run (starting them, or adopting
// those a previous run of this server left running); nodes this
// reconciler already runs are left as they are.
func (r *Reconciler) ensureNodes(ctx context.Context, sc scope, rec *cacheClusterRecord, nodes []cacheNodeRecord, values map[string]string) error {
	if r.e == nil {
		return nil
	}
	for i := range nodes {
		n := &nodes[i]
		if n.Status == nodeDeleting || n.Address == "" || r.running[nodeKey(sc, rec.ID, n.ID)] {
			continue
		}
		if n.Owner != "" && n.Owner != r.cfg.ServerID {
			// Never a second process for another server's node.
			return fmt.Errorf("node %s: %w", nodeKey(sc, rec.ID, n.ID), errNotMine)
		}
		spec, err := r.nodeSpec(ctx, sc, rec, n, values)
		if err != nil {
			return err
		}
		if err := r.start(ctx, spec); err != nil {
			return fmt.Errorf("start node %s: %w", spec.Key, err)
		}
	}
	return nil
}

// removeEngines stops the engines of nodes and deletes their data.
func (r *Reconciler) removeEngines(ctx context.Context, sc scope, rec *cacheClusterRecord, nodes []cacheNodeRecord) error {
	if r.e == nil {
		return nil
	}
	var errs []error
	for _, n := range nodes {
		key := nodeKey(sc, rec.ID, n.ID)
		if err := r.engineCall(ctx, func(ctx context.Context) error { return r.e.Remove(ctx, key) }); err != nil {
			errs = append(errs, fmt.Errorf("remove node %s: %w", key, err))
			continue
		}
		delete(r.running, key)
		delete(r.applied, key)
	}
	return errors.Join(errs...)
}

// delete removes every engine of the cluster, then the record, its tags
// and its address reservations.
func (r *Reconciler) delete(ctx context.Context, sc scope, rec *cacheClusterRecord) error {
	if err := r.removeEngines(ctx, sc, rec, rec.Nodes); err != nil {
		return err
	}
	now := r.s.clock.Now()
	return r.s.store.Update(ctx, func(tx storage.Tx) error {
		cur, err := cacheClusters.GetStored(tx, sc, rec.ID)
		if err != nil {
			return err
		}
		if cur == nil {
			return tx.Delete(workKey(sc, rec.ID))
		}
		if cur.Status != clusterDeleting {
			return errGenerationMoved
		}
		if err := releaseNodeAddresses(tx, sc, cur.ID, cur.Nodes); err != nil {
			return err
		}
		if err := cacheClusters.Delete(tx, sc, cur.ID); err != nil {
			return err
		}
		if err := tx.Delete(workKey(sc, cur.ID)); err != nil {
			return err
		}
		if err := appendClusterEvents(tx, sc, cur.ID, now, []string{"Cache cluster deleted"}); err != nil {
			return err
		}
		return memberGone(tx, sc, cur, now)
	})
}

// reboot restarts the nodes whose status is rebooting (all of them when
// none is marked), with the parameters applied: those waiting for a
// reboot take effect, and the rebooted nodes are in-sync.
func (r *Reconciler) reboot(ctx context.Context, sc scope, rec *cacheClusterRecord) error {
	var ids []string
	for _, n := range rec.Nodes {
		if n.Status == nodeRebooting {
			ids = append(ids, n.ID)
		}
	}
	if len(ids) == 0 {
		for _, n := range rec.Nodes {
			ids = append(ids, n.ID)
		}
	}
	if err := r.ensureNodes(ctx, sc, rec, rec.Nodes, rec.AppliedParams); err != nil {
		return err
	}
	var events []string
	for i := range rec.Nodes {
		n := &rec.Nodes[i]
		if !slices.Contains(ids, n.ID) {
			continue
		}
		if r.e != nil && n.Address != "" {
			spec, err := r.nodeSpec(ctx, sc, rec, n, rec.AppliedParams)
			if err != nil {
				return err
			}
			restart := func(ctx context.Context) error { return r.e.Restart(ctx, spec) }
			if rec.Engine == engineMemcached {
				// AWS flushes a memcached node it reboots: the node comes
				// back empty (a redis node keeps what it saved).
				restart = func(ctx context.Context) error {
					if err := r.e.Remove(ctx, spec.Key); err != nil {
						return err
					}
					return r.e.Ensure(ctx, spec)
				}
			}
			if err := r.engineCall(ctx, restart); err != nil {
				return fmt.Errorf("restart node %s: %w", spec.Key, err)
			}
			r.running[spec.Key] = true
			r.applied[spec.Key] = specFingerprint(spec)
		}
		if rec.Engine == "memcached" {
			// AWS's memcached nodes say they shut down, then restarted.
			events = append(events, fmt.Sprintf("Cache node %s shutdown", n.ID))
		}
		events = append(events, fmt.Sprintf("Cache node %s restarted", n.ID))
	}
	if rec.AccessChanged {
		if err := r.reconfigure(ctx, sc, rec, false); err != nil {
			return err
		}
	}
	return r.commit(ctx, sc, rec.ID, rec.Generation, func(tx storage.Tx, cur *cacheClusterRecord) ([]string, error) {
		for i := range cur.Nodes {
			n := &cur.Nodes[i]
			if slices.Contains(ids, n.ID) {
				n.Status, n.ParamStatus = nodeAvailable, paramsInSync
			}
		}
		cur.NodesToReboot = slices.DeleteFunc(cur.NodesToReboot, func(id string) bool { return slices.Contains(ids, id) })
		if len(cur.NodesToReboot) == 0 {
			cur.NodesToReboot, cur.ParamStatus = nil, paramsInSync
		}
		cur.Status = clusterAvailable
		return events, nil
	})
}

// modifyPlan is what a modification changes in the nodes, decided from
// the record when the nodes are placed.
type modifyPlan struct {
	from, to int
	// removed and added are node IDs.
	removed, added []string
}

// planNodes makes the cluster's nodes NumNodes where the request path
// has not already (it marks removed nodes deleting and adds new ones
// creating itself): the highest IDs are marked deleting while too many
// remain, and nodes are appended (IDs continuing after the highest, AZs
// from NewAZs, else the cluster's, else the first node's) while too few
// do. Run again on a record it has already changed, it changes nothing.
func planNodes(rec *cacheClusterRecord, region string) modifyPlan {
	p := modifyPlan{to: rec.NumNodes}
	live, maxID := 0, 0
	for i := range rec.Nodes {
		n := &rec.Nodes[i]
		if n.Status != nodeDeleting {
			live++
		}
		if !n.Created.IsZero() {
			p.from++
		}
		if id, err := strconv.Atoi(n.ID); err == nil {
			maxID = max(maxID, id)
		}
	}
	for i := len(rec.Nodes) - 1; i >= 0 && live > p.to; i-- {
		if rec.Nodes[i].Status != nodeDeleting {
			rec.Nodes[i].Status = nodeDeleting
			live--
		}
	}
	for ; live < p.to; live++ {
		maxID++
		az := rec.PreferredAZ
		if len(rec.NewAZs) > 0 {
			az, rec.NewAZs = rec.NewAZs[0], rec.NewAZs[1:]
		}
		if az == "Multiple" || az == "" {
			az = region + "a"
			if len(rec.Nodes) > 0 {
				az = rec.Nodes[0].AZ
			}
		}
		rec.Nodes = append(rec.Nodes, cacheNodeRecord{ID: fmt.Sprintf("%04d", maxID), Status: nodeCreating, AZ: az, ParamStatus: paramsInSync})
	}
	for _, n := range rec.Nodes {
		switch {
		case n.Status == nodeDeleting:
			p.removed = append(p.removed, n.ID)
		case n.Created.IsZero():
			p.added = append(p.added, n.ID)
		}
	}
	return p
}

// restartNeeded reports whether the engines run another node type or
// engine version than the record asks (a record the reconciler never
// started says nothing: its engines are started as asked).
func restartNeeded(rec *cacheClusterRecord) bool {
	return rec.RunningNodeType != "" && rec.RunningNodeType != rec.NodeType ||
		rec.RunningEngineVersion != "" && rec.RunningEngineVersion != rec.EngineVersion
}

// modify makes the engines match a modified cluster: nodes removed and
// added, the node type or engine version changed (every node restarted
// with the new spec), parameter changes applied (dynamic ones at once,
// static ones pending a reboot, as AWS does).
func (r *Reconciler) modify(ctx context.Context, sc scope, rec *cacheClusterRecord) error {
	var plan modifyPlan
	rec, err := r.place(ctx, sc, rec.ID, rec.Generation, func(cur *cacheClusterRecord) { plan = planNodes(cur, sc.Region) })
	if err != nil {
		return err
	}
	var gone, kept, added []cacheNodeRecord
	for _, n := range rec.Nodes {
		switch {
		case n.Status == nodeDeleting:
			gone = append(gone, n)
		case slices.Contains(plan.added, n.ID):
			added = append(added, n)
		default:
			kept = append(kept, n)
		}
	}
	if err := r.removeEngines(ctx, sc, rec, gone); err != nil {
		return err
	}
	// After a restart of the server, the nodes that stay are adopted
	// before anything is asked of them.
	if err := r.ensureNodes(ctx, sc, rec, kept, rec.AppliedParams); err != nil {
		return err
	}
	// The spec after the change: the request path wrote the new node
	// type, version and family into the record.
	next := *rec
	next.Family = familyOf(rec.Engine, rec.EngineVersion, rec.Family)
	values, err := r.groupValues(ctx, sc, &next)
	if err != nil {
		return err
	}
	if err := r.ensureNodes(ctx, sc, &next, added, values); err != nil {
		return err
	}
	restart := restartNeeded(rec)
	var events []string
	changed := changedParams(effectiveParams(rec.Family, rec.AppliedParams), effectiveParams(next.Family, values))
	var static []string
	if restart {
		if r.e != nil {
			for i := range kept {
				spec, err := r.nodeSpec(ctx, sc, &next, &kept[i], values)
				if err != nil {
					return err
				}
				if err := r.engineCall(ctx, func(ctx context.Context) error { return r.e.Restart(ctx, spec) }); err != nil {
					return fmt.Errorf("restart node %s: %w", spec.Key, err)
				}
				r.running[spec.Key] = true
				r.applied[spec.Key] = specFingerprint(spec)
			}
		}
	} else if len(changed) > 0 {
		if static, err = r.applyParams(ctx, sc, &next, kept, values, changed); err != nil {
			return err
		}
	}
	events = append(events, paramEvents(changed)...)
	if rec.AccessChanged && !restart {
		// An AUTH token, a user or the primary changed: the running
		// engines take it without a restart.
		if err := r.reconfigure(ctx, sc, &next, false); err != nil {
			return err
		}
	}
	return r.commit(ctx, sc, rec.ID, rec.Generation, func(tx storage.Tx, cur *cacheClusterRecord) ([]string, error) {
		now := r.s.clock.Now()
		var out []string
		var removed []cacheNodeRecord
		nodes := cur.Nodes[:0:0]
		for _, n := range cur.Nodes {
			if n.Status == nodeDeleting {
				removed = append(removed, n)
				continue
			}
			if n.Created.IsZero() {
				n.Created = now
				out = append(out, fmt.Sprintf("Added cache node %s in availability zone %s", n.ID, n.AZ))
			}
			n.Status = nodeAvailable
			nodes = append(nodes, n)
		}
		if err := releaseNodeAddresses(tx, sc, cur.ID, removed); err != nil {
			return nil, err
		}
		cur.Nodes = nodes
		if len(plan.added) > 0 {
			out = append(out, fmt.Sprintf("Finished modifying number of nodes from %d to %d", plan.from, len(nodes)))
		}
		if len(removed) > 0 {
			ids := make([]string, len(removed))
			for i, n := range removed {
				ids[i] = n.ID
			}
			out = append(out, "Removed cache nodes "+strings.Join(ids, ", "))
		}
		if cur.RunningNodeType != "" && cur.RunningNodeType != next.NodeType {
			out = append(out, fmt.Sprintf("Succeeded applying modification to cache node type to %s.", next.NodeType))
		}
		if cur.RunningEngineVersion != "" && cur.RunningEngineVersion != next.EngineVersion {
			out = append(out, "Cache cluster patched")
		}
		cur.RunningNodeType, cur.RunningEngineVersion, cur.Family = next.NodeType, next.EngineVersion, next.Family
		// The Pending fields are the request path's: changes that wait
		// for a later Modify with ApplyImmediately.
		cur.NumNodes = len(nodes)
		cur.NewAZs = nil
		cur.AppliedParams = values
		out = append(out, events...)
		switch {
		case restart:
			cur.ParamStatus, cur.NodesToReboot = paramsInSync, nil
			setNodeParamStatus(cur, paramsInSync)
		case len(static) > 0 || cur.ParamStatus == paramsPendingReboot:
			cur.ParamStatus, cur.NodesToReboot = paramsPendingReboot, nodeIDs(cur)
			setNodeParamStatus(cur, paramsPendingReboot)
		default:
			cur.ParamStatus, cur.NodesToReboot = paramsInSync, nil
			setNodeParamStatus(cur, paramsInSync)
		}
		cur.Status = clusterAvailable
		return out, nil
	})
}

// applyParams sends the changed parameters that AWS applies at once to
// the running nodes, and returns the names that wait for a reboot: those
// AWS marks requires-reboot, and those the engine could not take live.
func (r *Reconciler) applyParams(ctx context.Context, sc scope, rec *cacheClusterRecord, nodes []cacheNodeRecord,
	values, changed map[string]string) ([]string, error) {
	live := map[string]string{}
	var static []string
	for name, v := range changed {
		if needsReboot(rec.Family, name) {
			static = append(static, name)
		} else {
			live[name] = v
		}
	}
	if r.e == nil || len(live) == 0 {
		return static, nil
	}
	for i := range nodes {
		spec, err := r.nodeSpec(ctx, sc, rec, &nodes[i], values)
		if err != nil {
			return nil, err
		}
		var need []string
		err = r.engineCall(ctx, func(ctx context.Context) error {
			var err error
			need, err = r.e.Apply(ctx, spec, live)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("apply parameters to node %s: %w", spec.Key, err)
		}
		for _, name := range need {
			if !slices.Contains(static, name) {
				static = append(static, name)
			}
		}
	}
	return static, nil
}

// paramEvents are AWS's events of parameter changes, in name order.
func paramEvents(changed map[string]string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(changed)) {
		out = append(out, fmt.Sprintf("Updated parameter %s to %s", name, changed[name]))
	}
	return out
}

func setNodeParamStatus(rec *cacheClusterRecord, status string) {
	for i := range rec.Nodes {
		rec.Nodes[i].ParamStatus = status
	}
}

func nodeIDs(rec *cacheClusterRecord) []string {
	ids := make([]string, len(rec.Nodes))
	for i, n := range rec.Nodes {
		ids[i] = n.ID
	}
	return ids
}
