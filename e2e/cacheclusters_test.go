package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/smithy-go"
)

// Cache clusters through the Go SDK. The server of these tests runs no
// reconciler, so clusters stay `creating`; settleOverAdmin stands in for
// it through the state document (export, mark every cluster available on
// 127.0.0.1, reset, import) so that Modify, Reboot and Delete can be
// driven on available clusters.

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

// settleOverAdmin makes every cluster of the server available, its nodes
// available on 127.0.0.1 (the cluster's port plus the node's index), as
// the reconciler would, through the admin API's state document.
func settleOverAdmin(tb testing.TB, a *admin) {
	tb.Helper()
	var doc map[string]any
	if err := json.Unmarshal(exportHTTP(tb, a), &doc); err != nil {
		tb.Fatal(err)
	}
	for _, acc := range doc["accounts"].([]any) {
		for _, reg := range acc.(map[string]any)["regions"].([]any) {
			for _, cl := range reg.(map[string]any)["cacheClusters"].([]any) {
				cluster := cl.(map[string]any)
				cluster["status"] = "available"
				cluster["paramStatus"] = "in-sync"
				var kept []any
				for i, n := range cluster["nodes"].([]any) {
					node := n.(map[string]any)
					if node["status"] == "deleting" {
						continue
					}
					node["status"], node["paramStatus"] = "available", "in-sync"
					node["address"], node["port"] = "127.0.0.1", cluster["port"].(float64)+float64(i)
					node["created"] = "2026-11-23T12:00:00Z"
					kept = append(kept, node)
				}
				cluster["nodes"] = kept
			}
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	a.must(http.MethodPost, "/_admin/reset", "", http.StatusOK, nil)
	a.must(http.MethodPost, "/_admin/state", string(b), http.StatusOK, nil)
}

func TestCacheClustersCreateAndDescribe(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
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
	srv := startServer(t)
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
	srv := startServer(t, withAdmin(""))
	a := newAdmin(t, srv, "")
	c := client(t, srv.Addr, "111111111111", "us-east-1")
	ctx := t.Context()
	if _, err := createSubnetGroup(t, c, "sub", []string{"subnet-0a1b2c3d"}); err != nil {
		t.Fatal(err)
	}
	in := redisCluster("r")
	in.CacheSubnetGroupName = aws.String("sub")
	createCluster(t, c, in)
	createCluster(t, c, memcachedCluster("mc", 1))
	settleOverAdmin(t, a)

	d := describeClusterSDK(t, c, "r")
	if aws.ToString(d.CacheClusterStatus) != "available" || len(d.CacheNodes) != 1 || d.CacheClusterCreateTime == nil {
		t.Fatalf("settled = %s, %d nodes", aws.ToString(d.CacheClusterStatus), len(d.CacheNodes))
	}
	n := d.CacheNodes[0]
	if aws.ToString(n.CacheNodeId) != "0001" || n.Endpoint == nil || aws.ToString(n.Endpoint.Address) != "127.0.0.1" || aws.ToInt32(n.Endpoint.Port) != 6379 ||
		aws.ToString(n.CustomerAvailabilityZone) == "" || aws.ToString(n.ParameterGroupStatus) != "in-sync" {
		t.Fatalf("node = %+v", n)
	}
	if m := describeClusterSDK(t, c, "mc"); m.ConfigurationEndpoint == nil || aws.ToInt32(m.ConfigurationEndpoint.Port) != 11211 {
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
	// More memcached nodes, now.
	out, err = c.ModifyCacheCluster(ctx, &elasticache.ModifyCacheClusterInput{CacheClusterId: aws.String("mc"), NumCacheNodes: aws.Int32(3), ApplyImmediately: aws.Bool(true)})
	if err != nil || aws.ToString(out.CacheCluster.CacheClusterStatus) != "modifying" || aws.ToInt32(out.CacheCluster.PendingModifiedValues.NumCacheNodes) != 3 {
		t.Fatalf("scale out = %+v, %v", out, err)
	}
	_, err = c.ModifyCacheCluster(ctx, &elasticache.ModifyCacheClusterInput{CacheClusterId: aws.String("r"), NumCacheNodes: aws.Int32(2)})
	wantErr[*types.InvalidParameterValueException](t, err, apiErr{status: 400, code: "InvalidParameterValue"})

	rb, err := c.RebootCacheCluster(ctx, &elasticache.RebootCacheClusterInput{CacheClusterId: aws.String("r"), CacheNodeIdsToReboot: []string{"0001"}})
	if err != nil || aws.ToString(rb.CacheCluster.CacheClusterStatus) != "rebooting cluster nodes" {
		t.Fatalf("reboot = %+v, %v", rb, err)
	}
	if d := describeClusterSDK(t, c, "r"); aws.ToString(d.CacheNodes[0].CacheNodeStatus) != "rebooting" {
		t.Fatalf("node while rebooting = %s", aws.ToString(d.CacheNodes[0].CacheNodeStatus))
	}
	_, err = c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String("r")})
	wantErr[*types.InvalidCacheClusterStateFault](t, err, apiErr{status: 400, code: "InvalidCacheClusterState"})
	settleOverAdmin(t, a)

	_, err = c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String("mc"), FinalSnapshotIdentifier: aws.String("final")})
	wantErr[*types.SnapshotFeatureNotSupportedFault](t, err, apiErr{status: 400, code: "SnapshotFeatureNotSupportedFault"})
	del, err := c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String("R")})
	if err != nil || aws.ToString(del.CacheCluster.CacheClusterStatus) != "deleting" || aws.ToString(del.CacheCluster.CacheClusterId) != "r" {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	if d := describeClusterSDK(t, c, "r"); aws.ToString(d.CacheClusterStatus) != "deleting" || len(d.CacheNodes) != 0 {
		t.Fatalf("deleting cluster = %s with %d nodes", aws.ToString(d.CacheClusterStatus), len(d.CacheNodes))
	}
	_, err = c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String("r")})
	wantErr[*types.InvalidCacheClusterStateFault](t, err, apiErr{status: 400, code: "InvalidCacheClusterState"})
	// A fault the model does not list for the operation still reaches the
	// SDK as an API error with its code.
	_, err = c.RebootCacheCluster(ctx, &elasticache.RebootCacheClusterInput{CacheClusterId: aws.String("mc"), CacheNodeIdsToReboot: []string{"0009"}})
	wantErr[smithy.APIError](t, err, apiErr{status: 400, code: "InvalidParameterValue", msgHas: "0009"})
}
