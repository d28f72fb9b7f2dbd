#!/usr/bin/env bash
# Finding: a --no-container sweep run outlives its scheduler by design (the lease then names the
# run's process). `git model sweep cancel` of such a sweep says "1 unfinished run stopped" but
# never stops the host run (it only removes containers), and gives its GPU lease back anyway:
# the run keeps using the GPU and another user is handed it. (The missing stop predates issue
# 12; giving back a lease whose recorded process is alive is the lease book's part.)
# Exit 1: the cancelled run still runs and another user's run got its GPU. Exit 0: not.
. "$(dirname "$0")/rt-lib.sh"
git model gpus init --dir "$BOOK" >/dev/null || setup_failed "gpus init"
V=gmred-$$-v W=gmred-$$-w
rt_user "$V"
rt_user "$W"
rt_repo "$V" x
rt_repo "$W" w
mkdir -m 1777 "$RT_DIR/out"
cmd='echo "$CUDA_VISIBLE_DEVICES" >"$0/$GIT_MODEL_MODEL"; exec sleep 60'
as_user "$V" git -C "$(wt "$V" x)" model sweep start --no-container --gpus-per-run 1 --grid x=1 -- sh -c "$cmd" "$RT_DIR/out" >/dev/null ||
    setup_failed "V's sweep"
for _ in $(seq 100); do [ -s "$RT_DIR/out/x.sweep-1-1" ] && break; sleep 0.1; done
[ -s "$RT_DIR/out/x.sweep-1-1" ] || setup_failed "V's run never started"
sched=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$(user_home "$V")/repo/.git/git-model/sweeps/1/scheduler.json")
echo "--- the scheduler (pid $sched) is killed with -9; the run lives on"
kill -9 "$sched"
sleep 0.5
as_user "$V" git -C "$(wt "$V" x)" model sweep cancel 1
run=$(for p in $(pgrep -u "$(id -u "$V")" sleep); do
    grep -qz '^GIT_MODEL_MODEL=x.sweep-1-1$' "/proc/$p/environ" 2>/dev/null && echo "$p"; done)
echo "V's run after the cancel: ${run:-gone}"
as_user "$W" git -C "$(wt "$W" w)" model sweep start --no-container --gpus-per-run 1 --grid x=1 -- sh -c "$cmd" "$RT_DIR/out" >/dev/null ||
    setup_failed "W's sweep"
for _ in $(seq 30); do [ -s "$RT_DIR/out/w.sweep-1-1" ] && break; sleep 0.1; done
grep . "$RT_DIR"/out/* | sed "s|$RT_DIR/out/||"
[ -n "$run" ] && [ -s "$RT_DIR/out/w.sweep-1-1" ] &&
    reproduced "the cancelled run (pid $run) still runs on GPU $(cat "$RT_DIR/out/x.sweep-1-1") and $W's run got GPU $(cat "$RT_DIR/out/w.sweep-1-1")"
held_up "the cancelled run was stopped, or its GPU stayed leased"
