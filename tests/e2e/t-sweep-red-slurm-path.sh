#!/usr/bin/env bash
# Red team, on a real single-node Slurm: a repository in a folder whose name holds a space and
# a '%' ("with space 100%j"). sbatch refused the old script ("Invalid directive found in batch
# script: space", blamed on the partition/account/time); the #SBATCH --output value is now
# quoted with '%' doubled, so the task runs and its Slurm output lands in the sweep's own
# slurm/ folder, not in a folder named after the job id; the report job's output as well.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slurm-lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

slurm_start
D="$TEST_DIR/with space 100%j"
mkdir -p "$D"
cd "$D"
make_repo repo
git -C repo config model.installHooks never
run_expect 0 git -C repo model start net
WT="$D/worktrees/feature/model-net"
cat >"$WT/train.sh" <<'SH'
echo "task of run $GIT_MODEL_RUN"
printf '{"loss": %s}\n' "$GIT_MODEL_PARAM_LR" > metrics.json
SH
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"

run_expect 0 git -C "$WT" model sweep start --backend slurm --no-container --gpus-per-run 0 --report-job \
    --grid lr=1,2 -- sh train.sh
assert_contains "$OUT" "submitted to Slurm"
SWEEP="$D/repo/.git/git-model/sweeps/1"
job=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["slurm"]["job_ids"][0])' "$SWEEP/sweep.json")
report=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["slurm"]["report_job_ids"][0])' "$SWEEP/sweep.json")
slurm_wait_job "$job" 120
slurm_wait_job "$report" 120
for f in "${job}_1.out" "${job}_2.out" report.out; do
    CHECKS=$((CHECKS + 1))
    [ -e "$SWEEP/slurm/$f" ] || fail "Slurm's output $f is not in $SWEEP/slurm: $(ls -R "$D")"
done
assert_contains "$(cat "$D/repo/.git/git-model/persist/net/logs/sweep-1/run-2.log")" "task of run 2"
assert_contains "$(cat "$SWEEP/slurm/report.out")" "best first by loss"
run_expect 0 git -C "$WT" model sweep status 1
assert_contains "$OUT" "2 done"
