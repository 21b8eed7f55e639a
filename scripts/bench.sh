#!/usr/bin/env bash
# The performance figures of docs/PERFORMANCE.md, each as a ratio to a
# reference measured in the same run on this machine: the baseline server
# (cmd/elasticache-baseline: parse the form, answer a fixed body of the real
# answer's size), the same doing one fsynced bbolt put per write, and raw
# etcd transactions. Baseline and elasticache-server (on etcd for the etcd
# figure) run one after the other with the same generator and settings, for
# several rounds; every ratio is the median of the rounds'.
#
#   scripts/bench.sh [--rounds N] [--duration 5s] [--conns 16] [--large 100000] [--no-etcd] [--out DIR]
#   scripts/bench.sh --smoke     everything once, tiny: a check that the script works (exit 1 on errors)
#
# An --out DIR of an earlier run keeps its seeded stores, which saves the
# seeding (a minute or more).
#
# All traffic goes to 127.0.0.1. Creates raise the quota with
# --quota-cache-security-groups (100,000,000) rather than spread accounts;
# the etcd figure spreads over 16 accounts, one per connection, so that
# creates do not conflict on one account's group counter.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3 duration=5s warmup=1s conns=16 large=100000 starts=11 etcd=auto smoke=0 out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --large) large=$2; shift 2 ;;
    --no-etcd) etcd=no; shift ;;
    --out) out=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$smoke" = 1 ]; then
  rounds=1 duration=200ms warmup=0s large=1000 starts=3
fi

out=${out:-$(mktemp -d "${TMPDIR:-/tmp}/elasticache-bench.XXXXXX")}
mkdir -p "$out/bin"
results=$out/results.jsonl
: >"$results"
log=$out/servers.log
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

echo "== build"
go build -o "$out/bin/elasticache-server" ./cmd/elasticache-server
go build -o "$out/bin/elasticache-bench" ./cmd/elasticache-bench
go build -o "$out/bin/elasticache-baseline" ./cmd/elasticache-baseline
bench=$out/bin/elasticache-bench
basebin=$out/bin/elasticache-baseline
srvbin=$out/bin/elasticache-server          # every figure, start-up included; --store etcd for etcd's

port=$((20000 + RANDOM % 20000))
addr=127.0.0.1:$port
quota=100000000

# start LABEL CMD… runs a server on $addr in the background and waits for it.
pid=""
start() {
  local label=$1; shift
  echo "--- $label: $*" >>"$log"
  "$@" >>"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  "$bench" wait -addr "$addr" -timeout 30s
}
stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
# gen LABEL ROUND ARGS… runs the generator against $addr and keeps its
# report. A run with errors, or with no request answered within it (this
# machine's other tenants have stalled every process on it for seconds at a
# time), is run once more; the table ignores runs that answered nothing.
failures=0
gen() {
  local label=$1 round=$2; shift 2
  local try
  for try in 1 2; do
    if "$bench" run -addr "$addr" -c "$conns" -duration "$duration" -warmup "$warmup" \
      -label "$label" -round "$round" -json "$@" >>"$results"; then
      return 0
    fi
    echo "bench.sh: run $try of $label $* failed or saw errors (report in $results)" >&2
  done
  failures=$((failures + 1))
}
server() { # server DATADIR [flags…]
  local dir=$1; shift
  start server "$srvbin" --listen "$addr" --data-dir "$dir" --quota-cache-security-groups "$quota" "$@"
}
rss() { # rss LABEL ROUND PID: VmRSS and VmHWM of a running process
  local kb hwm
  kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$3/status")
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$3/status")
  printf '{"kind":"rss","label":"%s","round":%d,"rss_kb":%d,"hwm_kb":%d,"groups":%d}\n' "$1" "$2" "$kb" "$hwm" "$large" >>"$results"
}

mix="create=2,describe-by-name=5,describe-page=1,delete=1,tag-add=1,tag-list=1"
ops=(describe-by-name describe-page create delete tag-add tag-list mix)
[ "$smoke" = 1 ] && ops=(describe-by-name describe-page create mix)

echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "results: $results, server logs: $log"

large_dir=$out/large
small_dir=$out/small
if [ -f "$large_dir/seeded-$large" ]; then
  echo "== reusing the $large groups seeded in $large_dir"
else
  echo "== seeding $large groups in one account (quota raised to $quota)"
  mkdir -p "$large_dir" "$small_dir"
  server "$large_dir"
  "$bench" run -addr "$addr" -c "$conns" -op describe-page -groups "$large" -duration 0 >/dev/null
  stop
  server "$small_dir"
  "$bench" run -addr "$addr" -c "$conns" -op describe-page -groups 100 -duration 0 >/dev/null
  stop
  touch "$large_dir/seeded-$large"
fi

etcd_dir="" etcd_ep=""
if [ "$etcd" != no ] && command -v etcd >/dev/null; then
  etcd_dir=$out/etcd
  eport=$((port + 1)) pport=$((port + 2))
  etcd_ep=127.0.0.1:$eport
  echo "--- etcd" >>"$log"
  etcd --name bench --data-dir "$etcd_dir" \
    --listen-client-urls "http://$etcd_ep" --advertise-client-urls "http://$etcd_ep" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "bench=http://127.0.0.1:$pport" >>"$log" 2>&1 &
  etcd_pid=$!
  pids+=("$etcd_pid")
  "$bench" wait -addr "$etcd_ep" -timeout 30s
elif [ "$etcd" != no ]; then
  echo "etcd is not installed (scripts/install-etcd.sh): the etcd figure is not measured"
fi

for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds (load average $(cut -d' ' -f1 /proc/loadavg))"
  for op in "${ops[@]}"; do
    args=(-op "$op")
    [ "$op" = mix ] && args=(-mix "$mix")
    start baseline "$basebin" -listen "$addr"
    gen baseline "$round" "${args[@]}"
    stop
    dir=$out/run-$round-$op
    mkdir -p "$dir"
    server "$dir"
    gen server "$round" "${args[@]}"
    stop
    rm -rf "$dir"
  done

  # describe-by-name without the access log, whose share it shows.
  dir=$out/quiet-$round
  mkdir -p "$dir"
  server "$dir" --log-level warn
  gen server-quiet "$round" -op describe-by-name
  stop
  rm -rf "$dir"

  # The disk's share of a create: one fsynced bbolt put per request.
  dir=$out/fsync-$round
  mkdir -p "$dir"
  start fsync "$basebin" -listen "$addr" -data-dir "$dir"
  gen fsync "$round" -op create
  stop
  rm -rf "$dir"

  if [ "$smoke" = 0 ]; then
    # Clients that sign, over 16 accounts.
    start baseline "$basebin" -listen "$addr"
    gen baseline-sigv4 "$round" -op describe-by-name -sigv4 -accounts 16
    stop
    dir=$out/sigv4-$round
    mkdir -p "$dir"
    server "$dir"
    gen server-sigv4 "$round" -op describe-by-name -sigv4 -accounts 16
    stop
    rm -rf "$dir"
  fi

  # The same first page with $large groups stored; then the memory it holds.
  server "$large_dir"
  gen server-100k "$round" -op describe-page -groups "$large" -seed=false
  rss server-100k "$round" "$pid"
  stop

  if [ -n "$etcd_ep" ]; then
    "$bench" etcd-txn -endpoints "$etcd_ep" -c "$conns" -duration "$duration" -warmup "$warmup" \
      -prefix "/raw-$round/" -label etcd-raw -round "$round" -json >>"$results"
    start server-etcd "$srvbin" --listen "$addr" --store etcd --etcd-endpoints "$etcd_ep" \
      --etcd-prefix "/server-$round/" --quota-cache-security-groups "$quota"
    gen server-etcd "$round" -op create -accounts "$conns"
    stop
  fi
done

echo "== start-up to first answered request ($starts starts each)"
"$bench" startup -n "$starts" -label baseline -json -- "$basebin" -listen '{addr}' >>"$results"
"$bench" startup -n "$starts" -label server -json -- "$srvbin" --listen '{addr}' --data-dir "$small_dir" >>"$results"
"$bench" startup -n "$starts" -label server-100k -json -- "$srvbin" --listen '{addr}' --data-dir "$large_dir" >>"$results"

echo "== figures (load average at end: $(cut -d' ' -f1-3 /proc/loadavg))"
"$bench" table "$results"
if [ "$failures" -gt 0 ]; then
  echo "bench.sh: $failures runs failed twice; their figures are missing or from fewer rounds" >&2
  [ "$smoke" = 1 ] && exit 1
fi
exit 0
