package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
	"github.com/elasticache-server/elasticache-server/server"
)

// storeEnv selects the backend every in-process server of this package
// runs on: unset or "bolt" (the default), or "etcd", which starts one etcd
// member for the whole run. scripts/test.sh runs the package once per
// backend; tests that are about the bbolt file itself, or that run the
// binary with its own flags, are left out of the etcd run there by name.
const storeEnv = "E2E_STORE"

// etcdEndpoints is the member of an etcd run; empty on bbolt.
var etcdEndpoints string

func TestMain(m *testing.M) {
	switch store := os.Getenv(storeEnv); store {
	case "", server.StoreBolt:
		os.Exit(m.Run())
	case server.StoreEtcd:
		c, stop, err := etcdtest.StartForMain()
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			os.Exit(1)
		}
		etcdEndpoints = strings.Join(c.Endpoints(), ",")
		code := m.Run()
		stop()
		os.Exit(code)
	default:
		fmt.Fprintf(os.Stderr, "e2e: %s=%q: want bolt or etcd\n", storeEnv, store)
		os.Exit(2)
	}
}

// useStore points cfg at the run's backend. On etcd every data directory
// gets a key prefix of its own, derived from its path: tests stay apart,
// and a test that restarts a server on the same directory finds its state,
// as it would in the bbolt file.
func useStore(cfg *server.Config) {
	if etcdEndpoints == "" {
		return
	}
	sum := sha256.Sum256([]byte(cfg.DataDir))
	cfg.Store = server.StoreEtcd
	cfg.EtcdEndpoints = etcdEndpoints
	cfg.EtcdPrefix = "/e2e/" + hex.EncodeToString(sum[:8]) + "/"
	cfg.EtcdRequestTimeout = 5 * time.Second // the flag's default
}
