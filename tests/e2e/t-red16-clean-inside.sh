#!/usr/bin/env bash
# Red team #16: `sweep clean --branches` run from inside one run's worktree (folders with spaces,
# a model name with dots) keeps that run, as prune keeps the worktree it runs in, and cleans the
# others. It used to remove the worktree under its own feet, then stop half way with "cannot get
# current path", leaving the other runs and the branch of the removed worktree behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

mkdir -p "$TEST_DIR/my dir"
cd "$TEST_DIR/my dir"
git init -q --bare "$TEST_DIR/my dir/repo.git"
make_repo "$TEST_DIR/my dir/repo"
git -C repo remote add origin "$TEST_DIR/my dir/repo.git"
git -C repo push -q origin main
git -C repo config model.installHooks never
run_expect 0 git -C repo model start a.b-c_d
WT="$TEST_DIR/my dir/worktrees/feature/model-a.b-c_d"
git -C "$WT" push -q -u origin feature/model-a.b-c_d
printf 'printf "{\\"loss\\": %%s}\\n" "$GIT_MODEL_PARAM_LR" > metrics.json\n' >"$WT/train.sh"
git -C "$WT" add train.sh
git -C "$WT" commit -q -m train
git -C "$WT" push -q
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=0.3,0.1,0.2 -- sh train.sh
wait_sweep "$WT" 1 60
R1="$TEST_DIR/my dir/worktrees/feature/model-a.b-c_d.sweep-1-1"


cd "$R1"
run_expect 1 git model sweep clean 1 --branches
cd "$TEST_DIR/my dir"
assert_contains "$OUT" "run 1: kept feature/model-a.b-c_d.sweep-1-1: this command runs inside its worktree"
assert_contains "$OUT" "2 run branches removed, 1 kept"
assert_dir "$R1"
assert_branch_exists repo feature/model-a.b-c_d.sweep-1-1
assert_no_branch repo feature/model-a.b-c_d.sweep-1-2
assert_no_branch repo feature/model-a.b-c_d.sweep-1-3
assert_no_path "$TEST_DIR/my dir/worktrees/feature/model-a.b-c_d.sweep-1-3"
# From elsewhere it goes too.
run_expect 0 git -C "$WT" model sweep clean 1 --branches
assert_no_branch repo feature/model-a.b-c_d.sweep-1-1
