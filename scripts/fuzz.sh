#!/usr/bin/env bash
# Open-ended fuzzing of the parsers that read hostile input: the form decoder
# and the XML escaper, the ARN parser, the marker decoder, the SigV4 header
# parser, the state document importer, and the
# embedded store's write-ahead log reader (what Open reads after a crash). Each target runs for DURATION (go test -fuzztime syntax: 5m, 30s,
# 100000x), one after another, then a summary table is printed.
#
#   scripts/fuzz.sh [DURATION (default 5m)] [TARGET FILTER (a regexp, default all)]
#
#   FUZZ_JOBS=2      targets run at once (default 1)
#   FUZZ_PARALLEL=N  fuzzing workers per target (default: cores / FUZZ_JOBS)
#   FUZZ_LOG_DIR=D   where each target's log goes (default: a new temp dir)
#
# It exits 1 if any target failed (a bare "context deadline exceeded" at the
# end of -fuzztime, with no failing input, is Go's own race: reported, not
# failed). Go writes the failing input to
# <package>/testdata/fuzz/<Target>/; `go test` replays it from then on, so the
# crash stays a failing test until fixed: keep the file, and name the case in
# a regression test of the package. Plain `go test` (CI) replays the seeds and
# testdata/fuzz corpora without fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-5m}
filter=${2:-.}
jobs=${FUZZ_JOBS:-1}
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
parallel=${FUZZ_PARALLEL:-$(( cores / jobs > 0 ? cores / jobs : 1 ))}
logdir=${FUZZ_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/elasticache-fuzz.XXXXXX")}
mkdir -p "$logdir"

# package target
all=(
  "./internal/awsquery/ FuzzParseFormDecode"
  "./internal/awsquery/ FuzzXMLEscape"
  "./service/ FuzzParseARN"
  "./service/ FuzzMarkerOpen"
  "./sigv4/ FuzzVerifyHeader"
  "./service/ FuzzImportState"
  "./storage/bolt/ FuzzRecoverLog"
)
targets=()
for t in "${all[@]}"; do
  if grep -Eq -- "$filter" <<<"${t#* }"; then targets+=("$t"); fi
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no target matches $filter" >&2
  exit 2
fi

echo "fuzzing ${#targets[@]} target(s) for $duration each, $jobs at a time, $parallel worker(s) each; logs in $logdir"

run() { # package target
  local pkg=$1 target=$2 log=$logdir/$2.log start rc=0
  start=$(date +%s)
  go test -run '^$' -fuzz "^$target\$" -fuzztime "$duration" -parallel "$parallel" "$pkg" >"$log" 2>&1 || rc=$?
  echo "$rc $(( $(date +%s) - start ))" >"$logdir/$target.status"
}

running=0
for t in "${targets[@]}"; do
  run $t &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

# deadline_race LOG: go test failed with nothing but a bare "context deadline
# exceeded" as -fuzztime ran out. That is Go's fuzzing coordinator racing its
# own deadline under CPU load (golang/go#75804), not a failing input: no
# input was written, no test failed, nothing panicked.
deadline_race() {
  grep -Eq '^[[:space:]]+context deadline exceeded$' "$1" &&
    ! grep -Eq '^[[:space:]]+--- FAIL|panic:|Failing input' "$1"
}

# The summary: go test's last progress line holds the totals.
failed=0
printf '\n%-20s %-21s %7s %12s %-20s %7s  %s\n' target package seconds execs "new interest" crashes result
for t in "${targets[@]}"; do
  pkg=${t% *} target=${t#* } log=$logdir/${t#* }.log
  read -r rc secs <"$logdir/$target.status"
  last=$(grep -E '^fuzz: elapsed: ' "$log" | tail -n 1 || true)
  execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
  interesting=$(sed -nE 's/.*new interesting: ([0-9]+ \(total: [0-9]+\)).*/\1/p' <<<"$last")
  crashes=$(grep -c 'Failing input written to' "$log" || true)
  result=ok
  if [ "$rc" != 0 ]; then
    if [ "$crashes" = 0 ] && deadline_race "$log"; then
      result="ok (Go's fuzztime deadline race, golang/go#75804: no input failed)"
    else
      result=FAIL
      failed=1
    fi
  fi
  printf '%-20s %-21s %7s %12s %-20s %7s  %s\n' "$target" "$pkg" "$secs" "${execs:-?}" "${interesting:-?}" "$crashes" "$result"
done
if [ "$failed" = 1 ]; then
  echo
  for t in "${targets[@]}"; do
    target=${t#* } log=$logdir/${t#* }.log
    read -r rc _ <"$logdir/$target.status"
    if [ "$rc" != 0 ] && ! deadline_race "$log"; then
      echo "== $target (log $log)"
      grep -v '^fuzz: ' "$log" | head -n 40
    fi
  done
  echo
  echo "fuzz.sh: a target failed; its input is in <package>/testdata/fuzz/<Target>/ — make it a named regression test" >&2
  exit 1
fi
