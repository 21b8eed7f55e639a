package service

import (
	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
)

// fieldCacheClusters is the clusters' Field: their list in the state
// document and the name of their quota.
const fieldCacheClusters = "cacheClusters"

// cacheClusterNotFound is AWS's answer for a cluster that is not there:
// "CacheCluster not found: <id>" (the AWS CLI's output quoted in
// aws/aws-cli#4816).
func cacheClusterNotFound(id string) error {
	return &api.CacheClusterNotFoundFault{Message: "CacheCluster not found: " + id}
}

// cacheClusterKind declares cache clusters to the schema layer. Its name
// is AWS's event SourceType; its ARNs are arn:…:cluster:<id>.
var cacheClusterKind = &kindDecl{
	Name:    "cache-cluster",
	Noun:    "cluster",
	Segment: "ccl",
	ARNType: "cluster",
	Field:   fieldCacheClusters,
	// AWS limits nodes (300 per account and region), not clusters; a
	// cluster has at least one node, so 300 clusters is the most the
	// node quota allows.
	DefaultQuota: defaultNodeQuota,
	NotFound:     cacheClusterNotFound,
	ValidName:    func(n string) (string, error) { return stateName(cacheClusterID("name", &n)) },
	State:        schema.Section{Export: exportCacheCluster, Parse: parseCacheCluster, Check: checkCacheClusters},
}

// cacheClusters is the table of cache clusters.
var cacheClusters = schema.NewTable[cacheClusterRecord](cacheClusterKind, nil)
