#!/usr/bin/env bash
# GM_STATIC_LINK was called GM_STATIC_LIBGIT2 (it also decides Boost, yaml-cpp and libstdc++). The old
# name must keep working for the 0.x releases, say that it is deprecated, and not pin the new one:
# a later -DGM_STATIC_LINK on the same build folder wins.
set -euo pipefail
src="${GM_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gm-cmake-alias.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
configure() { cmake -S "$src" -B "$tmp/build" -DGM_BUILD_TESTS=OFF -DGM_WITH_CUDA=OFF "$@" >"$tmp/out" 2>&1 ||
    { cat "$tmp/out" >&2; fail "cmake $* failed"; }; }
cached() { sed -n "s/^$1:[A-Z]*=//p" "$tmp/build/CMakeCache.txt"; }

configure -DGM_STATIC_LIBGIT2=OFF
[ "$(cached GM_STATIC_LINK)" = OFF ] || fail "-DGM_STATIC_LIBGIT2=OFF left GM_STATIC_LINK=$(cached GM_STATIC_LINK)"
grep -q "GM_STATIC_LIBGIT2 is deprecated; use GM_STATIC_LINK=OFF" "$tmp/out" || fail "no deprecation message: $(cat "$tmp/out")"
grep -q "linked OFF" "$tmp/out" || fail "libgit2 was not linked dynamically: $(grep libgit2 "$tmp/out")"
[ -z "$(cached GM_STATIC_LIBGIT2)" ] || fail "the old name stayed in the cache"
echo "ok: -DGM_STATIC_LIBGIT2=OFF works as -DGM_STATIC_LINK=OFF and says it is deprecated"

configure -DGM_STATIC_LINK=ON
[ "$(cached GM_STATIC_LINK)" = ON ] || fail "-DGM_STATIC_LINK=ON after the old name left $(cached GM_STATIC_LINK)"
! grep -q deprecated "$tmp/out" || fail "a deprecation message without the old name"
echo "ok: a later -DGM_STATIC_LINK=ON wins over the old name"
