#!/usr/bin/env bash
# A repository copied with `cp -a` (or moved) takes its sweep records along, and each record
# names the repository it was made in, its worktrees, its scheduler and its jobs. A sweep
# command in the copy acted on the original's sweep: a cancel there stopped the original's
# running run. Now such a record is refused by every sweep command, naming both places; the
# original's sweep goes on untouched, and the copy's own sweeps work (numbered after it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --no-remote
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=1 -- \
    sh -c 'echo started >"$GIT_MODEL_LOGS/started"; sleep 60; echo finished >"$GIT_MODEL_LOGS/finished"'
LOGS="$TEST_DIR/repo/.git/git-model/persist/net/logs/sweep-1"
for _ in $(seq 100); do [ -f "$LOGS/started" ] && break; sleep 0.1; done
[ -f "$LOGS/started" ] || fail "the run never started"

mkdir other
cp -a repo other/copy
COPY="$TEST_DIR/other/copy"

# --- every sweep command in the copy refuses the original's sweep, naming both places -----------------------
for args in "cancel 1" "status 1" "resume 1" "report 1" "clean 1"; do
    # shellcheck disable=SC2086 # the words of the subcommand
    run_expect 1 git -C "$COPY" model sweep $args
    assert_contains "$ERR" "sweep 1 here ($COPY/.git/git-model/sweeps/1) was made in the repository $TEST_DIR/repo/.git, not in this one"
    assert_contains "$ERR" "rm -r $COPY/.git/git-model/sweeps/1"
done
run_expect 0 git -C repo model sweep status 1 --json
assert_eq "$(json_get "$OUT" 'd["runs"][0]["state"]')" "running" "the original's run still runs"

# --- the copy's own sweeps work, numbered after the copied record ---------------------------------------------
run_expect 0 git -C "$COPY" model start vision
CWT="$TEST_DIR/other/worktrees/feature/model-vision"
run_expect 0 git -C "$CWT" model sweep start --no-container --gpus-per-run 0 --grid lr=2 -- sh -c 'echo copy-ran'
assert_contains "$OUT" "Sweep 2 of model vision"
wait_sweep "$CWT" 2 60
run_expect 0 git -C "$CWT" model sweep status 2 --json
assert_eq "$(json_get "$OUT" 'd["runs"][0]["state"]')" "done" "the copy's own sweep ran"
run_expect 0 git -C "$CWT" model sweep status
assert_not_contains "$OUT" "net" "the copy lists only its own sweeps"

# --- the original cancels its own sweep as before --------------------------------------------------------------
run_expect 0 git -C "$WT" model sweep cancel 1
run_expect 0 git -C repo model sweep status 1 --json
assert_eq "$(json_get "$OUT" 'd["runs"][0]["state"]')" "cancelled" "the original's run cancelled from the original"
assert_no_path "$LOGS/finished"

# --- a moved repository: its old sweeps are refused, naming where they were made ---------------------------------
mv repo moved
run_expect 1 git -C moved model sweep status 1
assert_contains "$ERR" "was made in the repository $TEST_DIR/repo/.git, not in this one"
mv moved repo
run_expect 0 git -C repo model sweep status 1
