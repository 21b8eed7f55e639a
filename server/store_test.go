package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
)

// stubEtcd stands for the etcd backend where a test only parses flags:
// package server cannot import server/etcdbackend (it imports server).
func stubEtcd(context.Context, Config) (storage.Store, slog.Attr, error) {
	return nil, slog.Attr{}, errors.New("stubEtcd opens nothing")
}

func TestParseConfigStore(t *testing.T) {
	t.Parallel()
	e := env(map[string]string{
		"ELASTICACHE_STORE":                "etcd",
		"ELASTICACHE_ETCD_ENDPOINTS":       "127.0.0.1:2379, https://etcd-2.example:2379",
		"ELASTICACHE_ETCD_PREFIX":          "/prod/",
		"ELASTICACHE_ETCD_CA":              "/etc/etcd/ca.pem",
		"ELASTICACHE_ETCD_REQUEST_TIMEOUT": "2s",
	})
	c, err := ParseConfig([]string{"--etcd-cert=/c.pem", "--etcd-key=/k.pem"}, e, io.Discard, stubEtcd)
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
			_, err := ParseConfig(tc.args, env(nil), io.Discard, stubEtcd)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// Without the etcd backend, --store etcd is refused before anything the
// other --etcd-* flags get wrong, naming the binary that has it.
func TestParseConfigEtcdWithoutBackend(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--store=etcd"}, {"--store=etcd", "--etcd-endpoints=h:1"}, {"--store=etcd", "--etcd-endpoints=h", "--etcd-prefix="}} {
		_, err := ParseConfig(args, env(nil), io.Discard, nil)
		if !errors.Is(err, ErrNoEtcdBackend) || !strings.Contains(err.Error(), "elasticache-server-etcd") {
			t.Errorf("%v: error = %v, want ErrNoEtcdBackend", args, err)
		}
	}
	if _, err := ParseConfig(nil, env(map[string]string{"ELASTICACHE_STORE": "etcd"}), io.Discard, nil); !errors.Is(err, ErrNoEtcdBackend) {
		t.Errorf("ELASTICACHE_STORE=etcd: error = %v, want ErrNoEtcdBackend", err)
	}
}

// Main opens etcd only through the injected opener: without one, Open
// fails at once; with one, it is given the whole Config and the server
// runs on the store it returns (here a bbolt file, to need no etcd).
func TestOpenEtcdThroughOpener(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	cfg := Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Store: StoreEtcd, EtcdEndpoints: "h:1", EtcdPrefix: "/p/"}
	m := NewMain(cfg, logger)
	if err := m.Open(context.Background()); !errors.Is(err, ErrNoEtcdBackend) {
		m.Close(context.Background())
		t.Fatalf("Open on etcd without an opener = %v, want ErrNoEtcdBackend", err)
	}

	var got Config
	cfg.OpenEtcd = func(ctx context.Context, c Config) (storage.Store, slog.Attr, error) {
		got = c
		s, err := bolt.Open(filepath.Join(t.TempDir(), "stand-in.db"), bolt.Config{})
		return s, slog.String("stand-in", "bolt"), err
	}
	m = NewMain(cfg, logger)
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	if got.EtcdEndpoints != "h:1" || got.EtcdPrefix != "/p/" || got.Store != StoreEtcd {
		t.Errorf("the opener was given %+v", got)
	}
	if m.cfg.sweepBatch() != sweepBatchEtcd {
		t.Errorf("sweep batch = %d, want etcd's", m.cfg.sweepBatch())
	}
	if err := m.store.Update(context.Background(), func(tx storage.Tx) error { return tx.Put([]byte("k"), []byte("v")) }); err != nil {
		t.Errorf("the store the opener returned: %v", err)
	}
}
