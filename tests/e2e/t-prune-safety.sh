#!/usr/bin/env bash
# prune never deletes a file git does not track without --force (an ignored
# out/ckpt.bin in a merged worktree), archives every ref that holds a commit it
# would leave unreachable (refs/worktree/* of the removed worktree), recognises
# squash and rebase merges (tree and patch-id evidence, shown in --dry-run, with
# the remote's base counting as "pushed"), and leaves alone a model whose start
# has not finished.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
export GIT_AUTHOR_DATE="2025-12-01T00:00:00Z" GIT_COMMITTER_DATE="2025-12-01T00:00:00Z"
make_repo repo
git -C repo config model.installHooks never
printf 'out/\n' >repo/.gitignore
git -C repo add .gitignore
git -C repo commit -q -m "ignore out/"
git init -q --bare repo.git
git -C repo remote add origin "$TEST_DIR/repo.git"
W="$TEST_DIR/worktrees/feature"
NOW="2026-03-01T12:00:00Z"
prune() { GIT_COMMITTER_DATE="$NOW" run_expect "$@"; }
merge_at() {  # MODEL DATE: merge with a merge commit dated DATE
    GIT_COMMITTER_DATE="$2" GIT_AUTHOR_DATE="$2" git -C repo merge -q --no-ff -m "Merge $1" "feature/model-$1"
}
on_main_at() {  # DATE CMD...: runs a git command in the main worktree dated DATE
    local date=$1
    shift
    GIT_COMMITTER_DATE="$date" GIT_AUTHOR_DATE="$date" git -C repo "$@"
}

for m in ckpt wtref squash rebase later gitlab pending; do run_expect 0 git -C repo model start "$m"; done

# ckpt: merged 20 days ago; its worktree holds an ignored checkpoint
commit_at "$W/model-ckpt" "2026-01-15T10:00:00Z" "ckpt work" ckpt.txt
merge_at ckpt "2026-02-09T12:00:00Z"
mkdir -p "$W/model-ckpt/out"
echo "weights" >"$W/model-ckpt/out/ckpt.bin"

# wtref: merged; refs/worktree/keep in its worktree holds an experiment nothing else has
commit_at "$W/model-wtref" "2026-01-15T10:00:00Z" "wtref work" wtref.txt
git -C "$W/model-wtref" switch -q --detach
commit_at "$W/model-wtref" "2026-01-16T10:00:00Z" "side experiment" side.txt
side=$(git -C "$W/model-wtref" rev-parse HEAD)
git -C "$W/model-wtref" update-ref refs/worktree/keep "$side"
git -C "$W/model-wtref" switch -q feature/model-wtref
merge_at wtref "2026-02-09T12:10:00Z"

# squash: two commits squashed into one on main (git merge --squash), 20 days ago
commit_at "$W/model-squash" "2026-01-15T10:00:00Z" "squash one" squash.txt
commit_at "$W/model-squash" "2026-01-15T11:00:00Z" "squash two" squash.txt
on_main_at "2026-02-09T12:20:00Z" merge -q --squash feature/model-squash >/dev/null
on_main_at "2026-02-09T12:20:00Z" commit -q -m "Squashed: squash"

# rebase: its commits re-applied one by one on a main that moved meanwhile (a rebase merge)
commit_at "$W/model-rebase" "2026-01-15T10:00:00Z" "rebase one" rebase1.txt
commit_at "$W/model-rebase" "2026-01-15T11:00:00Z" "rebase two" rebase2.txt
on_main_at "2026-02-09T12:30:00Z" cherry-pick feature/model-rebase~1 feature/model-rebase >/dev/null

# later: squashed, then main changed the same file further (no tree, no patch-id match: a merge changes nothing)
commit_at "$W/model-later" "2026-01-15T10:00:00Z" "later work" later.txt
on_main_at "2026-02-09T12:40:00Z" merge -q --squash feature/model-later >/dev/null
on_main_at "2026-02-09T12:40:00Z" commit -q -m "Squashed: later"
echo "more on top" >>repo/later.txt
git -C repo add later.txt
on_main_at "2026-02-09T12:45:00Z" commit -q -m "later: more"

# gitlab: GitLab's squash: one commit on the merge base with the branch's tree, then a merge commit
commit_at "$W/model-gitlab" "2026-01-15T10:00:00Z" "gitlab one" gitlab.txt
commit_at "$W/model-gitlab" "2026-01-15T11:00:00Z" "gitlab two" gitlab.txt
gl_base=$(git -C repo merge-base main feature/model-gitlab)
gl_tree=$(git -C repo rev-parse 'feature/model-gitlab^{tree}')
gl_squash=$(GIT_COMMITTER_DATE="2026-02-09T12:50:00Z" git -C repo commit-tree "$gl_tree" -p "$gl_base" -m "gitlab (squashed)")
on_main_at "2026-02-09T12:51:00Z" merge -q --no-ff -m "Merge branch 'gitlab'" "$gl_squash"

# pending: merged, but a start of it has not finished (its journal record is there)
commit_at "$W/model-pending" "2026-01-15T10:00:00Z" "pending work" pending.txt
merge_at pending "2026-02-09T13:00:00Z"
mkdir -p repo/.git/git-model/pending
printf '{"model":"pending","branch":"feature/model-pending","base":"main","base_commit":"%s","worktree":null,"pid":1,"start_ticks":1}\n' \
    "$(git -C repo rev-parse main)" >repo/.git/git-model/pending/pending

git -C repo push -q origin main   # main (with the squashes) is on the remote; the model branches are not

# --- the evidence, in --dry-run ---------------------------------------------------------------------
before=$(repo_state repo)
prune 0 git -C repo model prune --dry-run
assert_eq "$(repo_state repo)" "$before" "--dry-run changes nothing"
assert_contains "$OUT" "keep  ckpt (feature/model-ckpt): its worktree holds files git does not track: out/ (ignored file)"
assert_contains "$OUT" "would prune wtref (feature/model-wtref):"
assert_contains "$OUT" "  - tag ${side:0:10} as archive/model/wtref@worktree-keep (only refs/worktree/keep of its worktree holds it)"
assert_contains "$OUT" "would prune squash (feature/model-squash):"
assert_contains "$OUT" "  merged: squash: $(git -C repo rev-parse --short=10 ':/Squashed: squash') has the patch-id of the branch's whole diff"
assert_contains "$OUT" "would prune rebase (feature/model-rebase):"
assert_contains "$OUT" "  merged: rebase: each of its 2 commits has the patch-id of a commit in the base"
assert_contains "$OUT" "would prune later (feature/model-later):"
assert_contains "$OUT" "  merged: squash: $(git -C repo rev-parse --short=10 ':/Squashed: later') has the patch-id of the branch's whole diff"
assert_contains "$OUT" "would prune gitlab (feature/model-gitlab):"
assert_contains "$OUT" "  merged: squash: ${gl_squash:0:10} has the same tree as the branch's head"
assert_contains "$OUT" "keep  pending (feature/model-pending): a \`git model start\` of it has not finished"
prune 0 git -C repo model prune --dry-run --json
assert_eq "$(json_get "$OUT" '" ".join(str(m["merged_by"]) for m in d["models"])')" \
    "merge-commit squash squash merge-commit rebase squash merge-commit" "merged_by of ckpt gitlab later pending rebase squash wtref"
assert_eq "$(json_get "$OUT" '{m["name"]: m["merged_at"] for m in d["models"]}["squash"]')" "1770639600" "squash: landed when its squash commit did"
assert_eq "$(json_get "$OUT" '{m["name"]: m["merge_evidence"] is None for m in d["models"]}["ckpt"]')" "True" "no evidence for a merge commit"

# --- worktrees that are no model's, with their folders away (moved by mv, a disk not mounted) -----------
# git's own gc waits 3 months before it forgets them: prune must not forget them at all. The moved
# one holds a detached experiment (only its HEAD has it) and a staged file (only its index has it).
git -C repo worktree add -q --detach "$TEST_DIR/exp"
commit_at "$TEST_DIR/exp" "2026-01-20T10:00:00Z" "detached experiment" exp.txt
experiment=$(git -C "$TEST_DIR/exp" rev-parse HEAD)
echo staged >"$TEST_DIR/exp/staged.txt"
git -C "$TEST_DIR/exp" add staged.txt
mv "$TEST_DIR/exp" "$TEST_DIR/exp-moved"
git -C repo worktree add -q -b scratch "$TEST_DIR/disk/scratch"
mv "$TEST_DIR/disk" "$TEST_DIR/disk-unmounted"

# --- the real thing ----------------------------------------------------------------------------------
reachable=$(reachable_commits repo)
wt_reachable=$(git -C "$W/model-wtref" rev-list --all | sort)
prune 0 git -C repo model prune
assert_contains "$OUT" "Summary: 5 pruned, 2 kept."
assert_still_reachable repo "$reachable"
assert_eq "$(git -C repo rev-parse 'archive/model/wtref@worktree-keep^{commit}')" "$side" "refs/worktree/keep archived"
assert_eq "$(comm -23 <(printf '%s\n' "$wt_reachable") <(reachable_commits repo))" "" "nothing the worktree held is lost"
for m in wtref squash rebase later gitlab; do
    assert_no_branch repo "feature/model-$m"
    assert_no_path "$W/model-$m"
done
assert_contains "$(git -C repo cat-file -p archive/model/squash)" "Merged: squash "
assert_eq "$(cat "$W/model-ckpt/out/ckpt.bin")" "weights" "the ignored checkpoint is still there"
assert_branch_exists repo feature/model-ckpt
assert_branch_exists repo feature/model-pending
worktrees=$(git -C repo worktree list --porcelain)
assert_contains "$worktrees" "worktree $TEST_DIR/exp" "the moved experiment is still a worktree git knows"
assert_contains "$worktrees" "worktree $TEST_DIR/disk/scratch" "the unmounted one too"
git -C repo worktree repair "$TEST_DIR/exp-moved" 2>/dev/null
assert_eq "$(git -C "$TEST_DIR/exp-moved" rev-parse HEAD)" "$experiment" "the moved worktree, repaired, has its experiment"
assert_eq "$(git -C "$TEST_DIR/exp-moved" diff --cached --name-only)" "staged.txt" "and its staged file"
mv "$TEST_DIR/disk-unmounted" "$TEST_DIR/disk"
assert_eq "$(git -C "$TEST_DIR/disk/scratch" status --porcelain -b | head -1)" "## scratch" "the disk back: its worktree works"

# --force deletes what git does not track, and says so first
prune 0 git -C repo model prune --force --dry-run
assert_contains "$OUT" "  --force: the files git does not track in its worktree will be deleted: out/ (ignored file)"
prune 0 git -C repo model prune --force
assert_contains "$OUT" "pruned ckpt (feature/model-ckpt):"
assert_no_path "$W/model-ckpt"
assert_branch_exists repo feature/model-pending

# --- a rebase stopped in a merged model's worktree holds its branch (HEAD detached meanwhile): kept, even with
# --force, as git's own `branch -D` keeps it; the commit made during the rebase is not lost ----------------------
run_expect 0 git -C repo model start midrebase
commit_at "$W/model-midrebase" "2026-01-15T10:00:00Z" "midrebase one" midrebase1.txt
commit_at "$W/model-midrebase" "2026-01-15T11:00:00Z" "midrebase two" midrebase2.txt
merge_at midrebase "2026-02-09T13:00:00Z"
GIT_SEQUENCE_EDITOR="sed -i 1s/^pick/edit/" git -C "$W/model-midrebase" rebase -q -i HEAD~2 >/dev/null 2>&1
commit_at "$W/model-midrebase" "2026-02-20T10:00:00Z" "made during the rebase" during.txt
during=$(git -C "$W/model-midrebase" rev-parse HEAD)
prune 0 git -C repo model prune --force
assert_contains "$OUT" "keep  midrebase (feature/model-midrebase): a rebase is in progress in its worktree, which holds the branch until it ends (git rebase --continue, or --abort)"
assert_branch_exists repo feature/model-midrebase
assert_eq "$(git -C "$W/model-midrebase" rev-parse HEAD)" "$during" "the worktree and its commit are kept"
run_expect 0 git -C "$W/model-midrebase" rebase --continue
assert_contains "$(git -C repo log --format=%s feature/model-midrebase)" "made during the rebase"
