package service

import (
	"time"

	"github.com/elasticache-server/elasticache-server/service/schema"
)

// A cache cluster record is desired state and observed state in one: the
// request path (cacheclusters.go) writes what the user asked for and a
// transitional status, and marks the cluster in the work index; the
// reconciler (reconciler.go) makes engine processes match, then writes the
// transition back (creating → available, …) with its event and clears the
// mark. Generation tells the reconciler whether what it made true is still
// what is asked: it only completes a transition for the generation it
// worked on.

// Cluster and node statuses, as AWS spells them (the model's
// CacheClusterStatus and CacheNodeStatus documentation; Terraform waits on
// these exact strings).
const (
	clusterCreating            = "creating"
	clusterAvailable           = "available"
	clusterModifying           = "modifying"
	clusterDeleting            = "deleting"
	clusterRebooting           = "rebooting cluster nodes"
	clusterIncompatibleNetwork = "incompatible-network"

	nodeCreating  = "creating"
	nodeAvailable = "available"
	nodeRebooting = "rebooting"
	nodeDeleting  = "deleting"

	// Parameter apply statuses (CacheParameterGroupStatus.ParameterApplyStatus
	// and CacheNode.ParameterGroupStatus).
	paramsInSync        = "in-sync"
	paramsApplying      = "applying"
	paramsPendingReboot = "pending-reboot"
)

// cacheClusterRecord is a stored cache cluster.
type cacheClusterRecord struct {
	schema.Meta
	// ID is the cluster ID, stored lowercase.
	ID string `json:"id"`
	// Engine is redis or memcached.
	Engine string `json:"engine"`
	// EngineVersion is the full version answered (7.0.7, 1.6.22).
	EngineVersion string `json:"engineVersion"`
	// Family is the parameter group family of Engine/EngineVersion.
	Family   string `json:"family"`
	NodeType string `json:"nodeType"`
	// NumNodes is the desired number of nodes; Nodes may differ while a
	// change is under way.
	NumNodes int `json:"numNodes"`
	Port     int `json:"port"`
	// Status is the cluster's CacheClusterStatus.
	Status string `json:"status"`
	// Generation grows with every change the fleet must make true.
	Generation int `json:"generation"`

	SubnetGroup         string   `json:"subnetGroup,omitempty"`
	SecurityGroupIDs    []string `json:"securityGroupIds,omitempty"`
	CacheSecurityGroups []string `json:"cacheSecurityGroups,omitempty"`
	// ParameterGroup is the group's name (default.<family> when none was
	// given); ParamStatus its ParameterApplyStatus, NodesToReboot the
	// CacheNodeIdsToReboot while it is pending-reboot.
	ParameterGroup string   `json:"parameterGroup"`
	ParamStatus    string   `json:"paramStatus"`
	NodesToReboot  []string `json:"nodesToReboot,omitempty"`
	// RunningNodeType and RunningEngineVersion are what the engines were
	// last started with, written by the reconciler: a modification that
	// changed NodeType or EngineVersion restarts the nodes until they
	// match.
	RunningNodeType      string `json:"runningNodeType,omitempty"`
	RunningEngineVersion string `json:"runningEngineVersion,omitempty"`
	// AppliedParams are the parameter values the engines run with, as the
	// reconciler last applied them (name → value); the reconciler compares
	// them with the group's values to find what changed.
	AppliedParams map[string]string `json:"appliedParams,omitempty"`

	// PreferredAZ is the AZ, or "Multiple" for a cross-AZ memcached
	// cluster.
	PreferredAZ string `json:"preferredAz"`
	// AZMode is single-az or cross-az.
	AZMode string `json:"azMode,omitempty"`
	// NewAZs are the AZs asked for nodes still to be created, in order.
	NewAZs []string `json:"newAzs,omitempty"`

	MaintenanceWindow       string `json:"maintenanceWindow"`
	SnapshotWindow          string `json:"snapshotWindow,omitempty"`
	SnapshotRetention       int    `json:"snapshotRetention,omitempty"`
	AutoMinorVersionUpgrade bool   `json:"autoMinorVersionUpgrade"`
	NotificationTopicARN    string `json:"notificationTopicArn,omitempty"`
	NotificationTopicStatus string `json:"notificationTopicStatus,omitempty"`
	TransitEncryption       bool   `json:"transitEncryption,omitempty"`
	IPDiscovery             string `json:"ipDiscovery"`
	NetworkType             string `json:"networkType"`
	// LogDelivery are the log delivery configurations, kept as data.
	LogDelivery []logDeliveryRecord `json:"logDelivery,omitempty"`

	// AuthTokenHashes are the SHA-256 (lowercase hex) of the AUTH tokens
	// the engines accept: one, or two while a ROTATE keeps the old one;
	// the form Redis' `ACL SETUSER default #<hash>` takes. The token
	// itself is never kept.
	AuthTokenHashes []string `json:"authTokenHashes,omitempty"`
	// AuthTokenModified is when a ModifyCacheCluster last changed them.
	AuthTokenModified *time.Time `json:"authTokenModified,omitempty"`

	// The Pending fields are the PendingModifiedValues: changes asked
	// without ApplyImmediately, or under way; zero when none.
	PendingNumNodes      int      `json:"pendingNumNodes,omitempty"`
	PendingNodesToRemove []string `json:"pendingNodesToRemove,omitempty"`
	PendingEngineVersion string   `json:"pendingEngineVersion,omitempty"`
	PendingNodeType      string   `json:"pendingNodeType,omitempty"`

	// ReplicationGroupID is the replication group the cluster is a member
	// of ("" for a cluster on its own): its settings are the group's, and
	// unless it is the group's primary its engine replicates the
	// primary's.
	ReplicationGroupID string `json:"replicationGroupId,omitempty"`
	// AccessChanged says that who may use the engines (the AUTH token, the
	// users of the replication group's user groups) changed since the
	// engines were configured: the reconciler's next work on the cluster
	// reconfigures them (Engines.Reconfigure), and clears it.
	AccessChanged bool `json:"accessChanged,omitempty"`

	Nodes   []cacheNodeRecord `json:"nodes"`
	Created time.Time         `json:"created"`
}

// RecordName is the cluster's ID.
func (r *cacheClusterRecord) RecordName() string { return r.ID }

// cacheNodeRecord is one node of a cluster.
type cacheNodeRecord struct {
	// ID is 0001, 0002, …
	ID     string `json:"id"`
	Status string `json:"status"`
	AZ     string `json:"az"`
	// Created is when the node was first available.
	Created time.Time `json:"created"`
	// Address and Port are where the node's engine listens, set by the
	// reconciler when it places the node ("" until then).
	Address string `json:"address,omitempty"`
	Port    int    `json:"port,omitempty"`
	// Owner is the server running the node's engine.
	Owner string `json:"owner,omitempty"`
	// ParamStatus is the node's ParameterGroupStatus.
	ParamStatus string `json:"paramStatus"`
}

// logDeliveryRecord is one LogDeliveryConfiguration.
type logDeliveryRecord struct {
	LogType         string `json:"logType"`
	DestinationType string `json:"destinationType"`
	// Destination is the log group or delivery stream name.
	Destination string `json:"destination"`
	LogFormat   string `json:"logFormat"`
	Status      string `json:"status"`
	Message     string `json:"message,omitempty"`
}
