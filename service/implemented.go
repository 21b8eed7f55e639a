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
		"CreateUser",
		"CreateUserGroup",
		"DeleteCacheParameterGroup",
		"DeleteCacheSecurityGroup",
		"DeleteCacheSubnetGroup",
		"DeleteUser",
		"DeleteUserGroup",
		"DescribeCacheEngineVersions",
		"DescribeCacheParameterGroups",
		"DescribeCacheParameters",
		"DescribeCacheSecurityGroups",
		"DescribeCacheSubnetGroups",
		"DescribeEngineDefaultParameters",
		"DescribeEvents",
		"DescribeUserGroups",
		"DescribeUsers",
		"ListTagsForResource",
		"ModifyCacheParameterGroup",
		"ModifyCacheSubnetGroup",
		"ModifyUser",
		"ModifyUserGroup",
		"RemoveTagsFromResource",
		"ResetCacheParameterGroup",
		"RevokeCacheSecurityGroupIngress",
	}
}
