#!/usr/bin/env bash
# A repository copied with `cp -a` keeps git's records of the original's linked worktrees: their
# absolute paths, whose .git files point back to the original. `git model prune` in the copy
# deleted the original's worktree files (its careful removal never asked whose the folder was;
# git's own `worktree remove` refuses such a folder). Now prune keeps such a model, even with
# --force, naming where the folder's .git points, and the commands that open a model's worktree
# from git's records (tag here) refuse it too. The original is untouched. Likewise a copy holding an
# interrupted removal's marker puts nothing back into the original, and in a copied (or hand-moved)
# worktree folder git-model refuses to act (it acted on the original's model there).
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
run_expect 0 git -C repo model start net
WT="$TEST_DIR/worktrees/feature/model-net"
echo weights >"$WT/work.txt"
git -C "$WT" add work.txt
git -C "$WT" commit -q -m work

mkdir other
cp -a repo other/copy
COPY="$TEST_DIR/other/copy"
git -C "$COPY" merge -q --no-ff -m merge feature/model-net

for force in "" --force; do
    # shellcheck disable=SC2086 # no word, or one
    run_expect 0 git -C "$COPY" model prune --retention 0s --no-remote $force
    assert_contains "$OUT$ERR" "its worktree $WT is not a worktree of this repository: its .git file points to $TEST_DIR/repo/.git/worktrees/"
    assert_branch_exists "$COPY" feature/model-net
done
assert_eq "$(cat "$WT/work.txt")" "weights" "the original's worktree is untouched"
assert_eq "$(git -C "$WT" status --porcelain)" "" "the original's worktree is still a clean worktree of the original"
assert_branch_exists repo feature/model-net

run_expect 1 git -C "$COPY" model tag net
assert_contains "$ERR" "the worktree of model 'net' at $WT is not a worktree of this repository: its .git file points to $TEST_DIR/repo/.git/worktrees/"

# The original prunes its own model as before, once merged there.
git -C repo merge -q --no-ff -m merge feature/model-net
run_expect 0 git -C repo model prune --retention 0s --no-remote
assert_no_branch repo feature/model-net
assert_no_path "$WT"

# --- a copy that holds the marker of an interrupted removal puts nothing back into the original ------------
run_expect 0 git -C repo model start vision
VWT="$TEST_DIR/worktrees/feature/model-vision"
echo model >"$VWT/old.py"
git -C "$VWT" add old.py
git -C "$VWT" commit -q -m "old model"
rm -rf other/copy
cp -a repo other/copy
: >"$COPY/.git/worktrees/model-vision/git-model-removing"
rm "$VWT/old.py"  # the owner's deletion, to commit later
run_expect 0 git -C "$COPY" model prune --no-remote
assert_no_path "$VWT/old.py"
assert_not_contains "$OUT$ERR" "put back"

# --- the whole project copied: in the copied worktree folder, nothing acts on the original's model ---------
mkdir project2
cp -a repo worktrees project2/
run_expect 1 git -C "$TEST_DIR/project2/worktrees/feature/model-vision" model tag --no-push
assert_contains "$ERR" "this worktree folder $TEST_DIR/project2/worktrees/feature/model-vision is not the one git's record of it names ($VWT)"
assert_eq "$(git -C repo tag -l 'model/vision/*')" "" "no snapshot of the original's model from the copy"

# --- a worktree moved by hand: refused until `git worktree repair` -----------------------------------------
mv "$VWT" "$TEST_DIR/moved-vision"
run_expect 1 git -C "$TEST_DIR/moved-vision" model tag --no-push
assert_contains "$ERR" "git worktree repair"
git -C "$TEST_DIR/moved-vision" worktree repair >/dev/null 2>&1
git -C "$TEST_DIR/moved-vision" commit -q -a -m "old.py goes"
run_expect 0 git -C "$TEST_DIR/moved-vision" model tag --no-push
assert_eq "$(git -C repo tag -l 'model/vision/*')" "model/vision/v1" "tagged once repaired"
