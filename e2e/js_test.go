package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// jsInstallTimeout bounds scripts/install-js-sdk.sh: a cold install takes
// 10–20 s, a warm check under a second; a loaded machine or a slow registry
// may need more, and a hang must still end.
const jsInstallTimeout = 5 * time.Minute

// jsSuiteTimeout bounds the node test run; it takes a few seconds.
const jsSuiteTimeout = 3 * time.Minute

// jsSuiteFiles are the per-family suites TestJavaScriptSDK runs, relative
// to this package's directory.
var jsSuiteFiles = []string{
	filepath.Join("js", "elasticache.test.mjs"),
	filepath.Join("js", "subnetgroups.test.mjs"),
	filepath.Join("js", "parametergroups.test.mjs"),
	filepath.Join("js", "users.test.mjs"),
	filepath.Join("js", "clusters.test.mjs"),
	filepath.Join("js", "replicationgroups.test.mjs"),
}

// jsSummary matches the closing lines of node's spec reporter, e.g.
// "ℹ pass 23" and "ℹ fail 0".
var jsSummary = regexp.MustCompile(`(?m)^\S* ?(tests|pass|fail|cancelled|skipped|todo) (\d+)$`)

// TestJavaScriptSDK runs e2e/js/elasticache.test.mjs (the cache security
// group family), e2e/js/subnetgroups.test.mjs (cache subnet groups, on
// servers whose --config declares a network),
// e2e/js/parametergroups.test.mjs (cache parameter groups and the engine
// catalogue), e2e/js/users.test.mjs (users and user groups),
// e2e/js/clusters.test.mjs (cache clusters, with the real engines the
// server runs for them) and e2e/js/replicationgroups.test.mjs (replication
// groups, each member a real engine) in one node --test run: the AWS SDK for
// JavaScript v3, pinned by e2e/js/package-lock.json and
// installed by scripts/install-js-sdk.sh into a cache directory outside the
// repo, against the real binary, which each suite starts itself. It never
// skips: a missing node or npm, or an install that fails, fails the test.
func TestJavaScriptSDK(t *testing.T) {
	t.Parallel()
	runJSSuite(t, "JavaScript SDK suite", jsSuiteFiles...)
}

// runJSSuite runs the node test files in suites (relative to this package's
// directory; node runs each in a process of its own and sums them up)
// against a freshly built server binary, which the suites start
// themselves, and fails the test unless node's summary shows passes and
// nothing failed, was cancelled, skipped or left to do.
func runJSSuite(t *testing.T, label string, suites ...string) {
	t.Helper()
	sdkDir := jsInstallSDK(t)
	bin := clientsBuildServer(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: the JavaScript SDK suite needs Node.js 20 or newer")
	}

	ctx, cancel := context.WithTimeout(context.Background(), jsSuiteTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=spec"}, suites...)...)
	cmd.Env = jsEnv(t, "SERVER_BIN="+bin, "JS_SDK_DIR="+sdkDir)
	// Its own process group, so that a timeout also ends the test files'
	// processes and the servers they started, not only the runner.
	clientsOwnGroup(cmd)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start).Round(100 * time.Millisecond)

	files := strings.Join(suites, " ")
	counts := map[string]int{}
	for _, m := range jsSummary.FindAllStringSubmatch(out.String(), -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	_, summarised := counts["pass"]
	if err == nil && summarised && counts["fail"] == 0 && counts["cancelled"] == 0 &&
		counts["skipped"] == 0 && counts["todo"] == 0 && counts["pass"] > 0 {
		t.Logf("%s: %d passed, 0 failed in %s", label, counts["pass"], took)
		return
	}
	clientsLogOutput(t, out.Bytes())
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("node --test %s did not finish within %s", files, jsSuiteTimeout)
	case !summarised:
		t.Fatalf("node --test %s printed no summary (%v)", files, err)
	default:
		t.Fatalf("node --test %s: %d passed, %d failed, %d cancelled, %d skipped, %d todo in %s (%v)", files,
			counts["pass"], counts["fail"], counts["cancelled"], counts["skipped"], counts["todo"], took, err)
	}
}

// jsInstallSDK runs scripts/install-js-sdk.sh and returns the directory that
// holds the installed node_modules. Any failure is fatal, with the script's
// output.
func jsInstallSDK(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "scripts", "install-js-sdk.sh")
	ctx, cancel := context.WithTimeout(context.Background(), jsInstallTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Dir = root
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start).Round(100 * time.Millisecond)
	if err != nil {
		clientsLogOutput(t, stderr.Bytes())
		clientsLogOutput(t, stdout.Bytes())
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("%s did not finish within %s", script, jsInstallTimeout)
		}
		t.Fatalf("%s failed after %s (%v): the JavaScript SDK suite cannot run without the SDK", script, took, err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	modules := strings.TrimSpace(lines[len(lines)-1])
	if filepath.Base(modules) != "node_modules" || !filepath.IsAbs(modules) {
		t.Fatalf("%s printed %q, not the absolute path of a node_modules directory\n%s", script, modules, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(modules, "@aws-sdk", "client-elasticache", "package.json")); err != nil {
		t.Fatalf("%s succeeded but the SDK is not in %s: %v", script, modules, err)
	}
	t.Logf("install-js-sdk.sh: %s in %s", strings.TrimSpace(stderr.String()), took)
	return filepath.Dir(modules)
}

// jsEnv is the environment of the node run: the test's own without any
// AWS_*, ELASTICACHE_*, proxy or node setting that could change what the
// suite loads or where clients send requests, plus no instance metadata and
// empty AWS config and credential files (the suite also enforces these).
func jsEnv(t *testing.T, extra ...string) []string {
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
			strings.HasSuffix(strings.ToLower(name), "_proxy"),
			name == "NODE_OPTIONS", name == "NODE_PATH", name == "NODE_TEST_CONTEXT",
			name == "SERVER_BIN", name == "JS_SDK_DIR":
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+config,
		"AWS_SHARED_CREDENTIALS_FILE="+creds,
		"AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true",
		"NO_COLOR=1",
	)
	return append(env, extra...)
}
