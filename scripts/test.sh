#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, vet, generated code in
# sync with the model, and every test with the race detector (unit, codec
# fixtures, storage conformance, the Go SDK and the boto3/AWS CLI end-to-end
# suites, fuzz corpus replay). Fails loudly on anything missing; never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
go version
command -v python3 >/dev/null || { echo "python3 is not on PATH: the boto3/AWS CLI suite needs it" >&2; exit 1; }

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2; echo "$unformatted" >&2; exit 1
fi

step "go vet"
go vet ./...

step "go generate leaves no diff"
go generate ./...
if [ -d .git ] && [ -n "$(git status --porcelain -- api internal)" ]; then
  echo "go generate changed files; commit the regenerated code:" >&2
  git status --porcelain -- api internal >&2
  git diff --stat -- api internal >&2
  exit 1
fi

step "go test -race"
go test -race -count=1 -timeout 20m ./...
