package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/smithy-go"

	"github.com/elasticache-server/elasticache-server/engine"
	"github.com/elasticache-server/elasticache-server/engine/enginetest"
)

// Cache clusters through the Go SDK: the shapes and faults of the API.
// The reconciler runs as in production, but its engines are gatedEngines:
// in memory, and held at a gate while a test looks at a transitional
// status (creating, modifying, rebooting cluster nodes, deleting); the
// test opens the gate and polls until the cluster is available. The real
// engines are clusterengines_test.go's.

func createCluster(tb testing.TB, c *elasticache.Client, in *elasticache.CreateCacheClusterInput) *types.CacheCluster {
	tb.Helper()
	out, err := c.CreateCacheCluster(tb.Context(), in)
	if err != nil {
		tb.Fatalf("create %s: %v", aws.ToString(in.CacheClusterId), err)
	}
	wantRequestID(tb, out.ResultMetadata)
	return out.CacheCluster
}

func redisCluster(id string) *elasticache.CreateCacheClusterInput {
	return &elasticache.CreateCacheClusterInput{CacheClusterId: aws.String(id), Engine: aws.String("redis"), CacheNodeType: aws.String("cache.t3.micro")}
}

func memcachedCluster(id string, n int32) *elasticache.CreateCacheClusterInput {
	return &elasticache.CreateCacheClusterInput{CacheClusterId: aws.String(id), Engine: aws.String("memcached"),
		CacheNodeType: aws.String("cache.t3.micro"), NumCacheNodes: aws.Int32(n)}
}

func describeClusterSDK(tb testing.TB, c *elasticache.Client, id string) types.CacheCluster {
	tb.Helper()
	out, err := c.DescribeCacheClusters(tb.Context(), &elasticache.DescribeCacheClustersInput{CacheClusterId: aws.String(id), ShowCacheNodeInfo: aws.Bool(true)})
	if err != nil {
		tb.Fatalf("describe %s: %v", id, err)
	}
	if len(out.CacheClusters) != 1 {
		tb.Fatalf("describe %s: %d clusters", id, len(out.CacheClusters))
	}
	return out.CacheClusters[0]
}

func clusterNotFound(id string) apiErr {
	return apiErr{status: 404, code: "CacheClusterNotFound", msg: "CacheCluster not found: " + id}
}

// gatedEngines is the in-memory engines of enginetest with a gate in front
// of every call that changes a node (Ensure, Apply, Restart, Remove):
// while the gate is shut those calls wait, so a cluster stays in the
// status the request path wrote (creating, modifying, rebooting cluster
// nodes, deleting) for as long as the test looks at it, instead of racing
// the reconciler. StopAll never waits, so that a server closes with the
// gate shut.
type gatedEngines struct {
	*enginetest.Fake

	mu sync.Mutex
	// gate is closed while the gate is open.
	gate chan struct{}
	// waiting counts, per node key, the calls waiting at the gate.
	waiting map[string]int
}

var _ engine.Engines = (*gatedEngines)(nil)

// newGatedEngines returns engines whose gate is shut.
func newGatedEngines() *gatedEngines {
	return &gatedEngines{Fake: enginetest.New(), gate: make(chan struct{}), waiting: map[string]int{}}
}

// open lets every waiting and later call through.
func (g *gatedEngines) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.gate:
	default:
		close(g.gate)
	}
}

// shut makes later calls wait again until the next open.
func (g *gatedEngines) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.gate:
		g.gate = make(chan struct{})
	default:
	}
}

// pass waits until the gate is open or ctx ends (the server closing).
func (g *gatedEngines) pass(ctx context.Context, key string) error {
	g.mu.Lock()
	gate := g.gate
	g.waiting[key]++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.waiting[key]--
		g.mu.Unlock()
	}()
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitBlocked waits until a call for the node key waits at the gate: the
// reconciler has then placed the node (placement is written before any
// engine call) and works on nothing else.
func (g *gatedEngines) waitBlocked(tb testing.TB, key string) {
	tb.Helper()
	poll(tb, 10*time.Second, "an engine call for "+key+" waits at the gate", func() (bool, string) {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.waiting[key] > 0, fmt.Sprintf("waiting calls: %v", g.waiting)
	})
}

// Ensure waits at the gate, then runs the node in memory.
func (g *gatedEngines) Ensure(ctx context.Context, s engine.Spec) error {
	if err := g.pass(ctx, s.Key); err != nil {
		return err
	}
	return g.Fake.Ensure(ctx, s)
}

// Apply waits at the gate, then changes the node's parameters in memory.
func (g *gatedEngines) Apply(ctx context.Context, s engine.Spec, changed map[string]string) ([]string, error) {
	if err := g.pass(ctx, s.Key); err != nil {
		return nil, err
	}
	return g.Fake.Apply(ctx, s, changed)
}

// Restart waits at the gate, then restarts the node in memory.
func (g *gatedEngines) Restart(ctx context.Context, s engine.Spec) error {
	if err := g.pass(ctx, s.Key); err != nil {
		return err
	}
	return g.Fake.Restart(ctx, s)
}

// Remove waits at the gate, then forgets the node.
func (g *gatedEngines) Remove(ctx context.Context, key string) error {
	if err := g.pass(ctx, key); err != nil {
		return err
	}
	return g.Fake.Remove(ctx, key)
}

// startGatedServer starts an in-process server whose cache nodes run in
// g, with the fixed clock.
func startGatedServer(tb testing.TB, g *gatedEngines, opts ...serverOption) *testServer {
	tb.Helper()
	return startServerEngines(tb, newFixedClock(), g, opts...)
}

// pollInterval is how often poll asks again.
const pollInterval = 20 * time.Millisecond

// poll calls cond until it reports true, and fails the test with what
// cond said last when that has not happened within limit.
func poll(tb testing.TB, limit time.Duration, what string, cond func() (ok bool, last string)) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v; last: %s", what, limit, last)
		}
		select {
		case <-tb.Context().Done():
			tb.Fatalf("%s: the test ended while waiting; last: %s", what, last)
		case <-time.After(pollInterval):
		}
	}
}

// clusterSettled reports whether a described cluster is available with
// every node available, or, with its status, what it is instead.
func clusterSettled(cl types.CacheCluster) (bool, string) {
	status := aws.ToString(cl.CacheClusterStatus)
	desc := "status " + status
	ok := status == "available"
	for _, n := range cl.CacheNodes {
		desc += fmt.Sprintf(", node %s %s", aws.ToString(n.CacheNodeId), aws.ToString(n.CacheNodeStatus))
		ok = ok && aws.ToString(n.CacheNodeStatus) == "available"
	}
	return ok, desc
}

// waitAvailable polls DescribeCacheClusters until the cluster and all its
// nodes are available, and returns it; a cluster the reconciler gave up on
// fails the test at once.
func waitAvailable(tb testing.TB, c *elasticache.Client, id string) types.CacheCluster {
	tb.Helper()
	var last types.CacheCluster
	poll(tb, 30*time.Second, "cluster "+id+" available", func() (bool, string) {
		last = describeClusterSDK(tb, c, id)
		if s := aws.ToString(last.CacheClusterStatus); s == "incompatible-network" || s == "failed" {
			tb.Fatalf("cluster %s is %s", id, s)
		}
		return clusterSettled(last)
	})
	return last
}

// waitGone polls DescribeCacheClusters until it answers CacheClusterNotFound.
func waitGone(tb testing.TB, c *elasticache.Client, id string) {
	tb.Helper()
	poll(tb, 30*time.Second, "cluster "+id+" deleted", func() (bool, string) {
		out, err := c.DescribeCacheClusters(tb.Context(), &elasticache.DescribeCacheClustersInput{CacheClusterId: aws.String(id)})
		if err != nil {
			var nf *types.CacheClusterNotFoundFault
			if !errors.As(err, &nf) {
				tb.Fatalf("describe %s: %v", id, err)
			}
			if problem := checkAPIErr(err, clusterNotFound(id)); problem != nil {
				tb.Fatalf("describe %s: %v", id, problem)
			}
			return true, ""
		}
		return false, "status " + aws.ToString(out.CacheClusters[0].CacheClusterStatus)
	})
}

// settle opens the gate and waits until every named cluster is available.
func settle(tb testing.TB, c *elasticache.Client, g *gatedEngines, ids ...string) {
	tb.Helper()
	g.open()
	for _, id := range ids {
		waitAvailable(tb, c, id)
	}
}

func TestCacheClustersCreateAndDescribe(t *testing.T) {
	t.Parallel()
	// The gate stays shut: every cluster stays creating.
	srv := startGatedServer(t, newGatedEngines())
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()

	in := redisCluster("Web-Cache")
	in.Tags = []types.Tag{tag("env", "test")}
	cl := createCluster(t, c, in)
	if aws.ToString(cl.CacheClusterId) != "web-cache" || aws.ToString(cl.CacheClusterStatus) != "creating" || aws.ToString(cl.Engine) != "redis" ||
		aws.ToString(cl.EngineVersion) != "7.1" || aws.ToInt32(cl.NumCacheNodes) != 1 || aws.ToString(cl.CacheSubnetGroupName) != "default" ||
		aws.ToString(cl.ARN) != "arn:aws:elasticache:us-east-1:111111111111:cluster:web-cache" || cl.PendingModifiedValues == nil ||
		cl.CacheParameterGroup == nil || aws.ToString(cl.CacheParameterGroup.CacheParameterGroupName) != "default.redis7" ||
		aws.ToString(cl.CacheParameterGroup.ParameterApplyStatus) != "in-sync" || aws.ToString(cl.PreferredMaintenanceWindow) == "" ||
		aws.ToString(cl.ClientDownloadLandingPage) != "https://console.aws.amazon.com/elasticache/home#client-download:" {
		t.Fatalf("created = %+v", cl)
	}
	if len(cl.CacheSecurityGroups) != 0 || cl.CacheClusterCreateTime != nil || len(cl.CacheNodes) != 0 {
		t.Fatalf("a creating cluster: security groups %v, create time %v, nodes %v", cl.CacheSecurityGroups, cl.CacheClusterCreateTime, cl.CacheNodes)
	}
	// While creating there are no nodes, even when asked.
	if d := describeClusterSDK(t, c, "WEB-CACHE"); len(d.CacheNodes) != 0 || aws.ToString(d.CacheClusterStatus) != "creating" {
		t.Fatalf("describe while creating = %s with %d nodes", aws.ToString(d.CacheClusterStatus), len(d.CacheNodes))
	}
	tags, err := c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: cl.ARN})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Key) != "env" {
		t.Fatalf("tags = %v, %v", tags, err)
	}

	mc := memcachedCluster("mc", 2)
	mc.AZMode = types.AZModeCrossAz
	mc.SecurityGroupIds = []string{"sg-0a1b2c3d"}
	m := createCluster(t, c, mc)
	if aws.ToString(m.PreferredAvailabilityZone) != "Multiple" || aws.ToString(m.EngineVersion) != "1.6.22" || len(m.SecurityGroups) != 1 ||
		aws.ToString(m.SecurityGroups[0].SecurityGroupId) != "sg-0a1b2c3d" || aws.ToString(m.SecurityGroups[0].Status) != "active" {
		t.Fatalf("memcached = %+v", m)
	}

	// Every cluster through the paginator, in ID order.
	var ids []string
	p := elasticache.NewDescribeCacheClustersPaginator(c, &elasticache.DescribeCacheClustersInput{MaxRecords: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, cl := range page.CacheClusters {
			ids = append(ids, aws.ToString(cl.CacheClusterId))
		}
	}
	if !slices.Equal(ids, []string{"mc", "web-cache"}) {
		t.Fatalf("paged = %v", ids)
	}
	// Another account sees none of them.
	other := client(t, srv.Addr, "222222222222", "us-east-1")
	_, err = other.DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{CacheClusterId: aws.String("web-cache")})
	wantErr[*types.CacheClusterNotFoundFault](t, err, clusterNotFound("web-cache"))
}

func TestCacheClustersFaults(t *testing.T) {
	t.Parallel()
	// The gate stays shut: "taken" stays creating.
	srv := startGatedServer(t, newGatedEngines())
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()
	createCluster(t, c, redisCluster("taken"))
	_, err := c.CreateCacheParameterGroup(ctx, &elasticache.CreateCacheParameterGroupInput{CacheParameterGroupName: aws.String("old"),
		CacheParameterGroupFamily: aws.String("redis5.0"), Description: aws.String("d")})
	if err != nil {
		t.Fatal(err)
	}
	with := func(change func(in *elasticache.CreateCacheClusterInput)) *elasticache.CreateCacheClusterInput {
		in := redisCluster("c1")
		change(in)
		return in
	}
	_, err = c.CreateCacheCluster(ctx, redisCluster("TAKEN"))
	wantErr[*types.CacheClusterAlreadyExistsFault](t, err, apiErr{status: 400, code: "CacheClusterAlreadyExists", msg: "Cache cluster taken already exists."})
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) { in.NumCacheNodes = aws.Int32(2) }))
	wantErr[*types.InvalidParameterValueException](t, err, apiErr{status: 400, code: "InvalidParameterValue", msg: "Cannot create a Redis cluster with a NumCacheNodes parameter greater than 1."})
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) { in.Engine = aws.String("valkey") }))
	wantErr[*types.InvalidParameterValueException](t, err, apiErr{status: 400, code: "InvalidParameterValue", msgHas: "valkey"})
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) { in.Engine = nil }))
	wantErr[*types.InvalidParameterValueException](t, err, apiErr{status: 400, code: "InvalidParameterValue", msgHas: "Engine"})
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) { in.CacheNodeType = nil }))
	wantErr[*types.InvalidParameterValueException](t, err, apiErr{status: 400, code: "InvalidParameterValue", msgHas: "CacheNodeType"})
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) { in.CacheClusterId = aws.String("a--b") }))
	wantErr[*types.InvalidParameterValueException](t, err, apiErr{status: 400, code: "InvalidParameterValue", msgHas: "CacheClusterId"})
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) { in.ReplicationGroupId = aws.String("rg") }))
	wantErr[*types.ReplicationGroupNotFoundFault](t, err, apiErr{status: 404, code: "ReplicationGroupNotFoundFault", msg: "ReplicationGroup rg not found."})
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) { in.CacheSubnetGroupName = aws.String("nope") }))
	wantErr[*types.CacheSubnetGroupNotFoundFault](t, err, subnetNotFound("nope"))
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) { in.CacheParameterGroupName = aws.String("nope") }))
	wantErr[*types.CacheParameterGroupNotFoundFault](t, err, apiErr{status: 404, code: "CacheParameterGroupNotFound", msgHas: "nope"})
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) { in.CacheParameterGroupName = aws.String("old") }))
	wantErr[*types.InvalidParameterCombinationException](t, err, apiErr{status: 400, code: "InvalidParameterCombination",
		msg: "Expected a parameter group of family redis7 but found one of family redis5.0"})
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) {
		in.CacheSecurityGroupNames = []string{"default"}
		in.CacheSubnetGroupName = aws.String("default")
	}))
	wantErr[*types.InvalidParameterCombinationException](t, err, apiErr{status: 400, code: "InvalidParameterCombination",
		msg: "Use of cache security groups is not permitted along with cache subnet group and/or security group Ids."})
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) { in.CacheSecurityGroupNames = []string{"nope"} }))
	wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, apiErr{status: 404, code: "CacheSecurityGroupNotFound", msgHas: "nope"})
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) { in.EngineVersion = aws.String("9.9") }))
	wantErr[*types.InvalidParameterCombinationException](t, err, apiErr{status: 400, code: "InvalidParameterCombination", msg: "Cannot find version 9.9 for redis"})
	_, err = c.CreateCacheCluster(ctx, memcachedCluster("big", 41))
	wantErr[*types.NodeQuotaForClusterExceededFault](t, err, apiErr{status: 400, code: "NodeQuotaForClusterExceeded"})
	_, err = c.CreateCacheCluster(ctx, with(func(in *elasticache.CreateCacheClusterInput) { in.AuthToken = aws.String("0123456789abcdef0") }))
	wantErr[*types.InvalidParameterCombinationException](t, err, apiErr{status: 400, code: "InvalidParameterCombination", msgHas: "TransitEncryptionEnabled"})

	_, err = c.DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{CacheClusterId: aws.String("nobody")})
	wantErr[*types.CacheClusterNotFoundFault](t, err, clusterNotFound("nobody"))
	_, err = c.DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{MaxRecords: aws.Int32(19)})
	wantErr[*types.InvalidParameterValueException](t, err, apiErr{status: 400, code: "InvalidParameterValue"})
	_, err = c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String("nobody")})
	wantErr[*types.CacheClusterNotFoundFault](t, err, clusterNotFound("nobody"))
	_, err = c.ModifyCacheCluster(ctx, &elasticache.ModifyCacheClusterInput{CacheClusterId: aws.String("nobody"), SnapshotRetentionLimit: aws.Int32(1)})
	wantErr[*types.CacheClusterNotFoundFault](t, err, clusterNotFound("nobody"))
	_, err = c.RebootCacheCluster(ctx, &elasticache.RebootCacheClusterInput{CacheClusterId: aws.String("nobody"), CacheNodeIdsToReboot: []string{"0001"}})
	wantErr[*types.CacheClusterNotFoundFault](t, err, clusterNotFound("nobody"))

	// A creating cluster can be neither changed, rebooted nor deleted.
	state := apiErr{status: 400, code: "InvalidCacheClusterState"}
	_, err = c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String("taken")})
	wantErr[*types.InvalidCacheClusterStateFault](t, err, apiErr{status: 400, code: "InvalidCacheClusterState",
		msg: "Can only delete cache clusters with state in: available, failed, incompatible-parameters, incompatible-network, restore-failed"})
	_, err = c.ModifyCacheCluster(ctx, &elasticache.ModifyCacheClusterInput{CacheClusterId: aws.String("taken"), SnapshotRetentionLimit: aws.Int32(1)})
	wantErr[*types.InvalidCacheClusterStateFault](t, err, state)
	_, err = c.RebootCacheCluster(ctx, &elasticache.RebootCacheClusterInput{CacheClusterId: aws.String("taken"), CacheNodeIdsToReboot: []string{"0001"}})
	wantErr[*types.InvalidCacheClusterStateFault](t, err, state)

	// Tags on a cluster ARN that names nothing.
	_, err = c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String("arn:aws:elasticache:us-east-1:111111111111:cluster:nobody")})
	wantErr[*types.CacheClusterNotFoundFault](t, err, clusterNotFound("nobody"))
}

func TestCacheClustersModifyRebootDelete(t *testing.T) {
	t.Parallel()
	g := newGatedEngines()
	srv := startGatedServer(t, g)
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()
	if _, err := createSubnetGroup(t, c, "sub", []string{"subnet-0a1b2c3d"}); err != nil {
		t.Fatal(err)
	}
	in := redisCluster("r")
	in.CacheSubnetGroupName = aws.String("sub")
	createCluster(t, c, in)
	// r is placed before mc exists.
	g.waitBlocked(t, "111111111111/us-east-1/r/0001")
	createCluster(t, c, memcachedCluster("mc", 1))
	settle(t, c, g, "r", "mc")

	d := describeClusterSDK(t, c, "r")
	if aws.ToString(d.CacheClusterStatus) != "available" || len(d.CacheNodes) != 1 || d.CacheClusterCreateTime == nil {
		t.Fatalf("settled = %s, %d nodes", aws.ToString(d.CacheClusterStatus), len(d.CacheNodes))
	}
	n := d.CacheNodes[0]
	if aws.ToString(n.CacheNodeId) != "0001" || n.Endpoint == nil || !isNodeAddress(aws.ToString(n.Endpoint.Address)) || aws.ToInt32(n.Endpoint.Port) != 6379 ||
		aws.ToString(n.CustomerAvailabilityZone) == "" || aws.ToString(n.ParameterGroupStatus) != "in-sync" || aws.ToString(n.CacheNodeStatus) != "available" {
		t.Fatalf("node = %+v, endpoint %+v", n, n.Endpoint)
	}
	if m := describeClusterSDK(t, c, "mc"); m.ConfigurationEndpoint == nil || aws.ToString(m.ConfigurationEndpoint.Address) != aws.ToString(m.CacheNodes[0].Endpoint.Address) ||
		aws.ToString(m.ConfigurationEndpoint.Address) == aws.ToString(n.Endpoint.Address) || aws.ToInt32(m.ConfigurationEndpoint.Port) != 11211 {
		t.Fatalf("memcached configuration endpoint = %+v", m.ConfigurationEndpoint)
	}

	// The subnet group is in use.
	_, err := c.DeleteCacheSubnetGroup(ctx, &elasticache.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: aws.String("sub")})
	wantErr[*types.CacheSubnetGroupInUse](t, err, apiErr{status: 400, code: "CacheSubnetGroupInUse"})

	// A settings change answers available.
	out, err := c.ModifyCacheCluster(ctx, &elasticache.ModifyCacheClusterInput{CacheClusterId: aws.String("r"), SnapshotRetentionLimit: aws.Int32(14), ApplyImmediately: aws.Bool(true)})
	if err != nil || aws.ToString(out.CacheCluster.CacheClusterStatus) != "available" || aws.ToInt32(out.CacheCluster.SnapshotRetentionLimit) != 14 {
		t.Fatalf("modify = %+v, %v", out, err)
	}
	// A node type change waits without ApplyImmediately.
	out, err = c.ModifyCacheCluster(ctx, &elasticache.ModifyCacheClusterInput{CacheClusterId: aws.String("r"), CacheNodeType: aws.String("cache.t3.small")})
	if err != nil || aws.ToString(out.CacheCluster.PendingModifiedValues.CacheNodeType) != "cache.t3.small" || aws.ToString(out.CacheCluster.CacheNodeType) != "cache.t3.micro" {
		t.Fatalf("deferred modify = %+v, %v", out, err)
	}

	// From here until settled again, the engines hold every change.
	g.shut()
	// More memcached nodes, now.
	out, err = c.ModifyCacheCluster(ctx, &elasticache.ModifyCacheClusterInput{CacheClusterId: aws.String("mc"), NumCacheNodes: aws.Int32(3), ApplyImmediately: aws.Bool(true)})
	if err != nil || aws.ToString(out.CacheCluster.CacheClusterStatus) != "modifying" || aws.ToInt32(out.CacheCluster.PendingModifiedValues.NumCacheNodes) != 3 {
		t.Fatalf("scale out = %+v, %v", out, err)
	}
	g.waitBlocked(t, "111111111111/us-east-1/mc/0002")
	if m := describeClusterSDK(t, c, "mc"); aws.ToString(m.CacheClusterStatus) != "modifying" || aws.ToInt32(m.NumCacheNodes) != 1 ||
		aws.ToInt32(m.PendingModifiedValues.NumCacheNodes) != 3 || len(m.CacheNodes) != 3 ||
		aws.ToString(m.CacheNodes[1].CacheNodeStatus) != "creating" || m.CacheNodes[1].Endpoint != nil || m.CacheNodes[1].CacheNodeCreateTime != nil {
		t.Fatalf("memcached while adding nodes = %+v", m)
	}
	_, err = c.ModifyCacheCluster(ctx, &elasticache.ModifyCacheClusterInput{CacheClusterId: aws.String("r"), NumCacheNodes: aws.Int32(2)})
	wantErr[*types.InvalidParameterValueException](t, err, apiErr{status: 400, code: "InvalidParameterValue"})

	rb, err := c.RebootCacheCluster(ctx, &elasticache.RebootCacheClusterInput{CacheClusterId: aws.String("r"), CacheNodeIdsToReboot: []string{"0001"}})
	if err != nil || aws.ToString(rb.CacheCluster.CacheClusterStatus) != "rebooting cluster nodes" {
		t.Fatalf("reboot = %+v, %v", rb, err)
	}
	if d := describeClusterSDK(t, c, "r"); aws.ToString(d.CacheClusterStatus) != "rebooting cluster nodes" || aws.ToString(d.CacheNodes[0].CacheNodeStatus) != "rebooting" {
		t.Fatalf("while rebooting: cluster %s, node %s", aws.ToString(d.CacheClusterStatus), aws.ToString(d.CacheNodes[0].CacheNodeStatus))
	}
	_, err = c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String("r")})
	wantErr[*types.InvalidCacheClusterStateFault](t, err, apiErr{status: 400, code: "InvalidCacheClusterState"})
	settle(t, c, g, "r", "mc")

	// The new nodes took the next free addresses, on the cluster's port.
	m := describeClusterSDK(t, c, "mc")
	var endpoints []string
	for _, n := range m.CacheNodes {
		if n.Endpoint != nil {
			endpoints = append(endpoints, aws.ToString(n.CacheNodeId)+"@"+aws.ToString(n.Endpoint.Address)+":"+fmt.Sprint(aws.ToInt32(n.Endpoint.Port)))
		}
	}
	distinct := map[string]bool{}
	for i, n := range m.CacheNodes {
		distinct[aws.ToString(n.Endpoint.Address)] = true
		if aws.ToString(n.CacheNodeId) != fmt.Sprintf("%04d", i+1) || !isNodeAddress(aws.ToString(n.Endpoint.Address)) || aws.ToInt32(n.Endpoint.Port) != 11211 {
			t.Fatalf("memcached after scaling out: node %d at %v", i, endpoints)
		}
	}
	if aws.ToInt32(m.NumCacheNodes) != 3 || len(endpoints) != 3 || len(distinct) != 3 {
		t.Fatalf("memcached after scaling out: %d nodes at %v, want 3 at addresses of their own", aws.ToInt32(m.NumCacheNodes), endpoints)
	}

	_, err = c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String("mc"), FinalSnapshotIdentifier: aws.String("final")})
	wantErr[*types.SnapshotFeatureNotSupportedFault](t, err, apiErr{status: 400, code: "SnapshotFeatureNotSupportedFault"})
	g.shut()
	del, err := c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String("R")})
	if err != nil || aws.ToString(del.CacheCluster.CacheClusterStatus) != "deleting" || aws.ToString(del.CacheCluster.CacheClusterId) != "r" {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	g.waitBlocked(t, "111111111111/us-east-1/r/0001")
	if d := describeClusterSDK(t, c, "r"); aws.ToString(d.CacheClusterStatus) != "deleting" || len(d.CacheNodes) != 0 {
		t.Fatalf("deleting cluster = %s with %d nodes", aws.ToString(d.CacheClusterStatus), len(d.CacheNodes))
	}
	_, err = c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String("r")})
	wantErr[*types.InvalidCacheClusterStateFault](t, err, apiErr{status: 400, code: "InvalidCacheClusterState"})
	// A fault the model does not list for the operation still reaches the
	// SDK as an API error with its code.
	_, err = c.RebootCacheCluster(ctx, &elasticache.RebootCacheClusterInput{CacheClusterId: aws.String("mc"), CacheNodeIdsToReboot: []string{"0009"}})
	wantErr[smithy.APIError](t, err, apiErr{status: 400, code: "InvalidParameterValue", msgHas: "0009"})

	// Once the engines let go, the cluster is gone, and so is its node.
	g.open()
	waitGone(t, c, "r")
	if g.HasData("111111111111/us-east-1/r/0001") {
		t.Error("the deleted cluster's node still has data")
	}
}
