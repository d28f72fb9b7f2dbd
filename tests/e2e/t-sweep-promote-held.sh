#!/usr/bin/env bash
# sweep promote where git sees files differently from their bytes, and where the model's branch is held:
# - a carried file under a clean filter (as Git LFS is: the branch holds the filtered blob, the worktree
#   the file) is compared as git stores it: promoting twice says "already promoted", another run is not
#   refused for "uncommitted changes" git does not see, and the rerun a refused snapshot asks for makes it;
# - a rebase or bisect in progress in the model's worktree (HEAD detached, the branch held) is refused,
#   nothing committed anywhere, nothing written, with the command that ends it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --no-remote
# the filter: the branch stores *.pt upper-cased, the worktree has them as written
git -C repo config filter.shout.clean 'tr a-z A-Z'
git -C repo config filter.shout.smudge cat
echo '*.pt filter=shout' >"$WT/.gitattributes"
git -C "$WT" add .gitattributes && git -C "$WT" commit -q -m "weights through a filter"
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry model.pt --grid x=1,2 -- \
    sh -c 'echo "{\"loss\": 0.$GIT_MODEL_PARAM_X}" > metrics.json; echo "weights-$GIT_MODEL_PARAM_X" > model.pt'
wait_sweep "$WT" 1 60
git -C "$WT" config model.tag.push false

# --- a rebase, then a bisect, in progress in the model's worktree: refused, nothing changed -----------------------
echo a >"$WT/a.txt" && git -C "$WT" add a.txt && git -C "$WT" commit -q -m a
echo b >"$WT/b.txt" && git -C "$WT" add b.txt && git -C "$WT" commit -q -m b
GIT_SEQUENCE_EDITOR='sed -i 1s/^pick/edit/' git -C "$WT" rebase -q -i HEAD~2 >/dev/null 2>&1
head_before=$(git -C "$WT" rev-parse HEAD)
branch_before=$(git -C repo rev-parse feature/model-net)
run_expect 1 git -C "$WT" model sweep promote 1 --run 1
assert_contains "$ERR" "a rebase is in progress in the model's worktree $WT, which holds feature/model-net until it ends; nothing was promoted"
assert_contains "$ERR" "rebase --continue"
assert_eq "$(git -C "$WT" rev-parse HEAD)" "$head_before" "nothing committed onto the rebase"
assert_eq "$(git -C repo rev-parse feature/model-net)" "$branch_before" "the branch not moved"
assert_eq "$(git -C "$WT" status --porcelain)" "" "nothing written into the worktree"
git -C "$WT" rebase --abort
git -C "$WT" bisect start HEAD HEAD~2 >/dev/null
run_expect 1 git -C "$WT" model sweep promote 1 --run 1
assert_contains "$ERR" "a bisect is in progress in the model's worktree"
assert_eq "$(git -C repo rev-parse feature/model-net)" "$branch_before" "the branch not moved"
git -C "$WT" bisect reset >/dev/null 2>&1
assert_eq "$(git -C "$WT" status --porcelain)" "" "nothing written into the worktree"

# --- a refused snapshot after the commit; the advised rerun makes it ------------------------------------------------
git -C "$WT" config model.tag.requireClean true
echo "wip" >>"$WT/a.txt"
run_expect 1 git -C "$WT" model sweep promote 1 --run 1
assert_contains "$ERR" "but the snapshot was not made"
assert_eq "$(git -C repo show feature/model-net:model.pt)" "WEIGHTS-1" "committed through the filter"
git -C "$WT" checkout -q a.txt
run_expect 0 git -C "$WT" model sweep promote 1 --run 1
assert_not_contains "$ERR" "a hook may have refused"
run_expect 0 git -C "$WT" model log net
assert_contains "$OUT" "Promote sweep 1 run 1"
# --- promoting it again changes nothing; another run is promoted --------------------------------------------------
branch_before=$(git -C repo rev-parse feature/model-net)
run_expect 0 git -C "$WT" model sweep promote 1 --run 1
assert_contains "$OUT" "Run 1 of sweep 1 is already promoted"
assert_eq "$(git -C repo rev-parse feature/model-net)" "$branch_before" "nothing committed twice"
run_expect 0 git -C "$WT" model sweep promote 1 --run 2
assert_not_contains "$ERR" "uncommitted changes"
assert_eq "$(git -C repo show feature/model-net:model.pt)" "WEIGHTS-2" "run 2's file committed"
assert_eq "$(cat "$WT/model.pt")" "weights-2" "the worktree has the file as written"
