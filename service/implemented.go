package service

// Implemented lists the operations the service answers; every other one
// answers NotImplemented through api.Unimplemented. A guard test holds
// the list and the methods to each other both ways, so a mistyped method
// name, which would compile and silently stay unimplemented, fails it.
func Implemented() []string {
	return []string{
		"AddTagsToResource",
		"AuthorizeCacheSecurityGroupIngress",
		"CreateCacheParameterGroup",
		"CreateCacheSecurityGroup",
		"CreateCacheSubnetGroup",
		"DeleteCacheParameterGroup",
		"DeleteCacheSecurityGroup",
		"DeleteCacheSubnetGroup",
		"DescribeCacheEngineVersions",
		"DescribeCacheParameterGroups",
		"DescribeCacheParameters",
		"DescribeCacheSecurityGroups",
		"DescribeCacheSubnetGroups",
		"DescribeEngineDefaultParameters",
		"DescribeEvents",
		"ListTagsForResource",
		"ModifyCacheParameterGroup",
		"ModifyCacheSubnetGroup",
		"RemoveTagsFromResource",
		"ResetCacheParameterGroup",
		"RevokeCacheSecurityGroupIngress",
	}
}
