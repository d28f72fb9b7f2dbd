#!/usr/bin/env bash
# Worktrees are checked out by git's own machinery: filter drivers declared in
# .gitattributes run (a test filter and real Git LFS), post-checkout hooks run
# exactly as with `git worktree add`, and a filtered worktree is not reported dirty.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
git init -q repo
# A reversible filter of our own: the repository stores upper case, the worktree sees lower case.
git -C repo config filter.shout.clean 'tr a-z A-Z'
git -C repo config filter.shout.smudge 'tr A-Z a-z'
printf '*.cfg filter=shout\n' >repo/.gitattributes
printf 'learning_rate: small\n' >repo/model.cfg
git -C repo add -A
git -C repo commit -q -m "filtered config"
assert_eq "$(git -C repo cat-file -p HEAD:model.cfg)" "LEARNING_RATE: SMALL" "blob holds the cleaned form"

# A post-checkout hook that records its arguments, as git documents them.
cat >repo/.git/hooks/post-checkout <<'HOOK'
#!/bin/sh
echo "$1 $2 $3 $(pwd)" >>"$HOME/post-checkout.log"
HOOK
chmod +x repo/.git/hooks/post-checkout

run_expect 0 git -C repo model start filtered
wt="$TEST_DIR/worktrees/feature/model-filtered"
assert_eq "$(cat "$wt/model.cfg")" "learning_rate: small" "smudge filter ran on checkout"
assert_eq "$(git -C "$wt" status --porcelain)" "" "git: filtered worktree clean"
run_expect 0 git -C repo model list --json
assert_contains "$OUT" '"dirty": false' "list: filtered worktree clean"
head=$(git -C repo rev-parse HEAD)
assert_eq "$(cat "$HOME/post-checkout.log")" "0000000000000000000000000000000000000000 $head 1 $wt" "post-checkout hook as with git worktree add"

# The same with git worktree add, for the record: identical hook arguments.
git -C repo worktree add -q -b plain "$TEST_DIR/plain" >/dev/null 2>&1
assert_eq "$(sed -n 2p "$HOME/post-checkout.log" | cut -d' ' -f1-3)" "0000000000000000000000000000000000000000 $head 1" "reference hook call"

# A real edit of a filtered file is seen as dirty.
echo "momentum: high" >>"$wt/model.cfg"
run_expect 0 git -C repo model list --json
assert_contains "$OUT" '"dirty": true' "list: edited filtered file is dirty"

# --- Git LFS (Debian's git-lfs): files stored as pointers, checked out whole ---------
if command -v git-lfs >/dev/null; then
    git init -q lfsrepo
    git -C lfsrepo lfs install --local >/dev/null
    git -C lfsrepo lfs track '*.pt' >/dev/null
    head -c 200000 /dev/urandom >lfsrepo/weights.pt
    git -C lfsrepo add -A
    git -C lfsrepo commit -q -m "weights through LFS"
    assert_contains "$(git -C lfsrepo cat-file -p HEAD:weights.pt)" "git-lfs.github.com/spec" "blob is an LFS pointer"
    run_expect 0 git -C lfsrepo model start lfs-model
    lwt="$TEST_DIR/worktrees/feature/model-lfs-model"
    CHECKS=$((CHECKS + 1))
    cmp -s lfsrepo/weights.pt "$lwt/weights.pt" || fail "LFS file not smudged in the model worktree"
    run_expect 0 git -C lfsrepo model list --json
    assert_contains "$OUT" '"dirty": false' "list: LFS worktree clean"
else
    echo "SKIP: git-lfs is not installed; the LFS case is not run"
fi
