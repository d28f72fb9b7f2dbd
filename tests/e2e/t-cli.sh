#!/usr/bin/env bash
# The front door: git model alone, -h, --version, unknown commands, and the
# hand-over of `git model env` / `git model bench` to their own executables.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
run_expect 2 git model
assert_contains "$ERR" "usage: git model <command>"
assert_contains "$ERR" "start"
run_expect 0 git-model -h
assert_contains "$OUT" "usage: git model <command>"
assert_contains "$OUT" "list"
run_expect 0 git model --version
assert_contains "$OUT" "git model version "
run_expect 2 git model strat
assert_contains "$ERR" "'strat' is not a git model command"
assert_contains "$ERR" "did you mean 'git model start'"
run_expect 2 git model lst
assert_contains "$ERR" "did you mean 'git model list'"
run_expect 2 git model frobnicate
assert_not_contains "$ERR" "did you mean"
run_expect 2 git model --frobnicate
assert_contains "$ERR" "unknown option"
run_expect 0 git model start -h
assert_contains "$OUT" "--no-worktree"
run_expect 0 git model list -h
assert_contains "$OUT" "--json"

# env and bench are served by their own executables, found beside git-model
run_expect 2 git model env
assert_contains "$ERR" "usage: git model env"
run_expect 2 git model env nosuch
assert_contains "$ERR" "'nosuch' is not a git model env command"
if [ -x "$GM_STAGE/bin/git-model-bench" ]; then
    run_expect 0 git model bench -h   # --help opens the manual: t-help.sh
    assert_contains "$OUT$ERR" "usage"
fi

# ... or on PATH when git-model was copied somewhere on its own
mkdir -p lonely/bin
cp "$GM_STAGE/bin/git-model" lonely/bin/
run_expect 2 env PATH="$TEST_DIR/lonely/bin:$PATH" "$TEST_DIR/lonely/bin/git-model" env nosuch
assert_contains "$ERR" "is not a git model env command"
# ... and a clear error when it is nowhere
run_expect 3 env PATH="$TEST_DIR/lonely/bin:/usr/bin:/bin" "$TEST_DIR/lonely/bin/git-model" env status
assert_contains "$ERR" "'git-model-env' is not installed"

# exit codes of a command killed by a signal follow the 128+n convention of the shell
make_repo repo
run_expect 0 git -C repo model list
