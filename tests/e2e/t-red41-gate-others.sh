#!/usr/bin/env bash
# Red team s41a, the pre-push GPU gate and other users' GPUs, with two real Unix users on one book
# made by `git model gpus init` and the fake driver's two GPUs. A's `git push` ran the bench on
# every GPU, the one B's live lease holds for B's job too (a context, buffers and kernels taking
# B's memory and time), and B's GPU decided A's push. Now the gate leaves GPUs other users hold
# alone (--skip-gpu) and needs no remembered pass for them; when every GPU is someone else's it
# cannot judge and model.benchGate.onUnknown decides. B's lease, once B's job ends, holds nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/users-lib.sh"

require_fake_driver
A=gmgo-a-$$ B=gmgo-b-$$
BOOK="$TEST_DIR/book"
run_expect 0 git model gpus init --dir "$BOOK"
USERS_ENV=(GIT_MODEL_LEASE_DIR="$BOOK")
make_user "$A"; make_user "$B"
uid_a=$(id -u "$A")
home_a=$(user_home "$A"); home_b=$(user_home "$B")
gpu0=GPU-a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf
gpu1=GPU-a1a2a3a4-a5a6-a7a8-a9aa-abacadaeafb0
res="$BOOK/bench-results/$uid_a.json"
quick_time() {  # GPU: the time of A's last quick result of GPU in the book, 0 when none
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["gpus"].get(sys.argv[2],{}).get("quick",{}).get("time",0))' \
        "$res" "$1" 2>/dev/null || echo 0
}

as_user "$A" git init -q --bare remote.git
as_user "$A" git init -q -b main repo
as_user "$A" sh -c 'printf "x\n" >repo/a && git -C repo add -A && git -C repo commit -q -m init'
as_user "$A" git -C repo remote add origin "$home_a/remote.git"
as_user "$A" git -C repo push -q origin main
run_expect 0 as_user "$A" git -C repo model hooks install
as_user "$A" git -C repo config model.bench.beforePush always   # as `auto` does on a machine with a driver
branch=0
push() {  # EXPECTED-EXIT: A pushes a new model branch with the fake driver's two GPUs
    branch=$((branch + 1))
    as_user "$A" git -C repo branch -q "feature/model-g$branch" main
    run_expect "$1" as_user "$A" env LD_LIBRARY_PATH="$fake" FAKE_CUDA_DEVICE_COUNT=2 \
        git -C repo push origin "feature/model-g$branch"
}

# B's job on GPU 1: a lease of B's whose holder process runs.
as_user "$B" sh -c 'sleep 300 >/dev/null 2>&1 & echo $! >"$HOME/job.pid"'
bjob=$(cat "$home_b/job.pid")
as_user "$B" python3 "$GM_SOURCE_DIR/tests/e2e/write-lease.py" "$BOOK" "$gpu1" 1 bjob --pid "$bjob" >/dev/null
start=$(date +%s)
push 0
assert_contains "$(as_user "$A" git -C repo ls-remote origin)" "refs/heads/feature/model-g1" "A's push went through on GPU 0"
[ "$(quick_time "$gpu0")" -ge "$start" ] || fail "GPU 0, nobody's, was checked"
assert_eq "$(quick_time "$gpu1")" 0 "GPU 1, B's, was never touched by A's push"

# s41c: B's lease naming no UUID ("gpu0") reached the bench's argv, and every push of everyone's
# failed with a usage error; 2,000 leases of one GPU are one GPU to skip, not 2,000 arguments.
as_user "$B" python3 "$GM_SOURCE_DIR/tests/e2e/write-lease.py" "$BOOK" gpu0 0 junk --pid "$bjob" >/dev/null
as_user "$B" python3 - "$BOOK" "$gpu1" <<'PY'
import glob, json, os, secrets, sys
book, gpu = sys.argv[1], sys.argv[2]
record = json.load(open(glob.glob(os.path.join(book, gpu + ".*.lease"))[0]))
for _ in range(2000):
    record["id"] = secrets.token_hex(8)
    with open(os.path.join(book, f"{gpu}.{record['uid']}.{record['id']}.lease"), "w") as f:
        json.dump(record, f)
PY
push 0
assert_eq "$(quick_time "$gpu1")" 0 "a planted lease makes nobody's push fail, and GPU 1 stays alone"

# s41c: a book A cannot read (a group's, A not in it): which GPUs others hold is unknown, so the
# check touches none and cannot judge (allow: pushed with a warning).
mkdir "$TEST_DIR/closed" && chmod 700 "$TEST_DIR/closed"
branch=$((branch + 1))
as_user "$A" git -C repo branch -q "feature/model-g$branch" main
run_expect 0 as_user "$A" env LD_LIBRARY_PATH="$fake" FAKE_CUDA_DEVICE_COUNT=2 GIT_MODEL_LEASE_DIR="$TEST_DIR/closed" \
    git -C repo push origin "feature/model-g$branch"
assert_contains "$ERR" "could not tell which GPUs other users hold" "an unreadable book: cannot judge, saying why"

# (A remembered pass needs the driver's /proc list of GPUs, which the fake driver has not: each push
# here runs the bench again, and leaves GPU 1 alone again.)
push 0
assert_eq "$(quick_time "$gpu1")" 0 "the second push leaves GPU 1 alone too"

# Every GPU someone else's (B now holds GPU 0 as well): cannot judge, by policy.
as_user "$B" python3 "$GM_SOURCE_DIR/tests/e2e/write-lease.py" "$BOOK" "$gpu0" 0 bjob2 --pid "$bjob" >/dev/null
rm -f "$home_a/repo/.git/git-model/bench-pass.json"
push 0
assert_contains "$ERR" "could not judge" "allow (the default): pushed with a warning"
assert_contains "$ERR" "held by another user" "saying why"
as_user "$A" git -C repo config model.benchGate.onUnknown refuse
push 1
assert_contains "$ERR" "held by another user" "refuse: the push is refused, saying why"
assert_not_contains "$(as_user "$A" git -C repo ls-remote origin)" "refs/heads/feature/model-g$branch" "and nothing was pushed"

# B's job ends: B's leases hold nothing, and A's push checks (and passes on) both GPUs.
kill "$bjob"
while kill -0 "$bjob" 2>/dev/null; do sleep 0.1; done
start=$(date +%s)
push 0
[ "$(quick_time "$gpu1")" -ge "$start" ] || fail "GPU 1, free again, was checked"
