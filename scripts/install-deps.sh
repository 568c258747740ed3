#!/usr/bin/env bash
# Installs the Debian 12 packages Sluice builds and runs with, only those that
# are missing, so a second run does nothing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libzmq3-dev cppzmq-dev
  libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev libspdlog-dev libgtest-dev
  nlohmann-json3-dev libcli11-dev libssl-dev libjemalloc-dev libboost1.81-dev
  libsimdjson-dev
  libcurl4-openssl-dev libpugixml-dev
  libmagick++-dev imagemagick
  jq clang-format
  # The fuzzers (scripts/fuzz.sh): clang's libFuzzer and sanitizer runtimes.
  clang libclang-rt-14-dev ccache
  python3 python3-yaml prometheus
  python3-boto3 awscli wrk
  # The S3 tests' object store: Ceph's RGW on a monitor and a memstore OSD.
  radosgw ceph-mon ceph-osd
)
# kubectl renders the Kubernetes manifests in the deploy tests. Any kubectl
# will do; Debian's (kubernetes-client) only when none is installed, since
# other packagings of it own the same file.
if ! command -v kubectl >/dev/null; then PACKAGES+=(kubernetes-client); fi
# Node.js runs the AWS SDK for JavaScript in the HTTP tests; Debian's only
# when none is installed, for the same reason.
if ! command -v node >/dev/null; then PACKAGES+=(nodejs); fi
if ! command -v npm >/dev/null; then PACKAGES+=(npm); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
