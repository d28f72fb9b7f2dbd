#!/usr/bin/env bash
# A model.* value set in a file that ~/.gitconfig includes only for repositories of one
# remote (`includeIf "hasconfig:remote.*.url:https://gitlab.example.com/**"`, which libgit2
# 1.5 skips) is obeyed where git applies it and nowhere else, names its file when it is
# malformed, and still loses to `git -c`. A file `git -c include.path=` names applies too.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
printf '[model "tag"]\n\trequireClean = true\n' >"$TEST_DIR/company settings.inc"
git config --global 'includeIf.hasconfig:remote.*.url:https://gitlab.example.com/**.path' "$TEST_DIR/company settings.inc"
for repo in company other; do
    mkdir "$TEST_DIR/$repo" && (cd "$TEST_DIR/$repo" && make_repo repo)
done
git -C company/repo remote add origin https://gitlab.example.com/team/company.git
git -C other/repo remote add origin https://github.example.org/me/other.git
for repo in company other; do run_expect 0 git -C "$repo/repo" model start alpha; done
wc="$TEST_DIR/company/worktrees/feature/model-alpha"
wo="$TEST_DIR/other/worktrees/feature/model-alpha"
assert_eq "$(git -C "$wc" config model.tag.requireClean)" "true" "git applies the include to the company's repository"
assert_eq "$(git -C "$wo" config model.tag.requireClean || echo unset)" "unset" "and not to the other one"

printf 'x\n' >>"$wc/train.py"
printf 'x\n' >>"$wo/train.py"
run_expect 1 git -C "$wc" model tag --metric acc=0.5 --no-push
assert_contains "$ERR" "model.tag.requireClean is true" "the included setting is obeyed"
assert_eq "$(git -C company/repo tag -l 'model/*')" "" "nothing tagged"
run_expect 0 git -C "$wo" model tag --metric acc=0.5 --no-push
assert_eq "$(git -C other/repo tag -l 'model/*')" "model/alpha/v1" "the other remote's repository is not bound by it"
run_expect 0 git -C "$wc" -c model.tag.requireClean=false model tag --metric acc=0.5 --no-push
assert_eq "$(git -C company/repo tag -l 'model/*')" "model/alpha/v1" "git -c still wins"

printf '[model "tag"]\n\trequireClean = perhaps\n' >"$TEST_DIR/company settings.inc"
run_expect 1 git -C "$wc" model tag --metric acc=0.5 --no-push
assert_contains "$ERR" "model.tag.requireClean 'perhaps' is not true or false (set in global $TEST_DIR/company settings.inc)" \
    "a bad value names the included file"

# GIT_CONFIG names the one file `git config` alone reads; git itself, and git-model, ignore it
printf '[model "tag"]\n\trequireClean = false\n' >"$TEST_DIR/company settings.inc"
git -C company/repo config model.tag.requireClean true
printf '[model "tag"]\n\trequireClean = false\n' >"$TEST_DIR/elsewhere.config"
run_expect 1 env GIT_CONFIG="$TEST_DIR/elsewhere.config" git -C "$wc" model tag --metric acc=0.6 --no-push
assert_contains "$ERR" "model.tag.requireClean is true" "GIT_CONFIG does not replace the repository's configuration"

# git -c include.path=<file> (libgit2 never reads what the command line includes): its values apply
# at the command line's level, in git's order with plain -c values, and a bad one names its file
git -C company/repo config --unset model.tag.requireClean
printf '[model "tag"]\n\trequireClean = true\n' >"$TEST_DIR/strict.inc"
run_expect 1 git -C "$wo" -c include.path="$TEST_DIR/strict.inc" model tag --metric acc=0.7 --no-push
assert_contains "$ERR" "model.tag.requireClean is true" "a file the command line includes is obeyed"
run_expect 0 git -C "$wo" -c include.path="$TEST_DIR/strict.inc" -c model.tag.requireClean=false model tag --metric acc=0.7 --no-push
assert_eq "$(git -C other/repo tag -l 'model/*' | wc -l)" "2" "a later git -c wins over an earlier include"
printf '[model "tag"]\n\trequireClean = sometimes\n' >"$TEST_DIR/strict.inc"
run_expect 1 git -C "$wo" -c model.tag.requireClean=false -c include.path="$TEST_DIR/strict.inc" model tag --metric acc=0.8 --no-push
assert_contains "$ERR" "model.tag.requireClean 'sometimes' is not true or false (set in $TEST_DIR/strict.inc, included from the command line"
