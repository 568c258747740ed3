#!/usr/bin/env bash
# Fails, naming the files, when a C++ file differs from what clang-format
# (the repository's .clang-format) would make of it. Fix with:
#   clang-format -i $(git ls-files '*.cc' '*.h')
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
unformatted=()
while IFS= read -r f; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done < <(git ls-files '*.cc' '*.h')
if [ ${#unformatted[@]} -gt 0 ]; then
  echo "not clang-formatted: ${unformatted[*]}" >&2
  exit 1
fi
echo "clang-format: every C++ file is formatted"
