#!/usr/bin/env bash
# Red team (s34c), a run whose metrics.json holds 1,500 metrics, and one whose keys hold
# terminal escapes:
#   - `sweep promote` committed the run's params.json onto the model's branch, then failed to
#     snapshot it ("a snapshot records 1000 at most"), and every later promote failed the same
#     way: now the snapshot records the metric ranked by and the next 999, and says how many
#     it left out; `sweep report --tag-best` likewise;
#   - `sweep report` printed metrics.json's keys raw (escape sequences reached the terminal).
. "$(dirname "$0")/lib.sh"

start_pushed_model net
wt=$WT
cat >"$wt/train.sh" <<'SH'
python3 -c '
import json, os
d = {"m%04d" % i: i for i in range(1499)}
d["loss"] = 0.1 * float(os.environ["GIT_MODEL_PARAM_LR"])
if os.environ["GIT_MODEL_PARAM_LR"] == "2": d = {"loss": 0.5, "a\x1b[2J\x1b]0;T\x07b": 1}
json.dump(d, open("metrics.json", "w"))'
SH
git -C "$wt" add train.sh && git -C "$wt" commit -q -m train && git -C "$wt" push -q 2>/dev/null
run_expect 0 git -C "$wt" model sweep start --no-container --gpus-per-run 0 --grid lr=1,2 -- sh train.sh
for _ in $(seq 150); do
    git -C "$wt" model sweep status 1 --json | grep -q '"state": *"\(queued\|running\)"' || break
    sleep 0.2
done
run_expect 0 git -C "$wt" model sweep status 1 --json
assert_eq "$(json_get "$OUT" '[r["state"] for r in d["runs"]]')" "['done', 'done']" "both runs done"

run_expect 0 git -C "$wt" model sweep report 1 --metric loss --minimize
CHECKS=$((CHECKS + 1))
if printf '%s' "$OUT" | grep -q $'[\e\a]'; then fail "raw escapes in sweep report"; fi
assert_contains "$OUT" 'a\x1b[2J\x1b]0;T\x07b' "the key, escaped"

head=$(git -C "$wt" rev-parse HEAD)
run_expect 0 git -C "$wt" model sweep promote 1 --metric loss --minimize
assert_contains "$ERR" "run 1 reported 1500 metrics; model/net/v1 records the first 1000 (the one ranked by first) and leaves 500 out"
assert_contains "$OUT" "Tagged model/net/v1 "
assert_eq "$(git -C "$wt" rev-parse HEAD~1)" "$head" "one commit: the run's params.json"
run_expect 0 git -C "$wt" model log --json
assert_eq "$(json_get "$OUT" 'len(d["snapshots"][0]["metrics"]), d["snapshots"][0]["metrics"]["loss"]')" "1000 0.1" \
    "the snapshot is readable, with the ranked metric"
run_expect 0 git -C "$wt" model sweep promote 1 --metric loss --minimize
assert_contains "$OUT" "is already promoted"

run_expect 0 git -C "$wt" model sweep report 1 --metric loss --minimize --tag-best
assert_contains "$ERR" "the best run reported 1500 metrics; model/net.sweep-1-1/v1 records the first 1000"
assert_contains "$OUT" "Tagged model/net.sweep-1-1/v1 "
run_expect 0 git -C "$wt" model best --metric loss
assert_contains "$OUT" "model/net/v"
