#!/usr/bin/env bash
# A sweep larger than the cluster's MaxArraySize, on a real single-node Slurm whose MaxArraySize
# is 5 (task ids 0-4): 11 runs become three job arrays (tasks 1-4, 1-4, 1-3, offset 0, 4 and 8),
# run one after another (afterany) under --max-parallel; every run finishes, status maps each
# array task back to its run, and the exported form is a script that submits the three arrays.
# (The issue's 1,500 runs under 1001 take the same code path: tests/unit/sweep.cpp checks the split.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slurm-lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

export GM_SLURM_MAX_ARRAY_SIZE=5
slurm_start
cd "$TEST_DIR"
start_sweep_model net --no-remote
cat >"$WT/train.sh" <<'SH'
echo "$GIT_MODEL_RUN $SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID" >> "$GIT_MODEL_LOGS/tasks"
printf '{"loss": %s}\n' "$GIT_MODEL_PARAM_LR" > metrics.json
SH
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"
grid=lr=1,2,3,4,5,6,7,8,9,10,11

run_expect 0 git -C "$WT" model sweep start --backend slurm --no-container --gpus-per-run 0 --max-parallel 2 \
    --report-job --grid "$grid" -- sh train.sh
assert_contains "$OUT" "11 runs, submitted to Slurm as job arrays"
SWEEP="$TEST_DIR/repo/.git/git-model/sweeps/1"
assert_contains "$(cat "$SWEEP/slurm-1.sbatch")" "#SBATCH --array=1-4%2"
assert_contains "$(cat "$SWEEP/slurm-3.sbatch")" "#SBATCH --array=1-3%2"
assert_contains "$(cat "$SWEEP/slurm-3.sbatch")" '"$((SLURM_ARRAY_TASK_ID + 8))"'
wait_sweep "$WT" 1 240
run_expect 0 git -C "$WT" model sweep status 1 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "$(printf 'done %.0s' {1..11} | sed 's/ $//')" "all 11 done"
assert_eq "$(json_get "$OUT" 'len(d["slurm_jobs"])')" "3" "three arrays"
# Run 9 ran as task 1 of the third array.
assert_eq "$(json_get "$OUT" 'd["runs"][8]["slurm_task"] == d["slurm_jobs"][2] + "_1"')" "True" "run 9 is task 1 of array 3"
LOGS="$TEST_DIR/repo/.git/git-model/persist/net/logs/sweep-1"
assert_eq "$(cut -d' ' -f1 "$LOGS/tasks" | sort -n | tr '\n' ' ')" "1 2 3 4 5 6 7 8 9 10 11 " "each run once"
run_expect 0 git -C "$WT" model sweep report 1
assert_eq "$(echo "$OUT" | awk '$1 ~ /^[0-9]+$/ {printf "%s ", $1}')" "1 2 3 4 5 6 7 8 9 10 11 " "report over all arrays"
# --report-job: Slurm ran the report once every array had ended.
for _ in $(seq 120); do grep -q "best first" "$SWEEP/slurm/report.out" 2>/dev/null && break; sleep 0.5; done
assert_contains "$(cat "$SWEEP/slurm/report.out" 2>/dev/null)" "Sweep 1 of model net: 11 runs, best first by loss"
assert_eq "$(awk '$1 ~ /^[0-9]+$/ {printf "%s ", $1}' "$SWEEP/slurm/report.out")" "1 2 3 4 5 6 7 8 9 10 11 " "the report job's table"
run_expect 2 git -C "$WT" model sweep start --report-job --grid lr=1 -- true
assert_contains "$ERR" "--report-job is a Slurm option"

# --- exported, the entry point submits each array --------------------------------------------------------------
run_expect 0 git -C "$WT" model sweep start --export slurm -o "$TEST_DIR/job.sh" --no-container --gpus-per-run 0 \
    --grid lr=1,2,3,4,5,6 -- sh train.sh
assert_contains "$OUT" "written as 2 Slurm job arrays:"
assert_contains "$OUT" "sh $TEST_DIR/job.sh"
(cd "$TEST_DIR" && sh job.sh) >"$TEST_DIR/submitted" || fail "the exported script did not submit: $(cat "$TEST_DIR/submitted")"
assert_eq "$(grep -c '^submitted job array' "$TEST_DIR/submitted")" "2" "two arrays submitted"
wait_sweep "$WT" 2 240
run_expect 0 git -C "$WT" model sweep status 2 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done done done done done" "exported runs done"

