package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
)

// The cache cluster figures of issue 15, each against a reference taken
// in the same run:
//
//   - start: CreateCacheCluster → the first PONG at the endpoint
//     DescribeCacheClusters gives, against exec of a bare redis-server →
//     its first PONG, interleaved round by round;
//   - describe: DescribeCacheClusters with ShowCacheNodeInfo, by ID and a
//     page of 100, with 10, 100 and 1,000 clusters stored, in the
//     server's CPU time per request;
//   - memory: the server's RSS with 1,000 clusters against none, and each
//     idle engine's RSS against a bare one started alike.
//
// The describe and server-memory figures run on --engines none: the
// request path never touches an engine, and 1,000 real redis processes
// would take gigabytes of this machine's memory for nothing the figure
// measures.

// clustersResult is the report of one `elasticache-bench clusters` run.
type clustersResult struct {
	Kind  string `json:"kind"` // "clusters"
	Label string `json:"label,omitempty"`
	// Start latencies in milliseconds, one sample per round.
	BareStartMs    []float64 `json:"bare_start_ms"`
	ClusterStartMs []float64 `json:"cluster_start_ms"`
	StartRatio     float64   `json:"start_ratio"` // median cluster / median bare
	// Describe: server CPU µs per request and req/s, by stored count.
	Describe []describeFigure `json:"describe"`
	// Memory in KiB.
	ServerRSSEmptyKiB    int64 `json:"server_rss_empty_kib"`
	ServerRSSClustersKiB int64 `json:"server_rss_clusters_kib"`
	ServerClusters       int   `json:"server_clusters"`
	RedisBareKiB         int64 `json:"redis_bare_kib"`
	RedisNodeKiB         int64 `json:"redis_node_kib"`
	MemcachedBareKiB     int64 `json:"memcached_bare_kib"`
	MemcachedNodeKiB     int64 `json:"memcached_node_kib"`
}

// describeFigure is one describe measurement.
type describeFigure struct {
	Stored   int     `json:"stored"`
	Op       string  `json:"op"` // "by-id" or "page-100"
	Items    int     `json:"items"`
	ReqPerS  float64 `json:"req_per_s"`
	CPUusReq float64 `json:"server_cpu_us_per_req"`
}

func clustersCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("elasticache-bench clusters", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serverBin := fs.String("server", "", "the elasticache-server binary (required)")
	redisBin := fs.String("redis", "/usr/bin/redis-server", "the redis-server binary the server runs")
	memcachedBin := fs.String("memcached", "/usr/bin/memcached", "the memcached binary the server runs")
	rounds := fs.Int("rounds", 9, "start samples of each kind")
	stored := fs.String("stored", "10,100,1000", "comma-separated numbers of clusters stored for the describe figures (the last is also the memory figure's)")
	duration := fs.Duration("duration", 3*time.Second, "how long each describe figure is measured")
	conns := fs.Int("c", 4, "concurrent describe requests")
	label := fs.String("label", "", "copied into the JSON report")
	jsonOut := fs.Bool("json", false, "print the report as one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *serverBin == "" {
		return errors.New("clusters: -server is required")
	}
	var counts []int
	for _, f := range strings.Split(*stored, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("clusters: -stored: %q is not a positive number", f)
		}
		counts = append(counts, n)
	}
	res := &clustersResult{Kind: "clusters", Label: *label}
	if err := measureStarts(ctx, res, *serverBin, *redisBin, *memcachedBin, *rounds, stderr); err != nil {
		return err
	}
	if err := measureDescribes(ctx, res, *serverBin, counts, *duration, *conns, stderr); err != nil {
		return err
	}
	if *jsonOut {
		return json.NewEncoder(stdout).Encode(res)
	}
	printClusters(stdout, res)
	return nil
}

// benchServer is an elasticache-server process on a temporary data
// directory, stopped (and its directory removed) by stop.
type benchServer struct {
	cmd  *exec.Cmd
	dir  string
	addr string
	ec   *elasticache.Client
}

func startBenchServer(ctx context.Context, bin string, stderr io.Writer, extra ...string) (*benchServer, error) {
	dir, err := os.MkdirTemp("", "bench-clusters-")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{"--listen", addr, "--data-dir", dir, "--log-level", "warn",
		"--quota", "cacheClusters=100000", "--quota", "cacheNodes=100000"}, extra...)
	cmd := exec.Command(bin, args...)
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &benchServer{cmd: cmd, dir: dir, addr: addr}
	s.ec = elasticache.New(elasticache.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + addr),
		Credentials:  aws.AnonymousCredentials{},
		HTTPClient:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second},
	})
	if err := waitListening(ctx, addr, 20*time.Second, 10*time.Millisecond); err != nil {
		s.stop()
		return nil, fmt.Errorf("clusters: the server: %w", err)
	}
	return s, nil
}

// stop ends the server gracefully (it stops its engines) and removes its
// directory.
func (s *benchServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	_ = os.RemoveAll(s.dir)
}

// measureStarts times, round by round, a bare redis-server start and a
// CreateCacheCluster, each to its first PONG, and then the idle engines'
// memory.
func measureStarts(ctx context.Context, res *clustersResult, serverBin, redisBin, memcachedBin string, rounds int, stderr io.Writer) error {
	srv, err := startBenchServer(ctx, serverBin, stderr)
	if err != nil {
		return err
	}
	defer srv.stop()
	for i := range rounds {
		bare, err := bareRedisStart(ctx, redisBin)
		if err != nil {
			return err
		}
		id := fmt.Sprintf("start-%03d", i)
		d, err := clusterStart(ctx, srv, id)
		if err != nil {
			return err
		}
		res.BareStartMs = append(res.BareStartMs, ms(bare))
		res.ClusterStartMs = append(res.ClusterStartMs, ms(d))
		if _, err := srv.ec.DeleteCacheCluster(ctx, &elasticache.DeleteCacheClusterInput{CacheClusterId: aws.String(id)}); err != nil {
			return fmt.Errorf("clusters: delete %s: %w", id, err)
		}
		fmt.Fprintf(stderr, "start round %d: bare %.1f ms, cluster %.1f ms\n", i+1, ms(bare), ms(d))
	}
	res.StartRatio = medianOf(res.ClusterStartMs) / medianOf(res.BareStartMs)

	// Idle engines, each beside a bare one started alike.
	if _, err := clusterStart(ctx, srv, "rss-redis"); err != nil {
		return err
	}
	if res.RedisNodeKiB, err = nodeRSS(srv, "rss-redis"); err != nil {
		return err
	}
	if res.RedisBareKiB, err = bareRSS(ctx, redisBin, "--save", "", "--appendonly", "no"); err != nil {
		return err
	}
	if _, err := srv.ec.CreateCacheCluster(ctx, &elasticache.CreateCacheClusterInput{CacheClusterId: aws.String("rss-memcached"),
		Engine: aws.String("memcached"), CacheNodeType: aws.String("cache.t3.micro"), NumCacheNodes: aws.Int32(1)}); err != nil {
		return err
	}
	if _, err := waitAvailable(ctx, srv, "rss-memcached"); err != nil {
		return err
	}
	if res.MemcachedNodeKiB, err = nodeRSS(srv, "rss-memcached"); err != nil {
		return err
	}
	res.MemcachedBareKiB, err = bareRSS(ctx, memcachedBin, "-U", "0", "-u", currentUserName())
	return err
}

// bareRedisStart execs redis-server alone and times it to its first PONG.
func bareRedisStart(ctx context.Context, bin string) (time.Duration, error) {
	b, err := startBare(bin, "--save", "", "--appendonly", "no")
	if err != nil {
		return 0, err
	}
	defer b.stop()
	if err := waitPong(ctx, b.addr, 20*time.Second); err != nil {
		return 0, err
	}
	return time.Since(b.started), nil
}

// bareEngine is an engine started by hand, as the reference of a figure.
type bareEngine struct {
	cmd     *exec.Cmd
	addr    string
	started time.Time // when it was exec'd
	dir     string
}

// startBare execs bin (redis-server or memcached) with args on a free
// loopback port, in a temporary directory that stop removes.
func startBare(bin string, args ...string) (*bareEngine, error) {
	dir, err := os.MkdirTemp("", "bench-bare-")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	if filepath.Base(bin) == "memcached" {
		args = append([]string{"-l", host, "-p", port}, args...)
	} else {
		args = append([]string{"--bind", host, "--port", port, "--dir", dir}, args...)
	}
	b := &bareEngine{cmd: exec.Command(bin, args...), addr: addr, dir: dir}
	b.cmd.Dir = dir
	b.started = time.Now()
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return b, nil
}

func (b *bareEngine) stop() {
	_ = b.cmd.Process.Kill()
	_ = b.cmd.Wait()
	os.RemoveAll(b.dir)
}

// clusterStart creates a redis cluster and times it to the first PONG at
// the endpoint Describe gives, as a user polling both would see it.
func clusterStart(ctx context.Context, srv *benchServer, id string) (time.Duration, error) {
	start := time.Now()
	if _, err := srv.ec.CreateCacheCluster(ctx, &elasticache.CreateCacheClusterInput{CacheClusterId: aws.String(id),
		Engine: aws.String("redis"), CacheNodeType: aws.String("cache.t3.micro"), NumCacheNodes: aws.Int32(1)}); err != nil {
		return 0, fmt.Errorf("clusters: create %s: %w", id, err)
	}
	c, err := waitAvailable(ctx, srv, id)
	if err != nil {
		return 0, err
	}
	e := c.CacheNodes[0].Endpoint
	if err := waitPong(ctx, net.JoinHostPort(aws.ToString(e.Address), strconv.Itoa(int(aws.ToInt32(e.Port)))), 20*time.Second); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// waitAvailable polls DescribeCacheClusters every millisecond until the
// cluster is available with its nodes.
func waitAvailable(ctx context.Context, srv *benchServer, id string) (*types.CacheCluster, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		out, err := srv.ec.DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{CacheClusterId: aws.String(id), ShowCacheNodeInfo: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("clusters: describe %s: %w", id, err)
		}
		if c := out.CacheClusters[0]; aws.ToString(c.CacheClusterStatus) == "available" && len(c.CacheNodes) > 0 {
			return &c, nil
		}
		if st := aws.ToString(out.CacheClusters[0].CacheClusterStatus); st != "creating" {
			return nil, fmt.Errorf("clusters: %s is %s (see the server log in %s)", id, st, srv.dir)
		}
		time.Sleep(time.Millisecond)
	}
	return nil, fmt.Errorf("clusters: %s not available in 60 s", id)
}

// waitPong polls addr with PING until it answers +PONG.
func waitPong(ctx context.Context, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, err = c.Write([]byte("PING\r\n"))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil && rerr == nil && line == "+PONG\r\n" {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(200 * time.Microsecond)
	}
	return fmt.Errorf("clusters: no PONG at %s in %s", addr, limit)
}

// nodeRSS is the resident memory of node 0001 of cluster id, found by its
// pid file under the server's engine directory.
func nodeRSS(srv *benchServer, id string) (int64, error) {
	matches, err := filepath.Glob(filepath.Join(srv.dir, "engines", "*", "*", id, "0001", "pid"))
	if err != nil || len(matches) != 1 {
		return 0, fmt.Errorf("clusters: pid file of %s: %v (%d found)", id, err, len(matches))
	}
	b, err := os.ReadFile(matches[0])
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, err
	}
	return rssKiB(pid)
}

// bareRSS starts bin with args alone, waits until it listens, and reads
// its resident memory.
func bareRSS(ctx context.Context, bin string, args ...string) (int64, error) {
	b, err := startBare(bin, args...)
	if err != nil {
		return 0, err
	}
	defer b.stop()
	if err := waitListening(ctx, b.addr, 20*time.Second, time.Millisecond); err != nil {
		return 0, fmt.Errorf("clusters: %s: %w", bin, err)
	}
	return rssKiB(b.cmd.Process.Pid)
}

// rssKiB reads VmRSS of a process.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func currentUserName() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "root"
}

// measureDescribes stores each count of clusters in a server on --engines
// none and measures DescribeCacheClusters by ID and a page of 100 on it.
func measureDescribes(ctx context.Context, res *clustersResult, serverBin string, counts []int, d time.Duration, conns int, stderr io.Writer) error {
	for i, n := range counts {
		srv, err := startBenchServer(ctx, serverBin, stderr, "--engines", "none")
		if err != nil {
			return err
		}
		if i == len(counts)-1 {
			if res.ServerRSSEmptyKiB, err = rssKiB(srv.cmd.Process.Pid); err != nil {
				srv.stop()
				return err
			}
		}
		if err := seedClusters(ctx, srv, n); err != nil {
			srv.stop()
			return err
		}
		for _, op := range []string{"by-id", "page-100"} {
			f, err := describeLoad(ctx, srv, n, op, d, conns)
			if err != nil {
				srv.stop()
				return err
			}
			res.Describe = append(res.Describe, f)
			fmt.Fprintf(stderr, "describe %s with %d stored: %.0f req/s, %.1f µs server CPU per request\n", op, n, f.ReqPerS, f.CPUusReq)
		}
		if i == len(counts)-1 {
			res.ServerClusters = n
			if res.ServerRSSClustersKiB, err = rssKiB(srv.cmd.Process.Pid); err != nil {
				srv.stop()
				return err
			}
		}
		srv.stop()
	}
	return nil
}

func clusterName(i int) string { return fmt.Sprintf("bench-%06d", i) }

// seedClusters creates n redis clusters, 8 at a time, and waits until the
// last is available.
func seedClusters(ctx context.Context, srv *benchServer, n int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if _, err := srv.ec.CreateCacheCluster(ctx, &elasticache.CreateCacheClusterInput{CacheClusterId: aws.String(clusterName(i)),
					Engine: aws.String("redis"), CacheNodeType: aws.String("cache.t3.micro")}); err != nil {
					errs <- fmt.Errorf("clusters: seed %s: %w", clusterName(i), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	_, err := waitAvailable(ctx, srv, clusterName(n-1))
	return err
}

// describeLoad runs conns closed-loop workers of one describe for d, on
// the generator's own keep-alive connections (the SDK's client would
// spend more of the two cores than the server does), and reports the
// rate and the server's CPU per request.
func describeLoad(ctx context.Context, srv *benchServer, stored int, op string, d time.Duration, conns int) (describeFigure, error) {
	f := describeFigure{Stored: stored, Op: op}
	signer, err := newRequestSigner(false, false)
	if err != nil {
		return f, err
	}
	request := func(i int) ([]byte, error) {
		body := newForm("DescribeCacheClusters").add("ShowCacheNodeInfo", "true")
		if op == "by-id" {
			body = body.add("CacheClusterId", clusterName(i%stored))
		} else {
			body = body.add("MaxRecords", "100")
		}
		return signer.request(nil, srv.addr, "", body)
	}
	out, err := srv.ec.DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{ShowCacheNodeInfo: aws.Bool(true), MaxRecords: aws.Int32(100)})
	if err != nil {
		return f, err
	}
	f.Items = 1
	if op != "by-id" {
		f.Items = len(out.CacheClusters)
	}
	reqs := make([][]byte, min(stored, 1000))
	for i := range reqs {
		if reqs[i], err = request(i); err != nil {
			return f, err
		}
	}
	pid := srv.cmd.Process.Pid
	cpu0, err := processCPU(pid)
	if err != nil {
		return f, err
	}
	start := time.Now()
	var done atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialConn(srv.addr)
			if err != nil {
				failed.Store(err)
				return
			}
			defer c.close()
			for i := w; time.Since(start) < d; i += conns {
				status, _, err := c.do(reqs[i%len(reqs)], time.Now().Add(30*time.Second))
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("clusters: describe answered %d", status)
				}
				if err != nil {
					failed.Store(err)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, err := processCPU(pid)
	if err != nil {
		return f, err
	}
	if e, ok := failed.Load().(error); ok {
		return f, e
	}
	n := done.Load()
	f.ReqPerS = float64(n) / elapsed.Seconds()
	f.CPUusReq = float64((cpu1 - cpu0).Microseconds()) / float64(n)
	return f, nil
}

func printClusters(w io.Writer, r *clustersResult) {
	fmt.Fprintf(w, "start to first PONG (median of %d): bare redis-server %.1f ms, CreateCacheCluster %.1f ms: %.2f×\n",
		len(r.BareStartMs), medianOf(r.BareStartMs), medianOf(r.ClusterStartMs), r.StartRatio)
	fmt.Fprintf(w, "%-9s %-9s %6s %10s %16s\n", "stored", "op", "items", "req/s", "server µs/req")
	for _, f := range r.Describe {
		fmt.Fprintf(w, "%-9d %-9s %6d %10.0f %16.1f\n", f.Stored, f.Op, f.Items, f.ReqPerS, f.CPUusReq)
	}
	fmt.Fprintf(w, "server RSS: %d KiB empty, %d KiB with %d clusters (--engines none)\n", r.ServerRSSEmptyKiB, r.ServerRSSClustersKiB, r.ServerClusters)
	fmt.Fprintf(w, "idle engine RSS: redis node %d KiB (bare %d KiB), memcached node %d KiB (bare %d KiB)\n",
		r.RedisNodeKiB, r.RedisBareKiB, r.MemcachedNodeKiB, r.MemcachedBareKiB)
}
