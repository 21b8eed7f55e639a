package service

import (
	"fmt"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
)

// The cache cluster kind and its table, declared for the reconciler until
// the request path (cacheclusters.go) brings its own declaration; it is
// not registered in kinds.go, which the request path does.

// cacheClusterNotFound is AWS's fault for a cluster ID that names nothing.
func cacheClusterNotFound(id string) error {
	return &api.CacheClusterNotFoundFault{Message: fmt.Sprintf("CacheCluster not found: %s", id)}
}

// cacheClusterKind declares cache clusters to the schema layer.
var cacheClusterKind = &kindDecl{Name: "cache-cluster", Noun: "cluster", Segment: "ccl", ARNType: "cluster", Field: "cacheClusters", DefaultQuota: 300, NotFound: cacheClusterNotFound}

// cacheClusters is the table of cache clusters.
var cacheClusters = schema.NewTable[cacheClusterRecord](cacheClusterKind, nil)
