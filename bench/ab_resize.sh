#!/usr/bin/env bash
# bench/ab_resize.sh: two sluice-resize-bench builds side by side on the
# sample photos, alternated in one run (A then B, then B then A) so that the
# machine's noise hits both alike.
#
# Usage: bench/ab_resize.sh BENCH_A BENCH_B [PAIRS]    Knob: RUNS (default 5)
# Prints, per pair, side and photo, the median ms to make both outputs of
# one photo on one thread (sluice-resize-bench's own median of RUNS runs).
# Build the older one from its commit as bench/ab_brokers.sh says, with the
# target sluice-resize-bench.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
A="$1" B="$2" PAIRS="${3:-2}"
RUNS="${RUNS:-5}"

run_side() {  # LABEL BENCH
  for image in "$ROOT"/examples/pending/*.jpg; do
    echo "$1 $(basename "$image") ms=$("$2" --runs "$RUNS" "$image" | awk 'NR==2 {print $4}')"
  done
}

for ((pair = 1; pair <= PAIRS; pair++)); do
  if ((pair % 2)); then run_side A "$A"; run_side B "$B"; else run_side B "$B"; run_side A "$A"; fi
done
