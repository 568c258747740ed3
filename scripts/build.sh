#!/usr/bin/env bash
# Configures and builds Sluice into build/ (incremental on later runs), with
# warnings as errors: the project's own builds stay warning-free.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_WERROR=ON >/dev/null
ninja -C build
