// Package etcdbackend opens the etcd store a server.Config describes
// (endpoints, TLS files, key prefix, request timeout). It is apart from
// package server so that only the binary that serves on etcd,
// cmd/elasticache-server-etcd, links the etcd client: its package init
// (gRPC, protobuf descriptors, zap) alone costs about 3 ms before main,
// more than the whole start-up of the bbolt server (docs/DECISIONS.md).
package etcdbackend

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/elasticache-server/elasticache-server/server"
	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/etcd"
)

// Open opens the etcd store of cfg: a server.EtcdOpener. The attribute
// says where it is, for the server's start-up log line.
func Open(ctx context.Context, cfg server.Config) (storage.Store, slog.Attr, error) {
	tlsCfg, err := tlsConfig(cfg)
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

// tlsConfig builds the client TLS configuration from --etcd-cert,
// --etcd-key and --etcd-ca; nil when none is set and no endpoint says
// https.
func tlsConfig(c server.Config) (*tls.Config, error) {
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
