package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// requireBinary fails (never skips) when an engine binary is missing.
func requireBinary(tb testing.TB, name string) string {
	tb.Helper()
	p, err := lookPath(name)
	if err != nil {
		tb.Fatalf("%s is not installed: run scripts/install-engines.sh (%v)", name, err)
	}
	return p
}

// syncBuffer is a log sink the runner's goroutines may write to after a
// test ends (t.Log would panic then).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testRunner is a Runner in a temporary directory with short timings, and
// its log.
type testRunner struct {
	*Runner
	logs *syncBuffer
}

// newTestRunner returns a Runner over dir (a new temp dir when ""). Its
// cleanup stops every node it runs and then kills, by pid file, anything
// still running under dir, so no test leaves an engine behind even when
// it fails half-way.
func newTestRunner(tb testing.TB, dir string) testRunner {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	logs := &syncBuffer{}
	r := NewRunner(dir, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	r.watchInterval = 20 * time.Millisecond
	r.startTimeout = 15 * time.Second
	r.stopTimeout = 15 * time.Second
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := r.StopAll(ctx); err != nil {
			tb.Errorf("StopAll: %v", err)
		}
		killUnder(tb, dir)
		if tb.Failed() {
			tb.Logf("runner log:\n%s", logs.String())
			_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Name() == logFileName {
					b, _ := os.ReadFile(p)
					tb.Logf("%s:\n%s", p, b)
				}
				return nil
			})
		}
	})
	return testRunner{Runner: r, logs: logs}
}

// killUnder SIGKILLs every engine process that a pid file under dir names
// and that runs in that pid file's directory, and waits until they are
// gone.
func killUnder(tb testing.TB, dir string) {
	tb.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != pidFileName {
			return nil
		}
		pid, _, ok, _ := readPidFile(p)
		if !ok || pid == 0 {
			return nil
		}
		nf, _ := readNodeFile(filepath.Dir(p))
		pr, err := readProc(pid)
		if err != nil || !isNodeProcess(pr, filepath.Dir(p), nf.Binary) {
			return nil
		}
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		waitGone(tb, pid, pr.start)
		return nil
	})
}

// waitGone polls until process pid (started at start) has ended.
func waitGone(tb testing.TB, pid int, start uint64) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid, start) {
		if time.Now().After(deadline) {
			tb.Errorf("process %d still runs", pid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// freeListener picks a random 127.0.0.0/8 address (so parallel tests never
// share one) and a port free on it.
func freeListener(tb testing.TB) (string, int) {
	tb.Helper()
	// A port below the kernel's ephemeral range (32768 and up here): one
	// the kernel handed out (port 0) is free when chosen, but between its
	// close and the engine's start another process's listener on port 0 —
	// a parallel test's server — may be handed the same port, and the
	// runner then refuses the address as in use.
	for range 50 {
		addr := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(250), rand.IntN(256), 1+rand.IntN(250))
		port := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		ln.Close()
		return addr, port
	}
	tb.Fatal("no free loopback address and port")
	return "", 0
}

// spec is a Spec for engine on a fresh address.
func spec(tb testing.TB, engine, key string) Spec {
	tb.Helper()
	addr, port := freeListener(tb)
	return Spec{Key: key, Engine: engine, Address: addr, Port: port}
}

func testContext(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

func mustEnsure(tb testing.TB, r testRunner, s Spec) {
	tb.Helper()
	if err := r.Ensure(testContext(tb), s); err != nil {
		tb.Fatalf("Ensure(%s): %v", s.Key, err)
	}
}

// redisCmd sends one command to the node and fails the test on an I/O
// error; an error reply is returned as a *respError.
func redisCmd(tb testing.TB, s Spec, args ...string) (any, error) {
	tb.Helper()
	v, err := redisDo(testContext(tb), "tcp", hostPort(s), nil, args...)
	var re *respError
	if err != nil && !errors.As(err, &re) {
		tb.Fatalf("%v: %v", args, err)
	}
	return v, err
}

// configGet is CONFIG GET name's value.
func configGet(tb testing.TB, s Spec, name string) string {
	tb.Helper()
	v, err := redisCmd(tb, s, "CONFIG", "GET", name)
	if err != nil {
		tb.Fatalf("CONFIG GET %s: %v", name, err)
	}
	arr, ok := v.([]any)
	if !ok || len(arr) != 2 {
		tb.Fatalf("CONFIG GET %s answered %#v", name, v)
	}
	return arr[1].(string)
}

// memcachedCmd sends raw text-protocol lines and reads until a line that
// ends the reply (END, STORED, an error ...).
func memcachedCmd(tb testing.TB, s Spec, req string) string {
	tb.Helper()
	c, err := net.DialTimeout("tcp", hostPort(s), 5*time.Second)
	if err != nil {
		tb.Fatalf("dial memcached: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		tb.Fatalf("write memcached: %v", err)
	}
	var out strings.Builder
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		out.WriteString(line)
		if err != nil {
			tb.Fatalf("read memcached after %q: %v", out.String(), err)
		}
		switch strings.TrimSpace(line) {
		case "END", "STORED", "NOT_STORED", "ERROR", "DELETED", "NOT_FOUND":
			return out.String()
		}
		if strings.HasPrefix(line, "CLIENT_ERROR") || strings.HasPrefix(line, "SERVER_ERROR") {
			return out.String()
		}
	}
}

// memcachedSettings is "stats settings" as a map.
func memcachedSettings(tb testing.TB, s Spec) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(memcachedCmd(tb, s, "stats settings\r\n"), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "STAT" {
			out[f[1]] = f[2]
		}
	}
	return out
}

// nodePid reads the node's pid file.
func nodePid(tb testing.TB, r testRunner, key string) int {
	tb.Helper()
	pid, _, ok, err := readPidFile(filepath.Join(r.nodeDir(key), pidFileName))
	if err != nil || !ok || pid == 0 {
		tb.Fatalf("pid file of %s: pid %d, present %v, err %v", key, pid, ok, err)
	}
	return pid
}

// processesIn counts the processes of the node's engine binary (from its
// node file) whose working directory is dir.
func processesIn(tb testing.TB, dir string) int {
	tb.Helper()
	nf, err := readNodeFile(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	if err != nil {
		tb.Fatal(err)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, err := readProc(pid); err == nil && isNodeProcess(p, dir, nf.Binary) {
			n++
		}
	}
	return n
}

// startStranger starts a process that is no engine (sleep), ended with the
// test.
func startStranger(tb testing.TB) *exec.Cmd {
	tb.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(sleep, "60")
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// procStart is the start time of a live process, failing the test if it
// is gone.
func procStart(tb testing.TB, pid int) uint64 {
	tb.Helper()
	p, err := readProc(pid)
	if err != nil {
		tb.Fatalf("process %d: %v", pid, err)
	}
	return p.start
}

// waitExited waits for key on r's Exited.
func waitExited(tb testing.TB, r testRunner, key string) {
	tb.Helper()
	select {
	case got := <-r.Exited():
		if got != key {
			tb.Fatalf("Exited delivered %q, want %q", got, key)
		}
	case <-time.After(10 * time.Second):
		tb.Fatalf("Exited did not deliver %q", key)
	}
}
