// Package serverproc builds the project's commands and runs the server
// binary as a child process, for the end-to-end tests that need the real
// process: a kill -9 of it, a second start on the same data directory. It
// imports the standard library and testing, and is imported only by tests.
package serverproc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build builds ./cmd/NAME of the module the test runs in (the nearest
// directory above with a go.mod) into the test's temp dir and returns the
// binary's path.
func Build(tb testing.TB, name string) string {
	tb.Helper()
	root, err := filepath.Abs(".")
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			tb.Fatal("serverproc: no go.mod above the test's directory")
		}
		root = parent
	}
	bin := filepath.Join(tb.TempDir(), name)
	build := exec.Command("go", "build", "-o", bin, "./cmd/"+name)
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/%s: %v\n%s", name, err, b)
	}
	return bin
}

// Process is the server binary running.
type Process struct {
	// Addr is the host:port it listens on, from its start-up log line.
	Addr   string
	cmd    *exec.Cmd
	exited chan struct{}
	log    syncBuffer
}

// logTail is how many lines of a failed test's server log are shown.
const logTail = 40

// Start runs bin with args on a free loopback port (--listen
// 127.0.0.1:0) logging JSON, without the test's ELASTICACHE_* environment,
// and waits for its start-up line. The process dies with the test process
// (a parent-death signal) and is killed when tb ends; engines it starts
// have process groups of their own and outlive it, as in production.
func Start(tb testing.TB, bin string, args ...string) *Process {
	tb.Helper()
	cmd := exec.Command(bin, append([]string{"--listen", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ELASTICACHE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	addrs := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
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
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if tb.Failed() {
			tb.Logf("server binary log, last lines:\n%s", tail(p.Log(), logTail))
		}
	})
	select {
	case p.Addr = <-addrs:
		return p
	case <-p.exited:
		tb.Fatalf("server exited at start:\n%s", p.Log())
	case <-time.After(30 * time.Second):
		tb.Fatalf("server did not log its start within 30s:\n%s", p.Log())
	}
	return nil
}

// Kill9 ends the server with SIGKILL and waits until it has exited.
func (p *Process) Kill9(tb testing.TB) {
	tb.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatalf("kill -9: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		tb.Fatal("server still running 10s after SIGKILL")
	}
}

// Log is what the server has written to stderr so far: JSON lines.
func (p *Process) Log() string { return p.log.String() }

func tail(s string, n int) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "")
}

// syncBuffer is a bytes.Buffer the reading goroutine writes while the
// test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
