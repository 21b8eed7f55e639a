package e2e

import (
	"net"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/elasticache-server/elasticache-server/server"
)

// TestClusterEngineBindAndAdvertise: with --node-bind and --node-advertise
// every engine listens on the bind address, each on a port of its own from
// the cluster's port up, and endpoints give clients the advertised host,
// which real clients reach.
func TestClusterEngineBindAndAdvertise(t *testing.T) {
	t.Parallel()
	requireEngines(t)
	dir := engineDataDir(t)
	srv := startEngineServer(t, dir, func(c *server.Config) { c.NodeBind, c.NodeAdvertise = "127.0.0.1", "localhost" })
	c := client(t, srv.Addr, engAccount, engRegion)
	ctx := t.Context()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := int32(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()

	for _, id := range []string{"bound-1", "bound-2"} {
		in := redisCluster(id)
		in.Port = aws.Int32(port)
		createCluster(t, c, in)
	}
	seen := map[string]bool{}
	for _, id := range []string{"bound-1", "bound-2"} {
		n := waitAvailable(t, c, id).CacheNodes[0]
		host, p, _ := net.SplitHostPort(endpoint(t, n))
		got, _ := strconv.Atoi(p)
		if host != "localhost" || got < int(port) || seen[p] {
			t.Fatalf("%s endpoint = %s, want localhost on a port of its own from %d", id, endpoint(t, n), port)
		}
		seen[p] = true
		rdb := redisAt(t, endpoint(t, n))
		if err := rdb.Set(ctx, "k", id, 0).Err(); err != nil {
			t.Fatalf("SET through %s: %v", endpoint(t, n), err)
		}
		waitRedisGet(t, rdb, "k", id)
		// It listens on the bind address, not on a loopback address of
		// its own.
		if conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", p)); err != nil {
			t.Fatalf("%s does not listen on 127.0.0.1:%s: %v", id, p, err)
		} else {
			conn.Close()
		}
	}
}
