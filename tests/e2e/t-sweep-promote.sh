#!/usr/bin/env bash
# git model sweep promote: the best finished run's params.json and its --carry files are
# committed onto feature/model-<m> (only those paths: the user's other changes stay
# uncommitted) and snapshotted on the model itself, so that `git model log` and `best` show it
# and the tag reaches the branch's upstream. Promoting twice changes nothing; --run picks a run;
# a run that is not done, a path the user changed, a link in the way (in the run's worktree or
# the model's), a hook that refuses the commit, and a model without a worktree are refused with
# nothing changed; a snapshot refused after the commit leaves the commit and says how to finish;
# the files a promote killed before its commit left behind are taken as they are.
# Bad --carry paths are refused by `sweep start` (exit 2) before anything is made.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --push

# Each run writes its loss (lr 0.02 is best; run 4 writes the lowest loss but fails) and notes.
cat >"$WT/train.sh" <<'SH'
mkdir -p out
echo "notes of lr=$GIT_MODEL_PARAM_LR" > out/notes.txt
case "$GIT_MODEL_PARAM_LR" in 0.01) loss=0.3 ;; 0.02) loss=0.21 ;; 0.03) loss=0.4 ;; 0.04) loss=0.1 ;; *) loss=-1 ;; esac
printf '{"val": {"loss": %s}, "acc": 0.9}\n' "$loss" > metrics.json
[ "$GIT_MODEL_PARAM_LR" != 0.5 ]
SH
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"
git -C "$WT" push -q

run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry out/notes.txt \
    --grid lr=0.01,0.02,0.03,0.5 -- sh train.sh
wait_sweep "$WT" 1 60
run_expect 0 git -C "$WT" model sweep status 1 --json
assert_eq "$(json_get "$OUT" '" ".join(r["state"] for r in d["runs"])')" "done done done failed" "states"
HEAD0=$(git -C repo rev-parse feature/model-net)

# --- refusals: nothing changes -------------------------------------------------------------------------------
run_expect 1 git -C "$WT" model sweep promote 1 --run 4
assert_contains "$ERR" "run 4 of sweep 1 is failed"
assert_contains "$ERR" "only a run that finished (done) is promoted"
run_expect 1 git -C "$WT" model sweep promote 1 --run 9
assert_contains "$ERR" "sweep 1 has no run 9"
run_expect 2 git -C "$WT" model sweep promote
assert_contains "$ERR" "needs the sweep's id"
# The user's own params.json in the model's worktree is never overwritten.
echo '{"lr": "mine"}' >"$WT/params.json"
run_expect 1 git -C "$WT" model sweep promote 1
assert_contains "$ERR" "params.json in the model's worktree $WT has uncommitted changes; nothing was promoted"
assert_eq "$(cat "$WT/params.json")" '{"lr": "mine"}' "the user's params.json is kept"
assert_no_path "$WT/out"
rm "$WT/params.json"
# A link where a carried file goes: nothing is written through it.
mkdir "$TEST_DIR/elsewhere"
ln -s "$TEST_DIR/elsewhere" "$WT/out"
run_expect 1 git -C "$WT" model sweep promote 1
assert_contains "$ERR" "$WT/out in the model's worktree is a symbolic link"
assert_eq "$(ls -A "$TEST_DIR/elsewhere")" "" "nothing written through the link"
assert_no_path "$WT/params.json"
rm "$WT/out"
# A hook that refuses the commit: every file is put back as it was.
printf '#!/bin/sh\necho "hook says no" >&2\nexit 1\n' >"$TEST_DIR/repo/.git/hooks/pre-commit"
chmod +x "$TEST_DIR/repo/.git/hooks/pre-commit"
run_expect 1 git -C "$WT" model sweep promote 1
assert_contains "$ERR" "hook says no"
assert_contains "$ERR" "the files were put back as they were"
assert_no_path "$WT/params.json"
assert_no_path "$WT/out"
assert_eq "$(git -C "$WT" status --porcelain)" "" "index and worktree as before"
rm "$TEST_DIR/repo/.git/hooks/pre-commit"
assert_eq "$(git -C repo rev-parse feature/model-net)" "$HEAD0" "no refusal moved the branch"
assert_eq "$(git -C repo tag -l 'model/*')" "" "no refusal made a snapshot"

# --- promote the best run, with the user's other changes left alone ----------------------------------------------
# What a promote killed after writing the files (before its commit) leaves is taken as it is.
RUN2="$TEST_DIR/worktrees/feature/model-net.sweep-1-2"
mkdir "$WT/out"
cp "$RUN2/params.json" "$WT/params.json"
cp "$RUN2/out/notes.txt" "$WT/out/notes.txt"
echo "# my edit" >>"$WT/train.sh"
echo "work in progress" >"$WT/staged.txt"
git -C "$WT" add staged.txt
run_expect 0 git -C "$WT" model sweep promote 1
assert_contains "$OUT" "Promoted run 2 of sweep 1 onto feature/model-net: commit"
assert_contains "$OUT" "(params.json, out/notes.txt)"
assert_contains "$OUT" "Tagged model/net/v1"
assert_contains "$OUT" "Pushed model/net/v1 to origin."
assert_eq "$(git -C repo log -1 --format=%s feature/model-net)" "Promote sweep 1 run 2 (val/loss=0.21, lr=0.02)" "subject"
assert_eq "$(git -C repo rev-parse feature/model-net^)" "$HEAD0" "one commit on top"
assert_eq "$(git -C repo show --format= --name-only feature/model-net | sort | tr '\n' ' ')" "out/notes.txt params.json " \
    "only the promoted paths are committed"
assert_eq "$(git -C repo show feature/model-net:params.json | python3 -c 'import json,sys; print(json.load(sys.stdin))')" \
    "{'lr': 0.02}" "the best run's params.json"
assert_eq "$(git -C repo show feature/model-net:out/notes.txt)" "notes of lr=0.02" "the carried file"
assert_contains "$(git -C repo log -1 --format=%B feature/model-net)" "Metrics: val/loss=0.21, acc=0.9"
assert_eq "$(git -C "$WT" status --porcelain | sort | tr '\n' ' ')" " M train.sh A  staged.txt " "the user's changes stay uncommitted"
run_expect 0 git -C "$WT" model log net
assert_contains "$OUT" "v1"
assert_contains "$OUT" "val/loss=0.21"
run_expect 0 git -C "$WT" model best net --metric val/loss --json
assert_contains "$OUT" "model/net/v1"
assert_eq "$(git -C repo.git rev-parse -q --verify refs/tags/model/net/v1 >/dev/null && echo yes)" "yes" "the tag reached the upstream"

# --- twice: nothing new ----------------------------------------------------------------------------------------
HEAD1=$(git -C repo rev-parse feature/model-net)
run_expect 0 git -C "$WT" model sweep promote 1
assert_contains "$OUT" "Run 2 of sweep 1 is already promoted"
assert_contains "$OUT" "model/net/v1 records it"
assert_eq "$(git -C repo rev-parse feature/model-net)" "$HEAD1" "no empty commit"
assert_eq "$(git -C repo tag -l 'model/net/*' | tr '\n' ' ')" "model/net/v1 " "no second snapshot"

# --- --run K, with --no-push ---------------------------------------------------------------------------------------
run_expect 0 git -C "$WT" model sweep promote 1 --run 1 --no-push
assert_contains "$OUT" "Tagged model/net/v2"
assert_not_contains "$OUT" "Pushed"
assert_eq "$(git -C repo log -1 --format=%s feature/model-net)" "Promote sweep 1 run 1 (val/loss=0.3, lr=0.01)" "--run 1"
assert_eq "$(git -C repo show feature/model-net:out/notes.txt)" "notes of lr=0.01" "run 1's carried file"
assert_eq "$(git -C repo.git tag -l 'model/net/v2')" "" "--no-push keeps the tag here"

# --- a snapshot refused after the commit: the commit stays, promoting again snapshots it --------------------------
git -C repo config model.tag.requireClean true
run_expect 1 git -C "$WT" model sweep promote 1 --run 3
assert_contains "$ERR" "committed run 3's files onto feature/model-net as"
assert_contains "$ERR" "but the snapshot was not made"
assert_contains "$ERR" "git model sweep promote 1 --run 3"
assert_eq "$(git -C repo log -1 --format=%s feature/model-net)" "Promote sweep 1 run 3 (val/loss=0.4, lr=0.03)" "the commit stays"
assert_eq "$(git -C repo tag -l 'model/net/v3')" "" "no snapshot"
git -C repo config --unset model.tag.requireClean
HEAD3=$(git -C repo rev-parse feature/model-net)
run_expect 0 git -C "$WT" model sweep promote 1 --run 3
assert_contains "$OUT" "feature/model-net already holds run 3's files"
assert_contains "$OUT" "Tagged model/net/v3 at ${HEAD3:0:10}"
assert_eq "$(git -C repo rev-parse feature/model-net)" "$HEAD3" "no second commit"

# --- extend keeps --carry -------------------------------------------------------------------------------------------
run_expect 0 git -C "$WT" model sweep extend 1 --grid lr=0.04
wait_sweep "$WT" 1 60
run_expect 0 git -C "$WT" model sweep promote 1 --metric val/loss
assert_contains "$OUT" "Promoted run 5 of sweep 1"
assert_eq "$(git -C repo show feature/model-net:out/notes.txt)" "notes of lr=0.04" "the extended run's file is carried"

# --- a run that planted a link to outside its worktree ---------------------------------------------------------------
echo "secret outside" >"$TEST_DIR/outside.txt"
cat >"$WT/evil.sh" <<SH
mkdir -p out && ln -sf "$TEST_DIR/outside.txt" out/notes.txt
echo '{"val": {"loss": 0.01}}' > metrics.json
SH
git -C "$WT" add evil.sh
git -C "$WT" commit -q -m "evil script"
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry out/notes.txt --grid lr=1 -- sh evil.sh
wait_sweep "$WT" 2 60
HEAD5=$(git -C repo rev-parse feature/model-net)
run_expect 1 git -C "$WT" model sweep promote 2
assert_contains "$ERR" "run 1's carried file out/notes.txt goes through the symbolic link"
assert_contains "$ERR" "which leads out of the worktree"
assert_eq "$(git -C repo rev-parse feature/model-net)" "$HEAD5" "nothing committed"
assert_eq "$(git -C "$WT" show HEAD:out/notes.txt)" "notes of lr=0.04" "the model's file unchanged"

# --- bad --carry at start: usage errors, no sweep made -------------------------------------------------------------
for bad in ../x /etc/passwd out/../../x .git/config params.json; do
    run_expect 2 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry "$bad" --grid lr=1 -- true
    assert_contains "$ERR" "--carry '$bad': the path"
done
ln -s "$TEST_DIR" "$WT/escape"
git -C "$WT" add escape
git -C "$WT" commit -q -m "a link out"
run_expect 2 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry escape/x --grid lr=1 -- true
assert_contains "$ERR" "goes through the symbolic link $WT/escape, which leads out of the worktree"
run_expect 0 git -C "$WT" model sweep status --json
assert_eq "$(ls "$TEST_DIR/repo/.git/git-model/sweeps" | grep -c '^[0-9]')" "2" "no sweep made by a refused start"

# --- a model without a worktree --------------------------------------------------------------------------------------
git -C repo worktree remove --force "$WT"
HEAD6=$(git -C repo rev-parse feature/model-net)
run_expect 1 git -C repo model sweep promote 1 --run 1
assert_contains "$ERR" "model net has no worktree to promote run 1 into"
assert_eq "$(git -C repo rev-parse feature/model-net)" "$HEAD6" "nothing committed"
