package service

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/elasticache-server/elasticache-server/catalogue"
	"github.com/elasticache-server/elasticache-server/engine"
	"github.com/elasticache-server/elasticache-server/storage"
)

// What an engine runs with. A cluster's parameters are its family's
// engine defaults with its parameter group's values over them: the values
// DescribeCacheParameters shows for the group. The record keeps only the
// group's own values as they were applied (AppliedParams): the defaults
// are the catalogue's, the same for every cluster of a family, and the
// record stays small.

// groupValues reads the values set on the cluster's parameter group (nil
// for a default group, or for a group that no longer exists: the family's
// defaults are then all there is).
func (r *Reconciler) groupValues(ctx context.Context, sc scope, rec *cacheClusterRecord) (map[string]string, error) {
	var values map[string]string
	err := r.s.store.View(ctx, func(tx storage.Tx) error {
		g, err := parameterGroups.Get(tx, sc, rec.ParameterGroup)
		if err != nil || g == nil {
			return err
		}
		values = maps.Clone(g.Values)
		return nil
	})
	return values, err
}

// effectiveParams is every parameter of family with values over the
// engine defaults.
func effectiveParams(family string, values map[string]string) map[string]string {
	defaults, _ := catalogue.Parameters(family)
	out := make(map[string]string, len(defaults)+len(values))
	for _, p := range defaults {
		out[p.ParameterName] = p.ParameterValue
	}
	maps.Copy(out, values)
	return out
}

// changedParams is what changes from the parameters before to those
// after: name → new value, in name order when listed.
func changedParams(before, after map[string]string) map[string]string {
	out := map[string]string{}
	for name, v := range after {
		if old, ok := before[name]; !ok || old != v {
			out[name] = v
		}
	}
	return out
}

// needsReboot reports whether a change of the parameter waits for a
// reboot on AWS (ChangeType requires-reboot): such a change is not sent
// to a running engine, as AWS does not apply it before the reboot either.
func needsReboot(family, name string) bool {
	p, ok := catalogue.Parameter(family, name)
	return ok && p.ChangeType == catalogue.ChangeRequiresReboot
}

// maxMemory is the engine's memory limit for a node type: for Redis OSS
// and Valkey, the node type's maxmemory less what reserved-memory-percent
// (or, when that is 0 or absent, reserved-memory in bytes) keeps for
// everything but data, as ElastiCache reserves it; for memcached, the
// node type's max_cache_memory. 0 (the engine's own default) for a node
// type the catalogue does not know.
func maxMemory(eng, nodeType string, params map[string]string) int64 {
	nt, ok := catalogue.NodeType(nodeType)
	if !ok {
		return 0
	}
	if eng == "memcached" {
		if nt.MemcachedMaxCacheMemoryMB > 0 {
			return nt.MemcachedMaxCacheMemoryMB << 20
		}
		return nt.MaxMemory
	}
	m := nt.MaxMemory
	if pct, err := strconv.ParseFloat(params["reserved-memory-percent"], 64); err == nil && pct > 0 && pct < 100 {
		return m - int64(float64(m)*pct/100)
	}
	if b, err := strconv.ParseInt(params["reserved-memory"], 10, 64); err == nil && b > 0 && b < m {
		return m - b
	}
	return m
}

// nodeSpec is what one node of the cluster should run, with the group
// values given, and the access the records give it now (accessOf):
// errWaitPrimary for a replica whose primary has no address yet.
func (r *Reconciler) nodeSpec(ctx context.Context, sc scope, rec *cacheClusterRecord, n *cacheNodeRecord, values map[string]string) (engine.Spec, error) {
	a, err := r.access(ctx, sc, rec)
	if err != nil {
		return engine.Spec{}, err
	}
	return r.specWith(sc, rec, n, values, a), nil
}

// specWith is nodeSpec with the access given.
//
// The engine binds the node's address, or BindAddress when the server has
// one: the node's address is then what clients are told (the advertised
// host) and the engine listens on the bind address.
func (r *Reconciler) specWith(sc scope, rec *cacheClusterRecord, n *cacheNodeRecord, values map[string]string, a nodeAccess) engine.Spec {
	params := effectiveParams(rec.Family, values)
	addr := n.Address
	if r.cfg.BindAddress != "" {
		addr = r.cfg.BindAddress
	}
	return engine.Spec{
		Key:       nodeKey(sc, rec.ID, n.ID),
		Engine:    rec.Engine,
		Address:   addr,
		Port:      n.Port,
		MaxMemory: maxMemory(rec.Engine, rec.NodeType, params),
		Params:    params,
		ReplicaOf: a.replicaOf,
		Users:     a.users,
		// The group's, so that replicas and primary agree on the
		// replication credentials whichever servers run them.
		ReplicationSecret: a.replSecret,
	}
}

// familyOf is the parameter group family of an engine version, or
// fallback when the catalogue does not list the version.
func familyOf(eng, version, fallback string) string {
	i := slices.IndexFunc(catalogue.Versions(eng), func(v catalogue.EngineVersion) bool { return v.EngineVersion == version })
	if i < 0 {
		return fallback
	}
	return catalogue.Versions(eng)[i].CacheParameterGroupFamily
}
