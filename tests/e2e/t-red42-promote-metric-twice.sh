#!/usr/bin/env bash
# Red team s42b: a run whose metrics.json names one metric twice ({"a": {"b": 0.5}, "a/b": 0.7}:
# nested members are read as "a/b"). `sweep promote --run` committed, then made and pushed a
# snapshot tag holding both lines, which every reader refuses ("appears twice"), while saying
# the snapshot was not made; each retry its hint advised made another. Now the run's metrics are
# refused when read, naming the name, promote makes nothing, and no tag can carry a metric twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

start_pushed_model net
wt=$WT
run_expect 0 git -C "$wt" model sweep start --no-container --gpus-per-run 0 --grid x=1 -- \
    sh -c 'echo "{\"a\": {\"b\": 0.5}, \"a/b\": 0.7, \"acc\": 0.9}" >metrics.json'
wait_sweep "$wt" 1 30
head=$(git -C "$wt" rev-parse HEAD)

run_expect 0 git -C "$wt" model sweep report 1
assert_contains "$OUT" "gives the metric 'a/b' twice" "the report names the problem"
run_expect 1 git -C "$wt" model sweep promote 1 --run 1
assert_contains "$ERR" "run 1 of sweep 1 finished, but its metrics cannot be read"
assert_contains "$ERR" "gives the metric 'a/b' twice (a nested object's member and a key of that name)"
assert_contains "$ERR" "nothing was promoted"
assert_eq "$(git -C "$wt" tag -l 'model/net/*')" "" "no snapshot tag here"
assert_eq "$(git ls-remote --tags remote.git)" "" "none on the remote"
assert_eq "$(git -C "$wt" rev-parse HEAD)" "$head" "nothing committed"

# Fixed in the run's worktree, the run is promoted, and its snapshot reads.
run_expect 0 git -C "$wt" model sweep status 1 --json
run_wt=$(json_get "$OUT" 'd["runs"][0]["worktree"]')
echo '{"a": {"b": 0.5}, "acc": 0.9}' >"$run_wt/metrics.json"
run_expect 0 git -C "$wt" model sweep promote 1 --run 1
assert_contains "$OUT" "Tagged model/net/v1 "
run_expect 0 git -C "$wt" model log --json
assert_eq "$(json_get "$OUT" 'd["snapshots"][0]["metrics"]["a/b"]')" "0.5" "the snapshot is readable"
