#!/usr/bin/env bash
# Ctrl-C (SIGINT) or SIGTERM while `sweep start` or `sweep extend` makes its runs, here while git checks
# out the last one: what the command made is removed, the command ends by that signal (exit 130 or
# 143), and no run of it ever runs. An extend's interruption removes the new runs and keeps the old.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --no-remote
mkdir ran
# Each run that runs leaves a file in ran/, named after its lr.
run_cmd=(-- sh -c 'touch "$1/lr-$GIT_MODEL_PARAM_LR"' sh "$TEST_DIR/ran")

# --- SIGINT at the last run of a start ---------------------------------------------------------------
kill_at_checkout_of sweep-1-3 INT
run_expect 130 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=1,2,3 "${run_cmd[@]}"
stop_killing_at_checkout
assert_contains "$ERR" "interrupted by signal 2; the runs made so far were removed"
for k in 1 2 3; do
    assert_no_branch repo "feature/model-net.sweep-1-$k"
    assert_no_path "$TEST_DIR/worktrees/feature/model-net.sweep-1-$k"
done
assert_no_path repo/.git/git-model/sweeps/1/sweep.json
sleep 2  # a scheduler, had one started, would have run them by now
assert_eq "$(ls ran)" "" "no run ran"
run_expect 0 git -C "$WT" model sweep status
assert_not_contains "$ERR" "interrupted"

# --- SIGTERM half way ----------------------------------------------------------------------------------
kill_at_checkout_of sweep-1-2 TERM
run_expect 143 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=1,2,3 "${run_cmd[@]}"
stop_killing_at_checkout
assert_contains "$ERR" "interrupted by signal 15; the runs made so far were removed"
assert_eq "$(git -C repo branch --list 'feature/model-net.sweep-*')" "" "no run branch left"
sleep 2
assert_eq "$(ls ran)" "" "no run ran"

# --- an extend interrupted at its last new run keeps the sweep's own runs ------------------------------
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=1,2 "${run_cmd[@]}"
id=$(ls repo/.git/git-model/sweeps | sort -n | tail -1)
wait_sweep "$WT" "$id" 60
assert_eq "$(ls ran | tr '\n' ' ')" "lr-1 lr-2 " "the sweep's two runs ran"
kill_at_checkout_of "sweep-$id-4" INT
run_expect 130 git -C "$WT" model sweep extend "$id" --grid lr=3,4
stop_killing_at_checkout
assert_contains "$ERR" "interrupted by signal 2"
for k in 3 4; do
    assert_no_branch repo "feature/model-net.sweep-$id-$k"
    assert_no_path "$TEST_DIR/worktrees/feature/model-net.sweep-$id-$k"
done
run_expect 0 git -C "$WT" model sweep status "$id" --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done" "the sweep keeps its two runs"
sleep 2
assert_eq "$(ls ran | tr '\n' ' ')" "lr-1 lr-2 " "no new run ran"
