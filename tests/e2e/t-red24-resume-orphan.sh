#!/usr/bin/env bash
# Red team: a local sweep's scheduler killed alone (SIGKILL, as the OOM killer does) while a run works. The run's
# process leads a process group of its own, so it goes on. `sweep status` must not call it failed, and
# `sweep resume` must not start it a second time in the same worktree while the first still runs; once it
# has ended, resume reruns what is not done, one start at a time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --no-remote
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --max-parallel 1 --grid lr=1,2 -- \
    sh -c 'echo "start $GIT_MODEL_RUN" >> "$GIT_MODEL_LOGS/calls"; sleep 7; echo "end $GIT_MODEL_RUN" >> "$GIT_MODEL_LOGS/calls"'
CALLS="$TEST_DIR/repo/.git/git-model/persist/net/logs/sweep-1/calls"
waited=0
until [ -s "$CALLS" ]; do
    [ "$waited" -ge 100 ] && fail "run 1 did not start"
    sleep 0.1
    waited=$((waited + 1))
done
SCHED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' repo/.git/git-model/sweeps/1/scheduler.json)
kill -9 "$SCHED"
sleep 0.3

run_expect 0 git -C "$WT" model sweep status 1 --json
assert_eq "$(json_get "$OUT" 'd["runs"][0]["state"]')" "running" "run 1 still runs"
assert_contains "$(json_get "$OUT" 'd["runs"][0]["detail"]')" "this run's process (pid"
run_expect 1 git -C "$WT" model sweep resume 1
assert_contains "$ERR" "run 1 of sweep 1 is still running (pid"
assert_contains "$ERR" "git model sweep cancel 1"
assert_eq "$(cat "$CALLS")" "start 1" "nothing started a second time"

# Once it has ended unrecorded, it is failed, and resume reruns the runs that are not done, one at a time.
waited=0
until grep -q "end 1" "$CALLS"; do
    [ "$waited" -ge 200 ] && fail "run 1 did not end"
    sleep 0.1
    waited=$((waited + 1))
done
sleep 0.3
run_expect 0 git -C "$WT" model sweep status 1 --json
assert_eq "$(json_get "$OUT" 'd["runs"][0]["state"]')" "failed" "an ended, unrecorded run is failed"
run_expect 0 git -C "$WT" model sweep resume 1
assert_contains "$OUT" "Resumed sweep 1: runs 1-2 queued on this machine"
wait_sweep "$WT" 1 60
assert_eq "$(tr '\n' ' ' <"$CALLS")" "start 1 end 1 start 1 end 1 start 2 end 2 " "never two starts at once"
