package service

import "github.com/elasticache-server/elasticache-server/service/schema"

// kindDecl is a resource kind's declaration (schema.Kind).
type kindDecl = schema.Kind

// newRegistry registers every kind the service stores. Each is declared
// beside its operations, in its family's file; adding a kind is adding it
// here.
func newRegistry() (*schema.Registry, error) {
	return schema.NewRegistry(registeredKinds()...)
}

func registeredKinds() []*kindDecl {
	return []*kindDecl{
		securityGroupKind,
		subnetGroupKind,
		parameterGroupKind,
		userKind,
		userGroupKind,
		cacheClusterKind,
		replicationGroupKind,
	}
}
