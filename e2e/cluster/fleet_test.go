package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/redis/go-redis/v9"

	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
	"github.com/elasticache-server/elasticache-server/server"
)

// fleetServer is a server.Main that a test stops and starts again on the
// same engine directory and server ID.
type fleetServer struct {
	name string
	cfg  server.Config
	m    *server.Main
	logs *syncBuffer
	stop func() error
}

// startFleetServer starts a server on cfg; it is stopped when tb ends,
// unless the test stopped it, and its log shown if tb failed.
func startFleetServer(tb testing.TB, name string, cfg server.Config) *fleetServer {
	tb.Helper()
	s := &fleetServer{name: name, cfg: cfg, logs: &syncBuffer{}}
	s.m = server.NewMain(cfg, cfg.NewLogger(s.logs))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.m.Open(ctx); err != nil {
		tb.Fatalf("open server %s: %v\nlog:\n%s", name, err, s.logs.String())
	}
	s.stop = sync.OnceValue(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return s.m.Close(ctx)
	})
	tb.Cleanup(func() {
		if err := s.stop(); err != nil {
			tb.Errorf("close server %s: %v", name, err)
		}
		if tb.Failed() {
			tb.Logf("server %s log, last lines:\n%s", name, tail(s.logs.String(), 40))
		}
	})
	return s
}

// killEnginesUnder kills every engine process that a pid file under dir
// names and that runs in that file's directory: what a failed test
// leaves behind ends with it.
func killEnginesUnder(tb testing.TB, dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "pid" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			return nil
		}
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && cwd == filepath.Dir(p) {
			tb.Logf("killing engine %d left in %s", pid, cwd)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		return nil
	})
}

// nodeDirs lists the node directories (those with a node.json) under dir.
func nodeDirs(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "node.json" {
			rel, _ := filepath.Rel(dir, filepath.Dir(p))
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	return out
}

// poll calls cond until it holds, failing tb after within.
func poll(tb testing.TB, within time.Duration, what string, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s (last: %s)", what, within, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// nodeEndpoint describes the cluster and returns its status and its one
// node's endpoint ("" while it has none).
func nodeEndpoint(ctx context.Context, c *elasticache.Client, id string) (status, endpoint string, err error) {
	out, err := c.DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{
		CacheClusterId: aws.String(id), ShowCacheNodeInfo: aws.Bool(true),
	})
	if err != nil {
		return "", "", err
	}
	cl := out.CacheClusters[0]
	if len(cl.CacheNodes) == 1 && cl.CacheNodes[0].Endpoint != nil {
		ep := cl.CacheNodes[0].Endpoint
		endpoint = net.JoinHostPort(aws.ToString(ep.Address), strconv.Itoa(int(aws.ToInt32(ep.Port))))
	}
	return aws.ToString(cl.CacheClusterStatus), endpoint, nil
}

func redisAt(tb testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, MaxRetries: -1})
	tb.Cleanup(func() { c.Close() })
	return c
}

// TestFleetTakeoverBetweenServers: two servers with their own engine
// directories on a three-member etcd. A cluster created through server A
// runs on the server that placed it (the owner, whichever reconciler got
// to it first); the owner stops, its lease lapses, and the other takes the
// node over on a new address with fresh data, saying so in the cluster's
// events; the owner started again runs nothing of it and removes what it
// kept; deleting the cluster leaves no engine anywhere.
func TestFleetTakeoverBetweenServers(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if _, err2 := os.Stat("/usr/bin/redis-server"); err2 != nil {
			t.Fatalf("redis-server is needed (scripts/install-engines.sh installs it): %v", err)
		}
	}
	etcd := etcdtest.StartCluster(t, 3)
	dirs := map[string]string{"A": t.TempDir(), "B": t.TempDir()}
	t.Cleanup(func() {
		for _, d := range dirs {
			killEnginesUnder(t, d)
		}
	})
	config := func(name string) server.Config {
		cfg := etcdConfig(t, etcd, "/fleet-takeover/")
		cfg.EngineDir = dirs[name]
		cfg.ServerID = "fleet-" + strings.ToLower(name)
		cfg.LeaseTTL = time.Second
		cfg.ReconcileInterval = 200 * time.Millisecond
		return cfg
	}
	a := startFleetServer(t, "A", config("A"))
	b := startFleetServer(t, "B", config("B"))
	const account, id = "444444444444", "fleet-1"
	ca := newClient(t, a.m.Addr(), account, 30*time.Second)
	cb := newClient(t, b.m.Addr(), account, 30*time.Second)
	ctx := t.Context()

	// A port of its own, so that engines of tests running beside this one
	// on the host's loopback cannot collide with its nodes.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if _, err := ca.CreateCacheCluster(ctx, &elasticache.CreateCacheClusterInput{
		CacheClusterId: aws.String(id), Engine: aws.String("redis"), CacheNodeType: aws.String("cache.t3.micro"),
		NumCacheNodes: aws.Int32(1), Port: aws.Int32(int32(port)),
	}); err != nil {
		t.Fatal(err)
	}
	var oldEP string
	poll(t, 20*time.Second, "the cluster available through A", func() (bool, string) {
		st, ep, err := nodeEndpoint(ctx, ca, id)
		oldEP = ep
		return err == nil && st == "available" && ep != "", fmt.Sprintf("%s %s %v", st, ep, err)
	})
	// Whichever server's reconciler reached the new cluster first placed
	// it on itself (the work index is shared): that is the owner, the
	// other one takes the node over.
	nodeKey := account + "/us-east-1/" + id + "/0001"
	servers := map[string]*fleetServer{"A": a, "B": b}
	owner, other := "A", "B"
	if got := nodeDirs(t, dirs["B"]); slices.Equal(got, []string{nodeKey}) {
		owner, other = "B", "A"
	}
	if got := nodeDirs(t, dirs[owner]); !slices.Equal(got, []string{nodeKey}) {
		t.Fatalf("%s's engine dir holds %q, want the node %s", owner, got, nodeKey)
	}
	if got := nodeDirs(t, dirs[other]); len(got) != 0 {
		t.Fatalf("%s's engine dir holds %q, want nothing: the node is %s's", other, got, owner)
	}
	a, b = servers[owner], servers[other]
	ca, cb = newClient(t, a.m.Addr(), account, 30*time.Second), newClient(t, b.m.Addr(), account, 30*time.Second)
	old := redisAt(t, oldEP)
	if err := old.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING %s on %s: %v", oldEP, owner, err)
	}
	if err := old.Set(ctx, "before", "takeover", 0).Err(); err != nil {
		t.Fatal(err)
	}

	// The owner stops: no more renewals, its engines stopped with their data.
	if err := a.stop(); err != nil {
		t.Fatalf("stop A: %v", err)
	}
	stopped := time.Now()
	if err := old.Ping(ctx).Err(); err == nil {
		t.Fatalf("%s still answers after %s stopped", oldEP, owner)
	}
	var newEP string
	poll(t, 15*time.Second, other+" serving the node taken over", func() (bool, string) {
		st, ep, err := nodeEndpoint(ctx, cb, id)
		if err != nil || st != "available" || ep == "" || ep == oldEP {
			return false, fmt.Sprintf("%s %s %v", st, ep, err)
		}
		newEP = ep
		return redisAt(t, ep).Ping(ctx).Err() == nil, "PING " + ep
	})
	t.Logf("%s took the node over %s after %s stopped: %s → %s", other, time.Since(stopped).Round(10*time.Millisecond), owner, oldEP, newEP)
	fresh := redisAt(t, newEP)
	if v, err := fresh.Get(ctx, "before").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET on the node taken over = %q, %v; want nothing: a replaced node starts empty", v, err)
	}
	if got := nodeDirs(t, dirs[other]); !slices.Equal(got, []string{nodeKey}) {
		t.Fatalf("%s's engine dir holds %q, want the node", other, got)
	}
	ev, err := cb.DescribeEvents(ctx, &elasticache.DescribeEventsInput{SourceIdentifier: aws.String(id), SourceType: types.SourceTypeCacheCluster})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range ev.Events {
		msgs = append(msgs, aws.ToString(e.Message))
	}
	// Newest first, as AWS lists them.
	if len(msgs) < 2 || msgs[0] != "Finished recovery for cache nodes 0001" || msgs[1] != "Recovering cache nodes 0001" {
		t.Fatalf("events = %q, want the recovery of node 0001 last", msgs)
	}

	// A started again on its engine directory: the node is B's now, so A
	// removes what it kept of it and runs nothing.
	a = startFleetServer(t, owner+" again", config(owner))
	poll(t, 10*time.Second, owner+" dropping its stale node", func() (bool, string) {
		got := nodeDirs(t, dirs[owner])
		return len(got) == 0, fmt.Sprint(got)
	})
	if err := old.Ping(ctx).Err(); err == nil {
		t.Fatalf("A runs the node again at %s", oldEP)
	}
	ca = newClient(t, a.m.Addr(), account, 30*time.Second)
	if _, ep, err := nodeEndpoint(ctx, ca, id); err != nil || ep != newEP {
		t.Fatalf("through A, the node is at %s (%v), want B's %s", ep, err, newEP)
	}
	if err := fresh.Ping(ctx).Err(); err != nil {
		t.Fatalf("B's node stopped answering when A came back: %v", err)
	}

	// Deleting the cluster (through A: any server takes requests) leaves
	// no engine on either server.
	if _, err := ca.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	poll(t, 15*time.Second, "the cluster deleted", func() (bool, string) {
		_, _, err := nodeEndpoint(ctx, cb, id)
		return errors.As(err, new(*types.CacheClusterNotFoundFault)), fmt.Sprint(err)
	})
	for name, d := range dirs {
		if got := nodeDirs(t, d); len(got) != 0 {
			t.Fatalf("%s's engine dir still holds %q", name, got)
		}
	}
	if err := fresh.Ping(ctx).Err(); err == nil {
		t.Fatalf("%s still answers after the delete", newEP)
	}
}
