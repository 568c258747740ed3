#!/usr/bin/env bash
# bench/run.sh: the benchmarks of issue #4, end to end and reproducible.
#
# Builds Release into build-bench/, then for each case starts a fresh
# sluice-broker on a fresh data directory on the disk (not tmpfs) with the
# case's --fsync, runs sluice-bench against it over loopback TCP, and records
# the broker's peak RSS (VmHWM), its CPU and the data directory's size
# (du -sb). Then fills a queue with 1,000,000 messages (--fsync never), restarts
# the broker normally (--fsync always), kills it with SIGKILL, times its
# recovery and drains the queue. Also measures the disk's synced writes per
# second, so the results can be read against the disk. Prints a table and
# leaves it, with every raw result line and broker log, in
# $BENCH_DIR/<timestamp>/.
#
# Usage: bench/run.sh            (about 10-15 minutes; needs ~1.5 GiB of disk)
# Knobs (environment): MESSAGES (throughput cases, default 200000),
# UNBATCHED_MESSAGES (50000), FILL_MESSAGES (1000000; 0 skips the fill case),
# THREADS (8), REPEAT (runs of each throughput case, 3), BENCH_DIR
# (.run/bench), PORT (7470), METRICS_PORT (9470), KEEP_DATA=1 keeps data dirs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-bench"
MESSAGES="${MESSAGES:-200000}"
UNBATCHED_MESSAGES="${UNBATCHED_MESSAGES:-50000}"
FILL_MESSAGES="${FILL_MESSAGES:-1000000}"
THREADS="${THREADS:-8}"
REPEAT="${REPEAT:-3}"
BENCH_DIR="${BENCH_DIR:-$ROOT/.run/bench}"
PORT="${PORT:-7470}"
METRICS_PORT="${METRICS_PORT:-9470}"
KEEP_DATA="${KEEP_DATA:-0}"
ENDPOINT="tcp://127.0.0.1:$PORT"
QUEUE=bench
CASE_TIMEOUT_S=600     # any one sluice-bench run
BROKER_START_S=120     # a broker must answer within this (recovery included)

BROKER="$BUILD/broker/sluice-broker"
PRODUCER="$BUILD/producer/sluice-producer"
BENCH="$BUILD/bench/sluice-bench"
SYNC_RATE="$BUILD/bench/sluice-sync-rate"

log() { echo "[run.sh $(date -u +%H:%M:%S)] $*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# --- build -------------------------------------------------------------------
log "building Release into $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" sluice-broker sluice-producer sluice-bench sluice-sync-rate >/dev/null

# --- where results go ----------------------------------------------------------
mkdir -p "$BENCH_DIR"
OUT="$BENCH_DIR/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
RESULTS="$OUT/results.tsv"
: >"$RESULTS"
if [[ "$(df --output=fstype "$BENCH_DIR" | tail -1)" == tmpfs ]]; then
  die "$BENCH_DIR is on tmpfs; set BENCH_DIR to a directory on the disk"
fi
for p in "$PORT" "$METRICS_PORT"; do
  if ss -ltnH "sport = :$p" | grep -q .; then die "port $p is in use; set PORT/METRICS_PORT"; fi
done

{
  echo "date: $(date -u)"
  echo "git: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- broker common proto client 2>/dev/null || echo ' (+ uncommitted changes in broker/common/proto/client)')"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "kernel: $(uname -r)"
  echo "disk: $(df -h --output=source,fstype,size "$BENCH_DIR" | tail -1 | tr -s ' ')"
  echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "guest halt polling (ns): $(cat /sys/module/haltpoll/parameters/guest_halt_poll_ns 2>/dev/null || echo none)"
} | tee "$OUT/machine.txt" >&2

# --- broker processes --------------------------------------------------------
BROKER_PID=""

# start_broker DATA_DIR FSYNC LOG: starts a broker and waits until it answers.
start_broker() {
  local data="$1" fsync="$2" logfile="$3"
  "$BROKER" --listen "$ENDPOINT" --metrics-listen "127.0.0.1:$METRICS_PORT" --http-listen 127.0.0.1:0 \
    --data-dir "$data" --fsync "$fsync" --log-level info 2>>"$logfile" &
  BROKER_PID=$!
  local deadline=$((SECONDS + BROKER_START_S))
  until "$PRODUCER" --broker "$ENDPOINT" --timeout-ms 200 list-queues >/dev/null 2>&1; do
    kill -0 "$BROKER_PID" 2>/dev/null || die "broker exited at start; see $logfile"
    ((SECONDS < deadline)) || die "broker did not answer within ${BROKER_START_S}s"
    sleep 0.05
  done
}

# stop_broker [SIGNAL]: SIGTERM (a clean stop) unless told otherwise. Bash's
# notice of a child killed by a signal is expected here, so it is silenced.
stop_broker() {
  local sig="${1:-TERM}"
  [[ -n "$BROKER_PID" ]] || return 0
  {
    kill "-$sig" "$BROKER_PID" || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$BROKER_PID" && ((SECONDS < deadline)); do sleep 0.05; done
    if kill -0 "$BROKER_PID"; then
      log "broker $BROKER_PID did not stop on SIG$sig; killing it" 2>&3
      kill -KILL "$BROKER_PID" || true
    fi
    wait "$BROKER_PID" || true
  } 3>&2 2>/dev/null
  BROKER_PID=""
}
trap 'stop_broker KILL' EXIT

# A field of /proc/PID/status in MiB (VmHWM: peak RSS, VmRSS: current).
proc_mib() { awk -v f="$2:" '$1 == f {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
du_mib() { du -sb "$1" | awk '{printf "%.0f", $1 / 1048576}'; }

# bench ARGS...: one sluice-bench run; prints its result line.
bench() {
  local line
  line="$(timeout "$CASE_TIMEOUT_S" "$BENCH" --broker "$ENDPOINT" --queue "$QUEUE" \
    --max-seconds "$((CASE_TIMEOUT_S - 10))" "$@")" || die "sluice-bench $* failed: $line"
  echo "$line" >>"$OUT/bench-lines.txt"
  echo "$line"
}
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }

# cpu_ticks PID: the process's user+system CPU so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# record CASE FSYNC TARGET LINE DATA_DIR BROKER_CPU_TICKS: one row of results.tsv.
record() {
  local name="$1" fsync="$2" target="$3" line="$4" data="$5" ticks="$6"
  local rate seconds
  rate="$(field "$line" msgs_per_s)"
  seconds="$(field "$line" seconds)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$fsync" \
    "$(field "$line" threads)" "$(field "$line" batch)" "$(field "$line" messages)" \
    "$seconds" "$rate" "$target" \
    "$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v s="$seconds" 'BEGIN {printf "%.0f", 100 * t / hz / s}')" \
    "$(awk -v c="$(field "$line" client_cpu_s)" -v s="$seconds" 'BEGIN {printf "%.0f", 100 * c / s}')" \
    "$(proc_mib "$BROKER_PID" VmHWM)" "$(du_mib "$data")" >>"$RESULTS"
  log "$name: $rate msgs/s (target $target) peak_rss=$(proc_mib "$BROKER_PID" VmHWM)MiB"
}

# new_data_dir NAME: a fresh, empty directory for one broker.
new_data_dir() { mktemp -d "$OUT/$1.XXXX"; }
drop_data_dir() { [[ "$KEEP_DATA" == 1 ]] || rm -rf "$1"; }

# case_throughput NAME FSYNC TARGET PREFILL BENCH_ARGS...: a fresh broker; when
# PREFILL > 0 the queue is first filled by a batched send (not measured).
case_throughput() {
  local name="$1" fsync="$2" target="$3" prefill="$4"
  shift 4
  local run data line ticks
  for ((run = 1; run <= REPEAT; run++)); do
    data="$(new_data_dir "$name")"
    log "$name (run $run/$REPEAT, fsync=$fsync, load $(cut -d' ' -f1 /proc/loadavg))"
    start_broker "$data/data" "$fsync" "$OUT/$name.broker.log"
    if ((prefill > 0)); then
      bench --workload send --threads "$THREADS" --batch 10 --messages "$prefill" >/dev/null
    fi
    ticks="$(cpu_ticks "$BROKER_PID")"
    line="$(bench "$@")"
    ticks=$(($(cpu_ticks "$BROKER_PID") - ticks))
    record "$name" "$fsync" "$target" "$line" "$data" "$ticks"
    stop_broker
    drop_data_dir "$data"
  done
}

# --- the disk ------------------------------------------------------------------
log "measuring the disk's synced writes"
"$SYNC_RATE" --dir "$OUT" --seconds 3 | tee "$OUT/disk.txt" >&2
dd_out="$(dd if=/dev/zero of="$OUT/dd.tmp" bs=4k count=1000 oflag=dsync 2>&1 | tail -1)"
rm -f "$OUT/dd.tmp"
dd_rate="$(awk '{for (i = 1; i <= NF; i++) if ($i == "s,") printf "%.0f", 1000 / $(i - 1)}' <<<"$dd_out")"
echo "mode=dd_oflag_dsync bytes=4096 synced_writes_per_s=$dd_rate" | tee -a "$OUT/disk.txt" >&2

# --- throughput --------------------------------------------------------------
T="$THREADS"
case_throughput durable-send always 35000 0 \
  --workload send --threads "$T" --batch 10 --messages "$MESSAGES"
case_throughput durable-receive-delete always 25000 "$MESSAGES" \
  --workload receive --threads "$T" --batch 10 --messages "$MESSAGES"
case_throughput durable-mixed always 20000 0 \
  --workload mixed --threads "$T" --batch 10 --messages "$MESSAGES"
# Group commit with more clients: more requests share each fsync.
case_throughput durable-mixed-2x-clients always 20000 0 \
  --workload mixed --threads "$((2 * T))" --batch 10 --messages "$MESSAGES"
case_throughput durable-mixed-4x-clients always 20000 0 \
  --workload mixed --threads "$((4 * T))" --batch 10 --messages "$MESSAGES"
case_throughput durable-send-unbatched always 5000 0 \
  --workload send --threads "$T" --batch 1 --messages "$UNBATCHED_MESSAGES"
case_throughput durable-receive-delete-unbatched always - "$UNBATCHED_MESSAGES" \
  --workload receive --threads "$T" --batch 1 --messages "$UNBATCHED_MESSAGES"
case_throughput nosync-mixed never 80000 0 \
  --workload mixed --threads "$T" --batch 10 --messages "$MESSAGES"
case_throughput nosync-send never 120000 0 \
  --workload send --threads "$T" --batch 10 --messages "$MESSAGES"
# Without fsyncs the round trips bound the 8 clients, each with one request
# out: with more clients each turn of the broker serves more requests, and the
# hand-offs between threads are shared (docs/benchmarks.md).
case_throughput nosync-mixed-2x-clients never 80000 0 \
  --workload mixed --threads "$((2 * T))" --batch 10 --messages "$MESSAGES"
case_throughput nosync-mixed-4x-clients never 80000 0 \
  --workload mixed --threads "$((4 * T))" --batch 10 --messages "$MESSAGES"

# --- 1,000,000 queued messages: memory, disk, recovery -----------------------
# seconds_until_recovered START_NS: polls until the queue reports them all.
seconds_until_recovered() {
  local start="$1" deadline=$((SECONDS + BROKER_START_S)) n
  while :; do
    n="$("$PRODUCER" --broker "$ENDPOINT" --timeout-ms 200 get-queue-attributes \
      --queue-name "$QUEUE" --attribute-names ApproximateNumberOfMessages 2>/dev/null |
      jq -r '.Attributes.ApproximateNumberOfMessages' 2>/dev/null || true)"
    [[ "$n" == "$FILL_MESSAGES" ]] && break
    kill -0 "$BROKER_PID" 2>/dev/null || die "broker exited during recovery"
    ((SECONDS < deadline)) || die "not recovered within ${BROKER_START_S}s (last count: $n)"
    sleep 0.02
  done
  awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN {printf "%.2f", (b - a) / 1e9}'
}

# start_recovering DATA_DIR: starts a broker without waiting for it.
start_recovering() {
  "$BROKER" --listen "$ENDPOINT" --metrics-listen "127.0.0.1:$METRICS_PORT" --http-listen 127.0.0.1:0 \
    --data-dir "$1" --fsync always --log-level info 2>>"$OUT/fill.broker.log" &
  BROKER_PID=$!
}

if ((FILL_MESSAGES > 0)); then
  data="$(new_data_dir fill)"
  log "filling $FILL_MESSAGES messages (fsync=never for the fill)"
  start_broker "$data/data" never "$OUT/fill.broker.log"
  fill_line="$(bench --workload send --threads "$T" --batch 10 --messages "$FILL_MESSAGES")"
  fill_rate="$(field "$fill_line" msgs_per_s)"
  fill_rss="$(proc_mib "$BROKER_PID" VmRSS)"
  fill_hwm="$(proc_mib "$BROKER_PID" VmHWM)"
  fill_disk="$(du_mib "$data")"
  stop_broker

  log "clean restart with --fsync always"
  t0="$(date +%s%N)"
  start_recovering "$data/data"
  clean_restart_s="$(seconds_until_recovered "$t0")"
  sleep 1
  restart_rss="$(proc_mib "$BROKER_PID" VmRSS)"
  restart_disk="$(du_mib "$data")"

  log "kill -9 and recovery"
  stop_broker KILL
  t0="$(date +%s%N)"
  start_recovering "$data/data"
  recovery_s="$(seconds_until_recovered "$t0")"
  sleep 1
  recovered_rss="$(proc_mib "$BROKER_PID" VmRSS)"
  recovered_hwm="$(proc_mib "$BROKER_PID" VmHWM)"
  recovered_disk="$(du_mib "$data")"

  # Drain the deep queue (durable): receive+delete with bodies read from
  # disk, then whether the deleted data's space comes back while it idles.
  log "draining the $FILL_MESSAGES messages (fsync=always)"
  ticks="$(cpu_ticks "$BROKER_PID")"
  drain_line="$(bench --workload receive --threads "$T" --batch 10 --messages "$FILL_MESSAGES")"
  ticks=$(($(cpu_ticks "$BROKER_PID") - ticks))
  record durable-receive-delete-deep always - "$drain_line" "$data" "$ticks"
  drained_disk="$(du_mib "$data")"
  sleep 30
  idle_disk="$(du_mib "$data")"
  drained_hwm="$(proc_mib "$BROKER_PID" VmHWM)"
  stop_broker
  drop_data_dir "$data"
  {
    echo "fill_messages=$FILL_MESSAGES fill_msgs_per_s=$fill_rate"
    echo "after_fill: rss_mib=$fill_rss peak_rss_mib=$fill_hwm disk_mib=$fill_disk"
    echo "clean_restart: seconds=$clean_restart_s rss_mib=$restart_rss disk_mib=$restart_disk"
    echo "kill9_recovery: seconds=$recovery_s rss_mib=$recovered_rss peak_rss_mib=$recovered_hwm disk_mib=$recovered_disk"
    echo "drain (receive+delete all, fsync=always): msgs_per_s=$(field "$drain_line" msgs_per_s) peak_rss_mib=$drained_hwm disk_mib_at_end=$drained_disk disk_mib_after_30s_idle=$idle_disk"
  } >"$OUT/fill.txt"
fi

# --- the table ---------------------------------------------------------------
{
  echo
  echo "Throughput ($THREADS client threads, 1 KiB bodies, loopback TCP; median of $REPEAT run(s)):"
  echo
  echo "| case | fsync | threads | batch | messages | msgs/s (median) | all runs | target | verdict | broker CPU % | client CPU % | peak RSS MiB | disk MiB |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  # Columns of results.tsv: 1 case, 2 fsync, 3 threads, 4 batch, 5 messages,
  # 6 seconds, 7 msgs/s, 8 target, 9 broker CPU %, 10 client CPU %,
  # 11 peak RSS MiB, 12 disk MiB.
  awk -F'\t' '
    !($1 in n) { order[++cases] = $1 }
    { k = $1; i = ++n[k]; rate[k, i] = $7; cpu[k, i] = $9; ccpu[k, i] = $10
      row[k] = $2 " | " $3 " | " $4 " | " $5; target[k] = $8
      if ($11 > rss[k]) rss[k] = $11; disk[k] = $12 }
    function median(k, a,   m, i, j, t, v) {
      m = n[k]; for (i = 1; i <= m; i++) v[i] = a[k, i] + 0
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
    END {
      for (c = 1; c <= cases; c++) {
        k = order[c]; all = ""
        for (i = 1; i <= n[k]; i++) all = all (i > 1 ? ", " : "") rate[k, i]
        med = median(k, rate)
        verdict = target[k] == "-" ? "-" : (med >= target[k] ? "met" : "missed")
        printf "| %s | %s | %.0f | %s | %s | %s | %.0f | %.0f | %s | %s |\n", k, row[k], med, all,
          target[k], verdict, median(k, cpu), median(k, ccpu), rss[k], disk[k]
      }
    }' "$RESULTS"
  echo
  echo "Disk (synced 4 KiB writes/s):"
  sed 's/^/  /' "$OUT/disk.txt"
  if [[ -f "$OUT/fill.txt" ]]; then
    echo
    echo "$FILL_MESSAGES queued messages (targets for 1,000,000: RSS <= 1126 MiB, recovery <= 4 s):"
    sed 's/^/  /' "$OUT/fill.txt"
  fi
  echo
  echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "raw results and broker logs: $OUT"
} | tee "$OUT/summary.md"
