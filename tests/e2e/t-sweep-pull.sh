#!/usr/bin/env bash
# A local sweep whose image is not here: its scheduler pulls the image once, before any run
# takes a GPU (a run's `podman run` pulled it while holding its GPUs), and the runs then start
# on it; `sweep cancel` during that pull stops it at once (not after the pull, nor after the
# 40 s cancel waits for a scheduler): nothing is pulled, leased or left running. No registry can
# be reached here, so the pull is podman's from an OCI archive, done by a podman of this test's
# own, first on PATH, when asked to pull the test's image (slowly, when the test says so).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

use_pull_engine

# paused_sweep ID LR STEP: starts sweep ID (lr=LR) and waits until the engine's slowed STEP (create or start) begins.
paused_sweep() {
    rm -f "$TEST_DIR/$3.pids"
    run_expect 0 git -C "$WT" model sweep start --grid "lr=$2" -- sh -c 'echo "lr=$GIT_MODEL_PARAM_LR ran"'
    for _ in $(seq 100); do [ -s "$TEST_DIR/$3.pids" ] && break; sleep 0.1; done
    [ -s "$TEST_DIR/$3.pids" ] || fail "the scheduler never reached $3: $(cat "$SWEEPS/$1/scheduler.log")"
}
# assert_cancelled ID WHAT: sweep ID's one run is cancelled (the status is left in OUT).
assert_cancelled() {
    run_expect 0 git -C "$WT" model sweep status "$1" --json
    assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "cancelled" "$2"
}
leases() { ls -A "$GIT_MODEL_LEASE_DIR" 2>/dev/null | grep -c '\.lease$' || true; }
wait_for_pull() {
    for _ in $(seq 100); do [ -s "$TEST_DIR/pull.pids" ] && break; sleep 0.1; done
    [ -s "$TEST_DIR/pull.pids" ] || fail "the scheduler never pulled: $(cat "$SWEEPS"/*/scheduler.log 2>/dev/null)"
    PULL=$(tail -1 "$TEST_DIR/pull.pids")
}

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
git -C repo config model.gpus 0,1
git -C repo config model.env.stopTimeout 1s
{ echo "image: $PULL_IMAGE"; echo "gpus: 1"; } >repo/.modelenv.yaml
git -C repo add .modelenv.yaml && git -C repo commit -q -m environment
run_expect 0 git -C repo model start net
WT="$TEST_DIR/worktrees/feature/model-net"
SWEEPS="$TEST_DIR/repo/.git/git-model/sweeps"

# --- pulled once, holding no GPU; then the runs run on it --------------------------------------------
: >slow-pull
run_expect 0 git -C "$WT" model sweep start --grid lr=1,2 -- sh -c 'echo "lr=$GIT_MODEL_PARAM_LR"'
wait_for_pull
assert_eq "$(leases)" "0" "no GPU is leased while the sweep's image is pulled"
wait_sweep "$WT" 1 120
run_expect 0 git -C "$WT" model sweep status 1 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done" "both runs ran on the pulled image"
assert_eq "$(wc -l <pull.pids)" "1" "one pull for the sweep, not one per run"
log=$(cat "$SWEEPS/1/scheduler.log")
assert_contains "$log" "pulling $PULL_IMAGE before any run takes a GPU"
assert_contains "$log" "pulled $PULL_IMAGE"
assert_eq "$(leases)" "0" "the runs gave their GPUs back"

# --- sweep cancel during the pull: stopped at once --------------------------------------------------
"$PODMAN" rmi -f "$PULL_IMAGE" >/dev/null
rm -f pull.pids
run_expect 0 git -C "$WT" model sweep start --grid lr=3,4 -- sh -c 'echo "lr=$GIT_MODEL_PARAM_LR"'
wait_for_pull
began=$(date +%s%N)
run_expect 0 git -C "$WT" model sweep cancel 2
took_ms=$(( ($(date +%s%N) - began) / 1000000 ))
[ "$took_ms" -lt 5000 ] || fail "cancel took $took_ms ms: it waited for the pull instead of stopping it"
sleep 0.5
alive "$PULL" && fail "the pull $PULL still runs after sweep cancel"
run_expect 0 git -C "$WT" model sweep status 2 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "cancelled cancelled" "the runs are cancelled"
assert_contains "$(cat "$SWEEPS/2/scheduler.log")" "the pull of $PULL_IMAGE was stopped: the sweep is cancelled"
sleep 4  # past the slow pull's pause: a pull left running would have the image by now
"$PODMAN" image exists "$PULL_IMAGE" && fail "the image was pulled after the sweep was cancelled"
assert_eq "$(test_containers)" "" "no container after the cancel"
assert_eq "$(leases)" "0" "no lease after the cancel"

# --- a pull that fails: each run fails with the engine's reason, not a bare exit status ---------------------
rm -f slow-pull pull.pids
: >fail-pull
run_expect 0 git -C "$WT" model sweep start --grid lr=5 -- sh -c 'echo "lr=$GIT_MODEL_PARAM_LR"'
wait_sweep "$WT" 3 120
assert_contains "$(cat "$SWEEPS/3/scheduler.log")" \
    "could not pull $PULL_IMAGE (each run tries on its own): podman could not pull $PULL_IMAGE (exited with status 125):"
run_expect 0 git -C "$WT" model sweep status 3
assert_contains "$OUT" "run 1: could not start: the image $PULL_IMAGE could not be pulled: Error: simulated: the registry refused the pull"
assert_eq "$(leases)" "0" "no lease after the failed runs"

# --- sweep cancel while the engine makes a run's container: it is made, then removed; nothing runs ----
# (a `podman run` stopped there could leave a container that appeared after the cancel looked)
rm -f fail-pull
: >slow-create
paused_sweep 4 6 create
run_expect 0 git -C "$WT" model sweep cancel 4
assert_cancelled 4 "the run is cancelled"
assert_eq "$(json_get "$OUT" 'd["runs"][0]["detail"]')" "cancelled before it started" "the run's note"
sleep 4  # past the slow create: a container made after the cancel would be here by now
assert_eq "$(test_containers)" "" "no container after the cancel"
assert_not_contains "$(cat "$(json_get "$OUT" 'd["runs"][0]["log"]')")" "lr=6 ran" "the cancelled run's command never ran"
assert_eq "$(leases)" "0" "no lease after the cancel"

# --- a cancel that ends the engine client as `start --attach` begins: cancelled (not failed), nothing left --
rm -f slow-create
: >slow-start
paused_sweep 5 7 start
run_expect 0 git -C "$WT" model sweep cancel 5
assert_cancelled 5 "the run whose client the cancel ended"
assert_eq "$(test_containers)" "" "no container after the cancel"
assert_eq "$(leases)" "0" "no lease after the cancel"
rm -f slow-start

# --- the scheduler killed (-9) while the engine makes a container; then cancel: it waits for that create ---
: >slow-create
paused_sweep 6 8 create
kill -9 "$(json_get "$(cat "$SWEEPS/6/scheduler.json")" 'd["pid"]')"
run_expect 0 git -C "$WT" model sweep cancel 6
sleep 4  # past the slow create: a container it made after the cancel would be here by now
assert_eq "$(test_containers)" "" "no container made by the killed scheduler's create is left"
assert_cancelled 6 "the run is cancelled"
assert_not_contains "$(cat "$(json_get "$OUT" 'd["runs"][0]["log"]')")" "lr=8 ran" "the cancelled run's command never ran"
rm -f slow-create

# --- a run whose own .modelenv.yaml pins another image that is not here: pulled before it takes a GPU ---
rm -f pull.pids fail-pull
sed -i "s|$PULL_IMAGE|$TEST_IMAGE|" "$WT/.modelenv.yaml"
git -C "$WT" commit -q -am "the test's image"
run_expect 0 git -C "$WT" model sweep start --grid lr=10 -- sh -c 'exit 5'
wait_sweep "$WT" 7 120
"$PODMAN" rmi -f "$PULL_IMAGE" >/dev/null 2>&1 || true
sed -i "s|$TEST_IMAGE|$PULL_IMAGE|" "$TEST_DIR/worktrees/feature/model-net.sweep-7-1/.modelenv.yaml"
: >slow-pull
run_expect 0 git -C "$WT" model sweep resume 7
wait_for_pull
assert_eq "$(leases)" "0" "no GPU is leased while a run's own image is pulled"
wait_sweep "$WT" 7 120
assert_contains "$(cat "$SWEEPS/7/scheduler.log")" "pulled $PULL_IMAGE"
rm -f slow-pull
