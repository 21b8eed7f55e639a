package etcdtest_test

import (
	"net"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
)

// TestMemberLifecycle stops a member cleanly and restarts it on the same
// ports and data; Leader finds it, and Endpoints are never etcd's
// standard ports.
func TestMemberLifecycle(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 1)
	m := c.Members[0]
	for _, ep := range c.Endpoints() {
		host, port, err := net.SplitHostPort(ep)
		if err != nil || host != "127.0.0.1" || port == "2379" || port == "2380" {
			t.Errorf("endpoint %q: want a random loopback port", ep)
		}
	}
	if got := c.Leader(t, 10*time.Second); got != 0 {
		t.Errorf("Leader = %d, want 0", got)
	}
	start := time.Now()
	m.Stop(t)
	t.Logf("stop took %s", time.Since(start))
	start = time.Now()
	if m.Running() {
		t.Fatal("member still running after Stop")
	}
	if conn, err := net.DialTimeout("tcp", m.ClientAddr, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Stop", m.ClientAddr)
	}
	m.Restart(t)
	c.WaitHealthy(t, 30*time.Second)
	t.Logf("restart took %s", time.Since(start))
	if !m.Running() {
		t.Error("member not running after Restart")
	}
}
