package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// Changes of a replication group: Modify, Delete, IncreaseReplicaCount,
// DecreaseReplicaCount, and CreateCacheCluster of a new replica. Each
// runs in one transaction that writes the group and every member it
// changes, marking the members the engines must follow.

// rgChange is one change of a group: the group and its members as read
// in the transaction; put writes a member back, marking it for the
// reconciler when work.
type rgChange struct {
	tx      storage.Tx
	sc      scope
	g       *replicationGroupRecord
	members []*cacheClusterRecord
	marked  bool
}

func (c *rgChange) put(m *cacheClusterRecord, work bool) error {
	if work {
		m.Generation++
		if err := markWork(c.tx, c.sc, m.ID, m.Generation); err != nil {
			return err
		}
		c.marked = true
	}
	return cacheClusters.Put(c.tx, c.sc, m)
}

// changeRG reads the group (NotFound when there is none) and its members,
// lets change decide (a fault, or what to write), and stores the group.
// It returns the group and its members as written.
func (s *ElastiCache) changeRG(ctx context.Context, idP *string, change func(c *rgChange) (fault, err error)) (*rgChange, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := replicationGroupID(paramRGID, idP)
	if err != nil {
		return nil, err
	}
	var c *rgChange
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		g, err := replicationGroups.Get(tx, sc, id)
		if err != nil || g == nil {
			return replicationGroupNotFound(id), err
		}
		all, err := rgMembers(tx, sc)
		if err != nil {
			return nil, err
		}
		c = &rgChange{tx: tx, sc: sc, g: g, members: all[id]}
		if fault, err := change(c); fault != nil || err != nil {
			return fault, err
		}
		if c.g == nil {
			return nil, nil
		}
		return nil, replicationGroups.Put(tx, sc, g)
	})
	if err != nil {
		return nil, err
	}
	if c.marked {
		s.workMarked()
	}
	return c, nil
}

// needAvailable refuses a change of a group that is not available.
func needAvailable(g *replicationGroupRecord, members []*cacheClusterRecord) error {
	if st := replicationGroupStatus(g, members); st != rgAvailable {
		return rgStateFault(fmt.Sprintf("Replication group %s is not in available state; it is %s.", g.ID, st))
	}
	return nil
}

// ModifyReplicationGroup changes an available group and, for what the
// engines run with, its members: parameter group, node type and engine
// version (applied as ModifyCacheCluster applies them), the primary, the
// AUTH token and the user groups (the engines reconfigured). Settings
// that are data apply at once.
func (s *ElastiCache) ModifyReplicationGroup(ctx context.Context, in *api.ModifyReplicationGroupInput) (*api.ModifyReplicationGroupOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	if in.ClusterMode != nil && strings.ToLower(*in.ClusterMode) != "disabled" {
		return nil, clusterModeRefused("ClusterMode " + *in.ClusterMode)
	}
	var desc string
	if in.ReplicationGroupDescription != nil {
		if desc, err = descriptionParam("ReplicationGroupDescription", in.ReplicationGroupDescription); err != nil {
			return nil, err
		}
	}
	maint, snap, retention, err := windowParams(sc, in.PreferredMaintenanceWindow, in.SnapshotWindow, in.SnapshotRetentionLimit, in.NotificationTopicArn)
	if err != nil {
		return nil, err
	}
	sgIDs, err := securityGroupIDs(in.SecurityGroupIds)
	if err != nil {
		return nil, err
	}
	var paramGroup string
	if in.CacheParameterGroupName != nil {
		if paramGroup, err = describedParameterGroupName(in.CacheParameterGroupName); err != nil {
			return nil, err
		}
		if strings.HasSuffix(paramGroup, ".cluster.on") {
			return nil, clusterModeRefused("Parameter group " + paramGroup + " enables cluster mode")
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
			if in.AuthToken != nil {
				return nil, api.InvalidParameterCombination("AuthToken cannot be specified with AuthTokenUpdateStrategy DELETE.")
			}
		default:
			return nil, invalid("AuthTokenUpdateStrategy", "must be ROTATE, SET or DELETE.")
		}
	} else if in.AuthToken != nil {
		strategy = authRotate
	}
	add, err := userIDList("UserGroupIdsToAdd", in.UserGroupIdsToAdd)
	if err != nil {
		return nil, err
	}
	remove, err := userIDList("UserGroupIdsToRemove", in.UserGroupIdsToRemove)
	if err != nil {
		return nil, err
	}
	removeAll := in.RemoveUserGroups != nil && *in.RemoveUserGroups
	if removeAll && len(add) > 0 {
		return nil, api.InvalidParameterCombination("RemoveUserGroups cannot be specified with UserGroupIdsToAdd.")
	}
	if len(add) > 0 && (strategy == authRotate || strategy == authSet) {
		return nil, api.InvalidParameterCombination("AuthToken and UserGroupIdsToAdd cannot be specified together.")
	}
	for _, u := range add {
		if slices.Contains(remove, u) {
			return nil, api.InvalidParameterCombination(fmt.Sprintf("User group %s cannot be both added and removed.", u))
		}
	}
	var primary string
	if in.PrimaryClusterId != nil {
		if primary, err = cacheClusterID("PrimaryClusterId", in.PrimaryClusterId); err != nil {
			return nil, err
		}
	}
	if in.NotificationTopicStatus != nil && *in.NotificationTopicStatus != topicActive && *in.NotificationTopicStatus != topicInactive {
		return nil, invalid("NotificationTopicStatus", "must be active or inactive.")
	}
	if in.TransitEncryptionMode != nil && *in.TransitEncryptionMode != "preferred" && *in.TransitEncryptionMode != "required" {
		return nil, invalid("TransitEncryptionMode", "must be preferred or required.")
	}
	if in.ReplicationGroupDescription == nil && in.PreferredMaintenanceWindow == nil && in.SnapshotWindow == nil &&
		in.SnapshotRetentionLimit == nil && in.NotificationTopicArn == nil && in.NotificationTopicStatus == nil &&
		in.SecurityGroupIds == nil && len(in.CacheSecurityGroupNames) == 0 && in.CacheParameterGroupName == nil &&
		strategy == "" && len(add) == 0 && len(remove) == 0 && !removeAll && in.PrimaryClusterId == nil &&
		in.AutomaticFailoverEnabled == nil && in.MultiAZEnabled == nil && in.CacheNodeType == nil && in.EngineVersion == nil &&
		in.Engine == nil && in.AutoMinorVersionUpgrade == nil && in.LogDeliveryConfigurations == nil && in.IpDiscovery == nil &&
		in.TransitEncryptionEnabled == nil && in.TransitEncryptionMode == nil && in.SnapshottingClusterId == nil {
		// AWS's answer to an empty modification; Terraform tolerates it.
		return nil, api.InvalidParameterCombination("No modifications were requested.")
	}
	apply := in.ApplyImmediately != nil && *in.ApplyImmediately
	now := s.clock.Now()
	c, err := s.changeRG(ctx, in.ReplicationGroupId, func(c *rgChange) (error, error) {
		g := c.g
		if fault := needAvailable(g, c.members); fault != nil {
			return fault, nil
		}
		// What each member's engines must follow: work marks it.
		work := map[string]bool{}
		access := false
		if primary != "" && primary != g.Primary {
			i := slices.IndexFunc(c.members, func(m *cacheClusterRecord) bool { return m.ID == primary })
			if i < 0 {
				return api.InvalidParameterValue(fmt.Sprintf("Cache cluster %s is not a member of replication group %s.", primary, g.ID)), nil
			}
			g.Primary = primary
			access = true
		}
		if in.SnapshottingClusterId != nil && !slices.ContainsFunc(c.members, func(m *cacheClusterRecord) bool { return m.ID == strings.ToLower(*in.SnapshottingClusterId) }) {
			return api.InvalidParameterValue(fmt.Sprintf("Cache cluster %s is not a member of replication group %s.", *in.SnapshottingClusterId, g.ID)), nil
		}
		failover, multiAZ := g.AutomaticFailover, g.MultiAZ
		if in.AutomaticFailoverEnabled != nil {
			failover = *in.AutomaticFailoverEnabled
			if !failover && in.MultiAZEnabled == nil {
				multiAZ = false
			}
		}
		if in.MultiAZEnabled != nil {
			multiAZ = *in.MultiAZEnabled
		}
		if err := failoverRules(failover, multiAZ, len(c.members)); err != nil {
			return err, nil
		}
		g.AutomaticFailover, g.MultiAZ = failover, multiAZ
		if in.ReplicationGroupDescription != nil {
			g.Description = desc
		}
		if in.PreferredMaintenanceWindow != nil {
			g.MaintenanceWindow = maint
		}
		if in.SnapshotWindow != nil {
			g.SnapshotWindow = snap
		}
		if in.SnapshotRetentionLimit != nil {
			g.SnapshotRetention = retention
		}
		if in.AutoMinorVersionUpgrade != nil {
			g.AutoMinorVersionUpgrade = *in.AutoMinorVersionUpgrade
		}
		if in.NotificationTopicArn != nil {
			g.NotificationTopicARN = *in.NotificationTopicArn
		}
		if in.SecurityGroupIds != nil {
			if g.SubnetGroup == "" {
				return cacheSGsWithVPC(), nil
			}
			g.SecurityGroupIDs = sgIDs
		}
		if len(in.CacheSecurityGroupNames) > 0 {
			if g.SubnetGroup != "" {
				return cacheSGsWithVPC(), nil
			}
			names, err := cacheSecurityGroupNames(in.CacheSecurityGroupNames)
			if err != nil {
				return err, nil
			}
			for _, name := range names {
				ok, err := securityGroups.Exists(c.tx, c.sc, name)
				if err != nil || !ok {
					return groupNotFound(name), err
				}
			}
			g.CacheSecurityGroups = names
		}
		if in.LogDeliveryConfigurations != nil {
			logs, err := applyLogDelivery(g.LogDelivery, in.LogDeliveryConfigurations)
			if err != nil {
				return err, nil
			}
			g.LogDelivery = logs
		}
		if in.IpDiscovery != nil {
			nt, ipd, err := networkParams(&g.NetworkType, in.IpDiscovery)
			if err != nil {
				return err, nil
			}
			g.NetworkType, g.IPDiscovery = nt, ipd
		}
		if in.TransitEncryptionEnabled != nil {
			g.TransitEncryption = *in.TransitEncryptionEnabled
		}
		if in.TransitEncryptionMode != nil && !g.TransitEncryption {
			return api.InvalidParameterCombination("TransitEncryptionMode can be specified only when TransitEncryptionEnabled is true."), nil
		}
		// Access: the AUTH token, then the user groups, checked on the
		// result as AWS does (a group has one or the other).
		switch strategy {
		case "":
		case authDelete:
			if len(g.AuthTokenHashes) == 0 {
				return api.InvalidParameterCombination(fmt.Sprintf("Replication group %s has no AUTH token to delete.", g.ID)), nil
			}
			g.AuthTokenHashes, g.AuthTokenModified, access = nil, &now, true
		default:
			if !g.TransitEncryption {
				return api.InvalidParameterCombination("AuthToken can be specified only when TransitEncryptionEnabled is true."), nil
			}
			if len(g.UserGroupIDs) > 0 && !removeAll && len(remove) < len(g.UserGroupIDs) {
				return api.InvalidParameterCombination("AuthToken cannot be specified for a replication group that uses user groups; remove them first."), nil
			}
			if strategy == authSet && len(g.AuthTokenHashes) == 0 {
				return api.InvalidParameterCombination("AuthTokenUpdateStrategy SET is allowed only after ROTATE."), nil
			}
			g.AuthTokenHashes, g.AuthTokenModified, access = rotateToken(g.AuthTokenHashes, tokenHash, strategy), &now, true
		}
		if len(add) > 0 || len(remove) > 0 || removeAll {
			for _, u := range remove {
				if !slices.Contains(g.UserGroupIDs, u) {
					return api.InvalidParameterValue(fmt.Sprintf("User group %s is not associated with replication group %s.", u, g.ID)), nil
				}
			}
			if fault, err := s.checkRGUserGroups(c.tx, c.sc, g.Engine, add, now); fault != nil || err != nil {
				return fault, err
			}
			ugs := slices.DeleteFunc(slices.Clone(g.UserGroupIDs), func(u string) bool { return removeAll || slices.Contains(remove, u) })
			for _, u := range add {
				if !slices.Contains(ugs, u) {
					ugs = append(ugs, u)
				}
			}
			slices.Sort(ugs)
			if len(ugs) > 0 && len(g.AuthTokenHashes) > 0 {
				return api.InvalidParameterCombination("A replication group with an AUTH token cannot use user groups: specify AuthTokenUpdateStrategy DELETE with UserGroupIdsToAdd."), nil
			}
			if len(ugs) == 0 {
				ugs = nil
			}
			g.UserGroupIDs, access = ugs, true
		}
		if (len(add) > 0 || in.TransitEncryptionEnabled != nil) && len(g.UserGroupIDs) > 0 && !g.TransitEncryption {
			return userGroupsNeedTransit(), nil
		}
		if in.Engine != nil && strings.ToLower(*in.Engine) != g.Engine {
			e, err := rgEngine(in.Engine)
			if err != nil {
				return err, nil
			}
			return api.InvalidParameterCombination(fmt.Sprintf("Cannot change the engine of replication group %s from %s to %s.", g.ID, g.Engine, e)), nil
		}
		for _, m := range c.members {
			if m.Status != clusterAvailable {
				continue
			}
			mod := clusterModify{in: &api.ModifyCacheClusterInput{EngineVersion: in.EngineVersion, CacheNodeType: in.CacheNodeType}, rec: m, apply: apply}
			if fault := mod.engine(); fault != nil {
				return fault, nil
			}
			if fault, err := mod.parameterGroup(c.tx, c.sc, paramGroup); fault != nil || err != nil {
				return fault, err
			}
			if mod.work {
				m.Status = clusterModifying
			}
			copyGroupSettings(g, m)
			if access {
				m.AccessChanged = true
			}
			work[m.ID] = mod.work || access
		}
		// The group answers what its primary now runs (or will).
		if i := slices.IndexFunc(c.members, func(m *cacheClusterRecord) bool { return m.ID == g.Primary }); i >= 0 {
			p := c.members[i]
			g.EngineVersion, g.NodeType, g.Family, g.ParameterGroup = p.EngineVersion, p.NodeType, p.Family, p.ParameterGroup
		}
		for _, m := range c.members {
			if m.Status == clusterAvailable || m.Status == clusterModifying {
				if err := c.put(m, work[m.ID]); err != nil {
					return nil, err
				}
			}
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	g := renderReplicationGroup(sc, c.g, c.members)
	return &api.ModifyReplicationGroupOutput{ReplicationGroup: &g}, nil
}

// rotateToken is the AUTH token hashes after a ROTATE (the newest of the
// old ones kept beside the new) or a SET (the new alone).
func rotateToken(have []string, h, strategy string) []string {
	if strategy == authSet {
		return []string{h}
	}
	keep := have
	if len(keep) > 0 {
		keep = keep[len(keep)-1:]
	}
	return append(slices.Clone(keep), h)
}

// copyGroupSettings gives a member the group's settings that its own
// record answers (DescribeCacheClusters shows them; Terraform reads some
// from the first member).
func copyGroupSettings(g *replicationGroupRecord, m *cacheClusterRecord) {
	m.MaintenanceWindow, m.SnapshotWindow, m.SnapshotRetention = g.MaintenanceWindow, g.SnapshotWindow, g.SnapshotRetention
	m.AutoMinorVersionUpgrade = g.AutoMinorVersionUpgrade
	m.SecurityGroupIDs, m.CacheSecurityGroups = slices.Clone(g.SecurityGroupIDs), slices.Clone(g.CacheSecurityGroups)
	m.TransitEncryption, m.AuthTokenHashes, m.AuthTokenModified = g.TransitEncryption, slices.Clone(g.AuthTokenHashes), g.AuthTokenModified
	m.NetworkType, m.IPDiscovery = g.NetworkType, g.IPDiscovery
	if g.NotificationTopicARN != "" {
		m.NotificationTopicARN = g.NotificationTopicARN
		if m.NotificationTopicStatus == "" {
			m.NotificationTopicStatus = topicActive
		}
	}
}

// DeleteReplicationGroup answers the group deleting, its members deleting;
// the reconciler removes their engines and records, and the group with
// the last of them. With RetainPrimaryCluster the primary stays, a
// cluster on its own.
func (s *ElastiCache) DeleteReplicationGroup(ctx context.Context, in *api.DeleteReplicationGroupInput) (*api.DeleteReplicationGroupOutput, error) {
	retain := in.RetainPrimaryCluster != nil && *in.RetainPrimaryCluster
	var out api.ReplicationGroup
	_, err := s.changeRG(ctx, in.ReplicationGroupId, func(c *rgChange) (error, error) {
		g := c.g
		if in.FinalSnapshotIdentifier != nil {
			return &api.SnapshotFeatureNotSupportedFault{Message: "This server does not take snapshots yet: delete the replication group without FinalSnapshotIdentifier, or keep it."}, nil
		}
		switch st := replicationGroupStatus(g, c.members); st {
		case rgAvailable, "create-failed":
		default:
			return rgStateFault(fmt.Sprintf("Replication group %s has status %s which is not valid for deletion.", g.ID, st)), nil
		}
		g.Deleting = true
		left := 0
		for _, m := range c.members {
			if retain && m.ID == g.Primary {
				// On its own now: its users are its own again.
				m.ReplicationGroupID, m.AccessChanged = "", true
				if err := c.put(m, true); err != nil {
					return nil, err
				}
				continue
			}
			m.Status = clusterDeleting
			for i := range m.Nodes {
				m.Nodes[i].Status = nodeDeleting
			}
			left++
			if err := c.put(m, true); err != nil {
				return nil, err
			}
		}
		out = renderReplicationGroup(c.sc, g, c.members)
		if left == 0 {
			// Nothing for the reconciler to remove: the group goes now.
			if err := deleteRG(c.tx, c.sc, g.ID, s.clock.Now()); err != nil {
				return nil, err
			}
			c.g = nil
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteReplicationGroupOutput{ReplicationGroup: &out}, nil
}

// deleteRG removes a group, its tags, and writes its event.
func deleteRG(tx storage.Tx, sc scope, id string, now time.Time) error {
	if err := replicationGroups.Delete(tx, sc, id); err != nil {
		return err
	}
	return schema.AppendEvent(tx, sc, now, replicationGroupKind, id, fmt.Sprintf("Replication group %s deleted", id))
}

// applyNow refuses a replica change without ApplyImmediately: AWS
// applies replica counts at once only.
func applyNow(p *bool) error {
	if p == nil || !*p {
		return invalid("ApplyImmediately", "must be true: replica count changes are applied immediately.")
	}
	return nil
}

// replicaTarget reads NewReplicaCount or the one ReplicaConfiguration of
// node group 0001, and its AZs.
func replicaTarget(count *int32, cfg []api.ConfigureShard) (n int, azs []string, set bool, err error) {
	if len(cfg) > 1 {
		return 0, nil, false, clusterModeRefused("Several ReplicaConfiguration entries")
	}
	if len(cfg) == 1 {
		if count != nil {
			return 0, nil, false, api.InvalidParameterCombination("NewReplicaCount and ReplicaConfiguration cannot be specified together.")
		}
		if cfg[0].NodeGroupId != nil && *cfg[0].NodeGroupId != nodeGroupID {
			return 0, nil, false, invalid("ReplicaConfiguration.NodeGroupId", "must be 0001 for a replication group with cluster mode disabled.")
		}
		if cfg[0].NewReplicaCount == nil {
			return 0, nil, false, api.InvalidParameterValue("The parameter ReplicaConfiguration.NewReplicaCount must be provided.")
		}
		return int(*cfg[0].NewReplicaCount), cfg[0].PreferredAvailabilityZones, true, nil
	}
	if count == nil {
		return 0, nil, false, nil
	}
	return int(*count), nil, true, nil
}

// IncreaseReplicaCount adds replicas to an available group, creating, at
// once (ApplyImmediately must be true).
func (s *ElastiCache) IncreaseReplicaCount(ctx context.Context, in *api.IncreaseReplicaCountInput) (*api.IncreaseReplicaCountOutput, error) {
	if err := applyNow(in.ApplyImmediately); err != nil {
		return nil, err
	}
	target, azs, set, err := replicaTarget(in.NewReplicaCount, in.ReplicaConfiguration)
	if err != nil {
		return nil, err
	}
	if !set {
		return nil, api.InvalidParameterValue("The parameter NewReplicaCount must be provided.")
	}
	if target < 1 || target > maxRGMembers-1 {
		return nil, invalid("NewReplicaCount", fmt.Sprintf("must be between 1 and %d.", maxRGMembers-1))
	}
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	_, perRegion := s.cfg.nodeQuotas(sc.Account)
	clusterQuota := s.cfg.quota(sc.Account, cacheClusterKind)
	c, err := s.changeRG(ctx, in.ReplicationGroupId, func(c *rgChange) (error, error) {
		g := c.g
		if fault := needAvailable(g, c.members); fault != nil {
			return fault, nil
		}
		adding := target - (len(c.members) - 1)
		if adding <= 0 {
			return api.InvalidParameterValue(fmt.Sprintf("The new replica count (%d) must be greater than the current replica count (%d).", target, len(c.members)-1)), nil
		}
		if len(azs) > 0 && len(azs) != target+1 && len(azs) != adding {
			return api.InvalidParameterCombination(fmt.Sprintf("PreferredAvailabilityZones must name %d availability zones.", target+1)), nil
		}
		if len(azs) == target+1 {
			azs = azs[len(azs)-adding:]
		}
		clusters, err := cacheClusters.Count(c.tx, c.sc)
		if err != nil {
			return nil, err
		}
		if clusters+adding > clusterQuota {
			return &api.ClusterQuotaForCustomerExceededFault{Message: fmt.Sprintf("The number of cache clusters in this region may not exceed %d.", clusterQuota)}, nil
		}
		nodes, err := regionNodes(c.tx, c.sc)
		if err != nil {
			return nil, err
		}
		if nodes+adding > perRegion {
			return nodesPerCustomerExceeded(perRegion), nil
		}
		for i := range adding {
			id := memberID(g.ID, g.NextMember)
			taken, err := cacheClusters.Exists(c.tx, c.sc, id)
			if err != nil || taken {
				return &api.CacheClusterAlreadyExistsFault{Message: fmt.Sprintf("Cache cluster %s already exists.", id)}, err
			}
			var az []string
			if len(azs) > 0 {
				az = azs[i : i+1]
			}
			m, fault, err := s.newMember(c.tx, c.sc, g, id, az)
			if fault != nil || err != nil {
				return fault, err
			}
			if err := cacheClusters.Insert(c.tx, c.sc, m); err != nil {
				return nil, err
			}
			if err := markWork(c.tx, c.sc, m.ID, m.Generation); err != nil {
				return nil, err
			}
			c.marked = true
			c.members = append(c.members, m)
			g.NextMember++
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	g := renderReplicationGroup(sc, c.g, c.members)
	return &api.IncreaseReplicaCountOutput{ReplicationGroup: &g}, nil
}

// DecreaseReplicaCount removes replicas of an available group at once
// (ApplyImmediately must be true): the ones named, or the newest ones
// down to NewReplicaCount. The primary is never removed; with automatic
// failover one replica must stay.
func (s *ElastiCache) DecreaseReplicaCount(ctx context.Context, in *api.DecreaseReplicaCountInput) (*api.DecreaseReplicaCountOutput, error) {
	if err := applyNow(in.ApplyImmediately); err != nil {
		return nil, err
	}
	target, _, set, err := replicaTarget(in.NewReplicaCount, in.ReplicaConfiguration)
	if err != nil {
		return nil, err
	}
	var named []string
	for _, raw := range in.ReplicasToRemove {
		id, err := cacheClusterID("ReplicasToRemove", &raw)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(named, id) {
			named = append(named, id)
		}
	}
	if !set && len(named) == 0 {
		return nil, api.InvalidParameterValue("Either NewReplicaCount or ReplicasToRemove must be provided.")
	}
	if set && target < 0 {
		return nil, invalid("NewReplicaCount", "must be at least 0.")
	}
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.changeRG(ctx, in.ReplicationGroupId, func(c *rgChange) (error, error) {
		g := c.g
		if fault := needAvailable(g, c.members); fault != nil {
			return fault, nil
		}
		replicas := len(c.members) - 1
		if !set {
			target = replicas - len(named)
		}
		if target >= replicas {
			return api.InvalidParameterValue(fmt.Sprintf("The new replica count (%d) must be less than the current replica count (%d).", target, replicas)), nil
		}
		if len(named) > 0 && replicas-len(named) != target {
			return api.InvalidParameterCombination(fmt.Sprintf("ReplicasToRemove names %d replicas; NewReplicaCount %d needs %d removed.", len(named), target, replicas-target)), nil
		}
		if g.AutomaticFailover && target < 1 {
			return api.InvalidParameterCombination("When using automatic failover, there must be at least 2 cache clusters in the replication group."), nil
		}
		for _, id := range named {
			if id == g.Primary {
				return api.InvalidParameterValue(fmt.Sprintf("Cache cluster %s is the primary of replication group %s and cannot be removed.", id, g.ID)), nil
			}
			if !slices.ContainsFunc(c.members, func(m *cacheClusterRecord) bool { return m.ID == id }) {
				return api.InvalidParameterValue(fmt.Sprintf("Cache cluster %s is not a member of replication group %s.", id, g.ID)), nil
			}
		}
		if len(named) == 0 {
			// The newest replicas go first, as Terraform expects.
			for i := len(c.members) - 1; i >= 0 && len(named) < replicas-target; i-- {
				if c.members[i].ID != g.Primary {
					named = append(named, c.members[i].ID)
				}
			}
		}
		for _, m := range c.members {
			if !slices.Contains(named, m.ID) {
				continue
			}
			m.Status = clusterDeleting
			for i := range m.Nodes {
				m.Nodes[i].Status = nodeDeleting
			}
			if err := c.put(m, true); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	g := renderReplicationGroup(sc, c.g, c.members)
	return &api.DecreaseReplicaCountOutput{ReplicationGroup: &g}, nil
}

// createMemberCluster is CreateCacheCluster with a ReplicationGroupId:
// the cluster joins the group as a replica, made with the group's
// settings, as AWS allows (up to five replicas). Only the ID, the AZ and
// tags are the request's own.
func (s *ElastiCache) createMemberCluster(ctx context.Context, sc scope, in *api.CreateCacheClusterInput) (*api.CreateCacheClusterOutput, error) {
	id, err := cacheClusterID(paramClusterID, in.CacheClusterId)
	if err != nil {
		return nil, err
	}
	rgID, err := replicationGroupID(paramRGID, in.ReplicationGroupId)
	if err != nil {
		return nil, err
	}
	if in.NumCacheNodes != nil && *in.NumCacheNodes != 1 {
		return nil, api.InvalidParameterValue("Cannot create a Redis cluster with a NumCacheNodes parameter greater than 1.")
	}
	if in.Engine != nil && strings.ToLower(*in.Engine) == engineMemcached {
		return nil, api.InvalidParameterCombination("A Memcached cluster cannot be a member of a replication group.")
	}
	var az []string
	if in.PreferredAvailabilityZone != nil {
		az = []string{*in.PreferredAvailabilityZone}
	}
	tags, err := requestTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	_, perRegion := s.cfg.nodeQuotas(sc.Account)
	quota := s.cfg.quota(sc.Account, cacheClusterKind)
	var m *cacheClusterRecord
	_, err = s.changeRG(ctx, &rgID, func(c *rgChange) (error, error) {
		if fault := needAvailable(c.g, c.members); fault != nil {
			return fault, nil
		}
		if len(c.members) >= maxRGMembers {
			return &api.NodeQuotaForClusterExceededFault{Message: fmt.Sprintf("Replication group %s has %d cache clusters, the most it can have.", rgID, maxRGMembers)}, nil
		}
		taken, err := cacheClusters.Exists(c.tx, c.sc, id)
		if err != nil || taken {
			return &api.CacheClusterAlreadyExistsFault{Message: fmt.Sprintf("Cache cluster %s already exists.", id)}, err
		}
		n, err := cacheClusters.Count(c.tx, c.sc)
		if err != nil {
			return nil, err
		}
		if n >= quota {
			return &api.ClusterQuotaForCustomerExceededFault{Message: fmt.Sprintf("The number of cache clusters in this region may not exceed %d.", quota)}, nil
		}
		nodes, err := regionNodes(c.tx, c.sc)
		if err != nil {
			return nil, err
		}
		if nodes+1 > perRegion {
			return nodesPerCustomerExceeded(perRegion), nil
		}
		if len(tags) > maxTagsPerResource {
			return tagQuotaExceeded(), nil
		}
		var fault error
		if m, fault, err = s.newMember(c.tx, c.sc, c.g, id, az); fault != nil || err != nil {
			return fault, err
		}
		if err := cacheClusters.Insert(c.tx, c.sc, m); err != nil {
			return nil, err
		}
		if len(tags) > 0 {
			if err := schema.PutTags(c.tx, c.sc, cacheClusterKind, id, schema.Tags(tags)); err != nil {
				return nil, err
			}
		}
		c.marked = true
		return nil, markWork(c.tx, c.sc, id, m.Generation)
	})
	if err != nil {
		return nil, err
	}
	out := renderCacheCluster(sc, m, false)
	return &api.CreateCacheClusterOutput{CacheCluster: &out}, nil
}

// memberDeleteFault is AWS's answer to DeleteCacheCluster of a member of
// a replication group (the messages Terraform's cluster resource matches,
// quoted in rebuy-de/aws-nuke#273 and #289 and gruntwork-io/cloud-nuke#333):
// the only member and the primary cannot go, nor the only replica of a
// group with automatic failover; another replica can.
func memberDeleteFault(tx storage.Tx, sc scope, rec *cacheClusterRecord) (fault, err error) {
	if rec.ReplicationGroupID == "" {
		return nil, nil
	}
	g, err := replicationGroups.GetStored(tx, sc, rec.ReplicationGroupID)
	if err != nil || g == nil {
		return nil, err
	}
	all, err := rgMembers(tx, sc)
	if err != nil {
		return nil, err
	}
	live := 0
	for _, m := range all[g.ID] {
		if m.Status != clusterDeleting {
			live++
		}
	}
	switch {
	case g.Deleting:
		return clusterStateFault(fmt.Sprintf("Cache cluster %s is being deleted with replication group %s.", rec.ID, g.ID)), nil
	case live <= 1:
		return clusterStateFault("Cannot delete the cache cluster since it is the only member of a replication group. Delete the replication group instead."), nil
	case rec.ID == g.Primary:
		return clusterStateFault(fmt.Sprintf("Cache cluster %s is serving as primary for replication group %s and cannot be deleted. To delete the entire replication group, use DeleteReplicationGroup.", rec.ID, g.ID)), nil
	case live == 2 && g.AutomaticFailover:
		return clusterStateFault(fmt.Sprintf("Cannot delete the cache cluster because it is the only read replica for replication group %s which has autofailover enabled or pending. You can disable autofailover and then delete this cache cluster. Alternatively, to delete the entire replication group, use DeleteReplicationGroup.", g.ID)), nil
	}
	return nil, nil
}
