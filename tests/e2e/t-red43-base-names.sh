#!/usr/bin/env bash
# Red team s43b: the base branch named otherwise than by its bare name. model.baseBranch written as
# origin/main or refs/heads/main (start takes both) protected nothing: pushes are judged by the
# branch they update, main. And a tag named main (a teammate's, fetched with the --tags that hooks
# install sets) became the base of every new model, as git's own lookup puts tags first.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_remote_pair repo
remote="$TEST_DIR/repo.git"
git -C repo config model.bench.beforePush never
run_expect 0 git -C repo model hooks install
echo more >repo/more.txt && git -C repo add more.txt && git -C repo commit -q -m "straight to main"
for base in origin/main refs/heads/main refs/remotes/origin/main; do
    git -C repo config model.baseBranch "$base"
    before=$(remote_refs "$remote")
    run_expect 1 git -C repo push origin main
    assert_contains "$ERR" "refs/heads/main  [rule: protected-branch]" "model.baseBranch $base"
    assert_eq "$(remote_refs "$remote")" "$before" "model.baseBranch $base: the remote is unchanged"
done
git -C repo config model.baseBranch origin/main
run_expect 0 git -C repo model start net
assert_eq "$(git -C repo rev-parse feature/model-net)" "$(git -C repo rev-parse origin/main)" "start takes origin/main"

# --- a tag main shadows the branch main in git's lookup: the branch is the base ----------------------------
git -C repo config --unset model.baseBranch
old=$(git -C repo rev-parse main~1)
git -C repo tag -a -m "a teammate's tag" main "$old"
run_expect 0 git -C repo model start cnn
assert_eq "$(git -C repo rev-parse feature/model-cnn)" "$(git -C repo rev-parse refs/heads/main)" "cnn starts at the branch main"
run_expect 0 git -C repo model list --json
assert_eq "$(json_get "$OUT" "[m['behind'] for m in d['models'] if m['name'] == 'cnn'][0]")" "0" \
    "list counts behind against the branch main"
echo later >repo/later.txt && git -C repo add later.txt && git -C repo commit -q --no-verify -m "main moves on"
run_expect 0 git -C repo model list --json
assert_eq "$(json_get "$OUT" "[m['behind'] for m in d['models'] if m['name'] == 'cnn'][0]")" "1" \
    "and sees main move on"
