package server

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseConfigStore(t *testing.T) {
	t.Parallel()
	e := env(map[string]string{
		"ELASTICACHE_STORE":                "etcd",
		"ELASTICACHE_ETCD_ENDPOINTS":       "127.0.0.1:2379, https://etcd-2.example:2379",
		"ELASTICACHE_ETCD_PREFIX":          "/prod/",
		"ELASTICACHE_ETCD_CA":              "/etc/etcd/ca.pem",
		"ELASTICACHE_ETCD_REQUEST_TIMEOUT": "2s",
	})
	c, err := ParseConfig([]string{"--etcd-cert=/c.pem", "--etcd-key=/k.pem"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store != "etcd" || c.EtcdPrefix != "/prod/" || c.EtcdCA != "/etc/etcd/ca.pem" || c.EtcdCert != "/c.pem" ||
		c.EtcdKey != "/k.pem" || c.EtcdRequestTimeout != 2*time.Second {
		t.Fatalf("config = %+v", c)
	}
	if got := strings.Join(c.etcdEndpoints(), "|"); got != "127.0.0.1:2379|https://etcd-2.example:2379" {
		t.Errorf("endpoints = %q", got)
	}
	if c.sweepBatch() != sweepBatchEtcd {
		t.Errorf("sweep batch on etcd = %d", c.sweepBatch())
	}
}

func TestParseConfigStoreErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown store", []string{"--store=redis"}, "bolt or etcd"},
		{"etcd without endpoints", []string{"--store=etcd"}, "needs --etcd-endpoints"},
		{"endpoint without port", []string{"--store=etcd", "--etcd-endpoints=127.0.0.1"}, "not host:port"},
		{"empty endpoint host", []string{"--store=etcd", "--etcd-endpoints=:2379"}, "not host:port"},
		{"empty prefix", []string{"--store=etcd", "--etcd-endpoints=h:1", "--etcd-prefix="}, "must not be empty"},
		{"cert without key", []string{"--store=etcd", "--etcd-endpoints=h:1", "--etcd-cert=c.pem"}, "go together"},
		{"zero timeout", []string{"--store=etcd", "--etcd-endpoints=h:1", "--etcd-request-timeout=0s"}, "positive"},
		{"etcd flag on bolt", []string{"--etcd-endpoints=h:1"}, "--store is bolt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfig(tc.args, env(nil), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestEtcdTLSFiles(t *testing.T) {
	t.Parallel()
	c := Config{Store: StoreEtcd, EtcdEndpoints: "h:1", EtcdCA: t.TempDir() + "/missing.pem"}
	if _, err := c.etcdTLS(); err == nil || !strings.Contains(err.Error(), "--etcd-ca") {
		t.Errorf("missing CA file: %v", err)
	}
	c = Config{Store: StoreEtcd, EtcdEndpoints: "h:1"}
	if cfg, err := c.etcdTLS(); cfg != nil || err != nil {
		t.Errorf("no TLS settings: %v, %v; want plain TCP", cfg, err)
	}
	c = Config{Store: StoreEtcd, EtcdEndpoints: "https://h:1"}
	if cfg, err := c.etcdTLS(); cfg == nil || err != nil {
		t.Errorf("https endpoint: %v, %v; want TLS with the system's roots", cfg, err)
	}
}
