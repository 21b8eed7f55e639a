package engine

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
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// On Linux every 127.0.0.0/8 address is local: a node binds 127.5.0.9
// without any configuration, and answers there.
func TestLoopbackAddressBindsWithoutConfiguration(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	ln, err := net.Listen("tcp", "127.5.0.9:0")
	if err != nil {
		t.Fatalf("127.5.0.9 is not bindable: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := Spec{Key: "123456789012/us-east-1/loopback/0001", Engine: "redis", Address: "127.5.0.9", Port: port}
	mustEnsure(t, r, s)
	if v, err := redisCmd(t, s, "PING"); err != nil || v != "PONG" {
		t.Fatalf("PING on 127.5.0.9 = %v, %v", v, err)
	}
	// Bound to that address only: 127.0.0.1 on the same port has nobody.
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
		c.Close()
		t.Fatalf("the node also answers on 127.0.0.1:%d", port)
	}
}

func TestRedisStartsWithParams(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	s := spec(t, "redis", "123456789012/us-east-1/params/0001")
	s.MaxMemory = 100 << 20
	s.Params = map[string]string{
		"maxmemory-policy":       "allkeys-lru",
		"timeout":                "300",
		"databases":              "32",
		"notify-keyspace-events": "Ex",
		"appendonly":             "off", // ElastiCache's spelling of no
		"activerehashing":        "yes",
		"client-output-buffer-limit-pubsub-hard-limit": "1000000",
		"reserved-memory-percent":                      "25", // ElastiCache-only
		"close-on-replica-write":                       "yes",
		"cluster-enabled":                              "yes", // the runner's own
		// AWS's redis7 default, which redis 7.0 refuses at start.
		"cluster-preferred-endpoint-type": "tls-dynamic",
	}
	mustEnsure(t, r, s)
	if err := r.Health(testContext(t), s.Key); err != nil {
		t.Fatalf("Health: %v", err)
	}
	for name, want := range map[string]string{
		"maxmemory-policy":           "allkeys-lru",
		"timeout":                    "300",
		"databases":                  "32",
		"notify-keyspace-events":     "xE",
		"appendonly":                 "no",
		"maxmemory":                  strconv.Itoa(100 << 20),
		"save":                       "",
		"dir":                        r.nodeDir(s.Key),
		"cluster-enabled":            "no",
		"client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 1000000 8388608 60",
	} {
		if got := configGet(t, s, name); got != want {
			t.Errorf("CONFIG GET %s = %q, want %q", name, got, want)
		}
	}
	logs := r.logs.String()
	if !strings.Contains(logs, "parameter refused by the installed engine") || !strings.Contains(logs, "directive=cluster-preferred-endpoint-type") {
		t.Errorf("no warning of the refused cluster-preferred-endpoint-type in:\n%s", logs)
	}
	for _, skipped := range []string{"reserved-memory-percent", "close-on-replica-write", "cluster-enabled"} {
		if !strings.Contains(logs, "parameter skipped") || !strings.Contains(logs, "parameter="+skipped) {
			t.Errorf("no debug record of skipping %s in:\n%s", skipped, logs)
		}
	}

	// The pid file names the process, whose title names the binary and
	// the address, and it runs in the node's directory.
	pid := nodePid(t, r, s.Key)
	p, err := readProc(pid)
	if err != nil {
		t.Fatal(err)
	}
	if !namesListener(p, "redis-server", s.Address, s.Port) || !isNodeProcess(p, r.nodeDir(s.Key), requireBinary(t, "redis-server")) {
		t.Fatalf("process %d: args %q, cwd %q", pid, p.args, p.cwd)
	}
	// Its own process group, so a terminal's signals do not reach it.
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
		t.Fatalf("pgid of %d = %d, %v; want its own group", pid, pgid, err)
	}

	// Ensure again: nothing changes, no second process.
	mustEnsure(t, r, s)
	if got := nodePid(t, r, s.Key); got != pid {
		t.Fatalf("second Ensure: pid %d, want %d", got, pid)
	}
	if n := processesIn(t, r.nodeDir(s.Key)); n != 1 {
		t.Fatalf("%d engine processes for the node, want 1", n)
	}
}

func TestRedisApplyDynamicAndStatic(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	s := spec(t, "redis", "123456789012/us-east-1/apply/0001")
	s.Params = map[string]string{"maxmemory-policy": "volatile-lru"}
	mustEnsure(t, r, s)
	ctx := testContext(t)

	changed := map[string]string{"maxmemory-policy": "allkeys-lfu", "databases": "20", "reserved-memory": "1000", "timeout": "60"}
	s.Params = changed
	need, err := r.Apply(ctx, s, changed)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if diff := cmp.Diff([]string{"databases"}, need); diff != "" {
		t.Fatalf("needRestart (-want +got):\n%s", diff)
	}
	if got := configGet(t, s, "maxmemory-policy"); got != "allkeys-lfu" {
		t.Fatalf("maxmemory-policy = %q after Apply", got)
	}
	if got := configGet(t, s, "timeout"); got != "60" {
		t.Fatalf("timeout = %q after Apply", got)
	}
	if got := configGet(t, s, "databases"); got != "16" {
		t.Fatalf("databases = %q before a restart, want the default 16", got)
	}

	// A value the engine refuses is an error naming the parameter; the
	// others still apply.
	bad := map[string]string{"timeout": "soon", "slowlog-max-len": "64"}
	if _, err := r.Apply(ctx, s, bad); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("Apply(timeout=soon) = %v, want an error naming timeout", err)
	}
	if got := configGet(t, s, "slowlog-max-len"); got != "64" {
		t.Fatalf("slowlog-max-len = %q; the valid parameter was not applied", got)
	}

	// The restart brings the static one in.
	if err := r.Restart(ctx, s); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if got := configGet(t, s, "databases"); got != "20" {
		t.Fatalf("databases = %q after Restart, want 20", got)
	}

	// Apply on a node that does not run is an error.
	other := spec(t, "redis", "123456789012/us-east-1/apply/0002")
	if _, err := r.Apply(ctx, other, changed); err == nil {
		t.Fatal("Apply on a node that is not running succeeded")
	}
}

func TestRedisDataSurvivesStopAndRestart(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	s := spec(t, "redis", "123456789012/us-east-1/data/0001")
	mustEnsure(t, r, s)
	ctx := testContext(t)
	if _, err := redisCmd(t, s, "SET", "greeting", "hello"); err != nil {
		t.Fatal(err)
	}
	pid := nodePid(t, r, s.Key)
	start := procStart(t, pid)

	if err := r.Stop(ctx, s.Key); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if alive(pid, start) {
		t.Fatalf("process %d runs after Stop", pid)
	}
	dir := r.nodeDir(s.Key)
	if _, err := os.Stat(filepath.Join(dir, pidFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("pid file after Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err != nil {
		t.Fatalf("no dump.rdb after Stop: %v", err)
	}
	if err := r.Health(ctx, s.Key); err == nil {
		t.Fatal("Health of a stopped node succeeded")
	}
	select {
	case k := <-r.Exited():
		t.Fatalf("Exited delivered %q for a node Stop stopped", k)
	default:
	}

	mustEnsure(t, r, s)
	if v, err := redisCmd(t, s, "GET", "greeting"); err != nil || v != "hello" {
		t.Fatalf("GET after Stop and Ensure = %v, %v; want hello", v, err)
	}

	if _, err := redisCmd(t, s, "SET", "greeting", "again"); err != nil {
		t.Fatal(err)
	}
	if err := r.Restart(ctx, s); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if v, err := redisCmd(t, s, "GET", "greeting"); err != nil || v != "again" {
		t.Fatalf("GET after Restart = %v, %v; want again", v, err)
	}
	select {
	case k := <-r.Exited():
		t.Fatalf("Exited delivered %q for a restart", k)
	default:
	}
	if got := nodePid(t, r, s.Key); got == pid {
		t.Fatalf("Restart kept pid %d", pid)
	}
}

func TestRemoveDeletesTheNodeDirectory(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	ctx := testContext(t)
	keep := spec(t, "redis", "123456789012/us-east-1/remove/0001")
	gone := spec(t, "redis", "123456789012/us-east-1/remove/0002")
	mustEnsure(t, r, keep)
	mustEnsure(t, r, gone)
	pid := nodePid(t, r, gone.Key)
	start := procStart(t, pid)

	if err := r.Remove(ctx, gone.Key); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if alive(pid, start) {
		t.Fatalf("process %d runs after Remove", pid)
	}
	if _, err := os.Stat(r.nodeDir(gone.Key)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("node dir after Remove: %v", err)
	}
	if err := r.Health(ctx, keep.Key); err != nil {
		t.Fatalf("the other node: %v", err)
	}
	// Removing the last node of the cluster prunes the empty parents.
	if err := r.Remove(ctx, keep.Key); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "123456789012")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty parents left behind: %v", err)
	}
	if _, err := os.Stat(r.dir); err != nil {
		t.Fatalf("the runner's own directory went: %v", err)
	}
	// Unknown keys: nil.
	if err := r.Remove(ctx, gone.Key); err != nil {
		t.Fatalf("Remove of an unknown key: %v", err)
	}
	if err := r.Stop(ctx, "123456789012/us-east-1/never/0001"); err != nil {
		t.Fatalf("Stop of an unknown key: %v", err)
	}
	select {
	case k := <-r.Exited():
		t.Fatalf("Exited delivered %q for Remove", k)
	default:
	}
}

func TestCrashDeliversExitedAndEnsureRestartsOnTheData(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	ctx := testContext(t)
	s := spec(t, "redis", "123456789012/us-east-1/crash/0001")
	mustEnsure(t, r, s)
	if _, err := redisCmd(t, s, "SET", "k", "saved"); err != nil {
		t.Fatal(err)
	}
	// Save, so the data dir holds data a crash must not delete.
	if _, err := redisCmd(t, s, "SAVE"); err != nil {
		t.Fatal(err)
	}
	pid := nodePid(t, r, s.Key)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitExited(t, r, s.Key)
	if err := r.Health(ctx, s.Key); err == nil {
		t.Fatal("Health of a crashed node succeeded")
	}
	// The pid file still names the dead process; Ensure cleans it up and
	// starts the node on its data.
	if got := nodePid(t, r, s.Key); got != pid {
		t.Fatalf("pid file = %d, want the dead %d", got, pid)
	}
	mustEnsure(t, r, s)
	if got := nodePid(t, r, s.Key); got == pid {
		t.Fatal("Ensure after a crash kept the dead pid")
	}
	if v, err := redisCmd(t, s, "GET", "k"); err != nil || v != "saved" {
		t.Fatalf("GET after crash and Ensure = %v, %v; want the saved value", v, err)
	}
}

// A second Runner on the same directory (the server restarted after kill
// -9) adopts the running engine: same process, no second one, and it
// watches it for crashes.
func TestAdoptionBySecondRunner(t *testing.T) {
	t.Parallel()
	for _, eng := range []string{"redis", "memcached"} {
		t.Run(eng, func(t *testing.T) {
			t.Parallel()
			if eng == "redis" {
				requireBinary(t, "redis-server")
			} else {
				requireBinary(t, "memcached")
			}
			dir := t.TempDir()
			first := newTestRunner(t, dir)
			s := spec(t, eng, "123456789012/us-east-1/adopt/0001")
			mustEnsure(t, first, s)
			pid := nodePid(t, first, s.Key)

			second := newTestRunner(t, dir)
			mustEnsure(t, second, s)
			if got := nodePid(t, second, s.Key); got != pid {
				t.Fatalf("after adoption the pid file names %d, want %d", got, pid)
			}
			if n := processesIn(t, second.nodeDir(s.Key)); n != 1 {
				t.Fatalf("%d engine processes for the node, want 1", n)
			}
			if err := second.Health(testContext(t), s.Key); err != nil {
				t.Fatalf("Health of the adopted node: %v", err)
			}
			if !strings.Contains(second.logs.String(), "adopted running node") {
				t.Fatalf("no adoption record in:\n%s", second.logs.String())
			}

			// An adopted process is watched too: kill -9 reaches Exited.
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			waitExited(t, second, s.Key)
		})
	}
}

// A node whose Spec moves to another port is restarted there, keeping its
// data, by the runner running it and by one that adopts it.
func TestEnsureMovesANodeToItsNewAddress(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	dir := t.TempDir()
	r := newTestRunner(t, dir)
	s := spec(t, "redis", "123456789012/us-east-1/move/0001")
	mustEnsure(t, r, s)
	if _, err := redisCmd(t, s, "SET", "k", "moved"); err != nil {
		t.Fatal(err)
	}
	moved := spec(t, "redis", s.Key)
	mustEnsure(t, r, moved)
	if v, err := redisCmd(t, moved, "GET", "k"); err != nil || v != "moved" {
		t.Fatalf("GET on the new address = %v, %v", v, err)
	}
	if c, err := net.DialTimeout("tcp", hostPort(s), time.Second); err == nil {
		c.Close()
		t.Fatal("the old address still answers")
	}

	again := spec(t, "redis", s.Key)
	other := newTestRunner(t, dir)
	mustEnsure(t, other, again)
	if v, err := redisCmd(t, again, "GET", "k"); err != nil || v != "moved" {
		t.Fatalf("GET after an adopting runner moved it = %v, %v", v, err)
	}
	if n := processesIn(t, other.nodeDir(s.Key)); n != 1 {
		t.Fatalf("%d engine processes for the node, want 1", n)
	}
}

// The adopting runner stops the adopted node gracefully, keeping its data.
func TestAdoptedNodeStopsGracefully(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	dir := t.TempDir()
	first := newTestRunner(t, dir)
	s := spec(t, "redis", "123456789012/us-east-1/adoptstop/0001")
	mustEnsure(t, first, s)
	if _, err := redisCmd(t, s, "SET", "k", "kept"); err != nil {
		t.Fatal(err)
	}
	pid := nodePid(t, first, s.Key)
	start := procStart(t, pid)

	// Stop from a runner that never ran Ensure: the node file tells it how.
	second := newTestRunner(t, dir)
	if err := second.Stop(testContext(t), s.Key); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if alive(pid, start) {
		t.Fatalf("process %d runs after Stop", pid)
	}
	select {
	case k := <-second.Exited():
		t.Fatalf("Exited delivered %q for Stop", k)
	case <-time.After(100 * time.Millisecond):
	}
	mustEnsure(t, second, s)
	if v, err := redisCmd(t, s, "GET", "k"); err != nil || v != "kept" {
		t.Fatalf("GET = %v, %v; want kept", v, err)
	}
}

// A pid file naming a live process that is not the node's engine is never
// adopted, signalled or doubled.
func TestPidFileOfAnotherProcessIsNotAdopted(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	ctx := testContext(t)
	s := spec(t, "redis", "123456789012/us-east-1/stranger/0001")
	stranger := startStranger(t)
	dir := r.nodeDir(s.Key)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, pidFileName), []byte(strconv.Itoa(stranger.Process.Pid)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := r.Ensure(ctx, s)
	if err == nil || !strings.Contains(err.Error(), "not an engine") {
		t.Fatalf("Ensure = %v, want an error saying the pid file names something else", err)
	}
	if !alive(stranger.Process.Pid, procStart(t, stranger.Process.Pid)) {
		t.Fatal("the stranger was killed")
	}
	if c, err := net.DialTimeout("tcp", hostPort(s), time.Second); err == nil {
		c.Close()
		t.Fatal("an engine was started beside the stranger")
	}
	if err := r.Remove(ctx, s.Key); err == nil {
		t.Fatal("Remove deleted a node whose pid file names a live stranger")
	}
}

// A pid file naming a dead process is cleaned up and the node starts.
func TestStalePidFileIsCleanedUp(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	s := spec(t, "redis", "123456789012/us-east-1/stale/0001")
	done := exec.Command(requireBinary(t, "true"))
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	dir := r.nodeDir(s.Key)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, pidFileName), []byte(strconv.Itoa(done.Process.Pid)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustEnsure(t, r, s)
	if got := nodePid(t, r, s.Key); got == done.Process.Pid {
		t.Fatal("the stale pid file was kept")
	}
}

// An address another process holds is an error naming it, not a crash
// loop of engines that cannot bind.
func TestAddressInUse(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	s := spec(t, "redis", "123456789012/us-east-1/inuse/0001")
	ln, err := net.Listen("tcp", hostPort(s))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := r.Ensure(testContext(t), s); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("Ensure = %v, want an address-in-use error", err)
	}
	if n := processesIn(t, r.nodeDir(s.Key)); n != 0 {
		t.Fatalf("%d engine processes started", n)
	}
}

func TestMemcachedStartsWithParams(t *testing.T) {
	t.Parallel()
	requireBinary(t, "memcached")
	r := newTestRunner(t, "")
	ctx := testContext(t)
	s := spec(t, "memcached", "123456789012/us-east-1/mc/0001")
	s.Params = map[string]string{
		"max_item_size":                  "2097152",
		"chunk_size":                     "96",
		"cas_disabled":                   "1",
		"chunk_size_growth_factor":       "1.5",
		"max_simultaneous_connections":   "500",
		"memcached_connections_overhead": "100", // AWS-side only
	}
	mustEnsure(t, r, s)
	if err := r.Health(ctx, s.Key); err != nil {
		t.Fatalf("Health: %v", err)
	}
	got := memcachedSettings(t, s)
	for name, want := range map[string]string{
		"item_size_max":    "2097152",
		"chunk_size":       "96",
		"cas_enabled":      "no",
		"growth_factor":    "1.50",
		"maxconns":         "500",
		"maxbytes":         strconv.Itoa(64 << 20),
		"udpport":          "0",
		"memory_file":      "(null)", // no warm restart (-e)
		"binding_protocol": "auto-negotiate",
	} {
		if got[name] != want {
			t.Errorf("stats settings %s = %q, want %q", name, got[name], want)
		}
	}
	if !strings.Contains(r.logs.String(), "parameter=memcached_connections_overhead") {
		t.Errorf("no debug record of skipping memcached_connections_overhead")
	}
	need, err := r.Apply(ctx, s, map[string]string{"chunk_size": "48", "config_max": "16"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"chunk_size"}, need); diff != "" {
		t.Fatalf("needRestart (-want +got):\n%s", diff)
	}
	// A value memcached cannot take fails Ensure with the parameter's name.
	bad := spec(t, "memcached", "123456789012/us-east-1/mc/0002")
	bad.Params = map[string]string{"chunk_size": "big"}
	if err := r.Ensure(ctx, bad); err == nil || !strings.Contains(err.Error(), "chunk_size") {
		t.Fatalf("Ensure(chunk_size=big) = %v", err)
	}
}

func TestStopAllLeavesNothingRunning(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	requireBinary(t, "memcached")
	r := newTestRunner(t, "")
	var specs []Spec
	for i, eng := range []string{"redis", "redis", "memcached"} {
		s := spec(t, eng, fmt.Sprintf("123456789012/us-east-1/all/%04d", i+1))
		mustEnsure(t, r, s)
		specs = append(specs, s)
	}
	type proc struct {
		pid   int
		start uint64
	}
	var procs []proc
	for _, s := range specs {
		pid := nodePid(t, r, s.Key)
		procs = append(procs, proc{pid, procStart(t, pid)})
	}
	if err := r.StopAll(testContext(t)); err != nil {
		t.Fatalf("StopAll: %v", err)
	}
	for i, p := range procs {
		if alive(p.pid, p.start) {
			t.Errorf("%s (pid %d) runs after StopAll", specs[i].Key, p.pid)
		}
		if n := processesIn(t, r.nodeDir(specs[i].Key)); n != 0 {
			t.Errorf("%d processes left in %s", n, specs[i].Key)
		}
	}
	select {
	case k := <-r.Exited():
		t.Fatalf("Exited delivered %q for StopAll", k)
	default:
	}
}

// Concurrent Ensure calls for one node start one process.
func TestConcurrentEnsureStartsOneProcess(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	s := spec(t, "redis", "123456789012/us-east-1/race/0001")
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- r.Ensure(testContext(t), s) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("Ensure: %v", err)
		}
	}
	if n := processesIn(t, r.nodeDir(s.Key)); n != 1 {
		t.Fatalf("%d engine processes, want 1", n)
	}
}

func TestAvailable(t *testing.T) {
	t.Parallel()
	r := NewRunner(t.TempDir(), nil)
	installed := map[string]string{"redis-server": "/opt/bin/redis-server", "memcached": "/opt/bin/memcached"}
	r.lookPath = func(file string) (string, error) {
		if p, ok := installed[file]; ok {
			return p, nil
		}
		return "", fmt.Errorf("%s not found", file)
	}
	if p, err := r.Available("redis"); err != nil || p != "/opt/bin/redis-server" {
		t.Fatalf("Available(redis) = %q, %v", p, err)
	}
	if p, err := r.Available("memcached"); err != nil || p != "/opt/bin/memcached" {
		t.Fatalf("Available(memcached) = %q, %v", p, err)
	}
	// valkey never silently runs on redis-server.
	p, err := r.Available("valkey")
	if err == nil || !strings.Contains(err.Error(), "valkey-server") || !strings.Contains(err.Error(), "not used in its place") {
		t.Fatalf("Available(valkey) without valkey-server = %q, %v", p, err)
	}
	installed["valkey-server"] = "/opt/bin/valkey-server"
	if p, err := r.Available("valkey"); err != nil || p != "/opt/bin/valkey-server" {
		t.Fatalf("Available(valkey) = %q, %v", p, err)
	}
	if _, err := r.Available("mongodb"); err == nil {
		t.Fatal("Available(mongodb) succeeded")
	}
	// Ensure says why when the binary is missing.
	delete(installed, "memcached")
	err = r.Ensure(testContext(t), Spec{Key: "a/b", Engine: "memcached", Address: "127.0.0.1", Port: 11211})
	if err == nil || !strings.Contains(err.Error(), "install-engines.sh") {
		t.Fatalf("Ensure without memcached = %v", err)
	}
}

func TestInvalidSpecsAreRefusedBeforeAnythingRuns(t *testing.T) {
	t.Parallel()
	r := NewRunner(t.TempDir(), nil)
	good := Spec{Key: "123456789012/us-east-1/c/0001", Engine: "redis", Address: "127.0.0.1", Port: 6379}
	for name, mutate := range map[string]func(*Spec){
		"empty key":      func(s *Spec) { s.Key = "" },
		"dotdot":         func(s *Spec) { s.Key = "a/../b" },
		"absolute":       func(s *Spec) { s.Key = "/etc/x" },
		"trailing slash": func(s *Spec) { s.Key = "a/b/" },
		"space":          func(s *Spec) { s.Key = "a b" },
		"engine":         func(s *Spec) { s.Engine = "Redis" },
		"address":        func(s *Spec) { s.Address = "localhost" },
		"port 0":         func(s *Spec) { s.Port = 0 },
		"port 65536":     func(s *Spec) { s.Port = 65536 },
		"memory":         func(s *Spec) { s.MaxMemory = -1 },
	} {
		s := good
		mutate(&s)
		if err := r.Ensure(testContext(t), s); err == nil {
			t.Errorf("%s: Ensure(%+v) succeeded", name, s)
		}
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("the good spec: %v", err)
	}
	if ents, _ := os.ReadDir(r.dir); len(ents) != 0 {
		t.Fatalf("invalid specs created %d entries", len(ents))
	}
	if err := r.Stop(testContext(t), "../x"); err == nil {
		t.Fatal("Stop(../x) succeeded")
	}
	if err := r.Remove(testContext(t), "../x"); err == nil {
		t.Fatal("Remove(../x) succeeded")
	}
}

// Calls for one key wait for each other and give up with their context.
func TestKeyLocksHonourContext(t *testing.T) {
	t.Parallel()
	var l keyLocks
	l.m = map[string]*keyLock{}
	unlock, err := l.lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.lock(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock = %v, want deadline exceeded", err)
	}
	other, err := l.lock(context.Background(), "other")
	if err != nil {
		t.Fatalf("another key waited: %v", err)
	}
	other()
	unlock()
	again, err := l.lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	again()
	if len(l.m) != 0 {
		t.Fatalf("%d locks left behind", len(l.m))
	}
}

// Remove never deletes a directory holding another node's (a key below
// the removed one).
func TestRemoveKeepsNestedNodes(t *testing.T) {
	t.Parallel()
	r := NewRunner(t.TempDir(), nil)
	ctx := testContext(t)
	for _, key := range []string{"a/b", "a/b/c"} {
		dir := r.nodeDir(key)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := writeNodeFile(dir, nodeFile{Engine: "redis", Binary: "/usr/bin/redis-server", Address: "127.0.0.1", Port: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Remove(ctx, "a/b"); err == nil || !strings.Contains(err.Error(), "another node") {
		t.Fatalf("Remove(a/b) = %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(r.nodeDir("a/b/c"), nodeFileName)); err != nil {
		t.Fatalf("the nested node went: %v", err)
	}
	if err := r.Remove(ctx, "a/b/c"); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a/ left behind: %v", err)
	}
}

// ElastiCache's default connection limit (65000) is above many hosts' hard
// open-file limit, which memcached exits on: the node starts with as many
// connections as the host allows.
func TestMemcachedConnectionsCappedAtTheHostLimit(t *testing.T) {
	t.Parallel()
	requireBinary(t, "memcached")
	r := newTestRunner(t, "")
	s := spec(t, "memcached", "123456789012/us-east-1/mc-limit/0001")
	s.Params = map[string]string{"max_simultaneous_connections": "65000"}
	mustEnsure(t, r, s)
	want := strconv.FormatUint(min(65000, connectionLimit()), 10)
	if got := memcachedSettings(t, s)["maxconns"]; got != want {
		t.Fatalf("maxconns = %s, want %s", got, want)
	}
}

// A directive the engine refused once is left out of later starts at once:
// the second node starts in one go.
func TestRefusedDirectiveRemembered(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	r := newTestRunner(t, "")
	for _, key := range []string{"123456789012/us-east-1/refused/0001", "123456789012/us-east-1/refused/0002"} {
		s := spec(t, "redis", key)
		s.Params = map[string]string{"cluster-preferred-endpoint-type": "tls-dynamic", "maxmemory-policy": "allkeys-lru"}
		mustEnsure(t, r, s)
		if got := configGet(t, s, "maxmemory-policy"); got != "allkeys-lru" {
			t.Fatalf("%s: maxmemory-policy = %q", key, got)
		}
	}
	if n := strings.Count(r.logs.String(), "parameter refused by the installed engine"); n != 1 {
		t.Fatalf("%d refusals logged for two starts, want 1:\n%s", n, r.logs.String())
	}
}

// Nodes lists what a runner that started nothing finds on disk: the
// running node of an earlier runner, a stopped one, never a directory
// without a node in it or a file beside the nodes.
func TestNodesListsTheNodeDirectories(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	dir := t.TempDir()
	first := newTestRunner(t, dir)
	ctx := testContext(t)
	running := spec(t, "redis", "123456789012/us-east-1/list/0001")
	stopped := spec(t, "redis", "123456789012/us-east-1/list/0002")
	mustEnsure(t, first, running)
	mustEnsure(t, first, stopped)
	if err := first.Stop(ctx, stopped.Key); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "123456789012", "us-east-1", "empty", "0001"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server-id"), []byte("srv-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	second := newTestRunner(t, dir)
	got, err := second.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{running.Key, stopped.Key}; !slices.Equal(got, want) {
		t.Fatalf("Nodes = %q, want %q", got, want)
	}
	if err := second.Remove(ctx, running.Key); err != nil {
		t.Fatal(err)
	}
	got, err = second.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{stopped.Key}; !slices.Equal(got, want) {
		t.Fatalf("Nodes after Remove = %q, want %q", got, want)
	}
	empty, err := newTestRunner(t, filepath.Join(t.TempDir(), "never-made")).Nodes(ctx)
	if err != nil || len(empty) != 0 {
		t.Fatalf("Nodes of a directory not made yet = %q, %v; want none", empty, err)
	}
}
