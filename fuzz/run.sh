#!/usr/bin/env bash
# Builds the .modelenv.yaml fuzzer if needed and runs it for a bounded time.
# Usage: fuzz/run.sh [seconds]   (default 60)
# Exits non-zero when the fuzzer finds a crash, a leak, a timeout or an out-of-memory input;
# the input that did it is kept under $GM_FUZZ_BUILD_DIR/fuzz-artifacts/.
set -euo pipefail

seconds=${1:-60}
case $seconds in
  '' | *[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GM_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${GM_FUZZ_JOBS:-2}

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGM_BUILD_FUZZERS=ON -DGM_SANITIZE=ON \
    -DGM_BUILD_TESTS=OFF -DGM_WITH_CUDA=OFF -DCMAKE_UNITY_BUILD=ON
fi
cmake --build "$build" --target modelenv_fuzzer -j "$jobs"

# The first folder is the working corpus, which the fuzzer grows; the others are read-only seeds.
corpus=$build/fuzz-corpus/modelenv
artifacts=$build/fuzz-artifacts
mkdir -p "$corpus" "$artifacts"

status=0
"$build/fuzz/modelenv_fuzzer" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=5 -max_len=8192 \
  -dict="$root/fuzz/modelenv.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
  "$corpus" "$root/tests/data/modelenv/good" "$root/tests/data/modelenv/bad" \
  "$root/tests/data/yaml-test-suite" || status=$?

if [ "$status" -ne 0 ]; then
  echo "fuzz/run.sh: the fuzzer failed (exit $status); reproducer(s) in $artifacts:" >&2
  ls -l "$artifacts" >&2 || true
  exit 1
fi
echo "fuzz/run.sh: no crash in ${seconds}s"
