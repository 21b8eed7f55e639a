package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elasticache-server/elasticache-server/server"
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
          "cacheParameterGroups": [],
          "users": [],
          "userGroups": [],
          "cacheClusters": [],
          "replicationGroups": [],
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
	if code := Run([]string{"import", "--data-dir", dir}, noEnv, strings.NewReader(seedDoc), &stdout, &stderr); code != 0 {
		t.Fatalf("import = %d, stderr:\n%s", code, stderr.String())
	}
	if got := stdout.String(); got != "imported 1 accounts, 1 regions, 1 cache security groups, 0 cache subnet groups, 0 cache parameter groups, 0 users, 0 user groups, 0 cache clusters, 0 replication groups, 0 events\n" {
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
	if code := Run([]string{"export"}, getenv, strings.NewReader(""), &stdout, &stderr); code != 0 {
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
		code := Run(tc.args, noEnv, strings.NewReader(tc.stdin), &stdout, &stderr)
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
		if code := Run(tc.args, noEnv, strings.NewReader(""), &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, output:\n%s\nwant it to contain %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// --version says the binary's name and version.
func TestVersion(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := Run([]string{"--version"}, noEnv, strings.NewReader(""), &stdout, &stderr); code != 0 || stdout.String() != "elasticache-server "+server.Version()+"\n" {
		t.Errorf("--version: exit %d, %q", code, stdout.String())
	}
}

// --store etcd, as a flag or from the environment, goes to the etcd
// backend for the server and both commands: here it fails at once on a
// missing CA file (no etcd needed), and the run exits 1 with its error.
func TestEtcdStore(t *testing.T) {
	t.Parallel()
	ca := filepath.Join(t.TempDir(), "missing-ca.pem")
	storeEnv := func(k string) string {
		switch k {
		case "ELASTICACHE_STORE":
			return "etcd"
		case "ELASTICACHE_ETCD_ENDPOINTS":
			return "127.0.0.1:1"
		}
		return ""
	}
	for _, tc := range []struct {
		args   []string
		getenv func(string) string
		prefix string
	}{
		{[]string{"--listen=127.0.0.1:0", "--store=etcd", "--etcd-endpoints=127.0.0.1:1", "--etcd-ca=" + ca}, noEnv, "elasticache-server: "},
		{[]string{"--listen=127.0.0.1:0", "--etcd-ca=" + ca}, storeEnv, "elasticache-server: "},
		{[]string{"export", "--store=etcd", "--etcd-endpoints=127.0.0.1:1", "--etcd-ca=" + ca}, noEnv, "elasticache-server export: "},
		{[]string{"import", "--store=etcd", "--etcd-endpoints=127.0.0.1:1", "--etcd-ca=" + ca}, noEnv, "elasticache-server import: "},
	} {
		var stdout, stderr bytes.Buffer
		code := Run(tc.args, tc.getenv, strings.NewReader(seedDoc), &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), tc.prefix) || !strings.Contains(stderr.String(), "--etcd-ca: open "+ca) || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s\nwant exit 1 and %s--etcd-ca: open %s…", tc.args, code, stdout.String(), stderr.String(), tc.prefix, ca)
		}
	}
}
