#!/usr/bin/env bash
# Red team s42a: a model's worktree deleted (rm -rf) while its environment runs. `git model env
# down <model>` refused ("no worktree to run an environment for") with a hint git itself refuses
# (`git worktree add <path> <branch>`: the branch is still checked out in the gone worktree), so
# the container ran on and kept its GPU lease. down by name needs no worktree now; up names what
# is wrong and the fix that works.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

cd "$TEST_DIR"
start_env_model gone
run_expect 0 git -C "$WT" model env up
assert_eq "$(test_containers | wc -l)" "1" "the environment runs"
rm -rf "$WT"

run_expect 1 git -C repo model env up gone
assert_contains "$ERR" "model 'gone' has no worktree to run an environment for (its folder $WT is gone)"
assert_contains "$ERR" "git worktree remove $WT"
run_expect 0 git -C repo model env down gone
assert_contains "$OUT" "Environment of 'gone' is down"
assert_eq "$(test_containers)" "" "its container is gone"
run_expect 0 git -C repo model env down gone
assert_contains "$OUT" "was not running; nothing to stop"

# The hint works: the gone worktree is forgotten, a new one made, and its environment starts.
run_expect 0 git -C repo worktree remove "$WT"
run_expect 0 git -C repo worktree add -q "$TEST_DIR/again" feature/model-gone
run_expect 0 git -C "$TEST_DIR/again" model env up
run_expect 0 git -C repo model env down gone
assert_eq "$(test_containers)" "" "down again"

# (s42c) Its branch deleted too (worktree removed with --force, branch -D) while it ran: down by name
# still finds the container; a name nothing ran under is still "no model".
run_expect 0 git -C "$TEST_DIR/again" model env up
run_expect 0 git -C repo worktree remove --force "$TEST_DIR/again"
run_expect 0 git -C repo branch -q -D feature/model-gone
run_expect 0 git -C repo model env down gone
assert_contains "$OUT" "Environment of 'gone' is down"
assert_eq "$(test_containers)" "" "its container is gone"
run_expect 1 git -C repo model env down nosuch
assert_contains "$ERR" "there is no model 'nosuch' in this repository, and no environment of that name"
