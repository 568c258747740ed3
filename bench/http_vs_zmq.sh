#!/usr/bin/env bash
# bench/http_vs_zmq.sh: issue #16's figures. The same sluice-bench workloads
# over the broker's ZeroMQ protocol and over SQS's JSON 1.0 protocol (its
# --http-listen port), side by side, and over JSON against a reference SQS
# server, npm's local-aws-sqs, in the same run.
#
# Builds Release into build-bench/. Each run of a case starts a fresh server
# (the broker on a fresh data directory on the disk, with the case's --fsync;
# or local-aws-sqs, which keeps its queues in memory and has no fsync), runs
# one sluice-bench and stops the server. The transports are interleaved within
# each round (zmq, json, local-aws-sqs), REPEAT rounds, so the machine's noise
# hits them alike. local-aws-sqs is installed with npm into a temporary
# directory; without node/npm or the registry its rows are skipped and the
# summary says so. Its counts are smaller (its receives scan the whole queue),
# so that each of its runs also takes a few seconds.
#
# Usage: bench/http_vs_zmq.sh           (about 5 minutes after the build)
# Knobs (environment): REPEAT (3), SCALE (1; multiplies every message count),
# PEER=0 skips local-aws-sqs, BENCH_DIR (.run/bench), PORT (7680: ZeroMQ;
# +1 HTTP, +2 metrics, +3 local-aws-sqs).
# Prints a markdown table (case, transport, msgs/s median [runs], p50 and p99
# request latency medians, CPU of the server, the client and everything else,
# HTTP/ZeroMQ ratio) and leaves it, with
# every sluice-bench line, in $BENCH_DIR/http-<timestamp>/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-bench"
REPEAT="${REPEAT:-3}"
SCALE="${SCALE:-1}"
PEER="${PEER:-1}"
BENCH_DIR="${BENCH_DIR:-$ROOT/.run/bench}"
PORT="${PORT:-7680}"
HTTP_PORT=$((PORT + 1))
METRICS_PORT=$((PORT + 2))
PEER_PORT=$((PORT + 3))
PEER_PACKAGE="local-aws-sqs@2.0.2"
CASE_TIMEOUT_S=300  # any one sluice-bench run
START_TIMEOUT_S=60  # a server must answer within this

BROKER="$BUILD/broker/sluice-broker"
BENCH="$BUILD/bench/sluice-bench"

# The cases: name, --fsync, workload, threads, batch, messages for Sluice,
# messages for local-aws-sqs, issue #16's target for HTTP JSON (msgs/s).
CASES=(
  "send-batch10-c8 always send 8 10 300000 50000 60000"
  "mixed-batch10-c8 always mixed 8 10 150000 10000 25000"
  "send-unbatched-c16 always send 16 1 60000 15000 8000"
  "send-unbatched-c1-never never send 1 1 40000 15000 12000"
)

log() { echo "[http_vs_zmq.sh $(date -u +%H:%M:%S)] $*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# --- build -------------------------------------------------------------------
log "building Release into $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" sluice-broker sluice-bench >/dev/null

for p in "$PORT" "$HTTP_PORT" "$METRICS_PORT" "$PEER_PORT"; do
  if ss -ltnH "sport = :$p" | grep -q .; then die "port $p is in use; set PORT"; fi
done
mkdir -p "$BENCH_DIR"
OUT="$BENCH_DIR/http-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
DATA="$OUT/data"
PEER_DIR="$(mktemp -d)"
SERVER_PID=""

# --- local-aws-sqs ---------------------------------------------------------------
PEER_NOTE=""
if [[ "$PEER" != 1 ]]; then
  PEER_NOTE="local-aws-sqs skipped (PEER=$PEER)"
elif ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  PEER_NOTE="local-aws-sqs skipped: node or npm is not installed"
elif ! (cd "$PEER_DIR" && timeout 300 npm install --no-audit --no-fund --prefix . \
  "$PEER_PACKAGE" >"$OUT/npm.log" 2>&1); then
  PEER_NOTE="local-aws-sqs skipped: npm install $PEER_PACKAGE failed (see npm.log)"
fi
[[ -z "$PEER_NOTE" ]] || log "$PEER_NOTE"

{
  echo "date: $(date -u)"
  echo "git: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- broker common proto client bench 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "kernel: $(uname -r)"
  echo "disk: $(df -h --output=source,fstype,size "$BENCH_DIR" | tail -1 | tr -s ' ')"
  echo "node: $(node --version 2>/dev/null || echo none) peer: ${PEER_NOTE:-$PEER_PACKAGE}"
  echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt" >&2

# --- servers ---------------------------------------------------------------------
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() {
  stop_server
  rm -rf "$PEER_DIR" "$DATA"
}
trap cleanup EXIT

# bench_args TRANSPORT: how sluice-bench reaches the server of TRANSPORT.
bench_args() {
  case "$1" in
    zmq) echo "--protocol zmq --broker tcp://127.0.0.1:$PORT" ;;
    json) echo "--protocol json --http-endpoint http://127.0.0.1:$HTTP_PORT" ;;
    local-aws-sqs) echo "--protocol json --http-endpoint http://127.0.0.1:$PEER_PORT" ;;
  esac
}

# start_server TRANSPORT FSYNC: a fresh server; returns once it answers a
# send over TRANSPORT (to a queue of its own).
start_server() {
  if [[ "$1" == local-aws-sqs ]]; then
    (cd "$PEER_DIR" && exec node -e "require('local-aws-sqs').createSqsServer(
      {port: $PEER_PORT, hostname: '127.0.0.1'})") >>"$OUT/servers.log" 2>&1 &
  else
    rm -rf "$DATA"
    "$BROKER" --listen "tcp://127.0.0.1:$PORT" --http-listen "127.0.0.1:$HTTP_PORT" \
      --metrics-listen "127.0.0.1:$METRICS_PORT" --data-dir "$DATA" --fsync "$2" \
      --log-level warn >>"$OUT/servers.log" 2>&1 &
  fi
  SERVER_PID=$!
  local deadline=$((SECONDS + START_TIMEOUT_S))
  # shellcheck disable=SC2046
  until "$BENCH" $(bench_args "$1") --workload send --threads 1 --messages 1 \
    --queue ready >/dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || die "$1 server exited at start; see $OUT/servers.log"
    ((SECONDS < deadline)) || die "$1 server did not answer within ${START_TIMEOUT_S}s"
    sleep 0.1
  done
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Busy ticks of the whole machine (every core), to tell other work's share.
machine_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }

# run_case ROUND TRANSPORT NAME FSYNC WORKLOAD THREADS BATCH MESSAGES
run_case() {
  local round="$1" transport="$2" name="$3" fsync="$4" workload="$5" threads="$6" batch="$7"
  local messages="$8" line before after machine_before machine_after
  start_server "$transport" "$fsync"
  log "round $round $name $transport (load $(cut -d' ' -f1 /proc/loadavg))"
  before=$(cpu_ticks "$SERVER_PID")
  machine_before=$(machine_ticks)
  local wall_start wall_end
  wall_start=$(date +%s%N)
  # shellcheck disable=SC2046
  line="$(timeout "$CASE_TIMEOUT_S" "$BENCH" $(bench_args "$transport") --workload "$workload" \
    --threads "$threads" --batch "$batch" --messages "$messages" \
    --max-seconds "$((CASE_TIMEOUT_S - 10))")" || line="${line:-} failed=1"
  wall_end=$(date +%s%N)
  after=$(cpu_ticks "$SERVER_PID" || echo "$before")
  machine_after=$(machine_ticks)
  stop_server
  echo "round=$round case=$name transport=$transport fsync=$fsync $line" >>"$OUT/bench-lines.txt"
  if [[ "$line" == *failed=1* || "$line" == *error=* ]]; then
    log "  failed: $line"
    return
  fi
  local seconds hz cpu client other
  seconds="$(field "$line" seconds)"
  hz="$(getconf CLK_TCK)"
  cpu="$(awk -v t="$((after - before))" -v hz="$hz" -v s="$seconds" \
    'BEGIN {printf "%.0f", 100 * t / hz / s}')"
  client="$(awk -v c="$(field "$line" client_cpu_s)" -v s="$seconds" \
    'BEGIN {printf "%.0f", 100 * c / s}')"
  # The rest of the machine's busy time while sluice-bench ran (its start
  # included): other work, the kernel's own.
  other="$(awk -v t="$((machine_after - machine_before))" -v hz="$hz" \
    -v w="$(((wall_end - wall_start) / 1000000))" -v st="$((after - before))" \
    -v c="$(field "$line" client_cpu_s)" \
    'BEGIN {o = 100 * ((t - st) / hz - c) / (w / 1000); printf "%.0f", o < 0 ? 0 : o}')"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$transport" "$round" \
    "$(field "$line" msgs_per_s)" "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" "$cpu" \
    "$client" "$other" "$(field "$line" empty_receives)" >>"$OUT/results.tsv"
  log "  $(field "$line" msgs_per_s) msgs/s p50 $(field "$line" p50_ms) ms p99 $(field "$line" p99_ms) ms"
}

# --- the runs ------------------------------------------------------------------------
: >"$OUT/results.tsv"
TRANSPORTS=(zmq json)
[[ -n "$PEER_NOTE" ]] || TRANSPORTS+=(local-aws-sqs)
for ((round = 1; round <= REPEAT; round++)); do
  for c in "${CASES[@]}"; do
    read -r name fsync workload threads batch messages peer_messages _ <<<"$c"
    for transport in "${TRANSPORTS[@]}"; do
      n=$messages
      [[ "$transport" == local-aws-sqs ]] && n=$peer_messages
      run_case "$round" "$transport" "$name" "$fsync" "$workload" "$threads" "$batch" \
        "$(awk -v n="$n" -v s="$SCALE" 'BEGIN {printf "%d", n * s}')"
    done
  done
done

# --- the table -----------------------------------------------------------------------------
for c in "${CASES[@]}"; do echo "$c"; done >"$OUT/cases.txt"
{
  echo
  echo "## sluice-bench over ZeroMQ, HTTP JSON and local-aws-sqs ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  awk -F'\t' -v repeat="$REPEAT" '
    function median(list,    a, n, i, j, t) {
      n = split(list, a, ",")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function add(arr, k, v) { if (k in arr) arr[k] = arr[k] "," v; else arr[k] = v }
    FILENAME ~ /cases.txt$/ { order[++ncases] = $0; next }
    {
      k = $1 SUBSEP $2
      add(rate, k, $4); add(p50, k, $5); add(p99, k, $6); add(cpu, k, $7); add(ccpu, k, $8)
      add(ocpu, k, $9)
    }
    END {
      print "| case | fsync | clients | batch | transport | msgs/s median [runs] | p50 ms | p99 ms | server CPU % | client CPU % | other CPU % | HTTP/ZeroMQ | target (HTTP) |"
      print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
      for (i = 1; i <= ncases; i++) {
        split(order[i], f, " ")
        name = f[1]
        zk = name SUBSEP "zmq"
        zmed = (zk in rate) ? median(rate[zk]) : 0
        split("zmq json local-aws-sqs", ts, " ")
        for (t = 1; t <= 3; t++) {
          k = name SUBSEP ts[t]
          if (!(k in rate)) continue
          med = median(rate[k])
          ratio = (zmed > 0 && ts[t] != "zmq") ? sprintf("%.2f", med / zmed) : "-"
          target = ts[t] == "json" ? sprintf(">= %d: %s", f[8], med >= f[8] ? "met" : "missed") : "-"
          runs = rate[k]; gsub(",", ", ", runs)
          printf "| %s | %s | %s | %s | %s | %.0f [%s] | %.2f | %.2f | %.0f | %.0f | %.0f | %s | %s |\n",
            name, ts[t] == "local-aws-sqs" ? "(memory)" : f[2], f[4], f[5], ts[t], med, runs,
            median(p50[k]), median(p99[k]), median(cpu[k]), median(ccpu[k]), median(ocpu[k]),
            ratio, target
        }
      }
    }' "$OUT/cases.txt" "$OUT/results.tsv"
  echo
  echo "Medians of $REPEAT interleaved runs; p50/p99: per-request latency (all calls but"
  echo "empty receives), median over the runs. CPU: % of one core over the run (200% is"
  echo "the machine); other: the machine's busy time less the server's and the client's."
  [[ -z "$PEER_NOTE" ]] || echo "$PEER_NOTE."
  echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/summary.md"
failures=$(grep -c 'failed=1\|error=' "$OUT/bench-lines.txt" || true)
[[ "$failures" == 0 ]] || log "$failures run(s) failed: see $OUT/bench-lines.txt"
log "results in $OUT"
