#!/usr/bin/env bash
# Results follow the work: the installed git-model-bench on the fake NVIDIA driver (through
# LD_LIBRARY_PATH) keeps each GPU's result in the user's own file of the lease book's
# bench-results/ folder (else the user's cache); `git model tag` records the GPU a model's lease
# names (Model-GPU: name, UUID, driver/CUDA versions, bench fractions), `log` shows it and
# `compare` says when two snapshots ran on different hardware, in text and JSON. A model with no
# known GPU records nothing and compare says nothing. Hostile: a link planted at the user's
# results file is not followed, a results file of the wrong owner is not believed.
# Skips (125) when the binary was built without GPU kernels or no fake driver was built.
. "$(dirname "$0")/lib.sh"

require_fake_driver
export GIT_MODEL_LEASE_DIR="$TEST_DIR/leases"
export XDG_CACHE_HOME="$TEST_DIR/cache"
BOOK=$GIT_MODEL_LEASE_DIR
mkdir -p "$BOOK"
chmod 0755 "$BOOK"
me=$(id -u)
mine="$BOOK/bench-results/$me.json"
gpu0=GPU-a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf   # the fake driver's UUIDs: bytes 0xA0+device+i
gpu1=GPU-a1a2a3a4-a5a6-a7a8-a9aa-abacadaeafb0

# --- where results go -------------------------------------------------------------------------------
# Two fake GPUs, quick: both kept, by UUID, in the user's own file of the book (0644).
run_expect 0 env LD_LIBRARY_PATH="$fake" FAKE_CUDA_DEVICE_COUNT=2 git-model-bench --quick
[ -f "$mine" ] && [ ! -L "$mine" ] || fail "no results file $mine"
assert_eq "$(stat -c '%a %u' "$mine")" "644 $me" "the user's results file: 0644, theirs"
assert_contains "$(cat "$mine")" "\"$gpu0\"" "GPU 0 recorded"
assert_contains "$(cat "$mine")" "\"$gpu1\"" "GPU 1 recorded"
assert_contains "$(cat "$mine")" '"quick"' "the quick run"
assert_no_path "$XDG_CACHE_HOME/git-model/bench-results.json"
# The book's listing does not take the results folder for a stray file.
run_expect 0 git model gpus --json
assert_eq "$(json_get "$OUT" 'd["ignored"]')" "[]" "gpus ignores the results folder quietly"
# --no-results-cache keeps nothing; --results-cache FILE wins.
before=$(cat "$mine")
run_expect 0 env LD_LIBRARY_PATH="$fake" FAKE_CUDA_DRIVER_VERSION=12040 git-model-bench --quick --no-results-cache
assert_eq "$(cat "$mine")" "$before" "--no-results-cache wrote nothing"
run_expect 0 env LD_LIBRARY_PATH="$fake" git-model-bench --quick --results-cache "$TEST_DIR/explicit.json"
assert_eq "$(cat "$mine")" "$before" "--results-cache FILE: the book's file untouched"
assert_contains "$(cat "$TEST_DIR/explicit.json")" "\"$gpu0\"" "--results-cache FILE written"
# No book: the user's own cache.
run_expect 0 env LD_LIBRARY_PATH="$fake" GIT_MODEL_LEASE_DIR="$TEST_DIR/no-book" git-model-bench --quick
assert_contains "$(cat "$XDG_CACHE_HOME/git-model/bench-results.json")" "\"$gpu0\"" "fallback to \$XDG_CACHE_HOME"
assert_no_path "$TEST_DIR/no-book"

# --- tag records the GPU of the model's lease ---------------------------------------------------------
cd "$TEST_DIR"
make_repo repo
run_expect 0 git -C repo model start alpha
wa="$TEST_DIR/worktrees/feature/model-alpha"
common=$(cd repo/.git && pwd -P)
# A full run on GPU 0 (FP32 measured) with CUDA 12.2; the model's environment holds GPU 0.
run_expect 0 env LD_LIBRARY_PATH="$fake" git-model-bench
lease0=$(python3 "$GM_SOURCE_DIR/tests/e2e/write-lease.py" "$BOOK" "$gpu0" 0 alpha --pid $$ --repo "$common")
commit_at "$wa" "2026-01-01T10:00:00Z" "a1"
run_expect 0 git -C "$wa" model tag --metric acc=0.9 --no-push
assert_contains "$OUT" "GPU: Fake GPU (${gpu0:0:12}), CUDA 12.2, triad" "tag says the GPU"
assert_contains "$OUT" "(full bench," "which run measured it"
assert_eq "$(git -C repo for-each-ref --format='%(contents:trailers:key=Model-GPU,valueonly)' refs/tags/model/alpha/v1 | grep -c "^$gpu0 cuda=12.2 triad=[0-9.]* fp32=[0-9.]* bench=full@[0-9T:-]*Z name=Fake GPU\$")" "1" \
    "the Model-GPU trailer, as git reads it"
run_expect 0 git -C "$wa" model log
assert_contains "$OUT" "GPU" "log has a GPU column"
assert_contains "$OUT" "Fake GPU (${gpu0:0:12}) triad" "log shows the GPU"
run_expect 0 git -C "$wa" model log --json
assert_eq "$(json_get "$OUT" 'd["snapshots"][0]["gpus"][0]["uuid"]')" "$gpu0" "log --json: uuid"
assert_eq "$(json_get "$OUT" 'd["snapshots"][0]["gpus"][0]["cuda_driver_version"]')" "12.2" "log --json: CUDA"
assert_eq "$(json_get "$OUT" 'd["snapshots"][0]["gpus"][0]["bench_mode"]')" "full" "log --json: mode"
assert_eq "$(json_get "$OUT" 'd["snapshots"][0]["gpus"][0]["fp32_fraction"] > 0')" "True" "log --json: FP32 fraction"

# --- another GPU and driver: compare says so -----------------------------------------------------------
rm -f "$lease0"
run_expect 0 env LD_LIBRARY_PATH="$fake" FAKE_CUDA_DEVICE_COUNT=2 FAKE_CUDA_DRIVER_VERSION=12040 git-model-bench --quick --device 1
python3 "$GM_SOURCE_DIR/tests/e2e/write-lease.py" "$BOOK" "$gpu1" 1 alpha --pid $$ --repo "$common" >/dev/null
# Another user's lease naming this model is not believed (only the caller's own count): made here
# as a lease of this uid for another repository, which must not count either.
python3 "$GM_SOURCE_DIR/tests/e2e/write-lease.py" "$BOOK" "$gpu0" 0 alpha --pid $$ --repo /srv/other/.git >/dev/null
commit_at "$wa" "2026-01-02T10:00:00Z" "a2"
run_expect 0 git -C "$wa" model tag --metric acc=0.8 --no-push
assert_contains "$OUT" "GPU: Fake GPU (${gpu1:0:12}), CUDA 12.4" "v2 on GPU 1, CUDA 12.4"
assert_not_contains "$OUT" "${gpu0:0:12}" "the other repository's lease does not count"
run_expect 0 git -C "$wa" model compare v1 v2
assert_contains "$OUT" "Hardware: DIFFERENT (GPU, driver): model/alpha/v1 ran on Fake GPU (${gpu0:0:12}), CUDA 12.2; model/alpha/v2 ran on Fake GPU (${gpu1:0:12}), CUDA 12.4" \
    "compare names the different hardware"
run_expect 0 git -C "$wa" model compare v1 v2 --json
assert_eq "$(json_get "$OUT" 'd["hardware"]["changed"]')" "True" "compare --json: changed"
assert_eq "$(json_get "$OUT" '",".join(d["hardware"]["differences"])')" "gpu,driver" "compare --json: what"
assert_eq "$(json_get "$OUT" 'd["b"]["gpus"][0]["uuid"]')" "$gpu1" "compare --json: b's GPU"
run_expect 0 git -C "$wa" model compare v2 v2
assert_contains "$OUT" "Hardware: same: Fake GPU (${gpu1:0:12}), CUDA 12.4" "the same hardware"

# --- no GPU known: nothing recorded, nothing said ---------------------------------------------------------
rm -f "$BOOK"/*.lease
commit_at "$wa" "2026-01-03T10:00:00Z" "a3"
run_expect 0 git -C "$wa" model tag --metric acc=0.7 --no-push
assert_not_contains "$OUT" "GPU" "no GPU line"
assert_eq "$(git -C repo for-each-ref --format='%(contents:trailers:key=Model-GPU,valueonly)' refs/tags/model/alpha/v3 | grep -c . || true)" "0" "no Model-GPU trailer"
run_expect 0 git -C "$wa" model compare v2 v3
assert_not_contains "$OUT" "Hardware" "compare says nothing without GPU info"
run_expect 0 git -C "$wa" model compare v2 v3 --json
assert_eq "$(json_get "$OUT" 'd["hardware"]')" "None" "compare --json: hardware null"

# --- hostile files in the results folder -------------------------------------------------------------------
# A results file named for another uid but owned by this one claims GPU 1 measured 0.01: not believed.
python3 - "$BOOK/bench-results/54329.json" "$gpu1" <<'PY'
import json, sys
json.dump({"format": 1, "gpus": {sys.argv[2]: {"full": {"time": 4102444800, "name": "Planted GPU", "triad_fraction": 0.01,
          "fp32_fraction": 0.01, "verdict": "pass"}}}}, open(sys.argv[1], "w"))
PY
python3 "$GM_SOURCE_DIR/tests/e2e/write-lease.py" "$BOOK" "$gpu1" 1 alpha --pid $$ --repo "$common" >/dev/null
commit_at "$wa" "2026-01-04T10:00:00Z" "a4"
run_expect 0 git -C "$wa" model tag --metric acc=0.6 --no-push
assert_not_contains "$OUT" "Planted" "a file of the wrong owner is not believed"
assert_contains "$ERR" "54329.json is ignored: it belongs to" "and said"
rm -f "$BOOK/bench-results/54329.json"
# A link planted at the user's own results file: the bench does not write through it (a warning,
# the same verdict), and the file it points at is unchanged.
printf 'precious\n' >"$TEST_DIR/victim"
rm -f "$mine"
ln -s "$TEST_DIR/victim" "$mine"
run_expect 0 env LD_LIBRARY_PATH="$fake" git-model-bench --quick
assert_contains "$ERR" "warning: could not update the results cache" "a warning"
assert_contains "$ERR" "symbolic link" "naming the link"
assert_eq "$(cat "$TEST_DIR/victim")" "precious" "the link's target is untouched"
[ -L "$mine" ] || fail "the planted link was replaced by following it"
rm -f "$BOOK"/*.lease
