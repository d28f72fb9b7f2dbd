#!/usr/bin/env bash
# Red team (s40a), two real Unix users in one group-shared repository (core.sharedRepository=group):
# B's `sweep cancel` of A's running sweep signalled A's scheduler (EPERM, unchecked), waited 40 s for it,
# then said "Cancelled sweep 1: 2 unfinished runs stopped" though nothing was stopped (or failed ~50 s later
# on A's files). Now cancel, resume, extend, clean and promote of another user's sweep are refused at once,
# naming its owner, and A's runs go on; A's own cancel still stops them. A's killed start is left to A.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/users-lib.sh"

A=gmso-a-$$ B=gmso-b-$$
make_user "$A"
make_user "$B"
make_group "gmso-g-$$" "$A" "$B"
AREA="$TEST_DIR/area"
mkdir -m 2775 "$AREA" && chgrp "gmso-g-$$" "$AREA" && chown "$A" "$AREA"
as_group_writer "$A" git init -q --shared=group "$AREA/repo"
as_group_writer "$A" git -C "$AREA/repo" commit -q --allow-empty -m init
as_group_writer "$A" git -C "$AREA/repo" config model.installHooks never
as_group_writer "$A" git -C "$AREA/repo" config model.gpus 0
run_expect 0 as_group_writer "$A" git -C "$AREA/repo" model start net
WT="$AREA/worktrees/feature/model-net"
as_user "$B" git config --global --add safe.directory '*'
run_expect 0 as_group_writer "$A" git -C "$WT" model sweep start -q --no-container --gpus-per-run 0 --max-parallel 2 --grid lr=1,2 -- sleep 60
for _ in $(seq 100); do
    [ "$(json_get "$(as_group_writer "$A" git -C "$WT" model sweep status 1 --json)" '" ".join(r["state"] for r in d["runs"])')" = "running running" ] && break
    sleep 0.2
done

started=$SECONDS
run_expect 1 as_group_writer "$B" git -C "$WT" model sweep cancel 1
assert_contains "$ERR" "sweep 1 is $A's (they started it): its scheduler, runs and records are theirs, so you cannot cancel it"
assert_contains "$ERR" "hint: ask $A to, or root"
[ $((SECONDS - started)) -lt 10 ] || fail "the refusal took $((SECONDS - started)) s"
for action in "resume 1" "extend 1 --grid lr=3" "clean 1"; do
    # shellcheck disable=SC2086
    run_expect 1 as_group_writer "$B" git -C "$WT" model sweep $action
    assert_contains "$ERR" "sweep 1 is $A's (they started it)" "$action"
done
run_expect 0 as_group_writer "$A" git -C "$WT" model sweep status 1 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "running running" "A's runs go on"
assert_eq "$(json_get "$OUT" 'len(d["runs"])')" "2" "nothing was added"
run_expect 0 as_group_writer "$A" git -C "$WT" model sweep cancel 1
assert_contains "$OUT" "2 unfinished runs stopped"
run_expect 0 as_group_writer "$A" git -C "$WT" model sweep status 1 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "cancelled cancelled" "A's own cancel stops them"
run_expect 1 as_group_writer "$B" git -C "$WT" model sweep promote 1 --run 1 --no-push
assert_contains "$ERR" "sweep 1 is $A's (they started it): its scheduler, runs and records are theirs, so you cannot promote it"

# --- (s40c) A's sweep start killed half way: B's sweep commands leave it to A (they failed on "Permission
# denied" removing A's files, every one of them, until A came back); A's next command rolls it back --------
printf '#!/bin/sh\ncase "$PWD" in *sweep-2-2) kill -KILL "$(ps -o ppid= -p $PPID | tr -d " ")" ;; esac\n' >"$AREA/repo/.git/hooks/post-checkout"
chmod 755 "$AREA/repo/.git/hooks/post-checkout"
run_expect 137 as_group_writer "$A" git -C "$WT" model sweep start -q --no-container --gpus-per-run 0 --grid lr=1,2,3 -- true
rm "$AREA/repo/.git/hooks/post-checkout"
sleep 0.5   # git itself finishes after its parent died
run_expect 0 as_group_writer "$B" git -C "$WT" model sweep status
assert_contains "$ERR" "kept: $A's interrupted \`git model sweep start\` of sweep 2 is theirs to roll back; their next sweep command does it"
[ -d "$AREA/worktrees/feature/model-net.sweep-2-1" ] || fail "B's command removed A's run"
run_expect 0 as_group_writer "$A" git -C "$WT" model sweep status
assert_contains "$ERR" "removed sweep 2, whose start was interrupted"
assert_no_path "$AREA/worktrees/feature/model-net.sweep-2-1"

# --- (s40e) under umask 002, what a run writes (its checkpoint, its log) is A's alone to change, as its folders are
run_expect 0 as_group_writer "$A" git -C "$WT" model sweep start -q --no-container --gpus-per-run 0 --grid lr=7 -- sh -c 'echo w >"$GIT_MODEL_CHECKPOINTS/last.ckpt"'
id=$(printf '%s\n' "$OUT" | sed -n 's/^Sweep \([0-9]*\) .*/\1/p')
for _ in $(seq 100); do
    [ "$(json_get "$(as_group_writer "$A" git -C "$WT" model sweep status "$id" --json)" '" ".join(r["state"] for r in d["runs"])')" = "done" ] && break
    sleep 0.2
done
ckpt=$(find "$AREA/repo/.git/git-model/persist" -name last.ckpt | head -1)
log=$(find "$AREA/repo/.git/git-model" -name 'run-1.log' -path "*sweep-$id*" | head -1)
[ -n "$ckpt" ] && [ -n "$log" ] || fail "no checkpoint or log found"
assert_eq "$(stat -c '%a' "$ckpt" "$log" | tr '\n' ' ')" "644 644 " "the run's checkpoint and log: A's alone"
CHECKS=$((CHECKS + 1))
if as_user "$B" sh -c 'echo planted >"$1"' sh "$ckpt" 2>/dev/null; then fail "B overwrote A's checkpoint"; fi
