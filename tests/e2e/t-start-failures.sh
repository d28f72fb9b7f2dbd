#!/usr/bin/env bash
# Every refusal of git model start: clear message, documented exit code, nothing changed.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
run_expect 0 git -C repo model start taken

# --- a model that exists already -------------------------------------------------
before=$(repo_state repo)
run_expect 1 git -C repo model start taken
assert_contains "$ERR" "exists already"
assert_contains "$ERR" "feature/model-taken"
assert_eq "$(repo_state repo)" "$before" "existing model: nothing changed"

# --- a base that does not exist ---------------------------------------------------
run_expect 1 git -C repo model start nobase --base no-such-branch
assert_contains "$ERR" "'no-such-branch' does not exist"
assert_eq "$(repo_state repo)" "$before" "missing base: nothing changed"
assert_no_path "$TEST_DIR/worktrees/feature/model-nobase"
git -C repo config model.baseBranch trunk
run_expect 1 git -C repo model start nobase
assert_contains "$ERR" "'trunk' does not exist"
assert_contains "$ERR" "model.baseBranch"
git -C repo config --unset model.baseBranch
before=$(repo_state repo)

# --- a worktree folder in the way (a file, a non-empty folder) --------------------
mkdir -p "$TEST_DIR/worktrees/feature/model-blocked"
echo precious >"$TEST_DIR/worktrees/feature/model-blocked/data.txt"
run_expect 1 git -C repo model start blocked
assert_contains "$ERR" "in the way"
assert_eq "$(cat "$TEST_DIR/worktrees/feature/model-blocked/data.txt")" "precious" "folder in the way untouched"
assert_eq "$(repo_state repo)" "$before" "folder in the way: nothing changed"
echo file >"$TEST_DIR/worktrees/feature/model-afile"
run_expect 1 git -C repo model start afile
assert_contains "$ERR" "in the way"
assert_eq "$(cat "$TEST_DIR/worktrees/feature/model-afile")" "file" "file in the way untouched"
# an empty folder is not in the way
mkdir -p "$TEST_DIR/worktrees/feature/model-empty"
run_expect 0 git -C repo model start empty
before=$(repo_state repo)

# --- a registered worktree whose folder vanished ----------------------------------
run_expect 0 git -C repo model start vanish
rm -rf "$TEST_DIR/worktrees/feature/model-vanish"
git -C repo branch -m feature/model-vanish keep-vanish
before=$(repo_state repo)
run_expect 1 git -C repo model start vanish
assert_contains "$ERR" "already registered"
assert_contains "$ERR" "\`git worktree remove $TEST_DIR/worktrees/feature/model-vanish\` forgets it"
assert_eq "$(repo_state repo)" "$before" "stale registration: nothing changed"
git -C repo worktree remove "$TEST_DIR/worktrees/feature/model-vanish"
git -C repo branch -D -q keep-vanish
before=$(repo_state repo)

# --- invalid names: exit 2, the rule named, nothing created -----------------------
check_refused() {  # NAME RULE-FRAGMENT
    run_expect 2 git -C repo model start -- "$1"
    assert_contains "$ERR" "$2" "message for $(printf '%q' "$1")"
    assert_eq "$(repo_state repo)" "$before" "invalid name $(printf '%q' "$1"): nothing changed"
}
check_refused "" "is empty"
check_refused "-rf" "begins with '-'"
check_refused "a b" "white space"
check_refused $'x\nx' "line break"
check_refused $'tab\there' "white space"
check_refused 'a;rm -rf ~' "';'"
check_refused 'x$(touch pwned)' "'\$'"
check_refused 'a|b' "'|'"
check_refused 'a/b' "path separator"
check_refused '../../etc' "path separator"
check_refused 'ResNet' "upper-case"
check_refused $'caf\xc3\xa9' "non-ASCII"
check_refused $'zero\xe2\x80\x8bwidth' "non-ASCII"
check_refused $'bell\x07' "control character"
check_refused 'a..b' "'..'"
check_refused 'x.lock' ".lock"
check_refused "$(printf 'a%.0s' $(seq 65))" "at most 64"
check_refused '.x' "begin with a letter or digit"
check_refused 'x-' "end with a letter or digit"
assert_no_path "$TEST_DIR/pwned"
assert_no_path "$TEST_DIR/repo/pwned"
# a name that is really a trailing-newline one (what `$(cmd)` with odd output gives)
run_expect 2 git -C repo model start "model
"
assert_contains "$ERR" "newline"

# --- options are options --------------------------------------------------------
run_expect 2 git -C repo model start -rf
assert_contains "$ERR" "unrecognised option '-rf'"
run_expect 2 git -C repo model start --force x
assert_contains "$ERR" "--force"
run_expect 2 git -C repo model start --no-work x    # no guessing from prefixes
run_expect 2 git -C repo model start
assert_contains "$ERR" "missing the model name"
run_expect 2 git -C repo model start a b
assert_contains "$ERR" "too many arguments"
run_expect 2 git -C repo model start --base
assert_eq "$(repo_state repo)" "$before" "bad options: nothing changed"

# --- outside a repository ----------------------------------------------------------
mkdir -p "$TEST_DIR/nogit"
run_expect 1 env GIT_CEILING_DIRECTORIES="$TEST_DIR" git -C "$TEST_DIR/nogit" model start x
assert_contains "$ERR" "not a git repository"
