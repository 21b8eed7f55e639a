#!/usr/bin/env bash
# Installs the cache engines the engine package runs and tests (Debian's
# redis-server, which brings redis-cli through redis-tools, and memcached)
# unless both binaries are already there. Idempotent: a second run does
# nothing.
#
# The packages' maintainer scripts would start system daemons on the
# standard ports (6379, 11211). The engine package never uses them (every
# node it runs is its own process on its own loopback address, under the
# server's data dir), and a stray daemon would hold 127.0.0.1:6379 and
# waste memory and CPU on a 2-core CI machine, so the install goes through
# apt-install-quietly.sh (no service starts, the daemons stopped and
# disabled if they started anyway), and this script fails if one is still
# running afterwards.
set -euo pipefail

have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ]
}

versions() {
  echo "$(/usr/bin/redis-server --version 2>/dev/null | head -n1); $(/usr/bin/memcached -V 2>/dev/null | head -n1)"
}

if have redis-server && have redis-cli && have memcached; then
  echo "install-engines: already installed: $(versions)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -n "$0" "$@"
  fi
  echo "install-engines: redis-server or memcached is missing and installing them needs root (apt-get install redis-server memcached)" >&2
  exit 1
fi

"$(dirname "$0")/apt-install-quietly.sh" redis-server,memcached redis-server redis-tools memcached

for bin in redis-server redis-cli memcached; do
  if ! [ -x "/usr/bin/$bin" ]; then
    echo "install-engines: packages installed but /usr/bin/$bin is missing" >&2
    exit 1
  fi
done

# A system daemon still running means the stops above did not work: say so
# rather than leave it holding the standard ports. The packages run their
# daemons as their own users (redis, memcache); nodes that a server runs
# under its data dir run as the server's user and do not count.
for user in redis memcache; do
  if id "$user" >/dev/null 2>&1 && pids=$(pgrep -d, -u "$user"); then
    echo "install-engines: the system daemon of user $user is still running (pids $pids); stop it" >&2
    exit 1
  fi
done

echo "install-engines: installed $(versions)"
