#!/usr/bin/env bash
# Red team (s34d), two real Unix users: A's worktrees live in a shared sticky folder (a
# /scratch-like model.worktreeRoot). `sweep clean` removed the worktree of A's failed run; user
# B put a folder of B's, with B's train.sh, at that path; A's `sweep resume` then ran B's code
# as A. Now resume refuses a run worktree that is not the run's, and no run starts in one
# (checked again where the run starts: on Slurm the job may wait long after the resume).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/users-lib.sh"

A=gmrs-a-$$ B=gmrs-b-$$
make_user "$A"
make_user "$B"
SCR="$TEST_DIR/scratch"
mkdir -p "$SCR" && chmod 1777 "$SCR"
home_a=$(user_home "$A")
as_user "$A" sh -c "git init -q repo && cd repo && git commit -q --allow-empty -m init &&
    git config model.installHooks never && git config model.gpus 0 &&
    git config model.worktreeRoot '$SCR' && git config model.worktreePath '{model}'"
run_expect 0 as_user "$A" git -C repo model start net
wt="$SCR/net"
as_user "$A" sh -c "cd '$wt' && printf '%s\n' 'echo \"run \$GIT_MODEL_RUN as \$(id -un)\" >>\"$SCR/ran\"' '[ \"\$GIT_MODEL_PARAM_LR\" != 2 ]' >train.sh && git add train.sh && git commit -qm train"
run_expect 0 as_user "$A" git -C "$wt" model sweep start --no-container --gpus-per-run 0 --grid lr=1,2 -- sh train.sh
for _ in $(seq 100); do
    as_user "$A" git -C "$home_a/repo" model sweep status 1 --json | grep -q '"state": *"\(queued\|running\)"' || break
    sleep 0.2
done
run_expect 0 as_user "$A" git -C "$home_a/repo" model sweep status 1 --json
assert_eq "$(json_get "$OUT" '[r["state"] for r in d["runs"]]')" "['done', 'failed']" "run 2 failed"
run_expect 0 as_user "$A" git -C "$home_a/repo" model sweep clean 1
p2="$SCR/net.sweep-1-2"
assert_no_path "$p2"
# B's folder where run 2's worktree was, with B's train.sh and a .git file naming A's repository.
as_user "$B" sh -c "mkdir '$p2' && echo 'id -un >\"$SCR/pwned\"' >'$p2/train.sh' &&
    echo 'gitdir: $home_a/repo/.git/worktrees/net.sweep-1-2' >'$p2/.git'"
run_expect 1 as_user "$A" git -C "$home_a/repo" model sweep resume 1
assert_contains "$ERR" "run 2's worktree $p2 is not the run's: another user's folder"
assert_contains "$ERR" "git worktree add $p2 feature/model-net.sweep-1-2"
sleep 1
assert_no_path "$SCR/pwned"
assert_eq "$(grep -c "as $A" "$SCR/ran")" "2" "only the first attempt of each run ran, as A, in A's worktrees"
