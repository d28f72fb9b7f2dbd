#!/usr/bin/env bash
# git model env with a real podman where the paths hold what podman treats
# specially (it reads --mount and --env-file values as CSV): a repository under
# a folder with a comma, a double quote and a space, and a mount source with a
# comma. Then env check and env up agree on what they refuse (one validation).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

cd "$TEST_DIR"
parent="$TEST_DIR/team,one \"q\""
mkdir -p "$parent"
make_repo "$parent/repo"
repo="$parent/repo"
git -C "$repo" config model.installHooks never
git -C "$repo" config model.env.stopTimeout 1s
data="$TEST_DIR/data,set"
mkdir -p "$data" && echo "rows from the data mount" >"$data/rows.txt"
write_modelenv "$repo" "gpus: 0" "env:" "  RUN_NAME: 'comma, run'" "mounts:" "  - source: $data" "    target: /data"
run_expect 0 git -C "$repo" model start alpha
wt="$parent/worktrees/feature/model-alpha"
assert_dir "$wt"
echo "from the worktree" >"$wt/note.txt"

run_expect 0 git -C "$wt" model env check
assert_contains "$OUT" "$data"
run_expect 0 git -C "$wt" model env up
assert_contains "$OUT" "Environment of 'alpha' is up"
run_expect 0 git -C "$wt" model env exec -- cat /workspace/note.txt
assert_eq "$OUT" "from the worktree" "the worktree, mounted"
run_expect 0 git -C "$wt" model env exec -- cat /data/rows.txt
assert_eq "$OUT" "rows from the data mount" "the comma data folder, mounted"
run_expect 0 git -C "$wt" model env exec -- sh -c 'echo "$RUN_NAME"'
assert_eq "$OUT" "comma, run" "the env file, read"
run_expect 0 git -C "$wt" model env exec -- sh -c 'echo saved >"$GIT_MODEL_CHECKPOINTS/epoch1.txt"'
CHECKS=$((CHECKS + 1))
found=$(find "$repo/.git/git-model/persist" -name epoch1.txt | head -n 1)
[ -n "$found" ] && [ "$(cat "$found")" = saved ] || fail "the checkpoint did not reach the persist folder"
# git works inside: the linked worktree's common dir is mounted at its own (comma) path
run_expect 0 git -C "$wt" model env down
assert_eq "$(test_containers)" "" "down: no container"

# --- env check and env up refuse the same files, with the same words -------------------------
refused_by_both() {  # WHAT WORDS: both refuse, naming file:line:col; env up starts nothing
    run_expect 1 git -C "$wt" model env check
    assert_contains "$ERR" ".modelenv.yaml:" "$1: check names the place"
    assert_contains "$ERR" "$2" "$1: check"
    local check_err=$ERR
    run_expect 1 git -C "$wt" model env up
    assert_eq "$ERR" "$check_err" "$1: up says what check says"
    assert_eq "$(test_containers)" "" "$1: up started nothing"
}
printf 'image: %s\nenv:\n  NOTE: "one\\ntwo"\n' "$TEST_IMAGE" >"$wt/.modelenv.yaml"
refused_by_both "a multi-line env value" "holds a line break"
printf 'image: %s\nmounts:\n  - source: %s\n    target: /persist/checkpoints\n' "$TEST_IMAGE" "$data" >"$wt/.modelenv.yaml"
refused_by_both "a mount on the persist target" "is where env up mounts the persist folder 'checkpoints'"
printf 'image: %s\nworkdir: /persist/logs\n' "$TEST_IMAGE" >"$wt/.modelenv.yaml"
refused_by_both "workdir on the persist target" "is where env up mounts the persist folder 'logs'"
git -C "$wt" checkout -q -- .modelenv.yaml
