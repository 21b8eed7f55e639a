package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/bradfitz/gomemcache/memcache"
	"github.com/redis/go-redis/v9"

	"github.com/elasticache-server/elasticache-server/internal/serverproc"
	"github.com/elasticache-server/elasticache-server/server"
)

// Cache clusters with real engines: the in-process server runs
// redis-server and memcached per node under its data directory, and the
// tests reach the nodes through the endpoints DescribeCacheClusters
// answers, with the clients applications use (go-redis, gomemcache).
// Every test fails, never skips, when an engine is not installed
// (scripts/install-engines.sh), and checks at its end that no engine
// process of its data directory is left.

// engAccount and engRegion are where every cluster of these tests lives.
const (
	engAccount = "111111111111"
	engRegion  = "us-east-1"
)

// runningClock is the server clock of these tests: it starts at
// clockStart and moves with real time, since the engines take real time
// and the reconciler's retries and event order follow the clock.
type runningClock struct{ origin time.Time }

func newRunningClock() runningClock { return runningClock{origin: time.Now()} }

// Now is clockStart plus the time since the clock was made.
func (c runningClock) Now() time.Time { return clockStart.Add(time.Since(c.origin)) }

// requireEngines fails the test when redis-server or memcached is not
// installed where the server looks for them.
func requireEngines(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"redis-server", "memcached"} {
		if _, err := exec.LookPath(bin); err == nil {
			continue
		}
		found := false
		for _, dir := range []string{"/usr/bin", "/usr/sbin"} {
			if _, err := os.Stat(filepath.Join(dir, bin)); err == nil {
				found = true
			}
		}
		if !found {
			t.Fatalf("%s is not installed: run scripts/install-engines.sh", bin)
		}
	}
}

// engineDataDir returns a fresh data directory for a test's servers and
// makes the test fail if, at its end (after its servers closed), a process
// still runs in the engine directory under it; such processes are killed.
func engineDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	engines := filepath.Join(real, "engines")
	// Registered before any server starts, so it runs after their Close.
	t.Cleanup(func() {
		left := enginePids(engines)
		if len(left) == 0 {
			return
		}
		t.Errorf("engine processes outlived the test: %v", left)
		for pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(enginePids(engines)) > 0 && time.Now().Before(deadline) {
			time.Sleep(pollInterval) // a cleanup has no context to wait on
		}
		if left := enginePids(engines); len(left) > 0 {
			t.Errorf("engine processes still running after SIGKILL: %v", left)
		}
	})
	return real
}

// enginePids finds the live processes that run in dir or name it on their
// command line (redis' --dir, memcached's -e), with their command lines.
func enginePids(dir string) map[int]string {
	out := map[int]string{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	inDir := func(p string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || !processAlive(pid) {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		match := inDir(strings.TrimSuffix(cwd, " (deleted)"))
		for _, a := range args {
			match = match || strings.Contains(a, dir+"/")
		}
		if match {
			out[pid] = strings.Join(args, " ")
		}
	}
	return out
}

// processAlive reports whether pid names a live process; a zombie, which
// only waits for its parent to reap it, is not.
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] != 'Z' && b[i+2] != 'X'
}

// startEngineServer starts an in-process server with real engines on
// dataDir (from engineDataDir).
func startEngineServer(t *testing.T, dataDir string, opts ...serverOption) *testServer {
	t.Helper()
	return startServerClock(t, newRunningClock(), append(opts, withDataDir(dataDir))...)
}

// withNoEngines is --engines none: the control plane only.
func withNoEngines() serverOption {
	return func(c *server.Config) { c.Engines = server.EnginesNone }
}

// reservePort returns a free port and holds a listener on 127.0.0.1 at it
// until the test ends. The kernel hands a held port to no other caller
// asking for a free one, so parallel tests, and other test processes on
// this machine, never put engines on one another's port, nor on 6379 or
// 11211 (the server also skips node addresses something already listens
// on).
func reservePort(t *testing.T) int32 {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if port := ln.Addr().(*net.TCPAddr).Port; port >= 1150 {
			t.Cleanup(func() { ln.Close() })
			return int32(port)
		}
		ln.Close()
	}
	t.Fatal("no free port from 1150 up after 50 tries")
	return 0
}

// nodeDir is the engine directory of a node of one of these tests.
func nodeDir(dataDir, cluster, node string) string {
	return filepath.Join(dataDir, "engines", engAccount, engRegion, cluster, node)
}

// readPid reads a node's pid file.
func readPid(t *testing.T, dataDir, cluster, node string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(nodeDir(dataDir, cluster, node), "pid"))
	if err != nil {
		t.Fatalf("pid file of %s/%s: %v", cluster, node, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file of %s/%s: %v", cluster, node, err)
	}
	return pid
}

// endpoint is a node's host:port as DescribeCacheClusters answers it.
func endpoint(t *testing.T, n types.CacheNode) string {
	t.Helper()
	if n.Endpoint == nil {
		t.Fatalf("node %s has no endpoint", aws.ToString(n.CacheNodeId))
	}
	return net.JoinHostPort(aws.ToString(n.Endpoint.Address), strconv.Itoa(int(aws.ToInt32(n.Endpoint.Port))))
}

// wantEndpoint checks a node's address and port.
func wantEndpoint(t *testing.T, n types.CacheNode, addr string, port int32) {
	t.Helper()
	got := endpoint(t, n)
	if addr == "" {
		host, p, _ := net.SplitHostPort(got)
		if !isNodeAddress(host) || p != strconv.Itoa(int(port)) {
			t.Errorf("node %s endpoint = %s, want a node address of 127.0.0.0/8 on port %d", aws.ToString(n.CacheNodeId), got, port)
		}
		return
	}
	if want := net.JoinHostPort(addr, strconv.Itoa(int(port))); got != want {
		t.Errorf("node %s endpoint = %s, want %s", aws.ToString(n.CacheNodeId), got, want)
	}
}

// isNodeAddress reports whether ip is one the reconciler gives nodes on
// Linux: an address of 127.0.0.0/8 outside 127.0.x.x (where the server
// and the tests' own listeners are), neither .0 nor .255. Which one is the
// server's choice (from its ID, skipping what the host already uses).
func isNodeAddress(ip string) bool {
	p := net.ParseIP(ip).To4()
	return p != nil && p[0] == 127 && p[1] >= 1 && p[3] != 0 && p[3] != 255
}

// redisAt returns a go-redis client of the node at addr, closed at
// cleanup. Redis 7.0 has no CLIENT SETINFO, so the client does not send
// it.
func redisAt(t *testing.T, addr string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second,
		WriteTimeout: 2 * time.Second, DisableIdentity: true})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// redisConfig is CONFIG GET name on the node, or what went wrong.
func redisConfig(t *testing.T, rdb *redis.Client, name string) (string, error) {
	m, err := rdb.ConfigGet(t.Context(), name).Result()
	if err != nil {
		return "", err
	}
	return m[name], nil
}

// waitRedisConfig polls CONFIG GET name until it answers want.
func waitRedisConfig(t *testing.T, rdb *redis.Client, name, want string) {
	t.Helper()
	poll(t, 15*time.Second, "CONFIG GET "+name+" = "+want, func() (bool, string) {
		v, err := redisConfig(t, rdb, name)
		return err == nil && v == want, fmt.Sprintf("%q, %v", v, err)
	})
}

// waitRedisGet polls GET key until it answers want.
func waitRedisGet(t *testing.T, rdb *redis.Client, key, want string) {
	t.Helper()
	poll(t, 15*time.Second, "GET "+key+" = "+want, func() (bool, string) {
		v, err := rdb.Get(t.Context(), key).Result()
		return err == nil && v == want, fmt.Sprintf("%q, %v", v, err)
	})
}

// memcachedAt returns a gomemcache client of the one node at addr.
func memcachedAt(addr string) *memcache.Client {
	mc := memcache.New(addr)
	mc.Timeout = 2 * time.Second
	return mc
}

// waitMemcachedGet polls get key on the node at addr until it answers
// want.
func waitMemcachedGet(t *testing.T, addr, key, want string) {
	t.Helper()
	mc := memcachedAt(addr)
	defer mc.Close()
	poll(t, 15*time.Second, "memcached get "+key+" at "+addr, func() (bool, string) {
		it, err := mc.Get(key)
		if err != nil {
			return false, err.Error()
		}
		return string(it.Value) == want, fmt.Sprintf("%q", it.Value)
	})
}

// wantRefused checks that nothing listens at addr.
func wantRefused(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("%s accepted a connection, want it refused", addr)
		return
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial %s: %v, want connection refused", addr, err)
	}
}

// waitDead polls until pid has ended.
func waitDead(t *testing.T, pid int, what string) {
	t.Helper()
	poll(t, 15*time.Second, what+" (pid "+strconv.Itoa(pid)+") ended", func() (bool, string) {
		return !processAlive(pid), "still running"
	})
}

// clusterEvents returns the cluster's events of the last hour, oldest
// first.
func clusterEvents(t *testing.T, c *elasticache.Client, id string) []string {
	t.Helper()
	out, err := c.DescribeEvents(t.Context(), &elasticache.DescribeEventsInput{SourceType: types.SourceTypeCacheCluster,
		SourceIdentifier: aws.String(id), MaxRecords: aws.Int32(100)})
	if err != nil {
		t.Fatalf("describe events of %s: %v", id, err)
	}
	var msgs []string
	for i := len(out.Events) - 1; i >= 0; i-- {
		e := out.Events[i]
		if aws.ToString(e.SourceIdentifier) != id || e.SourceType != types.SourceTypeCacheCluster {
			t.Errorf("event of %s: source %s %s", id, e.SourceType, aws.ToString(e.SourceIdentifier))
		}
		msgs = append(msgs, aws.ToString(e.Message))
	}
	return msgs
}

// waitEvents polls until the cluster's events are exactly want, oldest
// first.
func waitEvents(t *testing.T, c *elasticache.Client, id string, want ...string) {
	t.Helper()
	poll(t, 15*time.Second, "events of "+id, func() (bool, string) {
		got := clusterEvents(t, c, id)
		return slices.Equal(got, want), fmt.Sprintf("got %q, want %q", got, want)
	})
}

// added is the event of a node added in az.
func added(node, az string) string {
	return "Added cache node " + node + " in availability zone " + az
}

// parameterGroup creates a redis7 parameter group with values.
func parameterGroup(t *testing.T, c *elasticache.Client, name string, values map[string]string) {
	t.Helper()
	if _, err := c.CreateCacheParameterGroup(t.Context(), &elasticache.CreateCacheParameterGroupInput{CacheParameterGroupName: aws.String(name),
		CacheParameterGroupFamily: aws.String("redis7"), Description: aws.String("group " + name)}); err != nil {
		t.Fatal(err)
	}
	setParameters(t, c, name, values)
}

// setParameters is ModifyCacheParameterGroup.
func setParameters(t *testing.T, c *elasticache.Client, group string, values map[string]string) {
	t.Helper()
	var pv []types.ParameterNameValue
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range values {
			if !yield(k) {
				return
			}
		}
	}) {
		pv = append(pv, types.ParameterNameValue{ParameterName: aws.String(k), ParameterValue: aws.String(values[k])})
	}
	if _, err := c.ModifyCacheParameterGroup(t.Context(), &elasticache.ModifyCacheParameterGroupInput{CacheParameterGroupName: aws.String(group),
		ParameterNameValues: pv}); err != nil {
		t.Fatalf("modify parameter group %s: %v", group, err)
	}
}

// paramStatus is a cluster's ParameterApplyStatus, its nodes' and the
// nodes to reboot, as one string to compare.
func paramStatus(cl types.CacheCluster) string {
	s := aws.ToString(cl.CacheParameterGroup.ParameterApplyStatus)
	for _, n := range cl.CacheNodes {
		s += " " + aws.ToString(n.CacheNodeId) + ":" + aws.ToString(n.ParameterGroupStatus)
	}
	return s + fmt.Sprintf(" reboot%v", cl.CacheParameterGroup.CacheNodeIdsToReboot)
}

// waitParamStatus polls until the available cluster's paramStatus is want.
func waitParamStatus(t *testing.T, c *elasticache.Client, id, want string) types.CacheCluster {
	t.Helper()
	var cl types.CacheCluster
	poll(t, 15*time.Second, "parameter status of "+id, func() (bool, string) {
		cl = describeClusterSDK(t, c, id)
		ok, desc := clusterSettled(cl)
		return ok && paramStatus(cl) == want, desc + "; parameters " + paramStatus(cl)
	})
	return cl
}

// A redis cluster with a parameter group of its own in a subnet group of
// its own: it serves data, runs with the group's values, takes a dynamic
// change live, a static one at the reboot (data kept), and a move to
// another group.
func TestClusterEngineRedisParameters(t *testing.T) {
	t.Parallel()
	requireEngines(t)
	dir := engineDataDir(t)
	srv := startEngineServer(t, dir)
	c := client(t, srv.Addr, engAccount, engRegion)
	ctx := t.Context()
	port := reservePort(t)
	if _, err := createSubnetGroup(t, c, "cache-net", []string{"subnet-0a1b2c3d"}); err != nil {
		t.Fatal(err)
	}
	parameterGroup(t, c, "lru", map[string]string{"maxmemory-policy": "allkeys-lru"})
	parameterGroup(t, c, "lfu", map[string]string{"maxmemory-policy": "allkeys-lfu", "databases": "32"})

	in := redisCluster("params")
	in.CacheSubnetGroupName, in.CacheParameterGroupName, in.Port = aws.String("cache-net"), aws.String("lru"), aws.Int32(port)
	createCluster(t, c, in)
	cl := waitAvailable(t, c, "params")
	if len(cl.CacheNodes) != 1 || aws.ToString(cl.CacheSubnetGroupName) != "cache-net" ||
		aws.ToString(cl.CacheParameterGroup.CacheParameterGroupName) != "lru" || paramStatus(cl) != "in-sync 0001:in-sync reboot[]" {
		t.Fatalf("available = %d nodes, subnet group %s, parameters %s %s", len(cl.CacheNodes), aws.ToString(cl.CacheSubnetGroupName),
			aws.ToString(cl.CacheParameterGroup.CacheParameterGroupName), paramStatus(cl))
	}
	node := cl.CacheNodes[0]
	wantEndpoint(t, node, "", port)
	nodeHost, _, _ := net.SplitHostPort(endpoint(t, node))
	az := aws.ToString(node.CustomerAvailabilityZone)
	rdb := redisAt(t, endpoint(t, node))
	if err := rdb.Set(ctx, "greeting", "hello", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if v, err := rdb.Get(ctx, "greeting").Result(); err != nil || v != "hello" {
		t.Fatalf("GET = %q, %v", v, err)
	}
	if v, err := redisConfig(t, rdb, "maxmemory-policy"); err != nil || v != "allkeys-lru" {
		t.Fatalf("CONFIG GET maxmemory-policy = %q, %v; want the group's allkeys-lru", v, err)
	}

	// A dynamic parameter reaches the running engine.
	setParameters(t, c, "lru", map[string]string{"maxmemory-policy": "volatile-ttl"})
	waitRedisConfig(t, rdb, "maxmemory-policy", "volatile-ttl")
	waitParamStatus(t, c, "params", "in-sync 0001:in-sync reboot[]")

	// A static one waits for a reboot.
	pid := readPid(t, dir, "params", "0001")
	setParameters(t, c, "lru", map[string]string{"databases": "32"})
	waitParamStatus(t, c, "params", "pending-reboot 0001:pending-reboot reboot[0001]")
	if v, err := redisConfig(t, rdb, "databases"); err != nil || v != "16" {
		t.Errorf("CONFIG GET databases before the reboot = %q, %v; want 16", v, err)
	}
	rb, err := c.RebootCacheCluster(ctx, &elasticache.RebootCacheClusterInput{CacheClusterId: aws.String("params"), CacheNodeIdsToReboot: []string{"0001"}})
	if err != nil || aws.ToString(rb.CacheCluster.CacheClusterStatus) != "rebooting cluster nodes" {
		t.Fatalf("reboot = %+v, %v", rb, err)
	}
	cl = waitParamStatus(t, c, "params", "in-sync 0001:in-sync reboot[]")
	wantEndpoint(t, cl.CacheNodes[0], nodeHost, port)
	waitRedisConfig(t, rdb, "databases", "32")
	// SHUTDOWN SAVE and a start on the dump: the data survived.
	waitRedisGet(t, rdb, "greeting", "hello")
	if again := readPid(t, dir, "params", "0001"); again == pid || processAlive(pid) {
		t.Errorf("after the reboot the node runs as pid %d (before: %d, still alive: %v), want a new process", again, pid, processAlive(pid))
	}
	created := []string{added("0001", az), "Cache cluster created",
		"Updated parameter maxmemory-policy to volatile-ttl", "Updated parameter databases to 32", "Cache node 0001 restarted"}
	waitEvents(t, c, "params", created...)

	// Another group of the family, at once: its dynamic difference is
	// applied live (databases is equal in both, as AWS requires).
	out, err := c.ModifyCacheCluster(ctx, &elasticache.ModifyCacheClusterInput{CacheClusterId: aws.String("params"),
		CacheParameterGroupName: aws.String("lfu"), ApplyImmediately: aws.Bool(true)})
	if err != nil || aws.ToString(out.CacheCluster.CacheParameterGroup.CacheParameterGroupName) != "lfu" ||
		aws.ToString(out.CacheCluster.CacheParameterGroup.ParameterApplyStatus) != "applying" {
		t.Fatalf("modify parameter group = %+v, %v", out, err)
	}
	waitParamStatus(t, c, "params", "in-sync 0001:in-sync reboot[]")
	waitRedisConfig(t, rdb, "maxmemory-policy", "allkeys-lfu")
	waitEvents(t, c, "params", append(created, "Updated parameter maxmemory-policy to allkeys-lfu")...)
	if cl := describeClusterSDK(t, c, "params"); aws.ToString(cl.CacheParameterGroup.CacheParameterGroupName) != "lfu" {
		t.Errorf("parameter group = %s, want lfu", aws.ToString(cl.CacheParameterGroup.CacheParameterGroupName))
	}
}

// A memcached cluster across zones: every node serves; a third node is
// added and serves; removing it by ID ends its process and deletes its
// directory.
func TestClusterEngineMemcachedScale(t *testing.T) {
	t.Parallel()
	requireEngines(t)
	dir := engineDataDir(t)
	srv := startEngineServer(t, dir)
	c := client(t, srv.Addr, engAccount, engRegion)
	ctx := t.Context()
	port := reservePort(t)

	in := memcachedCluster("items", 2)
	in.AZMode, in.Port = types.AZModeCrossAz, aws.Int32(port)
	createCluster(t, c, in)
	cl := waitAvailable(t, c, "items")
	if len(cl.CacheNodes) != 2 || aws.ToString(cl.PreferredAvailabilityZone) != "Multiple" {
		t.Fatalf("available = %d nodes in %s", len(cl.CacheNodes), aws.ToString(cl.PreferredAvailabilityZone))
	}
	var azs []string
	for i, n := range cl.CacheNodes {
		wantEndpoint(t, n, "", port)
		if i > 0 && endpoint(t, n) == endpoint(t, cl.CacheNodes[0]) {
			t.Errorf("nodes 0001 and %s share %s", aws.ToString(n.CacheNodeId), endpoint(t, n))
		}
		azs = append(azs, aws.ToString(n.CustomerAvailabilityZone))
		mc := memcachedAt(endpoint(t, n))
		key := "key-" + aws.ToString(n.CacheNodeId)
		if err := mc.Set(&memcache.Item{Key: key, Value: []byte("on " + aws.ToString(n.CacheNodeId))}); err != nil {
			t.Fatalf("set on node %s: %v", aws.ToString(n.CacheNodeId), err)
		}
		if it, err := mc.Get(key); err != nil || string(it.Value) != "on "+aws.ToString(n.CacheNodeId) {
			t.Fatalf("get on node %s: %v", aws.ToString(n.CacheNodeId), err)
		}
		mc.Close()
	}
	if azs[0] == azs[1] {
		t.Errorf("cross-az nodes are both in %s", azs[0])
	}

	if _, err := c.ModifyCacheCluster(ctx, &elasticache.ModifyCacheClusterInput{CacheClusterId: aws.String("items"),
		NumCacheNodes: aws.Int32(3), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	cl = waitAvailable(t, c, "items")
	if len(cl.CacheNodes) != 3 || aws.ToInt32(cl.NumCacheNodes) != 3 || aws.ToString(cl.CacheNodes[2].CacheNodeId) != "0003" {
		t.Fatalf("after scaling out: %d nodes (NumCacheNodes %d)", len(cl.CacheNodes), aws.ToInt32(cl.NumCacheNodes))
	}
	third := cl.CacheNodes[2]
	wantEndpoint(t, third, "", port)
	thirdAddr := endpoint(t, third)
	mc := memcachedAt(thirdAddr)
	if err := mc.Set(&memcache.Item{Key: "new", Value: []byte("node")}); err != nil {
		t.Fatalf("set on node 0003: %v", err)
	}
	mc.Close()
	waitMemcachedGet(t, thirdAddr, "new", "node")
	thirdPid := readPid(t, dir, "items", "0003")

	out, err := c.ModifyCacheCluster(ctx, &elasticache.ModifyCacheClusterInput{CacheClusterId: aws.String("items"),
		NumCacheNodes: aws.Int32(2), CacheNodeIdsToRemove: []string{"0003"}, ApplyImmediately: aws.Bool(true)})
	if err != nil || aws.ToString(out.CacheCluster.CacheClusterStatus) != "modifying" {
		t.Fatalf("scale in = %+v, %v", out, err)
	}
	cl = waitAvailable(t, c, "items")
	var ids []string
	for _, n := range cl.CacheNodes {
		ids = append(ids, aws.ToString(n.CacheNodeId))
	}
	if !slices.Equal(ids, []string{"0001", "0002"}) || aws.ToInt32(cl.NumCacheNodes) != 2 {
		t.Fatalf("after removing 0003: nodes %v (NumCacheNodes %d)", ids, aws.ToInt32(cl.NumCacheNodes))
	}
	waitDead(t, thirdPid, "node 0003's memcached")
	wantRefused(t, thirdAddr)
	if _, err := os.Stat(nodeDir(dir, "items", "0003")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("node 0003's directory: %v, want it removed", err)
	}
	// The nodes that stayed kept their items.
	waitMemcachedGet(t, endpoint(t, cl.CacheNodes[0]), "key-0001", "on 0001")
	waitMemcachedGet(t, endpoint(t, cl.CacheNodes[1]), "key-0002", "on 0002")
	waitEvents(t, c, "items", added("0001", azs[0]), added("0002", azs[1]), "Cache cluster created",
		added("0003", aws.ToString(third.CustomerAvailabilityZone)), "Finished modifying number of nodes from 2 to 3", "Removed cache nodes 0003")

	// A reboot empties a memcached node, as on AWS; the other keeps its
	// items.
	if _, err := c.RebootCacheCluster(ctx, &elasticache.RebootCacheClusterInput{CacheClusterId: aws.String("items"),
		CacheNodeIdsToReboot: []string{"0001"}}); err != nil {
		t.Fatal(err)
	}
	cl = waitAvailable(t, c, "items")
	first := endpoint(t, cl.CacheNodes[0])
	mc = memcachedAt(first)
	if err := mc.Set(&memcache.Item{Key: "after-reboot", Value: []byte("yes")}); err != nil {
		t.Fatalf("set on node 0001 after its reboot: %v", err)
	}
	if _, err := mc.Get("key-0001"); !errors.Is(err, memcache.ErrCacheMiss) {
		t.Errorf("get key-0001 after the reboot: %v, want a miss: a rebooted memcached node starts empty", err)
	}
	mc.Close()
	waitMemcachedGet(t, endpoint(t, cl.CacheNodes[1]), "key-0002", "on 0002")
}

// An engine killed with SIGKILL is started again on the same endpoint,
// with AWS's recovery events.
func TestClusterEngineRecovery(t *testing.T) {
	t.Parallel()
	requireEngines(t)
	dir := engineDataDir(t)
	srv := startEngineServer(t, dir)
	c := client(t, srv.Addr, engAccount, engRegion)
	port := reservePort(t)

	r := redisCluster("crashy")
	r.Port = aws.Int32(port)
	createCluster(t, c, r)
	rcl := waitAvailable(t, c, "crashy")
	m := memcachedCluster("crashy-mc", 1)
	m.Port = aws.Int32(port)
	createCluster(t, c, m)
	mcl := waitAvailable(t, c, "crashy-mc")
	rdb := redisAt(t, endpoint(t, rcl.CacheNodes[0]))
	mc := memcachedAt(endpoint(t, mcl.CacheNodes[0]))
	defer mc.Close()
	for _, tc := range []struct {
		id   string
		node types.CacheNode
		ping func() error
	}{
		{"crashy", rcl.CacheNodes[0], func() error { return rdb.Ping(t.Context()).Err() }},
		{"crashy-mc", mcl.CacheNodes[0], mc.Ping},
	} {
		addr := endpoint(t, tc.node)
		pid := readPid(t, dir, tc.id, "0001")
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 %d (%s): %v", pid, tc.id, err)
		}
		waitDead(t, pid, tc.id+"'s killed engine")
		az := aws.ToString(tc.node.CustomerAvailabilityZone)
		waitEvents(t, c, tc.id, added("0001", az), "Cache cluster created", "Recovering cache nodes 0001", "Finished recovery for cache nodes 0001")
		poll(t, 15*time.Second, tc.id+" answers again at "+addr, func() (bool, string) {
			err := tc.ping()
			return err == nil, fmt.Sprint(err)
		})
		if again := readPid(t, dir, tc.id, "0001"); again == pid || !processAlive(again) {
			t.Errorf("%s after recovery: pid %d (alive %v), killed pid %d", tc.id, again, processAlive(again), pid)
		}
		cl := waitAvailable(t, c, tc.id)
		if got := endpoint(t, cl.CacheNodes[0]); got != addr {
			t.Errorf("%s endpoint after recovery = %s, want %s", tc.id, got, addr)
		}
	}
}

// A server closed gracefully stops its engines, keeping their data; the
// next server on the same data directory runs them again on the same
// endpoints, redis' keys and memcached's items still there.
func TestClusterEngineGracefulRestart(t *testing.T) {
	t.Parallel()
	requireEngines(t)
	dir := engineDataDir(t)
	first := startEngineServer(t, dir)
	c := client(t, first.Addr, engAccount, engRegion)
	ctx := t.Context()
	port := reservePort(t)

	r := redisCluster("kept")
	r.Port = aws.Int32(port)
	createCluster(t, c, r)
	m := memcachedCluster("kept-mc", 1)
	m.Port = aws.Int32(port)
	createCluster(t, c, m)
	redisAddr := endpoint(t, waitAvailable(t, c, "kept").CacheNodes[0])
	mcAddr := endpoint(t, waitAvailable(t, c, "kept-mc").CacheNodes[0])
	if err := redisAt(t, redisAddr).Set(ctx, "survivor", "yes", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	mc := memcachedAt(mcAddr)
	if err := mc.Set(&memcache.Item{Key: "survivor", Value: []byte("item")}); err != nil {
		t.Fatalf("memcached set: %v", err)
	}
	mc.Close()
	pids := []int{readPid(t, dir, "kept", "0001"), readPid(t, dir, "kept-mc", "0001")}

	if err := first.Close(); err != nil {
		t.Fatalf("close the first server: %v", err)
	}
	if left := enginePids(filepath.Join(dir, "engines")); len(left) != 0 {
		t.Fatalf("engines still running after a graceful close: %v", left)
	}
	wantRefused(t, redisAddr)
	wantRefused(t, mcAddr)

	second := startEngineServer(t, dir)
	c = client(t, second.Addr, engAccount, engRegion)
	if got := endpoint(t, waitAvailable(t, c, "kept").CacheNodes[0]); got != redisAddr {
		t.Errorf("redis endpoint after the restart = %s, want %s", got, redisAddr)
	}
	if got := endpoint(t, waitAvailable(t, c, "kept-mc").CacheNodes[0]); got != mcAddr {
		t.Errorf("memcached endpoint after the restart = %s, want %s", got, mcAddr)
	}
	waitRedisGet(t, redisAt(t, redisAddr), "survivor", "yes")
	waitMemcachedGet(t, mcAddr, "survivor", "item")
	if again := []int{readPid(t, dir, "kept", "0001"), readPid(t, dir, "kept-mc", "0001")}; again[0] == pids[0] || again[1] == pids[1] {
		t.Errorf("pids after the restart %v, before %v: want new processes", again, pids)
	}
}

// startServerProcess runs the server binary on dataDir (its store, or on
// an etcd run the test's key prefix, and its engines); it is killed when
// t ends.
func startServerProcess(t *testing.T, bin, dataDir string) *serverProcess {
	t.Helper()
	args := storeArgs(dataDir)
	if !slices.Contains(args, "--data-dir") {
		args = append(args, "--data-dir", dataDir)
	}
	return &serverProcess{serverproc.Start(t, bin, args...)}
}

// serverProcess is the server binary running.
type serverProcess struct{ *serverproc.Process }

// adopted reports whether the server logged that it adopted pid.
func (p *serverProcess) adopted(pid int) bool {
	for _, line := range strings.Split(p.Log(), "\n") {
		var entry struct {
			Msg string
			Pid int
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "engine: adopted running node" && entry.Pid == pid {
			return true
		}
	}
	return false
}

// A kill -9 of the server leaves its engines running; the next server on
// the data directory adopts the very process (one per node, data kept)
// and can still delete the cluster, ending it.
func TestClusterEngineServerKill9(t *testing.T) {
	t.Parallel()
	requireEngines(t)
	bin := serverproc.Build(t, "elasticache-server")
	dir := engineDataDir(t)
	engines := filepath.Join(dir, "engines")
	port := reservePort(t)
	first := startServerProcess(t, bin, dir)
	c := client(t, first.Addr, engAccount, engRegion)
	ctx := t.Context()

	in := redisCluster("adopted")
	in.Port = aws.Int32(port)
	createCluster(t, c, in)
	addr := endpoint(t, waitAvailable(t, c, "adopted").CacheNodes[0])
	if err := redisAt(t, addr).Set(ctx, "kept", "across kill -9", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	pid := readPid(t, dir, "adopted", "0001")

	first.Kill9(t)
	if !processAlive(pid) {
		t.Fatalf("the engine (pid %d) died with the server", pid)
	}
	second := startServerProcess(t, bin, dir)
	c = client(t, second.Addr, engAccount, engRegion)
	poll(t, 30*time.Second, "the new server adopts pid "+strconv.Itoa(pid), func() (bool, string) {
		return second.adopted(pid), "not in its log yet"
	})
	if got := endpoint(t, waitAvailable(t, c, "adopted").CacheNodes[0]); got != addr {
		t.Errorf("endpoint after the restart = %s, want %s", got, addr)
	}
	if again := readPid(t, dir, "adopted", "0001"); again != pid {
		t.Errorf("pid file after adoption names %d, want the adopted %d", again, pid)
	}
	if procs := enginePids(engines); len(procs) != 1 || procs[pid] == "" {
		t.Errorf("engine processes after adoption: %v, want only pid %d", procs, pid)
	}
	if v, err := redisAt(t, addr).Get(ctx, "kept").Result(); err != nil || v != "across kill -9" {
		t.Errorf("GET after adoption = %q, %v", v, err)
	}

	if _, err := c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String("adopted")}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, c, "adopted")
	waitDead(t, pid, "the adopted engine")
	if _, err := os.Stat(nodeDir(dir, "adopted", "0001")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("node directory after the delete: %v, want it removed", err)
	}
}

// DeleteCacheCluster: deleting, then gone with its processes, its node
// directories and its tags.
func TestClusterEngineDelete(t *testing.T) {
	t.Parallel()
	requireEngines(t)
	dir := engineDataDir(t)
	srv := startEngineServer(t, dir)
	c := client(t, srv.Addr, engAccount, engRegion)
	ctx := t.Context()
	port := reservePort(t)

	r := redisCluster("doomed")
	r.Port, r.Tags = aws.Int32(port), []types.Tag{tag("team", "cache")}
	createCluster(t, c, r)
	m := memcachedCluster("doomed-mc", 2)
	m.Port = aws.Int32(port)
	createCluster(t, c, m)
	var addrs []string
	var pids []int
	for _, id := range []string{"doomed", "doomed-mc"} {
		for _, n := range waitAvailable(t, c, id).CacheNodes {
			addrs = append(addrs, endpoint(t, n))
			pids = append(pids, readPid(t, dir, id, aws.ToString(n.CacheNodeId)))
		}
	}
	arn := "arn:aws:elasticache:" + engRegion + ":" + engAccount + ":cluster:doomed"
	tags, err := c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(arn)})
	if err != nil || len(tags.TagList) != 1 {
		t.Fatalf("tags before the delete = %+v, %v", tags, err)
	}

	for _, id := range []string{"doomed", "doomed-mc"} {
		out, err := c.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String(id)})
		if err != nil || aws.ToString(out.CacheCluster.CacheClusterStatus) != "deleting" {
			t.Fatalf("delete %s = %+v, %v", id, out, err)
		}
	}
	waitGone(t, c, "doomed")
	waitGone(t, c, "doomed-mc")
	for i, pid := range pids {
		waitDead(t, pid, "the engine at "+addrs[i])
		wantRefused(t, addrs[i])
	}
	if left := enginePids(filepath.Join(dir, "engines")); len(left) != 0 {
		t.Errorf("engine processes after the delete: %v", left)
	}
	// The runner prunes the emptied account directory too.
	if _, err := os.Stat(filepath.Join(dir, "engines", engAccount)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the account's engine directory after deleting its clusters: %v, want it removed", err)
	}
	_, err = c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(arn)})
	wantErr[*types.CacheClusterNotFoundFault](t, err, clusterNotFound("doomed"))
	events := clusterEvents(t, c, "doomed")
	if len(events) == 0 || events[len(events)-1] != "Cache cluster deleted" {
		t.Errorf("events of the deleted cluster = %q, want the last one \"Cache cluster deleted\"", events)
	}
}

// --engines none: clusters become available, placed, with no process;
// an event says so and the endpoints refuse connections.
func TestClusterEngineNone(t *testing.T) {
	t.Parallel()
	dir := engineDataDir(t)
	srv := startEngineServer(t, dir, withNoEngines())
	c := client(t, srv.Addr, engAccount, engRegion)
	port := reservePort(t)

	r := redisCluster("paper")
	r.Port = aws.Int32(port)
	createCluster(t, c, r)
	m := memcachedCluster("paper-mc", 2)
	m.Port = aws.Int32(port)
	createCluster(t, c, m)
	for _, id := range []string{"paper", "paper-mc"} {
		cl := waitAvailable(t, c, id)
		var want []string
		for _, n := range cl.CacheNodes {
			want = append(want, added(aws.ToString(n.CacheNodeId), aws.ToString(n.CustomerAvailabilityZone)))
			if !isNodeAddress(aws.ToString(n.Endpoint.Address)) || aws.ToInt32(n.Endpoint.Port) != port {
				t.Errorf("%s node %s endpoint = %s", id, aws.ToString(n.CacheNodeId), endpoint(t, n))
			}
			wantRefused(t, endpoint(t, n))
		}
		waitEvents(t, c, id, append(want, "Cache cluster created",
			"No cache engine runs for this cluster: the server manages the control plane only (--engines none)")...)
	}
	if left := enginePids(filepath.Join(dir, "engines")); len(left) != 0 {
		t.Errorf("engine processes with --engines none: %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, "engines", engAccount)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("node directories with --engines none: %v, want none", err)
	}
}
