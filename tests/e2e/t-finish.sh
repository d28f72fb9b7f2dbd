#!/usr/bin/env bash
# git model finish against real bare remotes: the branch arrives; GitLab's push options
# reach the server (a pre-receive hook records them); review URLs for GitLab, GitHub and
# other hosts from https and ssh remote URLs; the finish record; refusals that change
# nothing; --merge where config allows it. Run from inside the model's linked worktree
# while main is checked out in the main worktree.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
export GIT_AUTHOR_DATE="2026-02-01T00:00:00Z" GIT_COMMITTER_DATE="2026-02-01T00:00:00Z"
make_repo repo
remote="$TEST_DIR/repo.git"
make_options_remote "$remote"
git -C repo remote add origin "$remote"
git -C repo push -q origin main
git -C repo config model.forge gitlab      # a local bare remote standing in for GitLab
run_expect 0 git -C repo model start alpha
wa="$TEST_DIR/worktrees/feature/model-alpha"
commit_at "$wa" "2026-02-02T10:00:00Z" "alpha work"
run_expect 0 git -C "$wa" model tag --metric acc=0.9
options_log="$remote/push-options.log"
rm -f "$options_log"                          # forget the setup's push
note_of() { git -C repo notes --ref=git-model show "$1" 2>/dev/null || true; }
# The options of the first push recorded since the log was emptied (finish's branch push; its
# second push, of the snapshot tags and finish notes, carries none).
first_push_options() { awk '{print} /^--$/ {exit}' "$options_log"; }
unchanged() {  # WHAT BEFORE-REMOTE BEFORE-LOCAL
    assert_eq "$(remote_refs "$remote")" "$2" "$1: remote unchanged"
    assert_eq "$(repo_state repo)" "$3" "$1: repository unchanged"
}

# --- refusals: dirty, nothing of its own, --merge not allowed, bad config, no remote --------
echo "scratch" >"$wa/notes.txt"
before_remote=$(remote_refs "$remote"); before_local=$(repo_state repo)
run_expect 1 git -C "$wa" model finish
assert_contains "$ERR" "uncommitted changes"
unchanged "dirty (untracked)" "$before_remote" "$before_local"
rm "$wa/notes.txt"
echo "edit" >>"$wa/train.py"
run_expect 1 git -C "$wa" model finish
assert_contains "$ERR" "uncommitted changes"
git -C "$wa" checkout -q -- train.py

run_expect 0 git -C repo model start beta
before_remote=$(remote_refs "$remote"); before_local=$(repo_state repo)
run_expect 1 git -C "$TEST_DIR/worktrees/feature/model-beta" model finish
assert_contains "$ERR" "no commits of its own"
unchanged "no commits" "$before_remote" "$before_local"
run_expect 1 git -C "$wa" model finish --merge
assert_contains "$ERR" "model.finish.merge"
unchanged "--merge denied" "$before_remote" "$before_local"
run_expect 1 git -C "$wa" -c model.finish.merge=maybe model finish
assert_contains "$ERR" "model.finish.merge 'maybe'"
run_expect 1 git -C "$wa" -c model.forge=gitlob model finish
assert_contains "$ERR" "model.forge"
run_expect 1 git -C "$wa" -c model.remote=nowhere model finish
assert_contains "$ERR" "no remote 'nowhere'"
unchanged "bad config" "$before_remote" "$before_local"
run_expect 2 git -C repo model finish                 # main is not a model
run_expect 1 git -C repo model finish gamma           # no such model
run_expect 2 git -C repo model finish --bogus
assert_no_path "$options_log"

# --- GitLab: push with merge-request options, from the model's worktree ---------------------
head=$(git -C repo rev-parse feature/model-alpha)
GIT_COMMITTER_DATE="2026-02-10T12:00:00Z" run_expect 0 git -C "$wa" model finish
assert_contains "$OUT" "Pushed feature/model-alpha to origin"
assert_contains "$OUT" "Merge request into main requested"
assert_contains "$OUT" "Finished model 'alpha'"
assert_eq "$(git -C "$remote" rev-parse refs/heads/feature/model-alpha)" "$head" "the branch arrived"
assert_eq "$(first_push_options)" "merge_request.create
merge_request.target=main
merge_request.title=Model alpha v1 (acc=0.9)
--" "push options received by the server"
assert_eq "$(sed -n '/^--$/,$p' "$options_log" | sed 1d)" "--" "the tags and notes went in a second push, without options"
assert_eq "$(git -C "$remote" rev-parse refs/tags/model/alpha/v1)" "$(git -C repo rev-parse refs/tags/model/alpha/v1)" "the snapshot tag arrived"
assert_eq "$(git -C "$remote" rev-parse refs/notes/git-model)" "$(git -C repo rev-parse refs/notes/git-model)" "the finish notes arrived"
assert_contains "$OUT" "Pushed to origin: model/alpha/v1, the finish notes."
note=$(note_of "$head")
assert_contains "$note" "Model-Finish: 1"
assert_contains "$note" "Mode: merge-request"
assert_contains "$note" "Base: main"
assert_contains "$note" "Remote: origin"
assert_contains "$note" "Finished: 1770724800"
assert_eq "$(git -C repo config branch.feature/model-alpha.remote)" "origin" "upstream set"
assert_eq "$(git -C repo branch --show-current)" "main" "main worktree untouched"
run_expect 0 git -C "$wa" model status --json
assert_eq "$(json_get "$OUT" 'd["finished"]["time"], d["finished"]["mode"], d["remote"]["ahead"]')" \
    "1770724800 merge-request 0" "status shows the finish"

# a model based on another branch targets that branch
git -C repo branch -q release main
git -C repo push -q origin release
run_expect 0 git -C repo model start rel --base release
commit_at "$TEST_DIR/worktrees/feature/model-rel" "2026-02-03T10:00:00Z" "rel work"
: >"$options_log"
run_expect 0 git -C repo model finish rel               # named, from the main worktree
assert_contains "$(cat "$options_log")" "merge_request.target=release"
assert_contains "$(cat "$options_log")" "merge_request.title=Model rel
"

# --- review URLs derived from the remote URL (fetch URL public, pushes go to the bare remote) --
git -C repo config --unset model.forge
git -C repo remote set-url --push origin "$remote"
n=0
finish_with_url() {  # URL: a new commit, then finish with origin's URL set to URL
    n=$((n + 1))
    git -C repo remote set-url origin "$1"
    commit_at "$wa" "2026-02-04T10:0$n:00Z" "more work $n"
    : >"$options_log"
    run_expect 0 git -C "$wa" model finish
}
gitlab_mr="https://gitlab.example.com/team/models/-/merge_requests/new?merge_request%5Bsource_branch%5D=feature/model-alpha&merge_request%5Btarget_branch%5D=main"
git -C repo config url."https://gitlab.example.com/".insteadOf "gl:"      # rewritten as git does
for url in "https://gitlab.example.com/team/models.git" "https://deploy:glpat-secret@gitlab.example.com/team/models" \
           "git@gitlab.example.com:team/models.git" "ssh://git@gitlab.example.com:2222/team/models.git" \
           "gl:team/models.git"; do
    finish_with_url "$url"
    assert_contains "$OUT" "origin did not name the merge request; find it (or open one) at: $gitlab_mr" "$url"
    assert_not_contains "$OUT" "glpat-secret" "$url: no credentials printed"
    assert_contains "$(cat "$options_log")" "merge_request.create" "$url: options sent"
    assert_eq "$(git -C "$remote" rev-parse refs/heads/feature/model-alpha)" "$(git -C repo rev-parse feature/model-alpha)" "$url: pushed"
done
for url in "https://github.com/owner/models.git" "git@github.com:owner/models.git" "ssh://git@github.com/owner/models"; do
    finish_with_url "$url"
    assert_contains "$OUT" "Open the pull request: https://github.com/owner/models/compare/main...feature/model-alpha?expand=1" "$url"
    assert_eq "$(first_push_options)" "--" "$url: no push options"
done
finish_with_url "git@bitbucket.org:team/models.git"
assert_contains "$OUT" "https://bitbucket.org/team/models/pull-requests/new?source=feature/model-alpha&dest=main"
finish_with_url "https://git.example.com/team/models.git"
assert_contains "$OUT" "Open the pull request: https://git.example.com/team/models/compare/main...feature/model-alpha"
git -C repo config model.forgeUrl "https://code.example.com/ml/models/"
git -C repo config model.forge github
finish_with_url "git@alias:models.git"
assert_contains "$OUT" "https://code.example.com/ml/models/compare/main...feature/model-alpha?expand=1"
git -C repo config --unset model.forgeUrl
git -C repo config --unset model.forge
finish_with_url "$remote"
assert_contains "$OUT" "no web address"
assert_eq "$(first_push_options)" "--" "a local remote gets no push options"
git -C repo remote set-url origin "$remote"
git -C repo config --unset-all remote.origin.pushurl

# --- the server refuses: not finished, no record ----------------------------------------------
git init -q --bare "$TEST_DIR/strict.git"
printf '#!/bin/sh\necho "protected by policy" >&2\nexit 1\n' >"$TEST_DIR/strict.git/hooks/pre-receive"
chmod +x "$TEST_DIR/strict.git/hooks/pre-receive"
git -C repo remote add strict "$TEST_DIR/strict.git"
run_expect 0 git -C repo model start delta
commit_at "$TEST_DIR/worktrees/feature/model-delta" "2026-02-05T10:00:00Z" "delta work"
delta=$(git -C repo rev-parse feature/model-delta)
run_expect 1 git -C repo -c model.remote=strict model finish delta
assert_contains "$ERR" "the model is not finished"
assert_eq "$(note_of "$delta")" "" "no finish record after a refused push"
git init -q --bare "$TEST_DIR/plain.git"    # does not advertise push options
git -C repo remote add plain "$TEST_DIR/plain.git"
run_expect 1 git -C repo -c model.remote=plain -c model.forge=gitlab model finish delta
assert_contains "$ERR" "not GitLab"
assert_eq "$(note_of "$delta")" "" "no finish record without push options"
run_expect 0 git -C repo -c model.remote=plain model finish delta
assert_contains "$(note_of "$delta")" "Remote: plain"

# --- the pre-push hook runs (git push, not a library push) -----------------------------------
git -C repo config model.bench.beforePush never
run_expect 0 git -C repo model hooks install
commit_at "$wa" "2026-02-06T10:00:00Z" "hooked"
run_expect 0 git -C "$wa" model finish
git -C repo config --add model.protectedBranch 'feature/*'
commit_at "$wa" "2026-02-06T11:00:00Z" "refused by the hook"
run_expect 1 git -C "$wa" model finish
assert_contains "$ERR" "push refused by the pre-push hook"
git -C repo config --unset-all model.protectedBranch
run_expect 0 git -C repo model hooks uninstall

# --- --merge, where config allows it -----------------------------------------------------------
git -C repo config model.finish.merge allow
run_expect 0 git -C repo model start mergy
wm="$TEST_DIR/worktrees/feature/model-mergy"
commit_at "$wm" "2026-02-07T10:00:00Z" "mergy work" mergy.py
mergy=$(git -C repo rev-parse feature/model-mergy)
echo "edit" >>repo/README.md                        # the main worktree is dirty: refused
before_local=$(repo_state repo)
run_expect 1 git -C "$wm" model finish --merge
assert_contains "$ERR" "uncommitted changes"
assert_eq "$(repo_state repo)" "$before_local" "dirty base: nothing changed"
git -C repo checkout -q -- README.md
git -C repo switch -q -c elsewhere                  # main not checked out anywhere: refused
run_expect 1 git -C "$wm" model finish --merge
assert_contains "$ERR" "main is not checked out"
git -C repo switch -q main
git -C repo branch -q -D elsewhere
main_before=$(git -C repo rev-parse main)
GIT_COMMITTER_DATE="2026-02-08T09:00:00Z" run_expect 0 git -C "$wm" model finish --merge
assert_contains "$OUT" "Merged feature/model-mergy into main"
assert_eq "$(git -C repo rev-parse main^1)" "$main_before" "first parent: main"
assert_eq "$(git -C repo rev-parse main^2)" "$mergy" "second parent: the model"
assert_eq "$(git -C repo log -1 --format=%s main)" "Merge model 'mergy' (feature/model-mergy) into main" "merge message"
assert_eq "$(git -C repo log -1 --format=%ct main)" "1770541200" "merge dated by git"
[ -f repo/mergy.py ] || fail "the main worktree has the merged files"
assert_eq "$(git -C repo status --porcelain)" "" "main worktree clean after the merge"
assert_contains "$(note_of "$mergy")" "Mode: merge"
assert_not_contains "$(note_of "$mergy")" "Remote:"
assert_eq "$(git -C "$remote" rev-parse -q --verify refs/heads/feature/model-mergy || true)" "" "--merge pushes nothing"

# a conflicting merge is aborted: main as it was
run_expect 0 git -C repo model start clash
wc="$TEST_DIR/worktrees/feature/model-clash"
commit_at "$wc" "2026-02-09T10:00:00Z" "clash side" README.md
commit_at repo "2026-02-09T11:00:00Z" "main side" README.md
before_local=$(repo_state repo)
run_expect 1 git -C "$wc" model finish --merge
assert_contains "$ERR" "nothing was merged"
assert_eq "$(repo_state repo)" "$before_local" "conflict: main unchanged"
assert_no_path "$TEST_DIR/repo/.git/MERGE_HEAD"
assert_eq "$(note_of "$(git -C repo rev-parse feature/model-clash)")" "" "conflict: no finish record"

# --- a finish --merge killed after git staged the merge (in git's pre-merge-commit hook) ---------
# git writes MERGE_HEAD only when it stops on its own: killed there, main is left with the merge
# staged and nothing saying so. The next finish --merge undoes exactly that and merges; changes
# the user made there since, that were not staged, stay.
# Runs `finish --merge` in worktree $2 killed in git's hook $1 (its whole process group, as
# `kill -9` of the job would): pre-merge-commit runs after git staged the merge and before it
# committed it, post-merge after the commit.
finish_killed_in() {  # HOOK WORKTREE
    printf '#!/bin/sh\nkill -9 0\n' > "repo/.git/hooks/$1"
    chmod +x "repo/.git/hooks/$1"
    if (setsid -w git -C "$2" model finish --merge >/dev/null 2>&1); then fail "the finish killed in $1 should not succeed"; fi
    rm "repo/.git/hooks/$1"
}
# Starts model $1 with a commit of file $2, then finishes it killed after git staged the merge.
killed_merge() {  # MODEL FILE DATE
    run_expect 0 git -C repo model start "$1"
    local wt="$TEST_DIR/worktrees/feature/model-$1"
    commit_at "$wt" "$3" "$1 work" "$2"
    finish_killed_in pre-merge-commit "$wt"
}
main_before=$(git -C repo rev-parse main)
killed_merge killed killed.py "2026-02-10T10:00:00Z"
wk="$TEST_DIR/worktrees/feature/model-killed"
assert_eq "$(git -C repo rev-parse main)" "$main_before" "killed: main not moved"
assert_eq "$(git -C repo status --porcelain -- killed.py)" "A  killed.py" "killed: git left the merge staged"
assert_no_path "$TEST_DIR/repo/.git/MERGE_HEAD"
echo "a note of mine" > repo/mine.txt                # the user's own, untracked: stays
run_expect 0 git -C "$wk" model finish --merge
assert_contains "$OUT" "an earlier \`git model finish --merge killed\` was stopped after git staged the merge"
assert_contains "$OUT" "Merged feature/model-killed into main"
assert_eq "$(git -C repo rev-parse main^1)" "$main_before" "after the kill: first parent main"
assert_eq "$(git -C repo rev-parse main^2)" "$(git -C repo rev-parse feature/model-killed)" "after the kill: a real merge"
assert_eq "$(cat repo/mine.txt)" "a note of mine" "the user's file stays"
assert_eq "$(git -C repo status --porcelain)" "?? mine.txt" "after the kill: clean but for the user's file"
assert_no_path "$TEST_DIR/repo/.git/git-model-finish-merge"

# killed again, then the user staged a file of their own: the merge's file goes back, theirs stays
killed_merge killed2 killed2.py "2026-02-11T10:00:00Z"
wk2="$TEST_DIR/worktrees/feature/model-killed2"
git -C repo add mine.txt
run_expect 1 git -C "$wk2" model finish --merge
assert_contains "$ERR" "the worktree of main ($TEST_DIR/repo) has uncommitted changes"
assert_eq "$(git -C repo status --porcelain)" "A  mine.txt" "the merge undone, the user's staged file kept"
assert_eq "$(cat repo/mine.txt)" "a note of mine" "the user's file unchanged"
git -C repo rm -q --cached mine.txt
run_expect 0 git -C "$wk2" model finish --merge
assert_contains "$OUT" "Merged feature/model-killed2 into main"
assert_no_path "$TEST_DIR/repo/.git/git-model-finish-merge"

# killed again, then the user edited a file the merge brought: named, nothing undone
main_before=$(git -C repo rev-parse main)
killed_merge killed3 killed3.py "2026-02-12T10:00:00Z"
wk3="$TEST_DIR/worktrees/feature/model-killed3"
echo "edited after the kill" >> repo/killed3.py
run_expect 1 git -C "$wk3" model finish --merge
assert_contains "$ERR" "files of that merge were changed since: killed3.py"
assert_contains "$ERR" "restore --source=HEAD --staged --worktree"
assert_eq "$(git -C repo status --porcelain)" "AM killed3.py
?? mine.txt" "nothing undone"
assert_contains "$(cat repo/killed3.py)" "edited after the kill"
assert_eq "$(git -C repo rev-parse main)" "$main_before" "main not moved"
git -C repo restore --source=HEAD --staged --worktree -- killed3.py    # the hint's own command
run_expect 0 git -C "$wk3" model finish --merge
assert_contains "$OUT" "Merged feature/model-killed3 into main"

# killed again, in a merge that deletes a file and turns another into a folder; the user then
# saves the deleted file again: nothing of theirs is overwritten
printf 'old notes\n' > repo/notes.txt
printf 'a file\n' > repo/conf
git -C repo add notes.txt conf
GIT_COMMITTER_DATE="2026-02-13T09:00:00Z" git -C repo commit -q -m "notes and conf"
run_expect 0 git -C repo model start reshape
wr="$TEST_DIR/worktrees/feature/model-reshape"
git -C "$wr" rm -q notes.txt conf
mkdir "$wr/conf" && echo "now a folder" > "$wr/conf/x"
git -C "$wr" add conf
GIT_COMMITTER_DATE="2026-02-13T10:00:00Z" git -C "$wr" commit -q -m "reshape"
main_before=$(git -C repo rev-parse main)
finish_killed_in pre-merge-commit "$wr"
assert_eq "$(git -C repo status --porcelain)" "D  conf
A  conf/x
D  notes.txt
?? mine.txt" "reshape: the merge staged"
echo "MY UNSAVED WORK" > repo/notes.txt                # an editor saves it again
run_expect 1 git -C "$wr" model finish --merge
assert_contains "$ERR" "putting back the files that merge changed would overwrite a file git does not track in $TEST_DIR/repo: notes.txt; nothing was changed"
assert_eq "$(cat repo/notes.txt)" "MY UNSAVED WORK" "the user's file is not overwritten"
assert_eq "$(git -C repo rev-parse main)" "$main_before" "main not moved"
mv repo/notes.txt "$TEST_DIR/notes.saved"
run_expect 0 git -C "$wr" model finish --merge
assert_contains "$OUT" "its 3 staged files went back to main's commit"
assert_eq "$(cat repo/conf/x)" "now a folder" "file to folder merged"
assert_no_path "$TEST_DIR/repo/notes.txt"

# killed after git committed the merge (in post-merge), before the finish was recorded
run_expect 0 git -C repo model start late
wl="$TEST_DIR/worktrees/feature/model-late"
commit_at "$wl" "2026-02-14T10:00:00Z" "late work" late.py
finish_killed_in post-merge "$wl"
merge=$(git -C repo rev-parse main)
assert_eq "$(git -C repo rev-parse main^2)" "$(git -C repo rev-parse feature/model-late)" "the merge was committed"
assert_eq "$(note_of "$(git -C repo rev-parse feature/model-late)")" "" "but not recorded"
[ -f repo/.git/MERGE_HEAD ] || fail "git left MERGE_HEAD (it removes it after post-merge)"
run_expect 1 git -C "$wl" model finish
assert_contains "$ERR" "is merged into main already (${merge:0:10}), by a \`git model finish --merge\` that was stopped"
run_expect 0 git -C "$wl" model finish --merge
assert_contains "$OUT" "recorded now"
assert_eq "$(git -C repo rev-parse main)" "$merge" "no second merge"
assert_contains "$(note_of "$(git -C repo rev-parse feature/model-late)")" "Mode: merge"
assert_no_path "$TEST_DIR/repo/.git/MERGE_HEAD"

# killed while git wrote the merge's files: its index.lock is named, not a merge failing for no reason
run_expect 0 git -C repo model start locked
wlk="$TEST_DIR/worktrees/feature/model-locked"
commit_at "$wlk" "2026-02-15T10:00:00Z" "locked work" locked.py
: > repo/.git/index.lock
run_expect 1 git -C "$wlk" model finish --merge
assert_contains "$ERR" "$TEST_DIR/repo/.git/index.lock exists: a git command is writing the worktree of main"
rm repo/.git/index.lock
run_expect 0 git -C "$wlk" model finish --merge

# --- sparse checkouts: files outside the cone are not "deleted" changes (libgit2 does not know
# skip-worktree; git is asked) ------------------------------------------------------------------
mkdir -p repo/in repo/out
echo i > repo/in/a && echo o > repo/out/b
git -C repo add in out && GIT_COMMITTER_DATE="2026-02-16T09:00:00Z" git -C repo commit -q -m dirs
run_expect 0 git -C repo model start sparse
ws="$TEST_DIR/worktrees/feature/model-sparse"
commit_at "$ws" "2026-02-16T10:00:00Z" "sparse work" in/a
git -C repo sparse-checkout set in
git -C "$ws" sparse-checkout set in
assert_no_path "$TEST_DIR/repo/out/b"
assert_eq "$(git -C repo status --porcelain --untracked-files=no)" "" "git calls main clean"
run_expect 0 git -C repo model list
assert_contains "$(grep '^sparse ' <<<"$OUT")" "clean"
run_expect 0 git -C "$ws" model finish --merge
assert_contains "$OUT" "Merged feature/model-sparse into main"
echo "changed" >> repo/in/a                           # a real change inside the cone still counts
run_expect 0 git -C repo model start sparse2
commit_at "$TEST_DIR/worktrees/feature/model-sparse2" "2026-02-16T11:00:00Z" "sparse2 work" sparse2.py
run_expect 1 git -C "$TEST_DIR/worktrees/feature/model-sparse2" model finish --merge
assert_contains "$ERR" "has uncommitted changes"

# --- what finish --merge must not throw away ---------------------------------------------------
git -C repo checkout -q -- in/a
git -C repo sparse-checkout disable
w2="$TEST_DIR/worktrees/feature/model-sparse2"
# the user's own merge under way in main (its result main's side: nothing staged, only MERGE_HEAD)
git -C repo branch -q topic main~1
git -C repo worktree add -q "$TEST_DIR/topic" topic
commit_at "$TEST_DIR/topic" "2026-02-16T12:00:00Z" "topic work" topic.txt
git -C repo merge -q --no-commit -s ours topic
merge_head=$(cat repo/.git/MERGE_HEAD)
run_expect 1 git -C "$w2" model finish --merge
assert_contains "$ERR" "a merge is under way in the worktree of main ($TEST_DIR/repo): git's MERGE_HEAD is there"
assert_eq "$(cat repo/.git/MERGE_HEAD)" "$merge_head" "the user's merge is still under way"
git -C repo commit -q --no-edit
run_expect 0 git -C "$w2" model finish --merge
assert_contains "$OUT" "Merged feature/model-sparse2 into main"
# finished already: said so, not "commit the model's work first"
run_expect 1 git -C "$w2" model finish --merge
assert_contains "$ERR" "model 'sparse2' was finished at"
assert_contains "$ERR" "already (merge,"
# an ignored file of main's in the merge's way (a checkpoint) is not overwritten
echo "outputs/" >> repo/.git/info/exclude
mkdir -p repo/outputs && echo "MY CHECKPOINT" > repo/outputs/best.ckpt
run_expect 0 git -C repo model start ckpt
wc2="$TEST_DIR/worktrees/feature/model-ckpt"
mkdir -p "$wc2/outputs" && echo "the model's" > "$wc2/outputs/best.ckpt"
git -C "$wc2" add -f outputs/best.ckpt && git -C "$wc2" commit -q -m "ckpt"
main_before=$(git -C repo rev-parse main)
run_expect 1 git -C "$wc2" model finish --merge
assert_contains "$ERR" "merging feature/model-ckpt would overwrite a file git does not track in $TEST_DIR/repo: outputs/best.ckpt; nothing was changed"
assert_eq "$(cat repo/outputs/best.ckpt)" "MY CHECKPOINT" "the ignored checkpoint is not overwritten"
assert_eq "$(git -C repo rev-parse main)" "$main_before" "main not moved"
assert_eq "$(git -C repo status --porcelain --untracked-files=no)" "" "nothing staged"
assert_no_path "$TEST_DIR/repo/.git/MERGE_HEAD"
# one that holds exactly what the merge writes (git's own, left by a merge stopped while git wrote
# its files, or a copy) is named apart, as safe to delete
echo "the model's" > repo/outputs/best.ckpt
run_expect 1 git -C "$wc2" model finish --merge
assert_contains "$ERR" "would overwrite a file git does not track in $TEST_DIR/repo: outputs/best.ckpt (holding exactly what it writes there); nothing was changed"
assert_contains "$ERR" "one holds the very content the merge has for its path (left by a merge stopped while git wrote its files, or a copy): delete it, nothing is lost"
assert_not_contains "$ERR" "they are yours"
echo "MY CHECKPOINT" > repo/outputs/best.ckpt
# a local edit in main's worktree that --assume-unchanged hides from git status, on a file the model
# changes: refused before the merge, the edit kept (git's merge would fail and its abort drop it)
odd=$'odd\nname.yaml'
echo "lr: 0.1" > repo/cfg.yaml && echo "a" > "repo/$odd" && git -C repo add cfg.yaml "$odd" && GIT_COMMITTER_DATE="2026-02-17T09:00:00Z" git -C repo commit -q -m cfg
run_expect 0 git -C repo model start hide
wh="$TEST_DIR/worktrees/feature/model-hide"
echo "lr: 0.2" > "$wh/cfg.yaml" && echo "b" > "$wh/$odd" && git -C "$wh" commit -q -am "the model's lr"
git -C repo update-index --assume-unchanged cfg.yaml "$odd"
echo "mine" > "repo/$odd"
echo "lr: 0.5  # my local tuning" > repo/cfg.yaml
main_before=$(git -C repo rev-parse main)
run_expect 1 git -C "$wh" model finish --merge
assert_contains "$ERR" "merging feature/model-hide would write files marked --assume-unchanged in $TEST_DIR/repo, whose local edits git does not show (and would lose): cfg.yaml, odd\\nname.yaml; nothing was changed"
assert_contains "$ERR" "update-index --no-assume-unchanged"
assert_eq "$(cat repo/cfg.yaml)" "lr: 0.5  # my local tuning" "the hidden local edit is kept"
assert_eq "$(cat "repo/$odd")" "mine" "the hidden edit of a file with a newline in its name is kept"
assert_eq "$(git -C repo rev-parse main)" "$main_before" "main not moved"
git -C repo update-index --no-assume-unchanged cfg.yaml "$odd"
git -C repo checkout -q -- cfg.yaml "$odd"
run_expect 0 git -C "$wh" model finish --merge
assert_eq "$(cat repo/cfg.yaml)" "lr: 0.2" "merged once the edit is dealt with"
# a teammate's merge with finish's message that keeps none of the model is not taken for finish's
run_expect 0 git -C repo model start spoof
commit_at "$TEST_DIR/worktrees/feature/model-spoof" "2026-02-17T10:00:00Z" "spoof work" spoof.py
git -C repo merge -q --no-ff -s ours -m "Merge model 'spoof' (feature/model-spoof) into main" feature/model-spoof
run_expect 1 git -C "$TEST_DIR/worktrees/feature/model-spoof" model finish --merge
assert_contains "$ERR" "feature/model-spoof is merged into main already ($(git -C repo rev-parse --short=10 main))"
assert_not_contains "$ERR" "stopped before it recorded"
assert_eq "$(note_of "$(git -C repo rev-parse feature/model-spoof)")" "" "no finish record"
# a tracked link that the model turns into a folder: git replaces the link, nothing of the user's
# is there (the file behind the link is not in the way)
ln -s configs_v1 repo/configs && mkdir repo/configs_v1 && echo "v1" > repo/configs_v1/x.yaml
git -C repo add configs configs_v1 && GIT_COMMITTER_DATE="2026-02-18T09:00:00Z" git -C repo commit -q -m "configs link"
run_expect 0 git -C repo model start relink
wrl="$TEST_DIR/worktrees/feature/model-relink"
git -C "$wrl" rm -q configs && mkdir "$wrl/configs" && echo "v2" > "$wrl/configs/x.yaml"
git -C "$wrl" add configs && git -C "$wrl" commit -q -m "configs folder"
run_expect 0 git -C "$wrl" model finish --merge
assert_eq "$(cat repo/configs/x.yaml)" "v2" "the link became the folder"
assert_eq "$(cat repo/configs_v1/x.yaml)" "v1" "the file behind the old link is untouched"
# a submodule that the model turns into a file: its checked-out clone (a commit only it has) is in the way
git init -q sublib && git -C sublib commit -q --allow-empty -m "sub first"
git -C repo -c protocol.file.allow=always submodule -q add "$TEST_DIR/sublib" sublib
GIT_COMMITTER_DATE="2026-02-18T10:00:00Z" git -C repo commit -q -m "add sublib"
git -C repo/sublib commit -q --allow-empty -m "only in main's clone"
only_here=$(git -C repo/sublib rev-parse HEAD)
run_expect 0 git -C repo model start unsub
wus="$TEST_DIR/worktrees/feature/model-unsub"
git -C "$wus" rm -q sublib && echo "vendored now" > "$wus/sublib" && git -C "$wus" add sublib .gitmodules
git -C "$wus" commit -q -m "vendor sublib"
run_expect 1 git -C "$wus" model finish --merge
assert_contains "$ERR" "merging feature/model-unsub would overwrite a file git does not track in $TEST_DIR/repo: sublib"
assert_eq "$(git -C repo/sublib rev-parse HEAD)" "$only_here" "the submodule's clone and its commit stay"
# git itself killed after it staged the merge (its hook kills git alone, not finish): the merge it
# staged is undone at once, and finish says so
run_expect 0 git -C repo model start gitkilled
wgk="$TEST_DIR/worktrees/feature/model-gitkilled"
commit_at "$wgk" "2026-02-19T10:00:00Z" "gitkilled work" gitkilled.py
main_before=$(git -C repo rev-parse main)
printf '#!/bin/sh\nkill -9 $PPID\n' > repo/.git/hooks/pre-merge-commit
chmod +x repo/.git/hooks/pre-merge-commit
run_expect 1 git -C "$wgk" model finish --merge
rm repo/.git/hooks/pre-merge-commit
assert_contains "$ERR" "failed (was killed by signal 9 (Killed)) after it staged the merge; that was undone, nothing was merged"
assert_contains "$ERR" "hint: git was killed"
assert_eq "$(git -C repo rev-parse main)" "$main_before" "main not moved"
assert_no_path "$TEST_DIR/repo/gitkilled.py"
assert_no_path "$TEST_DIR/repo/.git/git-model-finish-merge"
run_expect 0 git -C "$wgk" model finish --merge
assert_contains "$OUT" "Merged feature/model-gitkilled into main"
# git killed after it committed (in post-merge): the merge is made, and the next finish records it
run_expect 0 git -C repo model start gitlate
wgl="$TEST_DIR/worktrees/feature/model-gitlate"
commit_at "$wgl" "2026-02-19T11:00:00Z" "gitlate work" gitlate.py
printf '#!/bin/sh\nkill -9 $PPID\n' > repo/.git/hooks/post-merge
chmod +x repo/.git/hooks/post-merge
run_expect 1 git -C "$wgl" model finish --merge
rm repo/.git/hooks/post-merge
assert_contains "$ERR" "after it made the merge $(git -C repo rev-parse --short=10 main), before finish recorded it"
assert_no_path "$TEST_DIR/repo/.git/MERGE_HEAD"
run_expect 0 git -C "$wgl" model finish --merge
assert_contains "$OUT" "recorded now"
# main fast-forwarded to the model by hand: merged already, not "no commits of its own"
run_expect 0 git -C repo model start byhand
wbh="$TEST_DIR/worktrees/feature/model-byhand"
commit_at "$wbh" "2026-02-19T12:00:00Z" "byhand work" byhand.py
git -C repo merge -q --ff-only feature/model-byhand
run_expect 1 git -C "$wbh" model finish --merge
assert_contains "$ERR" "feature/model-byhand is merged into main already: main was moved to the model's head ($(git -C repo rev-parse --short=10 main)), a fast-forward"
# a model with no commit at all still says so
run_expect 0 git -C repo model start idle
run_expect 1 git -C "$TEST_DIR/worktrees/feature/model-idle" model finish --merge
assert_contains "$ERR" "feature/model-idle has no commits of its own (nothing beyond main)"

# --- a teammate finishing the same head from a clone of their own (no notes fetched): the record the team
# has on the remote (its review mode and link, its date) stays as it is --------------------------------------
run_expect 0 git -C repo model start shared
ws="$TEST_DIR/worktrees/feature/model-shared"
commit_at "$ws" "2026-02-20T10:00:00Z" "shared work" shared.py
run_expect 0 git -C "$ws" model finish
shared_head=$(git -C "$ws" rev-parse HEAD)
team_record=$(git -C "$remote" notes --ref=git-model show "$shared_head")
assert_contains "$team_record" "Model: shared"
git clone -q "$remote" mate
git -C mate config model.forge gitlab
git -C mate checkout -q feature/model-shared
GIT_COMMITTER_DATE="2026-02-21T10:00:00Z" run_expect 0 git -C mate model finish
assert_eq "$(git -C "$remote" notes --ref=git-model show "$shared_head")" "$team_record" "the team's record stays"
assert_eq "$(git -C mate notes --ref=git-model show "$shared_head")" "$team_record" "and the teammate's clone has it now"

# --- (s40f) the push lands, but its answer is lost (the server's side dies after updating the branch, as
# behind a proxy that times out): finish says so, not "Nothing to push", and records the review it asked for --
run_expect 0 git -C repo model start lost
wl="$TEST_DIR/worktrees/feature/model-lost"
commit_at "$wl" "2026-02-22T12:00:00Z" "lost work" lost.py
git -C repo config model.forge gitlab
printf '#!/bin/sh\nkill -9 $PPID\n' >"$remote/hooks/post-receive"
chmod +x "$remote/hooks/post-receive"
GIT_COMMITTER_DATE="2026-02-22T13:00:00Z" run_expect 0 git -C "$wl" model finish
rm "$remote/hooks/post-receive"
assert_contains "$OUT" "The push's answer was lost ("
assert_contains "$OUT" "but origin now has feature/model-lost at $(git -C repo rev-parse --short=10 feature/model-lost): this push most likely landed, and with it the merge request's push options"
assert_not_contains "$OUT" "Nothing to push"
assert_eq "$(git -C "$remote" rev-parse feature/model-lost)" "$(git -C repo rev-parse feature/model-lost)" "the branch landed"
assert_contains "$(git -C repo notes --ref=git-model show feature/model-lost)" "Mode: merge-request"
git -C repo config --unset model.forge
# a teammate pushes the very same head while ours is received: the remote answers ours with a refusal, so
# nothing of ours went out and no review was requested (not "answer lost")
run_expect 0 git -C repo model start first
wf="$TEST_DIR/worktrees/feature/model-first"
commit_at "$wf" "2026-02-22T14:00:00Z" "first work" first.py
git -C repo push -q --no-verify origin feature/model-first:refs/seed/first   # the teammate's objects, there already
printf '#!/bin/sh\nwhile read old new ref; do env -u GIT_QUARANTINE_PATH git update-ref "$ref" "$new"; done\n' >"$remote/hooks/pre-receive"
chmod +x "$remote/hooks/pre-receive"
git -C repo config model.forge gitlab
GIT_COMMITTER_DATE="2026-02-22T15:00:00Z" run_expect 0 git -C "$wf" model finish
rm "$remote/hooks/pre-receive"
git -C repo config --unset model.forge
assert_not_contains "$OUT" "answer was lost"
assert_contains "$OUT" "Nothing to push: origin already has feature/model-first"
assert_contains "$(git -C repo notes --ref=git-model show feature/model-first)" "Mode: push"
