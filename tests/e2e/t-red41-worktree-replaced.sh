#!/usr/bin/env bash
# Red team s41b: a model's worktree folder replaced by a link to another model's worktree (a
# careless `rm -rf` and `ln -s`). Only the folder's .git was looked for, so the link passed as
# net's worktree: `list` showed other's changes as net's, `tag net` recorded other's uncommitted
# changes as net's Model-Dirty, and `env up net` would mount other's files. A folder whose .git
# does not name the worktree's own record is now net's missing worktree; other's files are left
# alone.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
run_expect 0 git -C repo model start net
run_expect 0 git -C repo model start other
wt="$TEST_DIR/worktrees/feature"
echo "other's work" >"$wt/model-other/notes.txt"
rm -rf "$wt/model-net"
ln -s model-other "$wt/model-net"

run_expect 0 git -C repo model list
assert_contains "$(grep '^net ' <<<"$OUT")" "(missing)" "net's worktree is missing, not other's"
assert_not_contains "$(grep '^net ' <<<"$OUT")" "uncommitted" "other's changes are not net's"
run_expect 0 git -C repo model list --json
assert_eq "$(json_get "$OUT" '[m for m in d["models"] if m["name"] == "net"][0]["worktree_state"]')" "missing" "list --json says missing"

run_expect 0 git -C repo model tag net --metric acc=0.5 --no-push
trailers=$(git -C repo for-each-ref --format='%(contents)' refs/tags/model/net/v1)
assert_not_contains "$trailers" "notes.txt" "net's snapshot records nothing of other's files"
assert_not_contains "$trailers" "Model-Dirty: true" "nor other's uncommitted changes as net's"

# Inside the link, the folder is other's: commands there act on other, as git does.
run_expect 0 git -C "$wt/model-net" model status
assert_contains "$OUT" "model:        other" "git and git-model agree whose folder it is"

# prune (which keeps both: nothing merged) leaves the link's target alone.
run_expect 0 git -C repo model prune --force
assert_eq "$(cat "$wt/model-other/notes.txt")" "other's work" "other's files are untouched"
