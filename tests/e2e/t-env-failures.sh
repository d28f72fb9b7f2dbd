#!/usr/bin/env bash
# Every way `git model env` can be refused or fail: a clear error with the
# file, line and column for config, a documented exit code, and nothing left
# behind (no container, no GPU lease).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
git -C repo config model.gpus 0
git -C repo config model.env.stopTimeout 1s
git -C repo config model.env.readyTimeout 5s
run_expect 0 git -C repo model start alpha
wt="$TEST_DIR/worktrees/feature/model-alpha"
nothing_left() {
    assert_eq "$(test_containers)" "" "$1: no container"
    assert_eq "$(ls "$GIT_MODEL_LEASE_DIR" 2>/dev/null | grep -c lease || true)" "0" "$1: no GPU lease"
}

# --- no .modelenv.yaml, not a model worktree ---------------------------------------------------------
run_expect 1 git -C "$wt" model env up
assert_contains "$ERR" "there is no .modelenv.yaml in $wt"
run_expect 1 git -C repo model env up
assert_contains "$ERR" "not a model branch"
run_expect 1 git -C repo model env up nosuch
assert_contains "$ERR" "no model 'nosuch'"
# A model that is only a branch, and one whose worktree folder is gone: named from the main worktree.
git -C repo branch feature/model-branchonly main
run_expect 1 git -C repo model env up branchonly
assert_contains "$ERR" "model 'branchonly' has no worktree to run an environment for"
assert_contains "$ERR" "git worktree add <path> feature/model-branchonly"
run_expect 0 git -C repo model start vanished
rm -rf "$TEST_DIR/worktrees/feature/model-vanished"
run_expect 1 git -C repo model env up vanished
assert_contains "$ERR" "model 'vanished' has no worktree to run an environment for (its folder"
# down by name needs no worktree (s42a): nothing ran, so nothing to stop
run_expect 0 git -C repo model env down vanished
assert_contains "$OUT" "was not running; nothing to stop"
run_expect 1 git -C repo model env check vanished
assert_contains "$ERR" "model 'vanished' has no worktree"
run_expect 2 git -C repo model env exec 'Bad;Name' -- true
assert_contains "$ERR" "invalid model name 'Bad;Name'"
nothing_left "no worktree to run in"
git -C repo worktree prune
git -C repo branch -q -D feature/model-branchonly feature/model-vanished
run_expect 2 git -C repo model env up 'Bad;Name'
run_expect 2 git -C repo model env up --frobnicate

# --- every bad file of the corpus: refused with its line and column, by check and by up ------------------
count=0
for bad in "$GM_SOURCE_DIR"/tests/data/modelenv/bad/*.yaml; do
    expect=$(sed -n '1s/^# expect: \([0-9]*:[0-9]*\):.*/\1/p' "$bad")
    [ -n "$expect" ] || continue
    run_expect 1 git model env check --file "$bad"
    assert_contains "$ERR" "$bad:$expect:" "check of $(basename "$bad")"
    count=$((count + 1))
done
CHECKS=$((CHECKS + 1)); [ "$count" -ge 40 ] || fail "only $count bad files in the corpus"
for bad in latest-tag unknown-key duplicate-key; do
    f="$GM_SOURCE_DIR/tests/data/modelenv/bad/$bad.yaml"
    [ -f "$f" ] || continue
    cp "$f" "$wt/.modelenv.yaml"
    expect=$(sed -n '1s/^# expect: \([0-9]*:[0-9]*\):.*/\1/p' "$f")
    run_expect 1 git -C "$wt" model env up
    assert_contains "$ERR" ".modelenv.yaml:$expect:" "up with $bad"
    nothing_left "up with $bad"
done

# --- an image that does not exist: the engine's message, nothing left -------------------------------------
printf 'image: localhost/no-such-image:1\ngpus: 1\n' >"$wt/.modelenv.yaml"
run_expect 1 git -C "$wt" model env up
assert_contains "$ERR" "podman could not pull localhost/no-such-image:1 (exited with status"
assert_contains "$ERR" "Error: initializing source docker://localhost/no-such-image:1" "the engine's own reason"
assert_not_contains "$ERR" "retrying" "not its retries, only why it failed"
assert_contains "$ERR" "hint: nothing was started" "the hint says nothing was started"
nothing_left "missing image"

# --- a command that dies before its port is ready: its last output, nothing left ----------------------------
{ echo "image: $TEST_IMAGE"; echo "gpus: 1"; echo "ports:"; echo "  web: 8080"; echo "command: \"echo 'loading the model failed: out of memory'; exit 3\""; } >"$wt/.modelenv.yaml"
run_expect 1 git -C "$wt" model env up
assert_contains "$ERR" "stopped"
assert_contains "$ERR" "loading the model failed: out of memory"
nothing_left "dying command"

# --- a port that never opens: the time limit, nothing left -----------------------------------------------------
{ echo "image: $TEST_IMAGE"; echo "gpus: 1"; echo "ports:"; echo "  web: 8080"; echo 'command: ["sleep", "600"]'; } >"$wt/.modelenv.yaml"
run_expect 1 git -C "$wt" model env up
assert_contains "$ERR" "did not accept connections within 5 s"
nothing_left "port never ready"

# --- a mount whose source is missing -------------------------------------------------------------------------
{ echo "image: $TEST_IMAGE"; echo "mounts:"; echo "  - {source: $TEST_DIR/no-data, target: /data}"; } >"$wt/.modelenv.yaml"
run_expect 1 git -C "$wt" model env up
assert_contains "$ERR" "$TEST_DIR/no-data does not exist"
nothing_left "missing mount"
mkdir -p "$TEST_DIR/data" && echo "rows" >"$TEST_DIR/data/train.csv"
{ echo "image: $TEST_IMAGE"; echo "mounts:"; echo "  - {source: $TEST_DIR/data, target: /data, readonly: true}"; } >"$wt/.modelenv.yaml"
run_expect 0 git -C "$wt" model env up
run_expect 0 git -C "$wt" model env exec -- cat /data/train.csv
assert_eq "$OUT" "rows" "data mount"
run_expect 1 git -C "$wt" model env exec -- sh -c 'echo x > /data/new'
run_expect 0 git -C "$wt" model env down

# --- --check on a machine without a GPU: exit 3, nothing left ---------------------------------------------------
if ! [ -e /proc/driver/nvidia/version ] && [ -x "$GM_STAGE/bin/git-model-bench" ]; then
    # busybox-static has no glibc: the bench cannot even start there, and says so
    printf 'image: %s\ngpus: 1\n' "$TEST_IMAGE" >"$wt/.modelenv.yaml"
    run_expect 1 git -C "$wt" model env up --check
    assert_contains "$ERR" "cannot run inside the image $TEST_IMAGE"
    nothing_left "--check in an image without glibc"
    # --recreate --check onto such an image: found before the running environment goes
    printf 'image: %s\ngpus: 1\n' "$TEST_IMAGE" >"$wt/.modelenv.yaml"
    run_expect 0 git -C "$wt" model env up
    running=$(podman inspect -f '{{.Id}}' "$(test_containers)")
    run_expect 1 git -C "$wt" model env up --recreate --check
    assert_contains "$ERR" "--recreate --check: git-model-bench cannot run inside the image $TEST_IMAGE"
    assert_contains "$ERR" "the environment of 'alpha' was left as it is"
    assert_eq "$(podman inspect -f '{{.Id}} {{.State.Status}}' "$(test_containers)")" "$running running" \
        "--recreate --check: the running container is the same, and runs"
    # other tests run containers of the same image at the same time: only this repository's probe counts
    assert_eq "$(podman ps -a --filter label=io.git-model.probe --format '{{index .Labels "io.git-model.probe"}}' \
        | awk -v dir="$TEST_DIR" 'index($0, dir) == 1' | wc -l)" "0" "the probe left no container"
    run_expect 0 git -C "$wt" model env down
    # an image with glibc: the bench runs inside and finds no GPU (exit 3). A sanitizer build's
    # bench needs libasan, which no image has: that case proves nothing there.
    if ldd "$GM_STAGE/bin/git-model-bench" | grep -c libasan >/dev/null; then
        echo "SKIP: git-model-bench is built with AddressSanitizer (it needs libasan, which no image has); the in-image --check case is not run"
    else
        build_image "$TEST_GIT_IMAGE" with-git
        printf 'image: %s\ngpus: 1\n' "$TEST_GIT_IMAGE" >"$wt/.modelenv.yaml"
        run_expect 3 git -C "$wt" model env up --check
        assert_contains "$ERR" "--check: git-model-bench inside the container found no usable GPU"
        nothing_left "--check without GPU"
    fi
else
    echo "SKIP: an NVIDIA driver is present or git-model-bench is not installed; the --check cases without a GPU are not run"
fi

# --- engines: docker's CLI through podman-docker, and no engine at all ---------------------------------------------
printf 'image: %s\ngpus: 1\n' "$TEST_IMAGE" >"$wt/.modelenv.yaml"
if command -v docker >/dev/null && docker --version 2>&1 | grep -ci podman >/dev/null; then
    git -C repo config model.engine docker
    run_expect 0 git -C "$wt" model env up
    run_expect 0 git -C "$wt" model env exec -- sh -c 'echo $CUDA_VISIBLE_DEVICES'
    assert_eq "$OUT" "0" "through docker's CLI"
    run_expect 0 git -C "$wt" model env status
    assert_contains "$OUT" "alpha"
    run_expect 0 git -C "$wt" model env down
    nothing_left "docker CLI"
fi
git -C repo config model.engine nerdctl
run_expect 1 git -C "$wt" model env up
assert_contains "$ERR" "expected podman or docker"
git -C repo config --unset model.engine
mkdir -p "$TEST_DIR/bin-no-engine"
ln -s "$(command -v git)" "$TEST_DIR/bin-no-engine/git"
run_expect 3 env PATH="$GM_STAGE/bin:$TEST_DIR/bin-no-engine" git -C "$wt" model env up
assert_contains "$ERR" "no container engine"
nothing_left "no engine"
