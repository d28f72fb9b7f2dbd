#!/usr/bin/env bash
# A repository moved (mv, then `git worktree repair`, as git asks) while a model's environment runs:
# the moved repository still knows that environment (through its launch record) though the container
# is named after the old place. status shows it, saying so; env up refuses to start a second one for
# the same worktree and persist folders; env exec enters it; env down removes it and gives its GPU
# back. A copy of the repository never takes the original's environment, also once the original moved
# on (a move keeps the folder's device and inode, a copy does not).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

cd "$TEST_DIR"
start_env_model m "gpus: 1" 'command: ["sleep", "600"]'
git -C repo config model.gpus 0,1
run_expect 0 git -C "$WT" model env up
old_name=$(test_containers)
assert_contains "$old_name" "gm-repo-m-"
git -C "$WT" model env exec -- sh -c 'echo before-move > /persist/checkpoints/c'

mv repo moved
git -C moved worktree repair >/dev/null 2>&1
run_expect 0 git -C "$WT" model env status --json
assert_eq "$(json_get "$OUT" '" ".join(e["model"] + ":" + e["container"] + ":" + str(e["moved_from"]) for e in d["environments"])')" \
    "m:$old_name:$TEST_DIR/repo/.git" "status lists it, moved from the old place"
run_expect 0 git -C "$WT" model env status
assert_contains "$OUT" "started before this repository moved here from $TEST_DIR/repo/.git: \`git model env down m\` removes it"

run_expect 1 git -C "$WT" model env up
assert_contains "$ERR" "the environment of 'm' started before this repository moved here from $TEST_DIR/repo/.git is still running (container $old_name, GPUs 0); a second one is not started beside it"
assert_contains "$ERR" "git model env down"
assert_eq "$(test_containers)" "$old_name" "no second container"

run_expect 0 git -C "$WT" model env exec -- cat /persist/checkpoints/c
assert_eq "$OUT" "before-move" "exec enters the moved environment"

run_expect 0 git -C "$WT" model env down
assert_contains "$OUT" "$old_name removed"
assert_contains "$OUT" "it was started before the repository moved here from $TEST_DIR/repo/.git"
assert_eq "$(test_containers)" "" "the old container is gone"
run_expect 0 git -C "$WT" model gpus --json
assert_eq "$(json_get "$OUT" '" ".join(str(g["index"]) + ":" + str(g.get("holder") is not None) for g in d["gpus"])' 2>/dev/null || echo "$OUT" | head -c 300)" \
    "0:False 1:False" "its GPU given back"
run_expect 0 git -C "$WT" model env up
new_name=$(test_containers)
assert_contains "$new_name" "gm-moved-m-"
assert_eq "$(cat "$TEST_DIR/moved/.git/git-model/persist/m/checkpoints/c")" "before-move" "the persist folder moved with the repository"

# A copy of the repository, the original still there: the copy never takes the original's environment.
cp -a moved copy
run_expect 0 git -C copy model env status --json
assert_eq "$(json_get "$OUT" 'len(d["environments"])')" "0" "the copy lists none"
run_expect 1 git -C copy model env down m
assert_contains "$ERR" "is not a worktree of this repository"
assert_eq "$(test_containers)" "$new_name" "the original's environment runs on"
# ... nor once the original moved on in its turn: only the repository that moved finds it
mv moved moved2
git -C moved2 worktree repair >/dev/null 2>&1
run_expect 0 git -C copy model env status --json
assert_eq "$(json_get "$OUT" 'len(d["environments"])')" "0" "the copy still lists none"
run_expect 0 git -C "$WT" model env status --json
assert_eq "$(json_get "$OUT" '" ".join(e["container"] + ":" + str(e["moved_from"]) for e in d["environments"])')" \
    "$new_name:$TEST_DIR/moved/.git" "the moved original lists it"
run_expect 0 git -C "$WT" model env down
assert_contains "$OUT" "$new_name removed"
assert_eq "$(test_containers)" "" "removed by the moved original"
