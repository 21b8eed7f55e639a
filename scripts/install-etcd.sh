#!/usr/bin/env bash
# Installs the etcd server binary the etcd tests need (Debian's etcd-server
# package) unless an etcd binary is already there. Idempotent: a second run
# does nothing.
#
# The package's maintainer scripts would start an etcd daemon on the standard
# ports (2379/2380). The tests never use those ports (every test member runs
# on random loopback ports in a temp dir), but a stray daemon wastes memory
# and CPU on a 2-core CI machine, so the install goes through
# apt-install-quietly.sh (no service starts; the daemon stopped and disabled
# if it started anyway).
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

"$(dirname "$0")/apt-install-quietly.sh" etcd etcd-server

if ! [ -x /usr/bin/etcd ]; then
  echo "install-etcd: etcd-server installed but /usr/bin/etcd is missing" >&2
  exit 1
fi
echo "install-etcd: installed $(/usr/bin/etcd --version 2>/dev/null | head -n1)"
