#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds, then
# runs the pipeline on this machine: a local broker with its durable data
# directory, two workers, and the producer over the sample photos of
# examples/pending/, copied in as the uploads of bucket "photos". The producer
# enqueues one job per photo; the workers write resized/<name>-1000.jpg and
# -200.jpg and move the original to originals/.
# Prints the outputs, the throughput and where the metrics are, then stops
# everything (the workers drain on SIGTERM). Safe to run again: each run
# starts from fresh uploads.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null

BROKER=build/broker/sluice-broker
CLI=build/producer/sluice-producer
WORKER=build/worker/sluice-worker
RUN_DIR=.run/demo
BUCKET_ROOT=$RUN_DIR/buckets
BUCKET=$BUCKET_ROOT/photos
LISTEN=tcp://127.0.0.1:7400
METRICS=127.0.0.1:9400
HTTP=127.0.0.1:9324
WORKER_METRICS=(127.0.0.1:9401 127.0.0.1:9403)  # 9402 is the producer's in deploy/
QUEUE=photos
export SLUICE_BROKER=$LISTEN
mkdir -p "$RUN_DIR"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# Each run starts from nothing, its queues as well as its bucket (below): a
# demo's queue holds only the jobs of its own photos.
rm -rf "$RUN_DIR/data"
"$BROKER" --listen "$LISTEN" --http-listen "$HTTP" --metrics-listen "$METRICS" \
  --data-dir "$RUN_DIR/data" 2>"$RUN_DIR/broker.log" &
BROKER_PID=$!
for _ in $(seq 100); do
  "$CLI" list-queues --timeout-ms 200 >/dev/null 2>&1 && break
  if ! kill -0 $BROKER_PID 2>/dev/null; then
    echo "the broker did not start:" >&2
    cat "$RUN_DIR/broker.log" >&2
    exit 1
  fi
done

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; "$@"; }

# Fresh uploads: the sample photos in the bucket's pending/ prefix.
rm -rf "$BUCKET"
mkdir -p "$BUCKET/pending/samples"
cp examples/pending/*.jpg "$BUCKET/pending/samples/"
PHOTOS=("$BUCKET"/pending/samples/*.jpg)

step "$CLI" create-queue --queue-name "$QUEUE-dlq" >/dev/null
DLQ_ARN=$("$CLI" get-queue-attributes --queue-name "$QUEUE-dlq" --attribute-names QueueArn |
  jq -r .Attributes.QueueArn)
step "$CLI" create-queue --queue-name "$QUEUE" --attributes \
  "{\"VisibilityTimeout\":\"60\",\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"$DLQ_ARN\\\",\\\"maxReceiveCount\\\":\\\"5\\\"}\"}"
"$CLI" purge-queue --queue-name "$QUEUE" >/dev/null  # jobs a stopped run left behind

for i in 0 1; do
  "$WORKER" --queue-name "$QUEUE" --bucket-root "$BUCKET_ROOT" --concurrency 1 \
    --metrics-listen "${WORKER_METRICS[$i]}" 2>"$RUN_DIR/worker-$i.log" &
  PIDS+=($!)
done
PIDS+=($BROKER_PID)

START_NS=$(date +%s%N)
step "$CLI" enqueue --queue-name "$QUEUE" --bucket-root "$BUCKET_ROOT" --bucket photos

expected=$(( ${#PHOTOS[@]} * 2 ))
printf '\nWaiting for %d outputs from 2 workers...\n' "$expected"
for _ in $(seq 1200); do
  done_count=$( (find "$BUCKET/resized" -name '*.jpg' 2>/dev/null || true) | wc -l)
  [ "$done_count" -ge "$expected" ] &&
    [ "$( (find "$BUCKET/pending" "$BUCKET/claimed" "$BUCKET/queued" -type f -not -path "*/.*" 2>/dev/null || true) | wc -l)" -eq 0 ] &&
    break
  sleep 0.1
done
END_NS=$(date +%s%N)
if [ "$done_count" -lt "$expected" ]; then
  echo "only $done_count of $expected outputs appeared; see $RUN_DIR/worker-*.log" >&2
  exit 1
fi

printf '\n\033[1mOutputs in %s/resized:\033[0m\n' "$BUCKET"
/usr/bin/identify -format '  %f %wx%h %b\n' "$BUCKET"/resized/samples/*.jpg
awk -v n="${#PHOTOS[@]}" -v ns=$((END_NS - START_NS)) \
  'BEGIN { printf "\n%d photos in %.2f s: %.1f images/s\n", n, ns / 1e9, n / (ns / 1e9) }'

scrape() {
  exec 3<>"/dev/tcp/${1%:*}/${1#*:}"
  printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
  grep -E "$2" <&3 || true
  exec 3<&-
}
printf '\n\033[1mWorker metrics (http://%s/metrics, http://%s/metrics), excerpt:\033[0m\n' \
  "${WORKER_METRICS[@]}"
for m in "${WORKER_METRICS[@]}"; do
  scrape "$m" '^sluice_worker_(jobs_total\{result="ok"\}|images_written_total|resize_duration_seconds_(sum|count))'
done
sleep 1.2  # the broker refreshes per-queue metrics once a second
printf '\n\033[1mBroker metrics (http://%s/metrics), excerpt:\033[0m\n' "$METRICS"
scrape "$METRICS" "^sluice_queue_(messages|messages_sent_total|messages_deleted_total)\\{queue=\"$QUEUE\""

printf '\nThe broker also speaks SQS over HTTP: aws --endpoint-url http://%s sqs ...\n' "$HTTP"
printf '\nLogs: %s/broker.log, %s/worker-0.log, %s/worker-1.log; broker data: %s/data\n' \
  "$RUN_DIR" "$RUN_DIR" "$RUN_DIR" "$RUN_DIR"
