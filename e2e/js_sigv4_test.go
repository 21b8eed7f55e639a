package e2e

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// jsSigV4SuiteFile is the sigv4 suite, relative to this package's directory.
var jsSigV4SuiteFile = filepath.Join("js", "sigv4.test.mjs")

// TestJavaScriptSDKSigV4 runs e2e/js/sigv4.test.mjs: the AWS SDK for
// JavaScript v3 against the real binary started with --auth sigv4: every
// operation with the right keys, SignatureDoesNotMatch for a wrong secret
// or a region not served, InvalidClientTokenId for an unknown key or a
// session token. Like TestJavaScriptSDK it never skips.
func TestJavaScriptSDKSigV4(t *testing.T) {
	t.Parallel()
	sdkDir := jsInstallSDK(t)
	bin := clientsBuildServer(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: the JavaScript SDK suite needs Node.js 20 or newer")
	}

	ctx, cancel := context.WithTimeout(context.Background(), jsSuiteTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", jsSigV4SuiteFile)
	cmd.Env = jsEnv(t, "SERVER_BIN="+bin, "JS_SDK_DIR="+sdkDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start).Round(100 * time.Millisecond)

	counts := map[string]int{}
	for _, m := range jsSummary.FindAllStringSubmatch(out.String(), -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	_, summarised := counts["pass"]
	if err == nil && summarised && counts["fail"] == 0 && counts["cancelled"] == 0 &&
		counts["skipped"] == 0 && counts["todo"] == 0 && counts["pass"] > 0 {
		t.Logf("JavaScript SDK sigv4 suite: %d passed, 0 failed in %s", counts["pass"], took)
		return
	}
	clientsLogOutput(t, out.Bytes())
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("node --test %s did not finish within %s", jsSigV4SuiteFile, jsSuiteTimeout)
	case !summarised:
		t.Fatalf("node --test %s printed no summary (%v)", jsSigV4SuiteFile, err)
	default:
		t.Fatalf("node --test %s: %d passed, %d failed, %d cancelled, %d skipped, %d todo in %s (%v)", jsSigV4SuiteFile,
			counts["pass"], counts["fail"], counts["cancelled"], counts["skipped"], counts["todo"], took, err)
	}
}
