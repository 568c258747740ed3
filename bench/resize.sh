#!/usr/bin/env bash
# bench/resize.sh: the resize benchmark of issue #5, reproducible.
#
# Makes both default outputs (fit within 1000x1000 and 200x200, JPEG quality
# 85, metadata stripped) from each test image, with one thread, three ways in
# the same run:
#   sluice   - the worker's resizer (sluice-resize-bench), in process
#   vips     - two vipsthumbnail runs (libvips), VIPS_CONCURRENCY=1
#   convert  - two runs of ImageMagick's convert -resize, MAGICK_THREAD_LIMIT=1
# Each figure is the median of RUNS runs, in milliseconds per image (both
# outputs), then images per second per core for each. Then the peak memory one
# image in flight takes in sluice's resizer, in a fresh process per image.
#
# Test images: the sample photos in examples/pending/, and two 12-megapixel
# photos upscaled from bridge.jpg (the sample photos are smaller): "12mp-q97"
# as the photos' source notes recommend (4620x2600, quality 97, 2.2 MB) and
# "12mp-q100-444" at quality 100 without chroma subsampling (4.4 MB, the size
# of a phone's 12 MP photo; more to entropy-decode).
#
# Usage: bench/resize.sh      Knobs: RUNS (default 7), BENCH_DIR (.run/bench)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-bench"
RUNS="${RUNS:-7}"
OUT="${BENCH_DIR:-$ROOT/.run/bench}/resize-$(date -u +%Y%m%dT%H%M%SZ)"
CONVERT=/usr/bin/convert  # ImageMagick itself, not a wrapper earlier in PATH
mkdir -p "$OUT"

"$ROOT/scripts/install-deps.sh"
if ! command -v vipsthumbnail >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -q --no-install-recommends libvips-tools >/dev/null
fi
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" sluice-resize-bench >/dev/null
BENCH="$BUILD/bench/sluice-resize-bench"

"$CONVERT" "$ROOT/examples/pending/bridge.jpg" -resize 4620x2600 -quality 97 "$OUT/12mp-q97.jpg"
"$CONVERT" "$ROOT/examples/pending/bridge.jpg" -resize 4620x2600 -quality 100 \
  -sampling-factor 1x1 "$OUT/12mp-q100-444.jpg"
IMAGES=("$OUT/12mp-q97.jpg" "$OUT/12mp-q100-444.jpg" "$ROOT"/examples/pending/*.jpg)

now_ns() { date +%s%N; }
# median_ms CMD...: runs CMD once to warm up, then RUNS times; the median ms.
median_ms() {
  "$@" >/dev/null 2>&1
  local times=()
  for _ in $(seq "$RUNS"); do
    local start end
    start=$(now_ns)
    "$@" >/dev/null 2>&1
    end=$(now_ns)
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}
vips_both() {
  VIPS_CONCURRENCY=1 vipsthumbnail "$1" -s 1000 -o "$OUT/vips-1000.jpg[Q=85,strip]"
  VIPS_CONCURRENCY=1 vipsthumbnail "$1" -s 200 -o "$OUT/vips-200.jpg[Q=85,strip]"
}
convert_both() {
  MAGICK_THREAD_LIMIT=1 "$CONVERT" "$1" -auto-orient -resize '1000x1000>' -strip -quality 85 \
    "$OUT/convert-1000.jpg"
  MAGICK_THREAD_LIMIT=1 "$CONVERT" "$1" -auto-orient -resize '200x200>' -strip -quality 85 \
    "$OUT/convert-200.jpg"
}

{
  echo "# resize benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  echo "# ImageMagick $("$CONVERT" -version | head -1 | cut -d' ' -f3), $(vips --version)"
  printf '%-22s %10s %10s %10s %10s %10s %10s %9s\n' image sluice_ms vips_ms convert_ms \
    sluice/s vips/s convert/s vs_vips
  for image in "${IMAGES[@]}"; do
    ours=$("$BENCH" --runs "$RUNS" "$image" | awk 'NR==2 {print $4}')
    vips=$(median_ms vips_both "$image")
    conv=$(median_ms convert_both "$image")
    awk -v n="$(basename "$image")" -v s="$ours" -v v="$vips" -v c="$conv" 'BEGIN {
      printf "%-22s %10.1f %10.1f %10.1f %10.2f %10.2f %10.2f %8.2fx\n",
        n, s, v, c, 1000/s, 1000/v, 1000/c, v/s }'
  done
  echo
  echo "# peak memory of one image in flight (growth of the process's VmHWM)"
  for image in "${IMAGES[@]}"; do "$BENCH" --memory "$image"; done
} | tee "$OUT/results.txt"
echo "results: $OUT/results.txt"
