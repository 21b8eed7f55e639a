package terraform

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/bradfitz/gomemcache/memcache"
	"github.com/redis/go-redis/v9"
)

// clusterTF is a redis cluster on a named parameter group (of two, which
// differ in maxmemory-policy) in a named subnet group, and a memcached
// cluster of memcachedNodes nodes, all tagged with env.
func clusterTF(paramGroup string, memcachedNodes int, env string) string {
	return strings.ReplaceAll(importedClusterTF(paramGroup, memcachedNodes, env), "  tags = {\n    env", "  apply_immediately = true\n  tags = {\n    env")
}

// importedClusterTF is clusterTF without apply_immediately, which no read
// returns (the provider's own import tests ignore it), so an import of
// the configuration that sets it would plan a change.
func importedClusterTF(paramGroup string, memcachedNodes int, env string) string {
	return fmt.Sprintf(`resource "aws_elasticache_subnet_group" "cache" {
  name       = "tf-cache-subnets"
  subnet_ids = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
}

resource "aws_elasticache_parameter_group" "lru" {
  name   = "tf-lru"
  family = "redis7"
  parameter {
    name  = "maxmemory-policy"
    value = "allkeys-lru"
  }
}

resource "aws_elasticache_parameter_group" "ttl" {
  name   = "tf-ttl"
  family = "redis7"
  parameter {
    name  = "maxmemory-policy"
    value = "volatile-ttl"
  }
}

resource "aws_elasticache_cluster" "redis" {
  cluster_id           = "tf-redis"
  engine               = "redis"
  engine_version       = "7.0"
  node_type            = "cache.t4g.micro"
  num_cache_nodes      = 1
  parameter_group_name = aws_elasticache_parameter_group.%s.name
  subnet_group_name    = aws_elasticache_subnet_group.cache.name
  tags = {
    env = %q
  }
}

resource "aws_elasticache_cluster" "memcached" {
  cluster_id        = "tf-memcached"
  engine            = "memcached"
  node_type         = "cache.t4g.micro"
  num_cache_nodes   = %d
  az_mode           = "cross-az"
  tags = {
    env = %q
  }
}
`, paramGroup, env, memcachedNodes, env)
}

// clusterDataTF reads the redis cluster back through the data source.
const clusterDataTF = `
data "aws_elasticache_cluster" "redis" {
  cluster_id = aws_elasticache_cluster.redis.cluster_id
}

output "engine_version" {
  value = data.aws_elasticache_cluster.redis.engine_version
}

output "parameter_group_name" {
  value = data.aws_elasticache_cluster.redis.parameter_group_name
}

output "node_address" {
  value = data.aws_elasticache_cluster.redis.cache_nodes[0].address
}
`

// TestClusters is aws_elasticache_cluster's life on real engines: create a
// redis cluster (named parameter and subnet groups) and a memcached one of
// two nodes; the engines answer real clients at the endpoints Describe
// gives, with the group's maxmemory-policy; no diff; change the parameter
// group, the node count and tags in place; the engines follow; no diff;
// import both into a fresh state with no diff; the data source reads the
// redis cluster; destroy, after which no engine answers any more.
func TestClusters(t *testing.T) {
	t.Parallel()
	start := time.Now()
	srv := startServer(t)
	ec := sdkClient(t, srv)

	tf := newTerraform(t, srv.URL)
	tf.write(clusterTF("lru", 2, "test"))
	tf.apply()

	rc := wantCluster(t, ec, "tf-redis")
	if aws.ToString(rc.CacheParameterGroup.CacheParameterGroupName) != "tf-lru" || aws.ToString(rc.CacheSubnetGroupName) != "tf-cache-subnets" {
		t.Errorf("tf-redis groups = %+v, subnet group %q", rc.CacheParameterGroup, aws.ToString(rc.CacheSubnetGroupName))
	}
	redisAddr := nodeAddr(t, rc.CacheNodes[0])
	wantRedis(t, redisAddr, "allkeys-lru")
	wantRedisCLI(t, redisAddr)
	mc := wantCluster(t, ec, "tf-memcached")
	if len(mc.CacheNodes) != 2 || aws.ToString(mc.PreferredAvailabilityZone) != "Multiple" || mc.ConfigurationEndpoint == nil {
		t.Errorf("tf-memcached = %d nodes, AZ %q, configuration endpoint %v", len(mc.CacheNodes), aws.ToString(mc.PreferredAvailabilityZone), mc.ConfigurationEndpoint)
	}
	wantMemcached(t, mc.CacheNodes)
	tf.planIsClean()

	updated := clusterTF("ttl", 3, "prod")
	tf.write(updated)
	tf.apply()
	rc = wantCluster(t, ec, "tf-redis")
	if got := aws.ToString(rc.CacheParameterGroup.CacheParameterGroupName); got != "tf-ttl" {
		t.Errorf("tf-redis parameter group after update = %q", got)
	}
	// The data survives a parameter group change: it is applied to the
	// running engine, which keeps its address.
	if got := nodeAddr(t, rc.CacheNodes[0]); got != redisAddr {
		t.Errorf("tf-redis moved from %s to %s", redisAddr, got)
	}
	wantRedis(t, redisAddr, "volatile-ttl")
	mc = wantCluster(t, ec, "tf-memcached")
	if len(mc.CacheNodes) != 3 {
		t.Errorf("tf-memcached has %d nodes after update, want 3", len(mc.CacheNodes))
	}
	wantMemcached(t, mc.CacheNodes)
	tags, err := ec.ListTagsForResource(t.Context(), &elasticache.ListTagsForResourceInput{ResourceName: rc.ARN})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Value) != "prod" {
		t.Errorf("tags of tf-redis = %+v, %v", tags, err)
	}
	tf.planIsClean()

	imported := newTerraform(t, srv.URL)
	imported.write(importedClusterTF("ttl", 3, "prod"))
	imported.importResource("aws_elasticache_subnet_group.cache", "tf-cache-subnets")
	imported.importResource("aws_elasticache_parameter_group.lru", "tf-lru")
	imported.importResource("aws_elasticache_parameter_group.ttl", "tf-ttl")
	imported.importResource("aws_elasticache_cluster.redis", "tf-redis")
	imported.importResource("aws_elasticache_cluster.memcached", "tf-memcached")
	imported.planIsClean()

	tf.write(updated + clusterDataTF)
	tf.apply()
	state := tf.state()
	if got := state.output(t, "parameter_group_name"); got != "tf-ttl" {
		t.Errorf("data source parameter_group_name = %v", got)
	}
	if got := state.output(t, "node_address"); got != strings.Split(redisAddr, ":")[0] {
		t.Errorf("data source node address = %v, want %s", got, redisAddr)
	}
	if v, _ := state.output(t, "engine_version").(string); !strings.HasPrefix(v, "7.0") {
		t.Errorf("data source engine_version = %q", v)
	}

	memcachedAddrs := make([]string, 0, len(mc.CacheNodes))
	for _, n := range mc.CacheNodes {
		memcachedAddrs = append(memcachedAddrs, nodeAddr(t, n))
	}
	tf.destroy()
	for _, id := range []string{"tf-redis", "tf-memcached"} {
		_, err := ec.DescribeCacheClusters(t.Context(), &elasticache.DescribeCacheClustersInput{CacheClusterId: aws.String(id)})
		var notFound *types.CacheClusterNotFoundFault
		if !errors.As(err, &notFound) {
			t.Errorf("describe %s after destroy: %v, want CacheClusterNotFoundFault", id, err)
		}
	}
	for _, addr := range append(memcachedAddrs, redisAddr) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("an engine still answers at %s after destroy", addr)
		}
	}
	t.Logf("TestClusters took %s", time.Since(start).Round(100*time.Millisecond))
}

// wantCluster describes a cluster with its nodes and checks that it is
// available with every node's fields Terraform reads set.
func wantCluster(t testing.TB, ec *elasticache.Client, id string) types.CacheCluster {
	t.Helper()
	out, err := ec.DescribeCacheClusters(t.Context(), &elasticache.DescribeCacheClustersInput{
		CacheClusterId: aws.String(id), ShowCacheNodeInfo: aws.Bool(true)})
	if err != nil {
		t.Fatalf("describe cluster %s: %v", id, err)
	}
	c := out.CacheClusters[0]
	if aws.ToString(c.CacheClusterStatus) != "available" || len(c.CacheNodes) == 0 {
		t.Fatalf("cluster %s is %q with %d nodes", id, aws.ToString(c.CacheClusterStatus), len(c.CacheNodes))
	}
	for _, n := range c.CacheNodes {
		if n.CacheNodeId == nil || n.Endpoint == nil || n.Endpoint.Address == nil || n.Endpoint.Port == nil || n.CustomerAvailabilityZone == nil {
			t.Fatalf("cluster %s node %+v lacks a field Terraform reads", id, n)
		}
	}
	return c
}

func nodeAddr(t testing.TB, n types.CacheNode) string {
	t.Helper()
	return net.JoinHostPort(aws.ToString(n.Endpoint.Address), strconv.Itoa(int(aws.ToInt32(n.Endpoint.Port))))
}

// wantRedis writes and reads a key through a Go Redis client at addr and
// checks the engine's maxmemory-policy.
func wantRedis(t testing.TB, addr, policy string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 5 * time.Second})
	defer c.Close()
	ctx := t.Context()
	if err := c.Set(ctx, "tf-key", "tf-value", 0).Err(); err != nil {
		t.Fatalf("SET at %s: %v", addr, err)
	}
	if v, err := c.Get(ctx, "tf-key").Result(); err != nil || v != "tf-value" {
		t.Errorf("GET at %s = %q, %v", addr, v, err)
	}
	got, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil || got["maxmemory-policy"] != policy {
		t.Errorf("CONFIG GET maxmemory-policy at %s = %v, %v; want %s", addr, got, err, policy)
	}
}

// wantRedisCLI reads the key wantRedis wrote with redis-cli, the client
// users reach for first.
func wantRedisCLI(t testing.TB, addr string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.CommandContext(t.Context(), "redis-cli", "-h", host, "-p", port, "GET", "tf-key").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "tf-value" {
		t.Errorf("redis-cli GET at %s = %q, %v", addr, out, err)
	}
}

// wantMemcached stores and fetches an item on every node.
func wantMemcached(t testing.TB, nodes []types.CacheNode) {
	t.Helper()
	for _, n := range nodes {
		addr := nodeAddr(t, n)
		c := memcache.New(addr)
		c.Timeout = 5 * time.Second
		key := "tf-" + aws.ToString(n.CacheNodeId)
		if err := c.Set(&memcache.Item{Key: key, Value: []byte(addr)}); err != nil {
			t.Errorf("memcached set at %s: %v", addr, err)
			continue
		}
		it, err := c.Get(key)
		if err != nil || !slices.Equal(it.Value, []byte(addr)) {
			t.Errorf("memcached get at %s = %v, %v", addr, it, err)
		}
		c.Close()
	}
}
