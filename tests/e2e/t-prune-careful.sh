#!/usr/bin/env bash
# prune (and sweep clean) remove a worktree file by file: only what the commit holds,
# unchanged, is deleted. A checkpoint written into an ignored folder after prune looked
# (here by a reference-transaction hook that fires when prune writes the archive tag, the
# last moment before the removal) and a local edit hidden behind assume-unchanged keep the
# worktree, its files and the branch; a later prune removes it. Files marked skip-worktree that are
# on disk keep it before anything is deleted.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
printf 'out/\n' >repo/.gitignore
git -C repo add .gitignore
git -C repo commit -q -m "ignore out/"
W="$TEST_DIR/worktrees/feature"
merged() {  # MODEL FILE...: a model with a commit of its own, merged into main
    local m=$1
    shift
    run_expect 0 git -C repo model start "$m"
    mkdir -p "$W/model-$m/$m-src"
    for f in "$@"; do echo "$m $f" >"$W/model-$m/$f"; done
    echo "code" >"$W/model-$m/$m-src/train.py"
    ln -s "$m-src/train.py" "$W/model-$m/$m-link"
    git -C "$W/model-$m" add -A
    git -C "$W/model-$m" commit -q -m "$m work"
    git -C repo merge -q --no-ff -m "Merge $m" "feature/model-$m"
}

# --- a checkpoint written the moment prune archives the model ---------------------------------
merged race model.txt
cat >repo/.git/hooks/reference-transaction <<HOOK
#!/bin/sh
[ "\$1" = committed ] || exit 0
if grep -q ' refs/tags/archive/model/race\$' && [ ! -e "$TEST_DIR/written" ]; then
    mkdir -p "$W/model-race/out" && echo weights >"$W/model-race/out/ckpt.pt" && : >"$TEST_DIR/written"
fi
exit 0
HOOK
chmod +x repo/.git/hooks/reference-transaction
run_expect 1 git -C repo model prune --retention 0s
[ -e "$TEST_DIR/written" ] || fail "the hook did not fire: the test proves nothing"
assert_eq "$(cat "$W/model-race/out/ckpt.pt")" "weights" "the checkpoint written during prune"
assert_contains "$OUT" "the worktree $W/model-race was kept, and with it the branch"
assert_contains "$OUT" "out/ckpt.pt"
assert_branch_exists repo feature/model-race
assert_eq "$(git -C "$W/model-race" status --porcelain)" "" "its tracked files are back, unchanged"
assert_eq "$(readlink "$W/model-race/race-link")" "race-src/train.py" "its tracked link is back"
assert_contains "$(git_worktrees repo)" "$W/model-race"
# the user moves the checkpoint away; prune then removes the model
rm -f repo/.git/hooks/reference-transaction
mv "$W/model-race/out" "$TEST_DIR/out"
run_expect 0 git -C repo model prune --retention 0s
assert_no_path "$W/model-race"
assert_no_branch repo feature/model-race
assert_not_contains "$(git_worktrees repo)" "$W/model-race"

# --- local edits git status does not show ---------------------------------------------------------
# skip-worktree (a local edit hidden from git, or a sparse checkout's file put back): git cannot
# vouch for such a file, so the plan keeps the worktree before anything is deleted, changed or not
merged hidden settings.yaml other.yaml
git -C "$W/model-hidden" update-index --skip-worktree settings.yaml other.yaml
echo "my local settings" >"$W/model-hidden/settings.yaml"
assert_eq "$(git -C "$W/model-hidden" status --porcelain)" "" "git status sees nothing"
run_expect 0 git -C repo model prune --retention 0s --dry-run
assert_contains "$OUT" "keep  hidden (feature/model-hidden): its worktree holds files whose changes git hides (skip-worktree), so git cannot vouch for them: other.yaml, settings.yaml"
run_expect 0 git -C repo model prune --retention 0s
assert_contains "$OUT" "keep  hidden"
assert_eq "$(cat "$W/model-hidden/settings.yaml")" "my local settings" "the skip-worktree edit"
assert_eq "$(cat "$W/model-hidden/other.yaml")" "hidden other.yaml" "the unchanged skip-worktree file"
assert_eq "$(cat "$W/model-hidden/hidden-src/train.py")" "code" "nothing was deleted"
assert_branch_exists repo feature/model-hidden
# a sparse checkout's files are absent: nothing hidden is there, and the worktree goes
merged sparse keep.txt out.txt
git -C "$W/model-sparse" sparse-checkout set --no-cone /keep.txt /.gitignore
assert_no_path "$W/model-sparse/out.txt"
# assume-unchanged: the removal reads every file itself, finds the edit, and puts the rest back
merged assumed paths.yaml
git -C "$W/model-assumed" update-index --assume-unchanged paths.yaml
echo "my local paths" >"$W/model-assumed/paths.yaml"
run_expect 1 git -C repo model prune --retention 0s
assert_contains "$OUT" "paths.yaml"
assert_no_path "$W/model-sparse"
assert_eq "$(cat "$W/model-assumed/paths.yaml")" "my local paths" "the assume-unchanged edit"
assert_eq "$(cat "$W/model-assumed/assumed-src/train.py")" "code" "the tracked files are back"
assert_branch_exists repo feature/model-assumed
# --force removes them, as asked
run_expect 0 git -C repo model prune --retention 0s --force --dry-run
assert_contains "$OUT" "will be deleted, changed or not"
run_expect 0 git -C repo model prune --retention 0s --force
assert_no_path "$W/model-hidden"
assert_no_path "$W/model-assumed"
assert_no_branch repo feature/model-hidden

# --- a removal killed part way (kill -9, a power loss) is put back by the next prune ----------------------
# What the kill leaves: the removal's mark in git's record of the worktree, some of the commit's files
# deleted (.gitignore among them, so the ignored files it hid would show). The next prune puts them back,
# then judges the worktree as usual. The same deletions without the mark are the user's: kept.
merged killed a.txt b.txt
admin=$(git -C "$W/model-killed" rev-parse --absolute-git-dir)
run_expect 0 git -C repo model prune --retention 0s --dry-run
assert_contains "$OUT" "killed (feature/model-killed)"
: >"$admin/git-model-removing"
rm "$W/model-killed/a.txt" "$W/model-killed/.gitignore"
run_expect 0 git -C repo model prune --retention 0s --dry-run   # --dry-run changes nothing
assert_no_path "$W/model-killed/a.txt"
run_expect 0 git -C repo model prune --retention 0s
assert_contains "$OUT$ERR" "put back 2 files an interrupted removal of $W/model-killed had deleted"
assert_no_path "$W/model-killed"
assert_no_branch repo feature/model-killed
merged userdel a.txt
rm "$W/model-userdel/a.txt"
run_expect 0 git -C repo model prune --retention 0s
assert_contains "$OUT" "keep  userdel (feature/model-userdel): its worktree has uncommitted changes"
assert_no_path "$W/model-userdel/a.txt"
# marked, and the user edited a file since: the deletions are put back, the edit stays, and the
# worktree is kept for it
admin=$(git -C "$W/model-userdel" rev-parse --absolute-git-dir)
: >"$admin/git-model-removing"
echo "edited" >>"$W/model-userdel/userdel-src/train.py"
run_expect 0 git -C repo model prune --retention 0s
assert_contains "$OUT" "put back 1 file an interrupted removal of $W/model-userdel had deleted (the other changes there stay as they are)"
assert_contains "$OUT" "keep  userdel (feature/model-userdel): its worktree has uncommitted changes"
assert_eq "$(cat "$W/model-userdel/a.txt")" "userdel a.txt" "the deleted file is back"
assert_eq "$(tail -1 "$W/model-userdel/userdel-src/train.py")" "edited" "the user's edit stays"
assert_branch_exists repo feature/model-userdel

# --- a notebook's outputs that a clean filter (nbstripout, say) keeps out of git ------------------------
# git status calls the notebook unchanged, and its content "as git would store it" is the commit's;
# but checkout would write it back without its outputs, so prune keeps it (--force deletes it, saying so).
git -C repo config filter.strip.clean "sed /^OUTPUT/d"
git -C repo config filter.strip.smudge cat
echo '*.ipynb filter=strip' >repo/.gitattributes
git -C repo add .gitattributes
git -C repo commit -q -m "strip notebook outputs"
merged nb train.ipynb plain.ipynb
echo "OUTPUT: 8 GPU-hours of results" >>"$W/model-nb/train.ipynb"
git -C "$W/model-nb" add train.ipynb  # as after a commit of it: the index knows the file as it is now
assert_eq "$(git -C "$W/model-nb" status --porcelain)" "" "git status sees nothing"
run_expect 0 git -C repo model prune --retention 0s --dry-run
assert_contains "$OUT" "its worktree holds what a clean filter keeps out of git (checkout would not give it back): train.ipynb"
assert_not_contains "$OUT" "plain.ipynb"
run_expect 0 git -C repo model prune --retention 0s
assert_contains "$(cat "$W/model-nb/train.ipynb")" "OUTPUT: 8 GPU-hours of results" "the outputs are still there"
assert_branch_exists repo feature/model-nb
# the outputs committed elsewhere, the notebook is what checkout writes: pruned
sed -i '/^OUTPUT/d' "$W/model-nb/train.ipynb"
git -C "$W/model-nb" add train.ipynb
run_expect 0 git -C repo model prune --retention 0s
assert_no_path "$W/model-nb"
assert_no_branch repo feature/model-nb
# line endings are no content: with core.autocrlf checkout writes CRLF, the notebook on disk has LF
git -C repo config core.autocrlf true
merged nbcrlf crlf.ipynb
git -C "$W/model-nbcrlf" add crlf.ipynb
run_expect 0 git -C repo model prune --retention 0s
assert_no_path "$W/model-nbcrlf"
git -C repo config --unset core.autocrlf
# --force: deleted, and said first
merged nb2 train.ipynb
echo "OUTPUT: more results" >>"$W/model-nb2/train.ipynb"
git -C "$W/model-nb2" add train.ipynb
run_expect 0 git -C repo model prune --retention 0s --force --dry-run
assert_contains "$OUT" "keeps out of git (checkout would not give it back): train.ipynb will be lost"
run_expect 0 git -C repo model prune --retention 0s --force
assert_no_path "$W/model-nb2"

# --- a submodule checked out in the worktree, with a commit only its repository has ----------------------
# git cannot remove such a worktree (not even forced): kept, saying why, with or without --force.
git init -q sub
git -C sub commit -q --allow-empty -m "sub first"
git -C repo -c protocol.file.allow=always submodule -q add "$TEST_DIR/sub" sub
git -C repo commit -q -m "add sub"
merged withsub model.txt
git -C "$W/model-withsub" -c protocol.file.allow=always submodule -q update --init
git -C "$W/model-withsub/sub" commit -q --allow-empty -m "only here"
only_here=$(git -C "$W/model-withsub/sub" rev-parse HEAD)
for force in "" --force; do
    run_expect 0 git -C repo model prune --retention 0s $force --dry-run
    assert_contains "$OUT" "its worktree holds the submodule sub, whose repository may hold commits found nowhere else"
    run_expect 0 git -C repo model prune --retention 0s $force
    assert_contains "$OUT" "keep  withsub"
done
assert_eq "$(git -C "$W/model-withsub/sub" rev-parse HEAD)" "$only_here" "the submodule's commit is still there"
assert_branch_exists repo feature/model-withsub

# --- (s43a) a stale lock on the branch (a git killed while it updated it): named, not "moved meanwhile" -------
merged locked model.txt
: >repo/.git/refs/heads/feature/model-locked.lock
run_expect 1 git -C repo model prune --retention 0s
assert_contains "$OUT" "cannot delete refs/heads/feature/model-locked: $TEST_DIR/repo/.git/refs/heads/feature/model-locked.lock is there"
assert_not_contains "$OUT" "moved meanwhile"
assert_branch_exists repo feature/model-locked
rm repo/.git/refs/heads/feature/model-locked.lock
run_expect 0 git -C repo model prune --retention 0s
assert_no_branch repo feature/model-locked

echo "t-prune-careful: ok ($CHECKS checks)"
