#!/usr/bin/env bash
# `sweep promote` killed while it writes the run's files into the model's worktree leaves the
# temporary file of that write (".params.json.<pid>-<realm>.<hex>.tmp"), which every `git status`
# then shows. The next promote (or any write of the same file) removes such leftovers once their
# writer is gone, and only those: a user's file with a similar name, a link, a running writer's
# file, and a recent one from another host or pid namespace (a container sharing the folder,
# whose pid means nothing here) stay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net
cat >"$WT/train.sh" <<'SH'
head -c 4096 /dev/urandom > weights.bin
printf '{"loss": %s}\n' "$GIT_MODEL_PARAM_LR" > metrics.json
SH
git -C "$WT" add train.sh && git -C "$WT" commit -qm train
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry weights.bin --grid lr=1,2 -- sh train.sh
wait_sweep "$WT" 1 60

# What a promote killed mid-write leaves: its pid is gone (a real process that ran and ended).
sh -c 'exit 0' &
DEAD=$!
wait "$DEAD"
# The realm: FNV-1a of "<host name>:<pid namespace inode>", as git-model names its temporaries.
REALM=$(python3 -c '
import os, socket
h = 2166136261
inode = os.stat("/proc/self/ns/pid").st_ino
for b in f"{socket.gethostname()}:{inode}".encode():
    h = ((h ^ b) * 16777619) & 0xffffffff
print(f"{h:08x}")')
OTHER=$([ "$REALM" = 00000000 ] && echo 00000001 || echo 00000000)
for name in params.json weights.bin; do printf 'half' >"$WT/.$name.$DEAD-$REALM.0123456789abcdef.tmp"; done
printf 'theirs' >"$WT/.params.json.$DEAD-$OTHER.0123456789abcdef.tmp"  # a container's writer, maybe alive
printf 'mine' >"$WT/.params.json.notes.tmp"                      # a user's own file
ln -s "$TEST_DIR/victim" "$WT/.weights.bin.$DEAD-$REALM.fedcba9876543210.tmp"  # a link is never ours
printf 'precious' >victim
sleep 120 &
ALIVE=$!
printf 'busy' >"$WT/.params.json.$ALIVE-$REALM.0123456789abcdef.tmp"   # a writer that still runs
git -C "$WT" status --porcelain --untracked-files=all >before
assert_contains "$(cat before)" ".params.json.$DEAD-$REALM.0123456789abcdef.tmp"

run_expect 0 git -C "$WT" model sweep promote 1 --run 2 --no-push
kill "$ALIVE"
assert_no_path "$WT/.params.json.$DEAD-$REALM.0123456789abcdef.tmp"
assert_no_path "$WT/.weights.bin.$DEAD-$REALM.0123456789abcdef.tmp"
[ "$(cat "$WT/.params.json.$DEAD-$OTHER.0123456789abcdef.tmp")" = theirs ] || fail "another realm's recent file was removed"
[ "$(cat "$WT/.params.json.notes.tmp")" = mine ] || fail "the user's own file was touched"
[ "$(cat "$WT/.params.json.$ALIVE-$REALM.0123456789abcdef.tmp")" = busy ] || fail "a running writer's file was removed"
[ -L "$WT/.weights.bin.$DEAD-$REALM.fedcba9876543210.tmp" ] || fail "a link was removed"
[ "$(cat victim)" = precious ] || fail "a link was followed"
git -C "$WT" show HEAD:weights.bin >/dev/null || fail "promote did not commit the run's weights"
