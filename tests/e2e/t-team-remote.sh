#!/usr/bin/env bash
# Two teammates and one remote (a bare repository whose pre-receive hook records push options
# and answers like GitLab): snapshot tags reach the remote (tag with an upstream, finish) and
# show in the other clone's log, best and compare after a plain git fetch (hooks install sets
# up the fetch of tags and finish notes); numbers the remote has taken are not reused; a tag
# push the remote refuses keeps the snapshot and says how to push it later; finish twice never
# claims a second merge request.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
export GIT_AUTHOR_DATE="2026-02-01T00:00:00Z" GIT_COMMITTER_DATE="2026-02-01T00:00:00Z"
web="https://gitlab.example.com/team/models"
remote="$TEST_DIR/team.git"
make_options_remote "$remote" "$web"
options_log="$remote/push-options.log"
make_repo alice
git -C alice remote add origin "$remote"
git -C alice push -q origin main
git clone -q "$remote" bob
for who in alice bob; do
    git -C $who config model.forge gitlab        # the bare remote stands in for GitLab
    git -C $who config model.forgeUrl "$web"
    git -C $who config model.bench.beforePush never
done

# hooks install sets up the fetch of every tag and of the finish notes
run_expect 0 git -C alice model hooks install
assert_contains "$OUT" "fetch: git fetch origin now brings every tag"
assert_contains "$OUT" "fetch: git fetch origin now brings the finish notes to refs/notes/remotes/origin/git-model"
run_expect 0 git -C bob model hooks install
assert_eq "$(git -C bob config remote.origin.tagOpt)" "--tags" "bob fetches every tag"

# --- tag: no upstream yet, so the snapshot stays here ------------------------------------------
run_expect 0 git -C alice model start resnet
wa="$TEST_DIR/worktrees/feature/model-resnet"
commit_at "$wa" "2026-02-02T10:00:00Z" "resnet baseline" resnet.py
run_expect 0 git -C "$wa" model tag --metric acc=0.80 -m baseline --json
assert_eq "$(json_get "$OUT" 'd["push"]["remote"], d["push"]["pushed"], d["push"]["error"], d["push"]["skipped"]')" \
    "None False None the branch has no upstream yet" "no upstream: not pushed"
assert_eq "$(git -C "$remote" rev-parse -q --verify refs/tags/model/resnet/v1 || true)" "" "v1 not on the remote yet"

# --- finish pushes the branch, asks for the merge request, pushes the tags and notes --------------
rm -f "$options_log"
GIT_COMMITTER_DATE="2026-02-03T10:00:00Z" run_expect 0 git -C "$wa" model finish
assert_contains "$OUT" "Merge request into main requested with push options."
assert_contains "$OUT" "Merge request: $web/-/merge_requests/1"
assert_contains "$OUT" "Pushed to origin: model/resnet/v1, the finish notes."
assert_contains "$ERR" "remote: View merge request for feature/model-resnet:"   # git's own lines, shown live
assert_eq "$(git -C "$remote" rev-parse refs/tags/model/resnet/v1)" "$(git -C alice rev-parse refs/tags/model/resnet/v1)" "v1 on the remote"
assert_contains "$(git -C alice notes --ref=git-model show feature/model-resnet)" "Review: $web/-/merge_requests/1"
assert_eq "$(grep -c '^merge_request.create$' "$options_log")" "1" "one merge request asked for"

# --- finish again with nothing new: says so, claims nothing, links the request it has --------------
head=$(git -C alice rev-parse feature/model-resnet)
note_before=$(git -C alice notes --ref=git-model show "$head")
GIT_COMMITTER_DATE="2026-02-03T11:00:00Z" run_expect 0 git -C "$wa" model finish
assert_contains "$OUT" "Nothing to push: origin already has feature/model-resnet at ${head:0:10}."
assert_contains "$OUT" "No merge request was requested"
assert_not_contains "$OUT" "requested with push options"
assert_contains "$OUT" "Merge request (named by origin at the earlier finish): $web/-/merge_requests/1"
assert_contains "$OUT" "was finished at ${head:0:10} already"
assert_eq "$(grep -c '^merge_request.create$' "$options_log")" "1" "no second merge request asked for"
assert_eq "$(git -C alice notes --ref=git-model show "$head")" "$note_before" "the first finish record stays"
# ... and where no earlier finish named one (here, nor on the remote): the page that opens (or finds) it
git -C alice notes --ref=git-model remove "$head" 2>/dev/null
git -C alice notes --ref=refs/notes/remotes/origin/git-model remove "$head" 2>/dev/null
git -C "$remote" notes --ref=git-model remove "$head" 2>/dev/null
run_expect 0 git -C "$wa" model finish
assert_contains "$OUT" "No merge request was requested"
assert_contains "$OUT" "Open one, or find the open one: $web/-/merge_requests/new?merge_request%5Bsource_branch%5D=feature/model-resnet&merge_request%5Btarget_branch%5D=main"
assert_contains "$(git -C alice notes --ref=git-model show "$head")" "Mode: push"   # it says no review was requested
assert_eq "$(grep -c '^merge_request.create$' "$options_log")" "1" "still one merge request asked for"

# --- with an upstream, tag pushes; --no-push and model.tag.push=false keep it here ------------------
commit_at "$wa" "2026-02-04T10:00:00Z" "deeper" resnet.py
GIT_COMMITTER_DATE="2026-02-04T11:00:00Z" run_expect 0 git -C "$wa" model tag --metric acc=0.85 -m deeper
assert_contains "$OUT" "Pushed model/resnet/v2 to origin."
assert_eq "$(git -C "$remote" rev-parse refs/tags/model/resnet/v2)" "$(git -C alice rev-parse refs/tags/model/resnet/v2)" "v2 on the remote"
run_expect 0 git -C "$wa" model tag --metric acc=0.83 --no-push
assert_not_contains "$OUT" "Pushed"
run_expect 0 git -C "$wa" -c model.tag.push=false model tag --metric acc=0.84 --json
assert_eq "$(json_get "$OUT" 'd["push"]["skipped"]')" "model.tag.push is false" "model.tag.push=false"
run_expect 1 git -C "$wa" -c model.tag.push=sometimes model tag --metric acc=0.1
assert_contains "$ERR" "model.tag.push 'sometimes' is not true or false"
assert_contains "$ERR" "git config model.tag.push true"
for v in v3 v4; do
    assert_eq "$(git -C "$remote" rev-parse -q --verify refs/tags/model/resnet/$v || true)" "" "$v stays here"
done
# a finish brings them along (the branch has moved: this push asks for the request again, and
# the server names the one that exists)
commit_at "$wa" "2026-02-05T10:00:00Z" "wider" resnet.py
run_expect 0 git -C "$wa" model finish
assert_contains "$OUT" "Merge request: $web/-/merge_requests/1"
assert_contains "$OUT" "Pushed to origin: model/resnet/v3, model/resnet/v4, the finish notes."
assert_eq "$(cat "$remote/merge-requests")" "1 feature/model-resnet" "the server has one merge request"
alice_head=$(git -C alice rev-parse feature/model-resnet)   # the commit alice's last finish recorded

# --- bob fetches: alice's snapshots in his log, best and compare ------------------------------
git -C bob fetch -q origin
assert_eq "$(git -C bob rev-parse refs/tags/model/resnet/v4)" "$(git -C alice rev-parse refs/tags/model/resnet/v4)" "bob has v4"
run_expect 0 git -C bob model log resnet
assert_eq "$(printf '%s\n' "$OUT" | grep -c '^v')" "4" "bob's log lists alice's four snapshots"
assert_contains "$(printf '%s\n' "$OUT" | grep '^v1 ')" "baseline"
run_expect 0 git -C bob model best resnet --metric acc
assert_contains "$OUT" "model/resnet/v2  acc=0.85"
run_expect 0 git -C bob model compare resnet/v1 resnet/v2
assert_contains "$OUT" "deeper"
assert_eq "$(git -C bob notes --ref=remotes/origin/git-model show "$(git -C alice rev-parse feature/model-resnet)" | grep -c 'Model-Finish: 1')" "1" "bob has alice's finish record"
OUT=$(git -C bob model doctor --no-bench --json || true)   # (no user.name here: the config check fails)
assert_eq "$(json_get "$OUT" '[c["status"] for c in d["checks"] if c["name"] == "fetch"][0]')" "ok" "bob's fetch check"

# --- bob tags alice's model without fetching first: the number alice took meanwhile is skipped -----
git -C bob branch -q --track feature/model-resnet origin/feature/model-resnet
commit_at "$wa" "2026-02-06T10:00:00Z" "alice again" resnet.py
run_expect 0 git -C "$wa" model tag --metric acc=0.86                  # v5, pushed: the branch has an upstream
assert_contains "$OUT" "Pushed model/resnet/v5 to origin."
run_expect 0 git -C bob model tag resnet --metric acc=0.7 -m "bob's check"
assert_contains "$OUT" "Tagged model/resnet/v6 "
assert_contains "$OUT" "Pushed model/resnet/v6 to origin."
git -C alice fetch -q origin
run_expect 0 git -C alice model log resnet
assert_contains "$(printf '%s\n' "$OUT" | grep '^v6 ')" "bob's check"

# --- alice and bob tag at the same moment: bob's push lands between alice's listing and hers ------------
# (a pre-push hook of alice's makes bob tag right then). Alice's number is taken on the remote: her
# unpushed tag goes, her snapshot takes the next number and reaches the remote, and her fetch works.
mkdir "$TEST_DIR/race-hooks"
cat >"$TEST_DIR/race-hooks/pre-push" <<HOOK
#!/bin/sh
[ -e "$TEST_DIR/raced" ] && exit 0
: >"$TEST_DIR/raced"
env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE -u GIT_PREFIX -u GIT_CONFIG_PARAMETERS -u GIT_CONFIG_COUNT \
    git -C "$TEST_DIR/bob" model tag resnet --metric acc=0.1 -m "bob meanwhile" >"$TEST_DIR/bob-race.out" 2>&1
exit 0
HOOK
chmod +x "$TEST_DIR/race-hooks/pre-push"
run_expect 0 git -C "$wa" -c core.hooksPath="$TEST_DIR/race-hooks" model tag --metric acc=0.87 -m "alice meanwhile"
assert_contains "$(cat "$TEST_DIR/bob-race.out")" "Pushed model/resnet/v7 to origin."
assert_contains "$ERR" "another clone pushed model/resnet/v7 to origin first: this snapshot took the next free number"
assert_contains "$OUT" "Tagged model/resnet/v8 "
assert_contains "$OUT" "Pushed model/resnet/v8 to origin."
assert_contains "$(git -C "$remote" cat-file -p refs/tags/model/resnet/v7)" "bob meanwhile"
assert_contains "$(git -C "$remote" cat-file -p refs/tags/model/resnet/v8)" "alice meanwhile"
run_expect 0 git -C alice fetch origin                               # no tag of hers clobbers the remote's
assert_contains "$(git -C alice cat-file -p refs/tags/model/resnet/v7)" "bob meanwhile"

# --- bob finishes a model of his own: his finish notes and alice's are merged, never overwritten ------
run_expect 0 git -C bob model start bert
commit_at "$TEST_DIR/worktrees/feature/model-bert" "2026-02-06T12:00:00Z" "bert" bert.py
run_expect 0 git -C bob model finish bert
assert_contains "$OUT" "Pushed to origin: the finish notes."
assert_not_contains "$ERR" "warning"
bob_head=$(git -C bob rev-parse feature/model-bert)
assert_contains "$(git -C "$remote" notes --ref=git-model show "$alice_head")" "Branch: feature/model-resnet"
assert_contains "$(git -C "$remote" notes --ref=git-model show "$bob_head")" "Branch: feature/model-bert"
# ... and alice's next finish merges bob's record in turn
commit_at "$wa" "2026-02-06T13:00:00Z" "alice once more" resnet.py
run_expect 0 git -C "$wa" model finish
assert_not_contains "$ERR" "warning"
assert_contains "$(git -C "$remote" notes --ref=git-model show "$bob_head")" "Branch: feature/model-bert"
assert_contains "$(git -C alice notes --ref=git-model show "$bob_head")" "Branch: feature/model-bert"

# --- the remote refuses the tag: the snapshot stays here, the warning says how to push it later ---
git init -q --bare "$TEST_DIR/strict.git"
cat >"$TEST_DIR/strict.git/hooks/pre-receive" <<'HOOK'
#!/bin/sh
while read -r old new ref; do
    case "$ref" in refs/tags/*) echo "tags are frozen this week" >&2; exit 1;; esac
done
HOOK
chmod +x "$TEST_DIR/strict.git/hooks/pre-receive"
git -C alice remote add strict "$TEST_DIR/strict.git"
run_expect 0 git -C alice model start vit
wv="$TEST_DIR/worktrees/feature/model-vit"
commit_at "$wv" "2026-02-07T10:00:00Z" "vit" vit.py
git -C alice push -q --no-verify strict feature/model-vit
git -C alice branch -q -u strict/feature/model-vit feature/model-vit
run_expect 0 git -C "$wv" model tag --metric acc=0.5
assert_contains "$OUT" "Tagged model/vit/v1 "
assert_not_contains "$OUT" "Pushed"
assert_contains "$ERR" "warning: model/vit/v1 was made here but not pushed to strict"
assert_contains "$ERR" "tags are frozen this week"
assert_contains "$ERR" "the next \`git model tag\` (or finish) of this model pushes it; or push it yourself: git push strict refs/tags/model/vit/v1"
assert_eq "$(git -C alice cat-file -t refs/tags/model/vit/v1)" "tag" "the snapshot is kept"
run_expect 0 git -C alice model log vit
assert_contains "$OUT" "v1 "
run_expect 0 git -C "$wv" model tag --metric acc=0.6 --json
assert_eq "$(json_get "$OUT" 'd["push"]["pushed"], d["push"]["remote"], "frozen" in d["push"]["error"]')" "False strict True" "JSON says so"
rm "$TEST_DIR/strict.git/hooks/pre-receive"                # unfrozen: the printed command works
git -C alice push -q strict refs/tags/model/vit/v1
assert_eq "$(git -C "$TEST_DIR/strict.git" rev-parse refs/tags/model/vit/v1)" "$(git -C alice rev-parse refs/tags/model/vit/v1)" "pushed later"

# --- alice's v2 was never pushed, and bob's snapshot took v2 on the remote meanwhile: her next tag moves
# hers to the next free number (same commit, record and date) and pushes it; no fetch fails on a clash ------
v2_date=$(git -C alice for-each-ref --format='%(taggerdate:raw)' refs/tags/model/vit/v2)
git -C bob remote add strict "$TEST_DIR/strict.git"
git -C bob fetch -q strict
git -C bob branch -q --track feature/model-vit strict/feature/model-vit
run_expect 0 git -C bob model tag vit --metric acc=0.9 -m "bob on vit"
assert_contains "$OUT" "Tagged model/vit/v2 "
run_expect 0 git -C "$wv" model tag --metric acc=0.7 -m third
assert_contains "$ERR" "model/vit/v2 -> model/vit/v3: a snapshot made here and never pushed, whose number a teammate's took on strict meanwhile, has the next free number now"
assert_contains "$OUT" "Tagged model/vit/v4 "
assert_contains "$(git -C "$TEST_DIR/strict.git" cat-file -p refs/tags/model/vit/v3)" "acc=0.6"
assert_eq "$(git -C "$TEST_DIR/strict.git" for-each-ref --format='%(taggerdate:raw)' refs/tags/model/vit/v3)" "$v2_date" "its date kept"
assert_contains "$(git -C "$TEST_DIR/strict.git" cat-file -p refs/tags/model/vit/v2)" "bob on vit"
run_expect 0 git -C alice fetch strict 'refs/tags/*:refs/tags/*'
assert_contains "$(git -C alice cat-file -p refs/tags/model/vit/v2)" "bob on vit"
# bob replaces his v2 there (a bad result withdrawn): alice's fetched copy of the old one is not hers to
# move or push again; her next tag only says that it clashes
git -C bob tag -f -a -m "bob on vit, fixed" model/vit/v2 "$(git -C bob rev-parse 'model/vit/v2^{commit}')" >/dev/null
git -C bob push -q -f strict refs/tags/model/vit/v2
run_expect 0 git -C "$wv" model tag --metric acc=0.71 -m fourth
assert_contains "$ERR" "model/vit/v2 here is not strict's model/vit/v2 (fetched from elsewhere, or replaced there)"
assert_contains "$OUT" "Tagged model/vit/v5 "
assert_eq "$(git -C "$TEST_DIR/strict.git" tag -l 'model/vit/*' | wc -l)" "5" "no copy of the withdrawn snapshot on the remote"
assert_contains "$(git -C "$TEST_DIR/strict.git" cat-file -p refs/tags/model/vit/v2)" "bob on vit, fixed"

# --- a snapshot whose push never happened (the remote unreachable, as for a tag killed while it
# pushed) goes out with the next tag: before, only a second finish pushed it (red team s34b) ------
url=$(git -C alice config remote.strict.url)
git -C alice config remote.strict.url "$TEST_DIR/away.git"
run_expect 0 git -C "$wv" model tag --metric acc=0.72 -m "while away"
assert_contains "$OUT" "Tagged model/vit/v6 "
assert_contains "$ERR" "model/vit/v6 was made here but not pushed to strict"
git -C alice config remote.strict.url "$url"
run_expect 0 git -C "$wv" model tag --metric acc=0.73 -m back
assert_contains "$OUT" "Tagged model/vit/v7 "
assert_contains "$OUT" "Pushed model/vit/v6 too: made here before, never pushed"
assert_contains "$(git -C "$TEST_DIR/strict.git" cat-file -p refs/tags/model/vit/v6)" "while away"
assert_eq "$(git -C "$TEST_DIR/strict.git" rev-parse refs/tags/model/vit/v6)" "$(git -C alice rev-parse refs/tags/model/vit/v6)" "the very tag"
run_expect 0 git -C "$wv" model tag --metric acc=0.74 -m again --json
assert_eq "$(json_get "$OUT" 'd["push"]["also_pushed"]')" "[]" "pushed once: the ledger forgot it"
# ... but one pushed by hand with the command the warning gives (through the pre-push hook) is
# no longer this clone's to push: a teammate who then deletes it there does not see it come back
# with the next tag (red team s34c).
git -C alice config remote.strict.url "$TEST_DIR/away.git"
run_expect 0 git -C "$wv" model tag --metric acc=0.75 -m "away again"
assert_contains "$OUT" "Tagged model/vit/v9 "
git -C alice config remote.strict.url "$url"
run_expect 0 git -C alice push -q strict refs/tags/model/vit/v9
git -C "$TEST_DIR/strict.git" tag -d model/vit/v9 >/dev/null      # a teammate withdraws it
run_expect 0 git -C "$wv" model tag --metric acc=0.76 -m "after the withdrawal"
assert_contains "$OUT" "Tagged model/vit/v10 "
assert_not_contains "$OUT" "Pushed model/vit/v9 too"
assert_eq "$(git -C "$TEST_DIR/strict.git" tag -l model/vit/v9)" "" "the withdrawn snapshot stays withdrawn"
assert_contains "$ERR" "model/vit/v9, made here, is not on strict, though a \`git push\` of it there ran"
assert_contains "$ERR" "if it was withdrawn, \`git tag -d model/vit/v9\` here"
git -C alice tag -d model/vit/v9 >/dev/null
run_expect 0 git -C "$wv" model tag --metric acc=0.77 -m "and on"
assert_not_contains "$ERR" "model/vit/v9"
# A snapshot kept here with --no-push stays here: the next tag does not push it unasked; one that
# a push to another remote sent is still pushed to the model's (red team s34e).
run_expect 0 git -C "$wv" model tag --metric acc=0.78 -m private --no-push
assert_contains "$OUT" "Tagged model/vit/v12 "
git -C alice config remote.strict.url "$TEST_DIR/away.git"
run_expect 0 git -C "$wv" model tag --metric acc=0.79 -m "away once more"
assert_contains "$OUT" "Tagged model/vit/v13 "
git -C alice config remote.strict.url "$url"
git init -q --bare "$TEST_DIR/backup.git"
git -C alice remote add backup "$TEST_DIR/backup.git"
run_expect 0 git -C alice push -q backup refs/tags/model/vit/v13
run_expect 0 git -C "$wv" model tag --metric acc=0.8 -m "back once more"
assert_contains "$OUT" "Tagged model/vit/v14 "
assert_contains "$OUT" "Pushed model/vit/v13 too"
assert_not_contains "$OUT" "model/vit/v12"
assert_not_contains "$ERR" "model/vit/v12"
assert_eq "$(git -C "$TEST_DIR/strict.git" tag -l model/vit/v12)" "" "the kept snapshot stays here"

# --- three tags at once in one clone, each finding the same unpushed snapshot that lost its number on
# the remote: it moves to one new number and goes out once, never under two --------------------------
make_remote_pair race
git -C race config model.installHooks never
run_expect 0 git -C race model start m
wm="$TEST_DIR/worktrees/feature/model-m"
git -C "$wm" push -q -u origin feature/model-m
git clone -q "$TEST_DIR/race.git" mate
git -C mate config model.installHooks never
git -C mate branch -q --track feature/model-m origin/feature/model-m
for round in 1 2 3; do
    git -C race remote set-url origin "$TEST_DIR/nowhere.git"
    git -C race model tag m -m "offline $round" >/dev/null 2>&1     # made here, not pushed: the remote is away
    git -C race remote set-url origin "$TEST_DIR/race.git"
    run_expect 0 git -C mate model tag m -m "mate $round"             # takes that number on the remote
    pids=()
    for i in 1 2 3; do git -C race model tag m -m "again $round $i" >/dev/null 2>&1 & pids+=($!); done
    for pid in "${pids[@]}"; do wait "$pid"; done
    assert_eq "$(git -C "$TEST_DIR/race.git" for-each-ref --format='%(contents:subject)' refs/tags/model/m/ | grep -cx "offline $round")" \
        "1" "round $round: the moved snapshot is on the remote once"
    for i in 1 2 3; do
        assert_eq "$(git -C "$TEST_DIR/race.git" for-each-ref --format='%(contents:subject)' refs/tags/model/m/ | grep -cx "again $round $i")" \
            "1" "round $round: tag $i's snapshot is on the remote once"
    done
done

# --- a move killed after it made the new tag, before its ledger named it: the next tag takes that copy as
# the move (one snapshot, one new number, pushed once), not a third name --------------------------------------
git -C race remote set-url origin "$TEST_DIR/nowhere.git"
git -C race model tag m -m "offline killed" >/dev/null 2>&1
git -C race remote set-url origin "$TEST_DIR/race.git"
run_expect 0 git -C mate model tag m -m "mate again"
killed_tag=$(git -C race for-each-ref --format='%(refname:short) %(contents:subject)' refs/tags/model/m/ |
    awk '$2 " " $3 == "offline killed" {print $1}')
killed_version=${killed_tag##*/v}
copy_version=$(( $(git -C "$TEST_DIR/race.git" tag -l 'model/m/v*' | sed 's#.*/v##' | sort -n | tail -1) + 1 ))
copy=$(git -C race cat-file tag "$killed_tag" |
    sed -e "s#^tag model/m/v$killed_version\$#tag model/m/v$copy_version#" \
        -e "s#^Model-Version: $killed_version\$#Model-Version: $copy_version#" | git -C race hash-object -t tag -w --stdin)
git -C race update-ref "refs/tags/model/m/v$copy_version" "$copy"          # what the killed move had made
run_expect 0 git -C race model tag m -m "after the kill"
assert_contains "$ERR" "model/m/v$killed_version -> model/m/v$copy_version"
assert_eq "$(git -C "$TEST_DIR/race.git" for-each-ref --format='%(refname:short) %(contents:subject)' refs/tags/model/m/ |
    awk '$2 " " $3 == "offline killed" {print $1}')" "model/m/v$copy_version" "the killed move's copy is the one pushed, once"
run_expect 1 git -C race rev-parse -q --verify "refs/tags/$killed_tag^{tag}"
