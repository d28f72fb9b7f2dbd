# Shared setup for end-to-end tests: sourced by every tests/e2e/t-*.sh.
#
# Each test gets its own scratch folder with its own HOME, git config isolated
# from the machine (GIT_CONFIG_NOSYSTEM, an empty global config), and the
# installed suite ($GM_STAGE/bin) first on PATH. A failing test keeps its folder
# and says where; a passing one removes it.
set -euo pipefail

: "${GM_STAGE:?run through ctest, or set GM_STAGE to an install prefix}"
[ -x "$GM_STAGE/bin/git-model" ] || { echo "no git-model in $GM_STAGE/bin"; exit 125; }

TEST_NAME=$(basename "$0" .sh)
mkdir -p "${GM_TEST_TMP:-/tmp}"
TEST_DIR=$(mktemp -d "${GM_TEST_TMP:-/tmp}/$TEST_NAME.XXXXXX")
export HOME="$TEST_DIR/home"
mkdir -p "$HOME"
export GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_GLOBAL="$HOME/.gitconfig"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT GIT_CEILING_DIRECTORIES || true
unset XDG_CONFIG_HOME || true
export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL="author@example.com"
export GIT_COMMITTER_NAME="Test Committer" GIT_COMMITTER_EMAIL="committer@example.com"
export PATH="$GM_STAGE/bin:$PATH"
export LC_ALL=C.UTF-8
git config --global init.defaultBranch main
git config --global advice.detachedHead false

CHECKS=0
on_exit() {  # [STATUS]: the test's exit status when a trap ran other cleanup first
    local rc=$?
    [ $# -gt 0 ] && rc=$1
    if [ $rc -eq 0 ]; then
        rm -rf "$TEST_DIR"
        echo "$TEST_NAME: $CHECKS checks passed"
    elif [ $rc -ne 125 ]; then
        echo "$TEST_NAME: FAILED (exit $rc); scratch folder kept: $TEST_DIR" >&2
    fi
}
trap on_exit EXIT

fail() {
    echo "FAIL: $*" >&2
    [ -n "${OUT:-}" ] && printf 'stdout was:\n%s\n' "$OUT" >&2
    [ -n "${ERR:-}" ] && printf 'stderr was:\n%s\n' "$ERR" >&2
    exit 1
}

# run_gm EXPECTED_CODE CMD...: runs a command, stores stdout in $OUT and stderr
# in $ERR, and fails the test unless it exits with EXPECTED_CODE.
run_expect() {
    local expected=$1
    shift
    local out_file="$TEST_DIR/.out" err_file="$TEST_DIR/.err" rc=0
    "$@" >"$out_file" 2>"$err_file" || rc=$?
    OUT=$(cat "$out_file")
    ERR=$(cat "$err_file")
    CHECKS=$((CHECKS + 1))
    [ "$rc" -eq "$expected" ] || fail "expected exit $expected, got $rc from: $*"
}

assert_contains() {  # HAYSTACK NEEDLE [WHAT]
    CHECKS=$((CHECKS + 1))
    case "$1" in *"$2"*) ;; *) fail "${3:-output} does not contain '$2'";; esac
}

assert_not_contains() {  # HAYSTACK NEEDLE [WHAT]
    CHECKS=$((CHECKS + 1))
    case "$1" in *"$2"*) fail "${3:-output} contains '$2'";; *) ;; esac
}

assert_eq() {  # ACTUAL EXPECTED [WHAT]
    CHECKS=$((CHECKS + 1))
    [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}

assert_branch_exists() { CHECKS=$((CHECKS + 1)); git -C "$1" rev-parse --verify -q "refs/heads/$2" >/dev/null || fail "branch $2 missing in $1"; }
assert_no_branch() { CHECKS=$((CHECKS + 1)); ! git -C "$1" rev-parse --verify -q "refs/heads/$2" >/dev/null || fail "branch $2 exists in $1"; }
assert_dir() { CHECKS=$((CHECKS + 1)); [ -d "$1" ] || fail "folder $1 missing"; }
assert_no_path() { CHECKS=$((CHECKS + 1)); [ ! -e "$1" ] && [ ! -L "$1" ] || fail "$1 exists"; }

# The list of worktree paths git itself knows for a repository.
git_worktrees() { git -C "$1" worktree list --porcelain | sed -n 's/^worktree //p'; }

# require_fake_driver: sets $fake, the folder of the fake NVIDIA driver (tests/support/fake_libcuda.cpp)
# that the installed git-model-bench loads through LD_LIBRARY_PATH; skips the test (125) when none
# was built, or when the binary has no GPU kernels to run on it.
require_fake_driver() {
    fake=${GM_FAKE_DRIVER_DIR:-}
    [ -e "$fake/libcuda.so.1" ] || { echo "SKIP: no fake driver built (GM_FAKE_DRIVER_DIR='$fake')"; exit 125; }
    if grep -q "without GPU kernels" <<<"$(git-model-bench --version)"; then
        echo "SKIP: git-model-bench was built without GPU kernels"
        exit 125
    fi
}

# make_repo DIR: a repository on main with a couple of commits.
make_repo() {
    git init -q "$1"
    printf 'import torch\n' >"$1/train.py"
    printf '# demo\n' >"$1/README.md"
    git -C "$1" add -A
    git -C "$1" commit -q -m "initial commit"
    printf 'lr = 1e-3\n' >>"$1/train.py"
    git -C "$1" commit -q -am "add learning rate"
}

# alive PID: the process runs (a zombie is dead).
alive() {  # PID: running (a zombie is dead)
    local state
    state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

# The state of a repository that must not change when a command fails: refs, worktrees, config.
repo_state() {
    {
        git -C "$1" for-each-ref --format='%(refname) %(objectname)'
        git -C "$1" worktree list --porcelain
        git -C "$1" config --local --list
        git -C "$1" status --porcelain
    } 2>&1
}

# make_remote_pair NAME: a bare remote NAME.git and a clone NAME with main pushed.
make_remote_pair() {
    git init -q --bare "$TEST_DIR/$1.git"
    make_repo "$TEST_DIR/$1"
    git -C "$TEST_DIR/$1" remote add origin "$TEST_DIR/$1.git"
    git -C "$TEST_DIR/$1" push -q origin main
}

# start_pushed_model MODEL: "repo" (hooks off) with its bare "remote.git", main pushed, and MODEL
# started with its branch pushed upstream, so that its snapshots are pushed too; its worktree is $WT.
start_pushed_model() {
    cd "$TEST_DIR"
    git init -q --bare remote.git
    git init -q repo
    git -C repo commit -q --allow-empty -m init
    git -C repo remote add origin "$TEST_DIR/remote.git"
    git -C repo push -q -u origin main 2>/dev/null
    git -C repo config model.installHooks never
    run_expect 0 git -C repo model start "$1"
    WT="$TEST_DIR/worktrees/feature/model-$1"
    git -C "$WT" push -q -u origin "feature/model-$1" 2>/dev/null
}

# The refs of a repository (a remote), to prove a refused push changed nothing there.
remote_refs() { git -C "$1" for-each-ref --format='%(refname) %(objectname)'; }

# --- helpers for the lifecycle tests (tag, log, finish, prune, status) ---------------------

# commit_at DIR DATE MESSAGE [FILE]: one commit changing FILE (default: work.txt), authored and committed at DATE.
commit_at() {
    local dir=$1 date=$2 message=$3 file=${4:-work.txt}
    mkdir -p "$(dirname "$dir/$file")"
    printf '%s\n' "$message" >>"$dir/$file"
    git -C "$dir" add "$file"
    GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" git -C "$dir" commit -q -m "$message"
}

# Every commit reachable from some ref of a repository, sorted (to prove nothing became unreachable).
reachable_commits() { git -C "$1" rev-list --all | sort; }

# assert_still_reachable DIR BEFORE: every commit in BEFORE (a reachable_commits listing) is still reachable.
assert_still_reachable() {
    CHECKS=$((CHECKS + 1))
    local lost
    lost=$(comm -23 <(printf '%s\n' "$2") <(reachable_commits "$1"))
    [ -z "$lost" ] || fail "commits no longer reachable from any ref in $1: $lost"
}

# make_options_remote PATH [WEB-URL]: a bare remote that accepts push options and records each
# one it receives in PATH/push-options.log (one per line, a "--" line after each push). With
# WEB-URL it also answers like GitLab for every branch a push changes: "View merge request for
# <branch>:" and the request's page when merge_request.create came with it or one was opened
# before (numbered from 1, kept in PATH/merge-requests), else "To create a merge request for
# <branch>, visit:" and the page that opens one.
make_options_remote() {
    git init -q --bare "$1"
    git -C "$1" config receive.advertisePushOptions true
    printf '%s\n' "${2:-}" >"$1/web-url"
    cat >"$1/hooks/pre-receive" <<'HOOK'
#!/bin/sh
i=0
create=no
while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do
    eval "option=\$GIT_PUSH_OPTION_$i"
    printf '%s\n' "$option" >>push-options.log
    [ "$option" = merge_request.create ] && create=yes
    i=$((i + 1))
done
echo "--" >>push-options.log
web=$(cat web-url)
while read -r old new ref; do
    [ -n "$web" ] || continue
    case "$ref" in refs/heads/*) ;; *) continue;; esac
    [ "$new" = 0000000000000000000000000000000000000000 ] && continue
    branch=${ref#refs/heads/}
    number=$(awk -v b="$branch" '$2 == b {print $1}' merge-requests 2>/dev/null)
    if [ -z "$number" ] && [ "$create" = yes ]; then
        number=$(($(cat merge-requests 2>/dev/null | wc -l) + 1))
        echo "$number $branch" >>merge-requests
    fi
    echo
    if [ -n "$number" ]; then
        echo "View merge request for $branch:"
        echo "  $web/-/merge_requests/$number"
    else
        echo "To create a merge request for $branch, visit:"
        echo "  $web/-/merge_requests/new?merge_request%5Bsource_branch%5D=$branch"
    fi
    echo
done
HOOK
    chmod +x "$1/hooks/pre-receive"
}

# json_get JSON PYTHON-EXPRESSION: evaluates an expression over the parsed document `d`.
json_get() { printf '%s' "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"; }
