package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elasticache-server/elasticache-server/server"
	"github.com/elasticache-server/elasticache-server/storage"
)

func noEnv(string) string { return "" }

const seedDoc = `{"format": "elasticache-server/state", "version": 1, "accounts": [{"id": "111111111111", "regions": [
  {"region": "eu-west-1", "cacheSecurityGroups": [{"name": "Web", "description": "web tier", "tags": [{"key": "env", "value": "prod"}]}]}]}]}`

const canonical = `{
  "format": "elasticache-server/state",
  "version": 1,
  "accounts": [
    {
      "id": "111111111111",
      "regions": [
        {
          "region": "eu-west-1",
          "cacheSecurityGroups": [
            {
              "name": "web",
              "description": "web tier",
              "ec2SecurityGroups": [],
              "tags": [
                {
                  "key": "env",
                  "value": "prod"
                }
              ]
            }
          ],
          "cacheSubnetGroups": [],
          "events": []
        }
      ]
    }
  ]
}
`

// import, then export, on a free data directory: the first argument picks
// the command and the store flags are the server's.
func TestImportThenExport(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	var stdout, stderr bytes.Buffer
	if code := Run([]string{"import", "--data-dir", dir}, noEnv, strings.NewReader(seedDoc), &stdout, &stderr, Options{}); code != 0 {
		t.Fatalf("import = %d, stderr:\n%s", code, stderr.String())
	}
	if got := stdout.String(); got != "imported 1 accounts, 1 regions, 1 cache security groups, 0 cache subnet groups, 0 events\n" {
		t.Errorf("import said %q", got)
	}
	stdout.Reset()
	// The directory can also come from the environment, as for the server.
	getenv := func(k string) string {
		if k == "ELASTICACHE_DATA_DIR" {
			return dir
		}
		return ""
	}
	if code := Run([]string{"export"}, getenv, strings.NewReader(""), &stdout, &stderr, Options{}); code != 0 {
		t.Fatalf("export = %d, stderr:\n%s", code, stderr.String())
	}
	if stdout.String() != canonical {
		t.Errorf("export wrote:\n%s\nwant:\n%s", stdout.String(), canonical)
	}
}

func TestStateCommandFailures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"export of nothing", []string{"export", "--data-dir", filepath.Join(dir, "none")}, "", 1,
			"elasticache-server export: no store to export in " + filepath.Join(dir, "none")},
		{"bad document", []string{"import", "--data-dir", filepath.Join(dir, "bad")}, `{"format": "x", "version": 1, "accounts": []}`, 1,
			"elasticache-server import: invalid state document (1 problem; nothing was written)\n  $.format: must be \"elasticache-server/state\""},
		{"empty stdin", []string{"import", "--data-dir", filepath.Join(dir, "bad")}, "", 1,
			"$: the document is empty; expected a JSON object"},
		{"server flag", []string{"export", "--listen", ":1"}, "", 2, "flag provided but not defined: -listen"},
		{"argument", []string{"import", "state.json"}, "", 2, `elasticache-server import: unexpected argument "state.json"`},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		code := Run(tc.args, noEnv, strings.NewReader(tc.stdin), &stdout, &stderr, Options{})
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d and %q", tc.name, code, stderr.String(), tc.code, tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: stdout %q, want nothing", tc.name, stdout.String())
		}
	}
	// A refused document leaves no trace: not even a new data directory.
	if _, err := os.Stat(filepath.Join(dir, "bad")); !os.IsNotExist(err) {
		t.Errorf("refused import created its data directory: %v", err)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "--help"}, "Usage: elasticache-server export [flags] > state.json"},
		{[]string{"import", "-h"}, "Usage: elasticache-server import [flags] < state.json"},
		{[]string{"--help"}, "export  write the state document of a store to standard output"},
	} {
		var stdout, stderr bytes.Buffer
		if code := Run(tc.args, noEnv, strings.NewReader(""), &stdout, &stderr, Options{}); code != 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, output:\n%s\nwant it to contain %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// The binary with the etcd backend says its own name in help, usage and
// --version, so that what they tell a user to run is the binary in hand.
func TestEtcdBinaryNamesItself(t *testing.T) {
	t.Parallel()
	opts := Options{OpenEtcd: func(context.Context, server.Config) (storage.Store, slog.Attr, error) {
		return nil, slog.Attr{}, errors.New("not called")
	}}
	for _, tc := range []struct {
		args       []string
		out, other string // out: what stdout (version) or stderr (help) must contain
	}{
		{[]string{"--help"}, "Usage: elasticache-server-etcd [flags]", "(elasticache-server-etcd export --help, elasticache-server-etcd import --help)"},
		{[]string{"export", "--help"}, "Usage: elasticache-server-etcd export [flags] > state.json", ""},
		{[]string{"import", "-h"}, "Usage: elasticache-server-etcd import [flags] < state.json", ""},
		{[]string{"--version"}, "elasticache-server-etcd " + server.Version() + "\n", ""},
	} {
		var stdout, stderr bytes.Buffer
		code := Run(tc.args, noEnv, strings.NewReader(""), &stdout, &stderr, opts)
		got := stderr.String()
		if tc.args[0] == "--version" {
			got = stdout.String()
		}
		if code != 0 || !strings.Contains(got, tc.out) || !strings.Contains(got, tc.other) {
			t.Errorf("%v: exit %d, output:\n%s\nwant it to contain %q and %q", tc.args, code, got, tc.out, tc.other)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Run([]string{"--version"}, noEnv, strings.NewReader(""), &stdout, &stderr, Options{}); code != 0 || stdout.String() != "elasticache-server "+server.Version()+"\n" {
		t.Errorf("default binary --version: exit %d, %q", code, stdout.String())
	}
}

// The default binary has no etcd backend: --store etcd, as a flag or from
// the environment, for the server and both commands, exits 2 at once like
// any bad flag and names the binary that has it.
func TestEtcdWithoutBackend(t *testing.T) {
	t.Parallel()
	storeEnv := func(k string) string {
		if k == "ELASTICACHE_STORE" {
			return "etcd"
		}
		return ""
	}
	for _, tc := range []struct {
		args   []string
		getenv func(string) string
		prefix string
	}{
		{[]string{"--store", "etcd", "--etcd-endpoints", "127.0.0.1:2379"}, noEnv, "elasticache-server: "},
		{[]string{"--listen", "127.0.0.1:0"}, storeEnv, "elasticache-server: "},
		{[]string{"export", "--store=etcd"}, noEnv, "elasticache-server export: "},
		{[]string{"import", "--store=etcd", "--etcd-endpoints=127.0.0.1:2379"}, noEnv, "elasticache-server import: "},
	} {
		var stdout, stderr bytes.Buffer
		code := Run(tc.args, tc.getenv, strings.NewReader(seedDoc), &stdout, &stderr, Options{})
		want := tc.prefix + "--store etcd needs the etcd backend, which this binary leaves out so that it starts faster: " +
			"run elasticache-server-etcd (go run ./cmd/elasticache-server-etcd) with the same flags\n"
		if code != 2 || stderr.String() != want || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and\n%s", tc.args, code, stdout.String(), stderr.String(), want)
		}
	}
}

// With a backend, --store etcd goes to it, for the server and both
// commands; an opener that fails makes the run fail with its error.
func TestEtcdThroughBackend(t *testing.T) {
	t.Parallel()
	var calls []string
	opts := Options{OpenEtcd: func(_ context.Context, cfg server.Config) (storage.Store, slog.Attr, error) {
		calls = append(calls, cfg.EtcdPrefix)
		return nil, slog.Attr{}, errors.New("no etcd here")
	}}
	for i, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen=127.0.0.1:0", "--store=etcd", "--etcd-endpoints=127.0.0.1:1", "--etcd-prefix=/0/"}, "elasticache-server-etcd: no etcd here\n"},
		{[]string{"export", "--store=etcd", "--etcd-endpoints=127.0.0.1:1", "--etcd-prefix=/1/"}, "elasticache-server-etcd export: no etcd here\n"},
		{[]string{"import", "--store=etcd", "--etcd-endpoints=127.0.0.1:1", "--etcd-prefix=/2/"}, "elasticache-server-etcd import: no etcd here\n"},
	} {
		var stdout, stderr bytes.Buffer
		code := Run(tc.args, noEnv, strings.NewReader(seedDoc), &stdout, &stderr, opts)
		if code != 1 || !strings.HasSuffix(stderr.String(), tc.want) || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s\nwant exit 1 and %q", tc.args, code, stdout.String(), stderr.String(), tc.want)
		}
		if len(calls) != i+1 || calls[i] != fmt.Sprintf("/%d/", i) {
			t.Errorf("%v: the backend was called for %q", tc.args, calls)
		}
	}
}
