package server

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The commands find the store the server would: same defaults, same
// environment variables, same checks.
func TestParseStateConfig(t *testing.T) {
	t.Parallel()
	def, err := ParseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseStateConfig("export", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != def.DataDir || c.Store != def.Store || c.EtcdPrefix != def.EtcdPrefix || c.EtcdRequestTimeout != def.EtcdRequestTimeout {
		t.Errorf("defaults = %+v, want the server's %+v", c, def)
	}
	if c.stateBatching().MaxWrites != 0 {
		t.Errorf("bolt batching = %+v, want one transaction", c.stateBatching())
	}

	e := env(map[string]string{"ELASTICACHE_DATA_DIR": "/from/env", "ELASTICACHE_ETCD_PREFIX": "/env/"})
	c, err = ParseStateConfig("import", []string{"--etcd-prefix=/flag/", "--store=etcd", "--etcd-endpoints=127.0.0.1:2379", "--etcd-request-timeout=2s"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/from/env" || c.EtcdPrefix != "/flag/" || c.EtcdRequestTimeout != 2*time.Second {
		t.Errorf("config = %+v: the environment fills what flags leave, flags win", c)
	}
	if b := c.stateBatching(); b.MaxWrites != stateBatchWritesEtcd || b.MaxBytes != stateBatchBytesEtcd {
		t.Errorf("etcd batching = %+v", b)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen=:1"}, "flag provided but not defined: -listen"},
		{[]string{"state.json"}, `unexpected argument "state.json"`},
		{[]string{"--store=etcd"}, "needs --etcd-endpoints"},
		{[]string{"--etcd-endpoints=h:1"}, "--store is bolt"},
		{[]string{"--data-dir="}, "--data-dir must not be empty"},
	} {
		if _, err := ParseStateConfig("export", tc.args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error = %v, want %q", tc.args, err, tc.want)
		}
	}
	var help bytes.Buffer
	if _, err := ParseStateConfig("import", []string{"--help"}, env(nil), &help); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help = %v", err)
	}
	if !strings.HasPrefix(help.String(), "Usage: elasticache-server import [flags] < state.json") || !strings.Contains(help.String(), "-etcd-endpoints") {
		t.Errorf("import --help:\n%s", help.String())
	}
}

// A seed file that cannot be used stops start-up, and says why.
func TestSeedFileErrorsStopStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"format": "elasticache-server/state", "version": 1, "accounts": [{"id": "1"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ seed, want string }{
		{filepath.Join(dir, "missing.json"), "--seed: open " + filepath.Join(dir, "missing.json") + ": no such file or directory"},
		{bad, "--seed " + bad + ": invalid state document (2 problems; nothing was written)\n" +
			"  $.accounts[0].id: must be a 12-digit AWS account ID, not \"1\"\n  $.accounts[0].regions: is required"},
	} {
		m := NewMain(Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Seed: tc.seed}, slog.New(slog.DiscardHandler))
		err := m.Open(context.Background())
		if err == nil {
			m.Close(context.Background())
			t.Fatalf("seed %s: Open succeeded", tc.seed)
		}
		if err.Error() != tc.want {
			t.Errorf("seed %s: error =\n%s\nwant\n%s", tc.seed, err, tc.want)
		}
	}
}
