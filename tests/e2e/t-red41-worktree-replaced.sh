#!/usr/bin/env bash
# Red team s41b: a model's worktree folder replaced by a link to another model's worktree (a
# careless `rm -rf` and `ln -s`). Only "is its .git one of this repository's worktrees" was asked,
# so the link passed as net's worktree: `list` showed other's changes as net's, `tag net`
# recorded other's uncommitted changes as net's Model-Dirty, and `env up net` would mount other's
# files. A folder whose .git names another worktree's record is now not net's: list says so and
# reads nothing of it, tag and env refuse naming it, prune keeps net and touches neither.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
printf 'image: registry.example.com/team/pytorch:2.4.0\n' >repo/.modelenv.yaml
git -C repo add .modelenv.yaml && git -C repo commit -q -m env
run_expect 0 git -C repo model start net
run_expect 0 git -C repo model start other
wt="$TEST_DIR/worktrees/feature"
echo "other's work" >"$wt/model-other/notes.txt"
rm -rf "$wt/model-net"
ln -s model-other "$wt/model-net"

run_expect 0 git -C repo model list
assert_contains "$(grep '^net ' <<<"$OUT")" "(not its worktree)" "net's row says its folder is not its worktree"
assert_not_contains "$(grep '^net ' <<<"$OUT")" "uncommitted" "other's changes are not net's"
assert_contains "$(grep '^other ' <<<"$OUT")" "uncommitted" "they are other's"
run_expect 0 git -C repo model list --json
assert_eq "$(json_get "$OUT" '[m for m in d["models"] if m["name"] == "net"][0]["worktree_state"]')" "foreign" "list --json"

run_expect 1 git -C repo model tag net --metric acc=0.5 --no-push
assert_contains "$ERR" "is not this worktree: its .git file names the worktree at $wt/model-other" "tag names the problem"
assert_eq "$(git -C repo tag -l 'model/net/*')" "" "no snapshot recorded from other's files"
run_expect 1 git -C repo model env check net
assert_contains "$ERR" "is not this worktree" "env refuses too (up would have mounted other's files)"

# Inside the link, the folder is other's: commands there act on other, as git does.
run_expect 0 git -C "$wt/model-net" model status
assert_contains "$OUT" "model:        other" "git and git-model agree whose folder it is"

# prune keeps net, naming why, and leaves both folders alone.
run_expect 0 git -C repo model prune --force
assert_contains "$OUT" "is not this worktree" "prune says why it keeps net"
assert_eq "$(cat "$wt/model-other/notes.txt")" "other's work" "other's files are untouched"
[ -L "$wt/model-net" ] || fail "the link is left for its maker"

# s41d: the same through a parent folder: with model.worktreePath '{model}/{repo}' every worktree's
# last folder is the repository's name, and a link put in place of net2/ led to other2's worktree.
git -C repo config model.worktreePath '{model}/{repo}'
run_expect 0 git -C repo model start net2
run_expect 0 git -C repo model start other2
root=$(dirname "$(git -C repo worktree list --porcelain | sed -n 's/^worktree //p' | grep '/other2/')")
echo "other2's work" >"$root/repo/notes.txt"
mv "$(dirname "$root")/net2" "$TEST_DIR/net2-away"
ln -s other2 "$(dirname "$root")/net2"
run_expect 0 git -C repo model list
assert_contains "$(grep '^net2 ' <<<"$OUT")" "(not its worktree)" "a link above the folder is found too"
run_expect 1 git -C repo model tag net2 --metric acc=0.5 --no-push
assert_contains "$ERR" "is not this worktree" "tag refuses, naming it"
assert_eq "$(git -C repo tag -l 'model/net2/*')" "" "no snapshot of other2's files as net2's"
