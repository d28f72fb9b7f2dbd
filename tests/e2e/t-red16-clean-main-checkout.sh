#!/usr/bin/env bash
# Red team #16: a run's branch checked out in the main worktree (a teammate looking at a run) was
# deleted by `sweep clean --branches`, leaving the main checkout on an unborn branch ("No commits
# yet", every file staged as new). It is now kept and named, as prune keeps such a branch, even
# with --force; the other runs are cleaned.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --push
printf 'printf "{\\"loss\\": %%s}\\n" "$GIT_MODEL_PARAM_LR" > metrics.json\n' >"$WT/train.sh"
git -C "$WT" add train.sh
git -C "$WT" commit -q -m train
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=0.3,0.1 -- sh train.sh
wait_sweep "$WT" 1 60
run_expect 0 git -C "$WT" model sweep clean 1
git -C repo checkout -q feature/model-net.sweep-1-1
RUN1=$(git -C repo rev-parse HEAD)

run_expect 1 git -C "$WT" model sweep clean 1 --branches --force
assert_contains "$OUT" "run 1: kept feature/model-net.sweep-1-1: its branch is checked out in the main worktree"
assert_eq "$(git -C repo rev-parse HEAD)" "$RUN1" "the main worktree still has its commit"
assert_eq "$(git -C repo status --porcelain)" "" "and nothing looks staged"
assert_no_branch repo feature/model-net.sweep-1-2
