#!/usr/bin/env bash
# The team's policy through real `git push` to a real bare remote through installed hooks:
# the base branch is always protected (model.baseBranch), whatever model.protectedBranch says,
# and doctor names what the pre-push protects.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
git init -q --bare remote.git
git init -q -b master alice
printf 'import torch\n' >alice/train.py
git -C alice add -A && git -C alice commit -q -m "initial commit"
git -C alice remote add origin "$TEST_DIR/remote.git"
git -C alice push -q origin master
git config --global user.name "Alice"; git config --global user.email alice@example.com
git -C alice config model.bench.beforePush never

refused() {  # WHAT GIT-PUSH-ARGS...: the push fails, the remote is unchanged, the hook said why
    local what=$1 before
    shift
    before=$(remote_refs remote.git)
    run_expect 1 "$@"
    assert_contains "$ERR" "push refused by the pre-push hook" "$what"
    assert_eq "$(remote_refs remote.git)" "$before" "$what: remote unchanged"
}

# --- point 2: protection follows the base branch ----------------------------------------
run_expect 0 git -C alice model hooks install
git -C alice config model.baseBranch master
echo "direct" >>alice/train.py && git -C alice commit -q -am "direct to master"
refused "base master" git -C alice push origin master
assert_contains "$ERR" "refs/heads/master  [rule: protected-branch]"
assert_contains "$ERR" "the base branch, model.baseBranch"
# another protected branch configured does not replace the base
git -C alice config --add model.protectedBranch 'release/*'
refused "base master beside release/*" git -C alice push origin master
refused "release/*" git -C alice push origin HEAD:refs/heads/release/1.0
assert_contains "$ERR" "(model.protectedBranch)"
run_expect 0 git -C alice model doctor
assert_contains "$OUT" "pre-push protects master, release/*"
git -C alice reset -q --hard origin/master
