#!/usr/bin/env bash
# Builds Sluice with sanitizers into its own tree and runs tests under them.
#
#   scripts/sanitize.sh          AddressSanitizer and UndefinedBehaviorSanitizer
#                                over the unit and integration tests (CI)
#   scripts/sanitize.sh thread   ThreadSanitizer over the threaded tests: the
#                                broker's syncer and storage, the worker's job
#                                threads and heartbeat, the producer's senders
#                                and the metrics server
#
# A sanitizer's report fails the run even when it came from a broker, worker
# or producer that a test started and stopped: every report is written under
# the build tree and looked for at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
KIND="${1:-address}"
case "$KIND" in
  address) SANITIZE="address,undefined" BUILD=build-asan ;;
  thread) SANITIZE="thread" BUILD=build-tsan ;;
  *) echo "usage: $0 [address|thread]" >&2; exit 2 ;;
esac
scripts/install-deps.sh
# -O1 keeps the build quick and the stacks readable; assertions stay on.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DSLUICE_WERROR=ON \
  -DSLUICE_SANITIZE="$SANITIZE" >/dev/null
# The tests and the binaries they run; the benchmarks are not needed.
ninja -C "$BUILD" tests/all

REPORTS="$PWD/$BUILD/sanitizer-reports"
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=1:abort_on_error=0:strict_string_checks=1"
export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="log_path=$REPORTS/tsan:suppressions=$PWD/scripts/tsan-suppressions.txt:halt_on_error=0"

cd "$BUILD"
status=0
if [ "$KIND" = address ]; then
  ctest --output-on-failure --parallel "$(nproc)" --timeout 600 --label-exclude deploy || status=$?
else
  for t in tests/unit/broker/storage/storage_unit_tests tests/unit/worker/worker_unit_tests \
           tests/unit/producer/enqueue/enqueue_unit_tests; do
    "$t" || status=$?
  done
  tests/integration/integration_tests --gtest_filter='WorkerTest.*:BrokerTest.*:ProducerTest.*' ||
    status=$?
fi
if compgen -G "$REPORTS/*" >/dev/null; then
  echo "sanitizer reports (in $REPORTS):" >&2
  head -n 60 "$REPORTS"/* >&2
  status=1
fi
exit "$status"
