#!/usr/bin/env bash
# tests/check-layering.sh must fail on each kind of broken rule, not only pass on a clean tree:
# a copy of the tree gets one planted violation at a time, and the check must name it.
set -euo pipefail
src="${GM_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gm-layering.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

fresh() {  # a clean copy of what the check reads
    rm -rf "$tmp/tree"
    mkdir -p "$tmp/tree"
    cp -r "$src/lib" "$src/git-model" "$src/git-model-env" "$src/git-model-bench" "$src/ARCHITECTURE.md" "$tmp/tree/"
}
expect_caught() {  # WHAT PATTERN: the check exits 1 and prints PATTERN
    local out rc=0
    out=$(GM_SOURCE_DIR="$tmp/tree" bash "$src/tests/check-layering.sh" 2>&1) || rc=$?
    [ "$rc" -eq 1 ] || fail "$1: the check exited $rc, not 1: $out"
    grep -qF -- "$2" <<<"$out" || fail "$1: the check did not say '$2': $out"
    echo "ok: $1 is caught"
}

fresh
GM_SOURCE_DIR="$tmp/tree" bash "$src/tests/check-layering.sh" >/dev/null || fail "the clean copy does not pass"

fresh
echo '#include "gitmodel/git/config.hpp"' >>"$tmp/tree/lib/gitmodel/naming/glob.cpp"
expect_caught "naming including git (naming stays pure)" "naming includes git"

fresh
echo '#include "gitmodel/sweep/plan.hpp"' >>"$tmp/tree/lib/gitmodel/env/lease.cpp"
expect_caught "env including sweep" "env includes sweep"

fresh
echo '#include "gitmodel/sweep/store.hpp"' >>"$tmp/tree/lib/gitmodel/snapshots/snapshot.cpp"
expect_caught "snapshots including sweep" "snapshots includes sweep"

fresh
echo '#include "gitmodel/env/lease.hpp"' >>"$tmp/tree/lib/gitmodel/model/list.cpp"
expect_caught "model reaching up to env" "model includes env"

fresh
mkdir -p "$tmp/tree/lib/gitmodel/newlayer" && echo '// x' >"$tmp/tree/lib/gitmodel/newlayer/x.hpp"
expect_caught "a layer missing from the table" "lib/gitmodel/newlayer/ is not a layer"

fresh
echo '#include "../../git-model-env/command_table.hpp"' >>"$tmp/tree/git-model/commands/list.cpp"
expect_caught "one executable including another's code" "outside git-model/ and the library"

fresh
echo '#include <git2.h>' >>"$tmp/tree/lib/gitmodel/model/list.cpp"
expect_caught "libgit2 outside git/" "libgit2 (<git2.h>) outside lib/gitmodel/git/"

fresh
sed -i '/<!-- layers: begin/,/<!-- layers: end/d' "$tmp/tree/ARCHITECTURE.md"
expect_caught "a missing layer table" "ARCHITECTURE.md has no layer table"
