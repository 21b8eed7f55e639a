#!/usr/bin/env bash
# Finds what the Terraform tests (e2e/terraform) need and fails loudly if
# anything is missing: the terraform binary, exactly version 1.11.4, and a
# provider filesystem mirror holding hashicorp/aws 5.100.0 for linux_amd64.
# The tests never reach a registry, so nothing is downloaded here either.
#
# Overrides: ELASTICACHE_TF_BIN (the binary, else terraform on PATH) and
# ELASTICACHE_TF_MIRROR (the mirror root: the directory that contains
# registry.terraform.io; else the first of the usual places that holds the
# provider). An override that does not fit is an error, never skipped over.
#
# On success it prints two lines on stdout, the same variables with what was
# found, quoted for the shell:
#
#   ELASTICACHE_TF_BIN=/usr/local/bin/terraform
#   ELASTICACHE_TF_MIRROR=/opt/tf-plugins
#
# e2e/terraform runs this script itself and reads those lines, so the
# search lives only here; scripts/test.sh runs it first to fail fast.
set -euo pipefail

want_version=1.11.4
provider=registry.terraform.io/hashicorp/aws
provider_version=5.100.0
platform=linux_amd64

fail() { echo "find-terraform: $*" >&2; exit 1; }

# terraform
if [ -n "${ELASTICACHE_TF_BIN:-}" ]; then
  bin=$ELASTICACHE_TF_BIN
  [ -x "$bin" ] && [ -f "$bin" ] || fail "ELASTICACHE_TF_BIN=$bin is not an executable file"
else
  bin=$(command -v terraform 2>/dev/null) ||
    fail "terraform is not on PATH: the Terraform tests need Terraform $want_version (or set ELASTICACHE_TF_BIN)"
fi
case $bin in /*) ;; *) bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin") ;; esac

# Asked with no CLI config, no checkpoint call and no version check against
# the network: "terraform version" would otherwise ask HashiCorp whether a
# newer release exists.
version_json=$(env CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$bin" version -json 2>&1) ||
  fail "$bin version -json failed: $version_json"
version=$(printf '%s\n' "$version_json" | sed -n 's/^ *"terraform_version": *"\([^"]*\)".*/\1/p')
[ -n "$version" ] || fail "$bin version -json printed no terraform_version: $version_json"
[ "$version" = "$want_version" ] ||
  fail "$bin is Terraform $version; the Terraform tests need exactly $want_version"

# The mirror: either layout a filesystem_mirror accepts, unpacked (a
# directory with the executable) or packed (the release zip).
holds_provider() {
  [ -x "$1/$provider/$provider_version/$platform/terraform-provider-aws_v${provider_version}_x5" ] ||
    [ -f "$1/$provider/terraform-provider-aws_${provider_version}_${platform}.zip" ]
}

if [ -n "${ELASTICACHE_TF_MIRROR:-}" ]; then
  mirror=$ELASTICACHE_TF_MIRROR
  holds_provider "$mirror" ||
    fail "ELASTICACHE_TF_MIRROR=$mirror holds no $provider $provider_version for $platform (want $mirror/$provider/$provider_version/$platform/terraform-provider-aws_v${provider_version}_x5 or $mirror/$provider/terraform-provider-aws_${provider_version}_${platform}.zip)"
else
  mirror=""
  candidates=(
    /opt/tf-plugins
    "${HOME:-/nonexistent}/.terraform.d/plugins"
    "${XDG_DATA_HOME:-${HOME:-/nonexistent}/.local/share}/terraform/plugins"
    /usr/local/share/terraform/plugins
    /usr/share/terraform/plugins
  )
  for dir in "${candidates[@]}"; do
    if holds_provider "$dir"; then
      mirror=$dir
      break
    fi
  done
  [ -n "$mirror" ] ||
    fail "no provider mirror holds $provider $provider_version for $platform; looked in: ${candidates[*]} (set ELASTICACHE_TF_MIRROR to the directory that contains registry.terraform.io)"
fi
mirror=$(cd "$mirror" && pwd)

echo "find-terraform: Terraform $version at $bin; $provider $provider_version ($platform) in the mirror $mirror" >&2
printf 'ELASTICACHE_TF_BIN=%q\n' "$bin"
printf 'ELASTICACHE_TF_MIRROR=%q\n' "$mirror"
