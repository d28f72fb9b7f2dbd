#!/usr/bin/env bash
# Red team s44a: what judges a file and then deletes or rewrites it (prune's careful removal of a
# worktree, an interrupted `start --no-worktree`'s undo) lost a user's file five ways:
#  - a file saved right after prune deleted it was overwritten when prune, keeping the worktree,
#    put its deleted files back (`git checkout HEAD -- paths`); the same in the undo's put-back;
#  - a file named with a leading double quote was judged by another file's content (git's
#    --stdin-paths reads such a line as a quoted name);
#  - a second user allowed to rename entries of a group-writable worktree swapped a folder for a
#    link to a decoy while git hashed the files by path, and back: the victim's edit below it was
#    judged the commit's and deleted, a file that user could not delete themselves.
# Now only what is still missing is put back (checkout-index without -f), odd names are hashed on
# their own, and a file is judged only while every folder on its way is unchanged (device, inode,
# change time) from before git read it to after.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/users-lib.sh"

cd "$TEST_DIR"
E2E=$GM_SOURCE_DIR/tests/e2e
merged_model() {  # REPO MODEL: starts MODEL in REPO; W is its worktree
    git -C "$1" model start "$2" >/dev/null
    W=$TEST_DIR/worktrees/feature/model-$2
}
make_repo repo
git -C repo config model.installHooks never

# --- names that start with a double quote, or end in a CR ------------------------------------------
merged_model repo q1
echo "lr=1" >"$W/cfg" && echo "lr=1" >"$W/\"cfg\""
git -C "$W" add -A && git -C "$W" commit -q -m cfg
git -C "$W" update-index --assume-unchanged '"cfg"'
echo "lr=0.0003 MY TUNED VALUE" >"$W/\"cfg\""        # hidden from git status, kept by prune
merged_model repo q2
printf 'a\n' >"$W/\"q" && printf 'b\n' >"$W/x\"" && printf 'c\n' >"$W/$(printf 'cr\r')" && echo "lr=1" >"$W/\"cfg\""
git -C "$W" add -A && git -C "$W" commit -q -m names
git -C repo merge -q --no-ff -m merge feature/model-q1 && git -C repo merge -q --no-ff -m merge feature/model-q2
run_expect 1 git -C repo model prune --retention 0s
assert_eq "$(cat "$TEST_DIR/worktrees/feature/model-q1/\"cfg\"")" "lr=0.0003 MY TUNED VALUE" "the edit behind assume-unchanged"
assert_contains "$OUT$ERR" '"cfg"'
assert_no_path "$TEST_DIR/worktrees/feature/model-q2"   # odd names, all the commit's: removed

# --- a save right after prune deleted the file, while the worktree is kept ------------------------
merged_model repo save
echo "committed notes" >"$W/notes.md" && mkdir "$W/src" && for i in $(seq 300); do echo "$i" >"$W/src/m$i.py"; done
git -C "$W" add notes.md src && git -C "$W" commit -q -m notes
git -C repo merge -q --no-ff -m merge feature/model-save
python3 "$E2E/act-on-inotify.py" "$W" notes.md 0x200 1 "$W/notes.md" "MY SAVE" "$TEST_DIR/ready1" 2>"$TEST_DIR/acted1" &
watcher=$!
for _ in $(seq 100); do [ -e ready1 ] && break; sleep 0.05; done
run_expect 1 git -C repo model prune --retention 0s
kill "$watcher" 2>/dev/null || true; wait "$watcher" 2>/dev/null || true
grep -q acted acted1 || fail "the save was never made: $(cat acted1)"
assert_eq "$(cat "$W/notes.md")" "MY SAVE" "the save made while prune worked"
assert_eq "$(cat "$W/src/m7.py")" "7" "the files prune deleted are back"
assert_eq "$(git -C "$W" status --porcelain)" " M notes.md" "the worktree is as the user left it"
assert_contains "$OUT$ERR" "notes.md"

# --- the undo of an interrupted start --no-worktree: a save while it puts files back ---------------
make_repo undo
git -C undo config model.installHooks never
echo base >undo/a.txt && git -C undo add -A && git -C undo commit -q -m base
git -C undo switch -q -c work && echo work >undo/a.txt && git -C undo commit -q -am work
git -C undo switch -q main && echo main2 >undo/a.txt && echo zz >undo/zz.bin && git -C undo add -A && git -C undo commit -q -m main2
git -C undo switch -q work
echo "zz* filter=boom" >>undo/.git/info/attributes
git -C undo config filter.boom.smudge 'kill -INT $PPID; sleep 1; cat'
git -C undo config filter.boom.clean cat
# the editor saves a.txt the moment the undo's `git reset` takes the index lock (the third time
# index.lock is made: the switch, the undo's `git status`, its reset)
python3 "$E2E/act-on-inotify.py" undo/.git index.lock 0x100 3 "$TEST_DIR/undo/a.txt" "MY SAVE DURING THE UNDO" \
    "$TEST_DIR/ready2" 2>"$TEST_DIR/acted2" &
watcher=$!
for _ in $(seq 100); do [ -e ready2 ] && break; sleep 0.05; done
run_expect 1 git -C undo model start --no-worktree m1 --base main
kill "$watcher" 2>/dev/null || true; wait "$watcher" 2>/dev/null || true
grep -q acted acted2 || fail "the save was never made: $(cat acted2)"
assert_eq "$(cat undo/a.txt)" "MY SAVE DURING THE UNDO" "the save made while the undo worked"

# --- a teammate who may rename entries of a shared worktree swaps a folder while git hashes -------
MAL=gmrr-m-$$
make_user "$MAL"
make_group "gmrr-g-$$" "$MAL"
decoy() {  # NAME CONTENT: a folder of the teammate's holding a FIFO NAME, and the text it will give
    D=$TEST_DIR/decoy-$1
    mkdir "$D" && mkfifo "$D/$1" && printf '%s\n' "$2" >"$D/content" && chown -R "$MAL" "$D"
}
swap_while_hashing() {  # ROOT SUB NAME: starts the teammate's swap, once it watches
    rm -f "$D/ready"
    as_user "$MAL" python3 "$E2E/swap-folder.py" "$1" "$2" "$D" "$3" "$D/content" "$D/ready" 2>"$D/log" &
    for _ in $(seq 200); do [ -e "$D/ready" ] && break; sleep 0.05; done
}
swapped() { grep -q swapped "$D/log"; }

make_repo team                                       # its only model: the swap waits for its hashing
git -C team config model.installHooks never
merged_model team shared
truncate -s 128M "$W/a.bin"                           # hashed first: a checkpoint, a data file
mkdir "$W/data" && echo "committed row" >"$W/data/f"
git -C "$W" add -A && git -C "$W" commit -q -m data
git -C team merge -q --no-ff -m merge feature/model-shared
git -C "$W" update-index --assume-unchanged data/f
echo "MY LOCAL EDIT (only copy)" >"$W/data/f"
chgrp "gmrr-g-$$" "$W" && chmod 2775 "$W"            # the shared top folder; data/ is the victim's, 0755
decoy f "committed row"
swap_while_hashing "$W" data f
git -C team model prune --retention 0s >prune.out 2>&1 || true
wait
assert_eq "$(cat "$W/data/f" 2>/dev/null)" "MY LOCAL EDIT (only copy)" "prune kept the edit behind the swapped folder"
swapped || echo "t-red44-removal-races: the teammate's swap did not happen in time; the prune half not checked: $(cat "$D/log")" >&2

make_repo sw
git -C sw config model.installHooks never
git -C sw switch -q -c work && git -C sw switch -q main
mkdir sw/data && echo "base row" >sw/data/new.txt && truncate -s 128M sw/a.bin && echo zz >sw/zz.bin
git -C sw add -A && git -C sw commit -q -m "main adds files"
git -C sw switch -q work
echo "zz* filter=slow" >>sw/.git/info/attributes
git -C sw config filter.slow.smudge "sleep 2; kill -INT \$PPID; sleep 1; cat"
git -C sw config filter.slow.clean cat
chgrp "gmrr-g-$$" sw && chmod 2775 sw
decoy new.txt "base row"
git -C sw model start --no-worktree m1 --base main >start.out 2>&1 &
starting=$!
for _ in $(seq 100); do [ -e sw/data/new.txt ] && break; sleep 0.05; done
sleep 0.3
echo "MY WORK, SAVED DURING THE SWITCH" >sw/data/new.txt
swap_while_hashing "$TEST_DIR/sw" data new.txt
wait "$starting" || true
wait
assert_eq "$(cat sw/data/new.txt 2>/dev/null)" "MY WORK, SAVED DURING THE SWITCH" "the undo kept the save behind the swapped folder"
swapped || echo "t-red44-removal-races: the teammate's swap did not happen in time; the start half not checked: $(cat "$D/log")" >&2
