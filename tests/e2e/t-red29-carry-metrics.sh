#!/usr/bin/env bash
# Red team (issue 29): a sweep may carry the metrics.json its runs write (--carry metrics.json,
# to keep the run's numbers beside the promoted model). `sweep clean --branches` keeps a copy of
# metrics.json beside the sweep's record and removed the worktree's before shelving the carried
# files, so the shelf missed it and `sweep promote` of the cleaned run failed ("no file
# metrics.json to carry"). The carried metrics.json is shelved like any carried file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --no-remote
SWEEP="$TEST_DIR/repo/.git/git-model/sweeps/1"
cat >"$WT/train.sh" <<'SH'
printf '{"loss": %s}\n' "$GIT_MODEL_PARAM_LR" > metrics.json
echo "weights of $GIT_MODEL_PARAM_LR" > weights.bin
SH
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry metrics.json --carry weights.bin \
    --grid lr=1,2 -- sh train.sh
wait_sweep "$WT" 1 60
run_expect 0 git -C repo model sweep clean 1 --branches
assert_contains "$OUT" "run 2: its carried metrics.json, weights.bin are in $SWEEP/runs/2.carried"
assert_eq "$(cat "$SWEEP/runs/2.carried/metrics.json")" '{"loss": 2}' "the shelved metrics"
run_expect 0 git -C repo model sweep status 1
assert_contains "$OUT" "run 2: carried metrics.json, weights.bin shelved in $SWEEP/runs/2.carried"
run_expect 0 git -C "$WT" model sweep promote 1 --run 2 --no-push
assert_contains "$OUT" "(params.json, metrics.json, weights.bin)"
assert_eq "$(git -C repo show feature/model-net:metrics.json)" '{"loss": 2}' "the promoted metrics"
run_expect 0 git -C repo model sweep report 1
assert_contains "$OUT" "loss"
