package service

// Implemented lists the operations the service answers; every other one
// answers NotImplemented through api.Unimplemented. A guard test holds
// the list and the methods to each other both ways, so a mistyped method
// name, which would compile and silently stay unimplemented, fails it.
func Implemented() []string {
	return []string{
		"AddTagsToResource",
		"AuthorizeCacheSecurityGroupIngress",
		"CreateCacheSecurityGroup",
		"CreateCacheSubnetGroup",
		"CreateUser",
		"CreateUserGroup",
		"DeleteCacheSecurityGroup",
		"DeleteCacheSubnetGroup",
		"DeleteUser",
		"DeleteUserGroup",
		"DescribeCacheSecurityGroups",
		"DescribeCacheSubnetGroups",
		"DescribeEvents",
		"DescribeUserGroups",
		"DescribeUsers",
		"ListTagsForResource",
		"ModifyCacheSubnetGroup",
		"ModifyUser",
		"ModifyUserGroup",
		"RemoveTagsFromResource",
		"RevokeCacheSecurityGroupIngress",
	}
}
