#!/usr/bin/env bash
# Red team #16: the hidden `git-model sweep schedule <folder>` run by hand while the sweep's own
# scheduler lives started a second scheduler, which ran every queued run a second time (two
# processes of one run in one worktree, TRIES 2). It is now refused; so are hostile arguments.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --max-parallel 1 --grid lr=1,2,3 -- \
    sh -c "echo \$GIT_MODEL_PARAM_LR >> '$TEST_DIR/starts'; sleep 1"
FOLDER="$TEST_DIR/repo/.git/git-model/sweeps/1"
run_expect 1 git-model sweep schedule "$FOLDER"
assert_contains "$ERR" "sweep 1 already has a scheduler"
wait_sweep "$WT" 1 60
assert_eq "$(sort "$TEST_DIR/starts" | tr '\n' ' ')" "1 2 3 " "each run ran once"
run_expect 0 git -C "$WT" model sweep status 1 --json
assert_eq "$(json_get "$OUT" '" ".join(str(r["attempt"]) for r in d["runs"])')" "1 1 1" "one try each"

# Hostile or broken arguments: clear errors, nothing run.
run_expect 2 git-model sweep schedule ""
run_expect 1 git-model sweep schedule "$TEST_DIR/nowhere"
assert_contains "$ERR" "missing or unreadable"
run_expect 2 git-model sweep task "$FOLDER" 99999999999999999999
run_expect 2 git-model sweep frobnicate
assert_contains "$ERR" "'frobnicate' is not a git model sweep command"

# Two started at the same instant both see no live scheduler record: the life lock, taken for the
# scheduler's whole life, refuses the second (here held by flock(1) in its place).
run_expect 0 git -C "$WT" model sweep resume 1
assert_contains "$OUT" "nothing to resume"
flock "$FOLDER/scheduler-life.lock" sleep 3 &
holder=$!
sleep 0.5
run_expect 1 git-model sweep schedule "$FOLDER"
assert_contains "$ERR" "sweep 1 already has a scheduler; a second one would run its runs twice"
wait "$holder"
assert_eq "$(wc -l <"$TEST_DIR/starts" | tr -d ' ')" "3" "nothing ran again"
