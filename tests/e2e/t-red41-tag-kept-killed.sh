#!/usr/bin/env bash
# Red team s41b: `git model tag --no-push` made its tag and listed it as unpushed in one turn of
# the snapshots lock, and marked it "kept" in a second one. Killed in between (waiting for that
# lock while another tag of the clone held it), the mark was never written, and the next plain
# `git model tag` pushed the snapshot the user had kept. The mark is now written in the same turn,
# before the listing.
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || { echo "SKIP: no strace (scripts/install-deps installs it)"; exit 125; }

cd "$TEST_DIR"
make_remote_pair repo
remote="$TEST_DIR/repo.git"
git -C repo config model.installHooks never
run_expect 0 git -C repo model start net
wt="$TEST_DIR/worktrees/feature/model-net"
commit_at "$wt" "2026-01-01T00:00:00" "work"
run_expect 0 git -C "$wt" push -q -u origin feature/model-net
run_expect 0 git -C "$wt" model tag --metric acc=0.1
assert_contains "$(remote_refs "$remote")" "refs/tags/model/net/v1" "v1 pushed"

# kill -9 when it takes the snapshots lock a second time (strace's fault injection), as a kill
# while it waited for that lock did: now it takes it once, and ends with the snapshot kept.
lock="$TEST_DIR/repo/.git/git-model/locks/snapshots.lock"
[ -e "$lock" ] || fail "the snapshots lock file is where this test looks for it"
rc=0
# (LeakSanitizer cannot run under ptrace: a sanitizer build that ends normally under strace would abort.)
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -qq -f -o /dev/null -P "$lock" -e trace=flock \
    -e inject=flock:signal=KILL:when=2 git -C "$wt" model tag --no-push --metric acc=0.2 -m private >/dev/null 2>&1 || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 137 ] || fail "tag --no-push ended with $rc"
git -C repo rev-parse -q --verify refs/tags/model/net/v2 >/dev/null || fail "v2 was made"
run_expect 0 git -C "$wt" model tag --metric acc=0.3
assert_not_contains "$(remote_refs "$remote")" "refs/tags/model/net/v2" "the kept snapshot is not pushed by the next tag"
assert_contains "$(remote_refs "$remote")" "refs/tags/model/net/v3" "the next tag's own snapshot is"

# s41d: a kept snapshot whose number a teammate took on the remote is moved to the next number by
# the next plain tag, and was pushed there: the hold follows it, and it stays here.
run_expect 0 git -C "$wt" model tag --no-push --metric acc=0.4 -m "private experiment"   # v4, kept
git clone -q "$remote" mate
git -C mate config model.installHooks never
git -C mate checkout -q feature/model-net
run_expect 0 git -C mate model tag net --metric acc=0.9                                     # the remote's v4
run_expect 0 git -C "$wt" model tag --metric acc=0.6
assert_contains "$OUT$ERR" "model/net/v4 -> model/net/v5" "the kept snapshot moved past the teammate's"
assert_not_contains "$(remote_refs "$remote")" "refs/tags/model/net/v5 " "and was not pushed"
git -C repo cat-file -p refs/tags/model/net/v5 | grep -q "private experiment" || fail "v5 here is the kept snapshot"
assert_contains "$(remote_refs "$remote")" "refs/tags/model/net/v6" "the new tag's own snapshot went"
