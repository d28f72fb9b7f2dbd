#!/usr/bin/env bash
# Finding: `git model sweep cancel <id>` of a sweep whose scheduler died gives back every lease of
# the caller whose "sweep" field is "<id>/<run>" - sweep ids are numbered per repository, so it
# also frees the GPUs of the same-numbered sweep of *another repository* of the same user, whose
# runs are alive and keep using them. Another user is then handed those GPUs.
# (Before issue 12 the release went by the run's container name, which names the repository.)
# Exit 1: the other repository's live run and another user's run share a GPU. Exit 0: not.
RT_POOL=0,1
. "$(dirname "$0")/rt-lib.sh"
git model gpus init --dir "$BOOK" >/dev/null || setup_failed "gpus init"
V=gmred-$$-v W=gmred-$$-w
rt_user "$V"
rt_user "$W"
rt_repo "$V" x
as_user "$V" sh -c 'git init -q repo2 && cp repo/.modelenv.yaml repo2/ && git -C repo2 add -A && git -C repo2 commit -qm e &&
    git -C repo2 config model.installHooks never && git -C repo2 config model.gpus 0,1 && git -C repo2 model start y >/dev/null' ||
    setup_failed "second repository"
rt_repo "$W" w
mkdir -m 1777 "$RT_DIR/out"
cmd='echo "$CUDA_VISIBLE_DEVICES" >"$0/$GIT_MODEL_MODEL"; sleep 60'
ywt="$(user_home "$V")/worktrees/feature/model-y"
sweep() { as_user "$1" git -C "$2" model sweep start --no-container --gpus-per-run 1 --grid "x=$3" -- sh -c "$cmd" "$RT_DIR/out" >/dev/null; }
wait_file() { for _ in $(seq 100); do [ -s "$RT_DIR/out/$1" ] && return 0; sleep 0.1; done; setup_failed "run $1 never started"; }
sweep "$V" "$ywt" 1 || setup_failed "sweep in repo2"
wait_file y.sweep-1-1
sweep "$V" "$(wt "$V" x)" 1 || setup_failed "sweep in repo"
wait_file x.sweep-1-1
as_user "$V" git -C repo model gpus
# repo's sweep 1 crashes: its scheduler and its run die (kill -9); repo2's sweep 1 runs on.
sched=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$(user_home "$V")/repo/.git/git-model/sweeps/1/scheduler.json")
xprocs=$(for p in $(pgrep -u "$(id -u "$V")"); do
    grep -qz '^GIT_MODEL_MODEL=x.sweep-1-1$' "/proc/$p/environ" 2>/dev/null && echo "$p"; done)
[ -n "$xprocs" ] || setup_failed "no process of repo's run"
kill -9 "$sched" $xprocs
sleep 0.5
echo "--- V: sweep cancel 1 in repo (its scheduler died)"
as_user "$V" git -C "$(wt "$V" x)" model sweep cancel 1
as_user "$V" git -C "$ywt" model sweep status 1 | sed -n 1,2p
echo "--- W: a sweep of two runs"
sweep "$W" "$(wt "$W" w)" 1,2 || setup_failed "W's sweep"
sleep 2
grep . "$RT_DIR"/out/* | sed "s|$RT_DIR/out/||"
ystate=$(as_user "$V" git -C "$ywt" model sweep status 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["state"])')
echo "repo2's run: $ystate"
[ "$(cat "$RT_DIR/out/y.sweep-1-1")" = 0 ] && [ "$ystate" = running ] && grep -qx 0 "$RT_DIR"/out/w.sweep-1-* &&
    reproduced "cancelling repo's sweep 1 freed repo2's sweep 1 GPU 0 while its run still runs; $W got GPU 0 too"
held_up "repo2's sweep kept its GPU"
