#!/usr/bin/env bash
# A start that fails or is killed half way leaves nothing half-made, and the
# same command then succeeds: failing and killing post-checkout hooks, a killed
# git-model, a full disk. `list` only reports an interrupted start; the next
# start rolls it back (t-start-kept.sh: what it keeps).
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
hook=repo/.git/hooks/post-checkout
before=$(repo_state repo)

assert_nothing_half_made() {  # MODEL WHAT
    assert_no_branch repo "feature/model-$1"
    assert_not_contains "$(git_worktrees repo)" "model-$1" "$2: worktree registration"
    assert_no_path "$TEST_DIR/worktrees/feature/model-$1"
    assert_no_path "repo/.git/git-model/pending/$1"
    assert_eq "$(repo_state repo)" "$before" "$2: repository state"
}

# --- a post-checkout hook that fails ------------------------------------------------
printf '#!/bin/sh\necho "hook: refusing this checkout" >&2\nexit 7\n' >"$hook"
chmod +x "$hook"
run_expect 1 git -C repo model start hookfail
assert_contains "$ERR" "hook: refusing this checkout" "git's own output reaches the user"
assert_contains "$ERR" "nothing was changed"
assert_nothing_half_made hookfail "failing hook"

# --- a post-checkout hook that kills its parent (git worktree add) -------------------
printf '#!/bin/sh\nkill -9 $PPID\n' >"$hook"
run_expect 1 git -C repo model start killgit
assert_contains "$ERR" "signal 9"
assert_nothing_half_made killgit "hook killing git"

# --- a hook that kills git-model itself (SIGKILL: no chance to clean up) ------------
# The hook walks up: its parent is git, git's parent is git-model.
kill_git_model_at_checkout() {
    printf '#!/bin/sh\nkill -9 "$(ps -o ppid= -p $PPID | tr -d " ")"\n' >"$hook"
    chmod +x "$hook"
}
kill_git_model_at_checkout
run_expect 137 git -C repo model start killme
sleep 0.5   # git itself finishes after its parent died
# a record of the interrupted start stays until the next run rolls it back
assert_dir repo/.git/git-model/pending
rm -f "$hook"
# list only reports it: a read command removes nothing
run_expect 0 git -C repo model list --json
assert_contains "$ERR" "\`git model start killme\` (pid" "list reports the interrupted start"
assert_dir "$TEST_DIR/worktrees/feature/model-killme"
assert_branch_exists repo feature/model-killme
# the next start (of any model) rolls back what is untouched, then the same command succeeds
run_expect 0 git -C repo model start other
assert_contains "$ERR" "removed the half-made worktree $TEST_DIR/worktrees/feature/model-killme"
assert_contains "$ERR" "rolled back the interrupted \`git model start killme\`"
assert_no_branch repo feature/model-killme
assert_not_contains "$(git_worktrees repo)" "model-killme" "killed start: worktree registration"
assert_no_path "$TEST_DIR/worktrees/feature/model-killme"
assert_no_path "repo/.git/git-model/pending/killme"
run_expect 0 git -C repo model start killme
assert_branch_exists repo feature/model-killme
assert_dir "$TEST_DIR/worktrees/feature/model-killme"

# killed again, then re-run directly (start recovers on its own, without list)
kill_git_model_at_checkout
run_expect 137 git -C repo model start again
sleep 0.5
rm -f "$hook"
run_expect 0 git -C repo model start again
assert_contains "$ERR" "rolled back the interrupted"
assert_eq "$(git -C "$TEST_DIR/worktrees/feature/model-again" status --porcelain)" "" "re-created worktree clean"

# killed before git set the branch: `git worktree add` writes an all-zero HEAD first and checks
# out nothing until the branch is set. That state (made here from a killed start, as git leaves it:
# the folder holds only its .git) is git-model's half-made worktree, rolled back, not "detached"
killed_before_branch_set() {  # MODEL: its start killed, its worktree left as git leaves it before the branch is set
    kill_git_model_at_checkout
    run_expect 137 git -C repo model start "$1"
    sleep 0.5
    rm -f "$hook"
    local folder="$TEST_DIR/worktrees/feature/model-$1" admin
    admin=$(sed 's/^gitdir: //' "$folder/.git")
    printf '%040d\n' 0 >"$admin/HEAD"
    find "$folder" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
    rm -f "$admin/index"
}
killed_before_branch_set early
early="$TEST_DIR/worktrees/feature/model-early"
run_expect 0 git -C repo model start early
assert_contains "$ERR" "removed the half-made worktree $early"
assert_contains "$ERR" "rolled back the interrupted"
assert_eq "$(git -C "$early" status --porcelain)" "" "re-created worktree clean"
# the same state with a file someone put there meanwhile is kept
killed_before_branch_set early2
early2="$TEST_DIR/worktrees/feature/model-early2"
echo "mine" >"$early2/notes.txt"
run_expect 1 git -C repo model start early2
assert_eq "$(cat "$early2/notes.txt")" "mine" "a file put there is kept"
rm -rf "$early2" && git -C repo worktree prune && git -C repo branch -q -D feature/model-early2
run_expect 0 git -C repo model start early2
before=$(repo_state repo)

# --- a hang-up under nohup while git checks out: ignored, as nohup asked; the start completes --------
# (the hang-up a shell sends its jobs when the session ends goes to the whole process group; git-model
# is called directly, since git's own dispatcher reports such a hang-up as a failure)
printf '#!/bin/sh\nsleep 1.5\necho done >"$PWD/hook-ran"\n' >"$hook"
chmod +x "$hook"
setsid sh -c 'echo $$ >"$1/pgid"; cd "$1/repo" && exec nohup git-model start nohup1 >"$1/nohup.out" 2>&1' sh "$TEST_DIR" &
job=$!
for _ in $(seq 50); do [ -e "$TEST_DIR/worktrees/feature/model-nohup1" ] && break; sleep 0.1; done
sleep 0.3
kill -HUP -- "-$(cat "$TEST_DIR/pgid")"
rc=0; wait "$job" || rc=$?
assert_eq "$rc" "0" "the start under nohup finished: $(cat "$TEST_DIR/nohup.out")"
assert_eq "$(cat "$TEST_DIR/worktrees/feature/model-nohup1/hook-ran" 2>/dev/null)" "done" "git's hook was not killed by the hang-up"
assert_branch_exists repo feature/model-nohup1
rm -f "$hook"
git -C repo worktree remove --force "$TEST_DIR/worktrees/feature/model-nohup1"
git -C repo branch -q -D feature/model-nohup1
before=$(repo_state repo)

# --- SIGINT while git runs (Ctrl-C): rolled back, exits as interrupted ---------------
printf '#!/bin/sh\nsleep 30\n' >"$hook"
chmod +x "$hook"
# (a script's background job starts with SIGINT ignored, which git-model respects: undo that first)
env --default-signal=INT git -C repo model start ctrlc >/dev/null 2>&1 &
gm_pid=$!
for _ in $(seq 50); do
    [ -e "$TEST_DIR/worktrees/feature/model-ctrlc/train.py" ] && break
    sleep 0.1
done
# signal the whole job the way a terminal does: git-model, git and the hook
pkill -INT -P "$gm_pid" || true
kill -INT "$gm_pid" || true
pkill -INT -f "sleep 30" || true
rc=0; wait "$gm_pid" || rc=$?
CHECKS=$((CHECKS + 1))
[ "$rc" -ne 0 ] || fail "interrupted start exited 0"
rm -f "$hook"
assert_nothing_half_made ctrlc "SIGINT"

# --- a full disk during checkout ------------------------------------------------------
small="$TEST_DIR/small"
mkdir -p "$small"
if mount -t tmpfs -o size=2m tmpfs "$small" 2>/dev/null; then
    trap 'gm_status=$?; umount "$small" 2>/dev/null || true; on_exit $gm_status' EXIT
    head -c 3000000 /dev/urandom >repo/weights.bin
    git -C repo add weights.bin
    git -C repo commit -q -m "add weights"
    before=$(repo_state repo)
    git -C repo config model.worktreeRoot "$small"
    before=$(repo_state repo)
    run_expect 1 git -C repo model start diskfull
    assert_contains "$ERR" "nothing was changed"
    assert_no_branch repo feature/model-diskfull
    assert_not_contains "$(git_worktrees repo)" "model-diskfull" "disk full: worktree registration"
    assert_no_path "$small/feature/model-diskfull"
    assert_eq "$(repo_state repo)" "$before" "disk full: repository state"
    # with room again, the same command succeeds
    umount "$small"
    run_expect 0 git -C repo model start diskfull
    assert_eq "$(cmp repo/weights.bin "$small/feature/model-diskfull/weights.bin" && echo same)" "same" "checkout complete"
else
    echo "SKIP: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN); the full-disk case is not tested"
fi
