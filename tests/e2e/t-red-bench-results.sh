#!/usr/bin/env bash
# Red team, bench results in the lease book's folder, with two real Unix users on one book made
# by `git model gpus init`. User B owns only B's own results file, but a result in it stamped far
# in the future was "the newest" for ever: A's `git model tag` recorded B's made-up figures as
# the hardware A's model ran on, over A's own fresh bench. Results from the future are now
# ignored, with a warning. And a file of B's planted under A's uid name made A's bench lose its
# results: they now go to A's own cache. Also held (asserted): B's lease on a GPU is not A's
# GPU; B's file under A's name is neither believed nor written. And 300 files B planted made 300
# warning lines on each of A's tags: now five and a count.
# And where A has no result of a GPU of A's own, a teammate's figures are recorded as theirs (by=B).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/users-lib.sh"

require_fake_driver
A=gmra1; B=gmra2
BOOK="$TEST_DIR/book"
run_expect 0 git model gpus init --dir "$BOOK"
USERS_ENV=(GIT_MODEL_LEASE_DIR="$BOOK")
make_user "$A"; make_user "$B"
uid_a=$(id -u "$A"); uid_b=$(id -u "$B")
gpu0=GPU-a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf
gpu1=GPU-a1a2a3a4-a5a6-a7a8-a9aa-abacadaeafb0
res="$BOOK/bench-results"

as_user "$A" git init -q repo
as_user "$A" sh -c 'printf "x\n" >repo/a && git -C repo add -A && git -C repo commit -q -m init'
as_user "$A" git -C repo config model.installHooks never
as_user "$A" git -C repo model start alpha >/dev/null
home_a=$(user_home "$A")
wa="$home_a/worktrees/feature/model-alpha"
[ -d "$wa" ] || wa=$(as_user "$A" git -C repo worktree list --porcelain | sed -n 's/^worktree //p' | tail -1)
common=$(cd "$home_a/repo/.git" && pwd -P)

# B plants a file of B's under A's uid name before A ever ran a bench (the folder is open to all,
# sticky): A's bench cannot replace it, and A's results were lost (not kept anywhere). Now they
# are kept in A's own cache, with a warning naming the planted file.
as_user "$B" sh -c "printf '{\"format\": 1, \"gpus\": {}}' >'$res/$uid_a.json'"
planted=$(cat "$res/$uid_a.json")
# A's honest full bench on GPU 0, and A's lease of GPU 0 for alpha.
run_expect 0 as_user "$A" env LD_LIBRARY_PATH="$fake" git-model-bench
assert_contains "$ERR" "warning: could not update the results cache" "A is told"
assert_contains "$ERR" "$uid_a.json" "naming the planted file"
assert_eq "$(cat "$res/$uid_a.json")" "$planted" "B's planted file is not written"
assert_eq "$(stat -c %U "$res/$uid_a.json")" "$B" "and stays B's"
assert_contains "$(cat "$home_a/.cache/git-model/bench-results.json" 2>/dev/null)" "\"$gpu0\"" "A's results kept in A's own cache"
as_user "$A" python3 "$GM_SOURCE_DIR/tests/e2e/write-lease.py" "$BOOK" "$gpu0" 0 alpha --pid $$ --repo "$common" >/dev/null
# B's lease of GPU 1 naming A's repository and model: not A's GPU.
as_user "$B" python3 "$GM_SOURCE_DIR/tests/e2e/write-lease.py" "$BOOK" "$gpu1" 1 alpha --pid $$ --repo "$common" >/dev/null

# B, in B's own file (B's, under B's uid: believed as a teammate's run), claims GPU 0 measured
# 0.11 in the year 2100.
as_user "$B" python3 - "$res/$uid_b.json" "$gpu0" <<'PY'
import json, sys
json.dump({"format": 1, "gpus": {sys.argv[2]: {"full": {"time": 4102444800, "name": "Forged GPU", "triad_fraction": 0.11,
          "fp32_fraction": 0.11, "verdict": "pass", "cuda_driver_version": "9.9"}}}}, open(sys.argv[1], "w"))
PY

as_user "$A" sh -c "cd '$wa' && printf 'a1\n' >>work.txt && git add work.txt && git commit -qm a1"
run_expect 0 as_user "$A" git -C "$wa" model tag --metric acc=0.9 --no-push
assert_contains "$OUT" "GPU: Fake GPU (${gpu0:0:12})" "tag names A's own GPU with A's figures"
assert_not_contains "$OUT" "Forged" "B's future-dated result is not recorded as A's hardware"
assert_not_contains "$OUT" "${gpu1:0:12}" "B's lease is not A's GPU"
assert_contains "$ERR" "$uid_b.json" "the future-dated result is named in a warning"
trailer=$(as_user "$A" git -C repo for-each-ref --format='%(contents:trailers:key=Model-GPU,valueonly)' refs/tags/model/alpha/v1)
assert_not_contains "$trailer" "2100-" "no bench time from the future in the trailer"
assert_not_contains "$trailer" "cuda=9.9" "no forged CUDA version in the trailer"

# B fills the folder with files under other uids' names: each was one warning line on every tag of A's.
as_user "$B" sh -c 'i=0; while [ $i -lt 300 ]; do printf x >"$1/$((1900000 + i)).json"; i=$((i + 1)); done' sh "$res"
as_user "$A" sh -c "cd '$wa' && printf 'a2\n' >>work.txt && git add work.txt && git commit -qm a2"
run_expect 0 as_user "$A" git -C "$wa" model tag --metric acc=0.9 --no-push
assert_contains "$OUT" "GPU: Fake GPU (${gpu0:0:12})" "tag still records A's GPU"
[ "$(grep -c "bench-results" <<<"$ERR")" -le 10 ] || fail "one warning line per planted file: $(grep -c "bench-results" <<<"$ERR") lines"
assert_contains "$ERR" "more files in $res are ignored" "the rest summed up"

# B claims GPU 0 again, dated now this time: the newest result in the book, but not A's. A's own
# run of GPU 0 wins for A's snapshot, however new B's claims to be (it won before).
as_user "$B" python3 - "$res/$uid_b.json" "$gpu0" <<'PY'
import json, sys, time
json.dump({"format": 1, "gpus": {sys.argv[2]: {"full": {"time": int(time.time()), "name": "Claimed GPU",
          "triad_fraction": 0.12, "fp32_fraction": 0.12, "verdict": "pass", "cuda_driver_version": "9.8"}}}}, open(sys.argv[1], "w"))
PY
as_user "$A" sh -c "cd '$wa' && printf 'a3\n' >>work.txt && git add work.txt && git commit -qm a3"
run_expect 0 as_user "$A" git -C "$wa" model tag --metric acc=0.9 --no-push
assert_contains "$OUT" "GPU: Fake GPU (${gpu0:0:12})" "tag records A's own figures for A's GPU"
assert_not_contains "$OUT" "Claimed" "B's result dated now is not recorded as A's hardware"
trailer=$(as_user "$A" git -C repo for-each-ref --format='%(contents:trailers:key=Model-GPU,valueonly)' refs/tags/model/alpha/v3)
assert_not_contains "$trailer" "cuda=9.8" "no claimed CUDA version in the trailer"
assert_contains "$trailer" "$gpu0" "the trailer names GPU 0"

# A has no result of GPU 0 of A's own any more (A's cache gone; the book's file under A's name is
# B's): B's figures, the only ones, are recorded, but as B's (by=), never passed off as A's.
as_user "$A" rm -f "$home_a/.cache/git-model/bench-results.json"
as_user "$A" sh -c "cd '$wa' && printf 'a4\n' >>work.txt && git add work.txt && git commit -qm a4"
run_expect 0 as_user "$A" git -C "$wa" model tag --metric acc=0.9 --no-push
assert_contains "$OUT" "bench by $B" "tag says whose figures they are"
trailer=$(as_user "$A" git -C repo for-each-ref --format='%(contents:trailers:key=Model-GPU,valueonly)' refs/tags/model/alpha/v4)
assert_contains "$trailer" " by=$B name=Claimed GPU" "the trailer names B as the one who measured them"
run_expect 0 as_user "$A" git -C "$wa" model log
assert_contains "$OUT" "triad 12% fp32 12% (bench by $B)" "log shows it"
run_expect 0 as_user "$A" git -C "$wa" model log --json
assert_eq "$(json_get "$OUT" '[s for s in d["snapshots"] if s["version"] == 4][0]["gpus"][0]["bench_by"]')" "$B" "log --json: bench_by"
