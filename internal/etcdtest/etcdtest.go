// Package etcdtest starts real etcd members for tests: Debian's etcd-server
// binary, on random loopback ports, with data in the test's temp dir, never
// on etcd's standard ports. One member serves the storage conformance and
// end-to-end suites; three are for tests about quorum and faults, which
// Stop, Kill and Restart members one by one. StartTLSCluster serves
// clients over TLS with client certificates. It imports the standard
// library, testing and the etcd client, and is imported only by tests.
package etcdtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Limits the members are started with. The storage conformance suite
// commits 10,000 keys in one transaction, which etcd's defaults (128
// operations, 1.5 MiB per request) refuse; production clusters keep the
// defaults, and a Store's MaxRequestBytes must not exceed the cluster's.
const (
	MaxTxnOps       = 16384
	MaxRequestBytes = 16 << 20
)

// startTimeout bounds how long members take to elect a leader and answer
// /health, generous for a loaded 2-core CI machine.
const startTimeout = 30 * time.Second

// Cluster is a set of etcd members started together by StartCluster.
type Cluster struct {
	Members []*Member
	bin     string
	// scheme is the client URLs' (http, or https for StartTLSCluster),
	// and clientTLS what this package's own health checks present.
	scheme    string
	clientTLS *tls.Config
}

// Member is one etcd process of a Cluster.
type Member struct {
	// Name is the member's name in the cluster (m0, m1, ...).
	Name string
	// ClientAddr and PeerAddr are the loopback host:port it serves
	// clients and peers on; they stay the same across Restart.
	ClientAddr, PeerAddr string

	bin     string
	args    []string
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// StartCluster starts n members as one new cluster and waits until every
// one of them is healthy (a leader is elected and reads are served). The
// members are killed, and their data removed, when tb ends; when tb failed,
// the tail of each member's log is shown. It fails tb if no etcd binary can
// be found or installed (see Binary), or if the cluster does not come up
// within 30s.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	return startWithRetries(tb, n, nil)
}

// TLSFiles are the PEM files a client of a StartTLSCluster presents and
// trusts.
type TLSFiles struct {
	// CA is the certificate authority that signed the members' and the
	// client's certificates.
	CA string
	// Cert and Key are a client certificate the members accept.
	Cert, Key string
}

// StartTLSCluster is StartCluster with TLS on the client URLs: the members
// require a client certificate signed by a CA made for the test, and
// present a certificate for 127.0.0.1 signed by it. Peers talk plain
// HTTP.
func StartTLSCluster(tb testing.TB, n int) (*Cluster, TLSFiles) {
	tb.Helper()
	pki, err := newPKI(tb.TempDir())
	if err != nil {
		tb.Fatalf("etcdtest: certificates: %v", err)
	}
	return startWithRetries(tb, n, pki), pki.client
}

func startWithRetries(tb testing.TB, n int, pki *pki) *Cluster {
	tb.Helper()
	if n < 1 {
		tb.Fatalf("etcdtest: cluster of %d members", n)
	}
	bin := Binary(tb)
	var lastErr error
	// Ports are picked free and released just before etcd binds them, so
	// another process may take one in between: then try fresh ports.
	for try := 0; try < 3; try++ {
		c, err := startCluster(tb.TempDir(), bin, n, pki)
		if err == nil {
			tb.Cleanup(func() {
				c.killAll()
				if tb.Failed() {
					for _, m := range c.Members {
						tb.Logf("etcd member %s (%s) log, last lines:\n%s", m.Name, m.ClientAddr, tailFile(m.logPath, 30))
					}
				}
			})
			return c
		}
		lastErr = err
		tb.Logf("etcdtest: cluster of %d did not start (try %d): %v", n, try+1, err)
	}
	tb.Fatalf("etcdtest: cluster of %d members: %v", n, lastErr)
	return nil
}

// StartForMain starts one member for a whole test binary, from TestMain,
// where there is no testing.TB: the member outlives every test and stop
// kills it and removes its data. It needs the etcd binary on PATH (CI
// installs it; see Binary for the fallback tests get).
func StartForMain() (c *Cluster, stop func(), err error) {
	bin, ok := lookEtcd()
	if !ok {
		return nil, nil, errors.New("etcdtest: no etcd binary on PATH or in /usr/bin: run scripts/install-etcd.sh")
	}
	for try := 0; try < 3; try++ {
		var dir string
		if dir, err = os.MkdirTemp("", "etcdtest-main-"); err != nil {
			return nil, nil, err
		}
		if c, err = startCluster(dir, bin, 1, nil); err == nil {
			return c, func() { c.killAll(); os.RemoveAll(dir) }, nil
		}
		os.RemoveAll(dir)
	}
	return nil, nil, fmt.Errorf("etcdtest: member did not start: %w", err)
}

// startCluster starts n members with their data and logs in dir. On error
// every member started is killed; on success the caller kills them.
func startCluster(dir, bin string, n int, pki *pki) (*Cluster, error) {
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, scheme: "http"}
	if pki != nil {
		c.scheme = "https"
		if c.clientTLS, err = pki.clientConfig(); err != nil {
			return nil, err
		}
	}
	var initial []string
	for i := range n {
		m := &Member{
			Name:       fmt.Sprintf("m%d", i),
			ClientAddr: fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			PeerAddr:   fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			bin:        bin,
		}
		m.logPath = filepath.Join(dir, m.Name+".log")
		initial = append(initial, m.Name+"=http://"+m.PeerAddr)
		c.Members = append(c.Members, m)
	}
	token := fmt.Sprintf("etcdtest-%d-%d", os.Getpid(), time.Now().UnixNano())
	for _, m := range c.Members {
		m.args = []string{
			"--name", m.Name,
			"--data-dir", filepath.Join(dir, m.Name+".etcd"),
			"--listen-client-urls", c.scheme + "://" + m.ClientAddr,
			"--advertise-client-urls", c.scheme + "://" + m.ClientAddr,
			"--listen-peer-urls", "http://" + m.PeerAddr,
			"--initial-advertise-peer-urls", "http://" + m.PeerAddr,
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-token", token,
			"--initial-cluster-state", "new",
			"--max-txn-ops", fmt.Sprint(MaxTxnOps),
			"--max-request-bytes", fmt.Sprint(MaxRequestBytes),
			"--logger", "zap",
			"--log-outputs", "stderr",
			"--log-level", "warn",
		}
		if pki != nil {
			m.args = append(m.args,
				"--cert-file", pki.serverCert, "--key-file", pki.serverKey,
				"--client-cert-auth", "--trusted-ca-file", pki.client.CA)
		}
	}
	for _, m := range c.Members {
		if err := m.start(); err != nil {
			c.killAll()
			return nil, err
		}
	}
	if err := c.waitHealthy(startTimeout, c.Members); err != nil {
		c.killAll()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) killAll() {
	for _, m := range c.Members {
		m.kill()
	}
}

// Endpoints are the members' client addresses (host:port), as a Store and
// the server's --etcd-endpoints take them.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, m := range c.Members {
		eps = append(eps, m.ClientAddr)
	}
	return eps
}

// WaitHealthy waits until every running member is healthy, failing tb
// after timeout.
func (c *Cluster) WaitHealthy(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	var running []*Member
	for _, m := range c.Members {
		if m.Running() {
			running = append(running, m)
		}
	}
	if err := c.waitHealthy(timeout, running); err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
}

func (c *Cluster) waitHealthy(timeout time.Duration, members []*Member) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, TLSClientConfig: c.clientTLS}}
	defer hc.CloseIdleConnections()
	for _, m := range members {
		for {
			if !m.Running() {
				return fmt.Errorf("member %s exited: %s", m.Name, tailFile(m.logPath, 10))
			}
			err := health(hc, c.scheme+"://"+m.ClientAddr)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("member %s not healthy after %s: %v", m.Name, timeout, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// health asks a member's /health endpoint, which answers true when the
// member has a leader and serves a linearizable read.
func health(hc *http.Client, url string) error {
	resp, err := hc.Get(url + "/health")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"health":"true"`)) {
		return fmt.Errorf("/health: %d %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

// Leader returns the index in Members of the current leader, as the
// running members see it, failing tb if there is none within timeout.
func (c *Cluster) Leader(tb testing.TB, timeout time.Duration) int {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if i, err := c.leader(); err == nil {
			return i
		} else if time.Now().After(deadline) {
			tb.Fatalf("etcdtest: no leader after %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) leader() (int, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), TLS: c.clientTLS, Logger: zap.NewNop()})
	if err != nil {
		return -1, err
	}
	defer cli.Close()
	ids := map[uint64]int{}
	var leader uint64
	var errs []error
	for i, m := range c.Members {
		if !m.Running() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := cli.Status(ctx, m.ClientAddr)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m.Name, err))
			continue
		}
		ids[st.Header.MemberId] = i
		if st.Leader != 0 {
			leader = st.Leader
		}
	}
	if i, ok := ids[leader]; ok && leader != 0 {
		return i, nil
	}
	return -1, fmt.Errorf("no member reports a running leader: %w", errors.Join(errs...))
}

// start runs the member's process with its arguments, appending its output
// to its log.
func (m *Member) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		select {
		case <-m.exited:
		default:
			return fmt.Errorf("member %s is already running", m.Name)
		}
	}
	log, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(m.bin, m.args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = cleanEnv()
	// If the test process dies without its cleanups, so do its members.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", m.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		log.Close()
		close(exited)
	}()
	m.cmd, m.exited = cmd, exited
	return nil
}

// cleanEnv is the environment without ETCD_* variables, which etcd would
// take as flags.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			env = append(env, kv)
		}
	}
	return env
}

// Running reports whether the member's process is running.
func (m *Member) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return false
	}
	select {
	case <-m.exited:
		return false
	default:
		return true
	}
}

// Kill ends the member with SIGKILL, as a crash would, and waits for it.
func (m *Member) Kill(tb testing.TB) {
	tb.Helper()
	if !m.Running() {
		tb.Fatalf("etcdtest: Kill of member %s, which is not running", m.Name)
	}
	m.kill()
}

// Stop ends the member with SIGTERM, letting it shut down cleanly, and
// waits for it (SIGKILL after 10s).
func (m *Member) Stop(tb testing.TB) {
	tb.Helper()
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	m.mu.Unlock()
	if cmd == nil {
		tb.Fatalf("etcdtest: Stop of member %s, which was never started", m.Name)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		tb.Logf("etcdtest: member %s still running 10s after SIGTERM; killing it", m.Name)
		m.kill()
	}
}

func (m *Member) kill() {
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Restart starts a stopped or killed member again on its data directory
// and ports. It does not wait for health: a member alone cannot elect a
// leader (see Cluster.WaitHealthy).
func (m *Member) Restart(tb testing.TB) {
	tb.Helper()
	if err := m.start(); err != nil {
		tb.Fatalf("etcdtest: restart: %v", err)
	}
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// tailFile returns the last n lines of the file at path.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.SplitAfter(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "")
}

// installMu serialises installing within this process; the install script
// itself is idempotent, and installLock serialises test processes.
var installMu sync.Mutex

// Binary returns the path of the etcd binary: etcd on PATH, else
// /usr/bin/etcd. If there is none it runs scripts/install-etcd.sh (apt-get
// install etcd-server, which needs root), once, and fails tb if that does
// not produce one. CI installs etcd before the tests (scripts/test.sh), so
// this is the fallback for a developer's machine.
func Binary(tb testing.TB) string {
	tb.Helper()
	if bin, ok := lookEtcd(); ok {
		return bin
	}
	installMu.Lock()
	defer installMu.Unlock()
	if bin, ok := lookEtcd(); ok {
		return bin
	}
	script, err := installScript()
	if err != nil {
		tb.Fatalf("etcdtest: no etcd binary, and %v", err)
	}
	unlock, err := installLock()
	if err != nil {
		tb.Fatalf("etcdtest: no etcd binary, and locking the install failed: %v", err)
	}
	defer unlock()
	tb.Logf("etcdtest: no etcd binary; running %s", script)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", script).CombinedOutput()
	if err != nil {
		tb.Fatalf("etcdtest: no etcd binary, and %s failed: %v\n%s", script, err, out)
	}
	if bin, ok := lookEtcd(); ok {
		return bin
	}
	tb.Fatalf("etcdtest: %s ran but there is still no etcd binary:\n%s", script, out)
	return ""
}

func lookEtcd() (string, bool) {
	if bin, err := exec.LookPath("etcd"); err == nil {
		return bin, true
	}
	if fi, err := os.Stat("/usr/bin/etcd"); err == nil && fi.Mode()&0o111 != 0 {
		return "/usr/bin/etcd", true
	}
	return "", false
}

// installScript finds scripts/install-etcd.sh from this source file.
func installScript() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the module's scripts/install-etcd.sh")
	}
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "install-etcd.sh")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("cannot find the install script: %w", err)
	}
	return script, nil
}

// installLock takes an exclusive lock shared by every test process, since
// `go test ./...` runs packages in parallel and apt-get cannot run twice.
func installLock() (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "elasticache-server-install-etcd.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
