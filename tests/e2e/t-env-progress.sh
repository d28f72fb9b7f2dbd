#!/usr/bin/env bash
# `git model env up` when the image is not here: it is pulled first, before any GPU is taken.
# On a terminal the engine's own progress ("Copying blob ...") goes by live; piped or with
# --quiet it does not. While it pulls, no GPU is leased (a teammate's start gets it); Ctrl-C
# stops the pull at once (not once the pull is done), and a kill -9 of `env up` stops it too:
# nothing is started, leased or left pulling. No registry can be reached here, so the image is
# really pulled by podman from an OCI archive: a podman of this test's own, first on PATH, does
# that when asked to pull the test's image (slowly, when the test says so).
# Also: right after a clean `env down`, `env up --wait` has no stale lease to talk about.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

command -v script >/dev/null || { echo "SKIP: script(1) is not installed"; exit 125; }
use_pull_engine

on_terminal() {  # CMD...: on a pseudo-terminal; $OUT gets all it wrote, and must show exit 0
    local quoted="" word
    for word in "$@"; do quoted+=" $(printf '%q' "$word")"; done
    run_expect 0 script -q -e -c "${quoted# }; echo \"[exit \$?]\"" /dev/null
    assert_contains "$OUT" "[exit 0]" "exit code under a terminal: $*"
}

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
git -C repo config model.env.stopTimeout 2s
git -C repo config model.gpus 0,1
{ echo "image: $PULL_IMAGE"; echo "gpus: 1"; echo 'command: ["sleep", "600"]'; } >repo/.modelenv.yaml
git -C repo add .modelenv.yaml && git -C repo commit -q -m environment
run_expect 0 git -C repo model start alpha
WT="$TEST_DIR/worktrees/feature/model-alpha"

# --- on a terminal: the pull shows -------------------------------------------------------------
on_terminal git -C "$WT" model env up
assert_contains "$OUT" "git-model-env: $PULL_IMAGE is not here yet: podman pulls it before any GPU is taken (Ctrl-C stops it)" \
    "says a pull is coming"
assert_contains "$OUT" "Copying blob" "the engine's own progress, live"
assert_contains "$OUT" "Environment of 'alpha' is up" "and then up"
run_expect 0 git -C "$WT" model env down
"$PODMAN" rmi -f "$PULL_IMAGE" >/dev/null

# --- piped: nothing of it ------------------------------------------------------------------------
run_expect 0 git -C "$WT" model env up
assert_not_contains "$ERR" "Copying blob" "piped: no engine progress"
assert_not_contains "$ERR" "is not here yet" "piped: no pull note"
assert_contains "$OUT" "Environment of 'alpha' is up" "piped: up"
run_expect 0 git -C "$WT" model env down
"$PODMAN" rmi -f "$PULL_IMAGE" >/dev/null

# --- --quiet on a terminal: nothing either --------------------------------------------------------
on_terminal git -C "$WT" model env up --quiet
assert_not_contains "$OUT" "Copying blob" "--quiet: no engine progress"
assert_contains "$OUT" "Environment of 'alpha' is up" "--quiet: up"

# --- right after a clean down, up --wait finds nothing stale ---------------------------------------
run_expect 0 git -C "$WT" model env down
run_expect 0 git -C "$WT" model env up --wait
assert_not_contains "$ERR" "was still leased" "no stale lease after a clean down"
assert_contains "$OUT" "Environment of 'alpha' is up"
run_expect 0 git -C "$WT" model env down

# --- a slow pull holds no GPU ----------------------------------------------------------------------
leases() { ls -A "$GIT_MODEL_LEASE_DIR" 2>/dev/null | grep -c lease || true; }
start_slow_pull() {  # [HOW]: `env up` in a session of its own (pgid in $TEST_DIR/pgid), once its pull runs
    "$PODMAN" rmi -f "$PULL_IMAGE" >/dev/null 2>&1 || true
    rm -f "$TEST_DIR/pull.pids"
    : >"$TEST_DIR/slow-pull"
    (cd "$WT" && setsid env --default-signal=INT \
        bash -c 'echo $$ >"$0/pgid"; exec git model env up' "$TEST_DIR" >"$TEST_DIR/up.out" 2>&1) &
    UP=$!
    for _ in $(seq 100); do [ -s "$TEST_DIR/pull.pids" ] && break; sleep 0.1; done
    [ -s "$TEST_DIR/pull.pids" ] || fail "the pull never began: $(cat "$TEST_DIR/up.out")"
    PULL=$(head -1 "$TEST_DIR/pull.pids")
}
start_slow_pull
assert_eq "$(leases)" "0" "no GPU is leased while the image is pulled"
rc=0; wait "$UP" || rc=$?
assert_eq "$rc" "0" "the start after a slow pull: $(cat "$TEST_DIR/up.out")"
assert_eq "$(leases)" "1" "the GPU is leased once the container starts"
run_expect 0 git -C "$WT" model env down

# --- Ctrl-C during the pull: stopped at once, nothing started, leased or still pulling ------------------
start_slow_pull
began=$(date +%s%N)
kill -INT -- "-$(cat "$TEST_DIR/pgid")"
rc=0; wait "$UP" || rc=$?
took_ms=$(( ($(date +%s%N) - began) / 1000000 ))
assert_eq "$rc" "130" "Ctrl-C ends the start by SIGINT: $(cat "$TEST_DIR/up.out")"
[ "$took_ms" -lt 3000 ] || fail "Ctrl-C took $took_ms ms: it waited for the pull (4 s) instead of stopping it"
sleep 0.5
alive "$PULL" && fail "the engine's pull $PULL still runs after Ctrl-C"
sleep 4  # past the slow pull's pause: a pull left running would have the image by now
"$PODMAN" image exists "$PULL_IMAGE" && fail "the image was pulled after Ctrl-C"
assert_eq "$(test_containers)" "" "no container after Ctrl-C"
assert_eq "$(leases)" "0" "no lease after Ctrl-C"

# --- kill -9 of env up during the pull: the pull is told to stop (SIGTERM) --------------------------
start_slow_pull
target=$(pgrep -g "$(cat "$TEST_DIR/pgid")" -x git-model-env | head -1)
[ -n "$target" ] || fail "no git-model-env in the start's group"
kill -KILL "$target"
for _ in $(seq 20); do alive "$PULL" || break; sleep 0.1; done
alive "$PULL" && fail "the pull $PULL runs on, orphaned, after env up was killed"
kill -KILL -- "-$(cat "$TEST_DIR/pgid")" 2>/dev/null || true
wait "$UP" || true
sleep 4
"$PODMAN" image exists "$PULL_IMAGE" && fail "the image was pulled after env up was killed"
assert_eq "$(test_containers)" "" "no container after the kill"
assert_eq "$(leases)" "0" "no lease after the kill"
rm -f "$TEST_DIR/slow-pull"
run_expect 0 git -C "$WT" model env up
assert_contains "$OUT" "Environment of 'alpha' is up" "the next start pulls and starts"
run_expect 0 git -C "$WT" model env down

# --- --recreate onto an image that cannot be pulled: the running environment stays ----------------------
run_expect 0 git -C "$WT" model env up
name=$(test_containers)
id_before=$(podman inspect -f '{{.Id}}' "$name")
sed -i 's|^image: .*|image: localhost/gm-test-nowhere:2|' "$WT/.modelenv.yaml"
run_expect 1 git -C "$WT" model env up --recreate
assert_contains "$ERR" "podman could not pull localhost/gm-test-nowhere:2"
assert_eq "$(podman inspect -f '{{.Id}} {{.State.Status}}' "$name")" "$id_before running" \
    "the environment --recreate was to replace still runs"
assert_eq "$(leases)" "1" "and keeps its GPU"
git -C "$WT" checkout -q -- .modelenv.yaml
run_expect 0 git -C "$WT" model env down
