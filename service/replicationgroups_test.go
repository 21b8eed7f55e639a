package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/engine"
	"github.com/elasticache-server/elasticache-server/storage"
)

// reconcile runs one pass of a control-plane-only reconciler over the
// work index: the members of replication groups become available, or
// go, as the fleet would make them.
func (f *fixture) reconcile() {
	f.svc.NewReconciler(nil, ReconcilerConfig{ServerID: "test"}).workPass(context.Background())
}

func rgInput(id string, n int32) *api.CreateReplicationGroupInput {
	return &api.CreateReplicationGroupInput{ReplicationGroupId: s(id), ReplicationGroupDescription: s("test group"),
		CacheNodeType: s("cache.t3.micro"), NumCacheClusters: i32(n)}
}

func describeRG(t *testing.T, f *fixture, id string) api.ReplicationGroup {
	t.Helper()
	out, err := f.svc.DescribeReplicationGroups(ctxA, &api.DescribeReplicationGroupsInput{ReplicationGroupId: s(id)})
	mustOK(t, err)
	return out.ReplicationGroups[0]
}

func sha(pw string) string {
	h := sha256.Sum256([]byte(pw))
	return hex.EncodeToString(h[:])
}

func TestCreateReplicationGroupFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	with := func(mod func(in *api.CreateReplicationGroupInput)) *api.CreateReplicationGroupInput {
		in := rgInput("rg", 2)
		mod(in)
		return in
	}
	_, err := f.svc.CreateUserGroup(ctxA, &api.CreateUserGroupInput{UserGroupId: s("vk"), Engine: s("valkey"), UserIds: []string{}})
	if err == nil {
		t.Fatal("a valkey group without users was created")
	}
	_, err = f.svc.CreateUserGroup(ctxA, &api.CreateUserGroupInput{UserGroupId: s("ug"), Engine: s("redis"), UserIds: []string{"default"}})
	mustOK(t, err)
	cases := []struct {
		name   string
		in     *api.CreateReplicationGroupInput
		code   string
		status int
		msg    string
	}{
		{"bad id", with(func(in *api.CreateReplicationGroupInput) { in.ReplicationGroupId = s("1rg") }), "InvalidParameterValue", 400, ""},
		{"double hyphen", with(func(in *api.CreateReplicationGroupInput) { in.ReplicationGroupId = s("a--b") }), "InvalidParameterValue", 400, ""},
		{"too long", with(func(in *api.CreateReplicationGroupInput) { in.ReplicationGroupId = s(strings.Repeat("a", 41)) }), "InvalidParameterValue", 400, ""},
		{"no description", with(func(in *api.CreateReplicationGroupInput) { in.ReplicationGroupDescription = nil }), "InvalidParameterValue", 400, ""},
		{"failover of one", with(func(in *api.CreateReplicationGroupInput) {
			in.NumCacheClusters, in.AutomaticFailoverEnabled = i32(1), ptr(true)
		}), "InvalidParameterCombination", 400, "When using automatic failover, there must be at least 2 cache clusters in the replication group."},
		{"multi-az without failover", with(func(in *api.CreateReplicationGroupInput) { in.MultiAZEnabled = ptr(true) }), "InvalidParameterCombination", 400, ""},
		{"cluster mode", with(func(in *api.CreateReplicationGroupInput) { in.ClusterMode = s("enabled") }), "InvalidParameterCombination", 400, ""},
		{"node groups", with(func(in *api.CreateReplicationGroupInput) { in.NumNodeGroups = i32(2) }), "InvalidParameterCombination", 400, ""},
		{"cluster.on group", with(func(in *api.CreateReplicationGroupInput) { in.CacheParameterGroupName = s("default.redis7.cluster.on") }), "InvalidParameterCombination", 400, ""},
		{"seven clusters", with(func(in *api.CreateReplicationGroupInput) { in.NumCacheClusters = i32(7) }), "InvalidParameterValue", 400, ""},
		{"six replicas", with(func(in *api.CreateReplicationGroupInput) { in.NumCacheClusters, in.ReplicasPerNodeGroup = nil, i32(6) }), "InvalidParameterValue", 400, ""},
		{"count twice", with(func(in *api.CreateReplicationGroupInput) { in.ReplicasPerNodeGroup = i32(1) }), "InvalidParameterCombination", 400, ""},
		{"memcached", with(func(in *api.CreateReplicationGroupInput) { in.Engine = s("memcached") }), "InvalidParameterValue", 400, ""},
		{"no node type", with(func(in *api.CreateReplicationGroupInput) { in.CacheNodeType = nil }), "InvalidParameterValue", 400, ""},
		{"token without TLS", with(func(in *api.CreateReplicationGroupInput) { in.AuthToken = s("0123456789abcdefgh") }), "InvalidParameterCombination", 400, ""},
		{"token and user groups", with(func(in *api.CreateReplicationGroupInput) {
			in.AuthToken, in.TransitEncryptionEnabled, in.UserGroupIds = s("0123456789abcdefgh"), ptr(true), []string{"ug"}
		}), "InvalidParameterCombination", 400, ""},
		{"unknown user group", with(func(in *api.CreateReplicationGroupInput) {
			in.UserGroupIds, in.TransitEncryptionEnabled = []string{"nope"}, ptr(true)
		}), "UserGroupNotFound", 404, ""},
		{"user groups without encryption in transit", with(func(in *api.CreateReplicationGroupInput) { in.UserGroupIds = []string{"ug"} }), "InvalidParameterCombination", 400,
			"User group based access control requires encryption-in-transit to be enabled on the replication group."},
		{"user group of another engine", with(func(in *api.CreateReplicationGroupInput) {
			in.Engine, in.UserGroupIds, in.TransitEncryptionEnabled = s("valkey"), []string{"ug"}, ptr(true)
		}), "InvalidParameterCombination", 400, ""},
		{"family mismatch", with(func(in *api.CreateReplicationGroupInput) { in.CacheParameterGroupName = s("default.redis6.x") }), "InvalidParameterCombination", 400, ""},
		{"unknown subnet group", with(func(in *api.CreateReplicationGroupInput) { in.CacheSubnetGroupName = s("nope") }), "CacheSubnetGroupNotFoundFault", 400, ""},
		{"unknown primary", with(func(in *api.CreateReplicationGroupInput) {
			in.CacheNodeType, in.PrimaryClusterId = nil, s("nope")
		}), "CacheClusterNotFound", 404, ""},
		{"primary with node type", with(func(in *api.CreateReplicationGroupInput) { in.PrimaryClusterId = s("nope") }), "InvalidParameterCombination", 400, ""},
		{"AZ count", with(func(in *api.CreateReplicationGroupInput) { in.PreferredCacheClusterAZs = []string{"us-east-1a"} }), "InvalidParameterCombination", 400, ""},
		{"bad AZ", with(func(in *api.CreateReplicationGroupInput) {
			in.PreferredCacheClusterAZs = []string{"us-east-1a", "mars-1a"}
		}), "InvalidParameterValue", 400, ""},
	}
	for _, c := range cases {
		_, err := f.svc.CreateReplicationGroup(ctxA, c.in)
		if err == nil {
			t.Fatalf("%s: created", c.name)
		}
		var fl api.Fault
		if !errorsAs(err, &fl) || fl.ErrorCode() != c.code || fl.HTTPStatus() != c.status || c.msg != "" && fl.ErrorMessage() != c.msg {
			t.Fatalf("%s: %v, want %s %d %q", c.name, err, c.code, c.status, c.msg)
		}
	}
	// Nothing was written by any of them.
	out, err := f.svc.DescribeCacheClusters(ctxA, &api.DescribeCacheClustersInput{})
	mustOK(t, err)
	if len(out.CacheClusters) != 0 {
		t.Fatalf("clusters after refused creates: %d", len(out.CacheClusters))
	}
	_, err = f.svc.CreateReplicationGroup(ctxA, rgInput("RG", 2))
	mustOK(t, err)
	_, err = f.svc.CreateReplicationGroup(ctxA, rgInput("rg", 2))
	wantFault(t, err, "ReplicationGroupAlreadyExists", 400, "Replication group rg already exists.")
	_, err = f.svc.DescribeReplicationGroups(ctxA, &api.DescribeReplicationGroupsInput{ReplicationGroupId: s("nope")})
	wantFault(t, err, "ReplicationGroupNotFoundFault", 404, "ReplicationGroup nope not found.")
}

func TestReplicationGroupLifecycle(t *testing.T) {
	t.Parallel()
	eng := newFakeEngines("redis")
	f := newRecFixture(t, eng)
	in := rgInput("Orders", 3)
	in.AutomaticFailoverEnabled = ptr(true)
	in.Tags = []api.Tag{{Key: s("team"), Value: s("core")}}
	out, err := f.svc.CreateReplicationGroup(ctxA, in)
	mustOK(t, err)
	g := out.ReplicationGroup
	if *g.Status != "creating" || *g.AutomaticFailover != "enabling" || *g.ClusterEnabled || *g.ClusterMode != "disabled" ||
		!slices.Equal(g.MemberClusters, []string{"orders-001", "orders-002", "orders-003"}) || g.NodeGroups[0].PrimaryEndpoint != nil {
		t.Fatalf("create answer = %+v", g)
	}
	c, err := f.svc.DescribeCacheClusters(ctxA, &api.DescribeCacheClustersInput{CacheClusterId: s("orders-002")})
	mustOK(t, err)
	if *c.CacheClusters[0].ReplicationGroupId != "orders" || *c.CacheClusters[0].CacheClusterStatus != "creating" {
		t.Fatalf("member = %+v", c.CacheClusters[0])
	}
	f.r.workPass(context.Background())
	rg := describeRG(t, f.fixture, "orders")
	if *rg.Status != "available" || *rg.AutomaticFailover != "enabled" {
		t.Fatalf("after the reconciler: %s %s", *rg.Status, *rg.AutomaticFailover)
	}
	ng := rg.NodeGroups[0]
	primary, ok := eng.proc("111111111111/us-east-1/orders-001/0001")
	if !ok || primary.ReplicaOf != "" || primary.Users != nil {
		t.Fatalf("primary = %+v, %v", primary, ok)
	}
	want := primary.Address + ":6379"
	if *ng.PrimaryEndpoint.Address != primary.Address || *ng.PrimaryEndpoint.Port != 6379 || *ng.NodeGroupId != "0001" {
		t.Fatalf("node group = %+v", ng)
	}
	// The members share the group's replication secret, so that a
	// replica on another server than its primary authenticates to it.
	if primary.ReplicationSecret == "" {
		t.Fatal("the primary has no replication secret")
	}
	for _, id := range []string{"orders-002", "orders-003"} {
		r, ok := eng.proc("111111111111/us-east-1/" + id + "/0001")
		if !ok || r.ReplicaOf != want {
			t.Fatalf("%s replicates %q, want %q", id, r.ReplicaOf, want)
		}
		if r.ReplicationSecret != primary.ReplicationSecret {
			t.Fatalf("%s has another replication secret than its primary", id)
		}
	}
	if *ng.NodeGroupMembers[0].CurrentRole != "primary" || *ng.NodeGroupMembers[1].CurrentRole != "replica" ||
		*ng.ReaderEndpoint.Address != *ng.NodeGroupMembers[1].ReadEndpoint.Address {
		t.Fatalf("members = %+v", ng.NodeGroupMembers)
	}
	evs, err := f.svc.DescribeEvents(ctxA, &api.DescribeEventsInput{SourceType: s("replication-group"), Duration: i32(60)})
	mustOK(t, err)
	if len(evs.Events) != 1 || *evs.Events[0].Message != "Replication group orders created" {
		t.Fatalf("events = %+v", evs.Events)
	}
	tags, err := f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: rg.ARN})
	mustOK(t, err)
	if len(tags.TagList) != 1 {
		t.Fatalf("tags = %+v", tags.TagList)
	}

	// Members are the group's: AWS's faults.
	_, err = f.svc.DeleteCacheCluster(ctxA, &api.DeleteCacheClusterInput{CacheClusterId: s("orders-001")})
	wantFaultContaining(t, err, "InvalidCacheClusterState", 400, "serving as primary")
	_, err = f.svc.ModifyCacheCluster(ctxA, &api.ModifyCacheClusterInput{CacheClusterId: s("orders-002"), SnapshotRetentionLimit: i32(1)})
	wantFault(t, err, "InvalidCacheClusterState", 400, "")
	alone, err := f.svc.DescribeCacheClusters(ctxA, &api.DescribeCacheClustersInput{ShowCacheClustersNotInReplicationGroups: ptr(true)})
	mustOK(t, err)
	if len(alone.CacheClusters) != 0 {
		t.Fatalf("clusters not in groups = %d", len(alone.CacheClusters))
	}

	// Replicas: down to one, then up again.
	_, err = f.svc.DecreaseReplicaCount(ctxA, &api.DecreaseReplicaCountInput{ReplicationGroupId: s("orders"), NewReplicaCount: i32(1)})
	wantFault(t, err, "InvalidParameterValue", 400, "")
	dec, err := f.svc.DecreaseReplicaCount(ctxA, &api.DecreaseReplicaCountInput{ReplicationGroupId: s("orders"), NewReplicaCount: i32(1), ApplyImmediately: ptr(true)})
	mustOK(t, err)
	if *dec.ReplicationGroup.Status != "modifying" {
		t.Fatalf("decrease answer status %s", *dec.ReplicationGroup.Status)
	}
	_, err = f.svc.DecreaseReplicaCount(ctxA, &api.DecreaseReplicaCountInput{ReplicationGroupId: s("orders"), NewReplicaCount: i32(0), ApplyImmediately: ptr(true)})
	wantFault(t, err, "InvalidReplicationGroupState", 400, "")
	f.r.workPass(context.Background())
	rg = describeRG(t, f.fixture, "orders")
	if !slices.Equal(rg.MemberClusters, []string{"orders-001", "orders-002"}) || *rg.Status != "available" {
		t.Fatalf("after decrease: %v %s", rg.MemberClusters, *rg.Status)
	}
	_, err = f.svc.DecreaseReplicaCount(ctxA, &api.DecreaseReplicaCountInput{ReplicationGroupId: s("orders"), NewReplicaCount: i32(0), ApplyImmediately: ptr(true)})
	wantFault(t, err, "InvalidParameterCombination", 400, "When using automatic failover, there must be at least 2 cache clusters in the replication group.")
	_, err = f.svc.IncreaseReplicaCount(ctxA, &api.IncreaseReplicaCountInput{ReplicationGroupId: s("orders"), NewReplicaCount: i32(2), ApplyImmediately: ptr(true)})
	mustOK(t, err)
	f.r.workPass(context.Background())
	rg = describeRG(t, f.fixture, "orders")
	if !slices.Equal(rg.MemberClusters, []string{"orders-001", "orders-002", "orders-004"}) {
		t.Fatalf("after increase: %v", rg.MemberClusters)
	}
	if r, _ := eng.proc("111111111111/us-east-1/orders-004/0001"); r.ReplicaOf != want {
		t.Fatalf("new replica replicates %q", r.ReplicaOf)
	}

	// A new primary: the replicas follow it.
	_, err = f.svc.ModifyReplicationGroup(ctxA, &api.ModifyReplicationGroupInput{ReplicationGroupId: s("orders"), PrimaryClusterId: s("orders-002"), ApplyImmediately: ptr(true)})
	mustOK(t, err)
	f.r.workPass(context.Background())
	p2, _ := eng.proc("111111111111/us-east-1/orders-002/0001")
	old, _ := eng.proc("111111111111/us-east-1/orders-001/0001")
	if p2.ReplicaOf != "" || old.ReplicaOf != p2.Address+":6379" {
		t.Fatalf("after failover: new primary %q, old %q", p2.ReplicaOf, old.ReplicaOf)
	}
	_, err = f.svc.ModifyReplicationGroup(ctxA, &api.ModifyReplicationGroupInput{ReplicationGroupId: s("orders")})
	wantFault(t, err, "InvalidParameterCombination", 400, "No modifications were requested.")

	// Delete: the group goes with its members' engines.
	del, err := f.svc.DeleteReplicationGroup(ctxA, &api.DeleteReplicationGroupInput{ReplicationGroupId: s("orders")})
	mustOK(t, err)
	if *del.ReplicationGroup.Status != "deleting" {
		t.Fatalf("delete answer %s", *del.ReplicationGroup.Status)
	}
	_, err = f.svc.DeleteReplicationGroup(ctxA, &api.DeleteReplicationGroupInput{ReplicationGroupId: s("orders")})
	wantFault(t, err, "InvalidReplicationGroupState", 400, "")
	f.r.workPass(context.Background())
	_, err = f.svc.DescribeReplicationGroups(ctxA, &api.DescribeReplicationGroupsInput{ReplicationGroupId: s("orders")})
	wantFault(t, err, "ReplicationGroupNotFoundFault", 404, "")
	if len(eng.callsLike("remove ")) != 4 {
		t.Fatalf("removes = %v", eng.callsLike("remove "))
	}
	for _, id := range []string{"orders-001", "orders-002", "orders-003", "orders-004"} {
		if _, ok := eng.proc("111111111111/us-east-1/" + id + "/0001"); ok {
			t.Fatalf("%s still runs", id)
		}
	}
}

func TestReplicationGroupRetainPrimary(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	_, err := f.svc.CreateReplicationGroup(ctxA, rgInput("rg", 2))
	mustOK(t, err)
	f.reconcile()
	_, err = f.svc.DeleteReplicationGroup(ctxA, &api.DeleteReplicationGroupInput{ReplicationGroupId: s("rg"), RetainPrimaryCluster: ptr(true)})
	mustOK(t, err)
	f.reconcile()
	_, err = f.svc.DescribeReplicationGroups(ctxA, &api.DescribeReplicationGroupsInput{ReplicationGroupId: s("rg")})
	wantFault(t, err, "ReplicationGroupNotFoundFault", 404, "")
	out, err := f.svc.DescribeCacheClusters(ctxA, &api.DescribeCacheClustersInput{})
	mustOK(t, err)
	if len(out.CacheClusters) != 1 || *out.CacheClusters[0].CacheClusterId != "rg-001" || out.CacheClusters[0].ReplicationGroupId != nil {
		t.Fatalf("clusters = %+v", out.CacheClusters)
	}
	// It can be the primary of a new group.
	in := &api.CreateReplicationGroupInput{ReplicationGroupId: s("again"), ReplicationGroupDescription: s("d"), PrimaryClusterId: s("rg-001"), NumCacheClusters: i32(2)}
	created, err := f.svc.CreateReplicationGroup(ctxA, in)
	mustOK(t, err)
	if !slices.Equal(created.ReplicationGroup.MemberClusters, []string{"rg-001", "again-002"}) {
		t.Fatalf("members = %v", created.ReplicationGroup.MemberClusters)
	}
	f.reconcile()
	if g := describeRG(t, f, "again"); *g.Status != "available" || *g.NodeGroups[0].NodeGroupMembers[0].CacheClusterId != "rg-001" {
		t.Fatalf("group = %+v", g)
	}
}

func TestReplicationGroupUsersReachTheEngines(t *testing.T) {
	t.Parallel()
	eng := newFakeEngines("redis")
	f := newRecFixture(t, eng)
	pwA, pwB := "password-of-alice-1", "password-of-bob-22"
	_, err := f.svc.CreateUser(ctxA, &api.CreateUserInput{UserId: s("alice"), UserName: s("alice"), Engine: s("redis"), AccessString: s("on ~app:* +@read"), Passwords: []string{pwA}})
	mustOK(t, err)
	_, err = f.svc.CreateUser(ctxA, &api.CreateUserInput{UserId: s("bob"), UserName: s("bob"), Engine: s("redis"), AccessString: s("on ~* +@all"), Passwords: []string{pwB}})
	mustOK(t, err)
	_, err = f.svc.CreateUserGroup(ctxA, &api.CreateUserGroupInput{UserGroupId: s("team"), Engine: s("redis"), UserIds: []string{"default", "alice", "bob"}})
	mustOK(t, err)
	in := rgInput("rg", 2)
	in.UserGroupIds, in.TransitEncryptionEnabled = []string{"team"}, ptr(true)
	_, err = f.svc.CreateReplicationGroup(ctxA, in)
	mustOK(t, err)
	f.r.workPass(context.Background())
	users := func(id string) []engine.User {
		t.Helper()
		spec, ok := eng.proc("111111111111/us-east-1/" + id + "/0001")
		if !ok {
			t.Fatalf("%s does not run", id)
		}
		return spec.Users
	}
	want := []engine.User{
		{Name: "alice", Rules: "on ~app:* +@read #" + sha(pwA)},
		{Name: "bob", Rules: "on ~* +@all #" + sha(pwB)},
		{Name: "default", Rules: "on ~* +@all nopass"},
	}
	for _, id := range []string{"rg-001", "rg-002"} {
		if got := users(id); !slices.Equal(got, want) {
			t.Fatalf("%s users = %+v, want %+v", id, got, want)
		}
	}
	ug, err := f.svc.DescribeUserGroups(ctxA, &api.DescribeUserGroupsInput{UserGroupId: s("team")})
	mustOK(t, err)
	if !slices.Equal(ug.UserGroups[0].ReplicationGroups, []string{"rg"}) {
		t.Fatalf("user group's replication groups = %v", ug.UserGroups[0].ReplicationGroups)
	}
	_, err = f.svc.DeleteUserGroup(ctxA, &api.DeleteUserGroupInput{UserGroupId: s("team")})
	wantFault(t, err, "InvalidUserGroupState", 400, "")

	// A new password reaches the engines without a restart.
	starts := eng.startsOf("111111111111/us-east-1/rg-001/0001")
	_, err = f.svc.ModifyUser(ctxA, &api.ModifyUserInput{UserId: s("bob"), Passwords: []string{"another-password-b"}})
	mustOK(t, err)
	f.r.workPass(context.Background())
	if got := users("rg-002"); got[1].Rules != "on ~* +@all #"+sha("another-password-b") {
		t.Fatalf("bob after ModifyUser = %+v", got[1])
	}
	if eng.startsOf("111111111111/us-east-1/rg-001/0001") != starts {
		t.Fatal("a user change restarted the engine")
	}
	// DeleteUser takes the user out of the group and off the engines.
	_, err = f.svc.DeleteUser(ctxA, &api.DeleteUserInput{UserId: s("alice")})
	mustOK(t, err)
	f.r.workPass(context.Background())
	if got := users("rg-001"); len(got) != 2 || got[0].Name != "bob" {
		t.Fatalf("users after DeleteUser = %+v", got)
	}
	// Membership changes too.
	_, err = f.svc.ModifyUserGroup(ctxA, &api.ModifyUserGroupInput{UserGroupId: s("team"), UserIdsToRemove: []string{"bob"}})
	mustOK(t, err)
	f.r.workPass(context.Background())
	if got := users("rg-002"); len(got) != 1 || got[0].Name != "default" {
		t.Fatalf("users after ModifyUserGroup = %+v", got)
	}
	// Encryption in transit cannot be turned off while user groups are
	// in use, and nothing changes.
	_, err = f.svc.ModifyReplicationGroup(ctxA, &api.ModifyReplicationGroupInput{ReplicationGroupId: s("rg"), TransitEncryptionEnabled: ptr(false), ReplicationGroupDescription: s("changed"), ApplyImmediately: ptr(true)})
	wantFault(t, err, "InvalidParameterCombination", 400, "User group based access control requires encryption-in-transit to be enabled on the replication group.")
	desc, err := f.svc.DescribeReplicationGroups(ctxA, &api.DescribeReplicationGroupsInput{ReplicationGroupId: s("rg")})
	mustOK(t, err)
	if g := desc.ReplicationGroups[0]; *g.Description == "changed" || !*g.TransitEncryptionEnabled {
		t.Fatalf("a refused modify changed the group: %q, transit %v", *g.Description, *g.TransitEncryptionEnabled)
	}
	// Leaving RBAC for an AUTH token is refused while a group is used;
	// removing the groups opens the engines.
	_, err = f.svc.ModifyReplicationGroup(ctxA, &api.ModifyReplicationGroupInput{ReplicationGroupId: s("rg"), UserGroupIdsToRemove: []string{"team"}, ApplyImmediately: ptr(true)})
	mustOK(t, err)
	f.r.workPass(context.Background())
	if got := users("rg-001"); got != nil {
		t.Fatalf("users without groups = %+v", got)
	}
	_, err = f.svc.ModifyReplicationGroup(ctxA, &api.ModifyReplicationGroupInput{ReplicationGroupId: s("rg"), UserGroupIdsToAdd: []string{"nope"}})
	wantFault(t, err, "UserGroupNotFound", 404, "")
}

func TestAuthTokenReachesTheEngines(t *testing.T) {
	t.Parallel()
	eng := newFakeEngines("redis")
	f := newRecFixture(t, eng)
	tok1, tok2 := "first-token-0123456", "second-token-012345"
	_, err := f.svc.CreateCacheCluster(ctxA, &api.CreateCacheClusterInput{CacheClusterId: s("c"), Engine: s("redis"), CacheNodeType: s("cache.t3.micro"),
		TransitEncryptionEnabled: ptr(true), AuthToken: s(tok1)})
	mustOK(t, err)
	f.r.workPass(context.Background())
	spec, _ := eng.proc("111111111111/us-east-1/c/0001")
	if !slices.Equal(spec.Users, []engine.User{{Name: "default", Rules: "on #" + sha(tok1) + " ~* &* +@all"}}) {
		t.Fatalf("users = %+v", spec.Users)
	}
	_, err = f.svc.ModifyCacheCluster(ctxA, &api.ModifyCacheClusterInput{CacheClusterId: s("c"), AuthToken: s(tok2), ApplyImmediately: ptr(true)})
	mustOK(t, err)
	f.r.workPass(context.Background())
	spec, _ = eng.proc("111111111111/us-east-1/c/0001")
	if !slices.Equal(spec.Users, []engine.User{{Name: "default", Rules: "on #" + sha(tok1) + " #" + sha(tok2) + " ~* &* +@all"}}) {
		t.Fatalf("users after ROTATE = %+v", spec.Users)
	}
	if len(eng.callsLike("reconfigure 111111111111/us-east-1/c/")) == 0 {
		t.Fatal("no Reconfigure after the token changed")
	}

	// A group's token, then SET.
	in := rgInput("tok", 2)
	in.TransitEncryptionEnabled, in.AuthToken = ptr(true), s(tok1)
	_, err = f.svc.CreateReplicationGroup(ctxA, in)
	mustOK(t, err)
	f.r.workPass(context.Background())
	_, err = f.svc.ModifyReplicationGroup(ctxA, &api.ModifyReplicationGroupInput{ReplicationGroupId: s("tok"), AuthToken: s(tok2), AuthTokenUpdateStrategy: s("SET"), ApplyImmediately: ptr(true)})
	mustOK(t, err)
	f.r.workPass(context.Background())
	for _, id := range []string{"tok-001", "tok-002"} {
		spec, _ := eng.proc("111111111111/us-east-1/" + id + "/0001")
		if !slices.Equal(spec.Users, []engine.User{{Name: "default", Rules: "on #" + sha(tok2) + " ~* &* +@all"}}) {
			t.Fatalf("%s users after SET = %+v", id, spec.Users)
		}
	}
	if g := describeRG(t, f.fixture, "tok"); !*g.AuthTokenEnabled {
		t.Fatal("AuthTokenEnabled false")
	}
}

func TestReplicaWaitsForItsPrimary(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	_, err := f.svc.CreateReplicationGroup(ctxA, rgInput("w", 2))
	mustOK(t, err)
	var a nodeAccess
	err = f.svc.store.View(context.Background(), func(tx storageTx) error {
		rec, err := cacheClusters.Get(tx, scA, "w-002")
		if err != nil {
			return err
		}
		a, err = accessOf(tx, scA, rec, f.clock.Now())
		return err
	})
	if !errorsIs(err, errWaitPrimary) {
		t.Fatalf("access of a replica before its primary is placed = %+v, %v", a, err)
	}
}

type storageTx = storage.Tx

func errorsAs(err error, target any) bool { return errors.As(err, target) }
func errorsIs(err, target error) bool     { return errors.Is(err, target) }

func TestReplicasFollowAMovedPrimary(t *testing.T) {
	t.Parallel()
	eng := newFakeEngines("redis")
	f := newRecFixture(t, eng)
	_, err := f.svc.CreateReplicationGroup(ctxA, rgInput("moved", 2))
	mustOK(t, err)
	f.r.workPass(context.Background())
	// A takeover gives the primary's node a new address (the record is
	// all a full pass reads).
	err = f.svc.store.Update(context.Background(), func(tx storage.Tx) error {
		p, err := cacheClusters.Get(tx, scA, "moved-001")
		if err != nil {
			return err
		}
		p.Nodes[0].Address = "127.9.9.9"
		return cacheClusters.Put(tx, scA, p)
	})
	mustOK(t, err)
	f.r.fullPass(context.Background())
	if r, _ := eng.proc("111111111111/us-east-1/moved-002/0001"); r.ReplicaOf != "127.9.9.9:6379" {
		t.Fatalf("replica replicates %q after the primary moved", r.ReplicaOf)
	}
}
