package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/network"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// settle plays the reconciler's part for cluster id of ctx's scope: it
// checks that the request path marked the cluster for the generation it
// wrote, then makes what was asked so: nodes creating or rebooting
// become available on 127.0.0.1 (port: the cluster's, plus the node's
// index, so that nodes differ), nodes deleting go, a cluster deleting is
// removed with its tags; parameters are in sync; the mark is cleared. A
// completed creation appends AWS's "Cache cluster created".
func (f *fixture) settle(ctx context.Context, id string) error {
	sc, err := scopeOf(ctx)
	if err != nil {
		return err
	}
	now := f.clock.Now()
	return f.svc.update(ctx, func(tx storage.Tx) (error, error) {
		rec, err := cacheClusters.Get(tx, sc, id)
		if err != nil || rec == nil {
			return nil, fmt.Errorf("settle %s: no cluster (%v)", id, err)
		}
		mark, err := tx.Get(workKey(sc, id))
		if err != nil {
			return nil, fmt.Errorf("settle %s: no work mark (%w)", id, err)
		}
		if string(mark) != strconv.Itoa(rec.Generation) {
			return nil, fmt.Errorf("settle %s: work marked for generation %s, record at %d", id, mark, rec.Generation)
		}
		if err := tx.Delete(workKey(sc, id)); err != nil {
			return nil, err
		}
		if rec.Status == clusterDeleting {
			return nil, cacheClusters.Delete(tx, sc, id)
		}
		created := rec.Status == clusterCreating
		rec.Nodes = slices.DeleteFunc(rec.Nodes, func(n cacheNodeRecord) bool { return n.Status == nodeDeleting })
		for i := range rec.Nodes {
			n := &rec.Nodes[i]
			n.Status, n.ParamStatus = nodeAvailable, paramsInSync
			if n.Created.IsZero() {
				n.Created = now
			}
			n.Address, n.Port = "127.0.0.1", rec.Port+i
		}
		rec.Status, rec.ParamStatus, rec.NodesToReboot = clusterAvailable, paramsInSync, nil
		if err := cacheClusters.Put(tx, sc, rec); err != nil {
			return nil, err
		}
		if created {
			return nil, schema.AppendEvent(tx, sc, now, cacheClusterKind, id, "Cache cluster created")
		}
		return nil, nil
	})
}

func mustSettle(tb testing.TB, f *fixture, ctx context.Context, id string) {
	tb.Helper()
	mustOK(tb, f.settle(ctx, id))
}

// marked is the generation the work index holds for a cluster, -1 for
// none.
func marked(tb testing.TB, f *fixture, ctx context.Context, id string) int {
	tb.Helper()
	sc, err := scopeOf(ctx)
	mustOK(tb, err)
	gen := -1
	mustOK(tb, f.svc.view(ctx, func(tx storage.Tx) error {
		b, err := tx.Get(workKey(sc, id))
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		gen, err = strconv.Atoi(string(b))
		return err
	}))
	return gen
}

// clusterEvents are the messages of ctxA's cluster events.
func clusterEvents(tb testing.TB, f *fixture) []string {
	tb.Helper()
	out, err := f.svc.DescribeEvents(ctxA, &api.DescribeEventsInput{SourceType: s("cache-cluster")})
	mustOK(tb, err)
	var msgs []string
	for _, e := range out.Events {
		msgs = append(msgs, *e.Message)
	}
	return msgs
}

func redisInput(id string) *api.CreateCacheClusterInput {
	return &api.CreateCacheClusterInput{CacheClusterId: s(id), Engine: s("redis"), CacheNodeType: s("cache.t3.micro")}
}

func memcachedInput(id string, n int32) *api.CreateCacheClusterInput {
	return &api.CreateCacheClusterInput{CacheClusterId: s(id), Engine: s("memcached"), CacheNodeType: s("cache.t3.micro"), NumCacheNodes: i32(n)}
}

func describeCluster(tb testing.TB, f *fixture, ctx context.Context, id string, nodes bool) api.CacheCluster {
	tb.Helper()
	out, err := f.svc.DescribeCacheClusters(ctx, &api.DescribeCacheClustersInput{CacheClusterId: s(id), ShowCacheNodeInfo: ptr(nodes)})
	mustOK(tb, err)
	if len(out.CacheClusters) != 1 {
		tb.Fatalf("describe %s: %d clusters", id, len(out.CacheClusters))
	}
	return out.CacheClusters[0]
}

func createCluster(tb testing.TB, f *fixture, ctx context.Context, in *api.CreateCacheClusterInput) api.CacheCluster {
	tb.Helper()
	out, err := f.svc.CreateCacheCluster(ctx, in)
	mustOK(tb, err)
	return *out.CacheCluster
}

func TestCreateCacheClusterRedisDefaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := createCluster(t, f, ctxA, redisInput("My-Redis"))
	want := map[string]string{
		"id": "my-redis", "status": "creating", "engine": "redis", "version": "7.1", "type": "cache.t3.micro",
		"pg": "default.redis7", "apply": "in-sync", "subnet": "default", "arn": "arn:aws:elasticache:us-east-1:111111111111:cluster:my-redis",
		"page": clientDownloadPage, "ipd": "ipv4", "net": "ipv4",
	}
	got := map[string]string{
		"id": *c.CacheClusterId, "status": *c.CacheClusterStatus, "engine": *c.Engine, "version": *c.EngineVersion, "type": *c.CacheNodeType,
		"pg": *c.CacheParameterGroup.CacheParameterGroupName, "apply": *c.CacheParameterGroup.ParameterApplyStatus, "subnet": *c.CacheSubnetGroupName,
		"arn": *c.ARN, "page": *c.ClientDownloadLandingPage, "ipd": *c.IpDiscovery, "net": *c.NetworkType,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if *c.NumCacheNodes != 1 || !*c.AutoMinorVersionUpgrade || *c.SnapshotRetentionLimit != 0 || *c.TransitEncryptionEnabled || *c.AuthTokenEnabled {
		t.Errorf("defaults: nodes %d, minor upgrades %v, retention %d, transit %v, auth %v", *c.NumCacheNodes, *c.AutoMinorVersionUpgrade,
			*c.SnapshotRetentionLimit, *c.TransitEncryptionEnabled, *c.AuthTokenEnabled)
	}
	if c.PendingModifiedValues == nil || c.CacheSecurityGroups == nil || c.CacheParameterGroup.CacheNodeIdsToReboot == nil {
		t.Errorf("PendingModifiedValues, CacheSecurityGroups, CacheNodeIdsToReboot must be present")
	}
	if c.CacheClusterCreateTime != nil || c.CacheNodes != nil || c.ConfigurationEndpoint != nil {
		t.Errorf("a creating cluster shows no create time, nodes or configuration endpoint")
	}
	if !slices.Contains(network.AvailabilityZones("us-east-1"), *c.PreferredAvailabilityZone) {
		t.Errorf("PreferredAvailabilityZone = %s", *c.PreferredAvailabilityZone)
	}
	if _, err := maintenanceWindow(*c.PreferredMaintenanceWindow); err != nil {
		t.Errorf("default maintenance window %s: %v", *c.PreferredMaintenanceWindow, err)
	}
	if _, err := snapshotWindow(*c.SnapshotWindow); err != nil {
		t.Errorf("default snapshot window %s: %v", *c.SnapshotWindow, err)
	}
	// The same ID gets the same windows anywhere: they come from a hash.
	again := createCluster(t, newFixture(t, Config{}), ctxA, redisInput("my-redis"))
	if *again.PreferredMaintenanceWindow != *c.PreferredMaintenanceWindow || *again.PreferredAvailabilityZone != *c.PreferredAvailabilityZone {
		t.Errorf("defaults differ between servers: %s/%s vs %s/%s", *again.PreferredMaintenanceWindow, *again.PreferredAvailabilityZone,
			*c.PreferredMaintenanceWindow, *c.PreferredAvailabilityZone)
	}
	if g := marked(t, f, ctxA, "my-redis"); g != 1 {
		t.Fatalf("work mark = %d, want generation 1", g)
	}
	// The work index is not state: a store with marked clusters exports.
	if doc := mustExport(t, f); !strings.Contains(string(doc), `"status": "creating"`) || strings.Contains(string(doc), "f/w/") {
		t.Fatalf("export while creating:\n%s", doc)
	}
	// No event until the reconciler has created it.
	if evs := clusterEvents(t, f); len(evs) != 0 {
		t.Fatalf("events on create = %v", evs)
	}

	// While creating: no nodes, even when asked.
	if d := describeCluster(t, f, ctxA, "MY-REDIS", true); d.CacheNodes != nil {
		t.Fatalf("creating cluster shows nodes: %+v", d.CacheNodes)
	}
	mustSettle(t, f, ctxA, "my-redis")
	d := describeCluster(t, f, ctxA, "my-redis", true)
	if *d.CacheClusterStatus != "available" || d.CacheClusterCreateTime == nil || len(d.CacheNodes) != 1 {
		t.Fatalf("available cluster = %s, created %v, %d nodes", *d.CacheClusterStatus, d.CacheClusterCreateTime, len(d.CacheNodes))
	}
	n := d.CacheNodes[0]
	if *n.CacheNodeId != "0001" || *n.CacheNodeStatus != "available" || n.CacheNodeCreateTime == nil || *n.Endpoint.Address != "127.0.0.1" ||
		*n.Endpoint.Port != 6379 || *n.CustomerAvailabilityZone != *c.PreferredAvailabilityZone || *n.ParameterGroupStatus != "in-sync" {
		t.Fatalf("node = %+v", n)
	}
	if d.ConfigurationEndpoint != nil {
		t.Fatalf("a redis cluster has no configuration endpoint")
	}
	if nd := describeCluster(t, f, ctxA, "my-redis", false); nd.CacheNodes != nil {
		t.Fatalf("nodes shown without ShowCacheNodeInfo")
	}
	evs := clusterEvents(t, f)
	if len(evs) != 1 || evs[0] != "Cache cluster created" {
		t.Fatalf("events = %v", evs)
	}
}

func TestCreateCacheClusterMemcachedCrossAZ(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	in := memcachedInput("mc", 3)
	in.AZMode = s("cross-az")
	c := createCluster(t, f, ctxA, in)
	if *c.PreferredAvailabilityZone != "Multiple" || *c.EngineVersion != "1.6.22" || *c.CacheParameterGroup.CacheParameterGroupName != "default.memcached1.6" {
		t.Fatalf("memcached = AZ %s, version %s, group %s", *c.PreferredAvailabilityZone, *c.EngineVersion, *c.CacheParameterGroup.CacheParameterGroupName)
	}
	if c.SnapshotWindow != nil || c.SnapshotRetentionLimit != nil {
		t.Fatalf("memcached shows snapshot settings")
	}
	mustSettle(t, f, ctxA, "mc")
	d := describeCluster(t, f, ctxA, "mc", true)
	var azs []string
	for i, n := range d.CacheNodes {
		if *n.CacheNodeId != nodeID(i+1) {
			t.Fatalf("node %d is %s", i, *n.CacheNodeId)
		}
		azs = append(azs, *n.CustomerAvailabilityZone)
	}
	if len(azs) != 3 || azs[0] == azs[1] || azs[1] == azs[2] || azs[0] == azs[2] {
		t.Fatalf("cross-az nodes in %v", azs)
	}
	if d.ConfigurationEndpoint == nil || *d.ConfigurationEndpoint.Address != "127.0.0.1" || *d.ConfigurationEndpoint.Port != 11211 {
		t.Fatalf("configuration endpoint = %+v", d.ConfigurationEndpoint)
	}

	// Asked zones are kept, in order; the same zone twice is one zone.
	in = memcachedInput("mc2", 2)
	in.PreferredAvailabilityZones = []string{"us-east-1c", "us-east-1c"}
	c = createCluster(t, f, ctxA, in)
	if *c.PreferredAvailabilityZone != "us-east-1c" {
		t.Fatalf("two nodes in one zone: PreferredAvailabilityZone %s", *c.PreferredAvailabilityZone)
	}
}

func TestCreateCacheClusterFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Quotas: map[string]int{quotaNodes: 5}})
	mustOK(t, func() error {
		_, err := f.svc.CreateCacheSubnetGroup(ctxA, subnetGroupInput("one-zone", "subnet-0a1b2c3d"))
		return err
	}())
	_, err := f.svc.CreateCacheParameterGroup(ctxA, &api.CreateCacheParameterGroupInput{CacheParameterGroupName: s("old"), CacheParameterGroupFamily: s("redis5.0"), Description: s("d")})
	mustOK(t, err)
	with := func(change func(in *api.CreateCacheClusterInput)) *api.CreateCacheClusterInput {
		in := redisInput("c1")
		change(in)
		return in
	}
	long := "a" + strings.Repeat("b", 50)
	cases := []struct {
		name        string
		in          *api.CreateCacheClusterInput
		code        string
		status      int
		msgFragment string
	}{
		{"empty id", with(func(in *api.CreateCacheClusterInput) { in.CacheClusterId = s("") }), "InvalidParameterValue", 400, "CacheClusterId"},
		{"digit first", with(func(in *api.CreateCacheClusterInput) { in.CacheClusterId = s("1abc") }), "InvalidParameterValue", 400, "begin with a letter"},
		{"double hyphen", with(func(in *api.CreateCacheClusterInput) { in.CacheClusterId = s("a--b") }), "InvalidParameterValue", 400, "two consecutive hyphens"},
		{"trailing hyphen", with(func(in *api.CreateCacheClusterInput) { in.CacheClusterId = s("ab-") }), "InvalidParameterValue", 400, "end with a hyphen"},
		{"underscore", with(func(in *api.CreateCacheClusterInput) { in.CacheClusterId = s("a_b") }), "InvalidParameterValue", 400, "letters, digits and hyphens"},
		{"51 characters", with(func(in *api.CreateCacheClusterInput) { in.CacheClusterId = &long }), "InvalidParameterValue", 400, "at most 50"},
		{"replication group", with(func(in *api.CreateCacheClusterInput) { in.ReplicationGroupId = s("RG") }), "ReplicationGroupNotFoundFault", 404, "ReplicationGroup rg not found."},
		{"no engine", with(func(in *api.CreateCacheClusterInput) { in.Engine = nil }), "InvalidParameterValue", 400, "Engine"},
		{"valkey", with(func(in *api.CreateCacheClusterInput) { in.Engine = s("valkey") }), "InvalidParameterValue", 400, "valkey"},
		{"unknown engine", with(func(in *api.CreateCacheClusterInput) { in.Engine = s("mysql") }), "InvalidParameterValue", 400, "redis or memcached"},
		{"no node type", with(func(in *api.CreateCacheClusterInput) { in.CacheNodeType = nil }), "InvalidParameterValue", 400, "CacheNodeType"},
		{"unknown node type", with(func(in *api.CreateCacheClusterInput) { in.CacheNodeType = s("cache.x9.huge") }), "InvalidParameterValue", 400, "cache.x9.huge"},
		{"unknown version", with(func(in *api.CreateCacheClusterInput) { in.EngineVersion = s("9.9") }), "InvalidParameterCombination", 400, "Cannot find version 9.9 for redis"},
		{"two redis nodes", with(func(in *api.CreateCacheClusterInput) { in.NumCacheNodes = i32(2) }), "InvalidParameterValue", 400, "Cannot create a Redis cluster with a NumCacheNodes parameter greater than 1."},
		{"zero nodes", with(func(in *api.CreateCacheClusterInput) { in.NumCacheNodes = i32(0) }), "InvalidParameterValue", 400, "at least 1"},
		{"41 memcached nodes", memcachedInput("m", 41), "NodeQuotaForClusterExceeded", 400, "40"},
		{"low port", with(func(in *api.CreateCacheClusterInput) { in.Port = i32(80) }), "InvalidParameterValue", 400, "between 1150 and 65535"},
		{"AZMode on redis", with(func(in *api.CreateCacheClusterInput) { in.AZMode = s("single-az") }), "InvalidParameterCombination", 400, "Memcached"},
		{"cross-az of one", func() *api.CreateCacheClusterInput {
			in := memcachedInput("m", 1)
			in.AZMode = s("cross-az")
			return in
		}(), "InvalidParameterValue", 400, "more than one"},
		{"bad AZ", with(func(in *api.CreateCacheClusterInput) { in.PreferredAvailabilityZone = s("eu-west-1a") }), "InvalidParameterValue", 400, "not an availability zone"},
		{"zones count", func() *api.CreateCacheClusterInput {
			in := memcachedInput("m", 3)
			in.PreferredAvailabilityZones = []string{"us-east-1a"}
			return in
		}(), "InvalidParameterCombination", 400, "must equal NumCacheNodes"},
		{"AZ outside the subnet group", with(func(in *api.CreateCacheClusterInput) {
			in.CacheSubnetGroupName = s("one-zone")
			in.PreferredAvailabilityZone = s(otherZone("subnet-0a1b2c3d"))
		}), "InvalidVPCNetworkStateFault", 400, "has no subnet"},
		{"no subnet group", with(func(in *api.CreateCacheClusterInput) { in.CacheSubnetGroupName = s("nope") }), "CacheSubnetGroupNotFoundFault", 400, "nope"},
		{"mixed security", with(func(in *api.CreateCacheClusterInput) {
			in.CacheSecurityGroupNames = []string{"default"}
			in.SecurityGroupIds = []string{"sg-0a1b2c3d"}
		}), "InvalidParameterCombination", 400, "Use of cache security groups is not permitted along with cache subnet group and/or security group Ids."},
		{"no cache security group", with(func(in *api.CreateCacheClusterInput) { in.CacheSecurityGroupNames = []string{"nope"} }), "CacheSecurityGroupNotFound", 404, "nope"},
		{"bad security group id", with(func(in *api.CreateCacheClusterInput) { in.SecurityGroupIds = []string{"sg-zz"} }), "InvalidParameterValue", 400, "sg-zz"},
		{"no parameter group", with(func(in *api.CreateCacheClusterInput) { in.CacheParameterGroupName = s("nope") }), "CacheParameterGroupNotFound", 404, "nope"},
		{"family", with(func(in *api.CreateCacheClusterInput) { in.CacheParameterGroupName = s("old") }), "InvalidParameterCombination", 400, "Expected a parameter group of family redis7 but found one of family redis5.0"},
		{"cluster mode", with(func(in *api.CreateCacheClusterInput) { in.CacheParameterGroupName = s("default.redis7.cluster.on") }), "InvalidParameterCombination", 400, "cluster-enabled"},
		{"short maintenance", with(func(in *api.CreateCacheClusterInput) { in.PreferredMaintenanceWindow = s("sun:01:00-sun:01:30") }), "InvalidParameterValue", 400, "at least 60 minutes"},
		{"bad maintenance", with(func(in *api.CreateCacheClusterInput) { in.PreferredMaintenanceWindow = s("sunday") }), "InvalidParameterValue", 400, "ddd:hh24:mi"},
		{"bad snapshot window", with(func(in *api.CreateCacheClusterInput) { in.SnapshotWindow = s("25:00-26:00") }), "InvalidParameterValue", 400, "hh24:mi"},
		{"retention", with(func(in *api.CreateCacheClusterInput) { in.SnapshotRetentionLimit = i32(36) }), "InvalidParameterValue", 400, "between 0 and 35"},
		{"memcached snapshots", func() *api.CreateCacheClusterInput {
			in := memcachedInput("m", 1)
			in.SnapshotRetentionLimit = i32(1)
			return in
		}(), "InvalidParameterCombination", 400, "Memcached"},
		{"token without transit", with(func(in *api.CreateCacheClusterInput) { in.AuthToken = s("0123456789abcdef") }), "InvalidParameterCombination", 400, "TransitEncryptionEnabled"},
		{"short token", with(func(in *api.CreateCacheClusterInput) {
			in.TransitEncryptionEnabled = ptr(true)
			in.AuthToken = s("short")
		}), "InvalidParameterValue", 400, "between 16 and 128"},
		{"token characters", with(func(in *api.CreateCacheClusterInput) {
			in.TransitEncryptionEnabled = ptr(true)
			in.AuthToken = s("0123456789abcdef@")
		}), "InvalidParameterValue", 400, "special characters"},
		{"topic", with(func(in *api.CreateCacheClusterInput) {
			in.NotificationTopicArn = s("arn:aws:sns:us-east-1:222222222222:t")
		}), "InvalidParameterValue", 400, "owned by the cluster's account"},
		{"ip discovery", with(func(in *api.CreateCacheClusterInput) { in.IpDiscovery = s("ipv6") }), "InvalidParameterCombination", 400, "NetworkType ipv4"},
		{"ipv6 network on ipv4 subnets", with(func(in *api.CreateCacheClusterInput) { in.NetworkType = s("dual_stack") }), "InvalidParameterCombination", 400, "not supported by cache subnet group default"},
		{"snapshot name", with(func(in *api.CreateCacheClusterInput) { in.SnapshotName = s("snap") }), "SnapshotNotFoundFault", 404, "snap"},
		{"log delivery", with(func(in *api.CreateCacheClusterInput) {
			in.LogDeliveryConfigurations = []api.LogDeliveryConfigurationRequest{{LogType: s("slow-log"), DestinationType: s("cloudwatch-logs"), LogFormat: s("json")}}
		}), "InvalidParameterValue", 400, "needs its details"},
	}
	for _, tc := range cases {
		_, err := f.svc.CreateCacheCluster(ctxA, tc.in)
		if err == nil {
			t.Errorf("%s: created", tc.name)
			continue
		}
		var fault api.Fault
		if !errors.As(err, &fault) || fault.ErrorCode() != tc.code || fault.HTTPStatus() != tc.status || !strings.Contains(fault.ErrorMessage(), tc.msgFragment) {
			t.Errorf("%s: %v, want %s %d containing %q", tc.name, err, tc.code, tc.status, tc.msgFragment)
		}
	}
	// Nothing of the refused requests was stored.
	out, err := f.svc.DescribeCacheClusters(ctxA, &api.DescribeCacheClustersInput{})
	mustOK(t, err)
	if len(out.CacheClusters) != 0 {
		t.Fatalf("refused creates stored %d clusters", len(out.CacheClusters))
	}

	// Duplicates, in any case.
	createCluster(t, f, ctxA, redisInput("dup"))
	_, err = f.svc.CreateCacheCluster(ctxA, redisInput("DUP"))
	wantFault(t, err, "CacheClusterAlreadyExists", 400, "Cache cluster dup already exists.")

	// The region's node quota (5 here) counts every cluster's nodes.
	createCluster(t, f, ctxA, memcachedInput("m3", 3))
	_, err = f.svc.CreateCacheCluster(ctxA, memcachedInput("m2", 2))
	wantFault(t, err, "NodeQuotaForCustomerExceeded", 400, "")
	createCluster(t, f, ctxA, memcachedInput("m1", 1))
	// Another region has its own.
	createCluster(t, f, as("111111111111", "eu-west-1"), memcachedInput("m3", 3))
}

// subnetGroupInput is a subnet group of the given subnets.
func subnetGroupInput(name string, subnets ...string) *api.CreateCacheSubnetGroupInput {
	return &api.CreateCacheSubnetGroupInput{CacheSubnetGroupName: s(name), CacheSubnetGroupDescription: s("d"), SubnetIds: subnets}
}

// otherZone is a zone of us-east-1 that an undeclared subnet is not in.
func otherZone(subnet string) string {
	var m *network.Model
	got, _ := m.Subnet("111111111111", "us-east-1", subnet)
	for _, z := range network.AvailabilityZones("us-east-1") {
		if z != got.AvailabilityZone {
			return z
		}
	}
	return ""
}

func TestCreateCacheClusterOptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	in := redisInput("full")
	in.EngineVersion = s("6.x")
	in.Port = i32(7000)
	in.PreferredMaintenanceWindow = s("SUN:23:00-mon:01:30")
	in.SnapshotWindow = s("05:00-09:00")
	in.SnapshotRetentionLimit = i32(7)
	in.AutoMinorVersionUpgrade = ptr(false)
	in.NotificationTopicArn = s("arn:aws:sns:us-east-1:111111111111:topic")
	in.SecurityGroupIds = []string{"sg-0a1b2c3d", "sg-0a1b2c3d", "sg-01234567890abcdef"}
	in.TransitEncryptionEnabled = ptr(true)
	in.AuthToken = s("secret-token-0123456789")
	in.LogDeliveryConfigurations = []api.LogDeliveryConfigurationRequest{{LogType: s("engine-log"), DestinationType: s("kinesis-firehose"), LogFormat: s("text"),
		DestinationDetails: &api.DestinationDetails{KinesisFirehoseDetails: &api.KinesisFirehoseDestinationDetails{DeliveryStream: s("stream")}}}}
	in.Tags = []api.Tag{{Key: s("env"), Value: s("test")}}
	c := createCluster(t, f, ctxA, in)
	if *c.EngineVersion != "6.2" || *c.CacheParameterGroup.CacheParameterGroupName != "default.redis6.x" {
		t.Errorf("6.x resolved to %s, group %s", *c.EngineVersion, *c.CacheParameterGroup.CacheParameterGroupName)
	}
	if *c.PreferredMaintenanceWindow != "sun:23:00-mon:01:30" || *c.SnapshotWindow != "05:00-09:00" || *c.SnapshotRetentionLimit != 7 || *c.AutoMinorVersionUpgrade {
		t.Errorf("windows %s %s, retention %d, minor upgrades %v", *c.PreferredMaintenanceWindow, *c.SnapshotWindow, *c.SnapshotRetentionLimit, *c.AutoMinorVersionUpgrade)
	}
	if c.NotificationConfiguration == nil || *c.NotificationConfiguration.TopicStatus != "active" {
		t.Errorf("notification = %+v", c.NotificationConfiguration)
	}
	if len(c.SecurityGroups) != 2 || *c.SecurityGroups[0].SecurityGroupId != "sg-0a1b2c3d" || *c.SecurityGroups[1].Status != "active" {
		t.Errorf("security groups = %+v", c.SecurityGroups)
	}
	if !*c.TransitEncryptionEnabled || !*c.AuthTokenEnabled || *c.TransitEncryptionMode != "required" {
		t.Errorf("transit %v, auth %v", *c.TransitEncryptionEnabled, *c.AuthTokenEnabled)
	}
	if len(c.LogDeliveryConfigurations) != 1 || *c.LogDeliveryConfigurations[0].DestinationDetails.KinesisFirehoseDetails.DeliveryStream != "stream" ||
		*c.LogDeliveryConfigurations[0].Status != "active" {
		t.Errorf("log delivery = %+v", c.LogDeliveryConfigurations)
	}
	tl, err := f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: c.ARN})
	mustOK(t, err)
	if len(tl.TagList) != 1 || *tl.TagList[0].Key != "env" {
		t.Errorf("tags = %+v", tl.TagList)
	}
	mustSettle(t, f, ctxA, "full")
	if d := describeCluster(t, f, ctxA, "full", true); *d.CacheNodes[0].Endpoint.Port != 7000 {
		t.Errorf("port = %d", *d.CacheNodes[0].Endpoint.Port)
	}
	// The token is kept only as its hash, never exported.
	doc := mustExport(t, f)
	if strings.Contains(string(doc), "secret-token-0123456789") || !strings.Contains(string(doc), passwordHash("secret-token-0123456789")) {
		t.Fatalf("export holds the token, or not its hash")
	}
	// Nodes are in the document, and come back.
	if !strings.Contains(string(doc), `"address": "127.0.0.1"`) {
		t.Fatalf("export has no node address:\n%s", doc)
	}
	_, err = f.svc.Reset(context.Background(), "", Batching{})
	mustOK(t, err)
	_, err = f.svc.ImportState(context.Background(), doc, ImportOptions{})
	mustOK(t, err)
	if again := mustExport(t, f); string(again) != string(doc) {
		t.Fatalf("export after import differs:\n%s\n%s", doc, again)
	}
}

func TestCacheClusterGroupsInUse(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	_, err := f.svc.CreateCacheSubnetGroup(ctxA, subnetGroupInput("sub", "subnet-0a1b2c3d", "subnet-0a1b2c3e"))
	mustOK(t, err)
	_, err = f.svc.CreateCacheParameterGroup(ctxA, &api.CreateCacheParameterGroupInput{CacheParameterGroupName: s("pg"), CacheParameterGroupFamily: s("redis7"), Description: s("d")})
	mustOK(t, err)
	create(t, f, ctxA, "csg")
	in := redisInput("vpc")
	in.CacheSubnetGroupName, in.CacheParameterGroupName = s("SUB"), s("PG")
	c := createCluster(t, f, ctxA, in)
	if *c.CacheSubnetGroupName != "sub" || *c.CacheParameterGroup.CacheParameterGroupName != "pg" {
		t.Fatalf("groups = %s %s", *c.CacheSubnetGroupName, *c.CacheParameterGroup.CacheParameterGroupName)
	}
	in = redisInput("classic")
	in.CacheSecurityGroupNames = []string{"csg"}
	c = createCluster(t, f, ctxA, in)
	if c.CacheSubnetGroupName != nil || len(c.CacheSecurityGroups) != 1 || *c.CacheSecurityGroups[0].CacheSecurityGroupName != "csg" || *c.CacheSecurityGroups[0].Status != "active" {
		t.Fatalf("classic cluster = subnet %v, security %+v", c.CacheSubnetGroupName, c.CacheSecurityGroups)
	}
	_, err = f.svc.DeleteCacheSubnetGroup(ctxA, &api.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: s("sub")})
	wantFault(t, err, "CacheSubnetGroupInUse", 400, "")
	_, err = f.svc.DeleteCacheParameterGroup(ctxA, &api.DeleteCacheParameterGroupInput{CacheParameterGroupName: s("pg")})
	wantFault(t, err, "InvalidCacheParameterGroupState", 400, "")
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("csg")})
	wantFault(t, err, "InvalidCacheSecurityGroupState", 400, "")
	// Once the clusters are gone, the groups go.
	for _, id := range []string{"vpc", "classic"} {
		mustSettle(t, f, ctxA, id)
		_, err = f.svc.DeleteCacheCluster(ctxA, &api.DeleteCacheClusterInput{CacheClusterId: s(id)})
		mustOK(t, err)
		mustSettle(t, f, ctxA, id)
	}
	_, err = f.svc.DeleteCacheSubnetGroup(ctxA, &api.DeleteCacheSubnetGroupInput{CacheSubnetGroupName: s("sub")})
	mustOK(t, err)
	_, err = f.svc.DeleteCacheParameterGroup(ctxA, &api.DeleteCacheParameterGroupInput{CacheParameterGroupName: s("pg")})
	mustOK(t, err)
	_, err = f.svc.DeleteCacheSecurityGroup(ctxA, &api.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: s("csg")})
	mustOK(t, err)
}

func TestDeleteCacheCluster(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	createCluster(t, f, ctxA, redisInput("gone"))
	_, err := f.svc.DeleteCacheCluster(ctxA, &api.DeleteCacheClusterInput{CacheClusterId: s("gone")})
	wantFault(t, err, "InvalidCacheClusterState", 400, "Can only delete cache clusters with state in: available, failed, incompatible-parameters, incompatible-network, restore-failed")
	mustSettle(t, f, ctxA, "gone")
	_, err = f.svc.DeleteCacheCluster(ctxA, &api.DeleteCacheClusterInput{CacheClusterId: s("gone"), FinalSnapshotIdentifier: s("final")})
	wantFault(t, err, "SnapshotFeatureNotSupportedFault", 400, "")
	out, err := f.svc.DeleteCacheCluster(ctxA, &api.DeleteCacheClusterInput{CacheClusterId: s("GONE")})
	mustOK(t, err)
	if *out.CacheCluster.CacheClusterStatus != "deleting" || marked(t, f, ctxA, "gone") != 2 {
		t.Fatalf("delete answered %s, work mark %d", *out.CacheCluster.CacheClusterStatus, marked(t, f, ctxA, "gone"))
	}
	if d := describeCluster(t, f, ctxA, "gone", true); *d.CacheClusterStatus != "deleting" || d.CacheNodes != nil {
		t.Fatalf("deleting cluster = %s with nodes %+v", *d.CacheClusterStatus, d.CacheNodes)
	}
	_, err = f.svc.DeleteCacheCluster(ctxA, &api.DeleteCacheClusterInput{CacheClusterId: s("gone")})
	wantFault(t, err, "InvalidCacheClusterState", 400, "")
	mustSettle(t, f, ctxA, "gone")
	_, err = f.svc.DeleteCacheCluster(ctxA, &api.DeleteCacheClusterInput{CacheClusterId: s("gone")})
	wantFault(t, err, "CacheClusterNotFound", 404, "CacheCluster not found: gone")

	createCluster(t, f, ctxA, memcachedInput("mc", 1))
	mustSettle(t, f, ctxA, "mc")
	_, err = f.svc.DeleteCacheCluster(ctxA, &api.DeleteCacheClusterInput{CacheClusterId: s("mc"), FinalSnapshotIdentifier: s("final")})
	wantFault(t, err, "SnapshotFeatureNotSupportedFault", 400, "Snapshots are not supported for Memcached clusters.")
}

func TestRebootCacheCluster(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	createCluster(t, f, ctxA, memcachedInput("mc", 2))
	reboot := func(ids ...string) (*api.RebootCacheClusterOutput, error) {
		return f.svc.RebootCacheCluster(ctxA, &api.RebootCacheClusterInput{CacheClusterId: s("mc"), CacheNodeIdsToReboot: ids})
	}
	_, err := reboot("0001")
	wantFault(t, err, "InvalidCacheClusterState", 400, "")
	mustSettle(t, f, ctxA, "mc")
	_, err = reboot()
	wantFault(t, err, "InvalidParameterValue", 400, "")
	_, err = reboot("0003")
	wantFaultContaining(t, err, "InvalidParameterValue", 400, "0003")
	_, err = f.svc.RebootCacheCluster(ctxA, &api.RebootCacheClusterInput{CacheClusterId: s("nope"), CacheNodeIdsToReboot: []string{"0001"}})
	wantFault(t, err, "CacheClusterNotFound", 404, "CacheCluster not found: nope")
	out, err := reboot("0002")
	mustOK(t, err)
	if *out.CacheCluster.CacheClusterStatus != "rebooting cluster nodes" || marked(t, f, ctxA, "mc") != 2 {
		t.Fatalf("reboot = %s, mark %d", *out.CacheCluster.CacheClusterStatus, marked(t, f, ctxA, "mc"))
	}
	d := describeCluster(t, f, ctxA, "mc", true)
	if *d.CacheNodes[0].CacheNodeStatus != "available" || *d.CacheNodes[1].CacheNodeStatus != "rebooting" {
		t.Fatalf("nodes = %s %s", *d.CacheNodes[0].CacheNodeStatus, *d.CacheNodes[1].CacheNodeStatus)
	}
	_, err = reboot("0001")
	wantFault(t, err, "InvalidCacheClusterState", 400, "")
	mustSettle(t, f, ctxA, "mc")
	if d := describeCluster(t, f, ctxA, "mc", true); *d.CacheClusterStatus != "available" || *d.CacheNodes[1].CacheNodeStatus != "available" {
		t.Fatalf("after reboot = %s", *d.CacheClusterStatus)
	}
}

func TestModifyCacheClusterSettings(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	createCluster(t, f, ctxA, redisInput("r"))
	modify := func(in *api.ModifyCacheClusterInput) (*api.CacheCluster, error) {
		in.CacheClusterId = s("r")
		out, err := f.svc.ModifyCacheCluster(ctxA, in)
		if err != nil {
			return nil, err
		}
		return out.CacheCluster, nil
	}
	_, err := modify(&api.ModifyCacheClusterInput{SnapshotRetentionLimit: i32(3)})
	wantFault(t, err, "InvalidCacheClusterState", 400, "")
	mustSettle(t, f, ctxA, "r")

	// What does not touch the engines changes the record only.
	c, err := modify(&api.ModifyCacheClusterInput{SnapshotRetentionLimit: i32(14), SnapshotWindow: s("07:00-08:00"),
		PreferredMaintenanceWindow: s("fri:09:00-fri:10:00"), AutoMinorVersionUpgrade: ptr(false), SecurityGroupIds: []string{"sg-0a1b2c3d"},
		NotificationTopicArn: s("arn:aws:sns:us-east-1:111111111111:t"), ApplyImmediately: ptr(true)})
	mustOK(t, err)
	if *c.CacheClusterStatus != "available" || *c.SnapshotRetentionLimit != 14 || *c.SnapshotWindow != "07:00-08:00" ||
		*c.PreferredMaintenanceWindow != "fri:09:00-fri:10:00" || *c.AutoMinorVersionUpgrade || len(c.SecurityGroups) != 1 {
		t.Fatalf("modified = %+v", c)
	}
	if marked(t, f, ctxA, "r") != -1 {
		t.Fatalf("a change of settings marked work")
	}
	c, err = modify(&api.ModifyCacheClusterInput{NotificationTopicStatus: s("inactive")})
	mustOK(t, err)
	if *c.NotificationConfiguration.TopicStatus != "inactive" {
		t.Fatalf("topic status = %s", *c.NotificationConfiguration.TopicStatus)
	}
	// Log delivery: set, then removed by an entry that disables it.
	c, err = modify(&api.ModifyCacheClusterInput{LogDeliveryConfigurations: []api.LogDeliveryConfigurationRequest{{LogType: s("slow-log"),
		DestinationType: s("cloudwatch-logs"), LogFormat: s("json"),
		DestinationDetails: &api.DestinationDetails{CloudWatchLogsDetails: &api.CloudWatchLogsDestinationDetails{LogGroup: s("lg")}}}}})
	mustOK(t, err)
	if len(c.LogDeliveryConfigurations) != 1 || *c.LogDeliveryConfigurations[0].DestinationDetails.CloudWatchLogsDetails.LogGroup != "lg" {
		t.Fatalf("log delivery = %+v", c.LogDeliveryConfigurations)
	}
	c, err = modify(&api.ModifyCacheClusterInput{LogDeliveryConfigurations: []api.LogDeliveryConfigurationRequest{{LogType: s("slow-log"), Enabled: ptr(false)}}})
	mustOK(t, err)
	if len(c.LogDeliveryConfigurations) != 0 {
		t.Fatalf("log delivery after removal = %+v", c.LogDeliveryConfigurations)
	}

	// Node type without ApplyImmediately waits; with it, applies what waits.
	c, err = modify(&api.ModifyCacheClusterInput{CacheNodeType: s("cache.t3.small")})
	mustOK(t, err)
	if *c.CacheClusterStatus != "available" || *c.CacheNodeType != "cache.t3.micro" || *c.PendingModifiedValues.CacheNodeType != "cache.t3.small" || marked(t, f, ctxA, "r") != -1 {
		t.Fatalf("deferred node type: %s %s pending %v", *c.CacheClusterStatus, *c.CacheNodeType, c.PendingModifiedValues.CacheNodeType)
	}
	c, err = modify(&api.ModifyCacheClusterInput{ApplyImmediately: ptr(true)})
	mustOK(t, err)
	if *c.CacheClusterStatus != "modifying" || *c.CacheNodeType != "cache.t3.small" || c.PendingModifiedValues.CacheNodeType != nil || marked(t, f, ctxA, "r") != 2 {
		t.Fatalf("applied node type: %s %s pending %v mark %d", *c.CacheClusterStatus, *c.CacheNodeType, c.PendingModifiedValues.CacheNodeType, marked(t, f, ctxA, "r"))
	}
	_, err = modify(&api.ModifyCacheClusterInput{SnapshotRetentionLimit: i32(1)})
	wantFault(t, err, "InvalidCacheClusterState", 400, "")
	mustSettle(t, f, ctxA, "r")

	// Engine versions go up only; a new family moves a default group along.
	_, err = modify(&api.ModifyCacheClusterInput{EngineVersion: s("6.2"), ApplyImmediately: ptr(true)})
	wantFault(t, err, "InvalidParameterCombination", 400, "")
	_, err = modify(&api.ModifyCacheClusterInput{Engine: s("memcached")})
	wantFault(t, err, "InvalidParameterCombination", 400, "")
	_, err = modify(&api.ModifyCacheClusterInput{NumCacheNodes: i32(2)})
	wantFault(t, err, "InvalidParameterValue", 400, "")

	// A parameter group of the family applies; of another, refused.
	_, err = f.svc.CreateCacheParameterGroup(ctxA, &api.CreateCacheParameterGroupInput{CacheParameterGroupName: s("pg7"), CacheParameterGroupFamily: s("redis7"), Description: s("d")})
	mustOK(t, err)
	_, err = modify(&api.ModifyCacheClusterInput{CacheParameterGroupName: s("default.redis6.x")})
	wantFault(t, err, "InvalidParameterCombination", 400, "Expected a parameter group of family redis7 but found one of family redis6.x")
	c, err = modify(&api.ModifyCacheClusterInput{CacheParameterGroupName: s("pg7")})
	mustOK(t, err)
	if *c.CacheClusterStatus != "modifying" || *c.CacheParameterGroup.ParameterApplyStatus != "applying" || marked(t, f, ctxA, "r") != 3 {
		t.Fatalf("parameter group change = %s %s", *c.CacheClusterStatus, *c.CacheParameterGroup.ParameterApplyStatus)
	}
	mustSettle(t, f, ctxA, "r")

	// AUTH tokens need transit encryption.
	_, err = modify(&api.ModifyCacheClusterInput{AuthToken: s("0123456789abcdef0"), AuthTokenUpdateStrategy: s("ROTATE")})
	wantFault(t, err, "InvalidParameterCombination", 400, "")
	_, err = modify(&api.ModifyCacheClusterInput{AuthTokenUpdateStrategy: s("DELETE")})
	wantFault(t, err, "InvalidParameterCombination", 400, "")
}

func TestModifyCacheClusterVersionAndToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	in := redisInput("r6")
	in.EngineVersion, in.TransitEncryptionEnabled, in.AuthToken = s("6.2"), ptr(true), s("first-token-0123456")
	createCluster(t, f, ctxA, in)
	mustSettle(t, f, ctxA, "r6")
	out, err := f.svc.ModifyCacheCluster(ctxA, &api.ModifyCacheClusterInput{CacheClusterId: s("r6"), EngineVersion: s("7.1"), ApplyImmediately: ptr(true)})
	mustOK(t, err)
	c := out.CacheCluster
	if *c.EngineVersion != "7.1" || *c.CacheParameterGroup.CacheParameterGroupName != "default.redis7" || *c.CacheClusterStatus != "modifying" {
		t.Fatalf("upgrade = %s %s %s", *c.EngineVersion, *c.CacheParameterGroup.CacheParameterGroupName, *c.CacheClusterStatus)
	}
	mustSettle(t, f, ctxA, "r6")
	out, err = f.svc.ModifyCacheCluster(ctxA, &api.ModifyCacheClusterInput{CacheClusterId: s("r6"), AuthToken: s("second-token-0123456"), AuthTokenUpdateStrategy: s("ROTATE")})
	mustOK(t, err)
	if out.CacheCluster.AuthTokenLastModifiedDate == nil || *out.CacheCluster.CacheClusterStatus != "modifying" {
		t.Fatalf("rotate = %+v", out.CacheCluster)
	}
	sc, _ := scopeOf(ctxA)
	var rec *cacheClusterRecord
	mustOK(t, f.svc.view(ctxA, func(tx storage.Tx) error { var err error; rec, err = cacheClusters.Get(tx, sc, "r6"); return err }))
	if !slices.Equal(rec.AuthTokenHashes, []string{passwordHash("first-token-0123456"), passwordHash("second-token-0123456")}) {
		t.Fatalf("after ROTATE the hashes are %v", rec.AuthTokenHashes)
	}
	mustSettle(t, f, ctxA, "r6")
	_, err = f.svc.ModifyCacheCluster(ctxA, &api.ModifyCacheClusterInput{CacheClusterId: s("r6"), AuthToken: s("third-token-01234567"), AuthTokenUpdateStrategy: s("SET")})
	mustOK(t, err)
	mustOK(t, f.svc.view(ctxA, func(tx storage.Tx) error { var err error; rec, err = cacheClusters.Get(tx, sc, "r6"); return err }))
	if !slices.Equal(rec.AuthTokenHashes, []string{passwordHash("third-token-01234567")}) {
		t.Fatalf("after SET the hashes are %v", rec.AuthTokenHashes)
	}
}

func TestModifyCacheClusterNodes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Quotas: map[string]int{quotaNodes: 6}})
	createCluster(t, f, ctxA, memcachedInput("mc", 2))
	mustSettle(t, f, ctxA, "mc")
	modify := func(in *api.ModifyCacheClusterInput) (*api.CacheCluster, error) {
		in.CacheClusterId = s("mc")
		out, err := f.svc.ModifyCacheCluster(ctxA, in)
		if err != nil {
			return nil, err
		}
		return out.CacheCluster, nil
	}
	// Deferred: pending, nothing else.
	c, err := modify(&api.ModifyCacheClusterInput{NumCacheNodes: i32(4)})
	mustOK(t, err)
	if *c.NumCacheNodes != 2 || *c.PendingModifiedValues.NumCacheNodes != 4 || *c.CacheClusterStatus != "available" {
		t.Fatalf("deferred add = %d pending %d", *c.NumCacheNodes, *c.PendingModifiedValues.NumCacheNodes)
	}
	// The same count cancels it.
	c, err = modify(&api.ModifyCacheClusterInput{NumCacheNodes: i32(2)})
	mustOK(t, err)
	if c.PendingModifiedValues.NumCacheNodes != nil {
		t.Fatalf("cancel left %d pending", *c.PendingModifiedValues.NumCacheNodes)
	}
	_, err = modify(&api.ModifyCacheClusterInput{NumCacheNodes: i32(7), ApplyImmediately: ptr(true)})
	wantFault(t, err, "NodeQuotaForCustomerExceeded", 400, "")
	_, err = modify(&api.ModifyCacheClusterInput{NumCacheNodes: i32(4), NewAvailabilityZones: []string{"us-east-1a"}, ApplyImmediately: ptr(true)})
	wantFault(t, err, "InvalidParameterCombination", 400, "")
	c, err = modify(&api.ModifyCacheClusterInput{NumCacheNodes: i32(4), NewAvailabilityZones: []string{"us-east-1a", "us-east-1b"}, ApplyImmediately: ptr(true)})
	mustOK(t, err)
	if *c.CacheClusterStatus != "modifying" || *c.NumCacheNodes != 2 || *c.PendingModifiedValues.NumCacheNodes != 4 || marked(t, f, ctxA, "mc") != 2 {
		t.Fatalf("add = %s %d pending %v", *c.CacheClusterStatus, *c.NumCacheNodes, c.PendingModifiedValues.NumCacheNodes)
	}
	mustSettle(t, f, ctxA, "mc")
	d := describeCluster(t, f, ctxA, "mc", true)
	if len(d.CacheNodes) != 4 || *d.CacheNodes[2].CustomerAvailabilityZone != "us-east-1a" || *d.CacheNodes[3].CacheNodeId != "0004" || *d.NumCacheNodes != 4 {
		t.Fatalf("after add: %d nodes", len(d.CacheNodes))
	}
	// Removing needs the IDs, as many as removed, each a node.
	_, err = modify(&api.ModifyCacheClusterInput{NumCacheNodes: i32(2), ApplyImmediately: ptr(true)})
	wantFault(t, err, "InvalidParameterValue", 400, "")
	_, err = modify(&api.ModifyCacheClusterInput{NumCacheNodes: i32(2), CacheNodeIdsToRemove: []string{"0004", "0009"}, ApplyImmediately: ptr(true)})
	wantFaultContaining(t, err, "InvalidParameterValue", 400, "0009")
	c, err = modify(&api.ModifyCacheClusterInput{NumCacheNodes: i32(2), CacheNodeIdsToRemove: []string{"0004", "0003"}, ApplyImmediately: ptr(true)})
	mustOK(t, err)
	if !slices.Equal(c.PendingModifiedValues.CacheNodeIdsToRemove, []string{"0003", "0004"}) || *c.NumCacheNodes != 4 {
		t.Fatalf("remove = pending %v, nodes %d", c.PendingModifiedValues.CacheNodeIdsToRemove, *c.NumCacheNodes)
	}
	mustSettle(t, f, ctxA, "mc")
	if d := describeCluster(t, f, ctxA, "mc", true); len(d.CacheNodes) != 2 || *d.NumCacheNodes != 2 {
		t.Fatalf("after remove: %d nodes", len(d.CacheNodes))
	}
	_, err = modify(&api.ModifyCacheClusterInput{CacheNodeType: s("cache.t3.small"), ApplyImmediately: ptr(true)})
	wantFault(t, err, "InvalidParameterCombination", 400, "")
	_, err = modify(&api.ModifyCacheClusterInput{NumCacheNodes: i32(41)})
	wantFault(t, err, "NodeQuotaForClusterExceeded", 400, "")
}

func TestDescribeCacheClustersPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	_, err := f.svc.DescribeCacheClusters(ctxA, &api.DescribeCacheClustersInput{MaxRecords: i32(19)})
	wantFault(t, err, "InvalidParameterValue", 400, "")
	_, err = f.svc.DescribeCacheClusters(ctxA, &api.DescribeCacheClustersInput{CacheClusterId: s("nope")})
	wantFault(t, err, "CacheClusterNotFound", 404, "CacheCluster not found: nope")
	createCluster(t, f, ctxA, redisInput("a"))
	out, err := f.svc.DescribeCacheClusters(ctxA, &api.DescribeCacheClustersInput{ShowCacheClustersNotInReplicationGroups: ptr(true)})
	mustOK(t, err)
	if len(out.CacheClusters) != 1 {
		t.Fatalf("clusters not in replication groups = %d", len(out.CacheClusters))
	}
}
