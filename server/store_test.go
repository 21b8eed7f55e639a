package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
	"github.com/elasticache-server/elasticache-server/storage"
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
	if got := strings.Join(c.EtcdEndpointList(), "|"); got != "127.0.0.1:2379|https://etcd-2.example:2379" {
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
	if _, err := etcdTLSConfig(c); err == nil || !strings.Contains(err.Error(), "--etcd-ca") {
		t.Errorf("missing CA file: %v", err)
	}
	if _, _, err := openEtcd(context.Background(), c); err == nil || !strings.Contains(err.Error(), "--etcd-ca") {
		t.Errorf("openEtcd with a missing CA file: %v", err)
	}
	c = Config{Store: StoreEtcd, EtcdEndpoints: "h:1", EtcdCert: t.TempDir() + "/c.pem", EtcdKey: t.TempDir() + "/k.pem"}
	if _, err := etcdTLSConfig(c); err == nil || !strings.Contains(err.Error(), "--etcd-cert/--etcd-key") {
		t.Errorf("missing certificate files: %v", err)
	}
	c = Config{Store: StoreEtcd, EtcdEndpoints: "h:1"}
	if cfg, err := etcdTLSConfig(c); cfg != nil || err != nil {
		t.Errorf("no TLS settings: %v, %v; want plain TCP", cfg, err)
	}
	c = Config{Store: StoreEtcd, EtcdEndpoints: "h:1, https://h:2"}
	if cfg, err := etcdTLSConfig(c); cfg == nil || err != nil {
		t.Errorf("https endpoint: %v, %v; want TLS with the system's roots", cfg, err)
	}
}

// openEtcd on a real member: the prefix of the Config is the store's, two
// stores with one prefix share their keys, and the log attribute says
// where the store is.
func TestOpenEtcd(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := Config{Store: StoreEtcd, EtcdEndpoints: strings.Join(c.Endpoints(), ","), EtcdPrefix: "/a/",
		EtcdRequestTimeout: 5 * time.Second}
	open := func(prefix string) storage.Store {
		cfg.EtcdPrefix = prefix
		s, where, err := openEtcd(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if got := where.String(); !strings.Contains(got, "prefix="+prefix) || !strings.Contains(got, "tls=false") {
			t.Errorf("log attribute %s", got)
		}
		return s
	}
	a, a2, b := open("/a/"), open("/a/"), open("/b/")
	if err := a.Update(ctx, func(tx storage.Tx) error { return tx.Put([]byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	read := func(s storage.Store) (string, error) {
		var v []byte
		err := s.View(ctx, func(tx storage.Tx) error {
			var err error
			v, err = tx.Get([]byte("k"))
			return err
		})
		return string(v), err
	}
	if v, err := read(a2); v != "v" || err != nil {
		t.Errorf("the same prefix reads %q, %v; want v", v, err)
	}
	if _, err := read(b); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another prefix reads: %v, want ErrNotFound", err)
	}
}

// Main on --store etcd opens etcd with the whole Config, sweeps events in
// etcd-sized batches and serves on the store it opened.
func TestMainOnEtcd(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 1)
	cfg := Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Store: StoreEtcd, EtcdEndpoints: strings.Join(c.Endpoints(), ","),
		EtcdPrefix: "/p/", EtcdRequestTimeout: 5 * time.Second}
	m := NewMain(cfg, slog.New(slog.DiscardHandler))
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	if m.cfg.sweepBatch() != sweepBatchEtcd {
		t.Errorf("sweep batch = %d, want etcd's", m.cfg.sweepBatch())
	}
	if err := m.store.Update(context.Background(), func(tx storage.Tx) error { return tx.Put([]byte("k"), []byte("v")) }); err != nil {
		t.Errorf("the store Main opened: %v", err)
	}
}
