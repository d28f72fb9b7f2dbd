#!/usr/bin/env bash
# Red team #16: two clones side by side share the worktrees folder, so once one clone's sweep
# worktrees are cleaned, the other clone's sweep 1 reuses the same paths. The first clone's
# `sweep clean` then deleted the other clone's metrics.json (and took it as its own run's), its
# `sweep report` ranked the other clone's results, and its `sweep promote` committed the other
# clone's carried files. A worktree that is not the sweep's own repository's is now left alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --push
cat >"$WT/train.sh" <<'SH'
mkdir -p out
echo "notes of lr=$GIT_MODEL_PARAM_LR" > out/notes.txt
printf '{"loss": %s}\n' "$GIT_MODEL_PARAM_LR" > metrics.json
SH
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"
git -C "$WT" push -q
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry out/notes.txt --grid lr=0.3,0.1,0.2 -- sh train.sh
wait_sweep "$WT" 1 60
run_expect 0 git -C "$WT" model sweep report 1
A_REPORT=$OUT
R1="$TEST_DIR/worktrees/feature/model-net.sweep-1-1"
for r in 1 2 3; do rm -rf "$TEST_DIR/worktrees/feature/model-net.sweep-1-$r/out"; done
run_expect 0 git -C "$WT" model sweep clean 1
assert_no_path "$R1"

# A sibling clone (same worktrees folder) runs its own sweep 1: the same run worktree paths.
git clone -q "$TEST_DIR/repo.git" b
git -C b config model.installHooks never
git -C b worktree add -q "$TEST_DIR/bwt" feature/model-net
run_expect 0 git -C "$TEST_DIR/bwt" model sweep start --no-container --gpus-per-run 0 --carry out/notes.txt --grid lr=0.05,0.6,0.7 -- sh train.sh
wait_sweep "$TEST_DIR/bwt" 1 60
assert_eq "$(cat "$R1/metrics.json")" '{"loss": 0.05}' "clone b's run 1 wrote its metrics"

# The first clone's commands leave b's files alone and keep their own results.
run_expect 0 git -C "$WT" model sweep clean 1
assert_eq "$(cat "$R1/metrics.json")" '{"loss": 0.05}' "clone b's metrics.json is kept"
run_expect 0 git -C "$WT" model sweep report 1
assert_eq "$OUT" "$A_REPORT" "the report still shows the first clone's own results"
run_expect 1 git -C "$WT" model sweep promote 1 --no-push
assert_contains "$ERR" "is no longer this repository's"
assert_eq "$(git -C "$WT" status --porcelain)" "" "nothing was written into the model's worktree"
run_expect 0 git -C "$TEST_DIR/bwt" model sweep report 1
assert_contains "$OUT" "0.05"
