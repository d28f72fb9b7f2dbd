#!/usr/bin/env bash
# A persist folder named outside the git dir on a disk every user shares (the man page's own
# `checkpoints: /scratch/{user}/{model}`, /scratch sticky and world-writable like /tmp): another
# user who made /scratch/<you> first, or planted a link there, would get the checkpoints that
# `env up` and sweep runs write, and could swap the one a resume unpickles (code run as you).
# Such a place is refused, naming the other user, before anything is made or started; the user's
# own folder works, and a folder of theirs that everyone may write to is refused with the fix.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"
. "$(dirname "$0")/users-lib.sh"

V=gmpp-v-$$ A=gmpp-a-$$
make_user "$V"
make_user "$A"
user_import_image "$V"
VH=$(user_home "$V")
AH=$(user_home "$A")
SCRATCH="$TEST_DIR/scratch"
mkdir -m 1777 "$SCRATCH"

v() { as_user "$V" "$@"; }
v git init -q repo
v sh -c 'printf "image: %s\npersist:\n  checkpoints: %s/{user}/{model}\n" "$1" "$2" >repo/.modelenv.yaml &&
    git -C repo add -A && git -C repo commit -q -m env' sh "$TEST_IMAGE" "$SCRATCH"
v git -C repo config model.installHooks never
run_expect 0 v git -C repo model start net
WT="$VH/worktrees/feature/model-net"
containers() { v podman ps -aq | wc -l; }

# --- the other user made /scratch/<V> first: refused, nothing made in their folder --------------------------
as_user "$A" mkdir -m 777 "$SCRATCH/$V"
run_expect 1 v git -C "$WT" model env up
assert_contains "$ERR" "the persist folder $SCRATCH/$V/net is in a place another user controls: $SCRATCH/$V belongs to $A"
assert_contains "$ERR" "swap the checkpoint a resume loads"
assert_eq "$(ls -A "$SCRATCH/$V")" "" "nothing made in the other user's folder"
assert_eq "$(containers)" "0" "no container"
rm -rf "${SCRATCH:?}/$V"

# --- a link the other user planted at /scratch/<V>: refused, nothing made where it leads --------------------
as_user "$A" mkdir -m 777 "$AH/trap"
as_user "$A" ln -s "$AH/trap" "$SCRATCH/$V"
run_expect 1 v git -C "$WT" model env up
assert_contains "$ERR" "$SCRATCH/$V is a link made by $A"
assert_eq "$(ls -A "$AH/trap")" "" "nothing made where the link leads"
assert_eq "$(containers)" "0" "no container"
rm -f "$SCRATCH/$V"

# --- the user's own folder: used, and the checkpoint lands there -------------------------------------------
# Made as the user's, writable by them alone even under umask 002.
run_expect 0 v sh -c 'umask 002 && exec git -C "$1" model env up' sh "$WT"
assert_eq "$(stat -c '%U %a' "$SCRATCH/$V" "$SCRATCH/$V/net" | tr '\n' ' ')" "$V 755 $V 755 " "made as the user's"
run_expect 0 v git -C "$WT" model env exec -- sh -c 'echo weights >/persist/checkpoints/ckpt.pt'
assert_eq "$(cat "$SCRATCH/$V/net/ckpt.pt")" "weights" "the checkpoint in the user's folder"
run_expect 0 v git -C "$WT" model env down

# --- the user's own folder, but writable by everyone: refused with the fix, the checkpoint kept -------------
chmod 777 "$SCRATCH/$V"
run_expect 1 v git -C "$WT" model env up
assert_contains "$ERR" "anyone may write to $SCRATCH/$V (mode 777, without the sticky bit)"
assert_contains "$ERR" "chmod go-w <folder>"
assert_eq "$(cat "$SCRATCH/$V/net/ckpt.pt")" "weights" "the checkpoint kept"
assert_eq "$(containers)" "0" "no container"
chmod 755 "$SCRATCH/$V"

# --- a link of the user's own to a folder of theirs: followed ---------------------------------------------
v mkdir "$VH/ckpts"
v mv "$SCRATCH/$V/net" "$VH/ckpts/net"
v ln -s "$VH/ckpts/net" "$SCRATCH/$V/net"
run_expect 0 v git -C "$WT" model env up
run_expect 0 v git -C "$WT" model env exec -- cat /persist/checkpoints/ckpt.pt
assert_eq "$OUT" "weights" "the user's own link is followed"
run_expect 0 v git -C "$WT" model env down
assert_eq "$(containers)" "0" "no container left"

# --- a sweep's runs write below the same folder, its placeholders filled in as env up fills them ----------
run_expect 0 v git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid s=1 -- sh -c 'echo "run {s}" >"$GIT_MODEL_CHECKPOINTS/done"'
for _ in $(seq 300); do [ -f "$VH/ckpts/net/sweep-1/run-1/done" ] && break; sleep 0.1; done
assert_eq "$(cat "$VH/ckpts/net/sweep-1/run-1/done" 2>/dev/null)" "run 1" "the run's checkpoint below the model's own folder"
assert_eq "$(find "$SCRATCH" -name '{*' | wc -l)" "0" "no folder named after a placeholder"

# --- default ACLs: handed down by a parent, they are dropped from the folders env up makes; on the
# persist folder itself (one that lets the other user write what is made in it), refused ------------------
v git -C "$WT" model env down >/dev/null 2>&1 || true
v rm -rf "$SCRATCH/$V"
setfacl -m "d:u:$A:rwx" "$SCRATCH"
run_expect 0 v git -C "$WT" model env up
run_expect 0 v git -C "$WT" model env exec -- sh -c 'echo mine >/persist/checkpoints/ckpt.pt'
assert_not_contains "$(getfacl -cp "$SCRATCH/$V/net/ckpt.pt" 2>/dev/null)" "user:$A" "the checkpoint names no ACL entry of the other user"
CHECKS=$((CHECKS + 1)); as_user "$A" sh -c 'echo swapped >"$1"' sh "$SCRATCH/$V/net/ckpt.pt" 2>/dev/null && fail "the other user overwrote the checkpoint"
run_expect 0 v git -C "$WT" model env down
setfacl -k "$SCRATCH"
v setfacl -m "d:u:$A:rwx" "$SCRATCH/$V/net"
run_expect 1 v git -C "$WT" model env up
assert_contains "$ERR" "an ACL lets $A write to $SCRATCH/$V/net (what is made in it inherits its default ACL)"
assert_contains "$ERR" "setfacl -k"
assert_eq "$(containers)" "0" "no container"

# --- a sweep's log folder is made the same way: a parent's default ACL is not handed down to the folders
# the sweep makes (its runs would be refused the folder it made, and write logs the other user may change) --
v setfacl -k "$SCRATCH/$V/net"
setfacl -m "d:u:$A:rwx" "$SCRATCH"
v sh -c 'cd "$1" && printf "  logs: %s/logs-{user}/{model}\n" "$2" >>.modelenv.yaml && git commit -q -am "logs on scratch"' sh "$WT" "$SCRATCH"
run_expect 0 v git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid s=2 -- sh -c 'echo "run {s}" >"$GIT_MODEL_CHECKPOINTS/done"'
for _ in $(seq 300); do v git -C "$WT" model sweep status 2 2>/dev/null | grep -q '^1 .*done' && break; sleep 0.1; done
run_expect 0 v git -C "$WT" model sweep status 2
assert_contains "$OUT" "$SCRATCH/logs-$V/net/sweep-2/run-1.log"
assert_not_contains "$OUT" "failed"
assert_eq "$(getfacl -cp "$SCRATCH/logs-$V" "$SCRATCH/logs-$V/net" 2>/dev/null | grep -c "user:$A")" "0" \
    "the log folders the sweep made name no ACL entry of the other user"
setfacl -k "$SCRATCH"

# --- (s40d) /scratch itself as the persist folder: the sticky bit stops renames, not new names, so the other
# user could put the checkpoint a resume loads there first: refused, naming the fix ------------------------
v sh -c 'cd "$1" && printf "image: %s\npersist:\n  checkpoints: %s\n" "$2" "$3" >.modelenv.yaml && git commit -q -am "scratch itself"' \
    sh "$WT" "$TEST_IMAGE" "$SCRATCH"
as_user "$A" sh -c 'echo planted >"$1/ckpt.pt"' sh "$SCRATCH"
run_expect 1 v git -C "$WT" model env up
assert_contains "$ERR" "others may create files in $SCRATCH (mode 1777; the sticky bit only stops them renaming yours), so another user could put the checkpoint a resume loads there first; use a folder of your own in it ($SCRATCH/<you>)"
assert_eq "$(containers)" "0" "no container"
rm -f "$SCRATCH/ckpt.pt"

# --- (s40d) the default persist folders (in .git) under umask 002: the user's alone all the same, and a
# shared primary group cannot swap the checkpoint ------------------------------------------------------------
v sh -c 'cd "$1" && printf "image: %s\n" "$2" >.modelenv.yaml && git commit -q -am "default persist"' sh "$WT" "$TEST_IMAGE"
run_expect 0 v sh -c 'umask 002 && exec git -C "$1" model env up' sh "$WT"
P="$VH/repo/.git/git-model/persist"
assert_eq "$(stat -c '%a' "$P/net" "$P/net/checkpoints" "$P/net/logs" | tr '\n' ' ')" "755 755 755 " "the model's folders: the user's alone"
CHECKS=$((CHECKS + 1)); [ $(( 0$(stat -c '%a' "$P") & 01000 )) -ne 0 ] || [ $(( 0$(stat -c '%a' "$P") & 022 )) -eq 0 ] || fail "persist/ is writable by others without the sticky bit"
run_expect 0 v git -C "$WT" model env down
