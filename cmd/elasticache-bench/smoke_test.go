package main

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/internal/benchworkload"
	"github.com/elasticache-server/elasticache-server/server"
)

// startServer runs elasticache-server in-process on a free loopback port.
func startServer(t *testing.T) string {
	t.Helper()
	m := server.NewMain(server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), DefaultAccount: benchworkload.DefaultAccount, DefaultRegion: benchworkload.Region,
		QuotaCacheSecurityGroups: 1 << 30, Quotas: map[string]int{"cacheSubnetGroups": 1 << 30}, EventSweepInterval: time.Hour,
	}, slog.New(slog.DiscardHandler))
	if err := m.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return m.Addr()
}

// buildBaseline builds cmd/elasticache-baseline into dir: it is its own
// binary, so that its start-up is a minimal Go server's.
func buildBaseline(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "elasticache-baseline")
	out, err := exec.Command("go", "build", "-o", bin, "../elasticache-baseline").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ../elasticache-baseline: %v\n%s", err, out)
	}
	return bin
}

// startBaseline runs the baseline binary on a free loopback port; with
// fsync, it also puts every write in a bbolt file.
func startBaseline(t *testing.T, bin string, fsync bool) string {
	t.Helper()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-listen", addr}
	if fsync {
		args = append(args, "-data-dir", t.TempDir())
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("baseline not listening on %s: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func load(t *testing.T, addr, spec string, extra func(*runConfig)) *result {
	t.Helper()
	m, err := parseMix(spec)
	if err != nil {
		t.Fatal(err)
	}
	cfg := runConfig{Addr: addr, Conns: 4, Mix: m, Groups: 100, Seed: true, Timeout: 5 * time.Second, Subnets: benchworkload.SubnetIDs}
	if extra != nil {
		extra(&cfg)
	}
	// The smoke run checks answers, not speed: a request that ends after
	// the window is not counted, and one fsync can take longer than 150 ms
	// on a busy machine with the race detector, so a window in which
	// nothing finished is tried again, longer, before anything fails.
	var res *result
	for _, d := range []time.Duration{150 * time.Millisecond, 600 * time.Millisecond, 2400 * time.Millisecond} {
		cfg.Duration = d
		var err error
		if res, err = runLoad(t.Context(), cfg, nil); err != nil {
			t.Fatal(err)
		}
		if len(res.Total.Errors) > 0 {
			t.Fatalf("%s against %s: %d answered, errors %v", spec, addr, res.Total.OK, res.Total.Errors)
		}
		if res.Total.OK > 0 {
			return res
		}
		t.Logf("%s against %s: nothing answered within %s; trying a longer window", spec, addr, d)
	}
	t.Fatalf("%s against %s: nothing answered within 2.4 s", spec, addr)
	return nil
}

// TestSmoke drives every operation, the mix and the signed mode against
// elasticache-server and the baselines for a moment each (about 2 seconds
// in all, after building the baseline), and checks that every request is answered without error and
// that the baseline's answers are the size of the server's: otherwise the
// ratios of scripts/bench.sh compare different work.
func TestSmoke(t *testing.T) {
	srv := startServer(t)
	bin := buildBaseline(t, t.TempDir())
	base := startBaseline(t, bin, false)
	fsync := startBaseline(t, bin, true)
	for o := range baselineOps {
		name := op(o).String()
		t.Run(name, func(t *testing.T) {
			got := load(t, srv, name, nil)
			want := load(t, base, name, nil)
			for op, r := range got.Ops {
				if b := want.Ops[op].MeanBytes; math.Abs(r.MeanBytes-b) > 1 {
					t.Errorf("%s: server answers %.1f bytes on average, the baseline %.1f", op, r.MeanBytes, b)
				}
			}
		})
	}
	t.Run("mix-sigv4-accounts", func(t *testing.T) {
		signed := func(c *runConfig) { c.SigV4, c.Accounts = true, 3 }
		load(t, srv, "create=2,describe-by-name=5,describe-page=1,delete=1,tag-add=1,tag-list=1", signed)
		load(t, base, "create=1,describe-by-name=1", signed)
	})
	t.Run("fsync-baseline", func(t *testing.T) {
		load(t, fsync, "create", nil)
	})
	t.Run("server-cpu", func(t *testing.T) {
		// The server runs in this process.
		res := load(t, srv, "describe-by-name", func(c *runConfig) { c.ServerPID = os.Getpid() })
		if res.ServerCPUus <= 0 {
			t.Errorf("no CPU time per request: %+v", res)
		}
	})
	// The subnet-group operations have no baseline (scripts/bench.sh
	// compares them with moto): they run against the server, unsigned and
	// as scripts/bench.sh --moto sends them, with a credential.
	for _, spec := range []string{"create-subnet-group", "describe-subnet-group", "create-subnet-group=1,describe-subnet-group=3"} {
		t.Run(spec, func(t *testing.T) {
			res := load(t, srv, spec, nil)
			for op, r := range res.Ops {
				if r.MeanBytes < 500 {
					t.Errorf("%s: answers of %.0f bytes on average: no subnet group in them", op, r.MeanBytes)
				}
			}
			load(t, srv, spec, func(c *runConfig) { c.Accounts = 1 })
		})
	}
	t.Run("subnet-group-answer", func(t *testing.T) {
		// A seeded group is answered by name, with the generator's subnets
		// (in an account the runs before did not seed).
		subnets := []string{"subnet-0123456789abcdef0", "subnet-0123456789abcdef1"}
		load(t, srv, "describe-subnet-group", func(c *runConfig) { c.Subnets, c.Accounts = subnets, 3 })
		c, err := dialConn(srv)
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		signer, _ := newRequestSigner(false, true)
		req, err := signer.request(nil, srv, accountID(2), describeSubnetGroupBody(benchworkload.SeedName(7)))
		if err != nil {
			t.Fatal(err)
		}
		status, body, err := c.do(req, time.Now().Add(5*time.Second))
		if err != nil || status != 200 {
			t.Fatalf("DescribeCacheSubnetGroups: %d %v\n%s", status, err, body)
		}
		for _, want := range []string{"<CacheSubnetGroupName>" + benchworkload.SeedName(7) + "<", subnets[0], subnets[1], benchworkload.SeedDescription} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("the answer lacks %q:\n%s", want, body)
			}
		}
	})
}

func TestHistogramQuantiles(t *testing.T) {
	t.Parallel()
	var h histogram
	for i := 1; i <= 10000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.99, 9900 * time.Microsecond}, {0.999, 9990 * time.Microsecond}, {1, 10 * time.Millisecond}} {
		got := h.quantile(c.q)
		if d := math.Abs(float64(got-c.want)) / float64(c.want); d > 1.0/64 {
			t.Errorf("quantile(%v) = %v, want %v within 1/64", c.q, got, c.want)
		}
	}
	for v := uint64(0); v < 1<<20; v += 7 {
		if b := bucketOf(v); lowerBound(b) > v || lowerBound(b+1) <= v {
			t.Fatalf("value %d in bucket %d = [%d, %d)", v, b, lowerBound(b), lowerBound(b+1))
		}
	}
}

func TestParseMix(t *testing.T) {
	t.Parallel()
	m, err := parseMix("create=2,describe=5,page=1")
	if err != nil || m[opCreate] != 2 || m[opDescribe] != 5 || m[opPage] != 1 || m.total() != 8 {
		t.Fatalf("parseMix = %v, %v", m, err)
	}
	if m, err := parseMix("create-subnet-group=1,describe-subnet-group=2"); err != nil || m[opSubnetCreate] != 1 || m[opSubnetDescribe] != 2 || !m.readsSeeds() {
		t.Fatalf("parseMix of the subnet-group operations = %v, %v", m, err)
	}
	for _, bad := range []string{"", "nope", "create=x", "create=-1", "create=0"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("parseMix(%q) accepted", bad)
		}
	}
	if err := checkLoopback("10.0.0.1:80"); err == nil {
		t.Error("a private address was accepted as a target")
	}
}

func TestComparison(t *testing.T) {
	t.Parallel()
	run := func(label string, round int, rps, p50 float64) record {
		return record{Kind: "run", Label: label, Round: round, Op: "create", Total: opResult{RPS: rps, P50ms: p50, P99ms: 2 * p50}}
	}
	recs := []record{run("old", 1, 100, 1), run("new", 1, 90, 1.1), run("new", 2, 120, 1), run("old", 2, 100, 1),
		run("old", 3, 100, 1), run("new", 3, 95, 1), run("new", 4, 500, 1)} // round 4 has no old: left out
	recs[0].CPUus, recs[1].CPUus = 20, 25
	var b strings.Builder
	printComparison(&b, recs, "new", "old")
	out := b.String()
	for _, want := range []string{"create", " 3 ", "0.950", "0.90 1.20 0.95", "20.0/25.0 (1.250; 1.25)"} {
		if !strings.Contains(out, want) {
			t.Errorf("comparison lacks %q:\n%s", want, out)
		}
	}
}
