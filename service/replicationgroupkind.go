package service

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
)

// Replication groups (cluster mode disabled): one node group, 0001, of a
// primary cache cluster and up to five replicas. The group's record holds
// what is the group's own (description, failover, user groups, the AUTH
// token, the settings new members copy); its members are ordinary cache
// cluster records (<id>-001, <id>-002, …) with ReplicationGroupID set,
// written in the same transaction, so that the reconciler runs their
// engines as it runs any cluster's, and DescribeCacheClusters shows them
// as AWS does. The group's status is derived when it is read, from its own
// record and its members' (replicationGroupStatus).

const (
	fieldReplicationGroups = "replicationGroups"
	opDescribeRGs          = "DescribeReplicationGroups"
	paramRGID              = "ReplicationGroupId"
	// maxRGIDLen is AWS's limit on replication group IDs (landscape §4.2).
	maxRGIDLen = 40
	// maxRGMembers is how many clusters a cluster-mode-disabled group
	// has at most: a primary and five replicas.
	maxRGMembers = 6
	// defaultRGQuota is the kind's quota per account and region [dec]:
	// AWS limits nodes, and a group has at least one.
	defaultRGQuota = defaultNodeQuota
	// nodeGroupID is the one node group of a group without cluster mode.
	nodeGroupID = "0001"

	rgCreating  = "creating"
	rgAvailable = "available"
	rgModifying = "modifying"
	rgDeleting  = "deleting"
)

// replicationGroupNotFound is the answer for a group that is not there
// ("ReplicationGroup {id} not found.").
func replicationGroupNotFound(id string) error {
	return &api.ReplicationGroupNotFoundFault{Message: fmt.Sprintf("ReplicationGroup %s not found.", strings.ToLower(id))}
}

// replicationGroupKind declares replication groups to the schema layer.
var replicationGroupKind = &kindDecl{
	Name:         api.SourceTypeReplicationGroup,
	Noun:         "replication group",
	Segment:      "rpg",
	ARNType:      "replicationgroup",
	Field:        fieldReplicationGroups,
	DefaultQuota: defaultRGQuota,
	NotFound:     replicationGroupNotFound,
	ValidName:    func(n string) (string, error) { return stateName(replicationGroupID("name", &n)) },
	State:        schema.Section{Export: exportReplicationGroup, Parse: parseReplicationGroup, Check: checkReplicationGroups},
}

// replicationGroups is the table of replication groups.
var replicationGroups = schema.NewTable[replicationGroupRecord](replicationGroupKind, nil)

// replicationGroupRecord is a stored replication group.
type replicationGroupRecord struct {
	schema.Meta
	// ID is the group's ID, stored lowercase.
	ID          string `json:"id"`
	Description string `json:"description"`
	// Engine, EngineVersion, Family, NodeType, Port, ParameterGroup,
	// SubnetGroup, SecurityGroupIDs and CacheSecurityGroups are what the
	// group's members are made with; a change of the group changes them
	// all.
	Engine              string   `json:"engine"`
	EngineVersion       string   `json:"engineVersion"`
	Family              string   `json:"family"`
	NodeType            string   `json:"nodeType"`
	Port                int      `json:"port"`
	ParameterGroup      string   `json:"parameterGroup"`
	SubnetGroup         string   `json:"subnetGroup,omitempty"`
	SecurityGroupIDs    []string `json:"securityGroupIds,omitempty"`
	CacheSecurityGroups []string `json:"cacheSecurityGroups,omitempty"`
	// Primary is the ID of the member cluster that is the primary.
	Primary string `json:"primary"`
	// NextMember is the number of the next member cluster
	// (<id>-00<NextMember>); numbers are not reused while the group
	// lives, as on AWS.
	NextMember        int  `json:"nextMember"`
	AutomaticFailover bool `json:"automaticFailover,omitempty"`
	MultiAZ           bool `json:"multiAz,omitempty"`
	TransitEncryption bool `json:"transitEncryption,omitempty"`
	AtRestEncryption  bool `json:"atRestEncryption,omitempty"`
	// AuthTokenHashes are the SHA-256 (lowercase hex) of the AUTH tokens,
	// as for a cluster; the members carry the same.
	AuthTokenHashes   []string   `json:"authTokenHashes,omitempty"`
	AuthTokenModified *time.Time `json:"authTokenModified,omitempty"`
	// UserGroupIDs are the user groups whose users the engines let in.
	UserGroupIDs            []string            `json:"userGroupIds,omitempty"`
	KMSKeyID                string              `json:"kmsKeyId,omitempty"`
	MaintenanceWindow       string              `json:"maintenanceWindow"`
	SnapshotWindow          string              `json:"snapshotWindow"`
	SnapshotRetention       int                 `json:"snapshotRetention,omitempty"`
	AutoMinorVersionUpgrade bool                `json:"autoMinorVersionUpgrade"`
	NotificationTopicARN    string              `json:"notificationTopicArn,omitempty"`
	IPDiscovery             string              `json:"ipDiscovery"`
	NetworkType             string              `json:"networkType"`
	LogDelivery             []logDeliveryRecord `json:"logDelivery,omitempty"`
	// ReplicationSecret is what the members' engines derive the
	// replication credentials from (engine.Spec.ReplicationSecret): one
	// per group, so that a replica on another server of the fleet than its
	// primary still authenticates to it. Made at create (or import), never
	// answered nor exported.
	ReplicationSecret string `json:"replicationSecret,omitempty"`
	// Ready is set by the reconciler when every member was first
	// available: the group is no longer creating.
	Ready bool `json:"ready,omitempty"`
	// Deleting is set by DeleteReplicationGroup; the group goes when its
	// last member does.
	Deleting bool      `json:"deleting,omitempty"`
	Created  time.Time `json:"created"`
}

// RecordName is the group's ID.
func (r *replicationGroupRecord) RecordName() string { return r.ID }

// memberID is the ID of the group's n-th member cluster: <id>-001, …
func memberID(rg string, n int) string { return fmt.Sprintf("%s-%03d", rg, n) }

// replicationGroupID validates a replication group ID and returns its
// stored, lowercase form: 1–40 ASCII letters, digits and hyphens, a letter
// first, no trailing hyphen and no two in a row.
func replicationGroupID(param string, p *string) (string, error) {
	if p == nil || *p == "" {
		return "", api.InvalidParameterValue("The parameter " + param + " must be provided and must not be blank.")
	}
	return hyphenatedName(param, *p, maxRGIDLen)
}

// stateReplicationGroup is a replication group in the state document;
// its members are in the cacheClusters list, each naming it. Field order
// is output order; lists are never omitted.
type stateReplicationGroup struct {
	Name                    string             `json:"name"`
	Description             string             `json:"description"`
	Engine                  string             `json:"engine"`
	EngineVersion           string             `json:"engineVersion"`
	Family                  string             `json:"family"`
	NodeType                string             `json:"nodeType"`
	Port                    int                `json:"port"`
	ParameterGroup          string             `json:"parameterGroup"`
	SubnetGroup             string             `json:"subnetGroup,omitempty"`
	SecurityGroupIDs        []string           `json:"securityGroupIds"`
	CacheSecurityGroups     []string           `json:"cacheSecurityGroups"`
	Primary                 string             `json:"primary"`
	NextMember              int                `json:"nextMember"`
	AutomaticFailover       bool               `json:"automaticFailover"`
	MultiAZ                 bool               `json:"multiAz"`
	TransitEncryption       bool               `json:"transitEncryption"`
	AtRestEncryption        bool               `json:"atRestEncryption"`
	AuthTokenHashes         []string           `json:"authTokenHashes"`
	AuthTokenModified       *time.Time         `json:"authTokenModified,omitempty"`
	UserGroupIDs            []string           `json:"userGroupIds"`
	KMSKeyID                string             `json:"kmsKeyId,omitempty"`
	MaintenanceWindow       string             `json:"maintenanceWindow"`
	SnapshotWindow          string             `json:"snapshotWindow"`
	SnapshotRetention       int                `json:"snapshotRetention"`
	AutoMinorVersionUpgrade bool               `json:"autoMinorVersionUpgrade"`
	NotificationTopicARN    string             `json:"notificationTopicArn,omitempty"`
	IPDiscovery             string             `json:"ipDiscovery"`
	NetworkType             string             `json:"networkType"`
	LogDelivery             []stateLogDelivery `json:"logDelivery"`
	Ready                   bool               `json:"ready"`
	Deleting                bool               `json:"deleting"`
	Created                 *time.Time         `json:"created,omitempty"`
	Tags                    []schema.Tag       `json:"tags"`
}

// exportReplicationGroup is a group's item in the state document.
func exportReplicationGroup(b []byte, tags schema.Tags) (any, error) {
	r, err := schema.Decode[replicationGroupRecord](b)
	if err != nil {
		return nil, err
	}
	g := stateReplicationGroup{Name: r.ID, Description: r.Description, Engine: r.Engine, EngineVersion: r.EngineVersion,
		Family: r.Family, NodeType: r.NodeType, Port: r.Port, ParameterGroup: r.ParameterGroup, SubnetGroup: r.SubnetGroup,
		SecurityGroupIDs: orEmpty(r.SecurityGroupIDs), CacheSecurityGroups: orEmpty(r.CacheSecurityGroups), Primary: r.Primary,
		NextMember: r.NextMember, AutomaticFailover: r.AutomaticFailover, MultiAZ: r.MultiAZ, TransitEncryption: r.TransitEncryption,
		AtRestEncryption: r.AtRestEncryption, AuthTokenHashes: orEmpty(r.AuthTokenHashes), UserGroupIDs: orEmpty(r.UserGroupIDs),
		KMSKeyID: r.KMSKeyID, MaintenanceWindow: r.MaintenanceWindow, SnapshotWindow: r.SnapshotWindow,
		SnapshotRetention: r.SnapshotRetention, AutoMinorVersionUpgrade: r.AutoMinorVersionUpgrade,
		NotificationTopicARN: r.NotificationTopicARN, IPDiscovery: r.IPDiscovery, NetworkType: r.NetworkType,
		LogDelivery: []stateLogDelivery{}, Ready: r.Ready, Deleting: r.Deleting, Created: utcPtr(r.Created), Tags: schema.TagList(tags)}
	if r.AuthTokenModified != nil {
		g.AuthTokenModified = ptr(r.AuthTokenModified.UTC())
	}
	for _, l := range r.LogDelivery {
		g.LogDelivery = append(g.LogDelivery, stateLogDelivery(l))
	}
	return g, nil
}

// parseReplicationGroup reads a replication group of a state document
// with the API's rules for each value; checkReplicationGroups checks it
// against the region's clusters and user groups.
func parseReplicationGroup(p *schema.Parser, path string, v any) (item schema.Item, ok, nameOK bool) {
	o, ok := p.Object(path, v, "name", "description", "engine", "engineVersion", "family", "nodeType", "port", "parameterGroup",
		"subnetGroup", "securityGroupIds", "cacheSecurityGroups", "primary", "nextMember", "automaticFailover", "multiAz",
		"transitEncryption", "atRestEncryption", "authTokenHashes", "authTokenModified", "userGroupIds", "kmsKeyId",
		"maintenanceWindow", "snapshotWindow", "snapshotRetention", "autoMinorVersionUpgrade", "notificationTopicArn",
		"ipDiscovery", "networkType", "logDelivery", "ready", "deleting", "created", "tags")
	if !ok {
		return schema.Item{}, false, false
	}
	n := p.Found()
	rec := &replicationGroupRecord{ReplicationSecret: rand.Text()}
	if raw, ok := p.Str(path, o, "name", true); ok {
		id, err := replicationGroupID("name", &raw)
		switch {
		case err != nil:
			p.Add(path+".name", "%s", rule(err))
		case id != raw:
			p.Add(path+".name", "must be lowercase, as IDs are stored: %s", id)
		default:
			rec.ID, nameOK = id, true
		}
	}
	if raw, ok := p.Str(path, o, "description", true); ok {
		if _, err := descriptionParam("description", &raw); err != nil {
			p.Add(path+".description", "%s", rule(err))
		}
		rec.Description = raw
	}
	if raw, ok := p.Str(path, o, "engine", true); ok {
		if raw != engineRedis && raw != engineValkey {
			p.Add(path+".engine", "must be redis or valkey, not %s", schema.Quote(raw))
		}
		rec.Engine = raw
	}
	str := func(key string, required bool, dst *string) {
		if raw, ok := p.Str(path, o, key, required); ok {
			*dst = raw
		}
	}
	str("engineVersion", true, &rec.EngineVersion)
	str("family", true, &rec.Family)
	str("nodeType", true, &rec.NodeType)
	str("parameterGroup", true, &rec.ParameterGroup)
	str("subnetGroup", false, &rec.SubnetGroup)
	str("primary", true, &rec.Primary)
	str("kmsKeyId", false, &rec.KMSKeyID)
	str("maintenanceWindow", true, &rec.MaintenanceWindow)
	str("snapshotWindow", true, &rec.SnapshotWindow)
	str("notificationTopicArn", false, &rec.NotificationTopicARN)
	str("ipDiscovery", true, &rec.IPDiscovery)
	str("networkType", true, &rec.NetworkType)
	if port, ok := p.Int(path, o, "port", true); ok {
		if port < minPort || port > maxPort {
			p.Add(path+".port", "must be between %d and %d", minPort, maxPort)
		}
		rec.Port = port
	}
	if nm, ok := p.Int(path, o, "nextMember", true); ok {
		if nm < 2 {
			p.Add(path+".nextMember", "must be at least 2")
		}
		rec.NextMember = nm
	}
	if r, ok := p.Int(path, o, "snapshotRetention", true); ok {
		if r < 0 || r > maxSnapshotRetention {
			p.Add(path+".snapshotRetention", "must be between 0 and %d", maxSnapshotRetention)
		}
		rec.SnapshotRetention = r
	}
	boolean := func(key string, dst *bool) {
		if b, ok := p.Bool(path, o, key, true); ok {
			*dst = b
		}
	}
	boolean("automaticFailover", &rec.AutomaticFailover)
	boolean("multiAz", &rec.MultiAZ)
	boolean("transitEncryption", &rec.TransitEncryption)
	boolean("atRestEncryption", &rec.AtRestEncryption)
	boolean("autoMinorVersionUpgrade", &rec.AutoMinorVersionUpgrade)
	boolean("ready", &rec.Ready)
	boolean("deleting", &rec.Deleting)
	if rec.MultiAZ && !rec.AutomaticFailover {
		p.Add(path+".multiAz", "needs automaticFailover")
	}
	rec.SecurityGroupIDs = stateStrings(p, path, o, "securityGroupIds", func(s string) string {
		if _, err := securityGroupIDs([]string{s}); err != nil {
			return rule(err)
		}
		return ""
	})
	rec.CacheSecurityGroups = stateStrings(p, path, o, "cacheSecurityGroups", func(string) string { return "" })
	rec.AuthTokenHashes = stateStrings(p, path, o, "authTokenHashes", func(s string) string {
		if len(s) != 64 || !isHexString(s) || strings.ToLower(s) != s {
			return "must be a SHA-256 in lowercase hex"
		}
		return ""
	})
	rec.UserGroupIDs = parseUserIDs(p, path, o, "userGroupIds", true)
	if len(rec.AuthTokenHashes) > 0 && len(rec.UserGroupIDs) > 0 {
		p.Add(path+".userGroupIds", "a group with an AUTH token has no user groups")
	}
	if t, ok := p.Time(path, o, "authTokenModified", false); ok {
		rec.AuthTokenModified = &t
	}
	if t, ok := p.Time(path, o, "created", false); ok {
		rec.Created = t
	}
	rec.LogDelivery = parseStateLogDelivery(p, path, o)
	tags := p.Tags(path, o)
	b, err := schema.Encode(rec)
	if err != nil {
		p.Add(path, "%v", err)
	}
	return schema.Item{Name: rec.ID, Record: b, Tags: tags}, p.Found() == n, nameOK
}

// checkReplicationGroups holds the replication groups of a region of a
// state document to its clusters and user groups: the primary is a
// member, every member names a group of the region, and every user group
// exists.
func checkReplicationGroups(p *schema.Parser, items func(field string) []schema.Item, itemPath func(field, name string) string) {
	members := map[string][]string{}
	for _, it := range items(fieldCacheClusters) {
		c, err := schema.Decode[cacheClusterRecord](it.Record)
		if err != nil || c.ReplicationGroupID == "" {
			continue
		}
		members[c.ReplicationGroupID] = append(members[c.ReplicationGroupID], c.ID)
	}
	groups := map[string]bool{}
	for _, it := range items(fieldUserGroups) {
		groups[it.Name] = true
	}
	rgs := map[string]bool{}
	for _, it := range items(fieldReplicationGroups) {
		g, err := schema.Decode[replicationGroupRecord](it.Record)
		if err != nil {
			continue
		}
		rgs[g.ID] = true
		path := itemPath(fieldReplicationGroups, g.ID)
		ms := members[g.ID]
		if !g.Deleting && len(ms) == 0 {
			p.Add(path, "replication group %s has no member cluster", g.ID)
		}
		if len(ms) > 0 && !containsString(ms, g.Primary) {
			p.Add(path+".primary", "cluster %s is not a member of replication group %s", g.Primary, g.ID)
		}
		for _, ug := range g.UserGroupIDs {
			if !groups[ug] {
				p.Add(path+".userGroupIds", "user group %s is not a user group of this region", ug)
			}
		}
	}
	for rg, ms := range members {
		if !rgs[rg] {
			for _, m := range ms {
				p.Add(itemPath(fieldCacheClusters, m)+".replicationGroupId", "replication group %s is not a replication group of this region", rg)
			}
		}
	}
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
