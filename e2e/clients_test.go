package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/internal/serverproc"
)

// clientsScriptTimeout bounds the boto3/AWS CLI script; it aims at under
// 100 s on a loaded 2-core machine, a loaded CI machine may need more, and a
// hang must still end.
const clientsScriptTimeout = 6 * time.Minute

// clientsSummary is the script's last line: "N passed, M failed".
var clientsSummary = regexp.MustCompile(`(?m)^(\d+) passed, (\d+) failed$`)

// clientsNotes are the script's lines worth seeing even when it passes:
// facts that are not pass/fail (say, a timing a loaded machine made
// unobservable) and its elapsed time.
var clientsNotes = regexp.MustCompile(`(?m)^(note: .*|elapsed .*)$`)

// TestBoto3AndCLI runs the per-family scripts of e2e/clients/ with boto3 and
// the AWS CLI against one freshly built binary, each script in a subtest
// of its own, in parallel. Each script starts its servers itself with the
// flags its scenarios need:
//
//   - test_boto3_cli.py: all nine operations of the cache security group
//     family (--transition-delay, --config, --quota-…; SIGTERM, restart,
//     kill -9 and the data directory lock are part of what it checks);
//   - test_subnet_groups.py: the four cache subnet group operations, their
//     tags and events, and every fault, on servers whose --config declares
//     a network, a per-account quota and a strict account.
//   - test_parameter_groups.py: the five cache parameter group operations,
//     DescribeCacheParameters, DescribeEngineDefaultParameters and
//     DescribeCacheEngineVersions, tags and events, and every fault, on
//     plain servers (the default.* groups are in every account).
//   - test_users.py: users and user groups, their tags and every fault.
//   - test_clusters.py: cache clusters with real engines behind them
//     (redis-server, memcached): create, wait for available, talk to the
//     node endpoints, modify, reboot, delete, and the common faults; no
//     engine outlives the script.
//   - test_replication_groups.py: replication groups of real redis-server
//     processes: create, wait for available, the node group's endpoints
//     and members, a write on the primary read on the replicas,
//     IncreaseReplicaCount, delete, ReplicationGroupNotFoundFault, and
//     describe-replication-groups through the AWS CLI; no engine outlives
//     the script.
//
// It never skips, not even under -short: a missing python3, boto3 or aws
// CLI fails.
func TestBoto3AndCLI(t *testing.T) {
	t.Parallel()
	python := clientsRequireTools(t)
	bin := clientsBuildServer(t)
	for _, s := range []struct{ script, label string }{
		{"test_boto3_cli.py", "boto3/AWS CLI suite"},
		{"test_subnet_groups.py", "boto3/AWS CLI subnet group suite"},
		{"test_parameter_groups.py", "boto3/AWS CLI parameter group suite"},
		{"test_users.py", "boto3/AWS CLI users suite"},
		{"test_clusters.py", "boto3/AWS CLI cache cluster suite"},
		{"test_replication_groups.py", "boto3/AWS CLI replication group suite"},
	} {
		t.Run(strings.TrimSuffix(s.script, ".py"), func(t *testing.T) {
			t.Parallel()
			runClientsScriptWith(t, python, bin, s.script, s.label)
		})
	}
}

// runClientsScript runs e2e/clients/<script> with the python3 on PATH
// against a freshly built server binary (the script starts the servers it
// needs) and fails the test unless the script ends with "N passed, 0
// failed" for some N > 0. The script's output is logged when it fails.
func runClientsScript(t *testing.T, script, label string) {
	t.Helper()
	runClientsScriptWith(t, clientsRequireTools(t), clientsBuildServer(t), script, label)
}

// runClientsScriptWith is runClientsScript with the python3 (checked by
// clientsRequireTools) and the server binary given.
func runClientsScriptWith(t *testing.T, python, bin, script, label string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientsScriptTimeout)
	defer cancel()
	path := filepath.Join("clients", script)
	cmd := exec.CommandContext(ctx, python, path, bin)
	cmd.Env = clientsEnv(t, "SERVER_BIN="+bin)
	clientsOwnGroup(cmd)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start).Round(100 * time.Millisecond)

	m := clientsSummary.FindAllStringSubmatch(out.String(), -1)
	var passed, failed int
	if len(m) > 0 {
		passed, _ = strconv.Atoi(m[len(m)-1][1])
		failed, _ = strconv.Atoi(m[len(m)-1][2])
	}
	if err == nil && len(m) > 0 && failed == 0 && passed > 0 {
		for _, note := range clientsNotes.FindAllString(out.String(), -1) {
			t.Log(note)
		}
		t.Logf("%s: %d passed, 0 failed in %s", label, passed, took)
		return
	}
	clientsLogOutput(t, out.Bytes())
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("%s did not finish within %s", path, clientsScriptTimeout)
	case len(m) == 0:
		t.Fatalf("%s printed no \"N passed, M failed\" line (%v)", path, err)
	default:
		t.Fatalf("%s: %d passed, %d failed in %s (%v)", path, passed, failed, took, err)
	}
}

// clientsRequireTools returns the python3 on PATH after checking that it has
// boto3 and that the aws CLI is on PATH; anything missing is fatal.
func clientsRequireTools(t *testing.T) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is not on PATH: the boto3/AWS CLI suite needs a python3 with boto3 and the aws CLI")
	}
	check := exec.Command(python, "-c", "import boto3, botocore; print(boto3.__version__)")
	check.Env = clientsEnv(t)
	if b, err := check.CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import boto3 (%v): install boto3 for the python3 on PATH\n%s", python, err, b)
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatal("the aws CLI is not on PATH: the boto3/AWS CLI suite needs it")
	}
	return python
}

// clientsBuildServer builds ./cmd/elasticache-server, the default binary,
// into a temp dir.
func clientsBuildServer(t *testing.T) string {
	t.Helper()
	return serverproc.Build(t, "elasticache-server")
}

// clientsEnv is the environment of the script: the test's own without any
// AWS_*, ELASTICACHE_* or proxy setting, plus static credentials, a region,
// no instance metadata, empty config and credential files, no pager.
func clientsEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	creds := filepath.Join(dir, "credentials")
	for _, p := range []string{config, creds} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "AWS_"), strings.HasPrefix(name, "ELASTICACHE_"),
			strings.HasPrefix(name, "BOTO_"), strings.HasSuffix(strings.ToLower(name), "_proxy"):
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=e2e-secret-key",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+config,
		"AWS_SHARED_CREDENTIALS_FILE="+creds,
		"AWS_PAGER=",
		"PYTHONUNBUFFERED=1",
	)
	return append(env, extra...)
}

// clientsOwnGroup runs cmd in a process group of its own and, when its
// context ends, kills the whole group: the servers the script started are
// in it, and must not outlive a script that timed out.
func clientsOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
}

// clientsLogOutput puts the script's output into the test log, line by line.
func clientsLogOutput(t *testing.T, out []byte) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		t.Log(sc.Text())
	}
}
