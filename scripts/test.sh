#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, vet, generated code in
# sync with the model, and every test with the race detector (unit, codec
# fixtures, storage conformance on bbolt and etcd, the Go SDK (on both backends), boto3/AWS CLI
# and JavaScript SDK end-to-end suites, Terraform (e2e/terraform), multi-server
# and fault tests, fuzz corpus replay, a 2-second load-generator smoke run).
# Installs what the tests need (etcd, the JS SDK) by itself, finds Terraform
# and its provider mirror; fails loudly on anything missing; never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
go version
command -v python3 >/dev/null || { echo "python3 is not on PATH: the boto3/AWS CLI suite needs it" >&2; exit 1; }

step "test dependencies (idempotent)"
./scripts/install-etcd.sh       # Debian's etcd-server, for the etcd backend and cluster tests
./scripts/install-engines.sh   # Debian's redis-server and memcached, for cache clusters
./scripts/install-js-sdk.sh     # @aws-sdk/client-elasticache, pinned by e2e/js/package-lock.json
python3 -c 'import boto3' || { echo "the python3 on PATH lacks boto3: the client suite needs it" >&2; exit 1; }
command -v aws >/dev/null || { echo "the aws CLI is not on PATH: the client suite needs it" >&2; exit 1; }
./scripts/find-terraform.sh >/dev/null   # Terraform 1.11.4 + the hashicorp/aws 5.100.0 mirror, for e2e/terraform

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2; echo "$unformatted" >&2; exit 1
fi

step "go vet"
go vet ./...

step "go generate leaves no diff"
go generate ./...
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ -n "$(git status --porcelain -- api internal service)" ]; then
  echo "go generate changed files; commit the regenerated code:" >&2
  git status --porcelain -- api internal service >&2
  git diff --stat -- api internal service >&2
  exit 1
fi

# Every package but e2e/terraform: the AWS provider spends seconds of CPU
# at each start, and beside the multi-server and load tests of e2e/cluster
# (which measure throughput against time budgets) it would starve them on
# two cores. It runs in the next step instead.
step "go test -race"
go test -race -count=1 -timeout 20m $(go list ./... | grep -v '/e2e/terraform$')

# Two independent suites side by side: the Go SDK end-to-end suite again,
# every in-process server on etcd (one member for the run, a key prefix per
# test; left out by name: the suites that start the binary with flags of
# their own, which ran above, and the tests about the bbolt file itself),
# and Terraform against the real server (e2e/terraform).
step "go test -race ./e2e on etcd, and ./e2e/terraform, side by side"
logs=$(mktemp -d)
E2E_STORE=etcd go test -race -count=1 -timeout 15m \
  -skip '^(TestBoto3AndCLI|TestBoto3AndCLISigV4|TestJavaScriptSDK|TestJavaScriptSDKSigV4|TestAnsweredWritesAreOnDisk|TestDataDirInUse|TestDiskFull)$' \
  ./e2e/ >"$logs/etcd.log" 2>&1 &
etcd_pid=$!
go test -race -count=1 -timeout 15m ./e2e/terraform/ >"$logs/terraform.log" 2>&1 &
tf_pid=$!
status=0
wait "$etcd_pid" || status=1
cat "$logs/etcd.log"
wait "$tf_pid" || status=1
cat "$logs/terraform.log"
rm -rf "$logs"
exit "$status"
