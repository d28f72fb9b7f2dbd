#!/usr/bin/env bash
# Plain `sweep clean <id>` (worktrees only) with --carry: a finished run's carried outputs are
# moved, byte-identical, to its shelf (runs/<k>.carried/) and its worktree goes (exit 0, branch
# kept); a run that something else keeps (another untracked file, an uncommitted change, a lock) keeps
# its carried files where they were, untouched; `status` names the shelf, `promote` of a run
# cleaned this way takes its files from there, and `clean --branches` afterwards finishes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net
RUNS="$TEST_DIR/worktrees/feature/model-net.sweep"
SWEEP="$TEST_DIR/repo/.git/git-model/sweeps/1"
cat >"$WT/train.sh" <<'SH'
head -c 65536 /dev/urandom > weights.bin
printf '{"loss": %s}\n' "$GIT_MODEL_PARAM_LR" > metrics.json
[ "$GIT_MODEL_PARAM_LR" != 2 ] || echo scratch > extra.txt
SH
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"

run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry weights.bin \
    --grid lr=1,2,3,4 -- sh train.sh
wait_sweep "$WT" 1 60
mkdir originals
for k in 1 2 3 4; do cp -p "$RUNS-1-$k/weights.bin" "originals/$k.bin"; done
echo "edited" >>"$RUNS-1-3/train.sh"  # run 3: an uncommitted change
git -C repo worktree lock --reason "kept for review" "$RUNS-1-4"  # run 4: locked by its user

run_expect 0 git -C repo model sweep clean 1
assert_contains "$OUT" "run 1: shelved weights.bin in $SWEEP/runs/1.carried"
assert_contains "$OUT" "run 1: removed $RUNS-1-1 (branch feature/model-net.sweep-1-1 kept)"
assert_contains "$OUT" "run 2: kept, its worktree $RUNS-1-2 holds files git does not track: extra.txt"
assert_contains "$OUT" "run 3: kept, its worktree $RUNS-1-3 has uncommitted changes"
assert_contains "$OUT" "run 4: kept, its worktree is locked: kept for review"
assert_contains "$OUT" "Cleaned sweep 1: 1 worktree removed, 3 kept"
assert_no_path "$RUNS-1-1"
cmp -s "$SWEEP/runs/1.carried/weights.bin" originals/1.bin || fail "run 1's weights are not on its shelf, byte for byte"
git -C repo rev-parse -q --verify refs/heads/feature/model-net.sweep-1-1 >/dev/null || fail "run 1's branch was deleted"
# The kept runs' carried files stay where the user left them; nothing of theirs is on a shelf.
for k in 2 3 4; do
    cmp -s "$RUNS-1-$k/weights.bin" "originals/$k.bin" || fail "run $k's weights were moved or changed"
    assert_no_path "$SWEEP/runs/$k.carried"
done

run_expect 0 git -C repo model sweep status 1 --json
python3 - "$OUT" "$SWEEP/runs/1.carried" <<'PY' || fail "status does not name run 1's shelf: $OUT"
import json, sys
runs = json.loads(sys.argv[1])["runs"]
assert runs[0]["carried_shelf"] == sys.argv[2], runs[0]
assert runs[0]["carried_shelved"] == ["weights.bin"], runs[0]
assert runs[1]["carried_shelf"] is None, runs[1]
PY

# Rerun once the teammate's leftovers are dealt with: run 2's extra file removed, run 3 committed.
rm "$RUNS-1-2/extra.txt"
git -C "$RUNS-1-3" commit -q -am "keep the edit"
run_expect 0 git -C repo model sweep clean 1
assert_contains "$OUT" "run 2: shelved weights.bin in $SWEEP/runs/2.carried"
assert_contains "$OUT" "run 3: shelved weights.bin in $SWEEP/runs/3.carried"
for k in 2 3; do
    assert_no_path "$RUNS-1-$k"
    cmp -s "$SWEEP/runs/$k.carried/weights.bin" "originals/$k.bin" || fail "run $k's weights are not on its shelf"
done

# Promote of a run whose worktree plain clean removed: its weights come from the shelf.
run_expect 0 git -C "$WT" model sweep promote 1 --run 1 --no-push
git -C "$WT" show feature/model-net:weights.bin >promoted.bin
cmp -s promoted.bin originals/1.bin || fail "promote did not take run 1's weights from its shelf"
