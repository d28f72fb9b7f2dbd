#!/usr/bin/env bash
# `git model env up` while the engine pulls the image: on a terminal the engine's own progress
# ("Copying blob ...") goes by live; piped or with --quiet it does not. No registry can be
# reached here, so the image is really pulled by podman from an OCI archive: a podman of this
# test's own, first on PATH, does that pull right before `podman run`, as a pull by run would.
# Also: right after a clean `env down`, `env up --wait` has no stale lease to talk about.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

command -v script >/dev/null || { echo "SKIP: script(1) is not installed"; exit 125; }
PODMAN=$(command -v podman)
PULL_IMAGE="localhost/gm-test-pull-$(basename "$TEST_DIR" | tr 'A-Z.' 'a-z-'):1"
ARCHIVE="$TEST_DIR/pull-image.tar"
"$PODMAN" save --format oci-archive -o "$ARCHIVE" "$TEST_IMAGE" >/dev/null 2>&1
trap 'gm_status=$?; podman_cleanup; "$PODMAN" rmi -f "$PULL_IMAGE" >/dev/null 2>&1; on_exit $gm_status' EXIT

mkdir -p "$TEST_DIR/engine"
cat >"$TEST_DIR/engine/podman" <<SH
#!/bin/sh
if [ "\$1" = run ] && ! "$PODMAN" image exists "$PULL_IMAGE"; then
    id=\$("$PODMAN" pull "oci-archive:$ARCHIVE") && "$PODMAN" tag "\$id" "$PULL_IMAGE" || exit 125
fi
exec "$PODMAN" "\$@"
SH
chmod +x "$TEST_DIR/engine/podman"
export PATH="$TEST_DIR/engine:$PATH"

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
assert_contains "$OUT" "git-model-env: $PULL_IMAGE is not here yet: podman pulls it" "says a pull is coming"
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
