#!/usr/bin/env bash
# Red team (stop 27): `sweep promote` killed (SIGKILL) after it made the snapshot tag model/<m>/v1
# but before pushing it. The rerun finds the run already promoted and must still push the tag, so
# the team sees the snapshot on the remote (it said "already promoted" and pushed nothing).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sweep-lib.sh"

cd "$TEST_DIR"
start_sweep_model net --push
cat >"$WT/train.sh" <<'SH'
head -c 4096 /dev/urandom > weights.bin
printf '{"loss": %s}\n' "$GIT_MODEL_PARAM_LR" > metrics.json
SH
git -C "$WT" add train.sh && git -C "$WT" commit -qm train && git -C "$WT" push -q
run_expect 0 git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry weights.bin --grid lr=1,2 -- sh train.sh
wait_sweep "$WT" 1 60
# A `git` first on PATH that SIGKILLs git-model (its parent) at its first `git push` (the tag's push).
REAL_GIT=$(command -v git)
mkdir killer
cat >killer/git <<SH
#!/bin/sh
for a in "\$@"; do [ "\$a" = push ] && [ ! -e "$TEST_DIR/killed" ] && { : >"$TEST_DIR/killed"; kill -9 \$PPID; exit 1; }; done
exec "$REAL_GIT" "\$@"
SH
chmod +x killer/git
cd "$WT"
run_expect 137 env PATH="$TEST_DIR/killer:$PATH" git-model sweep promote 1 --run 2
cd "$TEST_DIR"
[ -e killed ] || fail "the kill did not happen: the test proves nothing"
git -C repo rev-parse -q --verify refs/tags/model/net/v1 >/dev/null || fail "killed before the tag was made: proves nothing"
run_expect 0 git -C "$WT" model sweep promote 1 --run 2
assert_contains "$OUT" "Run 2 of sweep 1 is already promoted"
assert_contains "$OUT" "model/net/v1 is on origin."
git -C repo.git rev-parse -q --verify refs/tags/model/net/v1 >/dev/null ||
    fail "the rerun said the run is promoted, but the snapshot tag model/net/v1 never reached the remote"
