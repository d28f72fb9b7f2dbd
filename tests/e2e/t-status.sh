#!/usr/bin/env bash
# git model status: the model worktree you are in (model, branch, base, ahead/behind,
# dirty, remote, latest snapshot, finish, environment hook point, hooks), in text and
# JSON, from a linked worktree while main is checked out in the main worktree; and
# outside any model.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
make_remote_pair repo
run_expect 0 git -C repo model start alpha
wa="$TEST_DIR/worktrees/feature/model-alpha"

check_status() {  # JSON EXPECTED-PYTHON-TUPLE EXPRESSION
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
keys = {"version", "worktree", "main_worktree", "branch", "model", "head", "base", "ahead", "behind", "dirty",
        "remote", "snapshots", "latest_snapshot", "finished", "environment", "hooks"}
assert set(d) == keys, set(d) ^ keys
assert d["version"] == 1
assert set(d["remote"]) == {"name", "configured", "tracking", "ahead", "behind"}, d["remote"]
assert set(d["hooks"]) == {"installed", "states"}, d["hooks"]
print(eval(sys.argv[2]))
PY
}

# --- a fresh model -------------------------------------------------------------------------
run_expect 0 git -C "$wa" model status --json
assert_eq "$(check_status "$OUT" '(d["model"], d["branch"], d["base"], d["ahead"], d["behind"], d["dirty"], d["main_worktree"])')" \
    "('alpha', 'feature/model-alpha', 'main', 0, 0, False, False)" "fresh model"
assert_eq "$(check_status "$OUT" '(d["worktree"], d["head"] == d["head"], d["snapshots"], d["latest_snapshot"], d["finished"])')" \
    "('$wa', True, 0, None, None)" "fresh model: no snapshot, no finish"
# its environment: down where an engine is installed, unavailable where none is
env_state=$(check_status "$OUT" 'd["environment"]["state"]')
CHECKS=$((CHECKS + 1))
case "$env_state" in down|unavailable) ;; *) fail "fresh model's environment: $env_state";; esac
assert_eq "$(check_status "$OUT" '(d["remote"]["name"], d["remote"]["configured"], d["remote"]["tracking"], d["hooks"]["installed"], sorted(d["hooks"]["states"].items()))')" \
    "('origin', True, None, False, [('pre-commit', 'missing'), ('pre-push', 'missing')])" "fresh model: remote, hooks"
run_expect 0 git -C "$wa" model status
assert_contains "$OUT" "model:        alpha"
assert_contains "$OUT" "base:         main (0 ahead, 0 behind)"
assert_contains "$OUT" "changes:      clean"
assert_contains "$OUT" "remote:       origin (not pushed)"
assert_contains "$OUT" "snapshot:     (none yet"
assert_contains "$OUT" "finished:     no"
assert_contains "$OUT" "environment:  down"
assert_contains "$OUT" "hooks:        not installed"

# --- work, a snapshot, changes, main moving on --------------------------------------------------
commit_at "$wa" "2026-01-02T10:00:00Z" "one"
commit_at "$wa" "2026-01-02T11:00:00Z" "two"
run_expect 0 git -C "$wa" model tag --metric acc=0.9 -m "first try"
commit_at repo "2026-01-03T10:00:00Z" "main moves"
echo "scratch" >"$wa/scratch.txt"
mkdir -p "$wa/sub/dir"
run_expect 0 git -C "$wa/sub/dir" model status --json               # from a subdirectory
assert_eq "$(check_status "$OUT" '(d["ahead"], d["behind"], d["dirty"], d["snapshots"], d["latest_snapshot"]["tag"], d["latest_snapshot"]["at_head"], d["latest_snapshot"]["metrics"])')" \
    "(2, 1, True, 1, 'model/alpha/v1', True, {'acc': 0.9})" "work, snapshot, dirty"
run_expect 0 git -C "$wa" model status
assert_contains "$OUT" "base:         main (2 ahead, 1 behind)"
assert_contains "$OUT" "changes:      uncommitted"
assert_contains "$OUT" "snapshot:     model/alpha/v1 ("
assert_contains "$OUT" ", at HEAD)  acc=0.9"
rm -rf "$wa/scratch.txt" "$wa/sub"

# --- pushed, then one more commit; hooks installed ----------------------------------------------
git -C "$wa" push -q origin feature/model-alpha
commit_at "$wa" "2026-01-04T10:00:00Z" "three"
git -C repo config model.bench.beforePush never
run_expect 0 git -C repo model hooks install
run_expect 0 git -C "$wa" model status --json
assert_eq "$(check_status "$OUT" '(d["remote"]["tracking"], d["remote"]["ahead"], d["remote"]["behind"], d["latest_snapshot"]["at_head"], d["hooks"]["installed"])')" \
    "('origin/feature/model-alpha', 1, 0, False, True)" "pushed, one more commit, hooks"
run_expect 0 git -C "$wa" model status
assert_contains "$OUT" "remote:       origin/feature/model-alpha (1 to push, 0 to pull)"
assert_contains "$OUT" "hooks:        installed (pre-commit installed, pre-push installed)"
assert_not_contains "$OUT" "at HEAD"

# --- a note about another model on this head (anyone who can push notes can attach one) ---------
git -C "$wa" notes --ref=git-model add -m "$(printf 'Model-Finish: 1\nModel: other\nBranch: feature/model-other\nBase: main\nMode: push\nRemote: origin\nFinished: 1700000000')" HEAD
run_expect 0 git -C "$wa" model status
assert_contains "$OUT" "finished:     no"
run_expect 0 git -C "$wa" model status --json
assert_eq "$(check_status "$OUT" 'd["finished"]')" "None" "another model's finish note"

# --- finished ----------------------------------------------------------------------------------
GIT_COMMITTER_DATE="2026-01-05T10:00:00Z" run_expect 0 git -C "$wa" model finish
run_expect 0 git -C "$wa" model status --json
assert_eq "$(check_status "$OUT" '(d["finished"]["time"], d["finished"]["mode"], d["finished"]["base"], d["finished"]["remote"], d["remote"]["ahead"])')" \
    "(1767607200, 'push', 'main', 'origin', 0)" "finished"
run_expect 0 git -C "$wa" model status
assert_contains "$OUT" "finished:     "
assert_contains "$OUT" "(push to origin)"

# --- outside a model: the main worktree, a detached HEAD, a model with another base -----------
run_expect 0 git -C repo model status --json
assert_eq "$(check_status "$OUT" '(d["model"], d["branch"], d["main_worktree"], d["snapshots"], d["finished"], d["hooks"]["installed"])')" \
    "(None, 'main', True, 0, None, True)" "main worktree"
run_expect 0 git -C repo model status
assert_contains "$OUT" "model:        (none: not on a model branch)"
assert_not_contains "$OUT" "snapshot:"
git -C "$wa" switch -q --detach
run_expect 0 git -C "$wa" model status --json
assert_eq "$(check_status "$OUT" '(d["model"], d["branch"])')" "(None, None)" "detached HEAD"
git -C "$wa" switch -q feature/model-alpha
git -C repo branch -q release main~1
run_expect 0 git -C repo model start beta --base release
run_expect 0 git -C "$TEST_DIR/worktrees/feature/model-beta" model status --json
assert_eq "$(check_status "$OUT" '(d["model"], d["base"], d["ahead"], d["behind"])')" "('beta', 'release', 0, 0)" "recorded base"
git -C repo branch -q -D release
run_expect 0 git -C "$TEST_DIR/worktrees/feature/model-beta" model status
assert_contains "$OUT" "base:         release (does not exist)"
run_expect 1 git -C repo.git model status                         # a bare repository has no worktree
run_expect 2 git -C "$wa" model status --bogus
