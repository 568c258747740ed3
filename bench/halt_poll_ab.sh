#!/usr/bin/env bash
# bench/halt_poll_ab.sh: the `--fsync never` mixed case with this VM's guest
# halt polling as the machine has it, and at the kernel's default (200 us),
# alternated in one run so that the machine's noise hits both alike.
#
# A request crosses six threads (client, its ZeroMQ I/O thread, the broker's
# I/O thread, its loop, and back); a thread woken on a halted vCPU costs a VM
# exit. With guest_halt_poll_ns at 0 every idle vCPU halts at once. This
# measures what that costs; it tunes the machine, not the broker, so
# bench/run.sh never does it and its figures are the machine's own.
#
# Usage: sudo bench/halt_poll_ab.sh [PAIRS]   (after bench/run.sh has built)
# Writes /sys/module/haltpoll/parameters/guest_halt_poll_ns and restores it on
# exit. Prints one line per run: clients, halt polling, msgs/s.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PAIRS="${1:-3}"
MESSAGES="${MESSAGES:-200000}"
PORT="${PORT:-7581}"
BROKER="$ROOT/build-bench/broker/sluice-broker"
BENCH="$ROOT/build-bench/bench/sluice-bench"
DATA="$ROOT/.run/halt-poll-ab"
KNOB=/sys/module/haltpoll/parameters/guest_halt_poll_ns
KERNEL_DEFAULT_NS=200000
[[ -x "$BENCH" && -x "$BROKER" ]] || { echo "build first: bench/run.sh" >&2; exit 1; }
[[ -w "$KNOB" ]] || { echo "$KNOB is missing or not writable (needs root, a KVM guest)" >&2; exit 1; }

ORIGINAL="$(cat "$KNOB")"
BROKER_PID=""
trap '[[ -n "$BROKER_PID" ]] && kill "$BROKER_PID" 2>/dev/null; echo "$ORIGINAL" >"$KNOB"' EXIT

run_case() {  # CLIENTS HALT_POLL_NS
  echo "$2" >"$KNOB"
  rm -rf "$DATA" && mkdir -p "$DATA"
  "$BROKER" --listen "tcp://127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$((PORT + 1))" \
    --data-dir "$DATA" --fsync never --log-level warn &
  BROKER_PID=$!
  local deadline=$((SECONDS + 60))
  until "$BENCH" --broker "tcp://127.0.0.1:$PORT" --workload send --messages 1 \
    --queue ready >/dev/null 2>&1; do
    kill -0 "$BROKER_PID" 2>/dev/null || { echo "the broker exited at start" >&2; exit 1; }
    ((SECONDS < deadline)) || { echo "the broker did not answer within 60 s" >&2; exit 1; }
    sleep 0.1
  done
  local out
  out=$("$BENCH" --broker "tcp://127.0.0.1:$PORT" --workload mixed --threads "$1" \
    --messages "$MESSAGES")
  kill "$BROKER_PID" && wait "$BROKER_PID" || true
  BROKER_PID=""
  echo "clients=$1 guest_halt_poll_ns=$2 $(grep -o 'msgs_per_s=[0-9.]*' <<<"$out")"
}

# Each pair in the other order than the last, so that neither setting always
# runs first.
for ((pair = 1; pair <= PAIRS; pair++)); do
  first="$ORIGINAL" second="$KERNEL_DEFAULT_NS"
  ((pair % 2 == 0)) && first="$KERNEL_DEFAULT_NS" second="$ORIGINAL"
  for clients in 8 16 32; do
    run_case "$clients" "$first"
    run_case "$clients" "$second"
  done
done
