#!/usr/bin/env bash
# The README's demo, run against the installed suite: it must work end to end.
. "$(dirname "$0")/lib.sh"

run_expect 0 "$GM_SOURCE_DIR/scripts/demo"
assert_contains "$OUT" "Started model 'resnet50'"
assert_contains "$OUT" "Started model 'bert'"
assert_contains "$OUT$ERR" "push refused by the pre-push hook"
if command -v podman >/dev/null; then
    assert_contains "$OUT" "my GPU: 0"
    # each command is printed as a shell needs it: copied, it does what the demo did
    assert_contains "$OUT" "\$ git model env exec -- sh -c 'echo \"my GPU: \$CUDA_VISIBLE_DEVICES\"'"
    assert_contains "$OUT" "my GPU: 1"
    assert_contains "$ERR" "no GPU free for model 'gpt2'"
    assert_contains "$OUT" "Environment of 'bert' is down"
fi
assert_contains "$OUT" "demo: done"
assert_eq "$(ls -d /tmp/git-model-demo.* 2>/dev/null | wc -l)" "0" "the demo cleaned up"
