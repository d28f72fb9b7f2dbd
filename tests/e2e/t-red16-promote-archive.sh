#!/usr/bin/env bash
# Red team #16: `sweep clean --branches` archives the run `sweep promote` promoted, even when
# --run chose one the report does not rank best (it used to archive the best by metric and delete
# the promoted run's branch, so the promoted commit was held by nothing).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --push
cat >"$WT/train.sh" <<'SH'
printf '{"loss": %s}\n' "$GIT_MODEL_PARAM_LR" > metrics.json
SH
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"
git -C "$WT" push -q
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=0.3,0.1,0.2 -- sh train.sh
wait_sweep "$WT" 1 60

# Run 2 is best by loss; the user promotes run 3 on purpose.
run_expect 0 git -C "$WT" model sweep promote 1 --run 3 --no-push
RUN3=$(git -C repo rev-parse feature/model-net.sweep-1-3)
run_expect 0 git -C "$WT" model sweep clean 1 --branches --dry-run
assert_contains "$OUT" "would archive run 3 (promoted)"
run_expect 0 git -C "$WT" model sweep clean 1 --branches
assert_contains "$OUT" "archived run 3 (promoted)"
assert_eq "$(git -C repo rev-parse archive/model/net.sweep-1-3^{commit})" "$RUN3" "the promoted run's commit is archived"
assert_eq "$(git -C repo.git rev-parse archive/model/net.sweep-1-3^{commit})" "$RUN3" "and pushed"
assert_no_branch repo feature/model-net.sweep-1-3

# A clean that kept the runs (files git does not track) recorded the best run's archive; a run
# promoted afterwards is archived by the next clean too, not deleted unarchived.
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=0.6,0.4,0.5 -- sh -c 'sh train.sh; echo out > keep.txt'
wait_sweep "$WT" 2 60
run_expect 1 git -C "$WT" model sweep clean 2 --branches
assert_contains "$OUT" "archived run 2 (best by loss, lowest first)"
run_expect 0 git -C "$WT" model sweep promote 2 --run 1 --no-push
PROMOTED=$(git -C repo rev-parse feature/model-net.sweep-2-1)
for r in 1 2 3; do rm "$TEST_DIR/worktrees/feature/model-net.sweep-2-$r/keep.txt"; done
run_expect 0 git -C "$WT" model sweep clean 2 --branches
assert_contains "$OUT" "archived run 1 (promoted)"
assert_eq "$(git -C repo rev-parse archive/model/net.sweep-2-1^{commit})" "$PROMOTED" "the run promoted since is archived"
assert_branch_exists repo feature/model-net # the model itself is untouched
git -C repo rev-parse -q --verify archive/model/net.sweep-2-2 >/dev/null || fail "the first clean's archive stays"
