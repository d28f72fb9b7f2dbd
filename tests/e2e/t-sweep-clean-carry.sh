#!/usr/bin/env bash
# `sweep clean <id> --branches` with --carry: each removed run's carried outputs are moved
# (byte-identical, mode kept) to its shelf beside the sweep's record (runs/<k>.carried/) before
# its worktree goes, so they no longer keep the run (exit 0 without --force); a run with another
# untracked file is still kept with its carried files where they are; a carried path planted as
# a link to a file outside is never followed (the outside file stays, untouched); a clean killed
# with SIGKILL right after shelving a run loses nothing and a rerun finishes; `sweep status`
# (text and --json) names the shelf, and `sweep promote` of a cleaned run takes its files from
# there; `prune` of the merged model shelves its sweep's carried files the same way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --push
RUNS="$TEST_DIR/worktrees/feature/model-net.sweep"
SWEEP="$TEST_DIR/repo/.git/git-model/sweeps/1"
# Each run writes notes (mode 640), a binary output and its loss; lr=3 also leaves a file nobody carries.
cat >"$WT/train.sh" <<'SH'
mkdir -p out
echo "notes of lr=$GIT_MODEL_PARAM_LR" > out/notes.txt
chmod 640 out/notes.txt
head -c 65536 /dev/urandom > weights.bin
printf '{"loss": %s}\n' "$GIT_MODEL_PARAM_LR" > metrics.json
[ "$GIT_MODEL_PARAM_LR" != 3 ] || echo scratch > extra.txt
SH
git -C "$WT" add train.sh
git -C "$WT" commit -q -m "training script"
git -C "$WT" push -q

run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry out/notes.txt --carry weights.bin \
    --grid lr=1,2,3,4 -- sh train.sh
wait_sweep "$WT" 1 60
mkdir originals
for k in 1 2 3 4; do
    mkdir "originals/$k"
    cp -p "$RUNS-1-$k/out/notes.txt" "$RUNS-1-$k/weights.bin" "originals/$k/"
done
# Run 4's weights.bin is replaced by a link to a file outside its worktree.
echo "not the run's" >outside.bin
OUTSIDE_SUM=$(sha256sum outside.bin)
rm "$RUNS-1-4/weights.bin"
ln -s "$TEST_DIR/outside.bin" "$RUNS-1-4/weights.bin"

same_file() {  # FILE ORIGINAL WHAT: same bytes and mode
    cmp -s "$1" "$2" || fail "$3: $1 differs from $2"
    assert_eq "$(stat -c %a "$1")" "$(stat -c %a "$2")" "$3: the mode"
}

# --dry-run: the plan names the shelf and changes nothing.
BEFORE=$(repo_state repo)
run_expect 0 git -C repo model sweep clean 1 --branches --dry-run
assert_contains "$OUT" "run 1: would shelve its carried out/notes.txt, weights.bin in $SWEEP/runs/1.carried"
assert_contains "$OUT" "run 3: kept feature/model-net.sweep-1-3: its worktree $RUNS-1-3 holds files git does not track: extra.txt"
assert_contains "$OUT" "run 4: kept feature/model-net.sweep-1-4: its carried path weights.bin is or lies below the symbolic link $RUNS-1-4/weights.bin"
assert_eq "$(repo_state repo)" "$BEFORE" "a dry run changes nothing"
assert_no_path "$SWEEP/runs/1.carried"

# --- killed (SIGKILL) right after run 1's files were shelved, then right after run 2's ------------------------
# A `git` first on PATH kills the clean (its parent) at its first git command once the named
# shelf holds weights.bin: deterministic, and the moment between shelving and removing the worktree.
REAL_GIT=$(command -v git)
mkdir killer
cat >killer/git <<SH
#!/bin/sh
if [ -n "\$KILL_AT" ] && [ -e "\$KILL_AT/weights.bin" ] && [ ! -e "$TEST_DIR/killed-\$KILL_NAME" ]; then
    : >"$TEST_DIR/killed-\$KILL_NAME"
    kill -9 \$PPID
    exit 1
fi
exec "$REAL_GIT" "\$@"
SH
chmod +x killer/git
for k in 1 2; do
    cd repo  # git-model itself (git would put its exec-path first on PATH, before the killer)
    run_expect 137 env PATH="$TEST_DIR/killer:$PATH" KILL_AT="$SWEEP/runs/$k.carried" KILL_NAME=$k \
        git-model sweep clean 1 --branches
    cd "$TEST_DIR"
    [ -e "$TEST_DIR/killed-$k" ] || fail "the kill after shelving run $k did not happen: the test proves nothing"
    assert_dir "$RUNS-1-$k"  # killed before its worktree went
    assert_no_path "$RUNS-1-$k/weights.bin"
    same_file "$SWEEP/runs/$k.carried/weights.bin" "originals/$k/weights.bin" "run $k shelved before the kill"
    same_file "$SWEEP/runs/$k.carried/out/notes.txt" "originals/$k/notes.txt" "run $k shelved before the kill"
done
assert_no_path "$RUNS-1-1"  # the second clean finished run 1

# The rerun finishes: runs 1 and 2 go, run 3 (an untracked file) and run 4 (a link) stay, exit 1.
run_expect 1 git -C repo model sweep clean 1 --branches
assert_contains "$OUT" "run 2: its carried out/notes.txt, weights.bin are in $SWEEP/runs/2.carried"
assert_contains "$OUT" "run 3: kept feature/model-net.sweep-1-3: its worktree $RUNS-1-3 holds files git does not track: extra.txt"
assert_not_contains "$OUT" "track: extra.txt," "carried files keep nothing"
assert_contains "$OUT" "run 4: kept feature/model-net.sweep-1-4: its carried path weights.bin is or lies below the symbolic link"
assert_contains "$OUT" "Sweep 1: 1 run branch removed, 2 kept"  # run 1 went in the second, killed clean
for k in 1 2; do
    assert_no_path "$RUNS-1-$k"
    assert_no_branch repo "feature/model-net.sweep-1-$k"
    same_file "$SWEEP/runs/$k.carried/weights.bin" "originals/$k/weights.bin" "run $k's shelved weights"
    same_file "$SWEEP/runs/$k.carried/out/notes.txt" "originals/$k/notes.txt" "run $k's shelved notes"
done
assert_eq "$(stat -c %a "$SWEEP/runs/1.carried")" "700" "the shelf is the owner's only"
for k in 3 4; do assert_branch_exists repo "feature/model-net.sweep-1-$k"; assert_no_path "$SWEEP/runs/$k.carried"; done
same_file "$RUNS-1-3/weights.bin" "originals/3/weights.bin" "a kept run's carried file stays in place"
same_file "$RUNS-1-3/out/notes.txt" "originals/3/notes.txt" "a kept run's carried file stays in place"
assert_eq "$(cat "$RUNS-1-3/extra.txt")" "scratch" "the untracked file"
[ -L "$RUNS-1-4/weights.bin" ] || fail "run 4's link is kept"
same_file "$RUNS-1-4/out/notes.txt" "originals/4/notes.txt" "run 4's notes stay (the run is kept)"
assert_eq "$(sha256sum outside.bin)" "$OUTSIDE_SUM" "the file the link points at is untouched"

# --- status (text and JSON) names the shelf; promote of a cleaned run takes its files from there ---------------
run_expect 0 git -C repo model sweep status 1
assert_contains "$OUT" "run 2: carried out/notes.txt, weights.bin shelved in $SWEEP/runs/2.carried"
run_expect 0 git -C repo model sweep status 1 --json
assert_eq "$(json_get "$OUT" '[r["carried_shelf"] for r in d["runs"]]')" \
    "['$SWEEP/runs/1.carried', '$SWEEP/runs/2.carried', None, None]" "JSON carried_shelf"
assert_eq "$(json_get "$OUT" 'd["runs"][0]["carried_shelved"]')" "['out/notes.txt', 'weights.bin']" "JSON carried_shelved"
run_expect 0 git -C "$WT" model sweep promote 1 --run 2 --no-push
assert_contains "$OUT" "(params.json, out/notes.txt, weights.bin)"
assert_eq "$(git -C repo show feature/model-net:out/notes.txt)" "notes of lr=2" "the shelved notes promoted"
git -C repo cat-file blob feature/model-net:weights.bin >promoted.bin
cmp -s promoted.bin originals/2/weights.bin || fail "the shelved weights were promoted byte for byte"
same_file "$SWEEP/runs/2.carried/weights.bin" "originals/2/weights.bin" "promote leaves the shelf as it is"

# --- --force: run 4's link is overridden; run 3's shelf cannot be made (a file is in its way): kept, nothing removed --
echo "in the way" >"$SWEEP/runs/3.carried"
run_expect 1 git -C repo model sweep clean 1 --branches --force
assert_contains "$OUT" "run 3: kept feature/model-net.sweep-1-3: its carried file out/notes.txt could not be shelved"
assert_contains "$OUT" "its worktree was kept"
assert_contains "$OUT" "run 4: --force overrode: its carried path weights.bin is or lies below the symbolic link $RUNS-1-4/weights.bin"
assert_branch_exists repo feature/model-net.sweep-1-3
same_file "$RUNS-1-3/weights.bin" "originals/3/weights.bin" "a run whose shelf failed keeps its files"
same_file "$RUNS-1-3/out/notes.txt" "originals/3/notes.txt" "a run whose shelf failed keeps its files"
assert_eq "$(cat "$RUNS-1-3/extra.txt")" "scratch" "a run whose shelf failed keeps even what --force overrides"
rm "$SWEEP/runs/3.carried"
# then run 3's carried files are shelved (its extra file goes, as --force says)
run_expect 0 git -C repo model sweep clean 1 --branches --force
assert_contains "$OUT" "run 3: --force overrode: its worktree $RUNS-1-3 holds files git does not track: extra.txt"
for k in 3 4; do assert_no_path "$RUNS-1-$k"; done
same_file "$SWEEP/runs/3.carried/weights.bin" "originals/3/weights.bin" "run 3's shelved weights"
same_file "$SWEEP/runs/4.carried/out/notes.txt" "originals/4/notes.txt" "run 4's shelved notes"
assert_no_path "$SWEEP/runs/4.carried/weights.bin"
assert_eq "$(sha256sum outside.bin)" "$OUTSIDE_SUM" "the link's target is still untouched"

# --- prune of the merged model shelves its sweep's carried files too -----------------------------------------------
# (the promoted outputs leave the branch first: runs writing over tracked files would keep them as changed)
git -C "$WT" rm -q out/notes.txt weights.bin
git -C "$WT" commit -q -m "outputs are not sources"
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry out/notes.txt --carry weights.bin \
    --grid lr=7,8 -- sh train.sh
wait_sweep "$WT" 2 60
for k in 1 2; do cp -p "$RUNS-2-$k/weights.bin" "originals/2-$k.bin"; done
git -C repo merge -q --no-ff -m "Merge net" feature/model-net
git -C repo push -q origin main
run_expect 0 git -C repo model prune --retention 0s
for k in 1 2; do
    assert_no_path "$RUNS-2-$k"
    same_file "$TEST_DIR/repo/.git/git-model/sweeps/2/runs/$k.carried/weights.bin" "originals/2-$k.bin" "prune shelved run $k"
done
assert_eq "$(cat "$TEST_DIR/repo/.git/git-model/sweeps/2/runs/2.carried/out/notes.txt")" "notes of lr=8" "prune shelved the notes"
