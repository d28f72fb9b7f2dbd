#!/usr/bin/env bash
# git model start from every kind of location, with every way of configuring it.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
main_head=$(git -C repo rev-parse main)

# --- from the main worktree ---------------------------------------------------
cd repo
run_expect 0 git model start resnet50
assert_contains "$OUT" "$TEST_DIR/worktrees/feature/model-resnet50" "start prints the worktree"
wt="$TEST_DIR/worktrees/feature/model-resnet50"
assert_branch_exists . feature/model-resnet50
assert_eq "$(git rev-parse feature/model-resnet50)" "$main_head" "new branch starts at main"
assert_contains "$(git_worktrees .)" "$wt" "git knows the worktree"
assert_eq "$(git -C "$wt" symbolic-ref HEAD)" "refs/heads/feature/model-resnet50" "worktree HEAD"
assert_eq "$(cat "$wt/train.py")" "$(printf 'import torch\nlr = 1e-3')" "worktree files checked out"
assert_eq "$(git -C "$wt" status --porcelain)" "" "fresh worktree is clean"
assert_eq "$(git config branch.feature/model-resnet50.modelBase)" "main" "base recorded"

# --- from a subdirectory -------------------------------------------------------
mkdir -p src/deep && cd src/deep
run_expect 0 git model start from-subdir
assert_dir "$TEST_DIR/worktrees/feature/model-from-subdir"
cd "$TEST_DIR"

# --- from a linked worktree: still relative to the main worktree ---------------
cd "$wt"
run_expect 0 git model start from-linked
assert_dir "$TEST_DIR/worktrees/feature/model-from-linked"
assert_no_path "$wt/../worktrees"
cd "$TEST_DIR"

# --- with git -C ---------------------------------------------------------------
run_expect 0 git -C repo model start from-dash-c
assert_dir "$TEST_DIR/worktrees/feature/model-from-dash-c"

# --- with GIT_DIR set, from an unrelated folder ---------------------------------
mkdir -p elsewhere && cd elsewhere
run_expect 0 env GIT_DIR="$TEST_DIR/repo/.git" git model start from-git-dir
assert_dir "$TEST_DIR/worktrees/feature/model-from-git-dir"
assert_branch_exists "$TEST_DIR/repo" feature/model-from-git-dir
# and with a work tree named too (`git --work-tree`, which sets GIT_WORK_TREE)
run_expect 0 git --git-dir="$TEST_DIR/repo/.git" --work-tree="$TEST_DIR/repo" model start from-work-tree
assert_dir "$TEST_DIR/worktrees/feature/model-from-work-tree"
run_expect 0 git --git-dir="$TEST_DIR/repo/.git" --work-tree="$TEST_DIR/repo" model list
assert_contains "$OUT" "from-work-tree"
cd "$TEST_DIR"

# --- --base with a branch, a tag, a commit ------------------------------------
git -C repo branch dev main~1
git -C repo tag v1 main~1
run_expect 0 git -C repo model start on-dev --base dev
assert_eq "$(git -C repo rev-parse feature/model-on-dev)" "$(git -C repo rev-parse dev)" "--base dev"
assert_eq "$(git -C repo config branch.feature/model-on-dev.modelBase)" "dev" "base dev recorded"
run_expect 0 git -C repo model start on-tag --base=v1
assert_eq "$(git -C repo rev-parse feature/model-on-tag)" "$(git -C repo rev-parse 'v1^{commit}')" "--base tag"

# --- config: model.baseBranch, also through git -c ------------------------------
git -C repo config model.baseBranch dev
run_expect 0 git -C repo model start cfg-base
assert_eq "$(git -C repo rev-parse feature/model-cfg-base)" "$(git -C repo rev-parse dev)" "model.baseBranch"
git -C repo config --unset model.baseBranch
run_expect 0 git -C repo -c model.baseBranch=dev model start dash-c-base
assert_eq "$(git -C repo rev-parse feature/model-dash-c-base)" "$(git -C repo rev-parse dev)" "git -c model.baseBranch"

# --- config: model.worktreeRoot (relative, absolute) and model.worktreePath -----
git -C repo config model.worktreeRoot ../exp
run_expect 0 git -C repo model start rel-root
assert_dir "$TEST_DIR/exp/feature/model-rel-root"
git -C repo config model.worktreeRoot "$TEST_DIR/abs root"
git -C repo config model.worktreePath '{repo}/{model}'
run_expect 0 git -C repo model start abs-root
assert_dir "$TEST_DIR/abs root/repo/abs-root"
assert_contains "$OUT" "$TEST_DIR/abs root/repo/abs-root"
git -C repo config model.worktreePath '../../escape/{model}'
run_expect 1 git -C repo model start escapes
assert_contains "$ERR" "outside model.worktreeRoot"
assert_no_branch repo feature/model-escapes
git -C repo config --unset model.worktreeRoot
git -C repo config --unset model.worktreePath

# global config is honoured too (GIT_CONFIG_GLOBAL points at $HOME/.gitconfig)
git config --global model.worktreeRoot ../global-root
run_expect 0 git -C repo model start global-cfg
assert_dir "$TEST_DIR/global-root/feature/model-global-cfg"
git config --global --unset model.worktreeRoot

# --- --no-worktree: branch made and switched to in place ------------------------
make_repo inplace
run_expect 0 git -C inplace model start here --no-worktree
assert_eq "$(git -C inplace symbolic-ref --short HEAD)" "feature/model-here" "switched in place"
assert_no_path "$TEST_DIR/worktrees/feature/model-here"
assert_contains "$OUT" "switched to it here"
# a dirty switch is refused and changes nothing
git -C inplace switch -q main
echo "# local edit" >>inplace/train.py
before=$(repo_state inplace)
run_expect 1 git -C inplace model start dirty --no-worktree
assert_contains "$ERR" "uncommitted changes"
assert_eq "$(repo_state inplace)" "$before" "dirty --no-worktree changed nothing"
# untracked files are carried along, like git switch does
git -C inplace checkout -q -- train.py
echo scratch >inplace/notes.txt
run_expect 0 git -C inplace model start untracked-ok --no-worktree
assert_eq "$(cat inplace/notes.txt)" "scratch" "untracked file kept"

# --- a bare repository with linked worktrees ------------------------------------
git clone -q --bare repo bare.git
run_expect 0 git -C bare.git model start from-bare
assert_dir "$TEST_DIR/worktrees/feature/model-from-bare"
assert_eq "$(git -C "$TEST_DIR/worktrees/feature/model-from-bare" symbolic-ref --short HEAD)" "feature/model-from-bare"
run_expect 1 git -C bare.git model start bare-inplace --no-worktree
assert_contains "$ERR" "bare"

# --- a teammate's model of that name on the remote: refused, nothing made; once merged, fine ----
cd "$TEST_DIR"
make_remote_pair team
git clone -q team.git mate
git -C mate switch -q -c feature/model-shared
echo "mate's work" >mate/mate.txt && git -C mate add mate.txt && git -C mate commit -q -m "mate's work"
git -C mate push -q origin feature/model-shared
git -C team fetch -q origin
run_expect 1 git -C team model start shared
assert_contains "$ERR" "model 'shared' exists on origin already: origin/feature/model-shared (a teammate's, or yours from another clone)"
assert_contains "$ERR" "git worktree add $TEST_DIR/worktrees/feature/model-shared feature/model-shared"
CHECKS=$((CHECKS + 1)); git -C team rev-parse --verify -q refs/heads/feature/model-shared >/dev/null && fail "a branch was made"
assert_no_path "$TEST_DIR/worktrees/feature/model-shared"
# the hint's way works: the teammate's branch, tracked
run_expect 0 git -C team worktree add "$TEST_DIR/worktrees/feature/model-shared" feature/model-shared
assert_eq "$(git -C team rev-parse feature/model-shared@{upstream})" "$(git -C team rev-parse origin/feature/model-shared)" "tracks the teammate's branch"
git -C team worktree remove "$TEST_DIR/worktrees/feature/model-shared" && git -C team branch -q -D feature/model-shared
# merged into main (finished, then pruned): a new model of that name starts from main, no fork
git -C team merge -q --no-ff -m "merge shared" origin/feature/model-shared
run_expect 0 git -C team model start shared
assert_eq "$(git -C team rev-parse feature/model-shared)" "$(git -C team rev-parse main)" "started from main"
# merged on the remote's main, not yet pulled here: no fork either
git -C mate switch -q -c feature/model-later main
echo "later" >mate/later.txt && git -C mate add later.txt && git -C mate commit -q -m "later work"
git -C mate push -q origin feature/model-later
git -C mate switch -q main && git -C mate pull -q origin main && git -C mate merge -q --no-ff -m "merge later" feature/model-later
git -C mate push -q origin main
git -C team fetch -q origin
run_expect 0 git -C team model start later
# squash-merged and deleted there, a stale tracking ref here: refused, and the hint says how to forget it
git -C mate switch -q -c feature/model-squashed main
echo "squashed" >mate/sq.txt && git -C mate add sq.txt && git -C mate commit -q -m "squashed work"
git -C mate push -q origin feature/model-squashed
git -C team fetch -q origin
git -C mate push -q origin --delete feature/model-squashed
run_expect 1 git -C team model start squashed
assert_contains "$ERR" "git fetch --prune origin"
git -C team fetch -q --prune origin
run_expect 0 git -C team model start squashed

# --- the "cd" line is one shell word, pasted as it is (s41b: a folder with a space broke it) ---
mkdir "$TEST_DIR/My Projects"
make_repo "$TEST_DIR/My Projects/repo"
git -C "$TEST_DIR/My Projects/repo" config model.installHooks never
run_expect 0 git -C "$TEST_DIR/My Projects/repo" model start spaced
assert_contains "$OUT" "  cd '$TEST_DIR/My Projects/worktrees/feature/model-spaced'" "the cd line is quoted"
cd_line=$(grep '^  cd ' <<<"$OUT")
[ "$(bash -c "${cd_line} && pwd")" = "$TEST_DIR/My Projects/worktrees/feature/model-spaced" ] || fail "the cd line, pasted, works"
