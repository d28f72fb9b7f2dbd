#!/usr/bin/env bash
# Tidying a finished sweep's branches (issue #16, point 4), with a real bare remote and host runs:
# `list` shows one line per sweep under its model (`--all` every run, `--json` every run marked
# with its sweep); `sweep clean <id> --branches` archives the best run's commit as
# archive/model/<run model> (pushed to the remote), deletes the other runs' branches and
# worktrees, keeps and names a run with uncommitted changes and one with a commit nothing else
# holds (exit 1) until --force, is rerunnable after a SIGKILL, refuses a running sweep and says
# what a second clone or a missing remote means; `prune` of a merged model takes its sweep along.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net
RUNS="$TEST_DIR/worktrees/feature/model-net.sweep"
LOGS="$TEST_DIR/repo/.git/git-model/persist/net/logs"
# A run writes its loss (its lr) and fails for lr=9; with hold=1 it waits for $GIT_MODEL_LOGS/go first.
cat >"$WT/train.sh" <<'EOF2'
[ "$GIT_MODEL_PARAM_HOLD" != 1 ] || while [ ! -e "$GIT_MODEL_LOGS/go" ]; do sleep 0.1; done
printf '{"loss": %s}\n' "$GIT_MODEL_PARAM_LR" > metrics.json
[ "$GIT_MODEL_PARAM_LR" != 9 ]
EOF2
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"

run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=1,2,3,9 -- sh train.sh
wait_sweep "$WT" 1 60

# --- list: one line per sweep under its model; --all and --json show every run --------------------------------
run_expect 0 git -C repo model list
assert_contains "$OUT" "  └ sweep 1: 4 runs (3 done, 1 failed)"
assert_not_contains "$OUT" "net.sweep-1-" "the grouped list"
assert_eq "$(grep -c '^net ' <<<"$OUT")" "1" "the model's own row"
run_expect 0 git -C repo model list --all
for k in 1 2 3 4; do assert_contains "$OUT" "net.sweep-1-$k "; done
assert_not_contains "$OUT" "└ sweep" "--all"
run_expect 0 git -C repo model list --json
assert_eq "$(json_get "$OUT" '[(m["name"], m["sweep"]) for m in d["models"]][:2]')" \
    "[('net', None), ('net.sweep-1-1', {'id': '1', 'run': 1})]" "JSON rows keep the runs, marked"
assert_eq "$(json_get "$OUT" 'len(d["models"]), d["sweeps"][0]["model"], d["sweeps"][0]["runs"], d["sweeps"][0]["states"]')" \
    "5 net 4 {'done': 3, 'failed': 1}" "JSON sweeps"

# --- a run with uncommitted changes, a run with a commit nothing else holds ------------------------------------
echo '{"lr": 2, "note": "mine"}' >"$RUNS-1-2/params.json"
git -C "$RUNS-1-3" commit -q --allow-empty -m "an experiment of my own"
mkdir "$RUNS-1-3/out"
echo weights >"$RUNS-1-3/out/ckpt.pt"
# Run 4's worktree lost a tracked file, as a removal killed part way leaves it: its content is the
# commit's, so that is no reason to keep it.
rm "$RUNS-1-4/train.sh"
EXTRA=$(git -C repo rev-parse feature/model-net.sweep-1-3)
BEST=$(git -C repo rev-parse feature/model-net.sweep-1-1)

# A second clone has no record of the sweep, and says why.
git clone -q "$TEST_DIR/repo.git" clone2
git -C clone2 fetch -q "$TEST_DIR/repo" 'refs/heads/feature/*:refs/heads/feature/*'
run_expect 1 git -C clone2 model sweep clean 1 --branches
assert_contains "$ERR" "there is no record of sweep '1' in this repository, though 4 branches of its runs are here"
assert_contains "$ERR" "lives in the clone that started it"
run_expect 1 git -C clone2 model sweep clean 7 --branches
assert_contains "$ERR" "there is no sweep '7' in this repository"

# --dry-run: the plan, nothing changed; without the remote it says the tag stays here.
BEFORE=$(repo_state repo)
run_expect 0 git -C repo model sweep clean 1 --branches --dry-run
assert_contains "$OUT" "Sweep 1 of net: would archive run 1 (best by loss, lowest first) at ${BEST:0:10} as archive/model/net.sweep-1-1 and push it to origin"
assert_contains "$OUT" "run 2: kept feature/model-net.sweep-1-2: its worktree $RUNS-1-2 has uncommitted changes"
assert_contains "$OUT" "run 3: kept feature/model-net.sweep-1-3: its worktree $RUNS-1-3 holds files git does not track: out/"
assert_contains "$OUT" "; its branch feature/model-net.sweep-1-3 has commits that nothing else holds"
assert_contains "$OUT" "run 4: would delete feature/model-net.sweep-1-4 and its worktree $RUNS-1-4"
run_expect 0 git -C repo -c model.remote=nowhere model sweep clean 1 --branches --dry-run
assert_contains "$OUT" "(no remote 'nowhere': the tag stays here only)"
assert_eq "$(repo_state repo)" "$BEFORE" "dry runs change nothing"

# --- killed (SIGKILL) right after the archive tag was written: a rerun finishes the job ------------------------
cat >repo/.git/hooks/reference-transaction <<HOOK
#!/bin/sh
[ "\$1" = committed ] || exit 0
grep -q ' refs/tags/archive/model/net.sweep-1-1\$' || exit 0
[ -e "$TEST_DIR/killed" ] && exit 0
: >"$TEST_DIR/killed"
kill -9 \$(ps -o ppid= -p \$PPID)
HOOK
chmod +x repo/.git/hooks/reference-transaction
run_expect 137 git -C repo model sweep clean 1 --branches
[ -e "$TEST_DIR/killed" ] || fail "the hook did not fire: the test proves nothing"
rm repo/.git/hooks/reference-transaction
assert_branch_exists repo feature/model-net.sweep-1-1
run_expect 1 git -C repo model sweep clean 1 --branches
assert_contains "$OUT" "archived run 1 (best by loss, lowest first) at ${BEST:0:10} as archive/model/net.sweep-1-1, pushed to origin"
assert_contains "$OUT" "run 2: kept feature/model-net.sweep-1-2: its worktree $RUNS-1-2 has uncommitted changes"
assert_contains "$OUT" "run 3: kept feature/model-net.sweep-1-3: its worktree $RUNS-1-3 holds files git does not track: out/"
assert_contains "$OUT" "Sweep 1: 2 run branches removed, 2 kept"
assert_eq "$(git -C repo rev-parse 'archive/model/net.sweep-1-1^{commit}')" "$BEST" "the archive tag holds the best run"
assert_eq "$(git -C repo.git rev-parse 'refs/tags/archive/model/net.sweep-1-1^{commit}')" "$BEST" "the tag is on the remote"
assert_eq "$(git -C repo tag -l 'archive/model/net.sweep-1-1@*')" "" "the rerun reused the tag"
for k in 1 4; do assert_no_branch repo "feature/model-net.sweep-1-$k"; assert_no_path "$RUNS-1-$k"; done
assert_branch_exists repo feature/model-net.sweep-1-2
assert_eq "$(cat "$RUNS-1-2/params.json")" '{"lr": 2, "note": "mine"}' "the uncommitted change"
assert_eq "$(git -C repo rev-parse feature/model-net.sweep-1-3)" "$EXTRA" "the unheld commit's branch"
assert_eq "$(cat "$RUNS-1-3/out/ckpt.pt")" "weights" "the untracked file"
# the results stay readable beside the sweep's record
run_expect 0 git -C repo model sweep report 1
assert_eq "$(awk '$1 ~ /^[0-9]+$/ {printf "%s ", $1}' <<<"$OUT")" "1 2 3 4 " "report after clean"
run_expect 0 git -C repo model list
assert_contains "$OUT" "  └ sweep 1: 4 runs (3 done, 1 failed)"
run_expect 0 git -C repo model list --all
assert_not_contains "$OUT" "net.sweep-1-1 " "a removed run is no model any more"

# --force: the rest goes, as asked.
run_expect 0 git -C repo model sweep clean 1 --branches --force
assert_contains "$OUT" "run 2: --force overrode: its worktree $RUNS-1-2 has uncommitted changes"
for k in 2 3; do assert_no_branch repo "feature/model-net.sweep-1-$k"; assert_no_path "$RUNS-1-$k"; done
run_expect 0 git -C repo model list
assert_not_contains "$OUT" "sweep 1" "a tidied sweep leaves the list"
run_expect 2 git -C repo model sweep clean 1 --force
assert_contains "$ERR" "--force goes with --branches"

# --- a running sweep is refused ----------------------------------------------------------------------------------
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --grid lr=4,5 --grid hold=1 -- sh train.sh
BEFORE=$(repo_state repo)
run_expect 1 git -C repo model sweep clean 2 --branches
assert_contains "$OUT" "Sweep 2 of net: kept: sweep 2 is running"
assert_eq "$(repo_state repo)" "$BEFORE" "a refused clean changes nothing"
: >"$LOGS/sweep-2/go"
wait_sweep "$WT" 2 60

# --- a run's worktree whose HEAD left its branch holds what it committed there: kept, even with --force ---------
git -C "$RUNS-2-2" switch -q --detach
commit_at "$RUNS-2-2" "2026-02-20T10:00:00Z" "a detached experiment" side.txt
SIDE=$(git -C "$RUNS-2-2" rev-parse HEAD)
run_expect 0 git -C repo model sweep clean 2 --branches --force --dry-run
assert_contains "$OUT" "run 2: kept feature/model-net.sweep-2-2: its worktree $RUNS-2-2: its HEAD is detached rather than on feature/model-net.sweep-2-2"
run_expect 0 git -C repo model sweep clean 2
assert_contains "$OUT" "its HEAD is detached rather than on feature/model-net.sweep-2-2: commits made there would go with it"
assert_eq "$(git -C "$RUNS-2-2" rev-parse HEAD)" "$SIDE" "the worktree and its commit are kept"
git -C "$RUNS-2-2" switch -q feature/model-net.sweep-2-2

# --- prune of the merged model takes its sweep along ------------------------------------------------------------
git -C repo merge -q --no-ff -m "Merge net" feature/model-net
git -C repo push -q origin main
run_expect 0 git -C repo model prune --retention 0s --dry-run
assert_contains "$OUT" "Sweep 2 of net: would archive run 1 (best by loss, lowest first)"
assert_contains "$OUT" "run 2: would delete feature/model-net.sweep-2-2"
assert_not_contains "$OUT" "keep  net.sweep-2-" "run models are not judged as models of their own"
assert_contains "$OUT" "Dry run: 1 would be pruned, 0 kept."
BEST2=$(git -C repo rev-parse feature/model-net.sweep-2-1)
run_expect 0 git -C repo model prune --retention 0s --remote
assert_no_branch repo feature/model-net
for k in 1 2; do assert_no_branch repo "feature/model-net.sweep-2-$k"; assert_no_path "$RUNS-2-$k"; done
assert_eq "$(git -C repo.git rev-parse 'refs/tags/archive/model/net.sweep-2-1^{commit}')" "$BEST2" "prune pushed the sweep's archive"
run_expect 0 git -C repo model list
assert_not_contains "$OUT" "sweep 2" "the pruned sweep"
