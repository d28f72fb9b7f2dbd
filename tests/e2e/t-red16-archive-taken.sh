#!/usr/bin/env bash
# Red team #16: two clones of one team each run their own "sweep 1" of model net. The first
# `sweep clean --branches` pushes archive/model/net.sweep-1-2; the second clone (which has not
# fetched since) used to choose the same name for its own, different commit: the remote refused
# the push, and the name recorded in tidy.json kept every rerun failing. It now takes @2, as
# prune does with a name taken "here or there".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --push
printf 'printf "{\\"loss\\": %%s}\\n" "$GIT_MODEL_PARAM_LR" > metrics.json\n' >"$WT/train.sh"
git -C "$WT" add train.sh
git -C "$WT" commit -q -m train
git -C "$WT" push -q
# The second clone lives elsewhere (its own worktrees folder) and clones before the first cleans.
mkdir other
git clone -q "$TEST_DIR/repo.git" other/b
git -C other/b config model.installHooks never
git -C other/b worktree add -q "$TEST_DIR/other/bwt" feature/model-net

run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=0.3,0.1,0.2 -- sh train.sh
wait_sweep "$WT" 1 60
run_expect 0 git -C "$TEST_DIR/other/bwt" model sweep start --no-container --gpus-per-run 0 --grid lr=0.5,0.05 -- sh train.sh
wait_sweep "$TEST_DIR/other/bwt" 1 60

run_expect 0 git -C "$WT" model sweep clean 1 --branches
assert_contains "$OUT" "as archive/model/net.sweep-1-2, pushed to origin"
A_COMMIT=$(git -C repo.git rev-parse 'archive/model/net.sweep-1-2^{commit}')
B_RUN=$(git -C other/b rev-parse feature/model-net.sweep-1-2)

run_expect 0 git -C "$TEST_DIR/other/bwt" model sweep clean 1 --branches --dry-run
assert_contains "$OUT" "as archive/model/net.sweep-1-2@2 and push it to origin"
run_expect 0 git -C "$TEST_DIR/other/bwt" model sweep clean 1 --branches
assert_contains "$OUT" "as archive/model/net.sweep-1-2@2, pushed to origin"
assert_eq "$(git -C repo.git rev-parse 'archive/model/net.sweep-1-2@2^{commit}')" "$B_RUN" "the second clone's run is archived there"
assert_eq "$(git -C repo.git rev-parse 'archive/model/net.sweep-1-2^{commit}')" "$A_COMMIT" "the first clone's archive is untouched"
assert_no_branch other/b feature/model-net.sweep-1-2
