#!/usr/bin/env bash
# apt-install-quietly.sh SERVICE[,SERVICE…] PACKAGE…
#
# Installs Debian packages whose maintainer scripts would start system
# daemons (etcd, redis-server, memcached) without letting any start: the
# test suites run their own processes on loopback addresses and random
# ports, and a stray daemon would hold a standard port and take memory and
# CPU on a 2-core CI machine. Service starts are forbidden for the length
# of the install (policy-rc.d answering 101, whatever policy-rc.d there was
# restored afterwards); the SERVICEs are stopped and disabled if they
# started anyway. Run as root (the install-*.sh scripts get there).
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 SERVICE[,SERVICE…] PACKAGE…" >&2
  exit 2
fi
services=$1
shift

export DEBIAN_FRONTEND=noninteractive

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
apt-get install -y -qq --no-install-recommends "$@" >/dev/null

# If a daemon started anyway (a systemd that ignores policy-rc.d, say),
# stop it and keep it from starting at boot.
for svc in ${services//,/ }; do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl stop "$svc.service" 2>/dev/null || true
    systemctl disable "$svc.service" 2>/dev/null || true
  fi
  if command -v service >/dev/null 2>&1; then
    service "$svc" stop >/dev/null 2>&1 || true
  fi
  if command -v update-rc.d >/dev/null 2>&1; then
    update-rc.d "$svc" disable >/dev/null 2>&1 || true
  fi
done
