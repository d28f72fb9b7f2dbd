#!/usr/bin/env bash
# --carry names files. A carried path that is already a folder in the model's worktree, or that
# holds a control character (a tab, a newline), is refused at `sweep start` (exit 2, nothing
# started). One that each run makes a folder (it cannot be known at start) keeps its run's
# worktree at clean, and the message says why and what to do instead of only listing its files;
# the files are never moved or deleted, and `--force` is the explicit way past it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net
RUNS="$TEST_DIR/worktrees/feature/model-net.sweep"
mkdir "$WT/ckpt"
run_expect 2 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry ckpt --grid lr=1 -- true
assert_contains "$ERR" "--carry 'ckpt': $WT/ckpt is a folder, and --carry carries files only"
assert_contains "$ERR" "--carry ckpt/model.pt"
run_expect 2 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry "$(printf 'w\tb.bin')" --grid lr=1 -- true
assert_contains "$ERR" "holds a control character"
assert_no_path "$TEST_DIR/repo/.git/git-model/sweeps/1"
rmdir "$WT/ckpt"

cat >"$WT/train.sh" <<'SH'
mkdir -p out && head -c 4096 /dev/urandom > out/model.pt
SH
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry out --grid lr=1 -- sh train.sh
wait_sweep "$WT" 1 60
cp "$RUNS-1-1/out/model.pt" original.pt

run_expect 0 git -C repo model sweep clean 1
assert_contains "$OUT$ERR" "run 1: kept, its carried path out is a folder, and --carry carries files only"
assert_contains "$OUT$ERR" "move what you need out of $RUNS-1-1/out"
cmp -s "$RUNS-1-1/out/model.pt" original.pt || fail "the run's file in its carried folder was moved or changed"
run_expect 1 git -C repo model sweep clean 1 --branches
assert_contains "$OUT$ERR" "its carried path out is a folder"
cmp -s "$RUNS-1-1/out/model.pt" original.pt || fail "clean --branches moved or changed the run's file"
git -C repo rev-parse -q --verify refs/heads/feature/model-net.sweep-1-1 >/dev/null || fail "run 1's branch was deleted"

# The user takes the file out: the run is cleaned.
mv "$RUNS-1-1/out/model.pt" kept.pt
rmdir "$RUNS-1-1/out"
run_expect 0 git -C repo model sweep clean 1
assert_no_path "$RUNS-1-1"
cmp -s kept.pt original.pt || fail "the file the user moved out changed"
