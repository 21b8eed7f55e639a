package cluster

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
	"github.com/elasticache-server/elasticache-server/internal/serverproc"
)

// TestBoltKill9 kills the real binary with SIGKILL in the middle of a
// create load: after a restart on the same data directory every create
// that was answered 200 is there, and the file passes bbolt's consistency
// check. Creates in flight at the kill have an unknown outcome; they are
// counted apart.
func TestBoltKill9(t *testing.T) {
	t.Parallel()
	bin := serverproc.Build(t, "elasticache-server")
	dir := t.TempDir()
	first := serverproc.Start(t, bin, "--data-dir", dir, "--quota-cache-security-groups", "100000")

	l := newLoad(t, []string{first.Addr}, 10*time.Second, 3000)
	l.setPhase("before kill -9")
	l.start(6)
	l.waitAnswered("load before the kill", 150, 60*time.Second)
	first.Kill9(t)
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

	second := serverproc.Start(t, bin, "--data-dir", dir, "--quota-cache-security-groups", "100000")
	c := l.check(t, func(account string) []string {
		return listNames(t, newClient(t, second.Addr, account, 30*time.Second))
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
