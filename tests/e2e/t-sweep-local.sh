#!/usr/bin/env bash
# Sweeps on this machine, with real podman and a pool of two GPUs: five runs
# (one failing) never share a GPU and never run more than two at once; status,
# report and --tag-best show the results; cancel stops what runs and keeps the
# worktrees, resume reruns what did not finish, clean removes finished
# worktrees; GPUs held by `env up` are respected; bad requests create nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
git -C repo config model.gpus 0,1
git -C repo config model.env.stopTimeout 1s
write_modelenv repo "gpus: 1"
run_expect 0 git -C repo model start net
WT="$TEST_DIR/worktrees/feature/model-net"
LOGS="$TEST_DIR/repo/.git/git-model/persist/net/logs"

# Each run records its GPU and when it started and ended (host uptime: one clock for all containers).
cat >"$WT/train.sh" <<'EOF'
stamp() { echo "$GIT_MODEL_RUN $CUDA_VISIBLE_DEVICES $1 $(cut -d' ' -f1 /proc/uptime)" >> /persist/logs/times; }
stamp start
echo "training with lr=$GIT_MODEL_PARAM_LR batch=$GIT_MODEL_PARAM_BATCH on GPU $CUDA_VISIBLE_DEVICES, args: $*"
[ -f /persist/logs/fast ] || sleep "${SLEEP:-2}"
printf '{"acc": %s, "loss": {"val": %s}}\n' "0.$GIT_MODEL_PARAM_LR" "$GIT_MODEL_PARAM_LR" > metrics.json
stamp end
[ "$GIT_MODEL_PARAM_LR" != 3 ]
EOF
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"

# --- five runs on two GPUs -------------------------------------------------------------------------------
run_expect 0 git -C "$WT" model sweep start --grid lr=1,2,3,4,5 --grid batch=32 -- sh train.sh --lr '{lr}'
assert_contains "$OUT" "Sweep 1 of model net: 5 runs, queued on this machine"
# start returns at once: the sweep runs detached from this terminal
for k in 1 2 3 4 5; do assert_dir "$TEST_DIR/worktrees/feature/model-net.sweep-1-$k"; done
assert_eq "$(git -C repo show feature/model-net.sweep-1-4:params.json | python3 -c 'import json,sys; print(json.load(sys.stdin))')" \
    "{'lr': 4, 'batch': 32}" "params.json committed on the run's branch"
assert_eq "$(git -C repo rev-parse feature/model-net.sweep-1-4^)" "$(git -C repo rev-parse feature/model-net)" \
    "the run's commit sits on the model's branch"
wait_sweep "$WT" 1 120
assert_eq "$(check_schedule "$LOGS/sweep-1/times" 2)" "5" "five runs, two at a time, one per GPU"

run_expect 0 git -C "$WT" model sweep status 1 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done failed done done" "states"
assert_eq "$(json_get "$OUT" 'd["runs"][2]["exit_code"]')" "1" "the failed run's exit code"
assert_eq "$(json_get "$OUT" 'sorted({r["gpus"] for r in d["runs"]})')" "['0', '1']" "GPUs used"
assert_eq "$(json_get "$OUT" 'all(r["duration_seconds"] is not None for r in d["runs"])')" "True" "durations"
LOG1=$(json_get "$OUT" 'd["runs"][0]["log"]')
assert_contains "$(cat "$LOG1")" "training with lr=1 batch=32 on GPU"
assert_contains "$(cat "$LOG1")" "args: --lr 1"
assert_contains "$(cat "$LOG1")" "run 1 done"
run_expect 0 git -C "$WT" model sweep status 1
assert_contains "$OUT" "4 done, 1 failed"
assert_contains "$OUT" "run 3: the command exited with status 1"

run_expect 0 git -C repo model sweep report 1
assert_contains "$OUT" "best first by acc (higher is better, from the metric's name; --minimize to override)"
assert_eq "$(echo "$OUT" | awk '$1 ~ /^[0-9]+$/ {printf "%s ", $1}')" "5 4 3 2 1 " "best first"
run_expect 0 git -C repo model sweep report 1 --metric loss/val --minimize --json
assert_eq "$(json_get "$OUT" '[r["run"] for r in d["runs"]]')" "[1, 2, 3, 4, 5]" "nested metric, lower is better"
# A loss ranks lowest first without being told, and the report says why.
run_expect 0 git -C repo model sweep report 1 --metric loss/val
assert_contains "$OUT" "best first by loss/val (lower is better, from the metric's name; --maximize to override)"
assert_eq "$(echo "$OUT" | awk '$1 ~ /^[0-9]+$/ {printf "%s ", $1}')" "1 2 3 4 5 " "a loss, lowest first"
run_expect 0 git -C repo model sweep report 1 --metric loss/val --json
assert_eq "$(json_get "$OUT" 'd["minimize"], d["order_from"]')" "True name" "JSON says the order and its source"
run_expect 0 git -C repo model sweep report 1 --metric loss/val --maximize --json
assert_eq "$(json_get "$OUT" '[r["run"] for r in d["runs"]], d["order_from"]')" "[5, 4, 3, 2, 1] option" "--maximize overrides"
run_expect 2 git -C repo model sweep report 1 --minimize --maximize
assert_contains "$ERR" "--minimize and --maximize exclude each other"
run_expect 0 git -C repo model sweep report 1 --tag-best
assert_contains "$OUT" "Tagged model/net.sweep-1-5/v1"
assert_contains "$(git -C repo cat-file -p model/net.sweep-1-5/v1)" "Metric: acc=0.5"
run_expect 2 git -C repo model sweep report 1 --metric nope
assert_contains "$ERR" "no run of sweep 1 recorded the metric 'nope'"

# --- clean removes the finished worktrees, keeps branches and results ---------------------------------------
run_expect 0 git -C repo model sweep clean 1
assert_contains "$OUT" "5 worktrees removed"
assert_no_path "$TEST_DIR/worktrees/feature/model-net.sweep-1-2"
assert_branch_exists repo feature/model-net.sweep-1-2
run_expect 0 git -C repo model sweep report 1
assert_eq "$(echo "$OUT" | awk '$1 == "5" {print $NF}')" "5" "metrics survive clean"

# --- cancel stops what runs and keeps the worktrees; resume reruns the rest -----------------------------------
run_expect 0 git -C "$WT" model sweep start --grid lr=6,7,8 --max-parallel 1 -- env SLEEP=60 sh train.sh
wait_run_state "$WT" 2 1 running 60
run_expect 0 git -C "$WT" model sweep cancel 2
assert_contains "$OUT" "3 unfinished runs stopped"
run_expect 0 git -C "$WT" model sweep status 2 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "cancelled cancelled cancelled" "all cancelled"
assert_eq "$(test_containers | wc -l)" "0" "no container left"
assert_eq "$(ls "$GIT_MODEL_LEASE_DIR" | grep -c '\.lease$' || true)" "0" "no GPU lease left"
for k in 1 2 3; do assert_dir "$TEST_DIR/worktrees/feature/model-net.sweep-2-$k"; done
touch "$LOGS/sweep-2/fast"
run_expect 0 git -C "$WT" model sweep resume 2
assert_contains "$OUT" "Resumed sweep 2: runs 1-3"
wait_sweep "$WT" 2 120
run_expect 0 git -C "$WT" model sweep status 2 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done done" "resumed runs done"
assert_eq "$(json_get "$OUT" 'd["runs"][0]["attempt"]')" "2" "run 1 ran twice"
run_expect 0 git -C "$WT" model sweep resume 2
assert_contains "$OUT" "nothing to resume"

# --- the scheduler is detached from the terminal; one killed with -9 leaves nothing that cancel cannot clean ----
run_expect 0 git -C "$WT" model sweep start --grid lr=9 -- env SLEEP=60 sh train.sh
wait_run_state "$WT" 3 1 running 60
run_expect 0 git -C "$WT" model sweep status 3 --json
SCHED=$(json_get "$OUT" 'd["scheduler"].split("pid ")[1].rstrip(")")')
assert_eq "$(ps -o tty= -p "$SCHED" | tr -d ' ')" "?" "the scheduler has no terminal"
[ "$(ps -o sid= -p "$SCHED" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ] || fail "the scheduler is in our session"
kill -9 "$SCHED"
for _ in $(seq 100); do [[ $(git -C "$WT" model sweep status 3) == *"stopped unexpectedly"* ]] && break; sleep 0.1; done
run_expect 0 git -C "$WT" model sweep status 3
assert_contains "$OUT" "stopped unexpectedly"
# Its run (podman run, a process group of its own) still works: running, not failed, until cancelled.
assert_contains "$OUT" "the scheduler stopped, but this run's process (pid"
run_expect 1 git -C "$WT" model sweep resume 3
assert_contains "$ERR" "run 1 of sweep 3 is still running"
run_expect 0 git -C "$WT" model sweep cancel 3
assert_eq "$(test_containers | wc -l)" "0" "cancel removed the run's container"
assert_eq "$(ls "$GIT_MODEL_LEASE_DIR" | grep -c '\.lease$' || true)" "0" "and its GPU lease"

# --- a GPU held by `env up` is left alone --------------------------------------------------------------------
run_expect 0 git -C "$WT" model env up
assert_contains "$OUT" "gpus         0"
run_expect 0 git -C "$WT" model sweep start --grid lr=1,2 -- sh train.sh
wait_sweep "$WT" 4 120
assert_eq "$(cut -d' ' -f2 "$LOGS/sweep-4/times" | sort -u)" "1" "sweep runs only on the free GPU"
run_expect 0 git -C "$WT" model env down

# --- bad requests create nothing -------------------------------------------------------------------------------
before=$(git -C repo for-each-ref --format='%(refname)' | sort)
run_expect 2 git -C "$WT" model sweep start --grid lr=1,2
assert_contains "$ERR" "needs the command each run runs, after --"
run_expect 2 git -C "$WT" model sweep start --grid lr=1,2 -- echo '{rate}'
assert_contains "$ERR" "{rate}, which is not a parameter"
run_expect 2 git -C "$WT" model sweep start --grid lr -- true
assert_contains "$ERR" "expected <name>=<value>"
run_expect 2 git -C "$WT" model sweep start --grid lr=1,2 --grid LR=3 -- true
assert_contains "$ERR" "'lr' and 'LR' are both passed to the run as GIT_MODEL_PARAM_LR"
run_expect 2 git -C "$WT" model sweep start --grid a.b=1 --grid a-b=2 -- true
assert_contains "$ERR" "GIT_MODEL_PARAM_A_B"
printf 'lr: [1, 2]\nbatch:\n  - 32\n  - [64]\n' >"$TEST_DIR/params.yaml"
run_expect 1 git -C "$WT" model sweep start --params-file "$TEST_DIR/params.yaml" -- true
assert_contains "$ERR" "params.yaml:4:5: the value of 'batch' must be a number or text"
run_expect 3 git -c model.gpus= -C "$WT" model sweep start --grid lr=1 -- true
assert_contains "$ERR" "no GPU pool"
mkdir -p "$TEST_DIR/worktrees/feature/model-net.sweep-5-2"
touch "$TEST_DIR/worktrees/feature/model-net.sweep-5-2/x"
run_expect 1 git -C "$WT" model sweep start --grid lr=1,2,3 -- true
assert_contains "$ERR" "model-net.sweep-5-2 is in the way"
# a failure half way (git's post-checkout hook fails for the third run) removes the runs already made
rm -r "$TEST_DIR/worktrees/feature/model-net.sweep-5-2"
mkdir -p "$TEST_DIR/hooks"
printf '#!/bin/sh\ncase "$PWD" in *sweep-5-3) exit 1;; esac\n' >"$TEST_DIR/hooks/post-checkout"
chmod +x "$TEST_DIR/hooks/post-checkout"
git -C repo config core.hooksPath "$TEST_DIR/hooks"
run_expect 1 git -C "$WT" model sweep start --grid lr=1,2,3 -- true
assert_contains "$ERR" "the runs made so far were removed"
git -C repo config --unset core.hooksPath
assert_eq "$(git -C repo for-each-ref --format='%(refname)' | sort)" "$before" "no branch left by refused sweeps"
assert_eq "$(git_worktrees repo | grep -c 'sweep-5' || true)" "0" "no worktree left by refused sweeps"
assert_eq "$(test_containers | wc -l)" "0" "nothing running at the end"

# --- a run's engine client killed with its scheduler leaves its container: the next scheduler removes it -------
run_expect 0 git -C "$WT" model sweep start --grid lr=9 -- env SLEEP=60 sh train.sh
ID=$(git -C "$WT" model sweep status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
wait_run_state "$WT" "$ID" 1 running 60
run_expect 0 git -C "$WT" model sweep status "$ID" --json
SCHED=$(json_get "$OUT" 'd["scheduler"].split("pid ")[1].rstrip(")")')
CLIENT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$TEST_DIR/repo/.git/git-model/sweeps/$ID/runs/1.json")
kill -9 "$SCHED" "$CLIENT"
LEFT=$(test_containers)
[ -n "$LEFT" ] || fail "the killed client took its container along; this case needs it left"
LEFT_ID=$(podman inspect --format '{{.Id}}' "$LEFT")
run_expect 0 git -C "$WT" model sweep resume "$ID"
wait_run_state "$WT" "$ID" 1 running 60
assert_eq "$(test_containers)" "$LEFT" "one container of that name again"
[ "$(podman inspect --format '{{.Id}}' "$LEFT")" != "$LEFT_ID" ] || fail "the run did not start a new container"
run_expect 0 git -C "$WT" model sweep cancel "$ID"
assert_eq "$(test_containers | wc -l)" "0" "nothing running at the very end"
