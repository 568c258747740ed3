#!/usr/bin/env bash
# bench/ab_brokers.sh: two sluice-broker builds side by side, alternated in one
# run so that the machine's noise hits both alike.
#
# Usage: bench/ab_brokers.sh BROKER_A BROKER_B [PAIRS]
# For each pair, each broker in turn runs five cases on a fresh data
# directory (sluice-bench, 8 threads, batches of 10, MESSAGES messages):
# send and mixed with --fsync never; send, receive+delete (of a pre-filled
# queue) and mixed with --fsync always. Prints one line per case: msgs/s,
# the broker's CPU (user+system, centiseconds) and its peak RSS.
# Build the older broker from its commit, e.g.:
#   git worktree add /tmp/old b018298 && cmake -S /tmp/old -B /tmp/old/b \
#     -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C /tmp/old/b sluice-broker
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
A="$1" B="$2" PAIRS="${3:-2}"
MESSAGES="${MESSAGES:-100000}"
PORT="${PORT:-7571}"
BENCH="${BENCH:-$ROOT/build-bench/bench/sluice-bench}"
DATA="$ROOT/.run/ab"
[[ -x "$BENCH" ]] || { echo "build sluice-bench first (bench/run.sh does)" >&2; exit 1; }

run_case() {  # BROKER LABEL FSYNC WORKLOAD
  rm -rf "$DATA" && mkdir -p "$DATA"
  "$1" --listen "tcp://127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$((PORT + 1))" \
    --data-dir "$DATA" --fsync "$3" --log-level warn &
  local pid=$!
  until "$BENCH" --broker "tcp://127.0.0.1:$PORT" --workload send --messages 1 \
    --queue ready >/dev/null 2>&1; do sleep 0.1; done
  if [[ "$4" == receive ]]; then
    "$BENCH" --broker "tcp://127.0.0.1:$PORT" --workload send --messages "$MESSAGES" >/dev/null
  fi
  local before after out
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$("$BENCH" --broker "tcp://127.0.0.1:$PORT" --workload "$4" --messages "$MESSAGES")
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  local rss
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid" && wait "$pid" || true
  echo "$2 fsync=$3 workload=$4 $(grep -o 'msgs_per_s=[0-9.]*' <<<"$out")" \
    "broker_cpu_cs=$((after - before)) peak_rss_kib=$rss"
}

for ((pair = 1; pair <= PAIRS; pair++)); do
  for side in A B; do
    broker=$A && [[ $side == B ]] && broker=$B
    for c in "never send" "never mixed" "always send" "always receive" "always mixed"; do
      run_case "$broker" "$side" $c
    done
  done
done
