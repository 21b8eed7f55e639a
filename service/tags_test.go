package service

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/api"
)

const arnWeb = "arn:aws:elasticache:us-east-1:111111111111:securitygroup:web"

func tagPairs(tags []api.Tag) [][2]string {
	out := [][2]string{}
	for _, t := range tags {
		out = append(out, [2]string{*t.Key, *t.Value})
	}
	return out
}

func wantTags(tb testing.TB, got []api.Tag, want ...[2]string) {
	tb.Helper()
	if want == nil {
		want = [][2]string{}
	}
	if d := cmp.Diff(want, tagPairs(got)); d != "" {
		tb.Fatalf("tags (-want +got):\n%s", d)
	}
}

func TestTagsRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "web", api.Tag{Key: s("b"), Value: s("2")})
	out, err := f.svc.AddTagsToResource(ctxA, &api.AddTagsToResourceInput{ResourceName: s(arnWeb),
		Tags: []api.Tag{{Key: s("a"), Value: s("1")}, {Key: s("c")}, {Key: s("b"), Value: s("overwritten")}, {Key: s("a"), Value: s("last wins")}}})
	mustOK(t, err)
	wantTags(t, out.TagList, [2]string{"a", "last wins"}, [2]string{"b", "overwritten"}, [2]string{"c", ""})
	list, err := f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(arnWeb)})
	mustOK(t, err)
	wantTags(t, list.TagList, [2]string{"a", "last wins"}, [2]string{"b", "overwritten"}, [2]string{"c", ""})
	rm, err := f.svc.RemoveTagsFromResource(ctxA, &api.RemoveTagsFromResourceInput{ResourceName: s(arnWeb), TagKeys: []string{"a", "c", "a"}})
	mustOK(t, err)
	wantTags(t, rm.TagList, [2]string{"b", "overwritten"})
	_, err = f.svc.RemoveTagsFromResource(ctxA, &api.RemoveTagsFromResourceInput{ResourceName: s(arnWeb), TagKeys: []string{"b", "zzz"}})
	wantFaultContaining(t, err, "TagNotFound", 404, "zzz")
	// Nothing was removed by the failed request.
	list, err = f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(arnWeb)})
	mustOK(t, err)
	wantTags(t, list.TagList, [2]string{"b", "overwritten"})
}

func TestTagQuotaOnAdd(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "web", nTags(49)...)
	_, err := f.svc.AddTagsToResource(ctxA, &api.AddTagsToResourceInput{ResourceName: s(arnWeb),
		Tags: []api.Tag{{Key: s("key-00"), Value: s("overwrite does not count")}, {Key: s("new-1")}}})
	mustOK(t, err)
	_, err = f.svc.AddTagsToResource(ctxA, &api.AddTagsToResourceInput{ResourceName: s(arnWeb), Tags: []api.Tag{{Key: s("new-2")}}})
	wantFault(t, err, "TagQuotaPerResourceExceeded", 400, "The maximum number of tags permitted on a resource is 50.")
	list, err := f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(arnWeb)})
	mustOK(t, err)
	if len(list.TagList) != 50 {
		t.Fatalf("%d tags after a refused add, want 50", len(list.TagList))
	}
}

func TestTagARNs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Accounts: map[string]AccountConfig{"999999999999": {Modern: true}}})
	create(t, f, ctxA, "web")
	cases := []struct {
		arn, code string
		status    int
		msg       string
	}{
		{"web", "InvalidARN", 400, "Input ARN string does not have 7 components."},
		{"arn:aws:elasticache:us-east-1:111111111111:securitygroup", "InvalidARN", 400, "Input ARN string does not have 7 components."},
		{"arn:aws:elasticache:us-east-1:111111111111:securitygroup:web:x", "InvalidARN", 400, "Input ARN string does not have 7 components."},
		{"arn:aws:ec2:us-east-1:111111111111:securitygroup:web", "InvalidARN", 400, ""},
		{"urn:aws:elasticache:us-east-1:111111111111:securitygroup:web", "InvalidARN", 400, ""},
		{"arn:aws:elasticache:us-east-1:111111111111:widget:web", "InvalidARN", 400, ""},
		{"arn:aws:elasticache:us-east-1:111111111111:securitygroup:", "InvalidARN", 400, ""},
		{"arn:aws:elasticache:us-east-1:222222222222:securitygroup:web", "CacheSecurityGroupNotFound", 404, "CacheSecurityGroup web not found."},
		{"arn:aws:elasticache:eu-west-1:111111111111:securitygroup:web", "CacheSecurityGroupNotFound", 404, ""},
		{"arn:aws:elasticache:us-east-1:111111111111:securitygroup:nope", "CacheSecurityGroupNotFound", 404, "CacheSecurityGroup nope not found."},
		{"arn:aws:elasticache:us-east-1:111111111111:securitygroup:WEB", "CacheSecurityGroupNotFound", 404, ""},
		{"arn:aws-cn:elasticache:us-east-1:111111111111:securitygroup:web", "CacheSecurityGroupNotFound", 404, ""},
		{"arn:aws:elasticache:us-east-1:111111111111:cluster:c1", "CacheClusterNotFound", 404, "CacheCluster not found: c1"},
		{"arn:aws:elasticache:us-east-1:111111111111:parametergroup:p", "CacheParameterGroupNotFound", 404, ""},
		{"arn:aws:elasticache:us-east-1:111111111111:subnetgroup:s", "CacheSubnetGroupNotFoundFault", 400, ""},
		{"arn:aws:elasticache:us-east-1:111111111111:replicationgroup:r", "ReplicationGroupNotFoundFault", 404, ""},
		{"arn:aws:elasticache:us-east-1:111111111111:reserved-instance:r", "ReservedCacheNodeNotFound", 404, ""},
		{"arn:aws:elasticache:us-east-1:111111111111:snapshot:s", "SnapshotNotFoundFault", 404, ""},
		{"arn:aws:elasticache:us-east-1:111111111111:user:u", "UserNotFound", 404, ""},
		{"arn:aws:elasticache:us-east-1:111111111111:usergroup:u", "UserGroupNotFound", 404, ""},
		{"arn:aws:elasticache:us-east-1:111111111111:serverlesscache:c", "ServerlessCacheNotFoundFault", 404, ""},
		{"arn:aws:elasticache:us-east-1:111111111111:serverlesscachesnapshot:c", "ServerlessCacheSnapshotNotFoundFault", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.arn, func(t *testing.T) {
			_, err := f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(tc.arn)})
			wantFault(t, err, tc.code, tc.status, tc.msg)
			_, err = f.svc.AddTagsToResource(ctxA, &api.AddTagsToResourceInput{ResourceName: s(tc.arn), Tags: []api.Tag{{Key: s("k")}}})
			wantFault(t, err, tc.code, tc.status, tc.msg)
			_, err = f.svc.RemoveTagsFromResource(ctxA, &api.RemoveTagsFromResourceInput{ResourceName: s(tc.arn), TagKeys: []string{"k"}})
			wantFault(t, err, tc.code, tc.status, tc.msg)
		})
	}
	// A modern account may not tag security groups, but other types answer as usual.
	modern := as("999999999999", "us-east-1")
	_, err := f.svc.ListTagsForResource(modern, &api.ListTagsForResourceInput{ResourceName: s("arn:aws:elasticache:us-east-1:999999999999:securitygroup:default")})
	wantFault(t, err, "InvalidParameterValue", 400, "Use of cache security groups is not permitted in this API version for your account.")
	_, err = f.svc.ListTagsForResource(modern, &api.ListTagsForResourceInput{ResourceName: s("arn:aws:elasticache:us-east-1:999999999999:cluster:c")})
	wantFault(t, err, "CacheClusterNotFound", 404, "")
}

func TestTagValidationOnAddAndRemove(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	create(t, f, ctxA, "web", api.Tag{Key: s("keep"), Value: s("v")})
	for _, tags := range [][]api.Tag{
		{{Key: s("aws:x")}},
		{{Key: s("ok")}, {Key: s("bad&")}},
		{{Key: s("k"), Value: s(fmt.Sprintf("%0257d", 0))}},
	} {
		_, err := f.svc.AddTagsToResource(ctxA, &api.AddTagsToResourceInput{ResourceName: s(arnWeb), Tags: tags})
		wantFault(t, err, "InvalidParameterValue", 400, "")
	}
	_, err := f.svc.RemoveTagsFromResource(ctxA, &api.RemoveTagsFromResourceInput{ResourceName: s(arnWeb), TagKeys: []string{"keep", "aws:x"}})
	wantFault(t, err, "InvalidParameterValue", 400, "")
	list, err := f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(arnWeb)})
	mustOK(t, err)
	wantTags(t, list.TagList, [2]string{"keep", "v"})
}

func TestTagsOnDefaultGroupAndDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	def := "arn:aws:elasticache:us-east-1:111111111111:securitygroup:default"
	list, err := f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(def)})
	mustOK(t, err)
	wantTags(t, list.TagList)
	_, err = f.svc.AddTagsToResource(ctxA, &api.AddTagsToResourceInput{ResourceName: s(def), Tags: []api.Tag{{Key: s("k"), Value: s("v")}}})
	mustOK(t, err)
	list, err = f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(def)})
	mustOK(t, err)
	wantTags(t, list.TagList, [2]string{"k", "v"})
	// Deleting a group deletes its tags: a new group of that name has none.
	create(t, f, ctxA, "web", api.Tag{Key: s("old"), Value: s("v")})
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("web")})
	mustOK(t, err)
	_, err = f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(arnWeb)})
	wantFault(t, err, "CacheSecurityGroupNotFound", 404, "")
	create(t, f, ctxA, "web")
	list, err = f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(arnWeb)})
	mustOK(t, err)
	wantTags(t, list.TagList)
}
