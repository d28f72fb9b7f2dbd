#!/usr/bin/env bash
# A rollback removes only what is provably untouched. A start killed after its
# checkout (before its journal record was cleared) whose worktree has since got
# an ignored checkpoint, an untracked file, an edit or the user's own lock is
# kept and described, with how to finish or remove it; `list` never removes
# anything; an untouched one, or a checkout cut short, is rolled back file by file.
# The same for a sweep whose creation was killed.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never

# --- killed after the checkout, before the journal was cleared: then the user works there ---------------
# .git/config.lock held by "another program" keeps start waiting at its last step (writing modelBase);
# it is killed there, as a power loss or the OOM killer would.
printf 'outputs/\n' >repo/.gitignore
git -C repo add .gitignore
git -C repo commit -q -m "ignore outputs"
killed_start() {  # MODEL: leaves a start of MODEL killed after `git worktree add` finished
    local wt="$TEST_DIR/worktrees/feature/model-$1" pid
    : >repo/.git/config.lock
    (cd repo && exec git-model start "$1" >/dev/null 2>&1) &  # git-model itself, not git's wrapper
    pid=$!
    for _ in $(seq 100); do
        [ -f "$wt/train.py" ] && ! grep -q "being created" "repo/.git/worktrees/model-$1/locked" 2>/dev/null && break
        sleep 0.05
    done
    sleep 0.2
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f repo/.git/config.lock
    CHECKS=$((CHECKS + 1))
    [ -f "$wt/train.py" ] || fail "the killed start of $1 did not get as far as the checkout"
}
W="$TEST_DIR/worktrees/feature"

# an ignored checkpoint made since: list removes nothing, start keeps it all and says what and how
killed_start ckpt
mkdir -p "$W/model-ckpt/outputs"
echo "weights" >"$W/model-ckpt/outputs/ckpt.pt"
run_expect 0 git -C repo model list
[ -f "$W/model-ckpt/outputs/ckpt.pt" ] || fail "list deleted the ignored outputs/ckpt.pt of an interrupted start"
CHECKS=$((CHECKS + 1))
echo "notes" >"$W/model-ckpt/notes.txt"
run_expect 0 git -C repo model start bystander
[ -f "$W/model-ckpt/outputs/ckpt.pt" ] || fail "start's recovery deleted the ignored outputs/ckpt.pt"
CHECKS=$((CHECKS + 1))
assert_branch_exists repo feature/model-ckpt
assert_contains "$ERR" "did not finish; it left the worktree $W/model-ckpt on feature/model-ckpt, kept because it holds"
assert_contains "$ERR" "outputs/"
assert_contains "$ERR" "notes.txt (untracked file)"
assert_contains "$ERR" "to keep it as model ckpt: git config branch.feature/model-ckpt.modelBase main"
assert_contains "$ERR" "to remove it (and what it holds): git worktree remove --force --force $W/model-ckpt"
# the same model cannot be started over it, and says why
run_expect 1 git -C repo model start ckpt
assert_contains "$ERR" "model 'ckpt' exists already"
# finishing it as told ends the reports
git -C repo config branch.feature/model-ckpt.modelBase main
run_expect 0 git -C repo model start bystander2
assert_not_contains "$ERR" "ckpt" "a finished leftover is no longer reported"
assert_no_path repo/.git/git-model/pending/ckpt
[ -f "$W/model-ckpt/outputs/ckpt.pt" ] || fail "ckpt.pt lost after finishing"
CHECKS=$((CHECKS + 1))

# a worktree the user locked and edited: "locked" is not "unfinished"
killed_start usb
echo "edited" >>"$W/model-usb/train.py"
git -C repo worktree lock --reason "on a USB disk" "$W/model-usb"
run_expect 0 git -C repo model list
run_expect 0 git -C repo model start bystander3
assert_contains "$ERR" "it is locked (on a USB disk)"
assert_dir "$W/model-usb"
assert_contains "$(cat "$W/model-usb/train.py")" "edited" "the user's edit survives"
assert_branch_exists repo feature/model-usb
# removing it as told ends the reports too
git -C repo worktree remove --force --force "$W/model-usb"
git -C repo branch -q -D feature/model-usb
run_expect 0 git -C repo model start bystander4
assert_not_contains "$ERR" "usb" "a removed leftover is no longer reported"
assert_no_path repo/.git/git-model/pending/usb

# untouched, it goes: the same kill with nothing done since is rolled back completely
killed_start clean
run_expect 0 git -C repo model start bystander5
assert_contains "$ERR" "removed the half-made worktree $W/model-clean"
assert_no_branch repo feature/model-clean
assert_no_path "$W/model-clean"
assert_eq "$(git -C repo config --get branch.feature/model-clean.modelBase || true)" "" "no config left"

# a checkout cut short (no index yet, some files missing) is judged file by file
killed_start cut
rm -f "repo/.git/worktrees/model-cut/index" "$W/model-cut/README.md"
echo "mine" >"$W/model-cut/extra.txt"
run_expect 0 git -C repo model start bystander6
assert_contains "$ERR" "extra.txt (untracked or ignored file)"
assert_dir "$W/model-cut"
rm "$W/model-cut/extra.txt"
run_expect 0 git -C repo model start bystander7
assert_contains "$ERR" "removed the half-made worktree $W/model-cut"
assert_no_path "$W/model-cut"
assert_no_branch repo feature/model-cut

# --- the same rule for a sweep whose creation was killed: an untouched run goes, a run with files stays ----
git -C repo config model.gpus 0
export GIT_MODEL_LEASE_DIR="$TEST_DIR/leases"
run_expect 0 git -C repo model start sw
cat >repo/.git/hooks/post-checkout <<'HOOK'
#!/bin/sh
# run 2's checkout kills git-model (the hook's parent is git, git's parent is git-model)
case "$PWD" in *sweep-1-2) kill -9 "$(ps -o ppid= -p $PPID | tr -d ' ')" ;; esac
HOOK
chmod +x repo/.git/hooks/post-checkout
run_expect 137 git -C "$W/model-sw" model sweep start --no-container --grid lr=1,2,3 -- true
sleep 0.5
rm repo/.git/hooks/post-checkout
assert_dir "$W/model-sw.sweep-1-1"
assert_dir "$W/model-sw.sweep-1-2"
mkdir -p "$W/model-sw.sweep-1-1/outputs"
echo "weights" >"$W/model-sw.sweep-1-1/outputs/ckpt.pt"
run_expect 0 git -C repo model sweep status --json
assert_contains "$ERR" "kept the worktree $W/model-sw.sweep-1-1: it holds outputs/ (ignored file)"
assert_eq "$(cat "$W/model-sw.sweep-1-1/outputs/ckpt.pt")" "weights" "the run's ignored checkpoint survives the rollback"
assert_branch_exists repo feature/model-sw.sweep-1-1
assert_no_path "$W/model-sw.sweep-1-2"
assert_no_branch repo feature/model-sw.sweep-1-2
