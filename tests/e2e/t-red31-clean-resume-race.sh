#!/usr/bin/env bash
# Red team (stop 27): plain `sweep clean` at the same moment as `sweep resume` of a sweep whose runs
# failed. Clean took no scheduling lock and read the runs' states once, so it removed the worktrees
# of runs resume had just queued (their logs said "Directory nonexistent", tracked files deleted
# under a running command). Now the two take turns: resumed runs are kept as queued, or clean
# goes first and resume refuses, naming the worktree and how to recreate it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --push
cat >"$WT/train.sh" <<SH
[ -e "$TEST_DIR/fixed" ] || exit 3          # every run fails first (a missing dataset, say)
sleep 0.3
head -c 4096 /dev/urandom > weights.bin
printf '{"loss": %s}\n' "\$GIT_MODEL_PARAM_LR" > metrics.json
SH
git -C "$WT" add train.sh && git -C "$WT" commit -qm train && git -C "$WT" push -q
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --max-parallel 8 --carry weights.bin \
    --grid lr=1,2,3,4,5,6,7,8 -- sh train.sh
wait_sweep "$WT" 1 60
touch "$TEST_DIR/fixed"
# The user resumes; a teammate (or a cron job) runs plain clean at the same moment.
(cd repo && rc=0 && git-model sweep resume 1 >../resume.out 2>&1 || rc=$?; echo $rc >../resume.rc) &
(cd repo && rc=0 && git-model sweep clean 1 >../clean.out 2>&1 || rc=$?; echo $rc >../clean.rc) &
wait
wait_sweep "$WT" 1 60
LOGS=repo/.git/git-model/persist/net/logs/sweep-1
broken=$(cat "$LOGS"/*.log | grep -c "Directory nonexistent\|could not start" || true)
[ "$broken" = 0 ] || fail "$broken resumed runs had their worktree removed by the concurrent clean: $(grep -h "Directory nonexistent\|could not start" $LOGS/*.log | sort | uniq -c)"
# One of the two went first: either resume queued the runs and clean kept them (queued or running),
# or clean removed the failed runs' worktrees and resume refused, with a hint that works.
if [ "$(cat resume.rc)" = 0 ]; then
    assert_eq "$(cat clean.rc)" 0 "clean after resume"
    for k in 1 2 3 4 5 6 7 8; do  # in its worktree, or on its shelf if clean came after the run ended
        [ -f "worktrees/feature/model-net.sweep-1-$k/weights.bin" ] || [ -f "repo/.git/git-model/sweeps/1/runs/$k.carried/weights.bin" ] ||
            fail "run $k's weights are neither in its worktree nor on its shelf"
    done
else
    assert_contains "$(cat resume.out)" "is gone (cleaned?)"
    HINT=$(sed -n 's/^hint: recreate it with `\(.*\)`$/\1/p' resume.out)
    (cd repo && eval "$HINT") || fail "the hint resume gave fails: $HINT"
fi
