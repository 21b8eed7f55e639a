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
#   scripts/bench.sh --ab [REF] [--rounds N] [--duration D] [--conns C]
#       this tree's elasticache-server (new) against REF's (old; default
#       5692cd1, the main before the schema layer), built from a temporary
#       git worktree: describe-by-name and durable create of cache security
#       groups, old and new interleaved in every round (the order flips each
#       round), each on a fresh bbolt data dir; new/old, median of rounds,
#       in req/s and in the server's CPU time per request (/proc/PID/stat)
#   scripts/bench.sh --moto [--rounds N] [--duration D] [--conns C]
#       elasticache-server against moto_server (on PATH), one after the
#       other in every round, each started fresh: CreateCacheSubnetGroup
#       and DescribeCacheSubnetGroups by name; server/moto, median of rounds.
#       The generator sends a SigV4-shaped credential (-accounts 1), which
#       moto needs to route to ElastiCache, and the subnet ids of a VPC
#       made in moto's EC2 first (curl), which both servers accept
#   scripts/bench.sh --clusters [--rounds N] [--duration D] [--conns C]
#       cache clusters on real engines (scripts/install-engines.sh): the
#       time from CreateCacheCluster to the first PONG at the endpoint
#       Describe gives against a bare redis-server's exec to first PONG,
#       round by round; DescribeCacheClusters (ShowCacheNodeInfo) by ID and
#       a page of 100 with 10, 100 and 1,000 clusters stored (--engines none:
#       the request path is the same, and 1,000 real processes would take
#       gigabytes), in the server's CPU time per request; the server's RSS
#       with 1,000 clusters, and idle engines' RSS against bare ones
#   (--ab, --moto and --clusters with --smoke: two tiny rounds, a check of the mode)
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
mode=full abref=5692cd1
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --large) large=$2; shift 2 ;;
    --no-etcd) etcd=no; shift ;;
    --out) out=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --ab) mode=ab
      if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then abref=$2; shift; fi
      shift ;;
    --moto) mode=moto; shift ;;
    --clusters) mode=clusters; shift ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$smoke" = 1 ]; then
  rounds=1 duration=200ms warmup=0s large=1000 starts=3
  [ "$mode" = full ] || rounds=2 # both orders of the interleaving
fi

out=${out:-$(mktemp -d "${TMPDIR:-/tmp}/elasticache-bench.XXXXXX")}
mkdir -p "$out/bin"
results=$out/results.jsonl
: >"$results"
log=$out/servers.log
pids=()
abtree="" # the temporary worktree of --ab REF while it exists
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$abtree" ]; then git worktree remove --force "$abtree" || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== build"
go build -o "$out/bin/elasticache-server" ./cmd/elasticache-server
go build -o "$out/bin/elasticache-bench" ./cmd/elasticache-bench
[ "$mode" = full ] && go build -o "$out/bin/elasticache-baseline" ./cmd/elasticache-baseline
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

# interleave LABEL… : the labels in this round's order, reversed every
# other round, so that a drift in the machine's load favours neither.
interleave() {
  if [ $((round % 2)) = 1 ]; then echo "$@"; else printf '%s\n' "$@" | tac | tr '\n' ' '; fi
}

if [ "$mode" = clusters ]; then
  stored=10,100,1000
  [ "$smoke" = 1 ] && stored=10,20
  echo "== cache clusters: $rounds start rounds, describe with $stored stored, $duration each, $conns connections"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$bench" clusters -server "$srvbin" -rounds "$((rounds < 3 ? 3 : rounds))" -stored "$stored" \
    -duration "$duration" -c "$conns" 2>>"$log" | tee "$out/clusters.txt"
  echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi

if [ "$mode" = ab ]; then
  oldrev=$(git rev-parse --short "$abref^{commit}")
  newrev=$(git rev-parse --short HEAD)
  [ -n "$(git status --porcelain -- . ':!docs')" ] && newrev="$newrev+changes"
  echo "== build old: $abref ($oldrev) from a temporary worktree"
  abtree=$out/old-src
  git worktree add --detach "$abtree" "$oldrev" >/dev/null 2>&1
  (cd "$abtree" && go build -o "$out/bin/elasticache-server-old" ./cmd/elasticache-server)
  git worktree remove --force "$abtree"
  abtree=""
  for bin in "$srvbin" "$out/bin/elasticache-server-old"; do # the flags both are started with
    help=$("$bin" --help 2>&1 || true)
    for flag in -listen -data-dir -quota-cache-security-groups; do
      grep -q -- "^ *$flag " <<<"$help" || { echo "bench.sh: $bin has no $flag flag" >&2; exit 1; }
    done
  done
  echo "== A/B: new $newrev against old $oldrev, $rounds rounds, $duration per run, $conns connections"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); results: $results, server logs: $log"
  for round in $(seq 1 "$rounds"); do
    echo "== round $round of $rounds (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    for op in describe-by-name create; do
      for which in $(interleave old new); do
        bin=$srvbin
        [ "$which" = old ] && bin=$out/bin/elasticache-server-old
        dir=$out/ab-$round-$op-$which
        mkdir -p "$dir"
        start "$which" "$bin" --listen "$addr" --data-dir "$dir" --quota-cache-security-groups "$quota"
        gen "$which" "$round" -op "$op" -server-pid "$pid"
        stop
        rm -rf "$dir"
      done
    done
  done
  echo "== new ($newrev) / old ($oldrev) (load average at end: $(cut -d' ' -f1-3 /proc/loadavg))"
  "$bench" table -compare new/old "$results"
  [ "$failures" -gt 0 ] && { echo "bench.sh: $failures runs failed twice" >&2; exit 1; }
  exit 0
fi

if [ "$mode" = moto ]; then
  command -v moto_server >/dev/null || { echo "bench.sh: moto_server is not on PATH" >&2; exit 2; }
  # query SERVICE BODY sends one query-protocol request to moto, which
  # routes by the service in the credential's scope and checks no signature.
  query() {
    curl -sS --fail-with-body -H "Authorization: AWS4-HMAC-SHA256 Credential=AKIDBENCHEXAMPLE/20260101/us-east-1/$1/aws4_request, SignedHeaders=host, Signature=0" \
      --data "$2" "http://$addr/"
  }
  ec2() { query ec2 "$1&Version=2016-11-15"; }
  xmlval() { grep -o "<$1>[^<]*" | head -n 1 | cut -d'>' -f2; }
  # start_moto starts moto_server on $addr, and in its EC2 a VPC with two
  # subnets in two zones; $subnets is their ids. (moto also accepts subnet
  # ids its EC2 does not know, by a fallback for a failed lookup; the run
  # should take its ordinary path.)
  subnets="" vpc=""
  start_moto() {
    start moto moto_server -H 127.0.0.1 -p "$port"
    local a b
    vpc=$(ec2 "Action=CreateVpc&CidrBlock=10.0.0.0%2F16" | xmlval vpcId || true)
    a=$(ec2 "Action=CreateSubnet&VpcId=$vpc&CidrBlock=10.0.1.0%2F24&AvailabilityZone=us-east-1a" | xmlval subnetId || true)
    b=$(ec2 "Action=CreateSubnet&VpcId=$vpc&CidrBlock=10.0.2.0%2F24&AvailabilityZone=us-east-1b" | xmlval subnetId || true)
    if [ -z "$vpc" ] || [ -z "$a" ] || [ -z "$b" ]; then
      echo "bench.sh: could not make a VPC and subnets in moto (vpc '$vpc', subnets '$a' '$b')" >&2
      exit 1
    fi
    subnets=$a,$b
    # moto loads a service's backend at its first request: not in the run.
    query elasticache "Action=DescribeCacheSubnetGroups&Version=2015-02-02" >/dev/null
  }
  ops=(create-subnet-group describe-subnet-group)
  motoargs=(-accounts 1)
  echo "== moto $(python3 -c 'import moto; print(moto.__version__)' 2>/dev/null || echo '?'): $rounds rounds, $duration per run, $conns connections"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); results: $results, server logs: $log"
  echo "== check: moto answers the generator's requests"
  start_moto
  for op in "${ops[@]}"; do
    if ! "$bench" run -addr "$addr" -c 2 -duration 2s -warmup 0s -op "$op" -subnets "$subnets" "${motoargs[@]}" >"$out/moto-check-$op.txt"; then
      cat "$out/moto-check-$op.txt" >&2
      echo "bench.sh: moto did not answer $op without errors" >&2
      exit 1
    fi
  done
  # …with ElastiCache's answer (without a credential moto answers as S3),
  # naming the subnets and the VPC of its EC2 (for subnets its EC2 does not
  # know it answers a made-up vpc-0123456789abcdef0). moto 5.2.1 leaves
  # SubnetAvailabilityZone empty either way.
  answer=$(query elasticache "Action=DescribeCacheSubnetGroups&Version=2015-02-02&CacheSubnetGroupName=seed-000000" || true)
  for want in "<CacheSubnetGroupName>seed-000000<" "<SubnetIdentifier>${subnets%,*}<" "<SubnetIdentifier>${subnets#*,}<" "<VpcId>$vpc<"; do
    grep -qF -- "$want" <<<"$answer" || { echo "bench.sh: moto's answer lacks $want: $answer" >&2; exit 1; }
  done
  stop
  for round in $(seq 1 "$rounds"); do
    echo "== round $round of $rounds (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    for op in "${ops[@]}"; do
      for which in $(interleave moto server); do
        if [ "$which" = moto ]; then
          start_moto
        else
          dir=$out/moto-$round-$op-server
          mkdir -p "$dir"
          start server "$srvbin" --listen "$addr" --data-dir "$dir" --quota "cacheSubnetGroups=$quota"
        fi
        gen "$which" "$round" -op "$op" -subnets "$subnets" "${motoargs[@]}" -server-pid "$pid"
        stop
        [ "$which" = server ] && rm -rf "$dir"
      done
    done
  done
  echo "== server / moto (load average at end: $(cut -d' ' -f1-3 /proc/loadavg))"
  "$bench" table -compare server/moto "$results"
  [ "$failures" -gt 0 ] && { echo "bench.sh: $failures runs failed twice" >&2; exit 1; }
  exit 0
fi

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
