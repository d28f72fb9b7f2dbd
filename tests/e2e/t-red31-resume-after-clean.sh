#!/usr/bin/env bash
# Red team (stop 27): `sweep clean --branches` of a finished sweep with a failed run removes that
# run's worktree and branch. `sweep resume` then refused the whole sweep for good ("worktree is
# gone"), with a hint (`git worktree add <path> <branch>`) that failed on the deleted branch, so
# runs an extend added later could never be resumed either. Now resume leaves such a run out with
# a warning whose command recreates it (branch at the run's commit), and resumes the rest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
# Worktrees below a folder with a space: the commands resume prints must survive a paste.
make_remote_pair repo
git -C repo config model.installHooks never
git -C repo config model.worktreeRoot "../work trees"
run_expect 0 git -C repo model start net
WT="$TEST_DIR/work trees/feature/model-net"
git -C "$WT" push -q -u origin feature/model-net
cat >"$WT/train.sh" <<SH
case "\$GIT_MODEL_PARAM_LR" in 2 | 5) [ -e "$TEST_DIR/fixed" ] || exit 3 ;; esac  # a missing dataset, say
head -c 4096 /dev/urandom > weights.bin
printf '{"loss": %s}\n' "\$GIT_MODEL_PARAM_LR" > metrics.json
SH
git -C "$WT" add train.sh && git -C "$WT" commit -qm train && git -C "$WT" push -q
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry weights.bin --grid lr=1,2,3 -- sh train.sh
wait_sweep "$WT" 1 60
run_expect 0 git -C repo model sweep clean 1 --branches  # the failed run 2 goes too
RUN2="$TEST_DIR/work trees/feature/model-net.sweep-1-2"
assert_no_path "$RUN2"

# Only the removed run is unfinished: resume says so and how to bring it back; nothing is queued.
run_expect 1 git -C repo model sweep resume 1
assert_contains "$ERR" "run 2 is not resumed: its worktree and branch feature/model-net.sweep-1-2 were removed (by sweep clean --branches, or by hand)"
assert_contains "$ERR" "sweep 1 has no run to resume"
HINT=$(printf '%s\n' "$ERR" | sed -n 's/.*recreate them with `\(git worktree add -b [^`]*\)` and resume.*/\1/p')
[ -n "$HINT" ] || fail "resume named no command to recreate run 2: $ERR"

# A run an extend adds later (and that fails) is still resumed; run 2 stays out, with the warning.
run_expect 0 git -C repo model sweep extend 1 --grid lr=5
wait_sweep "$WT" 1 60
touch "$TEST_DIR/fixed"
run_expect 0 git -C repo model sweep resume 1
assert_contains "$ERR" "run 2 is not resumed"
assert_contains "$OUT" "run 4 queued"
wait_sweep "$WT" 1 60
[ -f "$TEST_DIR/work trees/feature/model-net.sweep-1-4/weights.bin" ] || fail "run 4 did not run again"

# The warning's command recreates run 2 (its branch at the run's commit); resume then runs it.
(cd repo && eval "$HINT") || fail "the command resume gave fails: $HINT"
run_expect 0 git -C repo model sweep resume 1
assert_contains "$OUT" "run 2 queued"
wait_sweep "$WT" 1 60
[ -f "$RUN2/weights.bin" ] || fail "run 2 did not run again"
