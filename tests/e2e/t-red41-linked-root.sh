#!/usr/bin/env bash
# Red team s41d: model.worktreeRoot through a link (a fast disk linked in). git records each
# worktree by its real path; git-model compared it with the path through the link, name for name:
# a start killed after its `git worktree add` was "rolled back" only halfway (its branch deleted,
# git's worktree left registered and locked, and `start` again refused), and `sweep clean` kept
# every run's worktree ("not a registered worktree"). Paths are now compared folder for folder.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
mkdir -p "$TEST_DIR/fast/wts"
ln -s "$TEST_DIR/fast/wts" "$TEST_DIR/wlink"
git -C repo config model.worktreeRoot "$TEST_DIR/wlink"

# A start killed right after its `git worktree add`: the next start rolls all of it back.
real_git=$(command -v git)
mkdir "$TEST_DIR/fake"
cat >"$TEST_DIR/fake/git" <<SH
#!/bin/sh
"$real_git" "\$@"; rc=\$?
case "\$*" in *"worktree add"*) kill -9 \$PPID;; esac
exit \$rc
SH
chmod +x "$TEST_DIR/fake/git"
rc=0
(cd repo && PATH="$TEST_DIR/fake:$PATH" git-model start net >/dev/null 2>&1) || rc=$?
[ "$rc" = 137 ] || fail "the start was killed (exit $rc)"
run_expect 0 git -C repo model start net
assert_contains "$OUT$ERR" "rolled back" "the next start rolls the killed one back, then starts"
assert_eq "$(git_worktrees repo | grep -c model-net)" 1 "one worktree of net, the new one"
wt=$(git_worktrees repo | grep model-net)
[ -d "$wt" ] && [ "$(git -C "$wt" branch --show-current)" = feature/model-net ] || fail "net's worktree is on its branch"

# A sweep's finished runs are cleaned: git knows their worktrees by the real path.
cat >"$wt/train.sh" <<'SH'
printf '{"loss": %s}\n' "$GIT_MODEL_PARAM_LR" >metrics.json
SH
git -C "$wt" add train.sh && git -C "$wt" commit -q -m train
run_expect 0 git -C "$wt" model sweep start --no-container --gpus-per-run 0 --grid lr=0.1,0.2 -- sh train.sh
wait_sweep "$wt" 1 60
run_expect 0 git -C "$wt" model sweep clean 1
assert_not_contains "$OUT$ERR" "not a registered worktree" "clean knows the runs' worktrees"
assert_eq "$(git_worktrees repo | grep -c 'sweep-1-')" 0 "every run's worktree was removed"
