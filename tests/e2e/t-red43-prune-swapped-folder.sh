#!/usr/bin/env bash
# Red team s43a: prune removes a worktree file by file, only the commit's files it found unchanged.
# It deleted each by a path from the worktree's root: a folder of the worktree swapped for a link
# after it looked (a job's `ln -sfn /datasets/v2 data`) was followed, and a file of the same name
# outside the worktree was deleted, whatever it held. Each file is now reached through folders
# opened without following a link, and deleted only while it is the very file judged.
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || { echo "SKIP: no strace (scripts/install-deps installs it)"; exit 125; }

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
run_expect 0 git -C repo model start m
W="$TEST_DIR/worktrees/feature/model-m"
mkdir -p "$W/data/deeper"
echo committed >"$W/data/a.txt"
echo committed >"$W/data/deeper/b.txt"
git -C "$W" add -A
git -C "$W" commit -q -m data
git -C repo merge -q --no-ff -m "Merge m" feature/model-m
mkdir -p "$TEST_DIR/datasets/v2/deeper"
echo "the user's dataset file" >"$TEST_DIR/datasets/v2/a.txt"
echo "the user's dataset file" >"$TEST_DIR/datasets/v2/deeper/b.txt"

# The swap happens while prune writes its removal marker (after it judged the files, before it
# deletes them): strace holds that open for 2 s, and a job waiting for the marker swaps the folder.
marker="$TEST_DIR/repo/.git/worktrees/model-m/git-model-removing"
(
    for _ in $(seq 400); do [ -e "$marker" ] && break; sleep 0.01; done
    mv "$W/data" "$W/data.old" && ln -s "$TEST_DIR/datasets/v2" "$W/data"
) &
swapper=$!
rc=0
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -qq -f -o /dev/null -P "$marker" -e trace=openat \
    -e inject=openat:delay_exit=2000000 git -C repo model prune --retention 0s >"$TEST_DIR/out" 2>&1 || rc=$?
wait "$swapper"
[ -L "$W/data" ] || fail "the folder was not swapped while prune ran (the test's timing): $(cat "$TEST_DIR/out")"
assert_eq "$rc" "1" "prune keeps the worktree: $(cat "$TEST_DIR/out")"
assert_contains "$(cat "$TEST_DIR/out")" "was kept"
assert_eq "$(cat "$TEST_DIR/datasets/v2/a.txt")" "the user's dataset file" "the file outside the worktree is there"
assert_eq "$(cat "$TEST_DIR/datasets/v2/deeper/b.txt")" "the user's dataset file" "and the one deeper"
assert_eq "$(cat "$W/data.old/a.txt")" "committed" "the worktree's own file is back"
assert_branch_exists repo feature/model-m

# Put back, the worktree goes as usual.
rm "$W/data" && mv "$W/data.old" "$W/data"
run_expect 0 git -C repo model prune --retention 0s
assert_no_path "$W"
assert_no_branch repo feature/model-m
assert_eq "$(cat "$TEST_DIR/datasets/v2/a.txt")" "the user's dataset file" "the dataset is untouched"
