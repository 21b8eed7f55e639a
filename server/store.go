package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
)

// The --store values.
const (
	StoreBolt = "bolt"
	StoreEtcd = "etcd"
)

// EtcdOpener opens the etcd store cfg describes and says where it is, for
// the start-up log line. Package server does not import the etcd client:
// its package init alone (gRPC, protobuf descriptors, zap) costs about 3 ms
// before main, which would more than double the bbolt server's start-up
// (docs/DECISIONS.md). The binary that links etcd, cmd/elasticache-server-etcd,
// passes server/etcdbackend.Open; without it --store etcd is refused.
type EtcdOpener func(ctx context.Context, cfg Config) (storage.Store, slog.Attr, error)

// ErrNoEtcdBackend is --store etcd in a binary built without the etcd
// backend. The binaries exit 2 on it, as on any bad flag.
var ErrNoEtcdBackend = errors.New("--store etcd needs the etcd backend, which this binary leaves out so that it starts faster: " +
	"run elasticache-server-etcd (go run ./cmd/elasticache-server-etcd) with the same flags")

// Event sweeps remove at most this many events per transaction. etcd
// refuses transactions of more than --max-txn-ops operations (128 by
// default), and a sweep of n events makes about 2n deletes and n compares.
const (
	sweepBatchBolt = 1000
	sweepBatchEtcd = 50
)

// storeName is the backend in use; an unset Store (a Config built in code
// rather than by ParseConfig) is the embedded one.
func (c Config) storeName() string {
	if c.Store == "" {
		return StoreBolt
	}
	return c.Store
}

// sweepBatch is how many expired events one sweep transaction removes.
func (c Config) sweepBatch() int {
	if c.storeName() == StoreEtcd {
		return sweepBatchEtcd
	}
	return sweepBatchBolt
}

// EtcdEndpointList is --etcd-endpoints split at commas, blanks trimmed.
func (c Config) EtcdEndpointList() []string {
	var eps []string
	for _, ep := range strings.Split(c.EtcdEndpoints, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			eps = append(eps, ep)
		}
	}
	return eps
}

// validateStore checks the --store and --etcd-* settings.
func (c Config) validateStore() error {
	switch c.storeName() {
	case StoreBolt:
		for _, f := range []struct{ name, value string }{
			{"etcd-endpoints", c.EtcdEndpoints}, {"etcd-cert", c.EtcdCert}, {"etcd-key", c.EtcdKey}, {"etcd-ca", c.EtcdCA},
		} {
			if f.value != "" {
				return fmt.Errorf("--%s is set but --store is bolt; add --store etcd to use etcd", f.name)
			}
		}
		return nil
	case StoreEtcd:
		if c.OpenEtcd == nil {
			return ErrNoEtcdBackend
		}
	default:
		return fmt.Errorf("--store must be bolt or etcd, not %q", c.Store)
	}
	eps := c.EtcdEndpointList()
	if len(eps) == 0 {
		return errors.New("--store etcd needs --etcd-endpoints (host:port of each member, comma-separated)")
	}
	for _, ep := range eps {
		hostPort := strings.TrimPrefix(strings.TrimPrefix(ep, "http://"), "https://")
		if host, port, err := net.SplitHostPort(hostPort); err != nil || host == "" || port == "" {
			return fmt.Errorf("--etcd-endpoints: %q is not host:port", ep)
		}
	}
	switch {
	case c.EtcdPrefix == "":
		return errors.New("--etcd-prefix must not be empty: the server would share etcd's whole key space")
	case (c.EtcdCert == "") != (c.EtcdKey == ""):
		return errors.New("--etcd-cert and --etcd-key go together: give both for a client certificate, or neither")
	case c.EtcdRequestTimeout <= 0:
		return errors.New("--etcd-request-timeout must be positive")
	}
	return nil
}

// openStore opens the configured backend. where says which one, for the
// start-up log line.
func (m *Main) openStore(ctx context.Context) (store storage.Store, where slog.Attr, err error) {
	switch m.cfg.storeName() {
	case StoreBolt:
		if err := os.MkdirAll(m.cfg.DataDir, 0o700); err != nil {
			return nil, where, fmt.Errorf("data directory: %w", err)
		}
		path := filepath.Join(m.cfg.DataDir, storeFileName)
		s, err := bolt.Open(path, bolt.Config{})
		if err != nil {
			if errors.Is(err, bolt.ErrLocked) {
				return nil, where, fmt.Errorf("data directory %s is in use by another elasticache-server: %w", m.cfg.DataDir, err)
			}
			return nil, where, fmt.Errorf("open store %s: %w", path, err)
		}
		return s, slog.String("path", path), nil
	case StoreEtcd:
		if m.cfg.OpenEtcd == nil {
			return nil, where, ErrNoEtcdBackend
		}
		return m.cfg.OpenEtcd(ctx, m.cfg)
	}
	return nil, where, fmt.Errorf("unknown store %q", m.cfg.Store)
}
