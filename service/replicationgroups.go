package service

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/network"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// Replication groups, the request path: as for clusters, it validates,
// writes the group and its member clusters with their transitional
// statuses and marks the members for the reconciler, in one transaction,
// and answers. Cluster mode (several node groups) is refused: this server
// runs one primary and its replicas per group (docs/DECISIONS.md).

// clusterModeRefused answers a request for cluster mode.
func clusterModeRefused(what string) error {
	return api.InvalidParameterCombination(what + ": this server does not run cluster mode (sharded replication groups) yet; create a replication group with cluster mode disabled: one node group, NumCacheClusters or ReplicasPerNodeGroup.")
}

func rgAlreadyExists(id string) error {
	return &api.ReplicationGroupAlreadyExistsFault{Message: fmt.Sprintf("Replication group %s already exists.", id)}
}

func rgStateFault(msg string) error { return &api.InvalidReplicationGroupStateFault{Message: msg} }

// rgRequest is what CreateReplicationGroup's parameters say once checked
// alone; what needs stored records is checked in the transaction.
type rgRequest struct {
	rec *replicationGroupRecord
	// n is the number of member clusters; azs the AZ asked for each (nil
	// for none).
	n   int
	azs []string
	// primaryCluster is PrimaryClusterId: an existing cluster that
	// becomes the primary ("" for none).
	primaryCluster string
	paramGroup     string
	tokenHash      string
}

// CreateReplicationGroup stores a new group, creating, and its member
// clusters <id>-001 (the primary) … <id>-00n, creating, with the group's
// tags, and marks the members for the reconciler. With PrimaryClusterId,
// an available cluster of its own becomes the primary and keeps its ID
// and data; the new members replicate it.
func (s *ElastiCache) CreateReplicationGroup(ctx context.Context, in *api.CreateReplicationGroupInput) (*api.CreateReplicationGroupOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	req, err := s.rgRequest(sc, in)
	if err != nil {
		return nil, err
	}
	tags, err := requestTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	rec := req.rec
	quota := s.cfg.quota(sc.Account, replicationGroupKind)
	clusterQuota := s.cfg.quota(sc.Account, cacheClusterKind)
	_, perRegion := s.cfg.nodeQuotas(sc.Account)
	var members []*cacheClusterRecord
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		taken, err := replicationGroups.Exists(tx, sc, rec.ID)
		if err != nil || taken {
			return rgAlreadyExists(rec.ID), err
		}
		n, err := replicationGroups.Count(tx, sc)
		if err != nil {
			return nil, err
		}
		if n >= quota {
			return &api.ClusterQuotaForCustomerExceededFault{Message: fmt.Sprintf("The number of replication groups in this region may not exceed %d.", quota)}, nil
		}
		if len(tags) > maxTagsPerResource {
			return tagQuotaExceeded(), nil
		}
		var primary *cacheClusterRecord
		if req.primaryCluster != "" {
			if primary, err = cacheClusters.Get(tx, sc, req.primaryCluster); err != nil || primary == nil {
				return cacheClusterNotFound(req.primaryCluster), err
			}
			if fault := adoptPrimary(rec, primary); fault != nil {
				return fault, nil
			}
		}
		newMembers := req.n
		if primary != nil {
			newMembers--
		}
		clusters, err := cacheClusters.Count(tx, sc)
		if err != nil {
			return nil, err
		}
		if clusters+newMembers > clusterQuota {
			return &api.ClusterQuotaForCustomerExceededFault{Message: fmt.Sprintf("The number of cache clusters in this region may not exceed %d.", clusterQuota)}, nil
		}
		nodes, err := regionNodes(tx, sc)
		if err != nil {
			return nil, err
		}
		if nodes+newMembers > perRegion {
			return nodesPerCustomerExceeded(perRegion), nil
		}
		if fault, err := rgParameterGroup(tx, sc, rec, req.paramGroup); fault != nil || err != nil {
			return fault, err
		}
		if fault, err := s.checkRGUserGroups(tx, sc, rec.Engine, rec.UserGroupIDs, s.clock.Now()); fault != nil || err != nil {
			return fault, err
		}
		if primary != nil {
			primary.ReplicationGroupID = rec.ID
			members = append(members, primary)
			rec.Primary = primary.ID
		}
		for i := len(members); i < req.n; i++ {
			id := memberID(rec.ID, rec.NextMember)
			if primary == nil && i == 0 {
				id = memberID(rec.ID, 1)
			}
			taken, err := cacheClusters.Exists(tx, sc, id)
			if err != nil || taken {
				return &api.CacheClusterAlreadyExistsFault{Message: fmt.Sprintf("Cache cluster %s already exists.", id)}, err
			}
			var az []string
			if len(req.azs) > 0 {
				az = req.azs[i : i+1]
			}
			m, fault, err := s.newMember(tx, sc, rec, id, az)
			if fault != nil || err != nil {
				return fault, err
			}
			if i == 0 {
				rec.Primary = id
			} else {
				rec.NextMember++
			}
			members = append(members, m)
		}
		if err := replicationGroups.Insert(tx, sc, rec); err != nil {
			return nil, err
		}
		for _, m := range members {
			if m.ID == req.primaryCluster {
				// The primary runs on: it joins the group without a
				// restart; only who may use it is set anew.
				m.AccessChanged = true
				m.Generation++
				if err := cacheClusters.Put(tx, sc, m); err != nil {
					return nil, err
				}
			} else if err := cacheClusters.Insert(tx, sc, m); err != nil {
				return nil, err
			}
			if err := markWork(tx, sc, m.ID, m.Generation); err != nil {
				return nil, err
			}
		}
		if len(tags) > 0 {
			return nil, schema.PutTags(tx, sc, replicationGroupKind, rec.ID, schema.Tags(tags))
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	s.workMarked()
	g := renderReplicationGroup(sc, rec, members)
	if rec.AutomaticFailover {
		// AWS's answer to a create asking for failover (botocore's
		// example).
		g.AutomaticFailover = ptr("enabling")
	}
	return &api.CreateReplicationGroupOutput{ReplicationGroup: &g}, nil
}

// rgRequest checks CreateReplicationGroup's parameters one by one and
// builds the group's record.
func (s *ElastiCache) rgRequest(sc scope, in *api.CreateReplicationGroupInput) (*rgRequest, error) {
	id, err := replicationGroupID(paramRGID, in.ReplicationGroupId)
	if err != nil {
		return nil, err
	}
	desc, err := descriptionParam("ReplicationGroupDescription", in.ReplicationGroupDescription)
	if err != nil {
		return nil, err
	}
	if in.GlobalReplicationGroupId != nil {
		return nil, &api.GlobalReplicationGroupNotFoundFault{Message: fmt.Sprintf("GlobalReplicationGroup %s not found.", *in.GlobalReplicationGroupId)}
	}
	if in.SnapshotName != nil {
		return nil, &api.SnapshotNotFoundFault{Message: fmt.Sprintf("Snapshot %s not found.", *in.SnapshotName)}
	}
	if in.ServerlessCacheSnapshotName != nil {
		return nil, &api.ServerlessCacheSnapshotNotFoundFault{Message: fmt.Sprintf("ServerlessCacheSnapshot %s not found.", *in.ServerlessCacheSnapshotName)}
	}
	if len(in.SnapshotArns) > 0 {
		return nil, invalid("SnapshotArns", "there is no Amazon S3 here to read a snapshot from.")
	}
	if in.ClusterMode != nil {
		switch strings.ToLower(*in.ClusterMode) {
		case "disabled":
		case "enabled", "compatible":
			return nil, clusterModeRefused("ClusterMode " + *in.ClusterMode)
		default:
			return nil, invalid("ClusterMode", "must be enabled, disabled or compatible.")
		}
	}
	if in.NumNodeGroups != nil && *in.NumNodeGroups != 1 {
		if *in.NumNodeGroups < 1 {
			return nil, invalid("NumNodeGroups", "must be at least 1.")
		}
		return nil, clusterModeRefused(fmt.Sprintf("NumNodeGroups %d", *in.NumNodeGroups))
	}
	if len(in.NodeGroupConfiguration) > 1 {
		return nil, clusterModeRefused(fmt.Sprintf("%d NodeGroupConfiguration entries", len(in.NodeGroupConfiguration)))
	}
	if in.DataTieringEnabled != nil && *in.DataTieringEnabled {
		return nil, api.InvalidParameterCombination("Data tiering is only supported for node types of the r6gd family, which this server does not run.")
	}
	rec := &replicationGroupRecord{ID: id, Description: desc, NextMember: 2, AutoMinorVersionUpgrade: true, Created: s.clock.Now(),
		ReplicationSecret: rand.Text()}
	req := &rgRequest{rec: rec}
	if in.PrimaryClusterId != nil {
		if in.CacheNodeType != nil || in.Engine != nil || in.EngineVersion != nil {
			return nil, api.InvalidParameterCombination("PrimaryClusterId cannot be specified with CacheNodeType, Engine or EngineVersion: the group takes them from its primary cluster.")
		}
		if req.primaryCluster, err = cacheClusterID("PrimaryClusterId", in.PrimaryClusterId); err != nil {
			return nil, err
		}
	} else {
		if rec.Engine, err = rgEngine(in.Engine); err != nil {
			return nil, err
		}
		if rec.NodeType, err = clusterNodeType("CacheNodeType", in.CacheNodeType, rec.Engine); err != nil {
			return nil, err
		}
		ver, err := clusterVersion(rec.Engine, in.EngineVersion)
		if err != nil {
			return nil, err
		}
		rec.EngineVersion, rec.Family = ver.EngineVersion, ver.CacheParameterGroupFamily
	}
	if req.n, req.azs, err = rgMemberCount(sc, in); err != nil {
		return nil, err
	}
	rec.AutomaticFailover = in.AutomaticFailoverEnabled != nil && *in.AutomaticFailoverEnabled
	rec.MultiAZ = in.MultiAZEnabled != nil && *in.MultiAZEnabled
	if err := failoverRules(rec.AutomaticFailover, rec.MultiAZ, req.n); err != nil {
		return nil, err
	}
	if in.PrimaryClusterId == nil {
		if rec.Port, err = portParam(in.Port, rec.Engine); err != nil {
			return nil, err
		}
	} else if in.Port != nil {
		return nil, api.InvalidParameterCombination("Port cannot be specified with PrimaryClusterId: the group takes it from its primary cluster.")
	}
	maint, snap, keep, err := windowParams(sc, in.PreferredMaintenanceWindow, in.SnapshotWindow, in.SnapshotRetentionLimit, in.NotificationTopicArn)
	if err != nil {
		return nil, err
	}
	defMaint, defSnap := defaultWindows(sc, id)
	rec.MaintenanceWindow, rec.SnapshotWindow, rec.SnapshotRetention = cmp.Or(maint, defMaint), cmp.Or(snap, defSnap), keep
	if rec.LogDelivery, err = applyLogDelivery(nil, in.LogDeliveryConfigurations); err != nil {
		return nil, err
	}
	if in.AutoMinorVersionUpgrade != nil {
		rec.AutoMinorVersionUpgrade = *in.AutoMinorVersionUpgrade
	}
	if in.NotificationTopicArn != nil {
		rec.NotificationTopicARN = *in.NotificationTopicArn
	}
	if rec.NetworkType, rec.IPDiscovery, err = networkParams(in.NetworkType, in.IpDiscovery); err != nil {
		return nil, err
	}
	rec.TransitEncryption = in.TransitEncryptionEnabled != nil && *in.TransitEncryptionEnabled
	if in.TransitEncryptionMode != nil {
		if *in.TransitEncryptionMode != "preferred" && *in.TransitEncryptionMode != "required" {
			return nil, invalid("TransitEncryptionMode", "must be preferred or required.")
		}
		if !rec.TransitEncryption {
			return nil, api.InvalidParameterCombination("TransitEncryptionMode can be specified only when TransitEncryptionEnabled is true.")
		}
	}
	rec.AtRestEncryption = in.AtRestEncryptionEnabled != nil && *in.AtRestEncryptionEnabled
	if in.KmsKeyId != nil {
		if !rec.AtRestEncryption {
			return nil, api.InvalidParameterCombination("KmsKeyId can be specified only when AtRestEncryptionEnabled is true.")
		}
		rec.KMSKeyID = *in.KmsKeyId
	}
	if in.AuthToken != nil {
		if len(in.UserGroupIds) > 0 {
			return nil, api.InvalidParameterCombination("AuthToken and UserGroupIds cannot be specified together.")
		}
		if !rec.TransitEncryption {
			return nil, api.InvalidParameterCombination("AuthToken can be specified only when TransitEncryptionEnabled is true.")
		}
		if req.tokenHash, err = authToken(*in.AuthToken); err != nil {
			return nil, err
		}
		rec.AuthTokenHashes = []string{req.tokenHash}
	}
	if rec.UserGroupIDs, err = userIDList("UserGroupIds", in.UserGroupIds); err != nil {
		return nil, err
	}
	if len(rec.UserGroupIDs) == 0 {
		rec.UserGroupIDs = nil
	}
	if rec.UserGroupIDs != nil && !rec.TransitEncryption {
		return nil, userGroupsNeedTransit()
	}
	if rec.SecurityGroupIDs, err = securityGroupIDs(in.SecurityGroupIds); err != nil {
		return nil, err
	}
	if rec.CacheSecurityGroups, rec.SubnetGroup, err = s.placementParams(sc, in.CacheSecurityGroupNames, in.CacheSubnetGroupName, in.SecurityGroupIds); err != nil {
		return nil, err
	}
	if in.CacheParameterGroupName != nil {
		if req.paramGroup, err = describedParameterGroupName(in.CacheParameterGroupName); err != nil {
			return nil, err
		}
		if strings.HasSuffix(req.paramGroup, ".cluster.on") {
			return nil, clusterModeRefused("Parameter group " + req.paramGroup + " enables cluster mode")
		}
	}
	return req, nil
}

// rgEngine validates a replication group's Engine: redis (the default)
// or valkey, in any case; Memcached has no replication.
func rgEngine(p *string) (string, error) {
	if p == nil || *p == "" {
		return engineRedis, nil
	}
	switch e := strings.ToLower(*p); e {
	case engineRedis, engineValkey:
		return e, nil
	case engineMemcached:
		return "", api.InvalidParameterValue("Replication groups are not supported for Memcached: create a cache cluster instead.")
	}
	return "", invalid("Engine", "must be redis or valkey.")
}

// failoverRules are AWS's rules of automatic failover and Multi-AZ over n
// member clusters.
func failoverRules(failover, multiAZ bool, n int) error {
	if failover && n < 2 {
		return api.InvalidParameterCombination("When using automatic failover, there must be at least 2 cache clusters in the replication group.")
	}
	if multiAZ && !failover {
		return api.InvalidParameterCombination("Multi-AZ can be enabled only when automatic failover is enabled.")
	}
	return nil
}

// rgMemberCount reads how many member clusters the request asks for and
// in which AZs: NumCacheClusters (1–6), or ReplicasPerNodeGroup (0–5) or
// the one NodeGroupConfiguration's ReplicaCount plus the primary; with
// PreferredCacheClusterAZs or the configuration's AZs, one AZ each.
func rgMemberCount(sc scope, in *api.CreateReplicationGroupInput) (n int, azs []string, err error) {
	var cfg *api.NodeGroupConfiguration
	if len(in.NodeGroupConfiguration) == 1 {
		cfg = &in.NodeGroupConfiguration[0]
		if cfg.Slots != nil {
			return 0, nil, clusterModeRefused("NodeGroupConfiguration Slots")
		}
		if cfg.NodeGroupId != nil && *cfg.NodeGroupId != nodeGroupID {
			return 0, nil, invalid("NodeGroupConfiguration.NodeGroupId", "must be 0001 for a replication group with cluster mode disabled.")
		}
		if cfg.PrimaryOutpostArn != nil || len(cfg.ReplicaOutpostArns) > 0 {
			return 0, nil, api.InvalidParameterValue("Outposts are not available in this region.")
		}
	}
	replicas := -1
	switch {
	case in.ReplicasPerNodeGroup != nil:
		replicas = int(*in.ReplicasPerNodeGroup)
	case cfg != nil && cfg.ReplicaCount != nil:
		replicas = int(*cfg.ReplicaCount)
	}
	if replicas >= 0 && in.ReplicasPerNodeGroup != nil && cfg != nil && cfg.ReplicaCount != nil && int(*cfg.ReplicaCount) != replicas {
		return 0, nil, api.InvalidParameterCombination("ReplicasPerNodeGroup and the ReplicaCount of NodeGroupConfiguration disagree.")
	}
	switch {
	case in.NumCacheClusters != nil && replicas >= 0:
		return 0, nil, api.InvalidParameterCombination("NumCacheClusters cannot be specified with ReplicasPerNodeGroup or NodeGroupConfiguration ReplicaCount.")
	case in.NumCacheClusters != nil:
		n = int(*in.NumCacheClusters)
		if n < 1 || n > maxRGMembers {
			return 0, nil, invalid("NumCacheClusters", fmt.Sprintf("must be between 1 and %d.", maxRGMembers))
		}
	case replicas >= 0:
		if replicas > maxRGMembers-1 {
			return 0, nil, invalid("ReplicasPerNodeGroup", fmt.Sprintf("must be between 0 and %d.", maxRGMembers-1))
		}
		n = replicas + 1
	default:
		// Neither: one cluster, or as many AZs as the request names.
		n = max(1, len(in.PreferredCacheClusterAZs))
	}
	switch {
	case len(in.PreferredCacheClusterAZs) > 0:
		if cfg != nil && (cfg.PrimaryAvailabilityZone != nil || len(cfg.ReplicaAvailabilityZones) > 0) {
			return 0, nil, api.InvalidParameterCombination("PreferredCacheClusterAZs cannot be specified with the availability zones of NodeGroupConfiguration.")
		}
		azs = slices.Clone(in.PreferredCacheClusterAZs)
	case cfg != nil && (cfg.PrimaryAvailabilityZone != nil || len(cfg.ReplicaAvailabilityZones) > 0):
		if cfg.PrimaryAvailabilityZone == nil || len(cfg.ReplicaAvailabilityZones) != n-1 {
			return 0, nil, api.InvalidParameterCombination(fmt.Sprintf("NodeGroupConfiguration must name a PrimaryAvailabilityZone and %d ReplicaAvailabilityZones.", n-1))
		}
		azs = append([]string{*cfg.PrimaryAvailabilityZone}, cfg.ReplicaAvailabilityZones...)
	}
	if len(azs) > 0 && len(azs) != n {
		return 0, nil, api.InvalidParameterCombination(fmt.Sprintf("The number of PreferredCacheClusterAZs (%d) must equal the number of cache clusters (%d).", len(azs), n))
	}
	zones := network.AvailabilityZones(sc.Region)
	for _, az := range azs {
		if !slices.Contains(zones, az) {
			return 0, nil, invalid("PreferredCacheClusterAZs", fmt.Sprintf("%s is not an availability zone of %s.", az, sc.Region))
		}
	}
	return n, azs, nil
}

// adoptPrimary makes rec the group of an existing cluster: the cluster
// must be an available redis or valkey cluster of no group; the group
// takes its engine, version, node type, port, network and groups.
func adoptPrimary(rec *replicationGroupRecord, c *cacheClusterRecord) error {
	switch {
	case c.Engine == engineMemcached:
		return api.InvalidParameterValue(fmt.Sprintf("Cache cluster %s is a Memcached cluster, which cannot be the primary of a replication group.", c.ID))
	case c.ReplicationGroupID != "":
		return clusterStateFault(fmt.Sprintf("Cache cluster %s is already a member of replication group %s.", c.ID, c.ReplicationGroupID))
	case c.Status != clusterAvailable:
		return clusterStateFault(fmt.Sprintf("Cache cluster %s is not in available state; it is %s.", c.ID, c.Status))
	case len(rec.AuthTokenHashes) > 0:
		return api.InvalidParameterCombination("AuthToken cannot be specified with PrimaryClusterId: the group takes the primary cluster's.")
	case len(c.AuthTokenHashes) > 0 && len(rec.UserGroupIDs) > 0:
		return api.InvalidParameterCombination("AuthToken and UserGroupIds cannot be specified together: the primary cluster has an AUTH token.")
	}
	rec.Engine, rec.EngineVersion, rec.Family, rec.NodeType, rec.Port = c.Engine, c.EngineVersion, c.Family, c.NodeType, c.Port
	rec.SubnetGroup, rec.SecurityGroupIDs, rec.CacheSecurityGroups = c.SubnetGroup, c.SecurityGroupIDs, c.CacheSecurityGroups
	rec.NetworkType, rec.IPDiscovery = c.NetworkType, c.IPDiscovery
	rec.TransitEncryption, rec.AuthTokenHashes, rec.AuthTokenModified = c.TransitEncryption, c.AuthTokenHashes, c.AuthTokenModified
	rec.ParameterGroup = c.ParameterGroup
	return nil
}

// rgParameterGroup sets the group's parameter group: name, the family's
// default when "" (or the adopted primary's). A group that enables cluster
// mode is refused: this server does not run it.
func rgParameterGroup(tx storage.Tx, sc scope, rec *replicationGroupRecord, name string) (fault, err error) {
	if name == "" {
		name = rec.ParameterGroup
	}
	if name == "" {
		name = "default." + rec.Family
	}
	g, err := parameterGroups.Get(tx, sc, name)
	if err != nil || g == nil {
		return parameterGroupNotFound(name), err
	}
	if g.Family != rec.Family {
		return api.InvalidParameterCombination(fmt.Sprintf("Expected a parameter group of family %s but found one of family %s", rec.Family, g.Family)), nil
	}
	if g.Values["cluster-enabled"] == "yes" {
		return clusterModeRefused("Parameter group " + name + " has cluster-enabled set to yes"), nil
	}
	rec.ParameterGroup = name
	return nil, nil
}

// checkRGUserGroups holds the user groups a replication group is to use
// to AWS's rules: each exists (UserGroupNotFound), is active
// (InvalidUserGroupState) and is of the group's engine.
func (s *ElastiCache) checkRGUserGroups(tx storage.Tx, sc scope, engine string, ids []string, now time.Time) (fault, err error) {
	for _, id := range ids {
		g, err := userGroups.GetStored(tx, sc, id)
		if err != nil || g == nil || g.goneAt(now) {
			return userGroupNotFound(id), err
		}
		if st := s.rbacStatus(g.Created, g.Modified, g.Deleted, now); st != statusActive {
			return &api.InvalidUserGroupStateFault{Message: fmt.Sprintf("User group %s has status %s. Only active user groups can be associated with a replication group.", id, st)}, nil
		}
		if g.Engine != engine {
			return api.InvalidParameterCombination(fmt.Sprintf("User group %s is for engine %s; the replication group's engine is %s.", id, g.Engine, engine)), nil
		}
	}
	return nil, nil
}

// newMember builds member cluster id of group rec, creating, its one node
// in az (when asked) or in a zone the group's subnet group offers, and
// checks what it names, in tx.
func (s *ElastiCache) newMember(tx storage.Tx, sc scope, rec *replicationGroupRecord, id string, az []string) (*cacheClusterRecord, error, error) {
	m := &cacheClusterRecord{ID: id, Engine: rec.Engine, EngineVersion: rec.EngineVersion, Family: rec.Family, NodeType: rec.NodeType,
		NumNodes: 1, Port: rec.Port, Status: clusterCreating, Generation: 1, ParamStatus: paramsInSync,
		AutoMinorVersionUpgrade: rec.AutoMinorVersionUpgrade, Created: s.clock.Now(), SubnetGroup: rec.SubnetGroup,
		SecurityGroupIDs: slices.Clone(rec.SecurityGroupIDs), CacheSecurityGroups: slices.Clone(rec.CacheSecurityGroups),
		MaintenanceWindow: rec.MaintenanceWindow, SnapshotWindow: rec.SnapshotWindow, SnapshotRetention: rec.SnapshotRetention,
		TransitEncryption: rec.TransitEncryption, AuthTokenHashes: slices.Clone(rec.AuthTokenHashes), AuthTokenModified: rec.AuthTokenModified,
		IPDiscovery: rec.IPDiscovery, NetworkType: rec.NetworkType, ReplicationGroupID: rec.ID}
	if rec.NotificationTopicARN != "" {
		m.NotificationTopicARN, m.NotificationTopicStatus = rec.NotificationTopicARN, topicActive
	}
	req := &clusterRequest{rec: m, askedAZs: az, paramGroup: rec.ParameterGroup, subnetGroup: rec.SubnetGroup}
	fault, err := s.clusterReferences(tx, sc, req)
	return m, fault, err
}

// rgMembers reads the member clusters of every group of sc, by group, in
// ID order: the quota keeps clusters few, so reading them all is bounded.
func rgMembers(tx storage.Tx, sc scope) (map[string][]*cacheClusterRecord, error) {
	all, err := cacheClusters.All(tx, sc)
	if err != nil {
		return nil, err
	}
	out := map[string][]*cacheClusterRecord{}
	for _, c := range all {
		if c.ReplicationGroupID != "" {
			out[c.ReplicationGroupID] = append(out[c.ReplicationGroupID], c)
		}
	}
	return out, nil
}

// replicationGroupStatus derives a group's status from its record and its
// members: deleting once asked; creating until every member was first
// available (create-failed when one could not be made to run); then
// modifying while a member is changing, else available.
func replicationGroupStatus(g *replicationGroupRecord, members []*cacheClusterRecord) string {
	if g.Deleting {
		return rgDeleting
	}
	if !g.Ready {
		for _, m := range members {
			if m.Status == clusterIncompatibleNetwork {
				return "create-failed"
			}
		}
		return rgCreating
	}
	for _, m := range members {
		switch m.Status {
		case clusterCreating, clusterModifying, clusterRebooting, clusterDeleting:
			return rgModifying
		}
	}
	return rgAvailable
}

// memberEndpoint is where a member's node answers; nil until it is placed
// and available.
func memberEndpoint(m *cacheClusterRecord) *api.Endpoint {
	if m == nil || len(m.Nodes) == 0 {
		return nil
	}
	n := m.Nodes[0]
	if n.Address == "" || n.Status == nodeCreating || n.Status == nodeDeleting {
		return nil
	}
	return &api.Endpoint{Address: ptr(n.Address), Port: ptr(int32(n.Port))}
}

// renderReplicationGroup shows a group as AWS does, and as Terraform reads
// it (landscape §4.2): one node group 0001 whose PrimaryEndpoint is the
// primary's node and ReaderEndpoint the first replica's (the primary's
// when there is none): with no DNS here, an address that answers is the
// honest stand-in for AWS's names (docs/DECISIONS.md). Endpoints are
// absent until the nodes are placed.
func renderReplicationGroup(sc scope, g *replicationGroupRecord, members []*cacheClusterRecord) api.ReplicationGroup {
	status := replicationGroupStatus(g, members)
	failover, multiAZ := "disabled", "disabled"
	if g.AutomaticFailover {
		failover = "enabled"
	}
	if g.MultiAZ {
		multiAZ = "enabled"
	}
	out := api.ReplicationGroup{
		ARN:                       ptr(arn(sc, replicationGroupKind, g.ID)),
		AtRestEncryptionEnabled:   ptr(g.AtRestEncryption),
		AuthTokenEnabled:          ptr(len(g.AuthTokenHashes) > 0),
		AuthTokenLastModifiedDate: g.AuthTokenModified,
		AutoMinorVersionUpgrade:   ptr(g.AutoMinorVersionUpgrade),
		AutomaticFailover:         ptr(failover),
		CacheNodeType:             ptr(g.NodeType),
		ClusterEnabled:            ptr(false),
		ClusterMode:               ptr("disabled"),
		DataTiering:               ptr("disabled"),
		Description:               ptr(g.Description),
		Engine:                    ptr(g.Engine),
		IpDiscovery:               ptr(g.IPDiscovery),
		LogDeliveryConfigurations: []api.LogDeliveryConfiguration{},
		MemberClusters:            []string{},
		MultiAZ:                   ptr(multiAZ),
		NetworkType:               ptr(g.NetworkType),
		PendingModifiedValues:     &api.ReplicationGroupPendingModifiedValues{},
		ReplicationGroupId:        ptr(g.ID),
		SnapshotRetentionLimit:    ptr(int32(g.SnapshotRetention)),
		SnapshotWindow:            ptr(g.SnapshotWindow),
		Status:                    ptr(status),
		TransitEncryptionEnabled:  ptr(g.TransitEncryption),
		UserGroupIds:              append([]string{}, g.UserGroupIDs...),
	}
	if status != rgCreating {
		out.ReplicationGroupCreateTime = ptr(g.Created)
	}
	if g.TransitEncryption {
		out.TransitEncryptionMode = ptr("required")
	}
	if g.KMSKeyID != "" {
		out.KmsKeyId = ptr(g.KMSKeyID)
	}
	if g.SnapshotRetention > 0 && g.Primary != "" {
		out.SnapshottingClusterId = ptr(g.Primary)
	}
	for _, l := range g.LogDelivery {
		out.LogDeliveryConfigurations = append(out.LogDeliveryConfigurations, renderLogDelivery(l))
	}
	ng := api.NodeGroup{NodeGroupId: ptr(nodeGroupID), NodeGroupMembers: []api.NodeGroupMember{}}
	var primary, reader *api.Endpoint
	for _, m := range orderMembers(g, members) {
		out.MemberClusters = append(out.MemberClusters, m.ID)
		role := "replica"
		ep := memberEndpoint(m)
		if m.ID == g.Primary {
			role, primary = "primary", ep
		} else if reader == nil {
			reader = ep
		}
		member := api.NodeGroupMember{CacheClusterId: ptr(m.ID), CacheNodeId: ptr(nodeGroupID), ReadEndpoint: ep}
		if len(m.Nodes) > 0 {
			member.PreferredAvailabilityZone = ptr(m.Nodes[0].AZ)
		}
		if status != rgCreating || ep != nil {
			member.CurrentRole = ptr(role)
		}
		ng.NodeGroupMembers = append(ng.NodeGroupMembers, member)
	}
	if reader == nil {
		reader = primary
	}
	ng.PrimaryEndpoint, ng.ReaderEndpoint = primary, reader
	ng.Status = ptr(status)
	if status == "create-failed" {
		ng.Status = ptr(rgCreating)
	}
	out.NodeGroups = []api.NodeGroup{ng}
	return out
}

// orderMembers lists the primary first, then the replicas in ID order,
// as AWS lists a node group's members.
func orderMembers(g *replicationGroupRecord, members []*cacheClusterRecord) []*cacheClusterRecord {
	out := make([]*cacheClusterRecord, 0, len(members))
	for _, m := range members {
		if m.ID == g.Primary {
			out = append(out, m)
		}
	}
	for _, m := range members {
		if m.ID != g.Primary {
			out = append(out, m)
		}
	}
	return out
}

// DescribeReplicationGroups returns one group by ID, or a page of the
// caller's groups in ID order, each with its members as they are now.
func (s *ElastiCache) DescribeReplicationGroups(ctx context.Context, in *api.DescribeReplicationGroupsInput) (*api.DescribeReplicationGroupsOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	var id string
	if in.ReplicationGroupId != nil {
		if id, err = replicationGroupID(paramRGID, in.ReplicationGroupId); err != nil {
			return nil, err
		}
	}
	pg, err := s.pageRequest(opDescribeRGs, sc, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	var members map[string][]*cacheClusterRecord
	recs, marker, err := describeWith(ctx, s, sc, replicationGroups, in.ReplicationGroupId != nil, id, pg, func(tx storage.Tx) error {
		var err error
		members, err = rgMembers(tx, sc)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.DescribeReplicationGroupsOutput{ReplicationGroups: make([]api.ReplicationGroup, 0, len(recs)), Marker: marker}
	for _, r := range recs {
		out.ReplicationGroups = append(out.ReplicationGroups, renderReplicationGroup(sc, r, members[r.ID]))
	}
	return out, nil
}

// memberAvailable is the reconciler's part of a group's creation, in the
// Update that makes member m available: when every member of a group that
// was creating is available, the group is (Ready), with its event.
func memberAvailable(tx storage.Tx, sc scope, m *cacheClusterRecord, now time.Time) error {
	if m.ReplicationGroupID == "" {
		return nil
	}
	g, err := replicationGroups.GetStored(tx, sc, m.ReplicationGroupID)
	if err != nil || g == nil || g.Ready || g.Deleting {
		return err
	}
	all, err := rgMembers(tx, sc)
	if err != nil {
		return err
	}
	for _, o := range all[g.ID] {
		if o.ID != m.ID && o.Status != clusterAvailable {
			return nil
		}
	}
	g.Ready = true
	if err := replicationGroups.Put(tx, sc, g); err != nil {
		return err
	}
	return schema.AppendEvent(tx, sc, now, replicationGroupKind, g.ID, fmt.Sprintf("Replication group %s created", g.ID))
}

// memberGone is the reconciler's part of a group's deletion, in the
// Update that removes member m: the group goes with its last member.
func memberGone(tx storage.Tx, sc scope, m *cacheClusterRecord, now time.Time) error {
	if m.ReplicationGroupID == "" {
		return nil
	}
	g, err := replicationGroups.GetStored(tx, sc, m.ReplicationGroupID)
	if err != nil || g == nil || !g.Deleting {
		return err
	}
	all, err := rgMembers(tx, sc)
	if err != nil || len(all[g.ID]) > 0 {
		return err
	}
	return deleteRG(tx, sc, g.ID, now)
}

// userGroupsNeedTransit answers user groups on a group without encryption
// in transit, in AWS's words (quoted in
// hashicorp/terraform-provider-aws#42966).
func userGroupsNeedTransit() error {
	return api.InvalidParameterCombination("User group based access control requires encryption-in-transit to be enabled on the replication group.")
}
