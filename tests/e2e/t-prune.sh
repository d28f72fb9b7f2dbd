#!/usr/bin/env bash
# git model prune with controlled dates: branches merged 20 days ago (merge commit, or
# fast-forward with a finish record) go after archiving; merged 1 day ago, unmerged,
# dirty and unpushed stay unless --force (and the audit period holds even then); with
# and without worktrees, missing and locked ones. --dry-run changes nothing and says
# exactly what would happen. After every prune, every commit that was reachable from
# some ref still is. Run from inside a model's linked worktree while main is checked
# out in the main worktree.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
export GIT_AUTHOR_DATE="2025-12-01T00:00:00Z" GIT_COMMITTER_DATE="2025-12-01T00:00:00Z"
make_repo repo
git init -q --bare repo.git
git -C repo remote add origin "$TEST_DIR/repo.git"
git -C repo push -q origin main
W="$TEST_DIR/worktrees/feature"
NOW="2026-03-01T12:00:00Z"
prune() { GIT_COMMITTER_DATE="$NOW" run_expect "$@"; }
merge_at() {  # MODEL DATE: merge the model into main (in the main worktree) with a merge commit dated DATE
    GIT_COMMITTER_DATE="$2" GIT_AUTHOR_DATE="$2" git -C repo merge -q --no-ff -m "Merge $1" "feature/model-$1"
}

# ff: fast-forwarded into main; only its finish record (20 days ago) dates the merge
run_expect 0 git -C repo model start ff
commit_at "$W/model-ff" "2026-01-10T10:00:00Z" "ff work"
GIT_COMMITTER_DATE="2026-02-09T10:00:00Z" run_expect 0 git -C "$W/model-ff" model finish
git -C repo merge -q --ff-only feature/model-ff
# old (worktree), nowt (no worktree), missing (folder gone), dirty, locked: merged 20 days ago
for m in old nowt missing dirty locked unpushed recent unmerged; do run_expect 0 git -C repo model start "$m"; done
for m in old nowt missing dirty locked unpushed recent; do commit_at "$W/model-$m" "2026-01-15T10:00:00Z" "$m work" "$m.txt"; done
commit_at "$W/model-unmerged" "2026-01-20T10:00:00Z" "unmerged work" unmerged.txt
merge_at old "2026-02-09T12:00:00Z"
merge_at nowt "2026-02-09T12:10:00Z"
merge_at missing "2026-02-09T12:20:00Z"
merge_at dirty "2026-02-09T12:30:00Z"
merge_at locked "2026-02-09T12:40:00Z"
git -C repo push -q origin main feature/model-unmerged     # everything so far is on the remote
merge_at unpushed "2026-02-09T13:00:00Z"                    # merged, but neither it nor main pushed since
merge_at recent "2026-02-28T12:00:00Z"                      # merged 1 day before NOW
git -C repo push -q origin feature/model-recent
git -C repo worktree remove "$W/model-nowt"
rm -rf "$W/model-missing"
echo "notes" >"$W/model-dirty/scratch.txt"
git -C repo worktree lock --reason "on a removable disk" "$W/model-locked"
heads=$(git -C repo for-each-ref --format='%(refname:short) %(objectname)' 'refs/heads/feature/')
head_of() { printf '%s\n' "$heads" | awk -v b="feature/model-$1" '$1 == b {print $2}'; }
wr="$W/model-recent"

# --- dry run: exactly what would happen, nothing changes ------------------------------------
before=$(repo_state repo)
reachable=$(reachable_commits repo)
prune 0 git -C "$wr" model prune --dry-run
assert_eq "$(repo_state repo)" "$before" "--dry-run changes nothing"
for m in ff old nowt missing; do
    assert_contains "$OUT" "would prune $m (feature/model-$m):" "dry run"
    assert_contains "$OUT" "  - tag $(head_of $m | cut -c1-10) as archive/model/$m" "dry run $m"
    assert_contains "$OUT" "  - delete the branch feature/model-$m" "dry run $m"
done
assert_contains "$OUT" "  - remove the worktree $W/model-old"
assert_contains "$OUT" "  - remove the worktree $W/model-ff"
assert_contains "$OUT" "  - forget the worktree $W/model-missing (its folder is gone)"
assert_not_contains "$(printf '%s\n' "$OUT" | sed -n '/would prune nowt/,/delete the branch feature\/model-nowt/p')" "worktree"
assert_contains "$OUT" "keep  recent (feature/model-recent): merged 1 day ago; kept for audit until 2026-03-14 12:00 UTC (retention 14 days); you are inside its worktree (run prune from elsewhere)"
assert_contains "$OUT" "keep  unmerged (feature/model-unmerged): it is not merged into main"
assert_contains "$OUT" "keep  dirty (feature/model-dirty): its worktree has uncommitted changes"
assert_contains "$OUT" "keep  locked (feature/model-locked): its worktree is locked"
assert_contains "$OUT" "keep  unpushed (feature/model-unpushed): it has commits that are not on origin"
assert_contains "$OUT" "Dry run: 4 would be pruned, 5 kept."

check_dry_json() {
    python3 - "$1" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["version"] == 1 and d["dry_run"] is True and d["force"] is False
assert d["now"] == 1772366400 and d["retention_seconds"] == 14 * 86400, d
m = {x["name"]: x for x in d["models"]}
assert sorted(k for k, v in m.items() if v["action"] == "prune") == ["ff", "missing", "nowt", "old"], m
keys = {"name", "branch", "head", "base", "action", "reasons", "forced", "merged_at", "merged_by", "merge_evidence", "eligible_at",
        "worktree", "archive_tag", "steps", "done", "error"}
for x in d["models"]:
    assert set(x) == keys, set(x) ^ keys
    assert x["done"] is None and x["error"] is None
assert m["old"]["merged_by"] == "merge-commit" and m["old"]["merged_at"] == 1770638400
assert m["ff"]["merged_by"] == "finish-record" and m["ff"]["merged_at"] == 1770631200
assert m["recent"]["merged_at"] == 1772280000 and m["recent"]["eligible_at"] == 1772280000 + 14 * 86400
assert m["unmerged"]["merged_by"] is None and m["unmerged"]["archive_tag"] is None
assert m["nowt"]["worktree"] is None and len(m["nowt"]["steps"]) == 2
assert m["old"]["archive_tag"] == "archive/model/old" and len(m["old"]["steps"]) == 3
print("ok")
PY
}
prune 0 git -C "$wr" model prune --dry-run --json
assert_eq "$(check_dry_json "$OUT")" "ok" "dry-run JSON"
assert_eq "$(repo_state repo)" "$before" "--dry-run --json changes nothing"

# --- the real thing, from inside recent's worktree ---------------------------------------------
prune 0 git -C "$wr" model prune
assert_contains "$OUT" "Summary: 4 pruned, 5 kept."
assert_still_reachable repo "$reachable"
for m in ff old nowt missing; do
    assert_no_branch repo "feature/model-$m"
    assert_eq "$(git -C repo rev-parse "archive/model/$m^{commit}")" "$(head_of $m)" "archive tag of $m"
    assert_eq "$(git -C repo cat-file -t "archive/model/$m")" "tag" "annotated archive tag of $m"
    assert_contains "$(git -C repo cat-file -p "archive/model/$m")" "Model-Archive: 1"
    assert_eq "$(git -C repo config --get "branch.feature/model-$m.modelBase" || true)" "" "config of $m removed"
done
assert_no_path "$W/model-old"
assert_no_path "$W/model-ff"
worktrees=$(git_worktrees repo)
assert_not_contains "$worktrees" "model-old"
assert_not_contains "$worktrees" "model-missing"
for m in recent unmerged dirty locked unpushed; do assert_branch_exists repo "feature/model-$m"; done
assert_dir "$W/model-dirty"
[ -f "$W/model-dirty/scratch.txt" ] || fail "the dirty worktree's file is kept"
assert_eq "$(git -C repo branch --show-current)" "main" "main worktree still on main"

# again: nothing more to do
reachable=$(reachable_commits repo)
prune 0 git -C repo model prune
assert_contains "$OUT" "Summary: 0 pruned, 5 kept."
assert_still_reachable repo "$reachable"

# --- retention: from the option and from config --------------------------------------------------
prune 2 git -C repo model prune --retention soon
prune 1 git -C repo -c model.prune.retention=fortnight model prune
assert_contains "$ERR" "model.prune.retention"
prune 1 git -C repo -c model.prune.archiveTag=attic model prune --dry-run
assert_contains "$ERR" "neither {model} nor {branch}"
prune 0 git -C repo -c model.prune.retention=2h model prune --dry-run
assert_contains "$OUT" "would prune recent"
prune 0 git -C repo model prune --retention 0 --dry-run
assert_contains "$OUT" "would prune recent"
prune 0 git -C "$wr" model prune --retention 0
assert_contains "$OUT" "you are inside its worktree"
assert_branch_exists repo feature/model-recent
reachable=$(reachable_commits repo)
prune 0 git -C repo -c model.prune.archiveTag='attic/{model}' model prune --retention 0
assert_contains "$OUT" "Summary: 1 pruned, 4 kept."
assert_no_branch repo feature/model-recent
assert_no_path "$wr"
assert_eq "$(git -C repo rev-parse 'attic/recent^{commit}')" "$(head_of recent)" "configured archive form"
assert_still_reachable repo "$reachable"

# --- --force: unmerged (stale only), dirty, unpushed, locked; never inside the audit period -------
run_expect 0 git -C repo model start fresh
commit_at "$W/model-fresh" "2026-02-25T10:00:00Z" "fresh work"   # (not pushed: main, which it starts from, is not)
run_expect 0 git -C repo model start young
commit_at "$W/model-young" "2026-02-20T10:00:00Z" "young work"
merge_at young "2026-02-27T12:00:00Z"
reachable=$(reachable_commits repo)
before=$(repo_state repo)
prune 0 git -C repo model prune --force --dry-run
assert_eq "$(repo_state repo)" "$before" "--force --dry-run changes nothing"
assert_contains "$OUT" "would prune unmerged"
assert_contains "$OUT" "  --force: it is not merged into main"
assert_contains "$OUT" "would prune dirty"
assert_contains "$OUT" "  --force: the uncommitted changes in its worktree will be lost"
assert_contains "$OUT" "would prune unpushed"
assert_contains "$OUT" "  --force: it has commits that are not on origin"
assert_contains "$OUT" "would prune locked"
assert_contains "$OUT" "keep  fresh (feature/model-fresh): it is not merged into main, and its last commit is only 4 days old"
assert_contains "$OUT" "keep  young (feature/model-young): merged 2 days ago"
prune 0 git -C repo model prune --force
assert_contains "$OUT" "Summary: 4 pruned, 2 kept."
for m in unmerged dirty unpushed locked; do
    assert_no_branch repo "feature/model-$m"
    assert_eq "$(git -C repo rev-parse "archive/model/$m^{commit}")" "$(head_of $m)" "archive tag of $m"
done
assert_no_path "$W/model-dirty"
assert_no_path "$W/model-locked"
assert_branch_exists repo feature/model-fresh
assert_branch_exists repo feature/model-young
assert_still_reachable repo "$reachable"
assert_eq "$(git -C repo worktree list --porcelain | grep -c '^worktree ')" "3" "main, fresh and young remain"

# --- a locked worktree whose folder is gone: kept, then forgotten with --force ------------------
run_expect 0 git -C repo model start stray
commit_at "$W/model-stray" "2026-02-10T09:00:00Z" "stray work"
merge_at stray "2026-02-10T09:30:00Z"
git -C repo push -q origin main
git -C repo worktree lock "$W/model-stray"
rm -rf "$W/model-stray"
stray=$(git -C repo rev-parse feature/model-stray)
prune 0 git -C repo model prune
assert_contains "$OUT" "keep  stray (feature/model-stray): its worktree is locked"
reachable=$(reachable_commits repo)
prune 0 git -C repo model prune --force
assert_contains "$OUT" "pruned stray (feature/model-stray):"
assert_no_branch repo feature/model-stray
assert_not_contains "$(git_worktrees repo)" "model-stray"
assert_eq "$(git -C repo rev-parse 'archive/model/stray^{commit}')" "$stray" "archive of stray"
assert_still_reachable repo "$reachable"

# --- a worktree moved by hand, with staged work: git's record of it (its index) is kept -------------
run_expect 0 git -C repo model start moved
commit_at "$W/model-moved" "2026-02-10T09:00:00Z" "moved work" moved.txt
merge_at moved "2026-02-10T09:30:00Z"
git -C repo push -q origin main
mv "$W/model-moved" "$TEST_DIR/elsewhere"
echo "staged after the move" >"$TEST_DIR/elsewhere/staged.txt"
git -C "$TEST_DIR/elsewhere" add staged.txt
prune 0 git -C repo model prune --dry-run
assert_contains "$OUT" "keep  moved (feature/model-moved): its worktree's folder $W/model-moved is gone, but git's record of it holds 1 staged change (staged.txt): if the folder was moved by hand, \`git worktree repair <its new place>\` joins them again (--force forgets the record and them)"
prune 0 git -C repo model prune
assert_branch_exists repo feature/model-moved
git -C repo worktree repair "$TEST_DIR/elsewhere"
assert_eq "$(git -C "$TEST_DIR/elsewhere" diff --cached --name-only)" "staged.txt" "the staged change is there after repair"
# moved back and committed, it is pruned as any other
mv "$TEST_DIR/elsewhere" "$W/model-moved"
git -C repo worktree repair "$W/model-moved"
git -C "$W/model-moved" reset -q --hard
prune 0 git -C repo model prune
assert_contains "$OUT" "pruned moved (feature/model-moved):"
# --force forgets such a record, staged changes and all, and says so
run_expect 0 git -C repo model start moved2
commit_at "$W/model-moved2" "2026-02-10T09:00:00Z" "moved2 work" moved2.txt
merge_at moved2 "2026-02-10T09:30:00Z"
git -C repo push -q origin main
mv "$W/model-moved2" "$TEST_DIR/elsewhere2"
echo "staged" >"$TEST_DIR/elsewhere2/s.txt" && git -C "$TEST_DIR/elsewhere2" add s.txt
prune 0 git -C repo model prune --force
assert_contains "$OUT" "git's record of it holds 1 staged change (s.txt)"
assert_contains "$OUT" "pruned moved2 (feature/model-moved2):"
assert_no_branch repo feature/model-moved2

# --- a reused model name gets its own archive tag -----------------------------------------------
run_expect 0 git -C repo model start old
commit_at "$W/model-old" "2026-02-10T10:00:00Z" "old again" old2.txt
merge_at old "2026-02-10T12:00:00Z"
git -C repo push -q origin main
reachable=$(reachable_commits repo)
prune 0 git -C "$W/model-young" model prune
assert_contains "$OUT" "pruned old (feature/model-old):"
assert_contains "$OUT" "as archive/model/old@2"
assert_ne_first=$(git -C repo rev-parse 'archive/model/old^{commit}')
assert_eq "$(git -C repo rev-parse 'archive/model/old@2^{commit}')" "$(git -C repo rev-parse main^2)" "second archive of old"
assert_eq "$assert_ne_first" "$(head_of old)" "the first archive of old is untouched"
assert_still_reachable repo "$reachable"
prune 2 git -C repo model prune --bogus

# --- a model never committed to is said to have no commits of its own, not to lack a merge commit ---
run_expect 0 git -C repo model start idle
run_expect 0 git -C repo model start ffonly
commit_at "$W/model-ffonly" "2026-02-10T10:00:00Z" "ff only work" ffonly.txt
git -C repo merge -q --ff-only feature/model-ffonly
prune 0 git -C repo model prune --dry-run
assert_contains "$OUT" "keep  idle (feature/model-idle): it has no commits of its own (nothing beyond main); nothing of it was merged"
assert_not_contains "$(grep '^keep  idle' <<<"$OUT")" "merge commit" "idle: no talk of merge commits"
assert_contains "$OUT" "keep  ffonly (feature/model-ffonly): it is in main but without a merge commit or finish record"
