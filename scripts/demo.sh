#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds, then
# starts a local broker and drives it through the sluice-producer CLI: create
# a queue with a dead-letter queue, send a batch, receive, delete, and show the
# queue's attributes and the broker's metrics. Stops the broker at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null

BROKER=build/broker/sluice-broker
CLI=build/producer/sluice-producer
RUN_DIR=.run/demo
LISTEN=tcp://127.0.0.1:7400
METRICS=127.0.0.1:9400
export SLUICE_BROKER=$LISTEN
mkdir -p "$RUN_DIR"

"$BROKER" --listen "$LISTEN" --metrics-listen "$METRICS" --data-dir "$RUN_DIR/data" \
  2>"$RUN_DIR/broker.log" &
BROKER_PID=$!
trap 'kill $BROKER_PID 2>/dev/null; wait $BROKER_PID 2>/dev/null || true' EXIT

for _ in $(seq 100); do
  "$CLI" list-queues --timeout-ms 200 >/dev/null 2>&1 && break
  if ! kill -0 $BROKER_PID 2>/dev/null; then
    echo "the broker did not start:" >&2
    cat "$RUN_DIR/broker.log" >&2
    exit 1
  fi
done

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; "$@"; }

step "$CLI" create-queue --queue-name demo-dlq
DLQ_ARN=$("$CLI" get-queue-attributes --queue-name demo-dlq --attribute-names QueueArn |
  jq -r .Attributes.QueueArn)
step "$CLI" create-queue --queue-name demo --attributes \
  "{\"VisibilityTimeout\":\"30\",\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"$DLQ_ARN\\\",\\\"maxReceiveCount\\\":\\\"3\\\"}\"}"
step "$CLI" send-message-batch --queue-name demo --entries \
  '[{"Id":"a","MessageBody":"resize photos/aitzgorri.jpg"},
    {"Id":"b","MessageBody":"resize photos/bridge.jpg"},
    {"Id":"c","MessageBody":"resize photos/friends.jpg","MessageAttributes":{"priority":{"DataType":"Number","StringValue":"1"}}}]'
RECEIVED=$(mktemp)
step "$CLI" receive-message --queue-name demo --max-number-of-messages 10 --wait-time-seconds 1 \
  --attribute-names All --message-attribute-names All | tee "$RECEIVED"
ENTRIES=$(jq -c '[.Messages | to_entries[] | {Id: ("m\(.key)"), ReceiptHandle: .value.ReceiptHandle}]' "$RECEIVED")
rm -f "$RECEIVED"
step "$CLI" delete-message-batch --queue-name demo --entries "$ENTRIES"
step "$CLI" get-queue-attributes --queue-name demo --attribute-names All
step "$CLI" list-queues

# Per-queue metrics are refreshed once a second.
sleep 1.2
printf '\n\033[1mBroker metrics at http://%s/metrics (excerpt):\033[0m\n' "$METRICS"
exec 3<>"/dev/tcp/${METRICS%:*}/${METRICS#*:}"
printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
grep -E '^sluice_queue_(messages|messages_sent_total|messages_deleted_total)\{queue="demo"' <&3 || true
exec 3<&-

printf '\nBroker log: %s/broker.log; data directory: %s/data\n' "$RUN_DIR" "$RUN_DIR"
printf 'Done: 3 messages sent, received and deleted through %s.\n' "$LISTEN"
