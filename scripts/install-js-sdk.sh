#!/usr/bin/env bash
# Installs the AWS SDK for JavaScript v3 that e2e/js/ needs, exactly as
# e2e/js/package-lock.json pins it, into a cache directory OUTSIDE the repo:
#
#   ${ELASTICACHE_TEST_CACHE:-$HOME/.cache/elasticache-server}/js-sdk
#
# Idempotent: it copies package.json and package-lock.json there and runs
# `npm ci` only when node_modules is missing or the lock file differs from
# the one of the last successful install. The last line it prints on stdout
# is the path of the installed node_modules (everything else goes to
# stderr), so callers can do: dir=$(scripts/install-js-sdk.sh | tail -n1).
# Fails loudly (non-zero, a message on stderr) when node or npm is missing
# or the install fails; it never touches the repo.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src="$here/../e2e/js"

fail() {
  printf '\ninstall-js-sdk: FAILED: %s\n\n' "$*" >&2
  exit 1
}
log() { printf 'install-js-sdk: %s\n' "$*" >&2; }

command -v node >/dev/null 2>&1 || fail "node is not on PATH; the JavaScript SDK suite needs Node.js 20 or newer (and npm)"
command -v npm >/dev/null 2>&1 || fail "npm is not on PATH; the JavaScript SDK suite needs it to install @aws-sdk/client-elasticache"
node_major=$(node -p 'process.versions.node.split(".")[0]') || fail "cannot run node"
[ "$node_major" -ge 20 ] || fail "node $(node --version) is too old; the SDK needs Node.js 20 or newer"
for f in package.json package-lock.json; do
  [ -f "$src/$f" ] || fail "$src/$f is missing"
done

if [ -n "${ELASTICACHE_TEST_CACHE:-}" ]; then
  cache=$ELASTICACHE_TEST_CACHE
else
  [ -n "${HOME:-}" ] || fail "neither ELASTICACHE_TEST_CACHE nor HOME is set: no cache directory to install into"
  cache=$HOME/.cache/elasticache-server
fi
# Refuse a cache inside the repo before creating anything there.
case "$cache" in /*) ;; *) cache=$PWD/$cache ;; esac
if command -v realpath >/dev/null 2>&1; then
  cache=$(realpath -m "$cache")
fi
dest=$cache/js-sdk
repo=$(cd "$here/.." && pwd -P)
case "$dest/" in
  "$repo"/*) fail "the cache directory $dest is inside the repo $repo; set ELASTICACHE_TEST_CACHE to a directory outside it" ;;
esac
mkdir -p "$dest" || fail "cannot create $dest"

# One installer at a time per cache directory (two test runs may start
# together); flock is util-linux, present on every Linux this runs on, but
# do without it rather than fail where it is missing.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dest/.install.lock"
  flock 9 || fail "cannot lock $dest/.install.lock"
fi

# The lock file of the last install that succeeded; written only after
# `npm ci` exits 0, removed before a new install starts, so an interrupted
# or failed install is redone next time.
stamp=$dest/.installed-package-lock.json
if [ -d "$dest/node_modules/@aws-sdk/client-elasticache" ] && [ -f "$stamp" ] \
   && cmp -s "$stamp" "$src/package-lock.json" && cmp -s "$dest/package.json" "$src/package.json"; then
  log "up to date in $dest"
  echo "$dest/node_modules"
  exit 0
fi

log "installing @aws-sdk/client-elasticache ($(node --version), npm $(npm --version 2>/dev/null)) into $dest"
rm -f "$stamp"
cp "$src/package.json" "$src/package-lock.json" "$dest/" || fail "cannot copy package.json and package-lock.json to $dest"
start=$(date +%s)
if ! (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error 1>&2); then
  fail "npm ci in $dest failed (see npm's output above); the npm registry must be reachable"
fi
[ -f "$dest/node_modules/@aws-sdk/client-elasticache/package.json" ] \
  || fail "npm ci succeeded but $dest/node_modules/@aws-sdk/client-elasticache is missing"
got=$(node -p 'require(process.argv[1]).version' "$dest/node_modules/@aws-sdk/client-elasticache/package.json") \
  || fail "cannot read the installed SDK's version"
want=$(node -p 'require(process.argv[1]).dependencies["@aws-sdk/client-elasticache"]' "$src/package.json")
[ "$got" = "$want" ] || fail "installed @aws-sdk/client-elasticache $got, but package.json pins $want"
cp "$src/package-lock.json" "$stamp"
log "installed @aws-sdk/client-elasticache $got in $(( $(date +%s) - start ))s"
echo "$dest/node_modules"
