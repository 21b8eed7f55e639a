#!/usr/bin/env bash
# Installs the etcd server binary the etcd tests need (Debian's etcd-server
# package) unless an etcd binary is already there. Idempotent: a second run
# does nothing.
#
# The package's maintainer scripts would start an etcd daemon on the standard
# ports (2379/2380). The tests never use those ports (every test member runs
# on random loopback ports in a temp dir), but a stray daemon wastes memory
# and CPU on a 2-core CI machine, so this script forbids service starts while
# installing (policy-rc.d answering 101) and stops and disables the daemon if
# it started anyway.
set -euo pipefail

if etcd_bin=$(command -v etcd 2>/dev/null) || { [ -x /usr/bin/etcd ] && etcd_bin=/usr/bin/etcd; }; then
  echo "install-etcd: $etcd_bin is already installed: $("$etcd_bin" --version 2>/dev/null | head -n1)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -n "$0" "$@"
  fi
  echo "install-etcd: etcd is missing and installing it needs root (apt-get install etcd-server)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# Forbid service starts for the length of the install, restoring whatever
# policy-rc.d was there before.
policy=/usr/sbin/policy-rc.d
saved=""
if [ -e "$policy" ]; then
  saved=$(mktemp)
  cp -p "$policy" "$saved"
fi
restore_policy() {
  if [ -n "$saved" ]; then
    mv -f "$saved" "$policy"
  else
    rm -f "$policy"
  fi
}
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' >"$policy"
chmod 755 "$policy"

apt-get update -qq
apt-get install -y -qq --no-install-recommends etcd-server >/dev/null

# If the daemon started anyway (a systemd that ignores policy-rc.d, say),
# stop it and keep it from starting at boot.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl stop etcd.service 2>/dev/null || true
  systemctl disable etcd.service 2>/dev/null || true
fi
if command -v service >/dev/null 2>&1; then
  service etcd stop >/dev/null 2>&1 || true
fi
if command -v update-rc.d >/dev/null 2>&1; then
  update-rc.d etcd disable >/dev/null 2>&1 || true
fi

if ! [ -x /usr/bin/etcd ]; then
  echo "install-etcd: etcd-server installed but /usr/bin/etcd is missing" >&2
  exit 1
fi
echo "install-etcd: installed $(/usr/bin/etcd --version 2>/dev/null | head -n1)"
