package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/elasticache-server/elasticache-server/api"
)

// The kind conformance suite: one body of tests run over every registered
// kind, so that an operation's own tests hold only that operation's rules.
// A kind registered without a driver here fails TestEveryKindHasADriver.

// kindDriver is how the suite drives one kind through the API.
type kindDriver struct {
	// create makes a record named name with tags; describe reads one by
	// name (its name as answered); page reads a page; delete removes one.
	create   func(f *fixture, ctx context.Context, name string, tags []api.Tag) error
	describe func(f *fixture, ctx context.Context, name string) (string, error)
	page     func(f *fixture, ctx context.Context, max int32, marker *string) (names []string, next *string, err error)
	delete   func(f *fixture, ctx context.Context, name string) error
	// exists and notFound are the kind's fault codes; quota is the code
	// of its quota fault when it does not end in QuotaExceeded.
	exists, notFound, quota string
}

var kindDrivers = map[string]kindDriver{
	// Clusters go through their transitions with settle, which plays the
	// reconciler's part: a created one is available (with its event), a
	// deleted one gone.
	cacheClusterKind.Name: {
		create: func(f *fixture, ctx context.Context, name string, tags []api.Tag) error {
			_, err := f.svc.CreateCacheCluster(ctx, &api.CreateCacheClusterInput{CacheClusterId: &name, Engine: s("redis"),
				CacheNodeType: s("cache.t3.micro"), Tags: tags})
			if err == nil {
				err = f.settle(ctx, strings.ToLower(name))
			}
			return err
		},
		describe: func(f *fixture, ctx context.Context, name string) (string, error) {
			out, err := f.svc.DescribeCacheClusters(ctx, &api.DescribeCacheClustersInput{CacheClusterId: &name})
			if err != nil {
				return "", err
			}
			return *out.CacheClusters[0].CacheClusterId, nil
		},
		page: func(f *fixture, ctx context.Context, max int32, marker *string) ([]string, *string, error) {
			out, err := f.svc.DescribeCacheClusters(ctx, &api.DescribeCacheClustersInput{MaxRecords: &max, Marker: marker})
			if err != nil {
				return nil, nil, err
			}
			var names []string
			for _, c := range out.CacheClusters {
				names = append(names, *c.CacheClusterId)
			}
			return names, out.Marker, nil
		},
		delete: func(f *fixture, ctx context.Context, name string) error {
			_, err := f.svc.DeleteCacheCluster(ctx, &api.DeleteCacheClusterInput{CacheClusterId: &name})
			if err == nil {
				err = f.settle(ctx, strings.ToLower(name))
			}
			return err
		},
		exists: "CacheClusterAlreadyExists", notFound: "CacheClusterNotFound", quota: "ClusterQuotaForCustomerExceeded",
	},
	parameterGroupKind.Name: {
		create: func(f *fixture, ctx context.Context, name string, tags []api.Tag) error {
			_, err := f.svc.CreateCacheParameterGroup(ctx, &api.CreateCacheParameterGroupInput{CacheParameterGroupName: &name,
				CacheParameterGroupFamily: s("redis7"), Description: s("d"), Tags: tags})
			return err
		},
		describe: func(f *fixture, ctx context.Context, name string) (string, error) {
			out, err := f.svc.DescribeCacheParameterGroups(ctx, &api.DescribeCacheParameterGroupsInput{CacheParameterGroupName: &name})
			if err != nil {
				return "", err
			}
			return *out.CacheParameterGroups[0].CacheParameterGroupName, nil
		},
		page: func(f *fixture, ctx context.Context, max int32, marker *string) ([]string, *string, error) {
			out, err := f.svc.DescribeCacheParameterGroups(ctx, &api.DescribeCacheParameterGroupsInput{MaxRecords: &max, Marker: marker})
			if err != nil {
				return nil, nil, err
			}
			var names []string
			for _, g := range out.CacheParameterGroups {
				names = append(names, *g.CacheParameterGroupName)
			}
			return names, out.Marker, nil
		},
		delete: func(f *fixture, ctx context.Context, name string) error {
			_, err := f.svc.DeleteCacheParameterGroup(ctx, &api.DeleteCacheParameterGroupInput{CacheParameterGroupName: &name})
			return err
		},
		exists: "CacheParameterGroupAlreadyExists", notFound: "CacheParameterGroupNotFound",
	},
	securityGroupKind.Name: {
		create: func(f *fixture, ctx context.Context, name string, tags []api.Tag) error {
			_, err := f.svc.CreateCacheSecurityGroup(ctx, &api.CreateCacheSecurityGroupInput{CacheSecurityGroupName: &name, Description: s("d"), Tags: tags})
			return err
		},
		describe: func(f *fixture, ctx context.Context, name string) (string, error) {
			out, err := f.svc.DescribeCacheSecurityGroups(ctx, &api.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: &name})
			if err != nil {
				return "", err
			}
			return *out.CacheSecurityGroups[0].CacheSecurityGroupName, nil
		},
		page: func(f *fixture, ctx context.Context, max int32, marker *string) ([]string, *string, error) {
			out, err := f.svc.DescribeCacheSecurityGroups(ctx, &api.DescribeCacheSecurityGroupsInput{MaxRecords: &max, Marker: marker})
			if err != nil {
				return nil, nil, err
			}
			var names []string
			for _, g := range out.CacheSecurityGroups {
				names = append(names, *g.CacheSecurityGroupName)
			}
			return names, out.Marker, nil
		},
		delete: func(f *fixture, ctx context.Context, name string) error {
			_, err := f.svc.DeleteCacheSecurityGroup(ctx, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: &name})
			return err
		},
		exists: "CacheSecurityGroupAlreadyExists", notFound: "CacheSecurityGroupNotFound",
	},
	subnetGroupKind.Name: {
		create: func(f *fixture, ctx context.Context, name string, tags []api.Tag) error {
			_, err := f.svc.CreateCacheSubnetGroup(ctx, &api.CreateCacheSubnetGroupInput{CacheSubnetGroupName: &name,
				CacheSubnetGroupDescription: s("d"), SubnetIds: []string{"subnet-0a1b2c3d"}, Tags: tags})
			return err
		},
		describe: func(f *fixture, ctx context.Context, name string) (string, error) {
			out, err := f.svc.DescribeCacheSubnetGroups(ctx, &api.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: &name})
			if err != nil {
				return "", err
			}
			return *out.CacheSubnetGroups[0].CacheSubnetGroupName, nil
		},
		page: func(f *fixture, ctx context.Context, max int32, marker *string) ([]string, *string, error) {
			out, err := f.svc.DescribeCacheSubnetGroups(ctx, &api.DescribeCacheSubnetGroupsInput{MaxRecords: &max, Marker: marker})
			if err != nil {
				return nil, nil, err
			}
			var names []string
			for _, g := range out.CacheSubnetGroups {
				names = append(names, *g.CacheSubnetGroupName)
			}
			return names, out.Marker, nil
		},
		delete: func(f *fixture, ctx context.Context, name string) error {
			_, err := f.svc.DeleteCacheSubnetGroup(ctx, &api.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: &name})
			return err
		},
		exists: "CacheSubnetGroupAlreadyExists", notFound: "CacheSubnetGroupNotFoundFault",
	},
	userKind.Name: {
		create: func(f *fixture, ctx context.Context, name string, tags []api.Tag) error {
			_, err := f.svc.CreateUser(ctx, &api.CreateUserInput{UserId: &name, UserName: &name, Engine: s("redis"),
				AccessString: s("on ~* +@all"), NoPasswordRequired: ptr(true), Tags: tags})
			return err
		},
		describe: func(f *fixture, ctx context.Context, name string) (string, error) {
			out, err := f.svc.DescribeUsers(ctx, &api.DescribeUsersInput{UserId: &name})
			if err != nil {
				return "", err
			}
			return *out.Users[0].UserId, nil
		},
		page: func(f *fixture, ctx context.Context, max int32, marker *string) ([]string, *string, error) {
			out, err := f.svc.DescribeUsers(ctx, &api.DescribeUsersInput{MaxRecords: &max, Marker: marker})
			if err != nil {
				return nil, nil, err
			}
			var names []string
			for _, u := range out.Users {
				names = append(names, *u.UserId)
			}
			return names, out.Marker, nil
		},
		delete: func(f *fixture, ctx context.Context, name string) error {
			_, err := f.svc.DeleteUser(ctx, &api.DeleteUserInput{UserId: &name})
			return err
		},
		exists: "UserAlreadyExists", notFound: "UserNotFound",
	},
	replicationGroupKind.Name: {
		create: func(f *fixture, ctx context.Context, name string, tags []api.Tag) error {
			_, err := f.svc.CreateReplicationGroup(ctx, &api.CreateReplicationGroupInput{ReplicationGroupId: &name,
				ReplicationGroupDescription: s("conformance"), CacheNodeType: s("cache.t3.micro"), Tags: tags})
			if err == nil {
				f.reconcile()
			}
			return err
		},
		describe: func(f *fixture, ctx context.Context, name string) (string, error) {
			out, err := f.svc.DescribeReplicationGroups(ctx, &api.DescribeReplicationGroupsInput{ReplicationGroupId: &name})
			if err != nil {
				return "", err
			}
			return *out.ReplicationGroups[0].ReplicationGroupId, nil
		},
		page: func(f *fixture, ctx context.Context, max int32, marker *string) ([]string, *string, error) {
			out, err := f.svc.DescribeReplicationGroups(ctx, &api.DescribeReplicationGroupsInput{MaxRecords: &max, Marker: marker})
			if err != nil {
				return nil, nil, err
			}
			var names []string
			for _, g := range out.ReplicationGroups {
				names = append(names, *g.ReplicationGroupId)
			}
			return names, out.Marker, nil
		},
		delete: func(f *fixture, ctx context.Context, name string) error {
			_, err := f.svc.DeleteReplicationGroup(ctx, &api.DeleteReplicationGroupInput{ReplicationGroupId: &name})
			if err == nil {
				f.reconcile()
			}
			return err
		},
		exists: "ReplicationGroupAlreadyExists", notFound: "ReplicationGroupNotFoundFault", quota: "ClusterQuotaForCustomerExceeded",
	},
	userGroupKind.Name: {
		create: func(f *fixture, ctx context.Context, name string, tags []api.Tag) error {
			_, err := f.svc.CreateUserGroup(ctx, &api.CreateUserGroupInput{UserGroupId: &name, Engine: s("redis"),
				UserIds: []string{"default"}, Tags: tags})
			return err
		},
		describe: func(f *fixture, ctx context.Context, name string) (string, error) {
			out, err := f.svc.DescribeUserGroups(ctx, &api.DescribeUserGroupsInput{UserGroupId: &name})
			if err != nil {
				return "", err
			}
			return *out.UserGroups[0].UserGroupId, nil
		},
		page: func(f *fixture, ctx context.Context, max int32, marker *string) ([]string, *string, error) {
			out, err := f.svc.DescribeUserGroups(ctx, &api.DescribeUserGroupsInput{MaxRecords: &max, Marker: marker})
			if err != nil {
				return nil, nil, err
			}
			var names []string
			for _, g := range out.UserGroups {
				names = append(names, *g.UserGroupId)
			}
			return names, out.Marker, nil
		},
		delete: func(f *fixture, ctx context.Context, name string) error {
			_, err := f.svc.DeleteUserGroup(ctx, &api.DeleteUserGroupInput{UserGroupId: &name})
			return err
		},
		exists: "UserGroupAlreadyExists", notFound: "UserGroupNotFound",
	},
}

func TestEveryKindHasADriver(t *testing.T) {
	t.Parallel()
	for _, k := range registeredKinds() {
		if _, ok := kindDrivers[k.Name]; !ok {
			t.Errorf("kind %s has no driver in kindDrivers: the conformance suite does not cover it", k.Name)
		}
	}
}

// quotaFault reports whether err is the kind's quota fault.
func (d kindDriver) quotaFault(err error) bool {
	if d.quota != "" {
		return faultCode(err) == d.quota
	}
	return strings.Contains(faultCode(err), "QuotaExceeded")
}

// faultCode is err's AWS code, or "" for no fault.
func faultCode(err error) string {
	var f api.Fault
	if errors.As(err, &f) {
		return f.ErrorCode()
	}
	return ""
}

func TestKindConformance(t *testing.T) {
	t.Parallel()
	for _, k := range registeredKinds() {
		d := kindDrivers[k.Name]
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{Quotas: map[string]int{k.Field: 30}})
			ctx := ctxA
			arnOf := func(name string) string { return arn(scope{Account: "111111111111", Region: "us-east-1"}, k, name) }

			// Create and describe; names are stored in their stored form.
			mustOK(t, d.create(f, ctx, "Alpha", []api.Tag{{Key: s("env"), Value: s("test")}}))
			if got, err := d.describe(f, ctx, "ALPHA"); err != nil || got != "alpha" {
				t.Fatalf("describe ALPHA = %q, %v; want alpha", got, err)
			}
			if err := d.create(f, ctx, "alpha", nil); faultCode(err) != d.exists {
				t.Fatalf("second create = %v, want %s", err, d.exists)
			}
			if _, err := d.describe(f, ctx, "nobody"); faultCode(err) != d.notFound {
				t.Fatalf("describe of nobody = %v, want %s", err, d.notFound)
			}
			// Another account and another region see nothing of it.
			for _, other := range []context.Context{as("222222222222", "us-east-1"), as("111111111111", "eu-west-1")} {
				if _, err := d.describe(f, other, "alpha"); faultCode(err) != d.notFound {
					t.Fatalf("describe from another scope = %v, want %s", err, d.notFound)
				}
			}

			// Pages of 20 in name order, virtual records in their places,
			// every record once; a marker is this operation's only.
			for i := range 24 {
				mustOK(t, d.create(f, ctx, fmt.Sprintf("r-%02d", i), nil))
			}
			want := append([]string{"alpha"}, k.Virtual...)
			for i := range 24 {
				want = append(want, fmt.Sprintf("r-%02d", i))
			}
			slices.Sort(want)
			var got []string
			var marker *string
			for pages := 0; ; pages++ {
				names, next, err := d.page(f, ctx, 20, marker)
				mustOK(t, err)
				if len(names) > 20 || pages > 3 {
					t.Fatalf("page %d has %d records", pages, len(names))
				}
				got = append(got, names...)
				if next == nil {
					break
				}
				marker = next
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged names = %v, want %v", got, want)
			}
			if _, _, err := d.page(f, as("222222222222", "us-east-1"), 20, marker); faultCode(err) != "InvalidParameterValue" {
				t.Fatalf("a marker of another account = %v, want InvalidParameterValue", err)
			}

			// The quota counts stored records, virtual ones not.
			for i := 24; i < 29; i++ {
				mustOK(t, d.create(f, ctx, fmt.Sprintf("r-%02d", i), nil))
			}
			if err := d.create(f, ctx, "one-too-many", nil); !d.quotaFault(err) {
				t.Fatalf("create past the quota = %v, want the kind's quota fault", err)
			}
			counts, err := f.svc.CountResources(context.Background())
			mustOK(t, err)
			if counts[k.Name] != 30 {
				t.Fatalf("CountResources = %v, want %s: 30", counts, k.Name)
			}

			// Tags by ARN.
			tl, err := f.svc.ListTagsForResource(ctx, &api.ListTagsForResourceInput{ResourceName: s(arnOf("alpha"))})
			mustOK(t, err)
			if len(tl.TagList) != 1 || *tl.TagList[0].Key != "env" {
				t.Fatalf("tags of alpha = %v", tl.TagList)
			}
			_, err = f.svc.AddTagsToResource(ctx, &api.AddTagsToResourceInput{ResourceName: s(arnOf("alpha")), Tags: []api.Tag{{Key: s("team"), Value: s("core")}}})
			mustOK(t, err)
			rm, err := f.svc.RemoveTagsFromResource(ctx, &api.RemoveTagsFromResourceInput{ResourceName: s(arnOf("alpha")), TagKeys: []string{"env"}})
			mustOK(t, err)
			if len(rm.TagList) != 1 || *rm.TagList[0].Key != "team" {
				t.Fatalf("tags after remove = %v", rm.TagList)
			}
			if _, err := f.svc.ListTagsForResource(ctx, &api.ListTagsForResourceInput{ResourceName: s(arnOf("nobody"))}); faultCode(err) != d.notFound {
				t.Fatalf("tags of nobody = %v, want %s", err, d.notFound)
			}

			// Events of the kind, by name.
			evs, err := f.svc.DescribeEvents(ctx, &api.DescribeEventsInput{SourceType: s(k.Name), SourceIdentifier: s("ALPHA"), Duration: i32(60)})
			mustOK(t, err)
			if len(evs.Events) != 1 || *evs.Events[0].SourceType != k.Name || *evs.Events[0].SourceIdentifier != "alpha" {
				t.Fatalf("events of alpha = %+v", evs.Events)
			}

			// Export, reset, import: the same bytes, the same answers.
			doc := mustExport(t, f)
			if !strings.Contains(string(doc), `"`+k.Field+`": [`) {
				t.Fatalf("export has no %s list", k.Field)
			}
			_, err = f.svc.Reset(context.Background(), "", Batching{})
			mustOK(t, err)
			if _, err := d.describe(f, ctx, "alpha"); faultCode(err) != d.notFound {
				t.Fatalf("describe after reset = %v", err)
			}
			res, err := f.svc.ImportState(context.Background(), doc, ImportOptions{})
			mustOK(t, err)
			if res.Records[k.Field] != 30 {
				t.Fatalf("imported %v, want 30 %s", res.Records, k.Field)
			}
			if again := mustExport(t, f); string(again) != string(doc) {
				t.Fatalf("export after import differs")
			}
			tl, err = f.svc.ListTagsForResource(ctx, &api.ListTagsForResourceInput{ResourceName: s(arnOf("alpha"))})
			mustOK(t, err)
			if len(tl.TagList) != 1 || *tl.TagList[0].Key != "team" {
				t.Fatalf("tags of alpha after import = %v", tl.TagList)
			}
			// The rebuilt counter still holds the quota.
			if err := d.create(f, ctx, "one-too-many", nil); !d.quotaFault(err) {
				t.Fatalf("create past the quota after import = %v", err)
			}

			// Delete: gone, with its tags; a second delete is NotFound.
			mustOK(t, d.delete(f, ctx, "ALPHA"))
			if _, err := d.describe(f, ctx, "alpha"); faultCode(err) != d.notFound {
				t.Fatalf("describe after delete = %v, want %s", err, d.notFound)
			}
			if err := d.delete(f, ctx, "alpha"); faultCode(err) != d.notFound {
				t.Fatalf("second delete = %v, want %s", err, d.notFound)
			}
			mustOK(t, d.create(f, ctx, "alpha", nil))
			tl, err = f.svc.ListTagsForResource(ctx, &api.ListTagsForResourceInput{ResourceName: s(arnOf("alpha"))})
			mustOK(t, err)
			if len(tl.TagList) != 0 {
				t.Fatalf("tags survived delete: %v", tl.TagList)
			}
		})
	}
}
