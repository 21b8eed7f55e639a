package service

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/elasticache-server/elasticache-server/catalogue"
	"github.com/elasticache-server/elasticache-server/network"
	"github.com/elasticache-server/elasticache-server/service/schema"
)

// A cache cluster in the state document: every field of the record, its
// nodes included, so that an import gives back the same clusters. A
// cluster imported in a transitional status is not marked for the
// reconciler by the import itself (the reconciler finds it on its own
// start); its Generation is kept.

// stateCacheCluster is a cluster in the state document. Field order is
// output order; lists are never omitted.
type stateCacheCluster struct {
	Name                    string             `json:"name"`
	Engine                  string             `json:"engine"`
	EngineVersion           string             `json:"engineVersion"`
	Family                  string             `json:"family"`
	NodeType                string             `json:"nodeType"`
	NumNodes                int                `json:"numNodes"`
	Port                    int                `json:"port"`
	Status                  string             `json:"status"`
	Generation              int                `json:"generation"`
	Created                 *time.Time         `json:"created,omitempty"`
	SubnetGroup             string             `json:"subnetGroup,omitempty"`
	SecurityGroupIDs        []string           `json:"securityGroupIds"`
	CacheSecurityGroups     []string           `json:"cacheSecurityGroups"`
	ParameterGroup          string             `json:"parameterGroup"`
	ParamStatus             string             `json:"paramStatus"`
	NodesToReboot           []string           `json:"nodesToReboot"`
	AppliedParams           map[string]string  `json:"appliedParams"`
	PreferredAZ             string             `json:"preferredAz"`
	AZMode                  string             `json:"azMode,omitempty"`
	NewAZs                  []string           `json:"newAzs"`
	MaintenanceWindow       string             `json:"maintenanceWindow"`
	SnapshotWindow          string             `json:"snapshotWindow,omitempty"`
	SnapshotRetention       int                `json:"snapshotRetention"`
	AutoMinorVersionUpgrade bool               `json:"autoMinorVersionUpgrade"`
	NotificationTopicARN    string             `json:"notificationTopicArn,omitempty"`
	NotificationTopicStatus string             `json:"notificationTopicStatus,omitempty"`
	TransitEncryption       bool               `json:"transitEncryption"`
	AuthTokenHashes         []string           `json:"authTokenHashes"`
	AuthTokenModified       *time.Time         `json:"authTokenModified,omitempty"`
	IPDiscovery             string             `json:"ipDiscovery"`
	NetworkType             string             `json:"networkType"`
	LogDelivery             []stateLogDelivery `json:"logDelivery"`
	PendingNumNodes         int                `json:"pendingNumNodes"`
	PendingNodesToRemove    []string           `json:"pendingNodesToRemove"`
	PendingEngineVersion    string             `json:"pendingEngineVersion,omitempty"`
	PendingNodeType         string             `json:"pendingNodeType,omitempty"`
	ReplicationGroupID      string             `json:"replicationGroupId,omitempty"`
	AccessChanged           bool               `json:"accessChanged,omitempty"`
	Nodes                   []stateCacheNode   `json:"nodes"`
	Tags                    []schema.Tag       `json:"tags"`
}

type stateCacheNode struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	AZ          string     `json:"az"`
	Created     *time.Time `json:"created,omitempty"`
	Address     string     `json:"address,omitempty"`
	Port        int        `json:"port,omitempty"`
	Owner       string     `json:"owner,omitempty"`
	ParamStatus string     `json:"paramStatus"`
}

type stateLogDelivery struct {
	LogType         string `json:"logType"`
	DestinationType string `json:"destinationType"`
	Destination     string `json:"destination"`
	LogFormat       string `json:"logFormat"`
	Status          string `json:"status"`
	Message         string `json:"message,omitempty"`
}

func orEmpty(l []string) []string { return append([]string{}, l...) }

func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return ptr(t.UTC())
}

// exportCacheCluster is a cluster's item in the state document.
func exportCacheCluster(b []byte, tags schema.Tags) (any, error) {
	r, err := schema.Decode[cacheClusterRecord](b)
	if err != nil {
		return nil, err
	}
	c := stateCacheCluster{Name: r.ID, Engine: r.Engine, EngineVersion: r.EngineVersion, Family: r.Family, NodeType: r.NodeType,
		NumNodes: r.NumNodes, Port: r.Port, Status: r.Status, Generation: r.Generation, Created: utcPtr(r.Created),
		SubnetGroup: r.SubnetGroup, SecurityGroupIDs: orEmpty(r.SecurityGroupIDs), CacheSecurityGroups: orEmpty(r.CacheSecurityGroups),
		ParameterGroup: r.ParameterGroup, ParamStatus: r.ParamStatus, NodesToReboot: orEmpty(r.NodesToReboot),
		AppliedParams: maps.Clone(r.AppliedParams), PreferredAZ: r.PreferredAZ, AZMode: r.AZMode, NewAZs: orEmpty(r.NewAZs),
		MaintenanceWindow: r.MaintenanceWindow, SnapshotWindow: r.SnapshotWindow, SnapshotRetention: r.SnapshotRetention,
		AutoMinorVersionUpgrade: r.AutoMinorVersionUpgrade, NotificationTopicARN: r.NotificationTopicARN,
		NotificationTopicStatus: r.NotificationTopicStatus, TransitEncryption: r.TransitEncryption,
		AuthTokenHashes: orEmpty(r.AuthTokenHashes), IPDiscovery: r.IPDiscovery, NetworkType: r.NetworkType,
		LogDelivery: []stateLogDelivery{}, PendingNumNodes: r.PendingNumNodes, PendingNodesToRemove: orEmpty(r.PendingNodesToRemove),
		PendingEngineVersion: r.PendingEngineVersion, PendingNodeType: r.PendingNodeType, ReplicationGroupID: r.ReplicationGroupID,
		AccessChanged: r.AccessChanged, Nodes: []stateCacheNode{},
		Tags: schema.TagList(tags)}
	if c.AppliedParams == nil {
		c.AppliedParams = map[string]string{}
	}
	if r.AuthTokenModified != nil {
		c.AuthTokenModified = ptr(r.AuthTokenModified.UTC())
	}
	for _, l := range r.LogDelivery {
		c.LogDelivery = append(c.LogDelivery, stateLogDelivery(l))
	}
	for _, n := range r.Nodes {
		c.Nodes = append(c.Nodes, stateCacheNode{ID: n.ID, Status: n.Status, AZ: n.AZ, Created: utcPtr(n.Created),
			Address: n.Address, Port: n.Port, Owner: n.Owner, ParamStatus: n.ParamStatus})
	}
	return c, nil
}

var (
	clusterStatuses = []string{clusterCreating, clusterAvailable, clusterModifying, clusterDeleting, clusterRebooting, clusterIncompatibleNetwork}
	nodeStatuses    = []string{nodeCreating, nodeAvailable, nodeRebooting, nodeDeleting}
	paramStatuses   = []string{paramsInSync, paramsApplying, paramsPendingReboot}
)

// stateStrings reads a list of strings, each checked by valid ("" when
// good, else the problem).
func stateStrings(p *schema.Parser, path string, o schema.Object, key string, valid func(string) string) []string {
	var out []string
	for i, v := range p.List(path, o, key, true) {
		ipath := fmt.Sprintf("%s.%s[%d]", path, key, i)
		s, ok := v.(string)
		if !ok {
			p.Add(ipath, "must be a string")
			continue
		}
		if problem := valid(s); problem != "" {
			p.Add(ipath, "%s", problem)
			continue
		}
		out = append(out, s)
	}
	return out
}

// oneOf is a problem when s is not one of list.
func oneOf(s string, list []string) string {
	if slices.Contains(list, s) {
		return ""
	}
	return fmt.Sprintf("must be one of %v, not %s", list, schema.Quote(s))
}

// parseCacheCluster reads a cluster of a state document with the API's
// rules for each value.
func parseCacheCluster(p *schema.Parser, path string, v any) (item schema.Item, ok, nameOK bool) {
	o, ok := p.Object(path, v, "name", "engine", "engineVersion", "family", "nodeType", "numNodes", "port", "status", "generation",
		"created", "subnetGroup", "securityGroupIds", "cacheSecurityGroups", "parameterGroup", "paramStatus", "nodesToReboot",
		"appliedParams", "preferredAz", "azMode", "newAzs", "maintenanceWindow", "snapshotWindow", "snapshotRetention",
		"autoMinorVersionUpgrade", "notificationTopicArn", "notificationTopicStatus", "transitEncryption", "authTokenHashes",
		"authTokenModified", "ipDiscovery", "networkType", "logDelivery", "pendingNumNodes", "pendingNodesToRemove",
		"pendingEngineVersion", "pendingNodeType", "replicationGroupId", "accessChanged", "nodes", "tags")
	if !ok {
		return schema.Item{}, false, false
	}
	n := p.Found()
	r := &cacheClusterRecord{}
	str := func(key string, required bool, check func(string) string) string {
		s, present := p.Str(path, o, key, required)
		if present && check != nil {
			if problem := check(s); problem != "" {
				p.Add(path+"."+key, "%s", problem)
			}
		}
		return s
	}
	if raw, ok := p.Str(path, o, "name", true); ok {
		id, err := cacheClusterID("name", &raw)
		switch {
		case err != nil:
			p.Add(path+".name", "%s", rule(err))
		case id != raw:
			p.Add(path+".name", "must be lowercase, as IDs are stored: %s", id)
		}
		r.ID, nameOK = id, err == nil && id == raw
	}
	r.Engine = str("engine", true, func(s string) string { return oneOf(s, []string{engineRedis, engineMemcached}) })
	r.EngineVersion = str("engineVersion", true, nil)
	r.Family = str("family", true, nil)
	if r.Engine != "" {
		found := false
		for _, v := range catalogue.Versions(r.Engine) {
			if v.EngineVersion == r.EngineVersion {
				found = true
				if v.CacheParameterGroupFamily != r.Family {
					p.Add(path+".family", "engine %s %s is of family %s, not %s", r.Engine, r.EngineVersion, v.CacheParameterGroupFamily, schema.Quote(r.Family))
				}
			}
		}
		if !found {
			p.Add(path+".engineVersion", "%s is not a version of %s", schema.Quote(r.EngineVersion), r.Engine)
		}
	}
	r.NodeType = str("nodeType", true, func(s string) string {
		if _, ok := catalogue.NodeType(s); !ok {
			return fmt.Sprintf("%s is not a cache node type", schema.Quote(s))
		}
		return ""
	})
	r.NumNodes, _ = p.Int(path, o, "numNodes", true)
	if r.NumNodes < 1 {
		p.Add(path+".numNodes", "must be at least 1")
	}
	r.Port, _ = p.Int(path, o, "port", true)
	if r.Port < minPort || r.Port > maxPort {
		p.Add(path+".port", "must be between %d and %d", minPort, maxPort)
	}
	r.Status = str("status", true, func(s string) string { return oneOf(s, clusterStatuses) })
	r.Generation, _ = p.Int(path, o, "generation", true)
	if t, ok := p.Time(path, o, "created", false); ok {
		r.Created = t
	}
	r.SubnetGroup = str("subnetGroup", false, func(s string) string {
		if _, err := groupName("subnetGroup", &s); err != nil {
			return rule(err)
		}
		return ""
	})
	r.SecurityGroupIDs = stateStrings(p, path, o, "securityGroupIds", func(s string) string {
		if _, err := securityGroupIDs([]string{s}); err != nil {
			return rule(err)
		}
		return ""
	})
	r.CacheSecurityGroups = stateStrings(p, path, o, "cacheSecurityGroups", func(s string) string {
		if _, err := groupName("cacheSecurityGroups", &s); err != nil {
			return rule(err)
		}
		return ""
	})
	r.ParameterGroup = str("parameterGroup", true, func(s string) string {
		if _, err := parameterGroupName(&s, true); err != nil {
			return rule(err)
		}
		return ""
	})
	r.ParamStatus = str("paramStatus", true, func(s string) string { return oneOf(s, paramStatuses) })
	r.NodesToReboot = stateStrings(p, path, o, "nodesToReboot", func(string) string { return "" })
	if ap, ok := p.StringMap(path, o, "appliedParams", true); ok && len(ap) > 0 {
		r.AppliedParams = ap
	}
	r.PreferredAZ = str("preferredAz", true, nil)
	r.AZMode = str("azMode", false, func(s string) string { return oneOf(s, []string{azModeSingle, azModeCross}) })
	r.NewAZs = stateStrings(p, path, o, "newAzs", func(string) string { return "" })
	r.MaintenanceWindow = str("maintenanceWindow", true, func(s string) string {
		if w, err := maintenanceWindow(s); err != nil || w != s {
			return "must be a maintenance window such as sun:23:00-mon:01:30, lowercase"
		}
		return ""
	})
	r.SnapshotWindow = str("snapshotWindow", false, func(s string) string {
		if _, err := snapshotWindow(s); err != nil {
			return "must be a snapshot window such as 05:00-09:00"
		}
		return ""
	})
	r.SnapshotRetention, _ = p.Int(path, o, "snapshotRetention", true)
	if r.SnapshotRetention < 0 || r.SnapshotRetention > maxSnapshotRetention {
		p.Add(path+".snapshotRetention", "must be between 0 and %d", maxSnapshotRetention)
	}
	r.AutoMinorVersionUpgrade, _ = p.Bool(path, o, "autoMinorVersionUpgrade", true)
	r.NotificationTopicARN = str("notificationTopicArn", false, nil)
	r.NotificationTopicStatus = str("notificationTopicStatus", false, func(s string) string { return oneOf(s, []string{topicActive, topicInactive}) })
	r.TransitEncryption, _ = p.Bool(path, o, "transitEncryption", true)
	r.AuthTokenHashes = stateStrings(p, path, o, "authTokenHashes", func(s string) string {
		if len(s) != 64 {
			return "must be a SHA-256 in lowercase hex"
		}
		return ""
	})
	if t, ok := p.Time(path, o, "authTokenModified", false); ok {
		r.AuthTokenModified = &t
	}
	r.IPDiscovery = str("ipDiscovery", true, func(s string) string { return oneOf(s, []string{network.IPv4, network.IPv6}) })
	r.NetworkType = str("networkType", true, func(s string) string { return oneOf(s, []string{network.IPv4, network.IPv6, network.DualStack}) })
	r.LogDelivery = parseStateLogDelivery(p, path, o)
	r.PendingNumNodes, _ = p.Int(path, o, "pendingNumNodes", true)
	r.PendingNodesToRemove = stateStrings(p, path, o, "pendingNodesToRemove", func(string) string { return "" })
	r.PendingEngineVersion = str("pendingEngineVersion", false, nil)
	r.PendingNodeType = str("pendingNodeType", false, nil)
	r.ReplicationGroupID = str("replicationGroupId", false, func(s string) string {
		if id, err := replicationGroupID("replicationGroupId", &s); err != nil || id != s {
			return "must be a replication group ID, lowercase"
		}
		return ""
	})
	r.AccessChanged, _ = p.Bool(path, o, "accessChanged", false)
	r.Nodes = []cacheNodeRecord{}
	for i, nv := range p.List(path, o, "nodes", true) {
		npath := fmt.Sprintf("%s.nodes[%d]", path, i)
		no, ok := p.Object(npath, nv, "id", "status", "az", "created", "address", "port", "owner", "paramStatus")
		if !ok {
			continue
		}
		var nd cacheNodeRecord
		nd.ID, _ = p.Str(npath, no, "id", true)
		if len(nd.ID) != 4 || slices.ContainsFunc(r.Nodes, func(x cacheNodeRecord) bool { return x.ID == nd.ID }) {
			p.Add(npath+".id", "must be a node ID such as 0001, once per cluster")
		}
		if s, ok := p.Str(npath, no, "status", true); ok {
			if problem := oneOf(s, nodeStatuses); problem != "" {
				p.Add(npath+".status", "%s", problem)
			}
			nd.Status = s
		}
		nd.AZ, _ = p.Str(npath, no, "az", true)
		if t, ok := p.Time(npath, no, "created", false); ok {
			nd.Created = t
		}
		nd.Address, _ = p.Str(npath, no, "address", false)
		nd.Port, _ = p.Int(npath, no, "port", false)
		nd.Owner, _ = p.Str(npath, no, "owner", false)
		if s, ok := p.Str(npath, no, "paramStatus", true); ok {
			if problem := oneOf(s, paramStatuses); problem != "" {
				p.Add(npath+".paramStatus", "%s", problem)
			}
			nd.ParamStatus = s
		}
		r.Nodes = append(r.Nodes, nd)
	}
	if len(r.Nodes) == 0 && p.Found() == n {
		p.Add(path+".nodes", "a cluster has at least one node")
	}
	tags := p.Tags(path, o)
	b, err := schema.Encode(r)
	if err != nil {
		p.Add(path, "%v", err)
	}
	return schema.Item{Name: r.ID, Record: b, Tags: tags}, p.Found() == n, nameOK
}

// parseStateLogDelivery reads the logDelivery list of a cluster or a
// replication group of a state document.
func parseStateLogDelivery(p *schema.Parser, path string, o schema.Object) []logDeliveryRecord {
	var out []logDeliveryRecord
	for i, lv := range p.List(path, o, "logDelivery", true) {
		lpath := fmt.Sprintf("%s.logDelivery[%d]", path, i)
		lo, ok := p.Object(lpath, lv, "logType", "destinationType", "destination", "logFormat", "status", "message")
		if !ok {
			continue
		}
		var l logDeliveryRecord
		l.LogType, _ = p.Str(lpath, lo, "logType", true)
		l.DestinationType, _ = p.Str(lpath, lo, "destinationType", true)
		l.Destination, _ = p.Str(lpath, lo, "destination", true)
		l.LogFormat, _ = p.Str(lpath, lo, "logFormat", true)
		l.Status, _ = p.Str(lpath, lo, "status", true)
		l.Message, _ = p.Str(lpath, lo, "message", false)
		if problem := oneOf(l.LogType, logTypes) + oneOf(l.DestinationType, logDestinations) + oneOf(l.LogFormat, logFormats); problem != "" {
			p.Add(lpath, "%s", problem)
		}
		out = append(out, l)
	}
	return out
}

// checkCacheClusters holds the clusters of a region of a state document
// to what they name: their subnet group, cache security groups and
// parameter group are in the same region (or virtual ones).
func checkCacheClusters(p *schema.Parser, items func(field string) []schema.Item, itemPath func(field, name string) string) {
	names := func(field string) map[string]bool {
		out := map[string]bool{}
		for _, it := range items(field) {
			out[it.Name] = true
		}
		return out
	}
	subnets, sgs, pgs := names(subnetGroupKind.Field), names(securityGroupKind.Field), names(parameterGroupKind.Field)
	for _, it := range items(fieldCacheClusters) {
		c, err := schema.Decode[cacheClusterRecord](it.Record)
		if err != nil {
			continue
		}
		path := itemPath(fieldCacheClusters, c.ID)
		if c.SubnetGroup != "" && c.SubnetGroup != defaultGroupName && !subnets[c.SubnetGroup] {
			p.Add(path+".subnetGroup", "names no subnet group of this region: %s", c.SubnetGroup)
		}
		for _, g := range c.CacheSecurityGroups {
			if g != defaultGroupName && !sgs[g] {
				p.Add(path+".cacheSecurityGroups", "names no cache security group of this region: %s", g)
			}
		}
		if !parameterGroupKind.IsVirtual(c.ParameterGroup) && !pgs[c.ParameterGroup] {
			p.Add(path+".parameterGroup", "names no parameter group of this region: %s", c.ParameterGroup)
		}
	}
}
