#!/usr/bin/env bash
# git model prune --remote with controlled dates, two teammates and one bare remote. Alice
# finishes models (their branches reach the remote); a maintainer's clone stands in for the
# merge button: merge commits 20 and 3 days before NOW, a squash merge, a fast-forward dated
# by alice's finish record (which bob has only through the remote's notes). Bob, who has none
# of these branches, prunes the remote: merged branches past retention are archived (the tag
# pushed first) and deleted there; recent and unmerged ones stay, --force or not; a branch that
# moves on the remote after it was judged is not deleted. --dry-run changes nothing. Alice's
# own prune then removes her copies and pushes the archive tag of a branch the remote no
# longer had.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
export GIT_AUTHOR_DATE="2026-01-05T00:00:00Z" GIT_COMMITTER_DATE="2026-01-05T00:00:00Z"
NOW="2026-03-01T12:00:00Z"
remote="$TEST_DIR/team.git"
git init -q --bare "$remote"
make_repo alice
git -C alice remote add origin "$remote"
git -C alice push -q origin main
git clone -q "$remote" bob
git -C alice config model.bench.beforePush never
git -C bob config model.bench.beforePush never
run_expect 0 git -C alice model hooks install
run_expect 0 git -C bob model hooks install
W="$TEST_DIR/worktrees/feature"

# Alice's models, each in a file of its own, finished (pushed) early in February.
for m in ff old squashed moved recent unmerged gone; do
    run_expect 0 git -C alice model start "$m"
    commit_at "$W/model-$m" "2026-01-20T10:00:00Z" "$m work" "$m.txt"
    commit_at "$W/model-$m" "2026-01-21T10:00:00Z" "$m more" "$m.txt"
done
for m in old squashed moved recent unmerged gone; do
    GIT_COMMITTER_DATE="2026-02-01T10:00:00Z" run_expect 0 git -C alice model finish "$m"
done
GIT_COMMITTER_DATE="2026-02-09T10:00:00Z" run_expect 0 git -C alice model finish ff   # the record dates its merge
head_of() { git -C alice rev-parse "feature/model-$1"; }
gone_head=$(head_of gone)

# The maintainer (the merge button): a fast-forward, merge commits, a squash.
git clone -q "$remote" carol
at() { GIT_AUTHOR_DATE="$1" GIT_COMMITTER_DATE="$1" "${@:2}"; }
git -C carol merge -q --ff-only origin/feature/model-ff
for m in old moved gone; do at "2026-02-09T12:00:00Z" git -C carol merge -q --no-ff -m "Merge $m" "origin/feature/model-$m"; done
git -C carol merge -q --squash origin/feature/model-squashed >/dev/null
at "2026-02-09T13:00:00Z" git -C carol commit -q -m "Squashed model squashed"
at "2026-02-26T12:00:00Z" git -C carol merge -q --no-ff -m "Merge recent" origin/feature/model-recent
git -C carol push -q origin main
git -C carol push -q origin --delete feature/model-gone          # deleted on the server without an archive
# what "moved" will be moved to, on the server, once bob has judged it
commit_at "$W/model-moved" "2026-02-20T10:00:00Z" "moved later" moved.txt
git -C alice push -q --no-verify origin feature/model-moved:refs/test/moved-next
git -C "$W/model-moved" reset -q --hard HEAD~1                  # alice's branch as the remote has it
cat >"$remote/hooks/post-receive" <<'HOOK'
#!/bin/sh
# Someone pushes to feature/model-moved right after bob's archive tag for it arrives.
while read -r old new ref; do
    [ "$ref" = refs/tags/archive/model/moved ] && git update-ref refs/heads/feature/model-moved refs/test/moved-next
done
exit 0
HOOK
chmod +x "$remote/hooks/post-receive"

remote_head() { git -C "$remote" rev-parse -q --verify "refs/heads/feature/model-$1" || true; }
git -C bob fetch -q origin
bob_before=$(repo_state bob)
remote_before=$(remote_refs "$remote")

# --- dry run: says what would happen there, changes nothing here or there -----------------------
GIT_COMMITTER_DATE="$NOW" run_expect 0 git -C bob model prune --remote --dry-run
assert_eq "$(remote_refs "$remote")" "$remote_before" "--dry-run changes nothing on the remote"
assert_eq "$(repo_state bob)" "$bob_before" "--dry-run leaves no ref behind here"
assert_contains "$OUT" "No model branches."
assert_contains "$OUT" "On origin:"
for m in ff old squashed moved; do
    assert_contains "$OUT" "would prune $m (feature/model-$m):" "dry run $m"
    assert_contains "$OUT" "  - tag $(head_of $m | cut -c1-10) as archive/model/$m and push the tag to origin" "dry run $m"
    assert_contains "$OUT" "  - delete feature/model-$m on origin, only while it is still at $(head_of $m | cut -c1-10)" "dry run $m"
done
assert_contains "$OUT" "keep  recent (feature/model-recent): merged 3 days ago; kept for audit until 2026-03-12 12:00 UTC"
assert_contains "$OUT" "keep  unmerged (feature/model-unmerged): it is not merged into main"
assert_contains "$OUT" "  merged: "                                       # the squash's evidence
assert_contains "$OUT" "Dry run (origin): 4 would be deleted there, 2 kept."
# --force never reaches the remote's unmerged branches
GIT_COMMITTER_DATE="$NOW" run_expect 0 git -C bob model prune --remote --dry-run --force --retention 0
assert_contains "$OUT" "keep  unmerged (feature/model-unmerged): it is not merged into main"
# the setting turns it on, --no-remote off; --remote and --no-remote together are a usage error
GIT_COMMITTER_DATE="$NOW" run_expect 0 git -C bob -c model.prune.remote=true model prune --dry-run
assert_contains "$OUT" "On origin:"
GIT_COMMITTER_DATE="$NOW" run_expect 0 git -C bob -c model.prune.remote=true model prune --dry-run --no-remote
assert_not_contains "$OUT" "On origin:"
run_expect 2 git -C bob model prune --remote --no-remote
run_expect 1 git -C bob -c model.remote=nowhere model prune --remote
assert_contains "$ERR" "there is no remote 'nowhere' to prune"
assert_contains "$ERR" "git model prune --no-remote"
run_expect 1 git -C bob -c model.prune.remote=sometimes model prune
assert_contains "$ERR" "model.prune.remote 'sometimes' is not true or false"
assert_eq "$(remote_refs "$remote")" "$remote_before" "refusals change nothing on the remote"

# --- the real thing -------------------------------------------------------------------------------
GIT_COMMITTER_DATE="$NOW" run_expect 1 git -C bob model prune --remote --json      # 1: "moved" failed
check_json() {
    python3 - "$1" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["models"] == [], d["models"]
r = d["remote"]
assert r["name"] == "origin", r
m = {x["name"]: x for x in r["models"]}
assert sorted(m) == ["ff", "moved", "old", "recent", "squashed", "unmerged"], sorted(m)
for name in ("ff", "old", "squashed"):
    assert m[name]["action"] == "prune" and m[name]["done"] is True and m[name]["error"] is None, m[name]
assert m["ff"]["merged_by"] == "finish-record" and m["old"]["merged_by"] == "merge-commit", m
assert m["squashed"]["merged_by"] == "squash" and m["squashed"]["merge_evidence"], m["squashed"]
assert m["moved"]["done"] is False and "moved on origin after it was judged" in m["moved"]["error"], m["moved"]
assert m["recent"]["action"] == "keep" and m["unmerged"]["action"] == "keep", m
assert r["archive_tags_pushed"] == [] and r["archive_tag_failures"] == [], r
print("ok")
PY
}
assert_eq "$(check_json "$OUT")" "ok" "prune --remote --json"
for m in ff old squashed; do
    assert_eq "$(remote_head $m)" "" "$m deleted on the remote"
    assert_eq "$(git -C "$remote" rev-parse "refs/tags/archive/model/$m^{commit}")" "$(head_of $m)" "$m's archive tag on the remote"
    assert_eq "$(git -C "$remote" cat-file -t "refs/tags/archive/model/$m")" "tag" "annotated"
    # tagged as the archived commit's committer, at its date: any clone's archive of it is the same object
    assert_contains "$(git -C "$remote" cat-file -p "refs/tags/archive/model/$m")" \
        "tagger $(git -C alice log -1 --format='%cn <%ce> %cd' --date=raw "$(head_of $m)")"
done
assert_eq "$(remote_head recent)" "$(head_of recent)" "recent kept on the remote"
assert_eq "$(remote_head unmerged)" "$(head_of unmerged)" "unmerged kept on the remote"
assert_eq "$(remote_head moved)" "$(git -C "$remote" rev-parse refs/test/moved-next)" "moved: kept where it moved to"
assert_eq "$(git -C "$remote" rev-parse "refs/tags/archive/model/moved^{commit}")" "$(head_of moved)" "moved: archived as judged"
assert_eq "$(git -C "$remote" rev-parse main)" "$(git -C carol rev-parse main)" "main untouched"
assert_eq "$(git -C bob for-each-ref refs/git-model)" "" "no scratch refs left in bob's clone"

# again, as text: nothing more to do there; moved is no longer merged
rm "$remote/hooks/post-receive"
GIT_COMMITTER_DATE="$NOW" run_expect 0 git -C bob model prune --remote
assert_contains "$OUT" "keep  moved (feature/model-moved): it is not merged into main"
assert_contains "$OUT" "Summary (origin): 0 deleted there, 3 kept."

# --- alice prunes her copies: archive tags fetched are reused, a missing one is pushed -------------
git -C alice fetch -q origin
reachable=$(reachable_commits alice)
GIT_COMMITTER_DATE="$NOW" run_expect 0 git -C alice model prune --remote
assert_still_reachable alice "$reachable"
for m in ff old squashed moved gone; do assert_no_branch alice "feature/model-$m"; done
for m in recent unmerged; do assert_branch_exists alice "feature/model-$m"; done
assert_contains "$OUT" "pushed the archive tag archive/model/gone to origin"
assert_eq "$(git -C "$remote" rev-parse "refs/tags/archive/model/gone^{commit}")" "$gone_head" "gone's archive on the remote"
assert_eq "$(git -C alice for-each-ref 'refs/tags/archive/model/old@*')" "" "the fetched archive tag was reused, not doubled"

# --- two clones archive one model: the same tag object, so neither clone's fetch of the other's fails -----
NOW2="2026-06-01T12:00:00Z"
recent_head=$(head_of recent)
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C alice model prune --no-remote
assert_no_branch alice feature/model-recent
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C bob model prune --remote
assert_eq "$(git -C "$remote" rev-parse refs/tags/archive/model/recent)" \
    "$(git -C alice rev-parse refs/tags/archive/model/recent)" "alice's and bob's archive of recent: one tag object"
run_expect 0 git -C alice fetch origin
assert_eq "$(git -C alice rev-parse "archive/model/recent^{commit}")" "$recent_head" "recent's archive"

# merged_in_may MODEL HOUR: alice starts, works on and finishes MODEL; carol merges it on the remote's main.
merged_in_may() {
    run_expect 0 git -C alice model start "$1"
    commit_at "$W/model-$1" "2026-05-01T$2:00:00Z" "$1 work" "$1.txt"
    GIT_COMMITTER_DATE="2026-05-02T$2:00:00Z" run_expect 0 git -C alice model finish "$1"
    git -C carol fetch -q origin
    at "2026-05-03T$2:00:00Z" git -C carol merge -q --no-ff -m "Merge $1" "origin/feature/model-$1"
    git -C carol push -q origin main
}

# --- a teammate's archive took the name, at another commit: this clone's archive moves to name@2 ----------
merged_in_may late 10
late_head=$(head_of late)
git -C alice fetch -q origin
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C alice model prune --no-remote
assert_eq "$(git -C alice rev-parse "archive/model/late^{commit}")" "$late_head" "alice's own archive of late"
git -C carol tag -a -m "a teammate's archive" archive/model/late "$late_head~1"
git -C carol push -q origin archive/model/late
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C alice model prune --remote
assert_contains "$OUT" "tag $(git -C alice rev-parse --short=10 "$late_head") as archive/model/late@2 and push the tag to origin"
assert_contains "$OUT" "remove this clone's tag archive/model/late (at $(git -C alice rev-parse --short=10 "$late_head") too), since origin has archive/model/late at another commit"
run_expect 1 git -C alice rev-parse -q --verify refs/tags/archive/model/late
assert_eq "$(git -C "$remote" rev-parse "refs/tags/archive/model/late@2^{commit}")" "$late_head" "late's archive on the remote"
assert_eq "$(remote_head late)" "" "late deleted on the remote"
run_expect 0 git -C alice fetch origin
assert_eq "$(git -C alice rev-parse "archive/model/late^{commit}")" "$(git -C alice rev-parse "$late_head~1")" "the teammate's tag, fetched"

# --- the remote has the archive tag at the same commit as another object (a teammate's, tagged its own
# way): this clone's takes the remote's place, so that no fetch fails on it -----------------------------
merged_in_may twin 11
twin_head=$(head_of twin)
git -C carol tag -a -m "carol's own archive of twin" archive/model/twin "$twin_head"
git -C carol push -q origin archive/model/twin
git -C alice fetch -q --no-tags origin
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C alice model prune --remote
assert_eq "$(git -C alice rev-parse refs/tags/archive/model/twin)" "$(git -C "$remote" rev-parse refs/tags/archive/model/twin)" \
    "alice's archive of twin is the remote's object"
assert_eq "$(remote_head twin)" "" "twin deleted on the remote"
run_expect 0 git -C alice fetch origin

# --- an archive an earlier prune made here and never shared (run with --no-remote, or killed at its push),
# of a branch the server deleted since: the next prune --remote pushes it; one the remote has is left alone --
merged_in_may left 12
left_head=$(head_of left)
git -C alice fetch -q origin
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C alice model prune --no-remote
assert_eq "$(git -C alice rev-parse "archive/model/left^{commit}")" "$left_head" "archived here only"
git -C carol push -q origin --delete feature/model-left           # GitLab's "delete source branch"
git -C alice fetch -q --prune origin
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C alice model prune --remote
assert_contains "$OUT" "pushed the archive tag archive/model/left"
assert_eq "$(git -C "$remote" rev-parse "refs/tags/archive/model/left^{commit}")" "$left_head" "the archive reaches the remote"
assert_not_contains "$OUT" "FAILED"
# a teammate who fetched that archive does not bring it back after the team deleted it on the remote
git -C bob fetch -q origin 'refs/tags/archive/model/left:refs/tags/archive/model/left'
git -C carol push -q origin --delete refs/tags/archive/model/left
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C bob model prune --remote
assert_not_contains "$OUT" "archive/model/left"
assert_eq "$(git -C "$remote" tag -l archive/model/left)" "" "the deleted archive stays deleted"

# --- (s43a) such an archive whose name a teammate's archive of another commit took on the remote meanwhile
# (the name free again after the server deleted the branch): renamed @2 and pushed, never dropped silently --
merged_in_may again 13
again_head=$(head_of again)
git -C alice fetch -q origin
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C alice model prune --no-remote
git -C carol push -q origin --delete feature/model-again
git -C carol tag -a -m "a teammate's archive of another again" archive/model/again "$again_head~1"
git -C carol push -q origin archive/model/again
git -C alice fetch -q --prune --no-tags origin
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C alice model prune --remote --dry-run
assert_contains "$OUT" "would rename this clone's archive tag archive/model/again to archive/model/again@2: origin has a tag archive/model/again of another commit"
assert_eq "$(git -C alice rev-parse "archive/model/again^{commit}")" "$again_head" "the dry run renamed nothing"
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C alice model prune --remote
assert_contains "$OUT" "renamed this clone's archive tag archive/model/again to archive/model/again@2"
assert_contains "$OUT" "pushed the archive tag archive/model/again@2"
assert_eq "$(git -C "$remote" rev-parse "refs/tags/archive/model/again@2^{commit}")" "$again_head" "alice's archive reaches the remote"
assert_eq "$(git -C "$remote" rev-parse "refs/tags/archive/model/again^{commit}")" "$(git -C alice rev-parse "$again_head~1")" \
    "the teammate's archive stays"
assert_eq "$(git -C alice cat-file -p "archive/model/again@2" | sed -n '/^$/,$p' | sed -n 2p)" \
    "Archive of model again (feature/model-again), removed by git model prune" "its message kept"
assert_not_contains "$(cat alice/.git/git-model/archives-unshared)" "archive/model/again"
run_expect 0 git -C alice fetch origin
assert_eq "$(git -C alice rev-parse "archive/model/again^{commit}")" "$(git -C alice rev-parse "$again_head~1")" \
    "the teammate's tag, fetched without a clash"

# --- (s43c) the free name @2 is on the remote already, at this clone's commit as another object, and this
# clone's old tag is locked: the first run names the lock and changes nothing it cannot finish; the next
# takes the remote's @2 (no clash for fetch), removes the old name, and pushes nothing twice ----------------
merged_in_may third 14
third_head=$(head_of third)
git -C alice fetch -q origin
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C alice model prune --no-remote
git -C carol push -q origin --delete feature/model-third
git -C carol tag -a -m "another third" archive/model/third "$third_head~1"
git -C carol tag -a -m "carol's copy of alice's third" "archive/model/third@2" "$third_head"
git -C carol push -q origin archive/model/third "archive/model/third@2"
git -C alice fetch -q --prune --no-tags origin
: >alice/.git/refs/tags/archive/model/third.lock
GIT_COMMITTER_DATE="$NOW2" run_expect 1 git -C alice model prune --remote
assert_contains "$OUT" "FAILED: archive tag archive/model/third: origin has a tag archive/model/third of another commit, and this clone's could not be renamed archive/model/third@2"
assert_contains "$OUT" "archive/model/third.lock is there"
assert_eq "$(git -C alice rev-parse "archive/model/third^{commit}")" "$third_head" "the old name stays while it cannot go"
assert_contains "$(cat alice/.git/git-model/archives-unshared)" "archive/model/third" "and stays listed"
rm alice/.git/refs/tags/archive/model/third.lock
GIT_COMMITTER_DATE="$NOW2" run_expect 0 git -C alice model prune --remote
assert_contains "$OUT" "renamed this clone's archive tag archive/model/third to archive/model/third@2"
assert_not_contains "$OUT" "pushed the archive tag archive/model/third"
assert_eq "$(git -C alice rev-parse "refs/tags/archive/model/third@2")" "$(git -C "$remote" rev-parse "refs/tags/archive/model/third@2")" \
    "alice's @2 is the remote's tag object"
run_expect 1 git -C alice rev-parse -q --verify refs/tags/archive/model/third
assert_not_contains "$(cat alice/.git/git-model/archives-unshared)" "archive/model/third"
run_expect 0 git -C alice fetch origin
assert_eq "$(git -C alice rev-parse "archive/model/third^{commit}")" "$(git -C alice rev-parse "$third_head~1")" \
    "the teammate's tag, fetched without a clash"
