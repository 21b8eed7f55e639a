package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
	"github.com/elasticache-server/elasticache-server/storage/etcd"
)

// The --store values.
const (
	StoreBolt = "bolt"
	StoreEtcd = "etcd"
)

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
		return openEtcd(ctx, m.cfg)
	}
	return nil, where, fmt.Errorf("unknown store %q", m.cfg.Store)
}

// openEtcd opens the etcd store of cfg (endpoints, TLS files, key prefix,
// request timeout). The attribute says where it is, for the start-up log
// line.
func openEtcd(ctx context.Context, cfg Config) (storage.Store, slog.Attr, error) {
	tlsCfg, err := etcdTLSConfig(cfg)
	if err != nil {
		return nil, slog.Attr{}, err
	}
	eps := cfg.EtcdEndpointList()
	s, err := etcd.Open(ctx, etcd.Config{
		Endpoints:      eps,
		Prefix:         cfg.EtcdPrefix,
		TLS:            tlsCfg,
		RequestTimeout: cfg.EtcdRequestTimeout,
	})
	if err != nil {
		return nil, slog.Attr{}, fmt.Errorf("open etcd store: %w", err)
	}
	return s, slog.Group("etcd", "endpoints", strings.Join(eps, ","), "prefix", cfg.EtcdPrefix, "tls", tlsCfg != nil), nil
}

// etcdTLSConfig builds the client TLS configuration from --etcd-cert,
// --etcd-key and --etcd-ca; nil when none is set and no endpoint says
// https.
func etcdTLSConfig(c Config) (*tls.Config, error) {
	https := false
	for _, ep := range c.EtcdEndpointList() {
		https = https || strings.HasPrefix(ep, "https://")
	}
	if c.EtcdCert == "" && c.EtcdCA == "" && !https {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.EtcdCert != "" {
		cert, err := tls.LoadX509KeyPair(c.EtcdCert, c.EtcdKey)
		if err != nil {
			return nil, fmt.Errorf("--etcd-cert/--etcd-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if c.EtcdCA != "" {
		pem, err := os.ReadFile(c.EtcdCA)
		if err != nil {
			return nil, fmt.Errorf("--etcd-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--etcd-ca: no PEM certificate in %s", c.EtcdCA)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
