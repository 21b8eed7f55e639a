package e2e

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestBoto3AndCLISigV4 runs e2e/clients/test_sigv4.py: boto3 and the AWS
// CLI against the real binary started with --auth sigv4, --config (two
// accounts with a key each) and --regions: every operation with the right
// keys, SignatureDoesNotMatch for a wrong secret, InvalidClientTokenId for
// an unknown key or a session token, and botocore's presigned URLs until
// they expire. Like TestBoto3AndCLI it never skips, not even under -short.
func TestBoto3AndCLISigV4(t *testing.T) {
	t.Parallel()
	python := clientsRequireTools(t)
	bin := clientsBuildServer(t)

	ctx, cancel := context.WithTimeout(context.Background(), clientsScriptTimeout)
	defer cancel()
	script := filepath.Join("clients", "test_sigv4.py")
	cmd := exec.CommandContext(ctx, python, script, bin)
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
		t.Logf("boto3/AWS CLI sigv4 suite: %d passed, 0 failed in %s", passed, took)
		return
	}
	clientsLogOutput(t, out.Bytes())
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("%s did not finish within %s", script, clientsScriptTimeout)
	case len(m) == 0:
		t.Fatalf("%s printed no \"N passed, M failed\" line (%v)", script, err)
	default:
		t.Fatalf("%s: %d passed, %d failed in %s (%v)", script, passed, failed, took, err)
	}
}
