package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/catalogue"
	"github.com/elasticache-server/elasticache-server/storage"
)

// ModifyCacheCluster: what AWS applies at once (windows, snapshot
// settings, notification, security groups, log delivery, IP discovery,
// minor-version upgrades) changes the record and nothing else, and the
// cluster stays available (botocore's example: a SnapshotRetentionLimit
// change answers `available`). What the engines must follow (the number
// of nodes, node type, engine version, parameter group, AUTH token) makes
// the cluster `modifying` and marks work; node count, node type and
// engine version wait in the Pending fields, shown as
// PendingModifiedValues, unless ApplyImmediately is true: with no
// maintenance windows run here, they are applied by the next
// ModifyCacheCluster with ApplyImmediately (AWS: it applies "the
// modifications in this request and any pending modifications").

// AUTH token update strategies (the model's AuthTokenUpdateStrategyType).
const (
	authRotate = "ROTATE"
	authSet    = "SET"
	authDelete = "DELETE"
)

// ModifyCacheCluster changes an available cluster.
func (s *ElastiCache) ModifyCacheCluster(ctx context.Context, in *api.ModifyCacheClusterInput) (*api.ModifyCacheClusterOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	if in.ScaleConfig != nil {
		return nil, api.InvalidParameterValue("ScaleConfig is not supported: change CacheNodeType or NumCacheNodes instead.")
	}
	maint, snap, retention, err := windowParams(sc, in.PreferredMaintenanceWindow, in.SnapshotWindow, in.SnapshotRetentionLimit, in.NotificationTopicArn)
	if err != nil {
		return nil, err
	}
	if in.NotificationTopicStatus != nil && *in.NotificationTopicStatus != topicActive && *in.NotificationTopicStatus != topicInactive {
		return nil, invalid("NotificationTopicStatus", "must be active or inactive.")
	}
	sgIDs, err := securityGroupIDs(in.SecurityGroupIds)
	if err != nil {
		return nil, err
	}
	cacheSGs, err := cacheSecurityGroupNames(in.CacheSecurityGroupNames)
	if err != nil {
		return nil, err
	}
	if len(cacheSGs) > 0 {
		if len(sgIDs) > 0 {
			return nil, cacheSGsWithVPC()
		}
		if err := s.classic(sc); err != nil {
			return nil, err
		}
	}
	var paramGroup string
	if in.CacheParameterGroupName != nil {
		if paramGroup, err = describedParameterGroupName(in.CacheParameterGroupName); err != nil {
			return nil, err
		}
	}
	var tokenHash string
	if in.AuthToken != nil {
		if tokenHash, err = authToken(*in.AuthToken); err != nil {
			return nil, err
		}
	}
	strategy := ""
	if in.AuthTokenUpdateStrategy != nil {
		strategy = *in.AuthTokenUpdateStrategy
		switch strategy {
		case authRotate, authSet:
			if in.AuthToken == nil {
				return nil, api.InvalidParameterValue(fmt.Sprintf("AuthToken must be specified with AuthTokenUpdateStrategy %s.", strategy))
			}
		case authDelete:
			return nil, api.InvalidParameterCombination("AuthTokenUpdateStrategy DELETE is allowed only when moving to role-based access control, which a cache cluster does not have.")
		default:
			return nil, invalid("AuthTokenUpdateStrategy", "must be ROTATE, SET or DELETE.")
		}
	} else if in.AuthToken != nil {
		strategy = authRotate
	}
	apply := in.ApplyImmediately != nil && *in.ApplyImmediately
	perCluster, perRegion := s.cfg.nodeQuotas(sc.Account)
	now := s.clock.Now()
	rec, err := s.changeCluster(ctx, in.CacheClusterId, func(tx storage.Tx, sc scope, rec *cacheClusterRecord) (bool, error, error) {
		if rec.Status != clusterAvailable {
			return false, clusterStateFault(fmt.Sprintf("Cache cluster %s is not in available state; it is %s.", rec.ID, rec.Status)), nil
		}
		if rec.ReplicationGroupID != "" {
			return false, clusterStateFault(fmt.Sprintf("Cache cluster %s is a member of replication group %s; modify the replication group instead.", rec.ID, rec.ReplicationGroupID)), nil
		}
		m := clusterModify{in: in, rec: rec, apply: apply, perCluster: perCluster, perRegion: perRegion}
		if fault := m.engine(); fault != nil {
			return false, fault, nil
		}
		if fault, err := m.nodes(tx, sc); fault != nil || err != nil {
			return false, fault, err
		}
		if fault, err := m.parameterGroup(tx, sc, paramGroup); fault != nil || err != nil {
			return false, fault, err
		}
		if in.PreferredMaintenanceWindow != nil {
			rec.MaintenanceWindow = maint
		}
		if (in.SnapshotWindow != nil || in.SnapshotRetentionLimit != nil) && rec.Engine == engineMemcached {
			return false, api.InvalidParameterCombination("Snapshots are not supported for Memcached clusters: SnapshotWindow and SnapshotRetentionLimit apply to redis only."), nil
		}
		if in.SnapshotWindow != nil {
			rec.SnapshotWindow = snap
		}
		if in.SnapshotRetentionLimit != nil {
			rec.SnapshotRetention = retention
		}
		if in.AutoMinorVersionUpgrade != nil {
			rec.AutoMinorVersionUpgrade = *in.AutoMinorVersionUpgrade
		}
		if in.NotificationTopicArn != nil {
			rec.NotificationTopicARN, rec.NotificationTopicStatus = *in.NotificationTopicArn, topicActive
		}
		if in.NotificationTopicStatus != nil {
			if rec.NotificationTopicARN == "" {
				return false, api.InvalidParameterCombination("NotificationTopicStatus needs a notification topic: specify NotificationTopicArn."), nil
			}
			rec.NotificationTopicStatus = *in.NotificationTopicStatus
		}
		if in.SecurityGroupIds != nil {
			if rec.SubnetGroup == "" {
				return false, cacheSGsWithVPC(), nil
			}
			rec.SecurityGroupIDs = sgIDs
		}
		if len(cacheSGs) > 0 {
			if rec.SubnetGroup != "" {
				return false, cacheSGsWithVPC(), nil
			}
			for _, name := range cacheSGs {
				ok, err := securityGroups.Exists(tx, sc, name)
				if err != nil || !ok {
					return false, groupNotFound(name), err
				}
			}
			rec.CacheSecurityGroups = cacheSGs
		}
		if in.LogDeliveryConfigurations != nil {
			if rec.Engine == engineMemcached && len(in.LogDeliveryConfigurations) > 0 {
				return false, api.InvalidParameterCombination("Log delivery is not supported for Memcached clusters."), nil
			}
			logs, err := applyLogDelivery(rec.LogDelivery, in.LogDeliveryConfigurations)
			if err != nil {
				return false, err, nil
			}
			rec.LogDelivery = logs
		}
		if in.IpDiscovery != nil {
			nt, ipd, err := networkParams(&rec.NetworkType, in.IpDiscovery)
			if err != nil {
				return false, err, nil
			}
			rec.NetworkType, rec.IPDiscovery = nt, ipd
		}
		if strategy != "" {
			if !rec.TransitEncryption {
				return false, api.InvalidParameterCombination("AuthToken can be specified only when TransitEncryptionEnabled is true."), nil
			}
			switch {
			case strategy == authSet && len(rec.AuthTokenHashes) == 0:
				return false, api.InvalidParameterCombination("AuthTokenUpdateStrategy SET is allowed only after ROTATE."), nil
			case strategy == authSet:
				rec.AuthTokenHashes = []string{tokenHash}
			default:
				keep := rec.AuthTokenHashes
				if len(keep) > 0 {
					keep = keep[len(keep)-1:]
				}
				rec.AuthTokenHashes = append(slices.Clone(keep), tokenHash)
			}
			rec.AuthTokenModified = &now
			rec.AccessChanged = true
			m.work = true
		}
		if m.work {
			rec.Status = clusterModifying
		}
		return m.work, nil, nil
	})
	if err != nil {
		return nil, err
	}
	c := renderCacheCluster(sc, rec, false)
	return &api.ModifyCacheClusterOutput{CacheCluster: &c}, nil
}

// clusterModify is one ModifyCacheCluster's change of the engine-facing
// settings of rec; work says whether the fleet has something to do.
type clusterModify struct {
	in                    *api.ModifyCacheClusterInput
	rec                   *cacheClusterRecord
	apply                 bool
	perCluster, perRegion int
	work                  bool
	// newFamily is the family of an engine version applied now, "" when
	// none changes it.
	newFamily string
}

// engine applies Engine, EngineVersion and CacheNodeType: the engine
// stays, a version only goes up, a node type is the engine's; each is
// applied now (with ApplyImmediately) or kept pending, and
// ApplyImmediately also applies what was pending.
func (m *clusterModify) engine() error {
	in, rec := m.in, m.rec
	if in.Engine != nil && strings.ToLower(*in.Engine) != rec.Engine {
		return api.InvalidParameterCombination(fmt.Sprintf("Cannot change the engine of cache cluster %s from %s to %s.", rec.ID, rec.Engine, strings.ToLower(*in.Engine)))
	}
	version := rec.PendingEngineVersion
	if in.EngineVersion != nil {
		v, err := clusterVersion(rec.Engine, in.EngineVersion)
		if err != nil {
			return err
		}
		if catalogue.CompareVersions(v.EngineVersion, rec.EngineVersion) < 0 {
			return api.InvalidParameterCombination(fmt.Sprintf("Cannot downgrade cache cluster %s from engine version %s to %s.", rec.ID, rec.EngineVersion, v.EngineVersion))
		}
		version = v.EngineVersion
		if version == rec.EngineVersion {
			version = ""
		}
	}
	nodeType := rec.PendingNodeType
	if in.CacheNodeType != nil {
		nt, err := clusterNodeType("CacheNodeType", in.CacheNodeType, rec.Engine)
		if err != nil {
			return err
		}
		if rec.Engine == engineMemcached && nt != rec.NodeType {
			return api.InvalidParameterCombination("The node type of a Memcached cluster cannot be changed; create a new cluster.")
		}
		nodeType = nt
		if nodeType == rec.NodeType {
			nodeType = ""
		}
	}
	if !m.apply {
		rec.PendingEngineVersion, rec.PendingNodeType = version, nodeType
		return nil
	}
	rec.PendingEngineVersion, rec.PendingNodeType = "", ""
	if version != "" {
		for _, v := range catalogue.Versions(rec.Engine) {
			if v.EngineVersion == version && v.CacheParameterGroupFamily != rec.Family {
				m.newFamily = v.CacheParameterGroupFamily
			}
		}
		rec.EngineVersion = version
		m.work = true
	}
	if nodeType != "" {
		rec.NodeType = nodeType
		m.work = true
	}
	return nil
}

// parameterGroup applies CacheParameterGroupName, and moves a cluster on
// a default group to the new family's default when an upgrade changes the
// family. A group of another family is refused (AWS's message); so is an
// upgrade to a new family that keeps a group of the old one.
func (m *clusterModify) parameterGroup(tx storage.Tx, sc scope, name string) (fault, err error) {
	rec := m.rec
	family := rec.Family
	if m.newFamily != "" {
		family = m.newFamily
	}
	if name == "" && m.newFamily != "" {
		if !isDefaultParameterGroup(rec.ParameterGroup) {
			return api.InvalidParameterCombination(fmt.Sprintf("Engine version %s needs a parameter group of family %s; cache cluster %s uses %s. Specify CacheParameterGroupName.", rec.EngineVersion, family, rec.ID, rec.ParameterGroup)), nil
		}
		name = "default." + family
	}
	if name == "" || (name == rec.ParameterGroup && m.newFamily == "") {
		return nil, nil
	}
	rec.Family = family
	if fault, err := clusterParameterGroup(tx, sc, rec, name); fault != nil || err != nil {
		return fault, err
	}
	rec.ParamStatus = paramsApplying
	for i := range rec.Nodes {
		rec.Nodes[i].ParamStatus = paramsApplying
	}
	m.work = true
	return nil, nil
}

// nodes applies NumCacheNodes, CacheNodeIdsToRemove, NewAvailabilityZones
// and AZMode. The count is checked against the nodes the cluster has (a
// pending change is replaced, as the model documents); an equal count
// cancels a pending change.
func (m *clusterModify) nodes(tx storage.Tx, sc scope) (fault, err error) {
	in, rec := m.in, m.rec
	if in.AZMode != nil {
		if rec.Engine != engineMemcached {
			return api.InvalidParameterCombination("AZMode is only supported for Memcached clusters."), nil
		}
		switch *in.AZMode {
		case azModeCross:
		case azModeSingle:
			if rec.PreferredAZ == azMultiple {
				return api.InvalidParameterCombination("The single-az AZMode cannot be set on a cluster whose nodes are in several availability zones."), nil
			}
		default:
			return invalid("AZMode", "must be single-az or cross-az."), nil
		}
		rec.AZMode = *in.AZMode
	}
	if in.NumCacheNodes == nil {
		if len(in.CacheNodeIdsToRemove) > 0 || len(in.NewAvailabilityZones) > 0 {
			return api.InvalidParameterCombination("CacheNodeIdsToRemove and NewAvailabilityZones need NumCacheNodes."), nil
		}
		if m.apply && rec.PendingNumNodes > 0 {
			return m.applyCount(tx, sc, rec.PendingNumNodes, rec.PendingNodesToRemove, rec.NewAZs)
		}
		return nil, nil
	}
	n := int(*in.NumCacheNodes)
	if n < 1 {
		return invalid("NumCacheNodes", "must be at least 1."), nil
	}
	if rec.Engine == engineRedis && n != 1 {
		return api.InvalidParameterValue("Cannot modify a Redis cluster to have a NumCacheNodes parameter other than 1."), nil
	}
	if n > m.perCluster {
		return nodesPerClusterExceeded(m.perCluster), nil
	}
	current := len(rec.Nodes)
	switch {
	case n > current:
		if len(in.CacheNodeIdsToRemove) > 0 {
			return api.InvalidParameterCombination("CacheNodeIdsToRemove is valid only when NumCacheNodes is less than the number of cache nodes."), nil
		}
		if len(in.NewAvailabilityZones) > 0 && len(in.NewAvailabilityZones) != n-current {
			return api.InvalidParameterCombination(fmt.Sprintf("The number of NewAvailabilityZones (%d) must equal the number of cache nodes being added (%d).", len(in.NewAvailabilityZones), n-current)), nil
		}
		zones, _, err := clusterZones(tx, sc, rec.SubnetGroup)
		if err != nil {
			return nil, err
		}
		for _, az := range in.NewAvailabilityZones {
			if !slices.Contains(zones, az) {
				return &api.InvalidVPCNetworkStateFault{Message: fmt.Sprintf("Availability zone %s is not available to cache cluster %s.", az, rec.ID)}, nil
			}
		}
		nodes, err := regionNodes(tx, sc)
		if err != nil {
			return nil, err
		}
		if nodes-max(len(rec.Nodes), rec.NumNodes, rec.PendingNumNodes)+n > m.perRegion {
			return nodesPerCustomerExceeded(m.perRegion), nil
		}
	case n < current:
		if len(in.NewAvailabilityZones) > 0 {
			return api.InvalidParameterCombination("NewAvailabilityZones is valid only when NumCacheNodes is greater than the number of cache nodes."), nil
		}
		if len(in.CacheNodeIdsToRemove) != current-n {
			return api.InvalidParameterValue(fmt.Sprintf("The number of CacheNodeIdsToRemove (%d) must equal the number of cache nodes being removed (%d).", len(in.CacheNodeIdsToRemove), current-n)), nil
		}
		for i, id := range in.CacheNodeIdsToRemove {
			if !slices.ContainsFunc(rec.Nodes, func(nd cacheNodeRecord) bool { return nd.ID == id }) {
				return invalid("CacheNodeIdsToRemove", fmt.Sprintf("cache node %s does not exist in cluster %s.", id, rec.ID)), nil
			}
			if slices.Contains(in.CacheNodeIdsToRemove[:i], id) {
				return invalid("CacheNodeIdsToRemove", fmt.Sprintf("cache node %s is listed twice.", id)), nil
			}
		}
	default:
		if len(in.CacheNodeIdsToRemove) > 0 || len(in.NewAvailabilityZones) > 0 {
			return api.InvalidParameterCombination("NumCacheNodes equals the number of cache nodes: there is nothing to add or remove."), nil
		}
		rec.PendingNumNodes, rec.PendingNodesToRemove, rec.NewAZs = 0, nil, nil
		return nil, nil
	}
	if !m.apply {
		rec.PendingNumNodes, rec.PendingNodesToRemove, rec.NewAZs = n, slices.Clone(in.CacheNodeIdsToRemove), slices.Clone(in.NewAvailabilityZones)
		return nil, nil
	}
	return m.applyCount(tx, sc, n, in.CacheNodeIdsToRemove, in.NewAvailabilityZones)
}

// applyCount makes the cluster's nodes n now: new nodes creating in their
// AZs, removed ones deleting; the reconciler makes them so.
func (m *clusterModify) applyCount(tx storage.Tx, sc scope, n int, remove, newAZs []string) (fault, err error) {
	rec := m.rec
	rec.PendingNumNodes, rec.PendingNodesToRemove, rec.NewAZs = 0, nil, nil
	current := len(rec.Nodes)
	if n == current {
		return nil, nil
	}
	if n < current {
		for i := range rec.Nodes {
			if slices.Contains(remove, rec.Nodes[i].ID) {
				rec.Nodes[i].Status = nodeDeleting
			}
		}
	} else {
		zones, _, err := clusterZones(tx, sc, rec.SubnetGroup)
		if err != nil {
			return nil, err
		}
		first := rec.Nodes[0].AZ
		h := idHash(sc, rec.ID) + uint64(current)
		azs := placeNodes(n-current, newAZs, zones, rec.AZMode, h, first)
		last := 0
		for _, nd := range rec.Nodes {
			var k int
			if _, err := fmt.Sscanf(nd.ID, "%d", &k); err == nil && k > last {
				last = k
			}
		}
		for i, az := range azs {
			rec.Nodes = append(rec.Nodes, cacheNodeRecord{ID: nodeID(last + 1 + i), Status: nodeCreating, AZ: az, ParamStatus: paramsInSync})
		}
		all := make([]string, 0, len(rec.Nodes))
		for _, nd := range rec.Nodes {
			all = append(all, nd.AZ)
		}
		rec.PreferredAZ = preferredAZ(rec.AZMode, all)
	}
	rec.NumNodes = n
	m.work = true
	return nil, nil
}
