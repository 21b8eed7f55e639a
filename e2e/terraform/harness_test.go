package terraform

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The provider every test runs, and the caller it signs as. The access key
// is a 12-digit account ID, which the server (--auth none) takes as the
// account.
const (
	providerSource  = "registry.terraform.io/hashicorp/aws"
	providerVersion = "5.100.0"
	testAccount     = "123456789012"
	testRegion      = "us-east-1"
)

// commandTimeout bounds one terraform command. The AWS provider is a 675 MB
// binary that spends seconds of CPU on its schema each time it starts, a
// command starts it up to three times, and a 2-core machine may be shared:
// a plan takes 10–20 s there. A hang must still end.
const commandTimeout = 4 * time.Minute

// toolchain is what scripts/find-terraform.sh found.
type toolchain struct {
	// Bin is the terraform binary, Mirror the provider mirror root (the
	// directory containing registry.terraform.io).
	Bin, Mirror string
}

// findToolchain runs scripts/find-terraform.sh once per test binary: the
// search and the version checks live in the script alone, and test.sh runs
// the same script before the suite. Its overrides, ELASTICACHE_TF_BIN and
// ELASTICACHE_TF_MIRROR, reach it through the environment.
var findToolchain = sync.OnceValues(func() (toolchain, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return toolchain{}, err
	}
	script := filepath.Join(root, "scripts", "find-terraform.sh")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return toolchain{}, fmt.Errorf("%s: %v\n%s", script, err, stderr.String())
	}
	var tc toolchain
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), "=")
		switch name {
		case "ELASTICACHE_TF_BIN":
			tc.Bin = value
		case "ELASTICACHE_TF_MIRROR":
			tc.Mirror = value
		}
	}
	if tc.Bin == "" || tc.Mirror == "" || strings.ContainsAny(tc.Bin+tc.Mirror, `\'"$`) {
		// The script quotes for the shell; a path that needed quoting
		// would arrive here mangled, so it is refused rather than guessed.
		return toolchain{}, fmt.Errorf("%s printed %q; want ELASTICACHE_TF_BIN=… and ELASTICACHE_TF_MIRROR=… lines with plain paths", script, stdout.String())
	}
	return tc, nil
})

// terraform is one Terraform working directory (its own configuration and
// local state) whose provider talks to one server. Every command runs with
// a timeout and in a hermetic environment (see env); a failing command
// fails the test with Terraform's output.
type terraform struct {
	t   testing.TB
	tc  toolchain
	dir string
	env []string
}

// newTerraform makes a fresh working directory whose AWS provider sends
// every ElastiCache request (and any STS or EC2 one) to serverURL, and runs
// terraform init in it from the mirror. The directory holds providers.tf;
// the test writes the rest with write.
func newTerraform(t testing.TB, serverURL string) *terraform {
	t.Helper()
	tc, err := findToolchain()
	if err != nil {
		t.Fatalf("the Terraform tests need Terraform and the provider mirror: %v", err)
	}
	home := t.TempDir()
	tf := &terraform{t: t, tc: tc, dir: filepath.Join(home, "work")}
	if err := os.Mkdir(tf.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tf.env = hermeticEnv(t, home, tc.Mirror)
	tf.writeFile("providers.tf", providersTF(serverURL))
	// No plugin cache: from the unpacked mirror init links the provider
	// into the working directory itself in under a second, and a cache
	// shared by the parallel tests is re-linked by every init, under
	// another test's running command ("failed to verify checksum …
	// readlink … no such file or directory").
	tf.run("init", "-input=false", "-no-color")
	return tf
}

// providersTF pins the provider and points it at the server. The skip_*
// settings keep it from asking STS who the caller is and from probing
// instance metadata; sts and ec2 point at the server too, so that a call
// the provider makes anyway reaches the server's log (as an invalid action)
// instead of the Internet.
func providersTF(serverURL string) string {
	return fmt.Sprintf(`terraform {
  required_providers {
    aws = {
      source  = %q
      version = %q
    }
  }
}

provider "aws" {
  region                      = %q
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    elasticache = %[4]q
    ec2         = %[4]q
    sts         = %[4]q
  }
}
`, strings.TrimPrefix(providerSource, "registry.terraform.io/"), providerVersion, testRegion, serverURL)
}

// hermeticEnv is the environment of every terraform command (and so of the
// provider it starts): the test's own without AWS_*, TF_* (but TF_LOG and
// TF_LOG_PATH, for debugging), CHECKPOINT_* and proxy settings, plus
//   - a CLI config that installs hashicorp/aws from the mirror only, and
//     nothing else from anywhere, linked into the working directory;
//   - no checkpoint (version and advisory) calls, automation mode, no input;
//   - static credentials, a region, no instance metadata, empty AWS config
//     and credentials files (the environment may name a CA bundle the
//     provider cannot use with a custom endpoint: AWS_CA_BUNDLE is dropped);
//   - a proxy that refuses everything: Go never proxies loopback, so the
//     server is reached, and any request to anywhere else fails at once
//     instead of leaving the machine;
//   - GOGC=400: the provider spends its CPU building schemas, a third of it
//     in the garbage collector; at 400 a plan took 10 s of CPU instead of
//     14 s (3 runs each, provider 5.100.0) for 150 MB more per provider
//     process, and a 2-core machine runs out of CPU long before memory.
func hermeticEnv(t testing.TB, home, mirror string) []string {
	t.Helper()
	cliConfig := filepath.Join(home, "terraform.rc")
	writeFile(t, cliConfig, fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = [%q]
  }
  direct {
    exclude = [%[2]q]
  }
}
`, mirror, providerSource))
	awsConfig := filepath.Join(home, "aws-config")
	awsCreds := filepath.Join(home, "aws-credentials")
	writeFile(t, awsConfig, "")
	writeFile(t, awsCreds, "")

	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "TF_LOG", name == "TF_LOG_PATH":
		case strings.HasPrefix(name, "AWS_"), strings.HasPrefix(name, "TF_"),
			strings.HasPrefix(name, "CHECKPOINT_"), strings.HasPrefix(name, "ELASTICACHE_"), name == "GOGC",
			strings.HasSuffix(strings.ToLower(name), "_proxy"):
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"AWS_ACCESS_KEY_ID="+testAccount,
		"AWS_SECRET_ACCESS_KEY=terraform-e2e-secret-key",
		"AWS_REGION="+testRegion,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+awsConfig,
		"AWS_SHARED_CREDENTIALS_FILE="+awsCreds,
		"HTTP_PROXY=http://127.0.0.1:9",
		"HTTPS_PROXY=http://127.0.0.1:9",
		"NO_PROXY=",
		"GOGC=400",
	)
}

// write replaces main.tf, the test's configuration (providers.tf stays).
func (tf *terraform) write(mainTF string) {
	tf.t.Helper()
	tf.writeFile("main.tf", mainTF)
}

func (tf *terraform) writeFile(name, content string) {
	tf.t.Helper()
	writeFile(tf.t, filepath.Join(tf.dir, name), content)
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// apply runs terraform apply and fails the test unless it succeeds.
func (tf *terraform) apply() {
	tf.t.Helper()
	tf.run("apply", "-auto-approve", "-input=false", "-no-color")
}

// destroy runs terraform destroy and fails the test unless it succeeds.
func (tf *terraform) destroy() {
	tf.t.Helper()
	tf.run("destroy", "-auto-approve", "-input=false", "-no-color")
}

// importResource runs terraform import addr id: the working directory's
// configuration must already declare addr.
func (tf *terraform) importResource(addr, id string) {
	tf.t.Helper()
	tf.run("import", "-input=false", "-no-color", addr, id)
}

// planIsClean runs terraform plan -detailed-exitcode (which refreshes from
// the server first) and fails the test, with the plan, unless it proposes
// no change: exit 0 is clean, 2 is a diff, anything else an error.
func (tf *terraform) planIsClean() {
	tf.t.Helper()
	stdout, stderr, code, err := tf.exec("plan", "-detailed-exitcode", "-input=false", "-no-color")
	switch {
	case err != nil:
		tf.t.Fatalf("terraform plan: %v\n%s%s", err, stdout, stderr)
	case code == 2:
		tf.t.Fatalf("terraform plan wants changes, want none:\n%s%s", stdout, stderr)
	case code != 0:
		tf.t.Fatalf("terraform plan failed (exit %d):\n%s%s", code, stdout, stderr)
	}
}

// show is the part of terraform show -json that tests read.
type show struct {
	Values struct {
		Outputs    map[string]showOutput `json:"outputs"`
		RootModule struct {
			Resources []showResource `json:"resources"`
		} `json:"root_module"`
	} `json:"values"`
}

// showOutput is one output value.
type showOutput struct {
	Value     any  `json:"value"`
	Sensitive bool `json:"sensitive"`
}

// showResource is one resource or data source in the state; Values are
// its attributes as JSON decodes them (strings, float64s, []any, maps).
type showResource struct {
	Address string         `json:"address"`
	Mode    string         `json:"mode"`
	Type    string         `json:"type"`
	Values  map[string]any `json:"values"`
}

// state runs terraform show -json and decodes the state.
func (tf *terraform) state() show {
	tf.t.Helper()
	out := tf.run("show", "-json", "-no-color")
	var s show
	if err := json.Unmarshal(out, &s); err != nil {
		tf.t.Fatalf("terraform show -json: %v\n%s", err, out)
	}
	return s
}

// resource returns the attributes of the resource or data source at addr
// (say "aws_elasticache_subnet_group.this" or
// "data.aws_elasticache_subnet_group.this").
func (s show) resource(t testing.TB, addr string) map[string]any {
	t.Helper()
	for _, r := range s.Values.RootModule.Resources {
		if r.Address == addr {
			return r.Values
		}
	}
	var have []string
	for _, r := range s.Values.RootModule.Resources {
		have = append(have, r.Address)
	}
	t.Fatalf("the state has no %s; it has %v", addr, have)
	return nil
}

// output returns the value of the output name.
func (s show) output(t testing.TB, name string) any {
	t.Helper()
	o, ok := s.Values.Outputs[name]
	if !ok {
		t.Fatalf("the state has no output %q", name)
	}
	return o.Value
}

// run runs terraform with args in the working directory and returns its
// stdout; any failure fails the test with all of its output.
func (tf *terraform) run(args ...string) []byte {
	tf.t.Helper()
	stdout, stderr, code, err := tf.exec(args...)
	if err != nil {
		tf.t.Fatalf("terraform %s: %v\n%s%s", args[0], err, stdout, stderr)
	}
	if code != 0 {
		tf.t.Fatalf("terraform %s failed (exit %d):\n%s%s", args[0], code, stdout, stderr)
	}
	return stdout
}

// exec runs terraform with args and returns its stdout, stderr and exit
// code; err is set only when it could not run or did not finish within
// commandTimeout. Terraform and the provider it starts run in a process
// group of their own, killed as a whole on timeout.
func (tf *terraform) exec(args ...string) (stdout, stderr []byte, code int, err error) {
	ctx, cancel := context.WithTimeout(tf.t.Context(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tf.tc.Bin, args...)
	cmd.Dir = tf.dir
	cmd.Env = tf.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	start := time.Now()
	runErr := cmd.Run()
	tf.t.Logf("terraform %s: %s", strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond))
	stdout, stderr = outBuf.Bytes(), errBuf.Bytes()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return stdout, stderr, -1, fmt.Errorf("did not finish within %s (%v)", commandTimeout, ctx.Err())
	case errors.As(runErr, &exitErr):
		return stdout, stderr, exitErr.ExitCode(), nil
	case runErr != nil:
		return stdout, stderr, -1, runErr
	}
	return stdout, stderr, 0, nil
}
