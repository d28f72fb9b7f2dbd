#!/usr/bin/env bash
# Plain `sweep clean` with --carry when the worktrees lie on another file system than the
# repository (a tmpfs here), so a carried file is copied to its shelf, not renamed. A clean killed
# after the copy was renamed into place but before the worktree's file was removed leaves both,
# byte for byte the same (the red team's strace-injected SIGKILL: every rerun then kept the run
# with "rename: File exists"). The rerun finishes the move; a shelf copy whose bytes differ keeps
# the run and both files, and says so. A carried name as long as a file name may be (250 bytes)
# is shelved across and promoted too (temporary names built from it were too long).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

[ "$(id -u)" = 0 ] || { echo "t-sweep-clean-carry-xdev: needs root to mount a tmpfs" >&2; exit 125; }
cd "$TEST_DIR"
mkdir worktrees
mount -t tmpfs -o size=64m tmpfs worktrees || { echo "t-sweep-clean-carry-xdev: cannot mount a tmpfs" >&2; exit 125; }
trap 'rc=$?; umount "$TEST_DIR/worktrees" 2>/dev/null || true; on_exit $rc' EXIT
start_sweep_model net
RUNS="$TEST_DIR/worktrees/feature/model-net.sweep"
SWEEP="$TEST_DIR/repo/.git/git-model/sweeps/1"
LONG=$(printf 'w%.0s' $(seq 246)).bin
printf 'head -c 300000 /dev/urandom > weights.bin\necho "$GIT_MODEL_PARAM_LR" > %s\n' "$LONG" >"$WT/train.sh"
git -C "$WT" add train.sh && git -C "$WT" commit -qm train
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry weights.bin --carry "$LONG" --grid lr=1,2,3 -- sh train.sh
wait_sweep "$WT" 1 60
[ "$(stat -c %d "$RUNS-1-1")" != "$(stat -c %d "$SWEEP")" ] || fail "the worktrees are not on another file system"
mkdir originals
for k in 1 2 3; do cp -p "$RUNS-1-$k/weights.bin" "originals/$k.bin"; done

# Run 1: what the kill leaves (the shelf's copy in place, the worktree's file not yet removed).
# Run 2: a shelf copy with other bytes. Run 3: nothing shelved yet (a plain copy across).
mkdir -p -m 0700 "$SWEEP/runs/1.carried" "$SWEEP/runs/2.carried"
cp -p originals/1.bin "$SWEEP/runs/1.carried/weights.bin"
printf 'other bytes' >"$SWEEP/runs/2.carried/weights.bin"
run_expect 0 git -C repo model sweep clean 1
assert_contains "$OUT" "run 1: shelved weights.bin, $LONG in $SWEEP/runs/1.carried"
assert_contains "$OUT" "run 1: removed $RUNS-1-1"
assert_contains "$OUT" "run 2: kept, its carried file weights.bin differs from the copy shelved at $SWEEP/runs/2.carried/weights.bin"
assert_contains "$OUT" "run 3: shelved weights.bin, $LONG in $SWEEP/runs/3.carried"
assert_no_path "$RUNS-1-1"
assert_no_path "$RUNS-1-3"
cmp -s "$SWEEP/runs/1.carried/weights.bin" originals/1.bin || fail "run 1's shelved weights changed"
cmp -s "$SWEEP/runs/3.carried/weights.bin" originals/3.bin || fail "run 3's weights are not on its shelf, byte for byte"
cmp -s "$RUNS-1-2/weights.bin" originals/2.bin || fail "run 2's own weights were touched"
[ "$(cat "$SWEEP/runs/2.carried/weights.bin")" = "other bytes" ] || fail "the differing shelf copy was touched"
assert_eq "$(find "$SWEEP/runs" -name '.gm-shelving-*' | wc -l)" "0" "no temporary copy left on a shelf"
[ "$(cat "$SWEEP/runs/3.carried/$LONG")" = 3 ] || fail "run 3's long-named file is not on its shelf"
run_expect 0 git -C "$WT" model sweep promote 1 --run 3 --no-push
assert_eq "$(git -C "$WT" show "HEAD:$LONG")" "3" "promote committed the long-named file from the shelf"
