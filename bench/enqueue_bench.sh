#!/usr/bin/env bash
# bench/enqueue_bench.sh: the enqueue and end-to-end benchmarks of issue #6,
# reproducible. Builds Release into build-bench/, then:
#
# (a) Enqueue rate: FILES small files (1 KiB, across FOLDERS folders) in a
#     bucket's pending/, enqueued by one `sluice-producer enqueue` against a
#     fresh broker with its default durability (--fsync always) whose data
#     directory is on the disk (the script refuses tmpfs). Files per second
#     from the producer's start to its exit (claim, send, confirm of every
#     file), RUNS runs, the median reported, with the producer's and the
#     broker's CPU. The files are made once and moved back to pending/
#     between runs; each run starts a fresh broker.
#
# (b) End to end: COPIES copies of each sample photo (examples/pending/*.jpg)
#     go through producer + broker + two workers (--concurrency 1 each,
#     pinned to one core each with taskset, so ImageMagick uses one thread as
#     in the baseline), timed from the producer's start to the last output
#     written (the newest mtime under resized/). Baseline: the same images
#     split in two halves, resized at once by two sluice-resize-bench
#     processes pinned the same way (one thread each, the worker's Resize()
#     in process, no queue, no files written); its time is the larger of the
#     two processes' sums of per-image times. Both are run RUNS times after
#     one warm-up round; medians reported, and the queue's overhead in %.
#
# Usage: bench/enqueue_bench.sh
# Knobs: RUNS (3), FILES (100000), FOLDERS (100), COPIES (16), BENCH_DIR
# (.run/bench), PORT (7640), METRICS_PORT (7641).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-bench"
RUNS="${RUNS:-3}"
FILES="${FILES:-100000}"
FOLDERS="${FOLDERS:-100}"
COPIES="${COPIES:-16}"
BENCH_DIR="${BENCH_DIR:-$ROOT/.run/bench}"
PORT="${PORT:-7640}"
METRICS_PORT="${METRICS_PORT:-7641}"
ENDPOINT="tcp://127.0.0.1:$PORT"

BROKER="$BUILD/broker/sluice-broker"
PRODUCER="$BUILD/producer/sluice-producer"
WORKER="$BUILD/worker/sluice-worker"
RESIZE_BENCH="$BUILD/bench/sluice-resize-bench"

log() { echo "[enqueue_bench $(date -u +%H:%M:%S)] $*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now_ns() { date +%s%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# --- build -------------------------------------------------------------------
log "building Release into $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" sluice-broker sluice-producer sluice-worker sluice-resize-bench >/dev/null

OUT="$BENCH_DIR/enqueue-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
if [[ "$(df --output=fstype "$OUT" | tail -1)" == tmpfs ]]; then
  die "$OUT is on tmpfs; set BENCH_DIR to a directory on the disk"
fi
for p in "$PORT" "$METRICS_PORT"; do
  if ss -ltnH "sport = :$p" | grep -q .; then die "port $p is in use; set PORT/METRICS_PORT"; fi
done
(($(nproc) >= 2)) || die "the end-to-end case pins its two processes to cores 0 and 1"

# --- processes ---------------------------------------------------------------
BROKER_PID=""
WORKER_PIDS=()
start_broker() {  # DATA_DIR
  "$BROKER" --listen "$ENDPOINT" --metrics-listen "127.0.0.1:$METRICS_PORT" --http-listen 127.0.0.1:0 --data-dir "$1" \
    2>>"$OUT/broker.log" &
  BROKER_PID=$!
  local deadline=$((SECONDS + 60))
  until "$PRODUCER" --broker "$ENDPOINT" --timeout-ms 200 list-queues >/dev/null 2>&1; do
    kill -0 "$BROKER_PID" 2>/dev/null || die "broker exited at start; see $OUT/broker.log"
    ((SECONDS < deadline)) || die "broker did not answer within 60 s"
    sleep 0.05
  done
}
stop_pid() {  # PID: SIGTERM, then SIGKILL after 30 s
  local pid="$1" deadline=$((SECONDS + 30))
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
stop_all() {
  for pid in "${WORKER_PIDS[@]}"; do stop_pid "$pid"; done
  WORKER_PIDS=()
  [[ -z "$BROKER_PID" ]] || stop_pid "$BROKER_PID"
  BROKER_PID=""
}
trap stop_all EXIT
producer() { "$PRODUCER" --broker "$ENDPOINT" "$@"; }
json_field() { grep -o "\"$2\": *[0-9]*" <<<"$1" | grep -o '[0-9]*$'; }

{
  echo "date: $(date -u)"
  echo "git: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- producer broker worker common client 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "disk: $(df -h --output=source,fstype,size "$OUT" | tail -1 | tr -s ' ')"
  echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt" >&2

# --- (a) enqueue rate ----------------------------------------------------------
# make_files BUCKET_DIR: FILES files of 1 KiB in FOLDERS folders of pending/.
make_files() {
  local per=$((FILES / FOLDERS))
  head -c $((per * 1024)) /dev/urandom >"$OUT/blob"
  for ((d = 0; d < FOLDERS; d++)); do
    local dir
    dir="$(printf '%s/pending/u%03d' "$1" "$d")"
    mkdir -p "$dir"
    (cd "$dir" && split -b 1024 -a 5 -d --additional-suffix=.jpg "$OUT/blob" img)
  done
  rm -f "$OUT/blob"
}

# The files are made once; after each run, queued/ (where the run left them)
# becomes pending/ again, without the run's sent journal. Each run has a fresh broker (so no deduplication id
# is known to it) on a fresh data directory.
BUCKETS="$OUT/enqueue/buckets"
mkdir -p "$BUCKETS/b"
make_files "$BUCKETS/b"
want=$(find "$BUCKETS/b/pending" -type f | wc -l)
((want == FILES)) || die "made $want files, not $FILES"
rates=()
cpu=()
for run in $(seq "$RUNS"); do
  sync
  start_broker "$OUT/enqueue/data-$run"
  producer create-queue --queue-name q >/dev/null
  broker_ticks=$(awk '{print $14 + $15}' "/proc/$BROKER_PID/stat")
  start=$(now_ns)
  result="$(/usr/bin/time -f '%U %S' -o "$OUT/producer-cpu-$run" "$PRODUCER" --broker "$ENDPOINT" \
    enqueue --queue-name q --bucket-root "$BUCKETS" --bucket b 2>>"$OUT/producer.log")"
  end=$(now_ns)
  broker_ticks=$(($(awk '{print $14 + $15}' "/proc/$BROKER_PID/stat") - broker_ticks))
  enqueued="$(json_field "$result" Enqueued)"
  [[ "$enqueued" == "$want" ]] || die "run $run enqueued $enqueued of $want: $result"
  queued="$(producer get-queue-attributes --queue-name q --attribute-names ApproximateNumberOfMessages |
    grep -o '"ApproximateNumberOfMessages": *"[0-9]*"' | grep -o '[0-9]*"$' | tr -d '"')"
  [[ "$queued" == "$want" ]] || die "run $run: the queue holds $queued, not $want"
  seconds=$(awk -v ns=$((end - start)) 'BEGIN {printf "%.2f", ns / 1e9}')
  rate=$(awk -v n="$want" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')
  # CPU of each process over the run, in % of one core.
  usage=$(awk -v s="$seconds" -v b="$broker_ticks" -v hz="$(getconf CLK_TCK)" '
    {printf "producer_cpu=%.0f%% broker_cpu=%.0f%%", ($1 + $2) / s * 100, b / hz / s * 100}' \
    "$OUT/producer-cpu-$run")
  log "enqueue run $run: $want files in $seconds s = $rate files/s ($usage)"
  rates+=("$rate")
  cpu+=("$usage")
  stop_all
  # The run's sent journal goes: the next run's broker knows none of these.
  rm -rf "$OUT/enqueue/data-$run" "$BUCKETS/b/pending" "$BUCKETS/b/queued/.sluice-sent"
  mv "$BUCKETS/b/queued" "$BUCKETS/b/pending"
done
rm -rf "$OUT/enqueue"
ENQUEUE_MEDIAN=$(printf '%s\n' "${rates[@]}" | median)

# --- (b) end to end vs the resize loop ---------------------------------------------
PHOTOS=("$ROOT"/examples/pending/*.jpg)
IMAGES=$((COPIES * ${#PHOTOS[@]}))
E2E="$OUT/e2e"
mkdir -p "$E2E/buckets/photos" "$E2E/half0" "$E2E/half1"
# The same images for the baseline: copy c of each photo goes to half c%2.
for ((c = 0; c < COPIES; c++)); do
  for photo in "${PHOTOS[@]}"; do
    cp "$photo" "$E2E/half$((c % 2))/$c-$(basename "$photo")"
  done
done

start_broker "$E2E/data"
producer create-queue --queue-name photos >/dev/null
for core in 0 1; do
  taskset -c "$core" "$WORKER" --broker "$ENDPOINT" --queue-name photos \
    --bucket-root "$E2E/buckets" --concurrency 1 --metrics-listen "127.0.0.1:$((METRICS_PORT + 1 + core))" \
    --log-level warn 2>>"$OUT/worker$core.log" &
  WORKER_PIDS+=($!)
done
deadline=$((SECONDS + 60))
until curl -sf "127.0.0.1:$((METRICS_PORT + 1))/metrics" >/dev/null &&
  curl -sf "127.0.0.1:$((METRICS_PORT + 2))/metrics" >/dev/null; do
  ((SECONDS < deadline)) || die "the workers did not start; see $OUT/worker*.log"
  sleep 0.1
done

# e2e_round N: N images through the pipeline; prints seconds to the last output.
e2e_round() {
  local n="$1" bucket="$E2E/buckets/photos"
  rm -rf "${bucket:?}"/*
  mkdir -p "$bucket/pending"
  local i=0
  while ((i < n)); do
    for photo in "${PHOTOS[@]}"; do
      ((i < n)) || break
      mkdir -p "$bucket/pending/c$((i / ${#PHOTOS[@]}))"
      cp "$photo" "$bucket/pending/c$((i / ${#PHOTOS[@]}))/$(basename "$photo")"
      i=$((i + 1))
    done
  done
  sync
  local start
  start=$(now_ns)
  producer enqueue --queue-name photos --bucket-root "$E2E/buckets" --bucket photos \
    >/dev/null 2>>"$OUT/producer.log"
  local deadline=$((SECONDS + 300))
  until [[ "$(find "$bucket/originals" -type f 2>/dev/null | wc -l)" == "$n" ]]; do
    ((SECONDS < deadline)) || die "the workers did not finish $n jobs in 300 s"
    sleep 0.2
  done
  [[ "$(find "$bucket/resized" -type f | wc -l)" == $((2 * n)) ]] || die "missing outputs"
  local last
  last=$(find "$bucket/resized" -type f -printf '%T@\n' | sort -g | tail -1)
  awk -v s="$start" -v l="$last" 'BEGIN {printf "%.3f", l - s / 1e9}'
}

# baseline_round: both halves at once; prints the slower process's seconds.
baseline_round() {
  local pids=()
  for core in 0 1; do
    taskset -c "$core" "$RESIZE_BENCH" --runs 1 "$E2E/half$core"/*.jpg >"$E2E/base$core.txt" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || return 1; done
  for core in 0 1; do awk 'NR > 1 {s += $4} END {print s / 1000}' "$E2E/base$core.txt"; done |
    sort -g | tail -1
}

log "end to end: warm-up round"
e2e_round "${#PHOTOS[@]}" >/dev/null
e2e_times=()
base_times=()
for run in $(seq "$RUNS"); do
  # (die in a command substitution ends only the subshell)
  t=$(e2e_round "$IMAGES") || exit 1
  e2e_times+=("$t")
  t=$(baseline_round) || die "sluice-resize-bench failed"
  base_times+=("$t")
  log "end to end run $run: $IMAGES images: pipeline ${e2e_times[-1]} s, resize loop ${base_times[-1]} s"
done
[[ "$(producer get-queue-attributes --queue-name photos --attribute-names All |
  grep -o '"ApproximateNumberOfMessages[A-Za-z]*": *"[0-9]*"' | grep -c '"0"')" -ge 2 ]] ||
  die "the queue is not empty at the end"
stop_all
E2E_MEDIAN=$(printf '%s\n' "${e2e_times[@]}" | median)
BASE_MEDIAN=$(printf '%s\n' "${base_times[@]}" | median)

{
  echo "# enqueue benchmark, $(date -u +%Y-%m-%dT%H:%MZ), load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "enqueue_files=$FILES folders=$FOLDERS runs_files_per_s=${rates[*]} median_files_per_s=$ENQUEUE_MEDIAN"
  printf 'enqueue run %s\n' "${cpu[@]}"
  echo "e2e_images=$IMAGES pipeline_s=${e2e_times[*]} resize_loop_s=${base_times[*]}"
  awk -v e="$E2E_MEDIAN" -v b="$BASE_MEDIAN" -v n="$IMAGES" 'BEGIN {
    printf "median pipeline_s=%.3f (%.2f images/s) resize_loop_s=%.3f (%.2f images/s) overhead=%.1f%%\n",
      e, n / e, b, n / b, (e - b) / b * 100 }'
} | tee "$OUT/results.txt"
rm -rf "$E2E/buckets" "$E2E/half0" "$E2E/half1"
echo "results: $OUT/results.txt"
