#!/usr/bin/env bash
# Red team: an extend killed half way (SIGKILL while its second new run is checked out), after which the user
# wrote a file into the first new run's worktree. The next sweep command undoes the extend but keeps that
# worktree, its branch and the user's file, and says so in one plain line per thing kept; the sweep's own run
# stays; the sweep's record never names the kept run; a later extend is refused with nothing made.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --no-remote
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=1 -- true
wait_sweep "$WT" 1 60
kill_at_checkout_of sweep-1-3
run_expect 137 git -C "$WT" model sweep extend 1 --grid lr=a,b
stop_killing_at_checkout
RUN2="$TEST_DIR/worktrees/feature/model-net.sweep-1-2"
echo "my notes" >"$RUN2/notes.txt"

run_expect 0 git -C "$WT" model sweep status 1 --json
assert_contains "$ERR" "\`git model sweep extend 1\` was interrupted; the runs it made were removed except:"
assert_contains "$ERR" "git-model:   kept the worktree $RUN2: it holds notes.txt (untracked file)"
assert_not_contains "$ERR" "kept kept" "one 'kept' per line"
assert_not_contains "$ERR" "removed the runs an interrupted" "not told everything was removed"
assert_eq "$(json_get "$OUT" '" ".join(str(r["run"]) + ":" + r["state"] for r in d["runs"])')" "1:done" "the record: run 1 only"
assert_eq "$(cat "$RUN2/notes.txt")" "my notes" "the user's file kept"
assert_branch_exists repo feature/model-net.sweep-1-2
assert_branch_exists repo feature/model-net.sweep-1-1
assert_dir "$TEST_DIR/worktrees/feature/model-net.sweep-1-1"
assert_no_branch repo feature/model-net.sweep-1-3
assert_no_path "$TEST_DIR/worktrees/feature/model-net.sweep-1-3"
# A later extend plans run 2 again and is refused while the kept run is there; nothing made.
run_expect 1 git -C "$WT" model sweep extend 1 --grid lr=c
assert_contains "$ERR" "the branch feature/model-net.sweep-1-2 exists already; nothing was created"
assert_no_branch repo feature/model-net.sweep-1-3
assert_eq "$(cat "$RUN2/notes.txt")" "my notes" "the user's file still kept"
run_expect 0 git -C "$WT" model sweep resume 1
assert_contains "$OUT" "every run is done; nothing to resume"
