#!/usr/bin/env bash
# Failures in a local sweep (host runs, no GPU): --retries starts a failed run
# again and keeps every attempt's exit code; --max-failures stops starting runs
# once that many failed, and status says so; resume, after the cause is fixed,
# reruns only the runs that are not done; a cancelled run is never retried.
# Each run appends its number to a file, so that every start is counted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --no-remote

# A run fails (status 3) until its marker exists, creating it as it fails: it fails once, then succeeds.
cat >"$WT/flaky.sh" <<'EOF'
echo "$GIT_MODEL_RUN" >> "$GIT_MODEL_LOGS/calls"
marker="$GIT_MODEL_LOGS/marker-$GIT_MODEL_RUN"
[ -f "$marker" ] && { echo "attempt with marker: fine"; exit 0; }
touch "$marker"
echo "first attempt: failing"
exit 3
EOF
# A run fails unless its lr is "ok" or the cause is fixed ($GIT_MODEL_LOGS/fixed).
cat >"$WT/broken.sh" <<'EOF'
echo "$GIT_MODEL_RUN" >> "$GIT_MODEL_LOGS/calls"
[ "$GIT_MODEL_PARAM_LR" = ok ] || [ -f "$GIT_MODEL_LOGS/fixed" ] || exit 1
[ -z "$SLEEP" ] || sleep "$SLEEP"
EOF
git -C "$WT" add flaky.sh broken.sh
git -C "$WT" commit -q -m "training scripts"
LOGS="$TEST_DIR/repo/.git/git-model/persist/net/logs"
calls() { sort -n "$LOGS/sweep-$1/calls" | uniq -c | awk '{printf "%s:%s ", $2, $1}'; }

# --- --retries 1: each run fails once, then succeeds ----------------------------------------------------------------
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --max-parallel 1 --retries 1 \
    --grid lr=1,2 -- sh flaky.sh
wait_sweep "$WT" 1 60
run_expect 0 git -C "$WT" model sweep status 1 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done" "retried runs done"
assert_eq "$(json_get "$OUT" '[[a["exit_code"] for a in r["attempts"]] for r in d["runs"]]')" "[[3, 0], [3, 0]]" \
    "every attempt's exit code kept"
assert_eq "$(json_get "$OUT" '[r["attempt"] for r in d["runs"]], d["retries"]')" "[2, 2] 1" "two attempts each"
assert_eq "$(calls 1)" "1:2 2:2 " "each run started twice"
LOG1="$LOGS/sweep-1/run-1.log"
assert_contains "$(cat "$LOG1")" "(attempt 1)"
assert_contains "$(cat "$LOG1")" "first attempt: failing"
assert_contains "$(cat "$LOG1")" "run 1 will be retried: attempt 1 failed (the command exited with status 3); retry 1 of 1"
assert_contains "$(cat "$LOG1")" "(attempt 2)"
assert_contains "$(cat "$LOG1")" "attempt with marker: fine"
assert_contains "$(cat "$LOG1")" "run 1 done"
run_expect 0 git -C "$WT" model sweep status 1
assert_eq "$(echo "$OUT" | awk '$1 == "RUN" {print $5} $1 == "1" && $2 == "done" {print $5}' | tr '\n' ' ')" "TRIES 2 " \
    "status shows the attempt count"

# Without --retries a failed run stays failed after one attempt.
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=3 -- sh flaky.sh
wait_sweep "$WT" 2 60
run_expect 0 git -C "$WT" model sweep status 2 --json
assert_eq "$(json_get "$OUT" 'd["runs"][0]["state"], d["runs"][0]["exit_code"], len(d["runs"][0]["attempts"])')" \
    "failed 3 1" "no retry by default"

# --- --max-failures 2 stops a broken sweep; resume after the fix reruns only what is not done ------------------------
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --max-parallel 1 --max-failures 2 \
    --grid lr=ok,b,c,d,e -- sh broken.sh
# The runs it holds back stay queued: wait for the scheduler to end instead.
for _ in $(seq 600); do
    [ "$(git -C "$WT" model sweep status 3 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["scheduler"])')" = "not running" ] && break
    sleep 0.1
done
run_expect 0 git -C "$WT" model sweep status 3 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done failed failed queued queued" \
    "two failures stop the sweep; the rest stay queued"
assert_eq "$(json_get "$OUT" '[r["held"] for r in d["runs"]], d["stopped_by_max_failures"]')" \
    "[False, False, False, True, True] True" "the queued runs are held back"
assert_eq "$(calls 3)" "1:1 2:1 3:1 " "runs 4 and 5 never started"
run_expect 0 git -C "$WT" model sweep status 3
assert_contains "$OUT" "1 done, 2 failed; stopped: the sweep reached --max-failures 2, 2 runs not started"
assert_contains "$OUT" "run 4: not started: the sweep reached --max-failures 2"
run_expect 0 git -C "$WT" model sweep status
assert_contains "$OUT" "stopped: the sweep reached --max-failures 2"
touch "$LOGS/sweep-3/fixed"
run_expect 0 git -C "$WT" model sweep resume 3
assert_contains "$OUT" "Resumed sweep 3: runs 2-5"
wait_sweep "$WT" 3 60
run_expect 0 git -C "$WT" model sweep status 3 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done done done done" "resumed to all done"
assert_eq "$(calls 3)" "1:1 2:2 3:2 4:1 5:1 " "the done run was not rerun; each other ran once more"
run_expect 0 git -C "$WT" model sweep status 3
[[ $OUT == *"stopped:"* ]] && fail "status still says stopped: $OUT"

# --- a cancelled run is never retried ---------------------------------------------------------------------------------
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --retries 3 --grid lr=x \
    -- sh -c 'echo "$GIT_MODEL_RUN" >> "$GIT_MODEL_LOGS/calls"; exec sleep 60'
wait_run_state "$WT" 4 1 running 60
for _ in $(seq 100); do [ -s "$LOGS/sweep-4/calls" ] && break; sleep 0.1; done
run_expect 0 git -C "$WT" model sweep cancel 4
run_expect 0 git -C "$WT" model sweep status 4 --json
assert_eq "$(json_get "$OUT" 'd["runs"][0]["state"], d["runs"][0]["attempt"]')" "cancelled 1" "cancelled, not retried"
sleep 1
assert_eq "$(calls 4)" "1:1 " "started once"

# --- extend adds runs with new numbers, same command, and schedules only them ------------------------------------------
run_expect 0 git -C "$WT" model sweep extend 3 --grid lr=f,g
assert_contains "$OUT" "Extended sweep 3: runs 6-7 (2 new runs) queued on this machine"
wait_sweep "$WT" 3 60
run_expect 0 git -C "$WT" model sweep status 3 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done done done done done done" "seven runs done"
assert_eq "$(json_get "$OUT" '[r["params"]["lr"] for r in d["runs"][5:]]')" "['f', 'g']" "the new runs' parameters"
assert_eq "$(calls 3)" "1:1 2:2 3:2 4:1 5:1 6:1 7:1 " "only the new runs ran"
assert_eq "$(git -C repo show feature/model-net.sweep-3-7:params.json | python3 -c 'import json,sys; print(json.load(sys.stdin))')" \
    "{'lr': 'g'}" "the new run's params.json"
assert_eq "$(git -C repo rev-parse feature/model-net.sweep-3-7^)" "$(git -C repo rev-parse feature/model-net.sweep-3-1^)" \
    "on the sweep's own model commit"
# A parameter set the sweep has is refused (nothing added), unless --allow-duplicates.
run_expect 1 git -C "$WT" model sweep extend 3 --grid lr=h,ok
assert_contains "$ERR" "sweep 3 already has a run with lr=ok; nothing was added"
assert_eq "$(git -C repo branch --list 'feature/model-net.sweep-3-8' | wc -l)" "0" "no run 8"
run_expect 0 git -C "$WT" model sweep extend 3 --grid lr=ok --allow-duplicates
assert_contains "$OUT" "Extended sweep 3: run 8"
wait_sweep "$WT" 3 60
# An extend killed half way (SIGKILL from git's post-checkout hook while run 10 is checked out) is undone by the
# next sweep command: the new runs go, the sweep's own runs stay.
mkdir -p "$TEST_DIR/hooks"
cat >"$TEST_DIR/hooks/post-checkout" <<'HOOK'
#!/bin/sh
case "$PWD" in *sweep-3-10) kill -9 "$(ps -o ppid= -p $PPID | tr -d ' ')" ;; esac
HOOK
chmod +x "$TEST_DIR/hooks/post-checkout"
git -C repo config core.hooksPath "$TEST_DIR/hooks"
run_expect 137 git -C "$WT" model sweep extend 3 --grid lr=j,k
sleep 0.5   # git itself finishes after its parent died
git -C repo config --unset core.hooksPath
assert_branch_exists repo feature/model-net.sweep-3-9
run_expect 0 git -C "$WT" model sweep status 3 --json
assert_contains "$ERR" "removed the runs an interrupted \`git model sweep extend 3\` had made"
assert_eq "$(json_get "$OUT" 'len(d["runs"]), " ".join(set(r["state"] for r in d["runs"]))')" "8 done" "the sweep's runs stay"
assert_no_branch repo feature/model-net.sweep-3-9
assert_no_branch repo feature/model-net.sweep-3-10
assert_no_path "$TEST_DIR/worktrees/feature/model-net.sweep-3-10"
assert_not_contains "$(git_worktrees repo)" "sweep-3-9" "no worktree of the killed extend"
run_expect 0 git -C "$WT" model sweep extend 3 --grid lr=j
assert_contains "$OUT" "Extended sweep 3: run 9"
wait_sweep "$WT" 3 60

# Runs added while the scheduler runs are taken by it: one scheduler, runs after the last.
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --max-parallel 1 --grid lr=ok -- \
    sh -c 'echo "$GIT_MODEL_RUN" >> "$GIT_MODEL_LOGS/calls"; sleep 3'
SID=$(echo "$OUT" | awk '/^Sweep/ {print $2}')
SCHED=$(git -C "$WT" model sweep status "$SID" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["scheduler"])')
run_expect 0 git -C "$WT" model sweep extend "$SID" --grid lr=p,q
assert_contains "$OUT" "queued for the sweep's running scheduler"
wait_sweep "$WT" "$SID" 60
run_expect 0 git -C "$WT" model sweep status "$SID" --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done done" "extended while running: all done"
assert_eq "$(calls "$SID")" "1:1 2:1 3:1 " "each once"
assert_contains "$(cat "$TEST_DIR/repo/.git/git-model/sweeps/$SID/scheduler.log")" "sweep $SID extended: 2 runs more queued"
assert_contains "$SCHED" "running"
run_expect 2 git -C "$WT" model sweep extend 3
assert_contains "$ERR" "needs the new parameter sets"
run_expect 1 git -C "$WT" model sweep extend 99 --grid lr=1
assert_contains "$ERR" "there is no sweep '99'"

# --- bad values are usage errors, and create nothing ----------------------------------------------------------------------
run_expect 2 git -C "$WT" model sweep start --retries -1 --grid lr=1 -- true
assert_contains "$ERR" "--retries must be at least 0"
run_expect 2 git -C "$WT" model sweep start --max-failures 0 --grid lr=1 -- true
assert_contains "$ERR" "--max-failures must be at least 1"
assert_eq "$(git -C repo branch --list 'feature/model-net.sweep-6-*' | wc -l)" "0" "no run created"
