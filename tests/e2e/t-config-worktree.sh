#!/usr/bin/env bash
# `git config --worktree` (extensions.worktreeConfig): a model.* value in one model's
# config.worktree applies to commands run in that worktree only, above the repository's
# own file and below `git -c`, as git reads it; a bad value there names that file (or the
# file it includes). Without the extension the file is ignored, by git and by git-model.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
run_expect 0 git -C repo model start alpha
run_expect 0 git -C repo model start beta
wa="$TEST_DIR/worktrees/feature/model-alpha"
wb="$TEST_DIR/worktrees/feature/model-beta"
alpha_gitdir=$(git -C "$wa" rev-parse --absolute-git-dir)

git -C repo config extensions.worktreeConfig true
git -C "$wa" config --worktree model.tag.requireClean true
assert_eq "$(git -C "$wa" config model.tag.requireClean)" "true" "git reads alpha's worktree value"
assert_eq "$(git -C "$wb" config model.tag.requireClean || echo unset)" "unset" "and not in beta"
printf 'lr = 3e-4\n' >>"$wa/train.py"
printf 'lr = 1e-3\n' >>"$wb/train.py"

# --- the worktree's value is obeyed there, and only there ------------------------------------
run_expect 1 git -C "$wa" model tag --metric acc=0.5 --no-push
assert_contains "$ERR" "model.tag.requireClean is true" "alpha's own setting refuses its dirty tag"
assert_eq "$(git -C repo tag -l 'model/alpha/*')" "" "nothing tagged for alpha"
run_expect 0 git -C "$wb" model tag --metric acc=0.5 --no-push
assert_contains "$ERR" "has uncommitted changes" "beta, without the setting, tags with a warning"
assert_eq "$(git -C repo tag -l 'model/beta/*')" "model/beta/v1" "beta tagged"

# --- above the repository's file, below git -c -----------------------------------------------
git -C repo config model.tag.requireClean false
run_expect 1 git -C "$wa" model tag --metric acc=0.5 --no-push
assert_contains "$ERR" "model.tag.requireClean is true" "the worktree file wins over .git/config"
run_expect 0 git -C "$wa" -c model.tag.requireClean=false model tag --metric acc=0.5 --no-push
assert_eq "$(git -C repo tag -l 'model/alpha/*')" "model/alpha/v1" "git -c wins over the worktree file"

# --- a bad value names the worktree file, or the file it includes -----------------------------
git -C "$wa" config --worktree model.tag.requireClean maybe
run_expect 1 git -C "$wa" model tag --metric acc=0.5 --no-push
assert_contains "$ERR" "model.tag.requireClean 'maybe' is not true or false" "the bad value is refused"
assert_contains "$ERR" "(set in worktree $alpha_gitdir/config.worktree)" "and named where it was set"
assert_contains "$ERR" "hint: git config --worktree model.tag.requireClean" "the fix writes the worktree's file"
git -C "$wa" config --worktree --unset model.tag.requireClean
printf '[model "tag"]\n\trequireClean = sometimes\n' >"$TEST_DIR/alpha settings.inc"
git -C "$wa" config --worktree include.path "$TEST_DIR/alpha settings.inc"
run_expect 1 git -C "$wa" model tag --metric acc=0.5 --no-push
assert_contains "$ERR" "'sometimes' is not true or false (set in $TEST_DIR/alpha settings.inc, included from worktree $alpha_gitdir/config.worktree)" \
    "an included value names its file and the worktree file"
run_expect 0 git -C "$wb" model tag --metric acc=0.6 --no-push      # beta never saw any of it

# --- without the extension, git ignores config.worktree, and so do we --------------------------
git -C "$wa" config --worktree --unset include.path
git -C "$wa" config --worktree model.tag.requireClean true
git -C repo config --unset extensions.worktreeConfig
assert_eq "$(git -C "$wa" config model.tag.requireClean)" "false" "git: only the repository's value"
run_expect 0 git -C "$wa" model tag --metric acc=0.7 --no-push
assert_eq "$(git -C repo tag -l 'model/alpha/*' | sort)" "$(printf 'model/alpha/v1\nmodel/alpha/v2')" \
    "tagged: the worktree file is not read without the extension"

# --- the extension counts only in the repository's own file, as git reads it -------------------
git config --global extensions.worktreeConfig true                    # not in ~/.gitconfig
run_expect 0 git -C "$wa" model tag --metric acc=0.75 --no-push
assert_eq "$(git -C repo tag -l 'model/alpha/v3')" "model/alpha/v3" "the extension in ~/.gitconfig is ignored"
git config --global --unset extensions.worktreeConfig
printf '[extensions]\n\tworktreeConfig = true\n' >"$TEST_DIR/extension.inc"  # nor through an include
git -C repo config include.path "$TEST_DIR/extension.inc"
assert_eq "$(git -C "$wa" config model.tag.requireClean)" "false" "git: not through an include either"
run_expect 0 git -C "$wa" model tag --metric acc=0.76 --no-push
assert_eq "$(git -C repo tag -l 'model/alpha/v4')" "model/alpha/v4" "the extension through an include is ignored"
git -C repo config --unset include.path

# --- a setting git-model writes goes to the repository's file, never the worktree's -----------
git -C repo config extensions.worktreeConfig true
cp "$alpha_gitdir/config.worktree" "$TEST_DIR/before.worktree"
git -C "$wa" add train.py && git -C "$wa" commit -q -m lr
run_expect 0 git -C "$wa" model tag --metric acc=0.8 --no-push
cmp -s "$alpha_gitdir/config.worktree" "$TEST_DIR/before.worktree" || fail "config.worktree was rewritten"

# --- a repository of format version 1 (a partial clone is one) with the extension opens ----------
git -C repo config core.repositoryformatversion 1
printf 'dirty\n' >>"$wa/train.py"
run_expect 1 git -C "$wa" model tag --metric acc=0.77 --no-push
assert_contains "$ERR" "model.tag.requireClean is true" "version 1: opened, and the worktree's value obeyed"
run_expect 0 git -C repo model list
