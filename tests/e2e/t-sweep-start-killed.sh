#!/usr/bin/env bash
# A sweep start killed half way (SIGKILL while its third run is checked out), after which the user wrote a
# file into the second run's worktree. The next sweep command undoes the start but keeps that worktree, its
# branch and the user's file, saying so; the sweep's record then names only the run that is still there, so
# status and cancel never speak of runs whose worktree and branch are gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --no-remote
kill_at_checkout_of sweep-1-3
run_expect 137 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=1,2,3,4 -- true
stop_killing_at_checkout
RUN2="$TEST_DIR/worktrees/feature/model-net.sweep-1-2"
echo "my notes" >"$RUN2/notes.txt"

run_expect 0 git -C "$WT" model sweep status 1 --json
assert_contains "$ERR" "sweep 1's start was interrupted; what it made was removed except:"
assert_contains "$ERR" "kept the worktree $RUN2: it holds notes.txt (untracked file)"
assert_eq "$(json_get "$OUT" '" ".join(str(r["run"]) for r in d["runs"])')" "2" "the record: the kept run only"
assert_eq "$(cat "$RUN2/notes.txt")" "my notes" "the user's file kept"
assert_branch_exists repo feature/model-net.sweep-1-2
for k in 1 3; do
    assert_no_branch repo "feature/model-net.sweep-1-$k"
    assert_no_path "$TEST_DIR/worktrees/feature/model-net.sweep-1-$k"
done
run_expect 0 git -C "$WT" model sweep cancel 1
assert_not_contains "$OUT" "4 unfinished"
# Once the user moved the kept run away, the next command removes the rest of the record.
rm -rf "$RUN2"
git -C repo worktree unlock "$RUN2" 2>/dev/null || true
git -C repo worktree prune
run_expect 0 git -C "$WT" model sweep status
assert_no_path repo/.git/git-model/sweeps/1/sweep.json

# --- killed after its runs were queued, before it started their scheduler (kill -9 at the moment the old
# scheduler record is cleared, by strace's fault injection): status says nothing runs them and how to, and
# resume does ---------------------------------------------------------------------------------------------
SWEEPS="$TEST_DIR/repo/.git/git-model/sweeps"
killed_as_scheduler_starts() {  # SWEEP-ID COMMAND...
    local id=$1
    shift
    strace -qq -f -o /dev/null -P "$SWEEPS/$id/scheduler.json" -e trace=unlink,unlinkat \
        -e inject=unlink,unlinkat:signal=KILL "$@"
}
# (sweep 1 again: the first one's record is gone) start, then extend: status explains, resume runs them
done_runs=0
for command in "start --no-container --gpus-per-run 0 --grid lr=1 -- true" "extend 1 --grid lr=5"; do
    # shellcheck disable=SC2086
    run_expect 137 killed_as_scheduler_starts 1 git -C "$WT" model sweep $command
    run_expect 0 git -C "$WT" model sweep status 1
    assert_contains "$OUT" "queued, but no scheduler runs this sweep: unless a \`git model sweep\` command is starting one right now, \`git model sweep resume 1\` does" "$command"
    run_expect 0 git -C "$WT" model sweep resume 1
    wait_sweep "$WT" 1 30
    done_runs=$((done_runs + 1))
    run_expect 0 git -C "$WT" model sweep status 1
    assert_contains "$OUT" "$done_runs done" "$command"
done

# --- killed while its `git worktree add` runs: that git goes on alone, and the next sweep command leaves
# what it is making alone (it removed the worktree under it, then failed on "Directory not empty"); once
# git is done, the next command removes the start --------------------------------------------------------
mkdir -p "$TEST_DIR/hooks"
cat >"$TEST_DIR/hooks/post-checkout" <<HOOK
#!/bin/sh
case "\$PWD" in *sweep-*-3) kill -KILL "\$(ps -o ppid= -p \$PPID | tr -d ' ')"; sleep 3; touch "$TEST_DIR/git-done" ;; esac
HOOK
chmod +x "$TEST_DIR/hooks/post-checkout"
git -C repo config core.hooksPath "$TEST_DIR/hooks"
git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=1,2,3 -- true >"$TEST_DIR/start.out" 2>&1 &
wait $! && fail "the start was not killed"
git -C repo config --unset core.hooksPath
run3=$(ls -d "$TEST_DIR"/worktrees/feature/model-net.sweep-*-3)
run_expect 0 git -C "$WT" model sweep status
assert_not_contains "$ERR" "removed sweep"
[ -e "$TEST_DIR/git-done" ] && fail "git ended before the check: the test proves nothing (a loaded machine?)"
[ -d "$run3" ] || fail "the worktree git was still adding was removed under it"
for _ in $(seq 100); do [ -e "$TEST_DIR/git-done" ] && break; sleep 0.1; done
sleep 0.5
run_expect 0 git -C "$WT" model sweep status
assert_contains "$ERR" "whose start was interrupted"
assert_no_path "$run3"
assert_eq "$(ls repo/.git/worktrees | grep -c "sweep-.*-3" || true)" "0" "no admin folder of git's left"
