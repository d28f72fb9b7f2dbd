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
