package service

import (
	"context"
	"fmt"
	"slices"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/network"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// Cache clusters, the request path: it validates, writes what the user
// asked for with a transitional status, raises Generation and marks the
// cluster in the work index (markWork) in the same transaction, and
// answers. It never starts or stops an engine: the reconciler makes
// engines match the record and writes the transition back (creating →
// available, …) with its event. The functions that mark work are
// CreateCacheCluster, ModifyCacheCluster (when the fleet has something to
// do), RebootCacheCluster and DeleteCacheCluster.

// clusterStateFault is InvalidCacheClusterState with its message.
func clusterStateFault(msg string) error { return &api.InvalidCacheClusterStateFault{Message: msg} }

// clusterRequest is what CreateCacheCluster's parameters say once checked
// alone; what needs stored records is checked in the transaction.
type clusterRequest struct {
	rec         *cacheClusterRecord
	askedAZs    []string
	paramGroup  string // "" for the family's default
	subnetGroup string // "" for default, unless cacheSGs
}

// CreateCacheCluster stores a new cluster, status creating, its nodes
// creating in their AZs, with its tags, and marks it for the reconciler.
func (s *ElastiCache) CreateCacheCluster(ctx context.Context, in *api.CreateCacheClusterInput) (*api.CreateCacheClusterOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	if in.ReplicationGroupId != nil {
		return s.createMemberCluster(ctx, sc, in)
	}
	req, err := s.clusterRequest(sc, in)
	if err != nil {
		return nil, err
	}
	tags, err := requestTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	rec := req.rec
	quota := s.cfg.quota(sc.Account, cacheClusterKind)
	_, perRegion := s.cfg.nodeQuotas(sc.Account)
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		taken, err := cacheClusters.Exists(tx, sc, rec.ID)
		if err != nil || taken {
			return &api.CacheClusterAlreadyExistsFault{Message: fmt.Sprintf("Cache cluster %s already exists.", rec.ID)}, err
		}
		n, err := cacheClusters.Count(tx, sc)
		if err != nil {
			return nil, err
		}
		if n >= quota {
			return &api.ClusterQuotaForCustomerExceededFault{Message: fmt.Sprintf("The number of cache clusters in this region may not exceed %d.", quota)}, nil
		}
		if len(tags) > maxTagsPerResource {
			return tagQuotaExceeded(), nil
		}
		nodes, err := regionNodes(tx, sc)
		if err != nil {
			return nil, err
		}
		if nodes+rec.NumNodes > perRegion {
			return nodesPerCustomerExceeded(perRegion), nil
		}
		if fault, err := s.clusterReferences(tx, sc, req); fault != nil || err != nil {
			return fault, err
		}
		if err := cacheClusters.Insert(tx, sc, rec); err != nil {
			return nil, err
		}
		if len(tags) > 0 {
			if err := schema.PutTags(tx, sc, cacheClusterKind, rec.ID, schema.Tags(tags)); err != nil {
				return nil, err
			}
		}
		return nil, markWork(tx, sc, rec.ID, rec.Generation)
	})
	if err != nil {
		return nil, err
	}
	s.workMarked()
	c := renderCacheCluster(sc, rec, false)
	return &api.CreateCacheClusterOutput{CacheCluster: &c}, nil
}

// clusterRequest checks CreateCacheCluster's parameters one by one, in
// the order a user fixes them, and builds the record to store.
func (s *ElastiCache) clusterRequest(sc scope, in *api.CreateCacheClusterInput) (*clusterRequest, error) {
	id, err := cacheClusterID(paramClusterID, in.CacheClusterId)
	if err != nil {
		return nil, err
	}
	if in.SnapshotName != nil {
		return nil, &api.SnapshotNotFoundFault{Message: fmt.Sprintf("Snapshot %s not found.", *in.SnapshotName)}
	}
	if len(in.SnapshotArns) > 0 {
		return nil, invalid("SnapshotArns", "there is no Amazon S3 here to read a snapshot from.")
	}
	if in.OutpostMode != nil || in.PreferredOutpostArn != nil || len(in.PreferredOutpostArns) > 0 {
		return nil, api.InvalidParameterValue("Outposts are not available in this region.")
	}
	engine, err := clusterEngine(in.Engine)
	if err != nil {
		return nil, err
	}
	nodeType, err := clusterNodeType("CacheNodeType", in.CacheNodeType, engine)
	if err != nil {
		return nil, err
	}
	ver, err := clusterVersion(engine, in.EngineVersion)
	if err != nil {
		return nil, err
	}
	perCluster, _ := s.cfg.nodeQuotas(sc.Account)
	n, err := numNodesParam(in.NumCacheNodes, engine, perCluster)
	if err != nil {
		return nil, err
	}
	port, err := portParam(in.Port, engine)
	if err != nil {
		return nil, err
	}
	mode, asked, err := azParams(sc, engine, n, in.AZMode, in.PreferredAvailabilityZone, in.PreferredAvailabilityZones)
	if err != nil {
		return nil, err
	}
	rec := &cacheClusterRecord{ID: id, Engine: engine, EngineVersion: ver.EngineVersion, Family: ver.CacheParameterGroupFamily,
		NodeType: nodeType, NumNodes: n, Port: port, Status: clusterCreating, Generation: 1, AZMode: mode,
		ParamStatus: paramsInSync, AutoMinorVersionUpgrade: true, Created: s.clock.Now()}
	maint, snap := defaultWindows(sc, id)
	if in.PreferredMaintenanceWindow != nil {
		if maint, err = maintenanceWindow(*in.PreferredMaintenanceWindow); err != nil {
			return nil, err
		}
	}
	rec.MaintenanceWindow = maint
	if engine == engineMemcached {
		if in.SnapshotWindow != nil || in.SnapshotRetentionLimit != nil {
			return nil, api.InvalidParameterCombination("Snapshots are not supported for Memcached clusters: SnapshotWindow and SnapshotRetentionLimit apply to redis only.")
		}
		if len(in.LogDeliveryConfigurations) > 0 {
			return nil, api.InvalidParameterCombination("Log delivery is not supported for Memcached clusters.")
		}
	} else {
		if in.SnapshotWindow != nil {
			if snap, err = snapshotWindow(*in.SnapshotWindow); err != nil {
				return nil, err
			}
		}
		rec.SnapshotWindow = snap
		if in.SnapshotRetentionLimit != nil {
			if rec.SnapshotRetention, err = snapshotRetention(*in.SnapshotRetentionLimit); err != nil {
				return nil, err
			}
		}
		if rec.LogDelivery, err = applyLogDelivery(nil, in.LogDeliveryConfigurations); err != nil {
			return nil, err
		}
	}
	if in.AutoMinorVersionUpgrade != nil {
		rec.AutoMinorVersionUpgrade = *in.AutoMinorVersionUpgrade
	}
	if in.NotificationTopicArn != nil {
		if err := topicARN(sc, *in.NotificationTopicArn); err != nil {
			return nil, err
		}
		rec.NotificationTopicARN, rec.NotificationTopicStatus = *in.NotificationTopicArn, topicActive
	}
	if rec.NetworkType, rec.IPDiscovery, err = networkParams(in.NetworkType, in.IpDiscovery); err != nil {
		return nil, err
	}
	rec.TransitEncryption = in.TransitEncryptionEnabled != nil && *in.TransitEncryptionEnabled
	if in.AuthToken != nil {
		if engine == engineMemcached {
			return nil, api.InvalidParameterCombination("AuthToken is not supported for Memcached clusters.")
		}
		if !rec.TransitEncryption {
			return nil, api.InvalidParameterCombination("AuthToken can be specified only when TransitEncryptionEnabled is true.")
		}
		h, err := authToken(*in.AuthToken)
		if err != nil {
			return nil, err
		}
		rec.AuthTokenHashes = []string{h}
	}
	if rec.SecurityGroupIDs, err = securityGroupIDs(in.SecurityGroupIds); err != nil {
		return nil, err
	}
	req := &clusterRequest{rec: rec, askedAZs: asked}
	if rec.CacheSecurityGroups, req.subnetGroup, err = s.placementParams(sc, in.CacheSecurityGroupNames, in.CacheSubnetGroupName, in.SecurityGroupIds); err != nil {
		return nil, err
	}
	rec.SubnetGroup = req.subnetGroup
	if in.CacheParameterGroupName != nil {
		if req.paramGroup, err = describedParameterGroupName(in.CacheParameterGroupName); err != nil {
			return nil, err
		}
	}
	return req, nil
}

func snapshotRetention(n int32) (int, error) {
	if n < 0 || n > maxSnapshotRetention {
		return 0, invalid("SnapshotRetentionLimit", fmt.Sprintf("must be between 0 and %d.", maxSnapshotRetention))
	}
	return int(n), nil
}

// azParams checks AZMode, PreferredAvailabilityZone and
// PreferredAvailabilityZones alone: zones of the region, as many as nodes,
// cross-az only for Memcached and more than one node. It returns the mode
// to store ("" for redis) and the AZ of each node asked for (none when
// the request leaves placement to the service).
func azParams(sc scope, engine string, n int, modeP, one *string, many []string) (mode string, asked []string, err error) {
	if modeP != nil {
		if engine != engineMemcached {
			return "", nil, api.InvalidParameterCombination("AZMode is only supported for Memcached clusters.")
		}
		if *modeP != azModeSingle && *modeP != azModeCross {
			return "", nil, invalid("AZMode", "must be single-az or cross-az.")
		}
		mode = *modeP
		if mode == azModeCross && n < 2 {
			return "", nil, api.InvalidParameterValue("The cross-az AZMode requires a cluster of more than one cache node.")
		}
	}
	if one != nil && len(many) > 0 {
		return "", nil, api.InvalidParameterCombination("PreferredAvailabilityZone and PreferredAvailabilityZones cannot be specified together.")
	}
	zones := network.AvailabilityZones(sc.Region)
	check := func(param, az string) error {
		if !slices.Contains(zones, az) {
			return invalid(param, fmt.Sprintf("%s is not an availability zone of %s.", az, sc.Region))
		}
		return nil
	}
	switch {
	case one != nil:
		if err := check("PreferredAvailabilityZone", *one); err != nil {
			return "", nil, err
		}
		if mode == azModeCross {
			return "", nil, api.InvalidParameterCombination("PreferredAvailabilityZone places every node in one zone, which the cross-az AZMode does not allow; use PreferredAvailabilityZones.")
		}
		for range n {
			asked = append(asked, *one)
		}
	case len(many) > 0:
		if len(many) != n {
			return "", nil, api.InvalidParameterCombination(fmt.Sprintf("The number of PreferredAvailabilityZones (%d) must equal NumCacheNodes (%d).", len(many), n))
		}
		for _, az := range many {
			if err := check("PreferredAvailabilityZones", az); err != nil {
				return "", nil, err
			}
		}
		asked = slices.Clone(many)
		if engine == engineMemcached && mode == "" && preferredAZ("", asked) == azMultiple {
			mode = azModeCross
		}
		if mode == azModeSingle && preferredAZ("", asked) == azMultiple {
			return "", nil, api.InvalidParameterCombination("The single-az AZMode places every node in one zone; PreferredAvailabilityZones names several.")
		}
	}
	if engine == engineMemcached && mode == "" {
		mode = azModeSingle
	}
	return mode, asked, nil
}

// clusterZones are the AZs a cluster's nodes may be in: those of its
// subnet group's subnets, or of the region for a cluster outside a VPC.
func clusterZones(tx storage.Tx, sc scope, subnetGroup string) (zones []string, group *subnetGroupRecord, err error) {
	if subnetGroup == "" {
		return network.AvailabilityZones(sc.Region), nil, nil
	}
	g, err := subnetGroups.Get(tx, sc, subnetGroup)
	if err != nil || g == nil {
		return nil, nil, err
	}
	for _, sn := range g.Subnets {
		if !slices.Contains(zones, sn.AvailabilityZone) {
			zones = append(zones, sn.AvailabilityZone)
		}
	}
	slices.Sort(zones)
	return zones, g, nil
}

// clusterReferences checks, in tx, what a new cluster names (subnet
// group, cache security groups, parameter group), places its nodes and
// completes the record.
func (s *ElastiCache) clusterReferences(tx storage.Tx, sc scope, req *clusterRequest) (fault, err error) {
	rec := req.rec
	zones, group, err := clusterZones(tx, sc, req.subnetGroup)
	if err != nil {
		return nil, err
	}
	if req.subnetGroup != "" {
		if group == nil {
			return subnetGroupNotFound(req.subnetGroup), nil
		}
		if !slices.Contains(network.GroupNetworkTypes(group.networkSubnets()), rec.NetworkType) {
			return api.InvalidParameterCombination(fmt.Sprintf("The network type %s is not supported by cache subnet group %s.", rec.NetworkType, group.Name)), nil
		}
	}
	for _, name := range rec.CacheSecurityGroups {
		ok, err := securityGroups.Exists(tx, sc, name)
		if err != nil || !ok {
			return groupNotFound(name), err
		}
	}
	for _, az := range req.askedAZs {
		if !slices.Contains(zones, az) {
			return &api.InvalidVPCNetworkStateFault{Message: fmt.Sprintf("Cache subnet group %s has no subnet in availability zone %s.", req.subnetGroup, az)}, nil
		}
	}
	if fault, err := clusterParameterGroup(tx, sc, rec, req.paramGroup); fault != nil || err != nil {
		return fault, err
	}
	h := idHash(sc, rec.ID)
	azs := placeNodes(rec.NumNodes, req.askedAZs, zones, rec.AZMode, h, zones[int(h%uint64(len(zones)))])
	for i, az := range azs {
		rec.Nodes = append(rec.Nodes, cacheNodeRecord{ID: nodeID(i + 1), Status: nodeCreating, AZ: az, ParamStatus: paramsInSync})
	}
	rec.PreferredAZ = preferredAZ(rec.AZMode, azs)
	return nil, nil
}

// clusterParameterGroup sets rec's parameter group: name, or the family's
// default when name is "". The group must exist, be of the cluster's
// family (AWS's message, terraform-provider-aws#27709) and not enable
// cluster mode (the model's CreateCacheCluster documentation).
func clusterParameterGroup(tx storage.Tx, sc scope, rec *cacheClusterRecord, name string) (fault, err error) {
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
		return api.InvalidParameterCombination(fmt.Sprintf("Parameter group %s has cluster-enabled set to yes, which a cache cluster cannot use; create a replication group instead.", name)), nil
	}
	rec.ParameterGroup = name
	return nil, nil
}

// regionNodes is how many nodes the clusters of sc have or will have:
// what the per-region node quota limits. The quota keeps clusters few, so
// reading them all is bounded.
func regionNodes(tx storage.Tx, sc scope) (int, error) {
	all, err := cacheClusters.All(tx, sc)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range all {
		n += max(len(c.Nodes), c.NumNodes, c.PendingNumNodes)
	}
	return n, nil
}

// clusterUsing returns the ID of a cluster of sc that uses, by uses, a
// group being deleted ("" when none).
func clusterUsing(tx storage.Tx, sc scope, uses func(*cacheClusterRecord) bool) (string, error) {
	all, err := cacheClusters.All(tx, sc)
	if err != nil {
		return "", err
	}
	for _, c := range all {
		if uses(c) {
			return c.ID, nil
		}
	}
	return "", nil
}

// DescribeCacheClusters returns one cluster by ID, or a page of the
// caller's clusters in ID order; nodes only with ShowCacheNodeInfo.
// ShowCacheClustersNotInReplicationGroups leaves out the members of
// replication groups: a page may then hold fewer clusters than
// MaxRecords and still carry a marker.
func (s *ElastiCache) DescribeCacheClusters(ctx context.Context, in *api.DescribeCacheClustersInput) (*api.DescribeCacheClustersOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	var id string
	if in.CacheClusterId != nil {
		if id, err = cacheClusterID(paramClusterID, in.CacheClusterId); err != nil {
			return nil, err
		}
	}
	pg, err := s.pageRequest(opDescribeClusters, sc, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	recs, marker, err := describe(ctx, s, sc, cacheClusters, in.CacheClusterId != nil, id, pg)
	if err != nil {
		return nil, err
	}
	show := in.ShowCacheNodeInfo != nil && *in.ShowCacheNodeInfo
	alone := in.ShowCacheClustersNotInReplicationGroups != nil && *in.ShowCacheClustersNotInReplicationGroups
	out := &api.DescribeCacheClustersOutput{CacheClusters: make([]api.CacheCluster, 0, len(recs)), Marker: marker}
	for _, r := range recs {
		if alone && r.ReplicationGroupID != "" {
			continue
		}
		out.CacheClusters = append(out.CacheClusters, renderCacheCluster(sc, r, show))
	}
	return out, nil
}

// renderCacheCluster shows a cluster as AWS does (the model's CacheCluster
// and botocore's examples): PendingModifiedValues and CacheSecurityGroups
// always present, nodes only when asked and never while the cluster is
// creating or deleting, a new node without endpoint or creation time, a
// node being removed without endpoint.
func renderCacheCluster(sc scope, r *cacheClusterRecord, showNodes bool) api.CacheCluster {
	c := api.CacheCluster{
		ARN:                                ptr(arn(sc, cacheClusterKind, r.ID)),
		AtRestEncryptionEnabled:            ptr(false),
		AuthTokenEnabled:                   ptr(len(r.AuthTokenHashes) > 0),
		AutoMinorVersionUpgrade:            ptr(r.AutoMinorVersionUpgrade),
		CacheClusterId:                     ptr(r.ID),
		CacheClusterStatus:                 ptr(r.Status),
		CacheNodeType:                      ptr(r.NodeType),
		CacheSecurityGroups:                []api.CacheSecurityGroupMembership{},
		ClientDownloadLandingPage:          ptr(clientDownloadPage),
		Engine:                             ptr(r.Engine),
		EngineVersion:                      ptr(r.EngineVersion),
		IpDiscovery:                        ptr(r.IPDiscovery),
		LogDeliveryConfigurations:          []api.LogDeliveryConfiguration{},
		NetworkType:                        ptr(r.NetworkType),
		NumCacheNodes:                      ptr(int32(r.NumNodes)),
		PendingModifiedValues:              &api.PendingModifiedValues{},
		PreferredAvailabilityZone:          ptr(r.PreferredAZ),
		PreferredMaintenanceWindow:         ptr(r.MaintenanceWindow),
		ReplicationGroupLogDeliveryEnabled: ptr(false),
		TransitEncryptionEnabled:           ptr(r.TransitEncryption),
		CacheParameterGroup: &api.CacheParameterGroupStatus{
			CacheParameterGroupName: ptr(r.ParameterGroup),
			ParameterApplyStatus:    ptr(orDefault(r.ParamStatus, paramsInSync)),
			CacheNodeIdsToReboot:    append([]string{}, r.NodesToReboot...),
		},
	}
	if r.Status != clusterCreating {
		c.CacheClusterCreateTime = ptr(r.Created)
	}
	if r.ReplicationGroupID != "" {
		c.ReplicationGroupId = ptr(r.ReplicationGroupID)
	}
	c.AuthTokenLastModifiedDate = r.AuthTokenModified
	if r.TransitEncryption {
		c.TransitEncryptionMode = ptr("required")
	}
	for _, name := range r.CacheSecurityGroups {
		c.CacheSecurityGroups = append(c.CacheSecurityGroups, api.CacheSecurityGroupMembership{CacheSecurityGroupName: ptr(name), Status: ptr(statusMemberActive)})
	}
	if r.SubnetGroup != "" {
		c.CacheSubnetGroupName = ptr(r.SubnetGroup)
	}
	for _, id := range r.SecurityGroupIDs {
		c.SecurityGroups = append(c.SecurityGroups, api.SecurityGroupMembership{SecurityGroupId: ptr(id), Status: ptr(statusMemberActive)})
	}
	if r.Engine == engineRedis {
		c.SnapshotRetentionLimit = ptr(int32(r.SnapshotRetention))
		c.SnapshotWindow = ptr(r.SnapshotWindow)
	}
	if r.NotificationTopicARN != "" {
		c.NotificationConfiguration = &api.NotificationConfiguration{TopicArn: ptr(r.NotificationTopicARN), TopicStatus: ptr(r.NotificationTopicStatus)}
	}
	for _, l := range r.LogDelivery {
		c.LogDeliveryConfigurations = append(c.LogDeliveryConfigurations, renderLogDelivery(l))
	}
	renderPending(&c, r)
	// The configuration endpoint of a Memcached cluster: AWS's is a
	// .cfg. DNS name that resolves to its nodes; with no DNS here it is
	// the first placed node's address and port, which a client can
	// connect to (docs/DECISIONS.md).
	if r.Engine == engineMemcached {
		for _, n := range r.Nodes {
			if n.Address != "" && n.Status != nodeDeleting {
				c.ConfigurationEndpoint = &api.Endpoint{Address: ptr(n.Address), Port: ptr(int32(n.Port))}
				break
			}
		}
	}
	if showNodes && r.Status != clusterCreating && r.Status != clusterDeleting {
		c.CacheNodes = make([]api.CacheNode, 0, len(r.Nodes))
		for _, n := range r.Nodes {
			node := api.CacheNode{
				CacheNodeId:              ptr(n.ID),
				CacheNodeStatus:          ptr(n.Status),
				CustomerAvailabilityZone: ptr(n.AZ),
				ParameterGroupStatus:     ptr(orDefault(n.ParamStatus, paramsInSync)),
			}
			if n.Status != nodeCreating {
				if !n.Created.IsZero() {
					node.CacheNodeCreateTime = ptr(n.Created)
				}
				if n.Address != "" && n.Status != nodeDeleting {
					node.Endpoint = &api.Endpoint{Address: ptr(n.Address), Port: ptr(int32(n.Port))}
				}
			}
			c.CacheNodes = append(c.CacheNodes, node)
		}
	}
	return c
}

// renderPending fills PendingModifiedValues: the changes kept for later
// (the record's Pending fields), and, while a change of the number of
// nodes is under way, that change as AWS shows it: NumCacheNodes counts
// the nodes that were there, the pending values say where it goes.
func renderPending(c *api.CacheCluster, r *cacheClusterRecord) {
	p := c.PendingModifiedValues
	if r.PendingNumNodes > 0 {
		p.NumCacheNodes = ptr(int32(r.PendingNumNodes))
	}
	p.CacheNodeIdsToRemove = slices.Clone(r.PendingNodesToRemove)
	if r.PendingNodeType != "" {
		p.CacheNodeType = ptr(r.PendingNodeType)
	}
	if r.PendingEngineVersion != "" {
		p.EngineVersion = ptr(r.PendingEngineVersion)
	}
	if r.Status != clusterModifying {
		return
	}
	var adding, removing []string
	for _, n := range r.Nodes {
		switch n.Status {
		case nodeCreating:
			adding = append(adding, n.ID)
		case nodeDeleting:
			removing = append(removing, n.ID)
		}
	}
	if len(adding) > 0 || len(removing) > 0 {
		c.NumCacheNodes = ptr(int32(len(r.Nodes) - len(adding)))
		p.NumCacheNodes = ptr(int32(r.NumNodes))
		p.CacheNodeIdsToRemove = removing
	}
}

func renderLogDelivery(l logDeliveryRecord) api.LogDeliveryConfiguration {
	d := &api.DestinationDetails{}
	if l.DestinationType == "cloudwatch-logs" {
		d.CloudWatchLogsDetails = &api.CloudWatchLogsDestinationDetails{LogGroup: ptr(l.Destination)}
	} else {
		d.KinesisFirehoseDetails = &api.KinesisFirehoseDestinationDetails{DeliveryStream: ptr(l.Destination)}
	}
	out := api.LogDeliveryConfiguration{DestinationDetails: d, DestinationType: ptr(l.DestinationType),
		LogFormat: ptr(l.LogFormat), LogType: ptr(l.LogType), Status: ptr(l.Status)}
	if l.Message != "" {
		out.Message = ptr(l.Message)
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// changeCluster is what Modify, Reboot and Delete share: the cluster
// (NotFound when there is none), change, which decides in the
// transaction (a fault, or whether the fleet has work), the write, and
// the work mark with a new Generation when it has.
func (s *ElastiCache) changeCluster(ctx context.Context, idP *string, change func(tx storage.Tx, sc scope, rec *cacheClusterRecord) (work bool, fault, err error)) (*cacheClusterRecord, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := cacheClusterID(paramClusterID, idP)
	if err != nil {
		return nil, err
	}
	var rec *cacheClusterRecord
	marked := false
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		var err error
		if rec, err = cacheClusters.Get(tx, sc, id); err != nil || rec == nil {
			return cacheClusterNotFound(id), err
		}
		work, fault, err := change(tx, sc, rec)
		marked = work
		if fault != nil || err != nil {
			return fault, err
		}
		if work {
			rec.Generation++
			if err := markWork(tx, sc, id, rec.Generation); err != nil {
				return nil, err
			}
		}
		return nil, cacheClusters.Put(tx, sc, rec)
	})
	if err != nil {
		return nil, err
	}
	if marked {
		s.workMarked()
	}
	return rec, nil
}

// RebootCacheCluster reboots the named nodes: the cluster is `rebooting
// cluster nodes` (Terraform's and the model's spelling), those nodes
// `rebooting`, until the reconciler has restarted them.
func (s *ElastiCache) RebootCacheCluster(ctx context.Context, in *api.RebootCacheClusterInput) (*api.RebootCacheClusterOutput, error) {
	if len(in.CacheNodeIdsToReboot) == 0 {
		return nil, api.InvalidParameterValue("The parameter CacheNodeIdsToReboot must be provided and must name at least one cache node.")
	}
	rec, err := s.changeCluster(ctx, in.CacheClusterId, func(_ storage.Tx, _ scope, rec *cacheClusterRecord) (bool, error, error) {
		if rec.Status != clusterAvailable {
			return false, clusterStateFault(fmt.Sprintf("Cache cluster %s is not in available state; it is %s.", rec.ID, rec.Status)), nil
		}
		for _, id := range in.CacheNodeIdsToReboot {
			i := slices.IndexFunc(rec.Nodes, func(n cacheNodeRecord) bool { return n.ID == id })
			if i < 0 {
				return false, invalid("CacheNodeIdsToReboot", fmt.Sprintf("cache node %s does not exist in cluster %s.", id, rec.ID)), nil
			}
			rec.Nodes[i].Status = nodeRebooting
		}
		rec.Status = clusterRebooting
		return true, nil, nil
	})
	if err != nil {
		return nil, err
	}
	c := renderCacheCluster(mustScope(ctx), rec, false)
	return &api.RebootCacheClusterOutput{CacheCluster: &c}, nil
}

// deletableStates are the statuses AWS deletes a cluster in (its answer
// to any other: "Can only delete cache clusters with state in: …", quoted
// in hashicorp/terraform#1331); failed, incompatible-parameters and
// restore-failed are never reached here.
var deletableStates = []string{clusterAvailable, clusterIncompatibleNetwork}

// DeleteCacheCluster answers the cluster `deleting`, its nodes deleting;
// the reconciler stops the engines and removes the record and its tags.
// A final snapshot is refused: snapshots do not exist here yet, and
// silently deleting without the snapshot a user asked for would lose data
// they meant to keep.
func (s *ElastiCache) DeleteCacheCluster(ctx context.Context, in *api.DeleteCacheClusterInput) (*api.DeleteCacheClusterOutput, error) {
	if in.FinalSnapshotIdentifier != nil {
		if _, err := cacheClusterID("FinalSnapshotIdentifier", in.FinalSnapshotIdentifier); err != nil {
			return nil, err
		}
	}
	rec, err := s.changeCluster(ctx, in.CacheClusterId, func(tx storage.Tx, sc scope, rec *cacheClusterRecord) (bool, error, error) {
		if fault, err := memberDeleteFault(tx, sc, rec); fault != nil || err != nil {
			return false, fault, err
		}
		if in.FinalSnapshotIdentifier != nil {
			if rec.Engine == engineMemcached {
				return false, &api.SnapshotFeatureNotSupportedFault{Message: "Snapshots are not supported for Memcached clusters."}, nil
			}
			return false, &api.SnapshotFeatureNotSupportedFault{Message: "This server does not take snapshots yet: delete the cluster without FinalSnapshotIdentifier, or keep it."}, nil
		}
		if !slices.Contains(deletableStates, rec.Status) {
			return false, clusterStateFault("Can only delete cache clusters with state in: available, failed, incompatible-parameters, incompatible-network, restore-failed"), nil
		}
		rec.Status = clusterDeleting
		for i := range rec.Nodes {
			rec.Nodes[i].Status = nodeDeleting
		}
		return true, nil, nil
	})
	if err != nil {
		return nil, err
	}
	c := renderCacheCluster(mustScope(ctx), rec, false)
	return &api.DeleteCacheClusterOutput{CacheCluster: &c}, nil
}

// mustScope is the scope of a request whose scope was already checked.
func mustScope(ctx context.Context) scope {
	sc, _ := scopeOf(ctx)
	return sc
}

// markGroupClusters hands the available clusters of parameter group group
// to the fleet after a change of the group's values: their
// ParameterApplyStatus is applying until the reconciler has applied the
// change (dynamic parameters at once, static ones pending a reboot), as
// on AWS, where every cluster of a group follows it.
func markGroupClusters(tx storage.Tx, sc scope, group string) (marked bool, err error) {
	all, err := cacheClusters.All(tx, sc)
	if err != nil {
		return false, err
	}
	for _, rec := range all {
		if rec.ParameterGroup != group || rec.Status != clusterAvailable {
			continue
		}
		rec.ParamStatus = paramsApplying
		rec.Generation++
		if err := cacheClusters.Put(tx, sc, rec); err != nil {
			return false, err
		}
		if err := markWork(tx, sc, rec.ID, rec.Generation); err != nil {
			return false, err
		}
		marked = true
	}
	return marked, nil
}
