#!/usr/bin/env bash
# bench/auth_bench.sh: issue #18's figure. Durable mixed load (send, receive
# and delete at once, --fsync always) against a broker with CURVE and the
# permission check on (--principals, --secret-key-file; sluice-bench with the
# keys of a principal granted the queue), and against the same broker without
# them, in one run: rounds interleave the two, so the machine's noise hits
# both alike. Each run starts a fresh broker on a fresh data directory.
#
# Usage: bench/auth_bench.sh            (about 8 minutes after the build)
# Knobs (environment): REPEAT (3), SCALE (1; multiplies every message count),
# BENCH_DIR (.run/bench), PORT (7690; +1 metrics).
# Prints a markdown table (case, mode, msgs/s median [runs], p50 and p99 ms,
# auth/plain ratio) and leaves it, with every sluice-bench line, in
# $BENCH_DIR/auth-<timestamp>/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-bench"
REPEAT="${REPEAT:-3}"
SCALE="${SCALE:-1}"
BENCH_DIR="${BENCH_DIR:-$ROOT/.run/bench}"
PORT="${PORT:-7690}"
METRICS_PORT=$((PORT + 1))
BROKER="$BUILD/broker/sluice-broker"
BENCH="$BUILD/bench/sluice-bench"

# name, threads, batch, messages
CASES=(
  "mixed-batch10-c8 8 10 150000"
  "mixed-unbatched-c2 2 1 20000"
)

log() { echo "[auth_bench.sh $(date -u +%H:%M:%S)] $*" >&2; }
die() { log "FAILED: $*"; exit 1; }

log "building Release into $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" sluice-broker sluice-bench >/dev/null

mkdir -p "$BENCH_DIR"
OUT="$BENCH_DIR/auth-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT/keys"
"$BROKER" keygen --public-key-file "$OUT/keys/broker.pub" --secret-key-file "$OUT/keys/broker.key"
"$BROKER" keygen --public-key-file "$OUT/keys/bench.pub" --secret-key-file "$OUT/keys/bench.key"
# The bench's principal is granted what the load does on its queue, and no
# more, so the check runs as it would for a worker.
cat >"$OUT/keys/principals.json" <<JSON
{"principals": {"bench": {"curve_public_keys": ["$(cat "$OUT/keys/bench.pub")"],
  "grants": [{"actions": ["CreateQueue", "GetQueueUrl", "SendMessage", "ReceiveMessage",
                          "DeleteMessage"],
              "queues": ["bench"]}]}}}
JSON
BROKER_PID=""
trap '[[ -n "$BROKER_PID" ]] && kill "$BROKER_PID" 2>/dev/null; true' EXIT

start_broker() {  # mode
  rm -rf "$OUT/data"
  local extra=()
  if [[ "$1" == auth ]]; then
    extra=(--principals "$OUT/keys/principals.json" --secret-key-file "$OUT/keys/broker.key")
  fi
  "$BROKER" --listen "tcp://127.0.0.1:$PORT" --http-listen "" \
    --metrics-listen "127.0.0.1:$METRICS_PORT" --data-dir "$OUT/data" --fsync always \
    --log-level warn "${extra[@]}" >>"$OUT/broker.log" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 600); do
    curl -fs "http://127.0.0.1:$METRICS_PORT/metrics" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "the broker did not start (see $OUT/broker.log)"
}

stop_broker() {
  kill "$BROKER_PID"
  wait "$BROKER_PID" || true
  BROKER_PID=""
}

for round in $(seq "$REPEAT"); do
  for c in "${CASES[@]}"; do
    read -r name threads batch messages <<<"$c"
    for mode in plain auth; do
      start_broker "$mode"
      keys=()
      if [[ "$mode" == auth ]]; then
        keys=(--broker-public-key-file "$OUT/keys/broker.pub"
              --secret-key-file "$OUT/keys/bench.key")
      fi
      line="$("$BENCH" --broker "tcp://127.0.0.1:$PORT" "${keys[@]}" --queue bench \
        --workload mixed --threads "$threads" --batch "$batch" \
        --messages $((messages * SCALE)))" || die "sluice-bench failed: $line"
      stop_broker
      echo "$name $mode $line" >>"$OUT/runs.txt"
      log "round $round $name $mode: $line"
    done
  done
done

python3 - "$OUT/runs.txt" <<'PY' | tee "$OUT/summary.md"
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, mode, rest = line.split(" ", 2)
    fields = dict(re.findall(r"(\w+)=(\S+)", rest))
    runs.setdefault((name, mode), []).append(fields)
print("| case | mode | msgs/s median [runs] | p50 ms | p99 ms | auth/plain |")
print("|---|---|---|---|---|---|")
for name in dict.fromkeys(n for n, _ in runs):
    medians = {}
    for mode in ("plain", "auth"):
        rs = runs[(name, mode)]
        rates = [float(r["msgs_per_s"]) for r in rs]
        medians[mode] = statistics.median(rates)
        ratio = f"**{medians['auth'] / medians['plain']:.2f}**" if mode == "auth" else ""
        print(f"| {name} | {mode} | {medians[mode]:,.0f} [{', '.join(f'{x:,.0f}' for x in rates)}] "
              f"| {statistics.median(float(r['p50_ms']) for r in rs):.2f} "
              f"| {statistics.median(float(r['p99_ms']) for r in rs):.2f} | {ratio} |")
PY
