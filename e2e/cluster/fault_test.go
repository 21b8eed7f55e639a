package cluster

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
)

// TestBoltKill9 kills the real binary with SIGKILL in the middle of a
// create load: after a restart on the same data directory every create
// that was answered 200 is there, and the file passes bbolt's consistency
// check. Creates in flight at the kill have an unknown outcome; they are
// counted apart.
func TestBoltKill9(t *testing.T) {
	t.Parallel()
	bin := buildServer(t)
	dir := t.TempDir()
	first := startBinary(t, bin, dir)

	l := newLoad(t, []string{first.addr}, 10*time.Second, 3000)
	l.setPhase("before kill -9")
	l.start(6)
	l.waitAnswered("load before the kill", 150, 60*time.Second)
	first.kill9(t)
	l.setPhase("after kill -9")
	l.stopAndWait()

	db, err := bbolt.Open(filepath.Join(dir, "elasticache.db"), 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("open the data file after kill -9: %v", err)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if cerr := db.Close(); cerr != nil {
		t.Errorf("close the data file: %v", cerr)
	}
	if err != nil {
		t.Fatalf("bbolt consistency check after kill -9: %v", err)
	}

	second := startBinary(t, bin, dir)
	c := l.check(t, func(account string) []string {
		return listNames(t, newClient(t, second.addr, account, 30*time.Second))
	})
	t.Logf("bbolt, kill -9 under load (6 workers):\n%s  %s", l.summary(), c)
	if c.answered < 150 {
		t.Errorf("only %d creates answered before the kill, want at least 150", c.answered)
	}
}

// TestEtcdMemberFaults runs a create load through two servers on a
// three-member cluster while members fail: the leader is killed and later
// restarted, then two members are down at once, then quorum returns. No
// create answered 200 may be lost; every request is answered 200 or 503
// within a bound (no request hangs); with two members down requests fail
// fast; once quorum returns they succeed again.
func TestEtcdMemberFaults(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 3)
	const requestTimeout = 3 * time.Second
	// A create makes two reads and a commit, each bounded by the request
	// timeout; the rest is slack for a loaded machine.
	const bound = 3*requestTimeout + 2*time.Second
	var addrs []string
	for _, name := range []string{"A", "B"} {
		cfg := etcdConfig(t, c, "/faults/")
		cfg.EtcdRequestTimeout = requestTimeout
		cfg.QuotaCacheSecurityGroups = 100000
		addrs = append(addrs, startMain(t, name, cfg).Addr())
	}
	l := newLoad(t, addrs, 2*bound, 4000)

	l.setPhase("3 members")
	l.start(6)
	l.waitAnswered("load on 3 members", 60, 30*time.Second)

	leader := c.Leader(t, 10*time.Second)
	c.Members[leader].Kill(t)
	l.setPhase("leader killed, 2 members")
	l.waitAnswered("load with the leader killed", 60, 30*time.Second)

	c.Members[leader].Restart(t)
	c.WaitHealthy(t, 30*time.Second)
	l.setPhase("member restarted, 3 members")
	l.waitAnswered("load after the restart", 60, 30*time.Second)
	l.stopAndWait()

	// Two members down: no quorum. Once the survivor has noticed (an
	// election timeout), requests fail fast with 503, without waiting
	// for the request timeout.
	down := []int{(leader + 1) % 3, (leader + 2) % 3}
	for _, i := range down {
		c.Members[i].Kill(t)
	}
	l.setPhase("2 members down")
	const fast = time.Second
	probe := 0
	next := func() record {
		t.Helper()
		r, ok := l.send(probeAccount, fmt.Sprintf("probe-%04d", probe), probe%2)
		probe++
		if !ok {
			t.Fatalf("request budget spent\n%s", l.summary())
		}
		return r
	}
	// Until then (and in a moment right after the kills, when a request
	// can fail fast on a connection just closed and its retry then wait
	// on the survivor), a request may wait for its timeout: settled is
	// three fast answers in a row.
	deadline := time.Now().Add(30 * time.Second)
	for inARow := 0; inARow < 3; {
		r := next()
		if r.outcome != answeredUnavailable {
			t.Fatalf("create with 2 of 3 members down: %s (%s) after %s, want 503", r.outcome, r.code, r.took)
		}
		if r.took < fast {
			inARow++
		} else {
			inARow = 0
		}
		if time.Now().After(deadline) {
			t.Fatalf("with 2 of 3 members down, requests still take %s to fail after 30s", r.took)
		}
	}
	// Settled, they fail fast. A loaded machine can still stall a member
	// for a second or two (etcd then warns of heartbeats sent late), so
	// one request may wait for its timeout; the median must be fast and
	// every request answered 503 within the bound.
	var fails []time.Duration
	for range 20 {
		r := next()
		if r.outcome != answeredUnavailable || r.took > bound {
			t.Errorf("create with 2 of 3 members down: %s (%s) after %s, want 503 within %s", r.outcome, r.code, r.took, bound)
		}
		fails = append(fails, r.took)
	}
	slices.Sort(fails)
	median, slowest := fails[len(fails)/2], fails[len(fails)-1]
	if median >= fast {
		t.Errorf("with 2 of 3 members down, creates fail with 503 in %s (median), want under %s", median, fast)
	}
	t.Logf("with 2 of 3 members down, 20 creates failed with 503 in %s (median) to %s (slowest)",
		median.Round(time.Millisecond), slowest.Round(time.Millisecond))

	// Quorum returns with one of them: requests succeed again.
	c.Members[down[0]].Restart(t)
	l.setPhase("quorum back, 2 members")
	deadline = time.Now().Add(30 * time.Second)
	for {
		r := next()
		if r.outcome == answeredOK {
			break
		}
		if r.outcome != answeredUnavailable {
			t.Fatalf("create while quorum returns: %s (%s), want 200 or 503", r.outcome, r.code)
		}
		if time.Now().After(deadline) {
			t.Fatalf("creates still fail 30s after quorum returned: %s", r.code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 20 {
		if r := next(); r.outcome != answeredOK {
			t.Errorf("create after quorum returned: %s (%s) after %s, want 200", r.outcome, r.code, r.took)
		}
	}

	c.Members[down[1]].Restart(t)
	c.WaitHealthy(t, 30*time.Second)

	// Every request was answered within the bound: none hung.
	l.mu.Lock()
	for _, r := range l.records {
		switch {
		case r.outcome == unknown || r.outcome == refused:
			t.Errorf("%s/%s (phase %s): no answer (%s) after %s: the servers must answer every request", r.account, r.name, r.phase, r.outcome, r.took)
		case r.outcome == answeredOther:
			t.Errorf("%s/%s (phase %s): answered %s, want 200 or 503", r.account, r.name, r.phase, r.code)
		case r.took > bound:
			t.Errorf("%s/%s (phase %s): answered %s after %s, more than %s", r.account, r.name, r.phase, r.outcome, r.took, bound)
		}
	}
	l.mu.Unlock()

	// What both servers see afterwards, and the same thing.
	ca := make([]func(string) []string, 2)
	for i, addr := range addrs {
		ca[i] = func(account string) []string {
			return listNames(t, newClient(t, addr, account, 30*time.Second))
		}
	}
	tallyA := l.check(t, ca[0])
	tallyB := l.check(t, ca[1])
	if tallyA != tallyB {
		t.Errorf("servers A and B see different states:\n  A: %s\n  B: %s", tallyA, tallyB)
	}
	t.Logf("etcd, 3 members, 2 servers, 6 workers then probes:\n%s  %s", l.summary(), tallyA)
}

// buildServer builds ./cmd/elasticache-server, the one binary of every
// store, into a temp dir, from the module root two levels up.
func buildServer(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	bin := filepath.Join(t.TempDir(), "elasticache-server")
	build := exec.Command("go", "build", "-o", bin, "./cmd/elasticache-server")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/elasticache-server: %v\n%s", err, b)
	}
	return bin
}

// process is the server binary running.
type process struct {
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
	log    *syncBuffer
}

// startBinary runs the server binary on dataDir and a free loopback port,
// and waits for its start-up log line. It is killed when t ends.
func startBinary(t *testing.T, bin, dataDir string) *process {
	t.Helper()
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--data-dir", dataDir,
		"--quota-cache-security-groups", "100000", "--log-format", "json")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ELASTICACHE_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{}), log: &syncBuffer{}}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	addrs := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Bytes()
			p.log.Write(append(line, '\n'))
			var entry struct{ Msg, Addr string }
			if json.Unmarshal(line, &entry) == nil && entry.Msg == "elasticache-server started" {
				select {
				case addrs <- entry.Addr:
				default:
				}
			}
		}
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("server binary log, last lines:\n%s", tail(p.log.String(), 20))
		}
	})
	select {
	case p.addr = <-addrs:
		return p
	case <-p.exited:
		t.Fatalf("server exited at start:\n%s", p.log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not log its start within 30s:\n%s", p.log.String())
	}
	return nil
}

// kill9 ends the server with SIGKILL and waits for it.
func (p *process) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("server still running 10s after SIGKILL")
	}
}
