#!/usr/bin/env bash
# Red team s43b: model.worktreeRoot written "~/worktrees" (as git's own path keys are) made a folder
# named "~" inside the main worktree; it is the home folder, as git reads it. And `start --no-worktree`
# whose switch git completed before it failed (a post-checkout hook) said "nothing was changed"
# while the branch was made and checked out; it says the model was started.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
git -C repo config model.worktreeRoot "~/wts"
run_expect 0 git -C repo model start alpha
assert_dir "$HOME/wts/feature/model-alpha"
assert_no_path "repo/~"
git -C repo config model.worktreeRoot "~no-such-user-gm/wts"
run_expect 1 git -C repo model start beta
assert_contains "$ERR" "model.worktreeRoot is '~no-such-user-gm/wts': ~no-such-user-gm names no home folder known here"
assert_no_branch repo feature/model-beta
git -C repo config --unset model.worktreeRoot

printf '#!/bin/sh\necho "post-checkout hook fails" >&2\nexit 1\n' >repo/.git/hooks/post-checkout
chmod +x repo/.git/hooks/post-checkout
run_expect 1 git -C repo model start --no-worktree gamma
assert_contains "$ERR" "the model was started all the same: its branch feature/model-gamma is checked out here"
assert_not_contains "$ERR" "nothing was changed"
assert_eq "$(git -C repo symbolic-ref HEAD)" "refs/heads/feature/model-gamma" "the branch is checked out"
assert_eq "$(git -C repo config branch.feature/model-gamma.modelBase)" "main" "its base is recorded"
run_expect 0 git -C repo model list
assert_contains "$OUT" "gamma"

# --- (s43b) a switch killed part way (here by a SIGINT to git alone, at its 1000th deletion): the files it
# changed are put back as HEAD has them, the files it wrote go, the branch goes, and the error says so -------
if command -v strace >/dev/null; then
    rm repo/.git/hooks/post-checkout
    git -C repo switch -q main
    git -C repo switch -q -c work
    mkdir repo/big
    for i in $(seq 2000); do echo "$i" >"repo/big/f$i"; done
    git -C repo add big && git -C repo commit -q -m big
    git -C repo switch -q main
    echo "main's own" >repo/only-main.txt && git -C repo add only-main.txt && git -C repo commit -q -m "only on main"
    git -C repo switch -q work
    echo "an untracked file of the user's" >repo/mine.txt
    rc=0
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -qq -f -o /dev/null -e trace=unlink,unlinkat \
        -e inject=unlink,unlinkat:signal=INT:when=1000 git -C repo model start --no-worktree delta --base main \
        >"$TEST_DIR/out" 2>&1 || rc=$?
    assert_eq "$rc" "1" "the interrupted start fails: $(cat "$TEST_DIR/out")"
    assert_contains "$(cat "$TEST_DIR/out")" "put back the files the interrupted switch had changed"
    assert_eq "$(git -C repo symbolic-ref HEAD)" "refs/heads/work" "still on work"
    assert_eq "$(git -C repo status --porcelain)" "?? mine.txt" "work's files all back, the user's file kept, nothing of main's left"
    assert_no_branch repo feature/model-delta
    run_expect 0 git -C repo model start --no-worktree delta --base main
    assert_eq "$(cat repo/only-main.txt)" "main's own" "the next start switches"
fi
