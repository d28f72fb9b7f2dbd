#!/usr/bin/env bash
# Hooks run everywhere they should: a relative core.hooksPath (git resolves it in
# each worktree) is pinned at install, so the worktrees `git model start` makes
# run them and a push to main from one is refused; `hooks status` and doctor say
# when they would not; Git LFS set up after our hooks (`git lfs install` refuses
# beside our pre-push) gets its hooks from `git model hooks install`, and its
# objects reach the remote.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_remote_pair repo
remote="$TEST_DIR/repo.git"
git -C repo config model.bench.beforePush never

# --- core.hooksPath=.githooks: pinned at install, every worktree covered ------------------------
git -C repo config core.hooksPath .githooks
run_expect 0 git -C repo model hooks install
assert_contains "$OUT" "pre-push: installed $TEST_DIR/repo/.githooks/pre-push"
assert_contains "$OUT" "core.hooksPath: was '.githooks'"
assert_eq "$(git -C repo config core.hooksPath)" "$TEST_DIR/repo/.githooks" "core.hooksPath pinned"
run_expect 0 git -C repo model start alpha
wt="$TEST_DIR/worktrees/feature/model-alpha"
echo "alpha" >"$wt/alpha.py" && git -C "$wt" add alpha.py && git -C "$wt" commit -q -m "alpha"
before=$(remote_refs "$remote")
run_expect 1 git -C "$wt" push origin HEAD:main
assert_contains "$ERR" "push refused by the pre-push hook"
assert_eq "$(remote_refs "$remote")" "$before" "push to main from a started worktree: remote unchanged"
printf 'x' >"$wt/w.pt" && git -C "$wt" add w.pt
run_expect 1 git -C "$wt" commit -q -m "weights"
assert_contains "$ERR" "commit refused by the pre-commit hook"
git -C "$wt" reset -q && rm "$wt/w.pt"
run_expect 0 git -C repo model hooks status
assert_not_contains "$OUT" "problem:"

# set relative after the install: status and doctor say so, install fixes it
git -C repo config core.hooksPath .githooks
run_expect 0 git -C "$wt" model hooks status
assert_contains "$OUT" "problem: core.hooksPath is relative ('.githooks')"
run_expect 1 git -C repo model doctor --no-bench
assert_contains "$OUT" "FAIL  hooks"
assert_contains "$OUT" "core.hooksPath is relative"
run_expect 0 git -C "$wt" model hooks install
assert_eq "$(git -C repo config core.hooksPath)" "$TEST_DIR/repo/.githooks" "pinned from a linked worktree too"
run_expect 0 git -C "$wt" model hooks status
assert_not_contains "$OUT" "problem:"
git -C repo config --unset core.hooksPath

# --- Git LFS set up after our hooks -----------------------------------------------------------
if ! command -v git-lfs >/dev/null; then
    echo "SKIP: git-lfs is not installed; the LFS-after-our-hooks case is not run"
    exit 0
fi
cd "$TEST_DIR"
git init -q --bare lfs.git
git init -q lfsrepo
echo "# weights" >lfsrepo/README.md
git -C lfsrepo add -A && git -C lfsrepo commit -q -m init
git -C lfsrepo remote add origin "$TEST_DIR/lfs.git"
git -C lfsrepo push -q origin main
git -C lfsrepo config model.bench.beforePush never
run_expect 0 git -C lfsrepo model hooks install
run_expect 2 git -C lfsrepo lfs install --local      # git-lfs refuses beside our pre-push
assert_contains "$ERR" "Hook already exists: pre-push"
git -C lfsrepo lfs track '*.pt' >/dev/null
git -C lfsrepo add .gitattributes && git -C lfsrepo commit -q -m "weights through LFS"
run_expect 0 git -C lfsrepo model hooks status
assert_contains "$OUT" "problem: Git LFS's pre-push, post-checkout, post-commit, post-merge hooks are missing"
run_expect 0 git -C lfsrepo model hooks status --json
assert_eq "$(json_get "$OUT" 'd["git_lfs"]["missing_hooks"]')" "['pre-push', 'post-checkout', 'post-commit', 'post-merge']" \
    "status JSON: LFS hooks missing"
run_expect 1 git -C lfsrepo model doctor --no-bench
assert_contains "$OUT" "FAIL  hooks"
assert_contains "$OUT" "Git LFS's pre-push"
run_expect 0 git -C lfsrepo model hooks install
assert_contains "$OUT" "pre-push: Git LFS's hook now runs after ours"
assert_contains "$OUT" "post-checkout: installed Git LFS's hook"
run_expect 0 git -C lfsrepo model hooks status
assert_not_contains "$OUT" "problem:"
assert_contains "$OUT" "Git LFS's hooks run too"
run_expect 1 git -C lfsrepo model doctor --no-bench   # (user.name is unset here)
assert_contains "$OUT" "ok    hooks"
# git-lfs itself now finds its own hooks where it wants them, except the pre-push ours chains
run_expect 0 git -C lfsrepo model hooks install
assert_contains "$OUT" "pre-push: already installed"
# and the objects reach the remote
git -C lfsrepo lfs install --local --skip-repo >/dev/null
git -C lfsrepo checkout -q -b feature/model-weights
head -c 50000 /dev/urandom >lfsrepo/weights.pt
git -C lfsrepo add weights.pt
run_expect 0 git -C lfsrepo commit -q -m "weights"
oid=$(git -C lfsrepo lfs ls-files -l | awk '{print $1}')
run_expect 0 git -C lfsrepo push origin feature/model-weights
CHECKS=$((CHECKS + 1))
[ -f "$TEST_DIR/lfs.git/lfs/objects/${oid:0:2}/${oid:2:2}/$oid" ] || fail "the LFS object did not reach the remote"
