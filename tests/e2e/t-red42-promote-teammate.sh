#!/usr/bin/env bash
# Red team s42b: sweep numbers are each clone's own. A teammate promoted their sweep 1 run 1 and
# pushed; after a pull, `sweep promote 1 --run 1` of the user's own sweep 1 (same grid, so the
# same params.json, other metrics) said "already promoted", made no snapshot of the user's run
# and recorded the teammate's tag as its promotion. Only a snapshot whose From line names this
# run's own commit is taken as this run's now.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
git init -q --bare remote.git
git clone -q remote.git a 2>/dev/null
git -C a commit -q --allow-empty -m init && git -C a push -q origin HEAD:main 2>/dev/null
git -C a config model.installHooks never
run_expect 0 git -C a model start m
wa="$TEST_DIR/worktrees/feature/model-m"
git -C "$wa" push -q -u origin feature/model-m 2>/dev/null

# The teammate's clone, on the model's branch in its main worktree: their sweep 1, promoted and pushed.
mkdir bb && git clone -q remote.git bb/b 2>/dev/null
git -C bb/b config model.installHooks never
git -C bb/b checkout -q feature/model-m
run_expect 0 git -C bb/b model sweep start --no-container --gpus-per-run 0 --grid lr=1 -- sh -c 'echo "{\"acc\": 0.5}" >metrics.json'
wait_sweep bb/b 1 30
run_expect 0 git -C bb/b model sweep promote 1 --run 1
assert_contains "$OUT" "Tagged model/m/v1 "
git -C bb/b push -q origin feature/model-m 'refs/tags/*' 2>/dev/null

# The user's own sweep 1 after a pull: its run 1 is promoted, not taken for the teammate's.
git -C "$wa" pull -q --ff-only 2>/dev/null
git -C "$wa" fetch -q --tags 2>/dev/null
run_expect 0 git -C "$wa" model sweep start --no-container --gpus-per-run 0 --grid lr=1 -- sh -c 'echo "{\"acc\": 0.9}" >metrics.json'
wait_sweep "$wa" 1 30
run_expect 0 git -C "$wa" model sweep promote 1 --run 1
assert_not_contains "$OUT" "already promoted"
assert_contains "$OUT" "Tagged model/m/v2 "
run_expect 0 git -C "$wa" model best --metric acc --json
assert_eq "$(json_get "$OUT" 'd["metrics"]["acc"], d["tag"]')" "0.9 model/m/v2" "the user's run is the best snapshot"
# Promoted again, it is this run's own snapshot that is found.
run_expect 0 git -C "$wa" model sweep promote 1 --run 1
assert_contains "$OUT" "already promoted"
assert_contains "$OUT" "model/m/v2"
