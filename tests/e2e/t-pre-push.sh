#!/usr/bin/env bash
# pre-push through real `git push` to a real bare remote: every refspec form that
# reaches a protected branch, naming rules, several refs at once, deletes, force
# pushes, tags, linked worktrees, core.hooksPath, chained hooks, the pinned and
# frozen image, Git LFS, and the GPU gate. Nothing refused reaches the remote;
# nothing allowed is refused.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_remote_pair repo
remote="$TEST_DIR/repo.git"
git -C repo config model.bench.beforePush never
run_expect 0 git -C repo model hooks install
run_expect 0 git -C repo model start alpha
wt="$TEST_DIR/worktrees/feature/model-alpha"
echo "alpha" >"$wt/alpha.py" && git -C "$wt" add alpha.py && git -C "$wt" commit -q -m "alpha"

refused() {  # WHAT GIT-PUSH-ARGS...: the push fails, the remote is unchanged, the hook said why
    local what=$1
    shift
    local before
    before=$(remote_refs "$remote")
    run_expect 1 "$@"
    assert_contains "$ERR" "push refused by the pre-push hook" "$what"
    assert_eq "$(remote_refs "$remote")" "$before" "$what: remote unchanged"
}

allowed() {  # WHAT GIT-PUSH-ARGS...
    local what=$1
    shift
    run_expect 0 "$@"
    assert_not_contains "$ERR" "refused" "$what"
}

# --- a protected main, whatever the refspec ------------------------------------------------
echo "direct" >>repo/README.md && git -C repo commit -q -am "direct to main"
refused "main"                 git -C repo push origin main
assert_contains "$ERR" "refs/heads/main  [rule: protected-branch]"
assert_contains "$ERR" "would update main"
assert_contains "$ERR" "--no-verify"
assert_contains "$ERR" "GitLab"
assert_contains "$ERR" "GitHub"
refused "HEAD:main"            git -C repo push origin HEAD:main
refused "refs/heads/x:refs/heads/main" git -C "$wt" push origin refs/heads/feature/model-alpha:refs/heads/main
refused "+x:main (force)"      git -C repo push origin +HEAD~2:main
assert_contains "$ERR" "force-update main"
refused ":main (delete)"       git -C repo push origin :main
assert_contains "$ERR" "delete main"
refused "--delete main"        git -C repo push origin --delete main
refused "--all"                git -C repo push --all origin
refused "--mirror"             git -C repo push --mirror origin
# a new protected branch, from a glob
git -C repo config --add model.protectedBranch main
git -C repo config --add model.protectedBranch 'release/*'
refused "release/* create"     git -C repo push origin HEAD:refs/heads/release/1.0
assert_contains "$ERR" "create release/1.0"
git -C repo reset -q --hard origin/main

# --- model branches: allowed; creation, update, force update, delete ----------------------
allowed "new model branch"     git -C "$wt" push -u origin feature/model-alpha
assert_eq "$(git -C "$remote" rev-parse feature/model-alpha)" "$(git -C "$wt" rev-parse HEAD)" "model branch arrived"
echo "more" >>"$wt/alpha.py" && git -C "$wt" commit -q -am "more alpha"
allowed "update"               git -C "$wt" push origin feature/model-alpha
git -C "$wt" commit -q --amend -m "more alpha, reworded"
allowed "force update"         git -C "$wt" push --force origin feature/model-alpha
assert_eq "$(git -C "$remote" rev-parse feature/model-alpha)" "$(git -C "$wt" rev-parse HEAD)" "forced update arrived"
git -C repo branch -q feature/model-tmp main
allowed "create tmp"           git -C repo push origin feature/model-tmp
allowed "delete model branch"  git -C repo push origin --delete feature/model-tmp
CHECKS=$((CHECKS + 1)); ! git -C "$remote" rev-parse -q --verify feature/model-tmp >/dev/null || fail "delete did not arrive"

# --- branch naming ---------------------------------------------------------------------------
refused "unnamed branch"       git -C "$wt" push origin HEAD:refs/heads/experiment
assert_contains "$ERR" "rule: branch-name"
assert_contains "$ERR" "model.allowedBranch"
refused "bad model name"       git -C "$wt" push origin HEAD:refs/heads/feature/model-Bad
assert_contains "$ERR" "upper-case"
git -C repo config --add model.allowedBranch 'hotfix/*'
allowed "allowed pattern"      git -C "$wt" push origin HEAD:refs/heads/hotfix/cuda-oom
refused "pattern is one level" git -C "$wt" push origin HEAD:refs/heads/hotfix/a/b

# --- several refs in one push: one bad ref refuses all -----------------------------------
git -C repo branch -q feature/model-ok1 main
git -C repo branch -q feature/model-ok2 main
refused "one bad of three"     git -C repo push origin feature/model-ok1 feature/model-ok2 HEAD:refs/heads/not-allowed
assert_contains "$ERR" "(1 problem)"
refused "two bad of three"     git -C repo push origin feature/model-ok1 feature/model-alpha:main HEAD:refs/heads/not-allowed
assert_contains "$ERR" "(2 problems)"
allowed "two good"             git -C repo push origin feature/model-ok1 feature/model-ok2

# --- tags: allowed by default; patterns when configured --------------------------------------
git -C repo tag anything main
allowed "any tag"              git -C repo push origin anything
git -C repo config --add model.allowedTag 'model/*/v*'
git -C repo tag -a -m "snap" model/alpha/v1 main
git -C repo tag badtag main
allowed "matching tag"         git -C repo push origin model/alpha/v1
refused "tag outside pattern"  git -C repo push origin badtag
assert_contains "$ERR" "rule: tag-name"
allowed "deleting a tag"       git -C repo push origin :refs/tags/anything

# --- an empty push and the raw hook with no input -------------------------------------------------
allowed "nothing to push"      git -C "$wt" push origin feature/model-alpha
run_expect 0 git -C repo model hook pre-push origin "$remote" </dev/null
run_expect 1 git -C repo model hook pre-push origin "$remote" <<<"garbage line"
assert_contains "$ERR" "malformed pre-push input on line 1"
run_expect 2 git -C repo model hook post-frobnicate

# --- from a linked worktree, and with core.hooksPath -----------------------------------------
refused "from linked worktree" git -C "$wt" push origin HEAD:main
git -C repo config core.hooksPath "$TEST_DIR/team-hooks"
run_expect 0 git -C repo model hooks install
refused "core.hooksPath"       git -C "$wt" push origin HEAD:main
CHECKS=$((CHECKS + 1)); [ -x "$TEST_DIR/team-hooks/pre-push" ] || fail "no hook in core.hooksPath"
git -C repo config --unset core.hooksPath

# --- a chained foreign hook: same arguments and input; both must pass --------------------------
rm -f repo/.git/hooks/pre-push
cat >repo/.git/hooks/pre-push <<'HOOK'
#!/bin/sh
echo "args: $*" >"$HOME/chained.log"
cat >>"$HOME/chained.log"
[ ! -e "$HOME/chained.fail" ]
HOOK
chmod +x repo/.git/hooks/pre-push
run_expect 0 git -C repo model hooks install --chain
git -C repo branch -q feature/model-chain main
allowed "chained hook passes"  git -C repo push origin feature/model-chain
assert_contains "$(cat "$HOME/chained.log")" "args: origin $remote"
assert_contains "$(cat "$HOME/chained.log")" "refs/heads/feature/model-chain $(git -C repo rev-parse main) refs/heads/feature/model-chain 0000000000000000000000000000000000000000"
touch "$HOME/chained.fail"
git -C repo branch -q feature/model-chain2 main
before=$(remote_refs "$remote")
run_expect 1 git -C repo push origin feature/model-chain2
assert_eq "$(remote_refs "$remote")" "$before" "chained hook failing: remote unchanged"
rm -f "$HOME/chained.fail" "$HOME/chained.log"
refused "ours refuses first"   git -C repo push origin feature/model-alpha:main
assert_no_path "$HOME/chained.log"   # ours refused: the chained hook never ran

# --- .modelenv.yaml: must load and pin; a changed image needs Image-Change ---------------------
printf 'image: registry.example.com/team/pytorch:2.4.0-cuda12.4\ngpus: 1\n' >repo/.modelenv.yaml
git -C repo add .modelenv.yaml && git -C repo commit -q -m "pin the image"
git -C repo push -q --no-verify origin main     # set up the base as an admin would
run_expect 0 git -C repo model start envy
ewt="$TEST_DIR/worktrees/feature/model-envy"
echo "x = 1" >"$ewt/envy.py" && git -C "$ewt" add envy.py && git -C "$ewt" commit -q -m "work"
allowed "unchanged image"      git -C "$ewt" push origin feature/model-envy
printf 'image: registry.example.com/team/pytorch:latest\n' >"$ewt/.modelenv.yaml"
git -C "$ewt" commit -q -am "float the image"
refused "latest tag"           git -C "$ewt" push origin feature/model-envy
assert_contains "$ERR" "rule: pinned-image"
assert_contains "$ERR" ".modelenv.yaml:1:"
assert_contains "$ERR" "latest"
printf 'image: [unclosed\n' >"$ewt/.modelenv.yaml"
git -C "$ewt" commit -q --amend -am "broken yaml"
refused "malformed yaml"       git -C "$ewt" push origin feature/model-envy
assert_contains "$ERR" ".modelenv.yaml:"
printf 'image: registry.example.com/team/pytorch:2.5.0-cuda12.6\ngpus: 1\n' >"$ewt/.modelenv.yaml"
git -C "$ewt" commit -q --amend -am "newer pytorch"
refused "image change, no trailer" git -C "$ewt" push origin feature/model-envy
assert_contains "$ERR" "rule: frozen-image"
assert_contains "$ERR" "2.4.0-cuda12.4 to registry.example.com/team/pytorch:2.5.0-cuda12.6"
assert_contains "$ERR" "Image-Change"
git -C "$ewt" commit -q --amend -m "newer pytorch" -m "Image-Change: flash-attention needs torch 2.5"
allowed "image change with trailer" git -C "$ewt" push origin feature/model-envy
# Pushed by URL to a remote that has main (no remote-tracking refs say so): the range reaches back to
# main's first commit, but only the branch's own commits are judged, not main's history (whose
# "pin the image" commit has no trailer; it was refused as a change "from 2.4.0 to 2.4.0").
git init -q --bare "$TEST_DIR/mirror.git"
git -C repo push -q --no-verify "$TEST_DIR/mirror.git" main
allowed "a push by URL judges the branch's own commits" git -C "$ewt" push "$TEST_DIR/mirror.git" feature/model-envy
# the working tree's file does not matter, only the pushed commit
printf 'image: junk:latest\n' >"$ewt/.modelenv.yaml"
echo "y = 2" >>"$ewt/envy.py" && git -C "$ewt" commit -q -m "more work" -- envy.py
allowed "dirty working file ignored" git -C "$ewt" push origin feature/model-envy
git -C "$ewt" checkout -q -- .modelenv.yaml
# an image change buried under later commits is still found
printf 'image: registry.example.com/team/pytorch@sha256:%064d\n' 0 >"$ewt/.modelenv.yaml"
git -C "$ewt" commit -q -am "digest pin, no reason"
echo "z = 3" >>"$ewt/envy.py" && git -C "$ewt" commit -q -am "later work"
refused "buried image change"  git -C "$ewt" push origin feature/model-envy
assert_contains "$ERR" "changes the pinned image"
# (s42f) A YAML typo fixed back to the same image, and the file deleted then restored, are no change;
# the bump after them carries its reason: allowed (both were refused "from 2.4.0 to 2.4.0").
git -C repo checkout -q -b feature/model-typo main
pinned=$(cat repo/.modelenv.yaml)
printf 'image: [typo\n' >repo/.modelenv.yaml && git -C repo commit -q -am "typo"
printf '%s\n' "$pinned" >repo/.modelenv.yaml && git -C repo commit -q -am "fix the typo"
git -C repo rm -q .modelenv.yaml && git -C repo commit -q -m "drop it"
git -C repo revert --no-edit HEAD >/dev/null
printf 'image: registry.example.com/team/pytorch:2.6.0-cuda12.6\n' >repo/.modelenv.yaml
git -C repo commit -q -am "bump" -m "Image-Change: a newer CUDA"
allowed "the same image back, then a change with its reason" git -C repo push origin feature/model-typo
# (s42f) Local main is no stand-in for the remote's: a branch from a local main that holds a change
# with no reason, never pushed, is refused for it when pushed where nothing tells what the remote
# has (a URL), as it is to origin.
git -C repo checkout -q main
printf 'image: registry.example.com/team/pytorch:2.4.1-cuda12.4\ngpus: 1\n' >repo/.modelenv.yaml
git -C repo commit -q -am "quiet bump"
git -C repo branch -q feature/model-quiet
git init -q --bare "$TEST_DIR/mirror2.git"
git -C repo push -q --no-verify "$TEST_DIR/mirror2.git" main~1:refs/heads/main
refused "a local main's unpushed change, by URL" git -C repo push "$TEST_DIR/mirror2.git" feature/model-quiet
assert_contains "$ERR" "2.4.0-cuda12.4 to registry.example.com/team/pytorch:2.4.1-cuda12.4"
refused "the same to origin"   git -C repo push origin feature/model-quiet
git -C repo reset -q --hard HEAD~1

# --- Git LFS: its hook chained, objects still reach the remote --------------------------------
cd "$TEST_DIR"
git init -q --bare lfs.git
git init -q lfsrepo
git -C lfsrepo lfs install --local >/dev/null
git -C lfsrepo config model.bench.beforePush never
git -C lfsrepo lfs track '*.pt' >/dev/null
echo init >lfsrepo/README.md
git -C lfsrepo add -A && git -C lfsrepo commit -q -m init
git -C lfsrepo remote add origin "$TEST_DIR/lfs.git"
run_expect 0 git -C lfsrepo model hooks install
assert_contains "$OUT" "Git LFS hook now runs after ours"
git -C lfsrepo checkout -q -b feature/model-weights
head -c 50000 /dev/urandom >lfsrepo/weights.pt
git -C lfsrepo add weights.pt && git -C lfsrepo commit -q -m "weights"
oid=$(git -C lfsrepo lfs ls-files -l | awk '{print $1}')
run_expect 0 git -C lfsrepo push origin feature/model-weights
CHECKS=$((CHECKS + 1)); [ -f "$TEST_DIR/lfs.git/lfs/objects/${oid:0:2}/${oid:2:2}/$oid" ] || fail "LFS object did not reach the remote"
before=$(remote_refs "$TEST_DIR/lfs.git")
run_expect 1 git -C lfsrepo push origin HEAD:main
assert_eq "$(remote_refs "$TEST_DIR/lfs.git")" "$before" "LFS repo: refused push changed nothing"

# --- the GPU gate -------------------------------------------------------------------------------
cd "$TEST_DIR"
git -C repo checkout -q main
git -C repo branch -q feature/model-gpu main
git -C repo config model.bench.beforePush always
if [ -x "$GM_STAGE/bin/git-model-bench" ] && ! [ -e /proc/driver/nvidia/version ]; then
    refused "always, no GPU"       git -C repo push origin feature/model-gpu
    assert_contains "$ERR" "GPU check failed (no usable GPU)"
    assert_contains "$ERR" "model.bench.beforePush"
else
    echo "SKIP: an NVIDIA driver is present or git-model-bench is not installed; the no-GPU gate case is not run"
fi
git -C repo config model.bench.beforePush never
allowed "never"                    git -C repo push origin feature/model-gpu
git -C repo config model.bench.beforePush sometimes
git -C repo branch -q feature/model-gpu2 main
run_expect 1 git -C repo push origin feature/model-gpu2
assert_contains "$ERR" "model.bench.beforePush 'sometimes'"
