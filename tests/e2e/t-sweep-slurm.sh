#!/usr/bin/env bash
# Sweeps on Slurm, with a real single-node Slurm (munged, slurmctld, slurmd of
# the test's own; two dummy GPUs): one job array throttled to what the GPUs
# allow, CUDA_VISIBLE_DEVICES 0 and 1 from Slurm, results in status and report,
# a failing run, scancel through `sweep cancel`, and `sweep resume` submitting
# what did not finish. Runs use --no-container (no engine on the node).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slurm-lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

slurm_start
cd "$TEST_DIR"
start_sweep_model net --no-remote

# Each run records its GPU and when it started and ended, in the sweep's log folder.
cat >"$WT/train.sh" <<'EOF'
stamp() { echo "$GIT_MODEL_RUN $CUDA_VISIBLE_DEVICES $1 $(cut -d' ' -f1 /proc/uptime)" >> "$GIT_MODEL_LOGS/times"; }
stamp start
echo "training with lr=$GIT_MODEL_PARAM_LR on GPU $CUDA_VISIBLE_DEVICES in $PWD"
[ -f "$GIT_MODEL_LOGS/fast" ] || sleep "${SLEEP:-2}"
printf '{"acc": %s}\n' "0.$GIT_MODEL_PARAM_LR" > metrics.json
stamp end
[ "$GIT_MODEL_PARAM_LR" != 3 ]
EOF
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"

# --- four tasks, two at a time on two GPUs ----------------------------------------------------------------
run_expect 0 git -C "$WT" model sweep start --backend slurm --no-container --partition debug --time 10:00 \
    --grid lr=1,2,3,4 -- sh train.sh
assert_contains "$OUT" "Sweep 1 of model net: 4 runs, submitted to Slurm as job array"
SCRIPT="$TEST_DIR/repo/.git/git-model/sweeps/1/sweep.sbatch"
assert_contains "$(cat "$SCRIPT")" "#SBATCH --array=1-4"
assert_contains "$(cat "$SCRIPT")" "#SBATCH --gres=gpu:1"
assert_contains "$(cat "$SCRIPT")" "#SBATCH --partition=debug"
assert_contains "$(cat "$SCRIPT")" "#SBATCH --time=10:00"
assert_contains "$(cat "$SCRIPT")" "sweep task '$TEST_DIR/repo/.git/git-model/sweeps/1' \"\$SLURM_ARRAY_TASK_ID\""
wait_sweep "$WT" 1 180
LOGS="$TEST_DIR/repo/.git/git-model/persist/net/logs/sweep-1"
assert_eq "$(check_schedule "$LOGS/times" 2)" "4" "four tasks, at most two at once, one GPU each"
assert_eq "$(cut -d' ' -f2 "$LOGS/times" | sort -u | tr '\n' ' ')" "0 1 " "Slurm gave GPUs 0 and 1"

run_expect 0 git -C "$WT" model sweep status 1 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done failed done" "states"
assert_eq "$(json_get "$OUT" 'd["runs"][2]["exit_code"]')" "1" "the failed run's exit code"
assert_eq "$(json_get "$OUT" 'all(r["slurm_task"].endswith("_" + str(r["run"])) for r in d["runs"])')" "True" "Slurm task ids"
assert_contains "$(cat "$LOGS/run-2.log")" "training with lr=2 on GPU"
assert_contains "$(cat "$LOGS/run-2.log")" "in $TEST_DIR/worktrees/feature/model-net.sweep-1-2"
run_expect 0 git -C "$WT" model sweep report 1
assert_eq "$(echo "$OUT" | awk '$1 ~ /^[0-9]+$/ {printf "%s ", $1}')" "4 3 2 1 " "best first"

# --- cancel stops the array (scancel); resume submits what did not finish ------------------------------------
run_expect 0 git -C "$WT" model sweep start --backend slurm --no-container --max-parallel 1 --grid lr=5,6,7 \
    -- env SLEEP=120 sh train.sh
assert_contains "$(cat "$TEST_DIR/repo/.git/git-model/sweeps/2/sweep.sbatch")" "#SBATCH --array=1-3%1"
wait_run_state "$WT" 2 1 running 60
run_expect 0 git -C "$WT" model sweep status 2 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "running queued queued" "one at a time"
JOB=$(json_get "$OUT" 'd["slurm_jobs"][0]')
run_expect 0 git -C "$WT" model sweep cancel 2
assert_eq "$(squeue -h -r --jobs="$JOB" 2>/dev/null | wc -l)" "0" "Slurm runs nothing of the sweep"
run_expect 0 git -C "$WT" model sweep status 2 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "cancelled cancelled cancelled" "all cancelled"
for k in 1 2 3; do assert_dir "$TEST_DIR/worktrees/feature/model-net.sweep-2-$k"; done
touch "$TEST_DIR/repo/.git/git-model/persist/net/logs/sweep-2/fast"
run_expect 0 git -C "$WT" model sweep resume 2
assert_contains "$OUT" "Resumed sweep 2: runs 1-3 submitted to Slurm as job array"
wait_sweep "$WT" 2 180
run_expect 0 git -C "$WT" model sweep status 2 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done done" "resumed runs done"
assert_eq "$(json_get "$OUT" 'len(d["slurm_jobs"])')" "2" "two submissions"

# --- --export slurm writes the batch script for review and submits nothing; sbatch of it runs the sweep -------
queued_before=$(squeue -h | wc -l)
run_expect 0 git -C "$WT" model sweep start --export slurm -o "$TEST_DIR/job.sh" --no-container --max-parallel 1 \
    --grid lr=8,9 -- sh train.sh
assert_contains "$OUT" "2 runs, written as a Slurm batch script"
assert_contains "$OUT" "sbatch $TEST_DIR/job.sh"
assert_eq "$(squeue -h | wc -l)" "$queued_before" "nothing submitted"
assert_contains "$(cat "$TEST_DIR/job.sh")" "#SBATCH --array=1-2%1"
assert_eq "$(cat "$TEST_DIR/job.sh")" "$(cat "$TEST_DIR/repo/.git/git-model/sweeps/3/sweep.sbatch")" "-o writes the same script"
run_expect 0 git -C "$WT" model sweep status 3 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "queued queued" "queued until submitted"
(cd "$TEST_DIR" && sbatch --parsable job.sh >/dev/null) || fail "sbatch of the exported script failed"
wait_sweep "$WT" 3 180
run_expect 0 git -C "$WT" model sweep status 3 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done" "the exported script's runs done"
# A second submission of the script finds its runs done and runs neither again (it would overwrite their results).
second=$(cd "$TEST_DIR" && sbatch --parsable job.sh) || fail "second sbatch of the exported script failed"
slurm_wait_job "$second" 60
assert_contains "$(cat "$TEST_DIR/repo/.git/git-model/persist/net/logs/sweep-3/run-1.log")" \
    "run 1 is done: Slurm task ${second}_1 does not run it again"
run_expect 2 git -C "$WT" model sweep start --export slurm --backend local --grid lr=1 -- true
assert_contains "$ERR" "leave out --backend local"
run_expect 2 git -C "$WT" model sweep start --export pbs --grid lr=1 -- true
assert_contains "$ERR" "expected k8s or slurm"

# --- --retries in the task, --max-failures checked by each task, resume after the fix -----------------------------
# Run "once" fails (status 3) on its first attempt only; the others fail until the cause is fixed.
cat >"$WT/flaky.sh" <<'EOF'
echo "$GIT_MODEL_RUN" >> "$GIT_MODEL_LOGS/calls"
case "$GIT_MODEL_PARAM_LR" in
once) [ -f "$GIT_MODEL_LOGS/marker" ] && exit 0; touch "$GIT_MODEL_LOGS/marker"; exit 3 ;;
*) [ -f "$GIT_MODEL_LOGS/fixed" ] || exit 1 ;;
esac
EOF
git -C "$WT" add flaky.sh
git -C "$WT" commit -q -m "a flaky script"
run_expect 0 git -C "$WT" model sweep start --backend slurm --no-container --max-parallel 1 --retries 1 --max-failures 1 \
    --grid lr=once,broken,later -- sh flaky.sh
ID=$(echo "$OUT" | awk '/^Sweep/ {print $2}')
LOGS="$TEST_DIR/repo/.git/git-model/persist/net/logs/sweep-$ID"
for _ in $(seq 720); do  # run 3 stays queued (held back): wait for its task to say so, and for Slurm to end it
    held=$(git -C "$WT" model sweep status "$ID" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][2]["held"])')
    [ "$held" = True ] && [ "$(squeue -h -r --name "gm-net-sweep-$ID" | wc -l)" = 0 ] && break
    sleep 0.25
done
run_expect 0 git -C "$WT" model sweep status "$ID" --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done failed queued" "retried, failed, held back"
assert_eq "$(json_get "$OUT" '[[a["exit_code"] for a in r["attempts"]] for r in d["runs"]]')" "[[3, 0], [1, 1], []]" \
    "every attempt's exit code, from the task's own loop"
assert_eq "$(sort -n "$LOGS/calls" | uniq -c | awk '{printf "%s:%s ", $2, $1}')" "1:2 2:2 " "run 3 never started"
assert_contains "$(cat "$LOGS/run-1.log")" "run 1 will be retried: attempt 1 failed (the command exited with status 3); retry 1 of 1"
run_expect 0 git -C "$WT" model sweep status "$ID"
assert_contains "$OUT" "1 queued, 1 done, 1 failed; stopped: the sweep reached --max-failures 1, 1 run not started"
touch "$LOGS/fixed"
run_expect 0 git -C "$WT" model sweep resume "$ID"
assert_contains "$OUT" "Resumed sweep $ID: runs 2-3 submitted to Slurm as job array"
wait_sweep "$WT" "$ID" 180
run_expect 0 git -C "$WT" model sweep status "$ID" --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done done" "resumed to all done"
assert_eq "$(sort -n "$LOGS/calls" | uniq -c | awk '{printf "%s:%s ", $2, $1}')" "1:2 2:3 3:1 " "the done run was not rerun"
# extend submits an array for the new runs only.
run_expect 0 git -C "$WT" model sweep extend "$ID" --grid lr=more
assert_contains "$OUT" "Extended sweep $ID: run 4 (1 new run) submitted to Slurm as job array"
assert_contains "$(cat "$TEST_DIR/repo/.git/git-model/sweeps/$ID/sweep.sbatch")" "Array task k runs run k+3"
wait_sweep "$WT" "$ID" 180
run_expect 0 git -C "$WT" model sweep status "$ID" --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done done done" "the new run done"
assert_eq "$(sort -n "$LOGS/calls" | uniq -c | awk '{printf "%s:%s ", $2, $1}')" "1:2 2:3 3:1 4:1 " "only the new run ran"
run_expect 1 git -C "$WT" model sweep extend 3 --grid lr=10
assert_contains "$ERR" "sweep 3 was exported"

# --- a teammate's scancel behind git-model's back: the runs its job never started showed as queued for
# ever, and resume refused them ("still queued in Slurm"); now they show as cancelled, and resume
# queues them again (red team s34d) ---------------------------------------------------------------------------
run_expect 0 git -C "$WT" model sweep start --backend slurm --no-container --max-parallel 1 --grid lr=5,6,7 -- sleep 300
sid=$(git -C "$WT" model sweep status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
wait_run_state "$WT" "$sid" 1 running 60
run_expect 0 git -C "$WT" model sweep status "$sid" --json
job=$(json_get "$OUT" 'd["runs"][0]["slurm_task"].split("_")[0]')
scancel "$job"
for _ in $(seq 120); do [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break; sleep 0.25; done
run_expect 0 git -C "$WT" model sweep status "$sid" --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "cancelled cancelled cancelled" "nothing shows as queued"
assert_contains "$(json_get "$OUT" 'd["runs"][2]["detail"]')" "Slurm no longer lists its job, which never started it"
run_expect 0 git -C "$WT" model sweep resume "$sid"
assert_contains "$OUT" "runs 1-3 submitted to Slurm"
run_expect 0 git -C "$WT" model sweep cancel "$sid"

# cancel_stops_all SWEEP SECONDS: `sweep cancel` of a two-run sweep whose command is `sleep SECONDS` leaves no task
# of it in Slurm, no such command running, and both runs shown cancelled.
cancel_stops_all() {
    local sid=$1 pattern="sleep $2"
    run_expect 0 git -C "$WT" model sweep cancel "$sid"
    assert_contains "$OUT" "2 unfinished runs stopped"
    assert_eq "$(squeue -h -r --name "gm-net-sweep-$sid" | wc -l)" "0" "every task of sweep $sid stopped, pending ones too"
    for _ in $(seq 40); do pgrep -f "$pattern" >/dev/null || break; sleep 0.25; done
    pgrep -f "$pattern" >/dev/null && fail "the runs' commands still run after sweep cancel: $(ps -eo pid,args | grep "$pattern")"
    run_expect 0 git -C "$WT" model sweep status "$sid" --json
    assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "cancelled cancelled" "stopped, and shown so"
}

# --- cancel of an exported sweep someone submitted by hand: its tasks are of no job git model submitted, so
# cancel showed its runs cancelled while they went on (and a resume would have run each twice at once, in one
# worktree). Now cancel stops each run's recorded task. ---------------------------------------------------------
run_expect 0 git -C "$WT" model sweep start --export slurm -o "$TEST_DIR/long.sh" --no-container --grid lr=10,11 -- \
    sh -c 'exec sleep 317'
xid=$(git -C "$WT" model sweep status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
(cd "$TEST_DIR" && sbatch --parsable long.sh >/dev/null) || fail "sbatch of the exported script failed"
wait_run_state "$WT" "$xid" 1 running 60
wait_run_state "$WT" "$xid" 2 running 60
cancel_stops_all "$xid" 317

# --- kill -9 of `sweep start` as sbatch answered: the job's id was never written down, so cancel missed the
# job and a resume ran its runs twice (red team s34d). Every job bears the sweep's random --comment, and
# cancel finds the caller's jobs by it, the pending tasks too. --------------------------------------------------
mkdir -p "$TEST_DIR/slow-sbatch"
cat >"$TEST_DIR/slow-sbatch/sbatch" <<EOF
#!/bin/sh
$(command -v sbatch) "\$@"; status=\$?
touch "$TEST_DIR/submitted-now"
exec sleep 60
EOF
chmod +x "$TEST_DIR/slow-sbatch/sbatch"
(cd "$WT" && PATH="$TEST_DIR/slow-sbatch:$PATH" exec git-model sweep start --backend slurm --no-container \
    --max-parallel 1 --grid lr=13,14 -- sh -c 'exec sleep 319' >/dev/null 2>&1) &
starter=$!
for _ in $(seq 240); do [ -f "$TEST_DIR/submitted-now" ] && break; sleep 0.25; done
{ kill -9 "$starter" && wait "$starter"; } 2>/dev/null || true
pkill -f "$TEST_DIR/slow-sbatch/sbatch" || true
zid=$(git -C "$WT" model sweep status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
assert_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["slurm"]["job_ids"])' \
    "$TEST_DIR/repo/.git/git-model/sweeps/$zid/sweep.json")" "[]" "the killed start wrote down no job"
wait_run_state "$WT" "$zid" 1 running 60
cancel_stops_all "$zid" 319

# --- an exported script submitted twice: the second task finds its run running in the first one's live task and
# does not run it again in the same worktree (red team s35a) -------------------------------------------------------
run_expect 0 git -C "$WT" model sweep start --export slurm -o "$TEST_DIR/twice.sh" --no-container --grid lr=15 -- \
    sh -c 'exec sleep 320'
wid=$(git -C "$WT" model sweep status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
first=$(cd "$TEST_DIR" && sbatch --parsable twice.sh)
wait_run_state "$WT" "$wid" 1 running 60
second=$(cd "$TEST_DIR" && sbatch --parsable twice.sh)
slurm_wait_job "$second" 60
assert_eq "$(pgrep -fc 'sleep 320')" "1" "the run's command runs once"
assert_contains "$(cat "$TEST_DIR/repo/.git/git-model/persist/net/logs/sweep-$wid/run-1.log")" \
    "run 1 is running in Slurm task ${first}_1: task ${second}_1 does not run it again"
run_expect 0 git -C "$WT" model sweep cancel "$wid"
assert_eq "$(squeue -h -r --name "gm-net-sweep-$wid" | wc -l)" "0" "cancel stopped the first job"

# A sweep from before job comments (none in sweep.json nor its script): cancel cannot tell a job of its name from
# another clone's, so it cancels none it did not record and names them; a squeue that cannot list the user's jobs
# is named too (red team s35b). A pending task of such a job finds its run cancelled when it starts.
run_expect 0 git -C "$WT" model sweep start --export slurm -o "$TEST_DIR/old.sh" --no-container --max-parallel 1 \
    --grid lr=16,17 -- sh -c 'exec sleep 321'
oid=$(git -C "$WT" model sweep status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
python3 - "$TEST_DIR/repo/.git/git-model/sweeps/$oid/sweep.json" <<'PY'
import json, sys
sweep = json.load(open(sys.argv[1]))
del sweep["slurm"]["job_comment"]
json.dump(sweep, open(sys.argv[1], "w"))
PY
sed -i '/^#SBATCH --comment=/d' "$TEST_DIR/old.sh"
old_job=$(cd "$TEST_DIR" && sbatch --parsable old.sh)
wait_run_state "$WT" "$oid" 1 running 60
run_expect 0 git -C "$WT" model sweep cancel "$oid"
assert_contains "$ERR" "Slurm job $old_job bears the name of sweep $oid, which was made before job comments"
mkdir -p "$TEST_DIR/no-squeue-user"
printf '#!/bin/sh\nfor a; do [ "$a" = --user ] && { echo "squeue: error: slurm_load_jobs: Socket timed out" >&2; exit 1; }; done\nexec %s "$@"\n' \
    "$(command -v squeue)" >"$TEST_DIR/no-squeue-user/squeue"
chmod +x "$TEST_DIR/no-squeue-user/squeue"
PATH="$TEST_DIR/no-squeue-user:$PATH" run_expect 0 git -C "$WT" model sweep cancel "$oid"
assert_contains "$ERR" "could not list your Slurm jobs (squeue: squeue: error: slurm_load_jobs: Socket timed out)"
run_expect 0 git -C "$WT" model sweep status "$oid" --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "cancelled cancelled" \
    "the old job's next task, started as the cancel ended its first, left its run cancelled"
scancel "$old_job"
slurm_wait_job "$old_job" 60

# A run record naming a task of some other job (a record is a file; in a group-shared repository a teammate
# can write it) is not scancelled: the run stays running, and the warning says why.
other=$(sbatch --parsable --job-name=not-a-sweep --array=1 --output=/dev/null --wrap 'sleep 318')
for _ in $(seq 120); do [ "$(squeue -h -j "${other}_1" -o %T 2>/dev/null)" = RUNNING ] && break; sleep 0.25; done
run_expect 0 git -C "$WT" model sweep start --export slurm -o "$TEST_DIR/one.sh" --no-container --grid lr=12 -- true
yid=$(git -C "$WT" model sweep status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
python3 - "$TEST_DIR/repo/.git/git-model/sweeps/$yid/runs/1.json" "${other}_1" <<'PY'
import json, sys, time
record = json.load(open(sys.argv[1]))
record.update(state="running", slurm_task=sys.argv[2], started=int(time.time()))
json.dump(record, open(sys.argv[1], "w"))
PY
run_expect 1 git -C "$WT" model sweep cancel "$yid"
assert_contains "$ERR" "1 run of sweep $yid may still run"
assert_contains "$ERR" "run 1 (Slurm task ${other}_1) was not cancelled: its job ('not-a-sweep') is not this sweep's"
assert_eq "$(squeue -h -j "${other}_1" -o %T)" "RUNNING" "another job's task is left alone"
assert_eq "$(git -C "$WT" model sweep status "$yid" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["state"])')" \
    "running" "a run that may go on is not shown as cancelled"
scancel "$other"

# --- bad Slurm options are refused before anything is made ------------------------------------------------------
before=$(git -C repo for-each-ref --format='%(refname)' | sort)
run_expect 2 git -C "$WT" model sweep start --backend slurm --partition 'debug;rm' --grid lr=1 -- true
assert_contains "$ERR" "--partition"
run_expect 2 git -C "$WT" model sweep start --partition debug --grid lr=1 -- true
assert_contains "$ERR" "add --backend slurm"
run_expect 1 git -C "$WT" model sweep start --backend slurm --no-container --partition nosuch --grid lr=1 -- true
assert_contains "$ERR" "sbatch refused the sweep"
assert_contains "$ERR" "the sweep's runs were removed"
assert_eq "$(git -C repo for-each-ref --format='%(refname)' | sort)" "$before" "nothing created by refused sweeps"

# --- Ctrl-C while sbatch takes the sweep: the sweep runs, and the warning says how to cancel it ------------------
real_sbatch=$(command -v sbatch)
mkdir -p "$TEST_DIR/interrupting"
printf '#!/bin/sh\nkill -INT "$PPID"\nexec %s "$@"\n' "$real_sbatch" >"$TEST_DIR/interrupting/sbatch"
chmod +x "$TEST_DIR/interrupting/sbatch"
PATH="$TEST_DIR/interrupting:$PATH" run_expect 0 git -C "$WT" model sweep start --backend slurm --no-container --grid lr=5 -- true
iid=$(git -C "$WT" model sweep status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
assert_contains "$ERR" "signal 2 came after sweep $iid was scheduled: its runs go on; \`git model sweep cancel $iid\` stops them"
assert_contains "$OUT" "submitted to Slurm"
wait_sweep "$WT" "$iid" 120
assert_eq "$(git -C "$WT" model sweep status "$iid" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["state"])')" \
    "done" "the sweep scheduled before the signal ran"
