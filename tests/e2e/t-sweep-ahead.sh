#!/usr/bin/env bash
# While every GPU slot of a local sweep is busy, the scheduler makes the next queued run's
# container ahead, for the GPUs of the run that started first, so that the run starts with one
# engine call once they free (bench/sweep-schedule.py measures the gap). What a user sees:
#   - every run runs once, on the GPU its log names, and the header of its log is written when
#     it starts;
#   - when another run frees its GPU first, the run after the waiting one takes it (they swap
#     places), and the last run left takes whatever GPU frees;
#   - a cancel removes a container made ahead: its run never ran, and nothing is left, even
#     when the scheduler was killed first;
#   - a container that cannot be made ahead (a teammate's folder where the run's log goes) is
#     made when the run starts, which then fails with the reason;
#   - `env up` in the waiting run's worktree refuses (it removed the container, and the run then
#     started the environment in its place); a cancel while the scheduler waits for the lease
#     book leaves the run unstarted; a resume after a scheduler killed during the create ahead
#     waits for that create, then runs the run.
#   - a container made ahead and removed by hand fails its run with a note that names the engine.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

use_pull_engine  # only its slow-create switch: a `create` that takes 3 s while $TEST_DIR/slow-create exists

cd "$TEST_DIR"
start_env_model net "gpus: 1"
git -C repo config model.gpus 0,1
LOGS="$TEST_DIR/repo/.git/git-model/persist/net/logs"
SWEEPS="$TEST_DIR/repo/.git/git-model/sweeps"
leases() { ls -A "$GIT_MODEL_LEASE_DIR" 2>/dev/null | grep -c '\.lease$' || true; }
states() {  # SWEEP: its runs' states in STATES, its status (JSON) in OUT
    run_expect 0 git -C "$WT" model sweep status "$1" --json
    STATES=$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')
}
wait_log() {  # SWEEP TEXT: waits until the sweep's scheduler log says TEXT
    for _ in $(seq 200); do grep -qF "$2" "$SWEEPS/$1/scheduler.log" 2>/dev/null && return 0; sleep 0.1; done
    fail "the scheduler never said '$2': $(cat "$SWEEPS/$1/scheduler.log")"
}

# Each run appends its number to one file of the sweep as it starts (the order runs started in),
# then sleeps {s} seconds.
cat >"$WT/train.sh" <<'EOF'
echo "$GIT_MODEL_RUN" >> /persist/logs/order
echo "run $GIT_MODEL_RUN ran on GPU $CUDA_VISIBLE_DEVICES"
sleep "$1"
EOF
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"

# --- one GPU: each next run's container is made while the run before it runs ------------------------------
run_expect 0 git -C "$WT" model sweep start --max-parallel 1 --grid s=1,2,3 -- sh train.sh '{s}'
wait_sweep "$WT" 1 90
states 1
assert_eq "$STATES" "done done done" "every run done"
log=$(cat "$SWEEPS/1/scheduler.log")
assert_contains "$log" "run 2: container made ahead, for GPU 0"
assert_contains "$log" "run 3: container made ahead, for GPU 0"
assert_eq "$(tr '\n' ' ' <"$LOGS/sweep-1/order")" "1 2 3 " "each run ran once, in order"
for k in 1 2 3; do
    runlog=$(cat "$(json_get "$OUT" "d['runs'][$((k - 1))]['log']")")
    assert_contains "$runlog" "run $k ran on GPU 0"
    assert_eq "$(grep -c "^.*run $k of sweep 1 (attempt 1)" <<<"$runlog")" "1" "run $k's log has one header"
done
assert_eq "$(test_containers)" "" "no container left"
assert_eq "$(leases)" "0" "no lease left"

# --- two GPUs, runs of different lengths: the run made ahead waits for its GPU -----------------------------
# Run 1 (12 s, GPU 0) started first, so run 3 is made for GPU 0. Run 2 (GPU 1) ends first: run 4
# takes GPU 1 and starts before run 3. When run 4 ends, run 3 is the last one left: it takes GPU 1
# rather than wait for run 1.
run_expect 0 git -C "$WT" model sweep start --grid s=12,1,2,3 -- sh train.sh '{s}'
wait_sweep "$WT" 2 120
states 2
assert_eq "$STATES" "done done done done" "every run done"
log=$(cat "$SWEEPS/2/scheduler.log")
assert_contains "$log" "run 3: container made ahead, for GPU 0"
# Runs 1 and 2 start together on two GPUs, so either may write first; what the scheduler decides is
# that run 4 started before run 3, after both.
order=$(tr '\n' ' ' <"$LOGS/sweep-2/order")
assert_eq "$(head -n2 "$LOGS/sweep-2/order" | sort | tr '\n' ' ')" "1 2 " "runs 1 and 2 started first: $order"
assert_eq "$(tail -n +3 "$LOGS/sweep-2/order" | tr '\n' ' ')" "4 3 " "run 4 took the GPU that freed first: $order"
assert_eq "$(json_get "$OUT" '[r["gpus"] for r in d["runs"]]')" "['0', '1', '1', '1']" "the GPUs the runs ran on"
assert_contains "$(cat "$(json_get "$OUT" 'd["runs"][2]["log"]')")" "run 3 ran on GPU 1"
assert_eq "$(test_containers)" "" "no container left"
assert_eq "$(leases)" "0" "no lease left"

# --- cancel: the container made ahead goes, and its run never ran ------------------------------------------
run_expect 0 git -C "$WT" model sweep start --max-parallel 1 --grid s=60,1 -- sh train.sh '{s}'
wait_log 3 "run 2: container made ahead, for GPU 0"
assert_eq "$(test_containers | wc -l)" "2" "run 1's container and run 2's, made ahead"
run_expect 1 git -C "$TEST_DIR/worktrees/feature/model-net.sweep-3-2" model env up
assert_contains "$ERR" "is the sweep run 3/2's, made to start when its GPUs free, not an environment of this worktree"
assert_eq "$(test_containers | wc -l)" "2" "env up left the container made ahead"
run_expect 0 git -C "$WT" model sweep cancel 3
states 3
assert_eq "$STATES" "cancelled cancelled" "both runs cancelled"
assert_eq "$(json_get "$OUT" 'd["runs"][1]["detail"]')" "cancelled before it started" "run 2's note"
assert_eq "$(tr '\n' ' ' <"$LOGS/sweep-3/order")" "1 " "run 2 never ran"
assert_not_contains "$(cat "$(json_get "$OUT" 'd["runs"][1]["log"]')" 2>/dev/null)" "run 2 of sweep 3" \
    "no header in the log of a run that never started"
assert_eq "$(test_containers)" "" "no container left after the cancel"
assert_eq "$(leases)" "0" "no lease after the cancel"

# --- the scheduler killed, then a cancel: the container made ahead still goes ------------------------------
run_expect 0 git -C "$WT" model sweep start --max-parallel 1 --grid s=60,1 -- sh train.sh '{s}'
wait_log 4 "run 2: container made ahead, for GPU 0"
scheduler=$(json_get "$(cat "$SWEEPS/4/scheduler.json")" 'd["pid"]')
kill -9 "$scheduler"
run_expect 0 git -C "$WT" model sweep cancel 4
states 4
assert_eq "$STATES" "cancelled cancelled" "both runs cancelled"
assert_eq "$(test_containers)" "" "no container left after the cancel of a killed scheduler"
assert_eq "$(tr '\n' ' ' <"$LOGS/sweep-4/order")" "1 " "run 2 never ran"

# --- a resume after a killed scheduler: the new one removes the left container and runs the run -------------
run_expect 0 git -C "$WT" model sweep start --max-parallel 1 --grid s=3,1 -- sh train.sh '{s}'
wait_log 5 "run 2: container made ahead, for GPU 0"
scheduler=$(json_get "$(cat "$SWEEPS/5/scheduler.json")" 'd["pid"]')
kill -9 "$scheduler"
wait_run_state "$WT" 5 1 failed 30  # its client lived on; the status names the dead scheduler's run
run_expect 0 git -C "$WT" model sweep resume 5
wait_sweep "$WT" 5 60
states 5
assert_eq "$STATES" "done done" "the resumed runs done"
assert_eq "$(test_containers)" "" "no container left after the resume"
assert_eq "$(leases)" "0" "no lease left after the resume"

# --- a cancel while the scheduler waits for the lease book: the run made ahead never starts ------------------
run_expect 0 git -C "$WT" model sweep start --max-parallel 1 --grid s=2,1 -- sh train.sh '{s}'
wait_log 6 "run 2: container made ahead, for GPU 0"
flock "$GIT_MODEL_LEASE_DIR/.lock" sleep 60 &
holder=$!
wait_run_state "$WT" 6 1 done 30  # run 1 ended; the scheduler waits for the lock to take run 2's GPU
git -C "$WT" model sweep cancel 6 >cancel.out 2>&1 &
canceller=$!
sleep 1
kill "$holder"
wait "$canceller" || fail "the cancel failed: $(cat cancel.out)"
states 6
assert_eq "$STATES" "done cancelled" "run 2 cancelled"
assert_eq "$(json_get "$OUT" 'd["runs"][1]["detail"]')" "cancelled before it started" "run 2's note"
assert_eq "$(tr '\n' ' ' <"$LOGS/sweep-6/order")" "1 " "run 2 never ran"
assert_eq "$(test_containers)" "" "no container left"
assert_eq "$(leases)" "0" "no lease left"

# --- the scheduler killed during the create ahead, then a resume: it waits for that create -----------------
: >slow-create
rm -f create.pids
run_expect 0 git -C "$WT" model sweep start --max-parallel 1 --grid s=2,1 -- sh train.sh '{s}'
for _ in $(seq 200); do [ "$(wc -l 2>/dev/null <create.pids)" = 2 ] && break; sleep 0.1; done
[ "$(wc -l <create.pids)" = 2 ] || fail "run 2's container was never made ahead: $(cat "$SWEEPS/7/scheduler.log")"
sleep 1
kill -9 "$(json_get "$(cat "$SWEEPS/7/scheduler.json")" 'd["pid"]')"
rm -f slow-create
sleep 1.5
run_expect 0 git -C "$WT" model sweep resume 7
wait_sweep "$WT" 7 60
states 7
assert_eq "$STATES" "done done" "both runs done after the resume"
assert_eq "$(test_containers)" "" "no container left after the resume"
assert_eq "$(leases)" "0" "no lease left after the resume"

# --- a container that cannot be made ahead: the run's start tries again, and fails with the reason ---------
mkdir -p "$TEST_DIR/elsewhere" "$TEST_DIR/repo/.git/git-model/persist/net/checkpoints/sweep-8"
ln -s "$TEST_DIR/elsewhere" "$TEST_DIR/repo/.git/git-model/persist/net/checkpoints/sweep-8/run-2"
run_expect 0 git -C "$WT" model sweep start --max-parallel 1 --grid s=2,1 -- sh train.sh '{s}'
wait_sweep "$WT" 8 60
states 8
assert_eq "$STATES" "done failed" "run 2 failed"
assert_contains "$(json_get "$OUT" 'd["runs"][1]["detail"]')" "could not start:"
assert_contains "$(cat "$SWEEPS/8/scheduler.log")" "run 2: its container was not made ahead:"
assert_eq "$(tr '\n' ' ' <"$LOGS/sweep-8/order")" "1 " "run 2 never ran"
assert_eq "$(test_containers)" "" "no container left"
assert_eq "$(leases)" "0" "no lease left"


# --- a container made ahead removed by hand: its run fails, and the note says whose failure that may be ----
run_expect 0 git -C "$WT" model sweep start --max-parallel 1 --grid s=3,1 -- sh train.sh '{s}'
wait_log 9 "run 2: container made ahead, for GPU 0"
made=$(podman ps -a --filter status=created --filter label=io.git-model.managed=1 --format '{{.Names}}' | grep -F 'sweep-9' || true)
[ -n "$made" ] || fail "no created container of sweep 9: $(podman ps -a --format '{{.Names}} {{.Status}}')"
podman rm "$made" >/dev/null
wait_sweep "$WT" 9 60
states 9
assert_eq "$STATES" "done failed" "run 2 failed, its container gone"
assert_contains "$(json_get "$OUT" 'd["runs"][1]["detail"]')" \
    "exited with status 125 (the container engine's own failure, unless the command exited so: see the run's log)"
assert_contains "$(tr 'A-Z' 'a-z' <"$(json_get "$OUT" 'd["runs"][1]["log"]')")" "no such container" "the engine's words in the run's log"
assert_eq "$(tr '\n' ' ' <"$LOGS/sweep-9/order")" "1 " "run 2 never ran"
assert_eq "$(test_containers)" "" "no container left"
assert_eq "$(leases)" "0" "no lease left"
