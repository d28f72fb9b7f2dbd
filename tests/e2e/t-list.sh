#!/usr/bin/env bash
# git model list: every model, its worktree, ahead/behind, last commit, dirty; --json shape.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
run_expect 0 git -C repo model list
assert_contains "$OUT" "No models yet"
run_expect 0 git -C repo model list --json
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["version"], len(d["models"]))')" "1 0" "empty JSON"

run_expect 0 git -C repo model start alpha
run_expect 0 git -C repo model start beta
run_expect 0 git -C repo model start gone
git -C repo branch feature/model-nowt main          # a model branch without a worktree
git -C repo branch feature/other main               # not a model branch
git -C repo branch feature/model-Bad main           # not a valid model name: not listed
wa="$TEST_DIR/worktrees/feature/model-alpha"
# alpha: two commits ahead, committed at a fixed date
echo "a1" >"$wa/a.txt" && git -C "$wa" add a.txt
GIT_COMMITTER_DATE="2026-01-02T03:04:05Z" git -C "$wa" commit -q -m a1
echo "a2" >>"$wa/a.txt"
GIT_COMMITTER_DATE="2026-01-02T03:04:05Z" git -C "$wa" commit -q -am a2
# main moves on by one: every model is one behind
echo "main" >repo/m.txt && git -C repo add m.txt && git -C repo commit -q -m main-moves
# beta: dirty (untracked file)
echo "scratch" >"$TEST_DIR/worktrees/feature/model-beta/notes.txt"
# gone: its folder vanished
rm -rf "$TEST_DIR/worktrees/feature/model-gone"

check_json() {
    python3 - "$1" "$TEST_DIR" <<'PY'
import json, sys
d = json.loads(sys.argv[1]); t = sys.argv[2]
assert d["version"] == 1, d
m = {x["name"]: x for x in d["models"]}
assert sorted(m) == ["alpha", "beta", "gone", "nowt"], sorted(m)
keys = {"name", "branch", "base", "head", "last_commit_time", "worktree", "worktree_state",
        "main_worktree", "ahead", "behind", "dirty", "sweep"}
assert d["sweeps"] == [], d["sweeps"]
for x in d["models"]:
    assert set(x) == keys, set(x) ^ keys
a = m["alpha"]
assert a["branch"] == "feature/model-alpha" and a["base"] == "main"
assert (a["ahead"], a["behind"]) == (2, 1), a
assert a["last_commit_time"] == 1767323045, a["last_commit_time"]
assert a["worktree"] == t + "/worktrees/feature/model-alpha" and a["worktree_state"] == "present"
assert a["dirty"] is False
assert m["beta"]["dirty"] is True and (m["beta"]["ahead"], m["beta"]["behind"]) == (0, 1)
assert m["gone"]["worktree_state"] == "missing" and m["gone"]["dirty"] is None
assert m["nowt"]["worktree"] is None and m["nowt"]["worktree_state"] == "none" and m["nowt"]["dirty"] is None
print("ok")
PY
}
run_expect 0 git -C repo model list --json
assert_eq "$(check_json "$OUT")" "ok" "JSON from the main worktree"

# the same answer from a linked worktree, a subdirectory, with GIT_DIR
run_expect 0 git -C "$wa" model list --json
assert_eq "$(check_json "$OUT")" "ok" "JSON from a linked worktree"
mkdir -p repo/sub/dir
run_expect 0 git -C repo/sub/dir model list --json
assert_eq "$(check_json "$OUT")" "ok" "JSON from a subdirectory"
run_expect 0 env GIT_DIR="$TEST_DIR/repo/.git" git -C / model list --json
assert_eq "$(check_json "$OUT")" "ok" "JSON with GIT_DIR"

# the table
run_expect 0 git -C repo model ls
assert_contains "$OUT" "MODEL"
line=$(printf '%s\n' "$OUT" | grep '^alpha ')
assert_contains "$line" "feature/model-alpha"
assert_contains "$line" "$wa"
assert_contains "$line" "clean"
assert_contains "$(printf '%s\n' "$OUT" | grep '^beta ')" "uncommitted"
assert_contains "$(printf '%s\n' "$OUT" | grep '^gone ')" "(missing)"
assert_contains "$(printf '%s\n' "$OUT" | grep '^nowt ')" "(none)"
assert_not_contains "$OUT" "feature/other"
assert_not_contains "$OUT" "model-Bad"

# a model checked out in place shows the main worktree
run_expect 0 git -C repo model start inplace --no-worktree
run_expect 0 git -C repo model list --json
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; m={x["name"]:x for x in json.load(sys.stdin)["models"]}; print(m["inplace"]["main_worktree"], m["inplace"]["worktree"], m["inplace"]["dirty"])')" "True $TEST_DIR/repo False" "in-place model"
echo "edit" >>repo/m.txt   # its worktree is checked like any other
run_expect 0 git -C repo model list --json
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; m={x["name"]:x for x in json.load(sys.stdin)["models"]}; print(m["inplace"]["dirty"], m["alpha"]["dirty"], m["beta"]["dirty"])')" "True False True" "dirty in-place model"
git -C repo checkout -q -- m.txt

# a base that no longer exists: ahead/behind unknown, not an error
git -C repo branch -q topic main
run_expect 0 git -C repo model start ontopic --base topic
git -C repo branch -q -D topic
run_expect 0 git -C repo model list --json
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; m={x["name"]:x for x in json.load(sys.stdin)["models"]}; print(m["ontopic"]["base"], m["ontopic"]["ahead"])')" "topic None" "vanished base"
run_expect 2 git -C repo model list --bogus

# a worktree root whose name holds a newline: git writes it whole in the worktree's gitdir file,
# and the model's worktree is present, not "missing" (nor prune's "folder is gone")
odd="$TEST_DIR/wt
root"
run_expect 0 git -C repo -c model.worktreeRoot="$odd" model start oddroot
assert_dir "$odd/feature/model-oddroot"
run_expect 0 git -C repo model list --json
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; m={x["name"]:x for x in json.load(sys.stdin)["models"]}; print(m["oddroot"]["worktree_state"], m["oddroot"]["worktree"] == sys.argv[1])' "$odd/feature/model-oddroot")" "present True" "a worktree under a root with a newline"
