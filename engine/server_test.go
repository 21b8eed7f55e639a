package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Environment of the stand-in server process that
// TestEnginesOutliveAKilledServer starts from this test binary.
const (
	serverDirEnv  = "ENGINE_TEST_SERVER_DIR"
	serverSpecEnv = "ENGINE_TEST_SERVER_SPEC"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(serverDirEnv); dir != "" {
		os.Exit(standInServer(dir, os.Getenv(serverSpecEnv)))
	}
	os.Exit(m.Run())
}

// standInServer plays a server: it runs one node, says "ready", and waits
// for its standard input to close (so it never outlives the test) or for
// the SIGKILL the test sends.
func standInServer(dir, specJSON string) int {
	var s Spec
	if err := json.Unmarshal([]byte(specJSON), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := NewRunner(dir, nil)
	if err := r.Ensure(ctx, s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// A server killed with SIGKILL leaves its engines running (own process
// group, no parent-death signal), and the next server adopts them with
// their data: an open node, and one with users, which the next server
// authenticates to with the password its predecessor left in the node's
// directory.
func TestEnginesOutliveAKilledServer(t *testing.T) {
	t.Parallel()
	requireBinary(t, "redis-server")
	for _, tc := range []struct {
		name     string
		users    []User
		user, pw string
	}{
		{name: "open"},
		{name: "users", users: []User{{Name: "app", Rules: rules("pw", "~* +@all")}}, user: "app", pw: "pw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := spec(t, "redis", "123456789012/us-east-1/outlive/0001")
			s.Users = tc.users
			outliveKilledServer(t, s, tc.user, tc.pw)
		})
	}
}

// outliveKilledServer runs s under a stand-in server, kills it, and has a
// runner in the test adopt the node (as user, password when user is not
// "").
func outliveKilledServer(t *testing.T, s Spec, user, password string) {
	dir := t.TempDir()
	// Registered first, so it runs last: whatever happens, the engine
	// the stand-in started is stopped (and killed by pid file).
	after := newTestRunner(t, dir)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	server := exec.Command(os.Args[0], "-test.run=^$")
	server.Env = append(os.Environ(), serverDirEnv+"="+dir, serverSpecEnv+"="+string(b))
	stdin, err := server.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	server.Stderr = stderr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	exited := make(chan struct{})
	go func() {
		lines := bufio.NewScanner(stdout)
		ready <- lines.Scan() && lines.Text() == "ready"
		_, _ = io.Copy(io.Discard, stdout)
		_ = server.Wait() // after the reads, as os/exec asks
		close(exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		_ = server.Process.Kill()
		<-exited
	})
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("the stand-in server did not start its node: %s", stderr.String())
		}
	case <-time.After(25 * time.Second):
		t.Fatalf("the stand-in server is not ready: %s", stderr.String())
	}
	if _, err := redisAs(t, s, user, password, "SET", "k", "survives"); err != nil {
		t.Fatal(err)
	}
	pid := nodePid(t, after, s.Key)
	start := procStart(t, pid)

	if err := server.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the stand-in server survived SIGKILL")
	}
	if !alive(pid, start) {
		t.Fatalf("engine %d died with the server", pid)
	}

	mustEnsure(t, after, s)
	if got := nodePid(t, after, s.Key); got != pid {
		t.Fatalf("the next server runs pid %d, want the adopted %d", got, pid)
	}
	if n := processesIn(t, after.nodeDir(s.Key)); n != 1 {
		t.Fatalf("%d engine processes for the node, want 1", n)
	}
	if v, err := redisAs(t, s, user, password, "GET", "k"); err != nil || v != "survives" {
		t.Fatalf("GET = %v, %v; want survives", v, err)
	}
	if err := after.Health(testContext(t), s.Key); err != nil {
		t.Fatalf("Health of the adopted node: %v", err)
	}
}
