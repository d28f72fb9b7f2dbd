#!/usr/bin/env bash
# Red team s42b: bytes that are not UTF-8 (a Latin-1 shell's é) in what git-model records as JSON.
# `sweep start --grid x=caf\xe9` (or a command word like it) failed with nlohmann's raw
# "[json.exception.type_error.316] incomplete UTF-8 string", and `git model start` in a folder so
# named failed the same way, leaving an empty worktree folder behind. Both are refused up front
# now, naming what and where, with nothing made.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
run_expect 0 git -C repo model start net
wt="$TEST_DIR/worktrees/feature/model-net"

run_expect 2 git -C "$wt" model sweep start --no-container --gpus-per-run 0 --grid $'x=caf\xe9' -- true
assert_contains "$ERR" "--grid x: a value is not UTF-8 text (byte 0xe9 at 3 is not UTF-8)"
assert_not_contains "$ERR" "json.exception"
run_expect 2 git -C "$wt" model sweep start --no-container --gpus-per-run 0 --grid x=1 -- echo $'caf\xe9'
assert_contains "$ERR" "the command's word 2 (caf\\xe9) is not UTF-8 text"
run_expect 1 git -C "$wt" model sweep status 1
assert_contains "$ERR" "there is no sweep '1'" "no sweep was made"

latin=$'caf\xe9'
mkdir "$latin"
git clone -q repo "$latin/repo"
git -C "$latin/repo" config model.installHooks never
run_expect 1 git -C "$latin/repo" model start other
assert_contains "$ERR" "the worktree's folder $TEST_DIR/caf\\xe9/worktrees/feature/model-other is not UTF-8 text"
assert_contains "$ERR" "nothing was made"
assert_no_path "$latin/worktrees"
assert_eq "$(git -C "$latin/repo" branch --list 'feature/*')" "" "no branch made"
# With worktrees elsewhere it works.
git -C "$latin/repo" config model.worktreeRoot "$TEST_DIR/elsewhere"
run_expect 0 git -C "$latin/repo" model start other

# (s42d) A sweep's run worktrees under a model.worktreeRoot that is not UTF-8: named up front too.
git -C repo config model.worktreeRoot "$TEST_DIR/$latin"
run_expect 1 git -C "$wt" model sweep start --no-container --gpus-per-run 0 --grid x=1 -- true
assert_contains "$ERR" "the worktree's folder $TEST_DIR/caf\\xe9/feature/model-net.sweep-1-1 is not UTF-8 text"
assert_contains "$ERR" "model.worktreeRoot"
