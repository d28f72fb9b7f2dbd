#!/usr/bin/env bash
# git model tag / log / best / compare on a real repository: numbering across many
# snapshots and models, metric parsing at the command line, the pinned image, the
# message block as git itself reads it, text and JSON output. Everything runs from
# inside the model's linked worktree while main is checked out in the main worktree.
. "$(dirname "$0")/lib.sh"

cd "$TEST_DIR"
# Every commit has a controlled date, in order: date-ordered history walks (git's too) assume no clock skew.
GIT_AUTHOR_DATE="2025-12-01T00:00:00Z" GIT_COMMITTER_DATE="2025-12-01T00:00:00Z" make_repo repo
run_expect 0 git -C repo model start alpha
run_expect 0 git -C repo model start beta
wa="$TEST_DIR/worktrees/feature/model-alpha"
wb="$TEST_DIR/worktrees/feature/model-beta"
assert_eq "$(git -C repo branch --show-current)" "main" "main worktree stays on main"
tags_of() { git -C repo tag -l "model/$1/*" | sort; }

# --- metric parsing: every refusal is a usage error and creates nothing ---------------------
commit_at "$wa" "2026-01-01T10:00:00Z" "a1"
for bad in "acc" "acc=" "=1" "1acc=1" "val acc=1" "val//acc=1" "acc=nan" "acc=NaN" "acc=inf" "acc=-Infinity" \
           "acc=abc" "acc=0x10" "acc=1,5" "acc=1e999" "acc=12%"; do
    run_expect 2 git -C "$wa" model tag --metric "$bad"
    assert_contains "$ERR" "error:" "$bad"
done
run_expect 2 git -C "$wa" model tag --metric acc=0.9 --metric acc=0.8
assert_contains "$ERR" "given twice"
run_expect 2 git -C "$wa" model tag --metric mAP=0.9 --metric map=0.8
assert_contains "$ERR" "differ only in case"
run_expect 2 git -C "$wa" model tag --metric acc=nan
assert_contains "$ERR" "not a measurement"
run_expect 2 git -C "$wa" model tag --bogus
run_expect 2 git -C "$wa" model tag 'Bad Name' --metric acc=1
assert_eq "$(tags_of alpha)" "" "no tag after refusals"

# --- the first snapshot: name, message block, tagger date ---------------------------------
GIT_COMMITTER_DATE="2026-01-01T11:00:00Z" run_expect 0 git -C "$wa" model tag --metric acc=0.9 --metric val/loss=0.3 -m "baseline"
assert_contains "$OUT" "Tagged model/alpha/v1"
assert_contains "$OUT" "acc=0.9, val/loss=0.3"
assert_eq "$(git -C repo cat-file -t model/alpha/v1)" "tag" "annotated"
assert_eq "$(git -C repo rev-parse model/alpha/v1^{commit})" "$(git -C repo rev-parse feature/model-alpha)" "at the branch head"
expected_message="baseline

Model-Snapshot: 1
Model: alpha
Model-Version: 1
Model-Image: none
Metric: acc=0.9
Metric: val/loss=0.3"
assert_eq "$(git -C repo tag -l --format='%(contents)' model/alpha/v1)" "$expected_message" "tag message"
# git's own trailer parser reads the block
assert_eq "$(git -C repo tag -l --format='%(contents:trailers:key=Metric,valueonly,separator=%x2C)' model/alpha/v1)" \
    "acc=0.9,val/loss=0.3" "git reads the metrics as trailers"
assert_eq "$(git -C repo tag -l --format='%(taggerdate:unix)' model/alpha/v1)" "1767265200" "tagger date from GIT_COMMITTER_DATE"

# --- numbering: many snapshots, two models, gaps and foreign tags --------------------------
for i in 2 3 4 5 6 7 8 9 10 11; do
    commit_at "$wa" "2026-01-02T$((i + 10)):00:00Z" "a$i"
    GIT_COMMITTER_DATE="2026-01-02T$((i + 10)):30:00Z" run_expect 0 git -C "$wa" model tag --metric acc="0.$((80 + i))" --metric val/loss="0.$((40 - i))"
    assert_contains "$OUT" "model/alpha/v$i "
done
commit_at "$wb" "2026-01-03T10:00:00Z" "b1"
run_expect 0 git -C "$wb" model tag --metric bleu=30.5
assert_contains "$OUT" "model/beta/v1 "
run_expect 0 git -C repo model tag beta --metric bleu=31      # from the main worktree, named
assert_contains "$OUT" "model/beta/v2 "
git -C repo tag -d model/alpha/v11 >/dev/null                  # a deleted number is not reused... unless it was the last
run_expect 0 git -C "$wa" model tag --metric acc=0.5
assert_contains "$OUT" "model/alpha/v11 "
git -C repo tag -d model/alpha/v5 >/dev/null                   # a gap in the middle stays a gap
git -C repo tag model/alpha/v20 "$(git -C repo rev-parse feature/model-alpha)"   # a lightweight tag takes its number
git -C repo tag model/alpha/v12-rc main                        # not in the numbering
run_expect 0 git -C "$wa" model tag --metric acc=0.95 --metric f1=0.7 -m "best so far"
assert_contains "$OUT" "model/alpha/v21 "
assert_eq "$(git -C repo tag -l 'model/beta/*' | wc -l | tr -d ' ')" "2" "beta numbered on its own"
# with GIT_DIR set from elsewhere (as in hooks and scripts): git itself still tags the right repository
run_expect 0 env GIT_DIR="$TEST_DIR/repo/.git" git -C / model tag beta --metric bleu=32
assert_contains "$OUT" "model/beta/v3 "
# six processes at once: six different numbers, none lost
pids=()
for i in 1 2 3 4 5 6; do
    git -C "$wb" model tag --metric bleu="4$i" >"$TEST_DIR/par.$i.out" 2>"$TEST_DIR/par.$i.err" &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || fail "a parallel tag failed: $(cat "$TEST_DIR"/par.*.err)"; done
assert_eq "$(git -C repo tag -l 'model/beta/v*' | sort -t v -k 2 -n | tr '\n' ' ')" \
    "model/beta/v1 model/beta/v2 model/beta/v3 model/beta/v4 model/beta/v5 model/beta/v6 model/beta/v7 model/beta/v8 model/beta/v9 " \
    "parallel tags numbered without gaps or clashes"
assert_eq "$(cat "$TEST_DIR"/par.*.out | grep -o 'model/beta/v[0-9]*' | sort -u | wc -l | tr -d ' ')" "6" "each process got its own number"

# --- --commit: a commit of the branch, not another -----------------------------------------
run_expect 0 git -C "$wa" model tag --commit HEAD~3 --metric acc=0.1
assert_contains "$OUT" "model/alpha/v22 "
assert_eq "$(git -C repo rev-parse model/alpha/v22^{commit})" "$(git -C repo rev-parse feature/model-alpha~3)" "--commit"
commit_at repo "2026-01-04T10:00:00Z" "main moves on"
before=$(tags_of alpha)
run_expect 1 git -C "$wa" model tag --commit main --metric acc=1
assert_contains "$ERR" "is not on feature/model-alpha"
run_expect 1 git -C "$wa" model tag --commit no-such-rev --metric acc=1
assert_contains "$ERR" "no such commit"
run_expect 1 git -C repo model tag gamma --metric acc=1
assert_contains "$ERR" "model 'gamma' does not exist"
run_expect 2 git -C repo model tag --metric acc=1             # main is not a model branch
assert_contains "$ERR" "not on a model branch"
assert_eq "$(tags_of alpha)" "$before" "refusals create no tag"

# --- the pinned image of .modelenv.yaml at that commit -------------------------------------
printf 'image: registry.example.com/team/pytorch:2.3\n' >"$wa/.modelenv.yaml"
git -C "$wa" add .modelenv.yaml
GIT_COMMITTER_DATE="2026-01-05T10:00:00Z" git -C "$wa" commit -q -m "pin the image"
run_expect 0 git -C "$wa" model tag --metric acc=0.96
assert_contains "$OUT" "model/alpha/v23 "
assert_contains "$OUT" "Image: registry.example.com/team/pytorch:2.3"
assert_contains "$(git -C repo cat-file -p model/alpha/v23)" "Model-Image: registry.example.com/team/pytorch:2.3"
printf 'image: registry.example.com/team/pytorch:latest\n' >"$wa/.modelenv.yaml"
GIT_COMMITTER_DATE="2026-01-05T11:00:00Z" git -C "$wa" commit -q -am "unpinned"
before=$(tags_of alpha)
run_expect 1 git -C "$wa" model tag --metric acc=0.97
assert_contains "$ERR" ".modelenv.yaml at"
assert_eq "$(tags_of alpha)" "$before" "an unloadable .modelenv.yaml creates no tag"
run_expect 0 git -C "$wa" model tag --commit HEAD~1 --metric acc=0.97   # the commit before is fine
assert_contains "$OUT" "model/alpha/v24 "
printf 'image: registry.example.com/team/pytorch:2.4\n' >"$wa/.modelenv.yaml"
GIT_COMMITTER_DATE="2026-01-06T10:00:00Z" git -C "$wa" commit -q -am "newer image"
GIT_COMMITTER_DATE="2026-01-06T11:00:00Z" run_expect 0 git -C "$wa" model tag --metric acc=0.98 --metric val/loss=0.1
assert_contains "$OUT" "model/alpha/v25 "

# --- log: newest first, a column per metric, foreign tags warned about ---------------------
run_expect 0 git -C "$wa" model log
assert_contains "$ERR" "model/alpha/v20: not a snapshot"
header=${OUT%%$'\n'*}
assert_contains "$header" "VERSION"
assert_contains "$header" "acc"
assert_contains "$header" "val/loss"
assert_contains "$header" "f1"
assert_eq "$(printf '%s\n' "$OUT" | sed -n 2p | awk '{print $1}')" "v25" "newest first"
assert_eq "$(printf '%s\n' "$OUT" | tail -1 | awk '{print $1}')" "v1" "oldest last"
assert_not_contains "$OUT" "v5 " "a deleted tag is gone"
assert_contains "$(printf '%s\n' "$OUT" | grep '^v21 ')" "best so far"
assert_eq "$(printf '%s\n' "$OUT" | grep -c '^v')" "15" "v1-4, v6-11, v21-25 listed"
run_expect 0 git -C repo model log alpha
log_from_main=$OUT
run_expect 0 git -C "$wa" model log alpha
assert_eq "$OUT" "$log_from_main" "the same log from the main worktree and the model's"
run_expect 2 git -C repo model log
run_expect 0 git -C repo model log beta
assert_contains "$OUT" "bleu"
git -C repo branch -q feature/model-empty main
run_expect 0 git -C repo model log empty
assert_contains "$OUT" "No snapshots of model 'empty'"

check_log_json() {
    python3 - "$1" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["version"] == 1 and d["model"] == "alpha", d
s = d["snapshots"]
assert [x["version"] for x in s][:3] == [25, 24, 23], [x["version"] for x in s]
assert len(s) == 15
keys = {"tag", "model", "version", "commit", "time", "tagger", "message", "image", "image_id", "dirty", "dirty_hash", "metrics", "gpus"}
for x in s:
    assert set(x) == keys, set(x) ^ keys
v25 = s[0]
assert v25["tag"] == "model/alpha/v25" and v25["metrics"] == {"acc": 0.98, "val/loss": 0.1}, v25
assert v25["image"] == "registry.example.com/team/pytorch:2.4" and v25["time"] == 1767697200, v25
v1 = s[-1]
assert v1["message"] == "baseline" and v1["image"] is None and v1["time"] == 1767265200, v1
assert v1["tagger"] == "Test Committer <committer@example.com>", v1["tagger"]
print("ok")
PY
}
run_expect 0 git -C "$wa" model log --json
assert_eq "$(check_log_json "$OUT")" "ok" "log JSON"

# --- best -----------------------------------------------------------------------------------
run_expect 0 git -C "$wa" model best alpha --metric acc
assert_contains "$OUT" "model/alpha/v25  acc=0.98"
run_expect 0 git -C "$wa" model best --metric val/loss --min
assert_contains "$OUT" "model/alpha/v25  val/loss=0.1"
# A loss is best lowest without --min; --max overrides the name.
run_expect 0 git -C "$wa" model best --metric val/loss --json
assert_eq "$(json_get "$OUT" 'd["tag"], d["ranked_by"]["order"], d["ranked_by"]["order_from"]')" "model/alpha/v25 min name" "a loss, lowest"
run_expect 0 git -C "$wa" model best --metric val/loss --max --json
assert_eq "$(json_get "$OUT" 'd["ranked_by"]["order"], d["ranked_by"]["order_from"]')" "max option" "--max overrides"
run_expect 2 git -C "$wa" model best --metric val/loss --min --max
assert_contains "$ERR" "--min and --max exclude each other"
run_expect 0 git -C repo model best alpha --metric f1
assert_contains "$OUT" "model/alpha/v21"
run_expect 0 git -C repo model best alpha --metric acc --min --json
assert_eq "$(json_get "$OUT" 'd["tag"], d["metrics"]["acc"], d["ranked_by"]["metric"], d["ranked_by"]["order"]')" \
    "model/alpha/v22 0.1 acc min" "best JSON"
run_expect 1 git -C repo model best alpha --metric bleu
assert_contains "$ERR" "no snapshot of model 'alpha' records 'bleu'"
assert_contains "$ERR" "recorded metrics: acc, val/loss"
run_expect 2 git -C repo model best alpha
run_expect 2 git -C repo model best alpha --metric 'not a name'
run_expect 1 git -C repo model best empty --metric acc
assert_contains "$ERR" "has no snapshots"

# --- compare ----------------------------------------------------------------------------------
run_expect 0 git -C "$wa" model compare v1 v25
assert_contains "$OUT" "model/alpha/v1 ("
line=$(printf '%s\n' "$OUT" | grep '^acc ')
assert_contains "$line" "0.9"
assert_contains "$line" "0.98"
assert_contains "$line" "+0.08"
assert_contains "$(printf '%s\n' "$OUT" | grep '^val/loss ')" "-0.2"
assert_contains "$OUT" "Image: changed: (none) -> registry.example.com/team/pytorch:2.4"
commits_v1_v25=$(git -C repo rev-list --count model/alpha/v1..model/alpha/v25)
assert_contains "$OUT" "Commits: $commits_v1_v25 in model/alpha/v25 that are not in model/alpha/v1"
assert_contains "$OUT" "newer image"
assert_contains "$OUT" "pin the image"
run_expect 0 git -C repo model compare alpha/v23 refs/tags/model/alpha/v24
assert_contains "$OUT" "Image: unchanged: registry.example.com/team/pytorch:2.3"
run_expect 0 git -C repo model compare model/alpha/v25 model/alpha/v1      # backwards: nothing new in v1
assert_contains "$OUT" "Commits: 0 in model/alpha/v1"
assert_contains "$OUT" "($commits_v1_v25 in model/alpha/v25 are not in model/alpha/v1)"
run_expect 0 git -C repo model compare model/alpha/v21 model/beta/v1        # across models
assert_contains "$OUT" "(new)"
assert_contains "$OUT" "(gone)"

check_compare_json() {
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.loads(sys.argv[1]); n = int(sys.argv[2])
assert d["version"] == 1
assert d["a"]["tag"] == "model/alpha/v1" and d["b"]["tag"] == "model/alpha/v25"
m = {x["name"]: x for x in d["metrics"]}
assert list(m) == ["acc", "val/loss"], list(m)
assert m["acc"] == {"name": "acc", "a": 0.9, "b": 0.98, "difference": 0.08}, m["acc"]
assert m["val/loss"]["difference"] == -0.2, m["val/loss"]
assert d["image_changed"] is True
assert d["commit_count"] == n and len(d["commits"]) == n and d["commits_only_in_a"] == 0
assert d["commits"][0]["subject"] == "newer image" and d["commits"][0]["time"] == 1767693600
assert set(d["commits"][0]) == {"id", "subject", "time"}
print("ok")
PY
}
run_expect 0 git -C "$wa" model compare v1 v25 --json
assert_eq "$(check_compare_json "$OUT" "$commits_v1_v25")" "ok" "compare JSON"
run_expect 1 git -C repo model compare model/alpha/v1 model/alpha/v99
assert_contains "$ERR" "no snapshot 'model/alpha/v99'"
run_expect 1 git -C repo model compare model/alpha/v1 model/alpha/v20
assert_contains "$ERR" "not a git-model snapshot"
run_expect 1 git -C repo model compare v1 v2                                # v<N> needs a model worktree
run_expect 2 git -C repo model compare model/alpha/v1
run_expect 2 git -C repo model compare a b c

# --- names that are not the model's snapshots: a release tag v1, a tag v2 pushed to look like one,
# and model/alpha/v26 whose block claims another model's numbers ----------------------------------
head=$(git -C "$wa" rev-parse HEAD)
git -C repo tag -a v1 -m "release 1" main
forged_block() {  # TAG-NAME MODEL VERSION
    printf 'object %s\ntype commit\ntag %s\ntagger Mate <m@x> 1700000000 +0000\n\nSnapshot\n\nModel-Snapshot: 1\nModel: %s\nModel-Version: %s\nModel-Image: none\nMetric: acc=0.9999\n' \
        "$head" "$1" "$2" "$3" | git -C repo hash-object -t tag -w --stdin
}
git -C repo update-ref refs/tags/v25 "$(forged_block v25 alpha 25)"
git -C repo update-ref refs/tags/model/alpha/v26 "$(forged_block model/alpha/v26 beta 1)"
run_expect 0 git -C "$wa" model compare v1 v25                   # in the worktree, v<N> is the model's
assert_contains "$OUT" "model/alpha/v1 ("
assert_contains "$OUT" "model/alpha/v25 ("
assert_not_contains "$OUT" "0.9999"
run_expect 1 git -C "$wa" model compare v1 model/alpha/v26
assert_contains "$ERR" "model/alpha/v26 is not a git-model snapshot: its block says model 'beta' v1"
run_expect 1 git -C repo model compare v1 v25                    # outside a worktree: no plain tag stands for one
assert_contains "$ERR" "no snapshot 'v1'"
run_expect 0 git -C repo model log alpha
assert_not_contains "$OUT" "model/alpha/v26"
assert_contains "$ERR" "model/alpha/v26: not a snapshot: its block says model 'beta' v1"
git -C repo tag -d v1 v25 model/alpha/v26 >/dev/null

# --- differences beyond a double's range are shown, and said to be so in JSON ------------------
git -C repo model start huge >/dev/null 2>&1
wh="$TEST_DIR/worktrees/feature/model-huge"
run_expect 0 git -C "$wh" model tag --no-push --metric loss=-1.7e308
run_expect 0 git -C "$wh" model tag --no-push --metric loss=1.7e308
run_expect 0 git -C "$wh" model compare v1 v2
assert_contains "$(printf '%s\n' "$OUT" | grep '^loss ')" "+3.4e+308"
run_expect 0 git -C "$wh" model compare v1 v2 --json
assert_eq "$(json_get "$OUT" '[(m["difference"], m.get("difference_out_of_range")) for m in d["metrics"]]')" "[(None, True)]" \
    "an out-of-range difference in JSON"

# --- a model named "model": <model>/v<N> is model/v1 -------------------------------------------------------
git -C repo model start model >/dev/null 2>&1
wmm="$TEST_DIR/worktrees/feature/model-model"
run_expect 0 git -C "$wmm" model tag --no-push --metric acc=0.1
run_expect 0 git -C "$wmm" model tag --no-push --metric acc=0.2
run_expect 0 git -C repo model compare model/v1 model/v2
assert_contains "$OUT" "model/model/v1 ("
assert_contains "$(printf '%s\n' "$OUT" | grep '^acc ')" "+0.1"
