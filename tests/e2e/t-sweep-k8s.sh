#!/usr/bin/env bash
# `git model sweep start --export k8s`: the runs are created (commits, branches,
# worktrees) and written as a Kubernetes Indexed Job: one completion per run,
# the pinned image, nvidia.com/gpu in the limits, the worktrees mounted at
# their own path; each index's command, run here with sh, is its run's.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
printf 'image: registry.example.com/team/pytorch:2.4.0\n' >repo/.modelenv.yaml
git -C repo add .modelenv.yaml
git -C repo commit -q -m environment
run_expect 0 git -C repo model start net
WT="$TEST_DIR/worktrees/feature/model-net"

run_expect 0 git -C "$WT" model sweep start --export k8s -o "$TEST_DIR/job.yaml" --gpus-per-run 2 --max-parallel 2 \
    --grid lr=1e-3,3e-4 --grid opt=sgd,adam -- sh -c 'echo "$GIT_MODEL_RUN $GIT_MODEL_PARAM_OPT $0" > out' '{lr}'
assert_contains "$OUT" "4 runs, written as a Kubernetes Indexed Job"
assert_eq "$(cat "$TEST_DIR/job.yaml")" "$(cat repo/.git/git-model/sweeps/1/k8s-job.yaml)" "-o writes the same manifest"
for k in 1 2 3 4; do assert_dir "$TEST_DIR/worktrees/feature/model-net.sweep-1-$k"; done

shape=$(python3 - "$TEST_DIR/job.yaml" <<'PY'
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
spec = job["spec"]
pod = spec["template"]["spec"]
c = pod["containers"][0]
print(job["apiVersion"], job["kind"], spec["completionMode"], spec["completions"], spec["parallelism"],
      pod["restartPolicy"], c["image"], c["resources"]["limits"]["nvidia.com/gpu"],
      c["volumeMounts"][0]["mountPath"] == pod["volumes"][0]["hostPath"]["path"], job["metadata"]["name"],
      spec["backoffLimitPerIndex"], spec["maxFailedIndexes"])
PY
)
assert_eq "$shape" "batch/v1 Job Indexed 4 2 Never registry.example.com/team/pytorch:2.4.0 2 True gm-net-sweep-1 0 4" \
    "manifest shape (no retry, no failure limit)"

# Each index runs its own run: the pod's shell script, run here with JOB_COMPLETION_INDEX set.
script=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["containers"][0]["command"][2])' "$TEST_DIR/job.yaml")
for index in 0 3; do JOB_COMPLETION_INDEX=$index sh -c "$script"; done
assert_eq "$(cat "$TEST_DIR/worktrees/feature/model-net.sweep-1-1/out")" "1 sgd 1e-3" "index 0 runs run 1"
assert_eq "$(cat "$TEST_DIR/worktrees/feature/model-net.sweep-1-4/out")" "4 adam 3e-4" "index 3 runs run 4"
run_expect 2 env JOB_COMPLETION_INDEX=9 sh -c "$script"
assert_contains "$ERR" "no run for index 9"

# --- export needs the pinned image, and schedules nothing -------------------------------------------------------
run_expect 2 git -C "$WT" model sweep start --export k8s --no-container --grid lr=1 -- true
assert_contains "$ERR" "leave out --no-container"
run_expect 2 git -C "$WT" model sweep start --export k8s --backend slurm --grid lr=1 -- true
assert_contains "$ERR" "schedules nothing"

# --- the container settings of .modelenv.yaml, the persist variables and a Kueue queue --------------------------
cat >"$WT/.modelenv.yaml" <<'YAML'
image: registry.example.com/team/pytorch:2.4.0
memory: 16g
cpus: 1.5
shm_size: 2g
env:
  WANDB_MODE: offline
  SEED: 7
YAML
git -C "$WT" commit -q -am "limits, shm and env"
run_expect 0 git -C "$WT" model sweep start --export k8s -o "$TEST_DIR/job2.yaml" --queue team-a --retries 2 --max-failures 2 \
    --grid lr=1,2 -- sh -c 'echo "$GIT_MODEL_PARAMS $GIT_MODEL_CHECKPOINTS $GIT_MODEL_LOGS" > where'
fields=$(python3 - "$TEST_DIR/job2.yaml" <<'PY'
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
# The batch/v1 Job schema's required fields, and what an Indexed Job with per-index backoff needs.
assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job", job
assert job["metadata"]["name"], "metadata.name"
spec = job["spec"]
assert spec["completionMode"] == "Indexed" and isinstance(spec["completions"], int), spec
pod = spec["template"]["spec"]
assert pod["restartPolicy"] == "Never", "backoffLimitPerIndex needs restartPolicy Never"
# --retries 2: two pod restarts per index; --max-failures 2: the Job fails when failed indexes exceed 1.
assert spec["backoffLimitPerIndex"] == 2 and spec["maxFailedIndexes"] == 1, spec
assert isinstance(spec["backoffLimitPerIndex"], int) and isinstance(spec["maxFailedIndexes"], int), spec
assert spec["maxFailedIndexes"] <= spec["completions"], spec
for c in pod["containers"]:
    assert c["name"] and c["image"], c
mounts = {m["name"]: m["mountPath"] for c in pod["containers"] for m in c["volumeMounts"]}
volumes = {v["name"]: v for v in pod["volumes"]}
assert set(mounts) == set(volumes), (mounts, volumes)
c = pod["containers"][0]
limits = c["resources"]["limits"]
env = {e["name"]: e["value"] for e in c["env"]}
print(job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"], limits["memory"], limits["cpu"], limits["nvidia.com/gpu"],
      mounts["shm"], volumes["shm"]["emptyDir"]["medium"], volumes["shm"]["emptyDir"]["sizeLimit"],
      env["WANDB_MODE"], env["SEED"])
PY
)
assert_eq "$fields" "team-a 17179869184 1500m 1 /dev/shm Memory 2147483648 offline 7" "limits, shm, env and queue"
script=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["containers"][0]["command"][2])' "$TEST_DIR/job2.yaml")
JOB_COMPLETION_INDEX=1 sh -c "$script"
read -r params checkpoints logs <"$TEST_DIR/worktrees/feature/model-net.sweep-2-2/where"
assert_eq "$params" "$TEST_DIR/worktrees/feature/model-net.sweep-2-2/params.json" "GIT_MODEL_PARAMS"
assert_dir "$checkpoints"
assert_contains "$checkpoints" "sweep-2"
assert_contains "$logs" "sweep-2"
# Every path a pod is given lies below the one hostPath mounted.
root=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["volumes"][0]["hostPath"]["path"])' "$TEST_DIR/job2.yaml")
for path in "$params" "$checkpoints" "$logs"; do assert_contains "$path" "$root/"; done
run_expect 2 git -C "$WT" model sweep start --export k8s --queue Team_A --grid lr=1 -- true
assert_contains "$ERR" "--queue 'Team_A': the name contains 'T'"
run_expect 2 git -C "$WT" model sweep start --queue team-a --grid lr=1 -- true
assert_contains "$ERR" "--queue goes with --export k8s"
# git model does not schedule an exported Job: cancel and resume say so (exit 1) and change no run,
# instead of marking runs cancelled that the cluster may be running.
run_expect 1 git -C "$WT" model sweep cancel 1
assert_contains "$ERR" "exported as a Kubernetes Indexed Job"
assert_contains "$ERR" "kubectl delete job"
run_expect 1 git -C "$WT" model sweep resume 1
assert_contains "$ERR" "exported as a Kubernetes Indexed Job"
run_expect 0 git -C "$WT" model sweep status 1
assert_not_contains "$OUT" "cancelled" "a refused cancel leaves the runs as they were"
