package etcdbackend

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
	"github.com/elasticache-server/elasticache-server/server"
	"github.com/elasticache-server/elasticache-server/storage"
)

func TestTLSFiles(t *testing.T) {
	t.Parallel()
	c := server.Config{Store: server.StoreEtcd, EtcdEndpoints: "h:1", EtcdCA: t.TempDir() + "/missing.pem"}
	if _, err := tlsConfig(c); err == nil || !strings.Contains(err.Error(), "--etcd-ca") {
		t.Errorf("missing CA file: %v", err)
	}
	if _, _, err := Open(context.Background(), c); err == nil || !strings.Contains(err.Error(), "--etcd-ca") {
		t.Errorf("Open with a missing CA file: %v", err)
	}
	c = server.Config{Store: server.StoreEtcd, EtcdEndpoints: "h:1", EtcdCert: t.TempDir() + "/c.pem", EtcdKey: t.TempDir() + "/k.pem"}
	if _, err := tlsConfig(c); err == nil || !strings.Contains(err.Error(), "--etcd-cert/--etcd-key") {
		t.Errorf("missing certificate files: %v", err)
	}
	c = server.Config{Store: server.StoreEtcd, EtcdEndpoints: "h:1"}
	if cfg, err := tlsConfig(c); cfg != nil || err != nil {
		t.Errorf("no TLS settings: %v, %v; want plain TCP", cfg, err)
	}
	c = server.Config{Store: server.StoreEtcd, EtcdEndpoints: "h:1, https://h:2"}
	if cfg, err := tlsConfig(c); cfg == nil || err != nil {
		t.Errorf("https endpoint: %v, %v; want TLS with the system's roots", cfg, err)
	}
}

// Open on a real member: the prefix of the Config is the store's, two
// stores with one prefix share their keys, and the log attribute says
// where the store is.
func TestOpenOnEtcd(t *testing.T) {
	t.Parallel()
	c := etcdtest.StartCluster(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := server.Config{Store: server.StoreEtcd, EtcdEndpoints: strings.Join(c.Endpoints(), ","), EtcdPrefix: "/a/",
		EtcdRequestTimeout: 5 * time.Second}
	open := func(prefix string) storage.Store {
		cfg.EtcdPrefix = prefix
		s, where, err := Open(ctx, cfg)
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
