package service

// Implemented lists the operations the service answers; every other one
// answers NotImplemented through api.Unimplemented. A guard test holds
// the list and the methods to each other both ways, so a mistyped method
// name, which would compile and silently stay unimplemented, fails it.
func Implemented() []string {
	return []string{
		"AddTagsToResource",
		"AuthorizeCacheSecurityGroupIngress",
		"CreateCacheCluster",
		"CreateCacheParameterGroup",
		"CreateCacheSecurityGroup",
		"CreateCacheSubnetGroup",
		"CreateReplicationGroup",
		"CreateUser",
		"CreateUserGroup",
		"DecreaseReplicaCount",
		"DeleteCacheCluster",
		"DeleteCacheParameterGroup",
		"DeleteCacheSecurityGroup",
		"DeleteCacheSubnetGroup",
		"DeleteReplicationGroup",
		"DeleteUser",
		"DeleteUserGroup",
		"DescribeCacheClusters",
		"DescribeCacheEngineVersions",
		"DescribeCacheParameterGroups",
		"DescribeCacheParameters",
		"DescribeCacheSecurityGroups",
		"DescribeCacheSubnetGroups",
		"DescribeEngineDefaultParameters",
		"DescribeEvents",
		"DescribeReplicationGroups",
		"DescribeUserGroups",
		"DescribeUsers",
		"IncreaseReplicaCount",
		"ListTagsForResource",
		"ModifyCacheCluster",
		"ModifyCacheParameterGroup",
		"ModifyCacheSubnetGroup",
		"ModifyReplicationGroup",
		"ModifyUser",
		"ModifyUserGroup",
		"RebootCacheCluster",
		"RemoveTagsFromResource",
		"ResetCacheParameterGroup",
		"RevokeCacheSecurityGroupIngress",
	}
}
