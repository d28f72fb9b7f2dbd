#!/usr/bin/env bash
# Many commands at once in one repository (300 files): none fails because another
# runs. Repeated rounds of 20 concurrent starts, 4 concurrent sweep starts of 5
# runs each (--no-container, a local pool of two GPUs), 10 concurrent tags of one
# model from two worktrees, 5 concurrent finishes (push) and 3 that merge into
# main; all the while `list`, `prune --dry-run` and `prune` run in loops, never
# fail and never remove anything.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

ROUNDS=${GM_CONCURRENT_ROUNDS:-3}
cd "$TEST_DIR"
git init -q repo
for i in $(seq 300); do
    mkdir -p "repo/src/pkg$((i / 30))"
    printf 'x = %d\n' "$i" >"repo/src/pkg$((i / 30))/module$i.py"
done
git -C repo add -A
git -C repo commit -q -m "300 files"
git init -q --bare repo.git
git -C repo remote add origin "$TEST_DIR/repo.git"
git -C repo push -q origin main
git -C repo config model.installHooks never
git -C repo config model.gpus 0,1
git -C repo config model.finish.merge allow
export GIT_MODEL_LEASE_DIR="$TEST_DIR/leases"
W="$TEST_DIR/worktrees/feature"
run_expect 0 git -C repo model start base
CREATED="feature/model-base"

# --- readers and a pruner in loops, all the while ------------------------------------------------------
watch_loop() {  # NAME CMD...: runs CMD until $TEST_DIR/stop exists; records failures in NAME.fail
    local name=$1
    shift
    while [ ! -e "$TEST_DIR/stop" ]; do
        "$@" >"$TEST_DIR/$name.out" 2>"$TEST_DIR/$name.err" || {
            echo "exit $?: $(cat "$TEST_DIR/$name.err")" >>"$TEST_DIR/$name.fail"
        }
        echo x >>"$TEST_DIR/$name.count"
        grep -q "pruned [a-z]\|removed\|rolled back" "$TEST_DIR/$name.out" "$TEST_DIR/$name.err" &&
            cat "$TEST_DIR/$name.out" "$TEST_DIR/$name.err" >>"$TEST_DIR/$name.fail"
        sleep 0.2  # a loop, not a CPU hog: prune asks the container engine about every model
    done
}
watch_loop list git -C repo model list --json &
w1=$!
watch_loop dry git -C repo model prune --dry-run &
w2=$!
watch_loop prune git -C repo model prune &
w3=$!
stop_watchers() { touch "$TEST_DIR/stop"; wait "$w1" "$w2" "$w3" 2>/dev/null || true; }
trap 'rc=$?; stop_watchers; on_exit $rc' EXIT

# spawn NAME CMD...: starts CMD in the background (output in NAME.out/.err); wait_all: every one must succeed.
PIDS=()
spawn() {
    local name=$1
    shift
    "$@" >"$TEST_DIR/$name.out" 2>"$TEST_DIR/$name.err" &
    PIDS+=("$!:$name")
}
wait_all() {
    local failed="" entry
    for entry in "${PIDS[@]}"; do
        wait "${entry%%:*}" || failed+=" ${entry#*:}: $(cat "$TEST_DIR/${entry#*:}.err")"
    done
    PIDS=()
    CHECKS=$((CHECKS + 1))
    [ -z "$failed" ] || fail "concurrent commands failed:$failed"
}

for round in $(seq "$ROUNDS"); do
    # 20 starts at once
    for i in $(seq 20); do spawn "start$round.$i" git -C repo model start "r$round-p$i"; done
    wait_all
    for i in $(seq 20); do
        CREATED+=" feature/model-r$round-p$i"
        assert_eq "$(find "$W/model-r$round-p$i/src" -type f | wc -l)" "300" "round $round start $i: full checkout"
        assert_eq "$(git -C repo config --get "branch.feature/model-r$round-p$i.modelBase")" "main" "round $round start $i: base"
    done
    assert_eq "$(git -C repo worktree list --porcelain | grep -c '^locked')" "0" "round $round: no worktree left locked"
    assert_eq "$(ls repo/.git/git-model/pending 2>/dev/null | wc -l)" "0" "round $round: no journal record left"

    # 4 sweeps of 5 runs at once: 20 runs, distinct ids
    for i in 1 2 3 4; do
        spawn "sweep$round.$i" git -C "$W/model-base" model sweep start --no-container --grid "lr=${i}1,${i}2,${i}3,${i}4,${i}5" -- true
    done
    wait_all
    ids=$(for i in 1 2 3 4; do sed -n 's/^Sweep \([0-9]*\) of model base.*/\1/p' "$TEST_DIR/sweep$round.$i.out"; done | sort -n)
    assert_eq "$(printf '%s\n' "$ids" | sort -u | wc -l)" "4" "round $round: four distinct sweep ids ($ids)"
    for id in $ids; do
        for k in 1 2 3 4 5; do
            assert_dir "$W/model-base.sweep-$id-$k"
            CREATED+=" feature/model-base.sweep-$id-$k"
        done
    done

    # 10 tags of one model at once, from its worktree and from the main one: v1..v10, no gap, no duplicate
    m="r$round-p1"
    for i in 1 2 3 4 5; do
        spawn "tagw$round.$i" git -C "$W/model-$m" model tag -m "from the worktree $i"
        spawn "tagm$round.$i" git -C repo model tag "$m" -m "from main $i"
    done
    wait_all
    assert_eq "$(git -C repo tag -l "model/$m/v*" | sort -V | tr '\n' ' ')" \
        "$(for v in $(seq 10); do printf 'model/%s/v%d ' "$m" "$v"; done)" "round $round: v1..v10"

    # 5 finishes at once (pushes to the remote): every finish record is kept
    for i in 11 12 13 14 15; do
        commit_at "$W/model-r$round-p$i" "2026-02-02T10:00:00Z" "work $i" "work$i.txt"
        spawn "finish$round.$i" git -C "$W/model-r$round-p$i" model finish
    done
    wait_all
    for i in 11 12 13 14 15; do
        assert_contains "$(git -C repo notes --ref=git-model show "feature/model-r$round-p$i" 2>&1)" "Model: r$round-p$i" \
            "round $round: finish record of p$i"
    done

    # 3 local merges at once (finish --merge into main): each lands, none undoes another
    for i in 16 17 18; do
        commit_at "$W/model-r$round-p$i" "2026-02-02T10:00:00Z" "merged work $i" "merged$i.txt"
        spawn "merge$round.$i" git -C "$W/model-r$round-p$i" model finish --merge
    done
    wait_all
    for i in 16 17 18; do
        CHECKS=$((CHECKS + 1))
        git -C repo merge-base --is-ancestor "feature/model-r$round-p$i" main || fail "round $round: p$i is not in main"
    done
done
stop_watchers

# nothing the loops ran failed, and nothing was removed
for name in list dry prune; do
    CHECKS=$((CHECKS + 1))
    [ ! -s "$TEST_DIR/$name.fail" ] || fail "$name in a loop failed or removed something: $(head -c 3000 "$TEST_DIR/$name.fail")"
    CHECKS=$((CHECKS + 1))
    [ "$(wc -l <"$TEST_DIR/$name.count")" -ge 2 ] || fail "$name ran only $(wc -l <"$TEST_DIR/$name.count") times"
done
for branch in $CREATED; do assert_branch_exists repo "$branch"; done
assert_eq "$(git -C repo worktree list --porcelain | grep -c '^worktree ')" "$((2 + ROUNDS * 40))" "every worktree is there"
for id in $(ls repo/.git/git-model/sweeps); do wait_sweep repo "$id" 120; done

# --- a holder that does not let go: the wait is bounded, the message says what to do, nothing is made -----
lock_file=repo/.git/git-model/locks/worktrees.lock
flock --close "$lock_file" sleep 60 &   # --close: only flock holds the lock, not its sleep
holder=$!
release() {
    local child
    child=$(pgrep -P "$holder" || true)
    kill "$holder" $child 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
}
trap 'rc=$?; release; on_exit $rc' EXIT
for _ in $(seq 100); do flock --nonblock "$lock_file" true || break; sleep 0.05; done
before=$(repo_state repo)
SECONDS=0
run_expect 1 git -C repo -c model.lockTimeout=1s model start late
assert_contains "$ERR" "another git-model command has held this repository's worktrees lock for over 1 s"
assert_contains "$ERR" "git config model.lockTimeout"
assert_eq "$(repo_state repo)" "$before" "a start that timed out changed nothing"
CHECKS=$((CHECKS + 1))
[ "$SECONDS" -lt 20 ] || fail "the wait was not bounded: ${SECONDS}s"
release
run_expect 0 git -C repo model start late
