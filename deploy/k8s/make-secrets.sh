#!/usr/bin/env bash
# The Secrets that the manifests in deploy/k8s read their keys from: a CURVE
# key pair per process, the broker's principals file, and SigV4 access keys
# for the SQS HTTP API. docs/kubernetes-auth.md explains each and when to run
# which command.
#
#   make-secrets.sh [create] [--namespace NS] [--queue NAME] [--dead-letter-queue NAME] [--force]
#   make-secrets.sh rotate ROLE [--namespace NS]   # ROLE: producer, worker, admin, scaler, broker
#   make-secrets.sh retire ROLE [--namespace NS]
#
# create: new keys for every role, applied with `kubectl apply` (it refuses to
#   replace Secrets that exist, unless --force). rotate: a second key for the
#   role's principal beside the first, which stays valid until `retire` drops
#   it; the broker reloads its principals file after each (SIGHUP). rotate
#   broker: a new broker key pair (the broker and every client restart).
#
# --out DIR: work on DIR, one directory per Secret and one file per key (as a
#   pod mounts them), instead of on the cluster. --print: print the Secrets
#   as YAML instead of applying them (for a GitOps repository's sealed or
#   encrypted secrets).
#
# Key pairs come from `sluice-broker keygen`: $SLUICE_BIN/sluice-broker if
# SLUICE_BIN is set, else sluice-broker on PATH, else the image, with
# `docker run --rm ${SLUICE_IMAGE:-sluice:latest} sluice-broker keygen`.
# Needs bash, coreutils and kubectl; rotate and retire need python3 too.
set -euo pipefail

usage() { sed -n 's/^#   \(make-secrets.sh\)/\1/p' "$0" >&2; exit 2; }
die() { echo "make-secrets.sh: $*" >&2; exit 1; }

# The client roles, their Secrets (sluice-ROLE-key) and principals: what each
# may do is in principals_json.
CURVE_ROLES=(producer worker admin)  # speak ZeroMQ: a CURVE key pair each
HTTP_ROLES=(admin scaler)            # speak SQS HTTP (SigV4): an access key each
# Where the broker's pod mounts the principals file (base/broker.yaml), to see
# when the kubelet has written a new one.
PRINCIPALS_PATH=/etc/sluice/principals/principals.json

command=create
case "${1:-}" in
  create|rotate|retire) command=$1; shift ;;
esac
role=
if [[ $command != create ]]; then
  [[ $# -gt 0 && $1 != -* ]] || usage
  role=$1; shift
  case "$role" in
    producer|worker|admin|scaler|broker) ;;
    *) die "no role $role (producer, worker, admin, scaler or broker)" ;;
  esac
  [[ $command == retire && $role == broker ]] && die "the broker has one key: rotate broker replaces it"
fi
namespace= out= print=0 force=0 queue=photos dead_letter_queue= broker_pod=sluice-broker-0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n|--namespace) namespace=$2; shift 2 ;;
    --namespace=*) namespace=${1#*=}; shift ;;
    --out) out=$2; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    --print) print=1; shift ;;
    --force) force=1; shift ;;
    --queue) queue=$2; shift 2 ;;
    --queue=*) queue=${1#*=}; shift ;;
    --dead-letter-queue) dead_letter_queue=$2; shift 2 ;;
    --dead-letter-queue=*) dead_letter_queue=${1#*=}; shift ;;
    --broker-pod) broker_pod=$2; shift 2 ;;
    --broker-pod=*) broker_pod=${1#*=}; shift ;;
    *) usage ;;
  esac
done
dead_letter_queue=${dead_letter_queue:-$queue-dlq}
kubectl_ns=(kubectl ${namespace:+--namespace "$namespace"})

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dir=${out:-$work}

# --- keys

# Prints "PUBLIC SECRET": a new CURVE key pair, each 40 characters of Z85.
keygen() {
  local -a cmd
  if [[ -n ${SLUICE_BIN:-} ]]; then
    cmd=("$SLUICE_BIN/sluice-broker" keygen)
  elif command -v sluice-broker >/dev/null; then
    cmd=(sluice-broker keygen)
  else
    cmd=(docker run --rm "${SLUICE_IMAGE:-sluice:latest}" sluice-broker keygen)
  fi
  local json public secret
  json=$("${cmd[@]}" | tr -d '\n') || die "${cmd[*]} failed"
  # Z85 has no quote or backslash, so a key is everything between its quotes.
  public=$(sed -n 's/.*"PublicKey"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$json")
  secret=$(sed -n 's/.*"SecretKey"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$json")
  [[ ${#public} -eq 40 && ${#secret} -eq 40 ]] || die "${cmd[*]} printed no key pair: $json"
  echo "$public $secret"
}

random_chars() {  # $1 characters of the class $2, from the kernel's generator
  local s=
  while [[ ${#s} -lt $1 ]]; do
    s+=$(head -c 256 /dev/urandom | LC_ALL=C tr -dc "$2")
  done
  echo "${s:0:$1}"
}

# A SigV4 access key as AWS shapes them: a 20-character id, a 40-character secret.
new_access_key_id() { echo "AKSL$(random_chars 16 'A-Z2-7')"; }
new_secret_access_key() { random_chars 40 'A-Za-z0-9+/'; }

# A Secret's key, as a file without a trailing newline: a key that reaches a
# process through the environment (KEDA's AWS_*) is taken whole.
put() { mkdir -p "$dir/$1"; printf '%s' "$3" >"$dir/$1/$2"; }
get() { [[ -f $dir/$1/$2 ]] || die "Secret $1 has no key $2"; cat "$dir/$1/$2"; }

# --- the principals file

json_list() {  # "a" "b" -> ["a", "b"]
  local out= x
  for x in "$@"; do out+="${out:+, }\"$x\""; done
  echo "[$out]"
}

# What each role may do, on the queues of the manifests. The worker receives,
# extends and deletes jobs, reads the queue's RedrivePolicy to find its
# dead-letter queue, and moves a job it cannot process there itself
# (worker/dead_letter.cc). The producer reads the queue's attributes before it
# sends batches. KEDA's aws-sqs-queue scaler only asks for the queue's depth.
# The admin (the queue-setup Job, an operator) may do anything. Principal
# s3-events has no key: it is who pushes bucket notifications to
# POST /s3-events/<queue> with the broker's token (overlays/s3, docs/s3.md).
principals_json() {
  local producer_key=$1 worker_key=$2 admin_key=$3 admin_id=$4 admin_secret=$5
  local scaler_id=$6 scaler_secret=$7 q d
  q=$(json_list "$queue") d=$(json_list "$dead_letter_queue")
  cat <<EOF
{
  "roles": {
    "producer": [
      {"actions": ["SendMessage", "GetQueueAttributes"], "queues": $q}
    ],
    "worker": [
      {"actions": ["ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes"], "queues": $q},
      {"actions": ["SendMessage"], "queues": $d}
    ],
    "scaler": [
      {"actions": ["GetQueueAttributes"], "queues": $q}
    ],
    "admin": [
      {"actions": ["*"], "queues": ["*"]}
    ],
    "s3-events": [
      {"actions": ["SendMessage"], "queues": $q}
    ]
  },
  "principals": {
    "producer": {"curve_public_keys": ["$producer_key"], "roles": ["producer"]},
    "worker": {"curve_public_keys": ["$worker_key"], "roles": ["worker"]},
    "admin": {
      "curve_public_keys": ["$admin_key"],
      "access_keys": [{"access_key_id": "$admin_id", "secret_access_key": "$admin_secret"}],
      "roles": ["admin"]
    },
    "scaler": {
      "access_keys": [{"access_key_id": "$scaler_id", "secret_access_key": "$scaler_secret"}],
      "roles": ["scaler"]
    },
    "s3-events": {"roles": ["s3-events"]}
  }
}
EOF
}

# Edits the principals file: $1 add|keep, $2 the principal, $3 a CURVE public
# key or "", $4 an access key id or "", $5 its secret. add: appends the key
# beside those there; keep: drops every other key of that kind.
edit_principals() {
  python3 - "$dir/sluice-principals/principals.json" "$@" <<'EOF'
import json, sys
path, how, name, curve, key_id, secret = sys.argv[1:]
with open(path) as f:
    doc = json.load(f)
p = doc["principals"][name]
if curve:
    keys = p.setdefault("curve_public_keys", [])
    p["curve_public_keys"] = keys + [curve] if how == "add" else [curve]
if key_id:
    keys = p.setdefault("access_keys", [])
    entry = {"access_key_id": key_id, "secret_access_key": secret}
    p["access_keys"] = (keys + [entry] if how == "add"
                        else [k for k in keys if k["access_key_id"] == key_id])
with open(path, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
EOF
}

# --- the cluster

secret_names() {
  local r
  echo sluice-principals sluice-broker-key
  for r in producer worker admin scaler; do echo "sluice-$r-key"; done
}

# Copies Secret $1 from the cluster into $dir/$1.
fetch() {
  local key
  mkdir -p "$dir/$1"
  for key in $("${kubectl_ns[@]}" get secret "$1" \
                 -o go-template='{{range $k, $v := .data}}{{$k}}{{"\n"}}{{end}}'); do
    "${kubectl_ns[@]}" get secret "$1" \
      -o go-template="{{index .data \"$key\" | base64decode}}" >"$dir/$1/$key"
  done
}

# Applies (or prints) Secret $1 as $dir/$1 holds it, replacing its keys.
apply() {
  local yaml
  yaml=$("${kubectl_ns[@]}" create secret generic "$1" --from-file="$dir/$1/" \
           --dry-run=client -o yaml |
         kubectl label --local -f - app.kubernetes.io/part-of=sluice -o yaml)
  if [[ $print -eq 1 ]]; then
    printf -- '---\n%s\n' "$yaml"
  else
    kubectl apply -f - <<<"$yaml" >&2
  fi
}

# After a new principals file: wait until the kubelet has written it into the
# broker's pod (its sync period, a minute or so), then have the broker reload it.
reload_broker() {
  if [[ -n $out || $print -eq 1 ]]; then
    echo "then reload the broker: kubectl exec $broker_pod -c broker -- sh -c 'kill -HUP 1'" >&2
    return
  fi
  local tries=0
  echo "waiting for the new principals file in pod $broker_pod ..." >&2
  until "${kubectl_ns[@]}" exec "$broker_pod" -c broker -- cat "$PRINCIPALS_PATH" 2>/dev/null |
          cmp -s - "$dir/sluice-principals/principals.json"; do
    (( ++tries <= 90 )) || die "pod $broker_pod still has the old file after 3 minutes; reload it later with: kubectl exec $broker_pod -c broker -- sh -c 'kill -HUP 1'"
    sleep 2
  done
  "${kubectl_ns[@]}" exec "$broker_pod" -c broker -- sh -c 'kill -HUP 1'
  echo "the broker reloaded its principals (its log says so, or why not)" >&2
}

# --- the commands

create() {
  if [[ $force -eq 0 ]]; then
    if [[ -n $out ]]; then
      [[ ! -e $out/sluice-principals ]] || die "$out holds Secrets already (--force replaces them)"
    elif [[ $print -eq 0 ]] && "${kubectl_ns[@]}" get secret sluice-principals >/dev/null 2>&1; then
      die "Secret sluice-principals exists: to replace a key see rotate; --force replaces them all"
    fi
  fi
  local pair broker_public r public secret s
  pair=$(keygen)
  read -r broker_public secret <<<"$pair"
  put sluice-broker-key public-key "$broker_public"
  put sluice-broker-key secret-key "$secret"
  for r in "${CURVE_ROLES[@]}"; do
    pair=$(keygen)
    read -r public secret <<<"$pair"
    put "sluice-$r-key" public-key "$public"
    put "sluice-$r-key" secret-key "$secret"
    put "sluice-$r-key" broker-public-key "$broker_public"
  done
  for r in "${HTTP_ROLES[@]}"; do
    put "sluice-$r-key" AWS_ACCESS_KEY_ID "$(new_access_key_id)"
    put "sluice-$r-key" AWS_SECRET_ACCESS_KEY "$(new_secret_access_key)"
  done
  put sluice-principals principals.json "$(principals_json \
    "$(get sluice-producer-key public-key)" "$(get sluice-worker-key public-key)" \
    "$(get sluice-admin-key public-key)" "$(get sluice-admin-key AWS_ACCESS_KEY_ID)" \
    "$(get sluice-admin-key AWS_SECRET_ACCESS_KEY)" "$(get sluice-scaler-key AWS_ACCESS_KEY_ID)" \
    "$(get sluice-scaler-key AWS_SECRET_ACCESS_KEY)")"
  [[ -n $out ]] && return
  for s in $(secret_names); do apply "$s"; done
}

# A new key for the role beside its old one (rotate broker: the broker's only key).
rotate() {
  local pair public secret r
  if [[ -z $out ]]; then
    fetch sluice-principals
    fetch "sluice-$role-key"
  fi
  if [[ $role == broker ]]; then
    pair=$(keygen)
    read -r public secret <<<"$pair"
    put sluice-broker-key public-key "$public"
    put sluice-broker-key secret-key "$secret"
    for r in "${CURVE_ROLES[@]}"; do
      [[ -n $out ]] || fetch "sluice-$r-key"
      put "sluice-$r-key" broker-public-key "$public"
    done
    if [[ -z $out ]]; then
      for r in broker "${CURVE_ROLES[@]}"; do apply "sluice-$r-key"; done
    fi
    echo "restart the broker and its clients to use the new key:" >&2
    echo "  kubectl rollout restart statefulset/sluice-broker deployment/sluice-worker deployment/sluice-producer" >&2
    return
  fi
  # The new key goes into the principals file first and the broker reloads it,
  # so that a pod started with the new key is never refused.
  local key_id= secret_access_key=
  public=
  if [[ -f $dir/sluice-$role-key/secret-key ]]; then
    pair=$(keygen)
    read -r public secret <<<"$pair"
  fi
  if [[ -f $dir/sluice-$role-key/AWS_ACCESS_KEY_ID ]]; then
    key_id=$(new_access_key_id)
    secret_access_key=$(new_secret_access_key)
  fi
  edit_principals add "$role" "$public" "$key_id" "$secret_access_key"
  [[ -n $out ]] || apply sluice-principals
  reload_broker
  if [[ -n $public ]]; then
    put "sluice-$role-key" public-key "$public"
    put "sluice-$role-key" secret-key "$secret"
  fi
  if [[ -n $key_id ]]; then
    put "sluice-$role-key" AWS_ACCESS_KEY_ID "$key_id"
    put "sluice-$role-key" AWS_SECRET_ACCESS_KEY "$secret_access_key"
  fi
  [[ -n $out ]] || apply "sluice-$role-key"
  echo "principal $role has its old and its new key; restart what uses sluice-$role-key," \
       "then: make-secrets.sh retire $role" >&2
}

# Drops every key of the role's principal but the one its Secret holds.
retire() {
  if [[ -z $out ]]; then
    fetch sluice-principals
    fetch "sluice-$role-key"
  fi
  local public= key_id=
  [[ -f $dir/sluice-$role-key/public-key ]] && public=$(get "sluice-$role-key" public-key)
  [[ -f $dir/sluice-$role-key/AWS_ACCESS_KEY_ID ]] && key_id=$(get "sluice-$role-key" AWS_ACCESS_KEY_ID)
  edit_principals keep "$role" "$public" "$key_id" ""
  [[ -n $out ]] || apply sluice-principals
  reload_broker
}

"$command"
