#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/, docs/fuzzing.md) into build-fuzz
# with clang, AddressSanitizer and UndefinedBehaviorSanitizer, and runs each.
#
#   scripts/fuzz.sh                  every target for 10 minutes
#   scripts/fuzz.sh --ci             every target for 30 seconds (CI)
#   scripts/fuzz.sh dispatch ...     only the targets named
#
# SLUICE_FUZZ_SECONDS overrides the time per target; SLUICE_FUZZ_PARALLEL how
# many targets run at once (default: one per CPU); SLUICE_FUZZ_JOBS the build's
# parallelism; SLUICE_FUZZ_BUILD the build directory (default build-fuzz).
#
# A crash, a sanitizer's report, a leak, a timeout or a failed oracle is
# written to build-fuzz/crashes/<target>/ (emptied when the target runs again)
# and fails the run; make it a regression test by copying it to
# tests/fuzz/regressions/<target>/. Inputs that reach new code go to
# build-fuzz/corpus/<target>/, where the next run starts from; the seeds in
# tests/fuzz/corpus/ are only read.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=(dispatch log_replay http_request sqs_decode s3_event image_sniff)
seconds="${SLUICE_FUZZ_SECONDS:-600}"
targets=()
for arg in "$@"; do
  case "$arg" in
    --ci) seconds="${SLUICE_FUZZ_SECONDS:-30}" ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "unknown option: $arg" >&2; exit 2 ;;
    *)
      if [[ ! " ${ALL[*]} " =~ " $arg " ]]; then
        echo "no fuzz target '$arg'; there are: ${ALL[*]}" >&2
        exit 2
      fi
      targets+=("$arg")
      ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")

# The longest input worth trying: a few times the largest seed.
max_len() {
  case "$1" in
    log_replay) echo 16384 ;;
    http_request) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

scripts/install-deps.sh
BUILD="${SLUICE_FUZZ_BUILD:-build-fuzz}"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# Everything is instrumented for coverage (fuzzer-no-link) and the sanitizers;
# -O1 keeps the build quick and the stacks readable; assertions stay on.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" "${launcher[@]}" \
  -DSLUICE_SANITIZE=fuzzer-no-link,address,undefined -DSLUICE_FUZZ=ON >/dev/null
ninja -C "$BUILD" -j "${SLUICE_FUZZ_JOBS:-$(nproc)}" fuzz

# The log target recovers a data directory per input: on tmpfs when there is
# one, so that its fsyncs cost nothing.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run() {
  local t="$1"
  local dict=()
  if [ -f "tests/fuzz/dict/$t.dict" ]; then dict=(-dict="tests/fuzz/dict/$t.dict"); fi
  rm -rf "${BUILD:?}/crashes/$t"  # what the last run found
  mkdir -p "$BUILD/corpus/$t" "$BUILD/crashes/$t" "$BUILD/logs"
  "$BUILD/tests/fuzz/fuzz_$t" "$BUILD/corpus/$t" "tests/fuzz/corpus/$t" "${dict[@]}" \
    -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$BUILD/crashes/$t/" -print_final_stats=1 >"$BUILD/logs/$t.log" 2>&1
}

echo "fuzzing ${targets[*]} for ${seconds} s each, logs in $BUILD/logs/"
status=0
pids=()
names=()
wait_one() {
  local i=0
  if ! wait "${pids[$i]}"; then
    echo "fuzz_${names[$i]} FAILED: see $BUILD/logs/${names[$i]}.log and $BUILD/crashes/${names[$i]}/" >&2
    status=1
  fi
  pids=("${pids[@]:1}")
  names=("${names[@]:1}")
}
for t in "${targets[@]}"; do
  [ ${#pids[@]} -lt "${SLUICE_FUZZ_PARALLEL:-$(nproc)}" ] || wait_one
  run "$t" &
  pids+=($!)
  names+=("$t")
done
while [ ${#pids[@]} -gt 0 ]; do wait_one; done

# One line per target: runs, speed, coverage.
for t in "${targets[@]}"; do
  log="$BUILD/logs/$t.log"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
  printf '%-13s %10s runs %7s exec/s  %s\n' "$t" "${runs:-?}" "${speed:-?}" "${cov:-}"
done
if compgen -G "$BUILD/crashes/*/*" >/dev/null; then
  echo "inputs that failed a target (in $BUILD/crashes/):" >&2
  ls "$BUILD"/crashes/*/* >&2
  status=1
fi
exit "$status"
