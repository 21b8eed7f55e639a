package e2e

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
)

// Replication groups through the Go SDK: shapes and faults, with the
// in-memory engines of cacheclusters_test.go behind a gate (the real
// engines are replicationengines_test.go's).

func rgInput(id string, n int32) *elasticache.CreateReplicationGroupInput {
	return &elasticache.CreateReplicationGroupInput{ReplicationGroupId: aws.String(id), ReplicationGroupDescription: aws.String("e2e group"),
		CacheNodeType: aws.String("cache.t3.micro"), Engine: aws.String("redis"), NumCacheClusters: aws.Int32(n)}
}

func describeRGSDK(tb testing.TB, c *elasticache.Client, id string) types.ReplicationGroup {
	tb.Helper()
	out, err := c.DescribeReplicationGroups(tb.Context(), &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)})
	if err != nil {
		tb.Fatalf("describe replication group %s: %v", id, err)
	}
	return out.ReplicationGroups[0]
}

// waitRGStatus polls until the group's status is want.
func waitRGStatus(tb testing.TB, c *elasticache.Client, id, want string) types.ReplicationGroup {
	tb.Helper()
	var last types.ReplicationGroup
	poll(tb, 30*time.Second, "replication group "+id+" "+want, func() (bool, string) {
		last = describeRGSDK(tb, c, id)
		if s := aws.ToString(last.Status); s == "create-failed" && want != s {
			tb.Fatalf("replication group %s is create-failed", id)
		}
		return aws.ToString(last.Status) == want, "status " + aws.ToString(last.Status)
	})
	return last
}

// waitRGGone polls until DescribeReplicationGroups answers NotFound.
func waitRGGone(tb testing.TB, c *elasticache.Client, id string) {
	tb.Helper()
	poll(tb, 30*time.Second, "replication group "+id+" deleted", func() (bool, string) {
		out, err := c.DescribeReplicationGroups(tb.Context(), &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(id)})
		if err != nil {
			var nf *types.ReplicationGroupNotFoundFault
			if !errors.As(err, &nf) {
				tb.Fatalf("describe %s: %v", id, err)
			}
			if problem := checkAPIErr(err, apiErr{status: 404, code: "ReplicationGroupNotFoundFault", msg: "ReplicationGroup " + id + " not found."}); problem != nil {
				tb.Fatal(problem)
			}
			return true, ""
		}
		return false, "status " + aws.ToString(out.ReplicationGroups[0].Status)
	})
}

func wantAPIErr(tb testing.TB, err error, want apiErr) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("no error, want %s", want.code)
	}
	if problem := checkAPIErr(err, want); problem != nil {
		tb.Fatal(problem)
	}
}

func TestReplicationGroupsCreateDescribeDelete(t *testing.T) {
	t.Parallel()
	g := newGatedEngines()
	srv := startGatedServer(t, g)
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()

	in := rgInput("Web-Sessions", 3)
	in.AutomaticFailoverEnabled = aws.Bool(true)
	in.TransitEncryptionEnabled = aws.Bool(false)
	in.Tags = []types.Tag{tag("env", "test")}
	out, err := c.CreateReplicationGroup(ctx, in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	wantRequestID(t, out.ResultMetadata)
	rg := *out.ReplicationGroup
	if aws.ToString(rg.ReplicationGroupId) != "web-sessions" || aws.ToString(rg.Status) != "creating" || rg.AutomaticFailover != types.AutomaticFailoverStatusEnabling ||
		aws.ToBool(rg.ClusterEnabled) || rg.ClusterMode != types.ClusterModeDisabled || rg.MultiAZ != types.MultiAZStatusDisabled ||
		!slices.Equal(rg.MemberClusters, []string{"web-sessions-001", "web-sessions-002", "web-sessions-003"}) || len(rg.NodeGroups) != 1 ||
		rg.NodeGroups[0].PrimaryEndpoint != nil || aws.ToString(rg.ARN) != "arn:aws:elasticache:us-east-1:111111111111:replicationgroup:web-sessions" ||
		rg.ReplicationGroupCreateTime != nil || rg.PendingModifiedValues == nil {
		t.Fatalf("created = %+v", rg)
	}
	// The members are cache clusters, as Terraform reads them.
	member := describeClusterSDK(t, c, "web-sessions-001")
	if aws.ToString(member.ReplicationGroupId) != "web-sessions" || aws.ToString(member.CacheClusterStatus) != "creating" {
		t.Fatalf("member = %+v", member)
	}
	_, err = c.DeleteReplicationGroup(ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String("web-sessions")})
	wantAPIErr(t, err, apiErr{status: 400, code: "InvalidReplicationGroupState", msgHas: "creating"})

	g.open()
	rg = waitRGStatus(t, c, "web-sessions", "available")
	ng := rg.NodeGroups[0]
	if rg.AutomaticFailover != types.AutomaticFailoverStatusEnabled || aws.ToString(ng.NodeGroupId) != "0001" || ng.PrimaryEndpoint == nil ||
		aws.ToInt32(ng.PrimaryEndpoint.Port) != 6379 || ng.ReaderEndpoint == nil || len(ng.NodeGroupMembers) != 3 ||
		aws.ToString(ng.NodeGroupMembers[0].CurrentRole) != "primary" || aws.ToString(ng.NodeGroupMembers[2].CurrentRole) != "replica" ||
		aws.ToString(ng.NodeGroupMembers[1].CacheNodeId) != "0001" || rg.ReplicationGroupCreateTime == nil {
		t.Fatalf("available = %+v / %+v", rg, ng)
	}
	primary := describeClusterSDK(t, c, aws.ToString(ng.NodeGroupMembers[0].CacheClusterId))
	if aws.ToString(primary.CacheNodes[0].Endpoint.Address) != aws.ToString(ng.PrimaryEndpoint.Address) {
		t.Fatalf("primary endpoint %v, node %v", aws.ToString(ng.PrimaryEndpoint.Address), aws.ToString(primary.CacheNodes[0].Endpoint.Address))
	}
	spec, ok := g.Running(srvNodeKey("web-sessions-002"))
	if !ok || spec.ReplicaOf != fmt.Sprintf("%s:%d", aws.ToString(ng.PrimaryEndpoint.Address), aws.ToInt32(ng.PrimaryEndpoint.Port)) {
		t.Fatalf("replica spec = %+v", spec)
	}
	tags, err := c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: rg.ARN})
	if err != nil || len(tags.TagList) != 1 {
		t.Fatalf("tags = %v, %v", tags, err)
	}
	// Every group through the paginator.
	p := elasticache.NewDescribeReplicationGroupsPaginator(c, &elasticache.DescribeReplicationGroupsInput{MaxRecords: aws.Int32(20)})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.ReplicationGroups)
	}
	if n != 1 {
		t.Fatalf("paged %d groups", n)
	}

	// The faults of members, with the words Terraform matches.
	_, err = c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String("web-sessions-001")})
	wantAPIErr(t, err, apiErr{status: 400, code: "InvalidCacheClusterState", msgHas: "serving as primary"})
	_, err = c.ModifyReplicationGroup(ctx, &elasticache.ModifyReplicationGroupInput{ReplicationGroupId: aws.String("web-sessions")})
	wantAPIErr(t, err, apiErr{status: 400, code: "InvalidParameterCombination", msg: "No modifications were requested."})
	mod, err := c.ModifyReplicationGroup(ctx, &elasticache.ModifyReplicationGroupInput{ReplicationGroupId: aws.String("web-sessions"),
		ReplicationGroupDescription: aws.String("changed"), SnapshotRetentionLimit: aws.Int32(3), ApplyImmediately: aws.Bool(true)})
	if err != nil || aws.ToString(mod.ReplicationGroup.Description) != "changed" || aws.ToInt32(mod.ReplicationGroup.SnapshotRetentionLimit) != 3 {
		t.Fatalf("modify = %+v, %v", mod, err)
	}
	_, err = c.IncreaseReplicaCount(ctx, &elasticache.IncreaseReplicaCountInput{ReplicationGroupId: aws.String("web-sessions"), NewReplicaCount: aws.Int32(3), ApplyImmediately: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	waitRGStatus(t, c, "web-sessions", "available")
	_, err = c.DecreaseReplicaCount(ctx, &elasticache.DecreaseReplicaCountInput{ReplicationGroupId: aws.String("web-sessions"),
		ReplicasToRemove: []string{"web-sessions-002"}, ApplyImmediately: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	rg = waitRGStatus(t, c, "web-sessions", "available")
	if !slices.Equal(rg.MemberClusters, []string{"web-sessions-001", "web-sessions-003", "web-sessions-004"}) {
		t.Fatalf("members = %v", rg.MemberClusters)
	}

	_, err = c.CreateReplicationGroup(ctx, rgInput("web-sessions", 1))
	wantAPIErr(t, err, apiErr{status: 400, code: "ReplicationGroupAlreadyExists"})
	bad := rgInput("one", 1)
	bad.AutomaticFailoverEnabled = aws.Bool(true)
	_, err = c.CreateReplicationGroup(ctx, bad)
	wantAPIErr(t, err, apiErr{status: 400, code: "InvalidParameterCombination", msg: "When using automatic failover, there must be at least 2 cache clusters in the replication group."})
	sharded := rgInput("sharded", 2)
	sharded.NumNodeGroups = aws.Int32(3)
	_, err = c.CreateReplicationGroup(ctx, sharded)
	wantAPIErr(t, err, apiErr{status: 400, code: "InvalidParameterCombination", msgHas: "cluster mode"})
	_, err = c.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("nope")})
	wantAPIErr(t, err, apiErr{status: 404, code: "ReplicationGroupNotFoundFault", msg: "ReplicationGroup nope not found."})
	_, err = c.DeleteReplicationGroup(ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String("nope")})
	wantAPIErr(t, err, apiErr{status: 404, code: "ReplicationGroupNotFoundFault"})

	del, err := c.DeleteReplicationGroup(ctx, &elasticache.DeleteReplicationGroupInput{ReplicationGroupId: aws.String("web-sessions")})
	if err != nil || aws.ToString(del.ReplicationGroup.Status) != "deleting" {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	waitRGGone(t, c, "web-sessions")
	for _, id := range []string{"web-sessions-001", "web-sessions-003", "web-sessions-004"} {
		waitGone(t, c, id)
	}
	if keys := g.RunningKeys(); len(keys) != 0 {
		t.Fatalf("engines left: %v", keys)
	}
}

// srvNodeKey is the engine key of a member's node in the test account.
func srvNodeKey(cluster string) string { return "111111111111/us-east-1/" + cluster + "/0001" }

func TestReplicationGroupsUserGroups(t *testing.T) {
	t.Parallel()
	g := newGatedEngines()
	g.open()
	srv := startGatedServer(t, g)
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()
	for _, u := range []string{"alice", "bob"} {
		_, err := c.CreateUser(ctx, &elasticache.CreateUserInput{UserId: aws.String(u), UserName: aws.String(u), Engine: aws.String("redis"),
			AccessString: aws.String("on ~* +@all"), Passwords: []string{u + "-password-0123456"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreateUserGroup(ctx, &elasticache.CreateUserGroupInput{UserGroupId: aws.String("team"), Engine: aws.String("redis"), UserIds: []string{"default", "alice", "bob"}})
	if err != nil {
		t.Fatal(err)
	}
	in := rgInput("rbac", 2)
	in.UserGroupIds = []string{"team"}
	// AWS lets user groups in only with encryption in transit.
	_, err = c.CreateReplicationGroup(ctx, in)
	wantAPIErr(t, err, apiErr{status: 400, code: "InvalidParameterCombination",
		msg: "User group based access control requires encryption-in-transit to be enabled on the replication group."})
	in.TransitEncryptionEnabled = aws.Bool(true)
	if _, err := c.CreateReplicationGroup(ctx, in); err != nil {
		t.Fatal(err)
	}
	rg := waitRGStatus(t, c, "rbac", "available")
	if !slices.Equal(rg.UserGroupIds, []string{"team"}) {
		t.Fatalf("user groups = %v", rg.UserGroupIds)
	}
	ug, err := c.DescribeUserGroups(ctx, &elasticache.DescribeUserGroupsInput{UserGroupId: aws.String("team")})
	if err != nil || !slices.Equal(ug.UserGroups[0].ReplicationGroups, []string{"rbac"}) {
		t.Fatalf("user group = %+v, %v", ug, err)
	}
	_, err = c.DeleteUserGroup(ctx, &elasticache.DeleteUserGroupInput{UserGroupId: aws.String("team")})
	wantAPIErr(t, err, apiErr{status: 400, code: "InvalidUserGroupState"})
	// DeleteUser takes the user off the group and the engines.
	if _, err := c.DeleteUser(ctx, &elasticache.DeleteUserInput{UserId: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	poll(t, 10*time.Second, "alice off the engines", func() (bool, string) {
		spec, _ := g.Running(srvNodeKey("rbac-002"))
		for _, u := range spec.Users {
			if u.Name == "alice" {
				return false, fmt.Sprint(spec.Users)
			}
		}
		return len(spec.Users) == 2, fmt.Sprint(spec.Users)
	})
	_, err = c.CreateReplicationGroup(ctx, func() *elasticache.CreateReplicationGroupInput {
		in := rgInput("bad-ug", 1)
		in.UserGroupIds, in.TransitEncryptionEnabled = []string{"nope"}, aws.Bool(true)
		return in
	}())
	wantAPIErr(t, err, apiErr{status: 404, code: "UserGroupNotFound"})
}
