#!/usr/bin/env bash
# Red team (issue 29): a sweep's run worktrees live beside the model's, in a shared
# model.worktreeRoot (a sticky, world-writable folder). Once a run's worktree folder is gone,
# another user can put a folder of theirs at its path with a .git file pointing back to the run's
# admin folder and files of their choosing: `sweep clean --branches` (--force) would move their
# "carried" file into the owner's shelf, and `sweep promote` would commit it (or the planted
# metrics.json would rank the run). Such a folder is not the run's: its files are neither
# shelved nor promoted nor reported, and the owner's own run worktrees still work.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/users-lib.sh"

V=gmr29a-$$ A=gmr29b-$$
make_user "$V"
make_user "$A"
VH=$(user_home "$V")
SHARED="$TEST_DIR/shared"
mkdir -m 1777 "$SHARED"

as_user "$V" git init -q repo
as_user "$V" sh -c 'cat >repo/train.sh <<SH
head -c 4096 /dev/urandom > weights.bin
printf "{\"loss\": %s}\n" "\$GIT_MODEL_PARAM_LR" > metrics.json
SH
git -C repo add -A && git -C repo commit -qm train'
as_user "$V" git -C repo config model.installHooks never
as_user "$V" git -C repo config model.worktreeRoot "$SHARED"
as_user "$V" git -C repo config model.worktreePath '{model}'
run_expect 0 as_user "$V" git -C repo model start net
run_expect 0 as_user "$V" git -C "$SHARED/net" model sweep start --no-container --gpus-per-run 0 --carry weights.bin \
    --grid lr=1,2 -- sh train.sh
for _ in $(seq 240); do
    states=$(as_user "$V" git -C repo model sweep status 1 --json | python3 -c 'import json,sys; print(" ".join(r["state"] for r in json.load(sys.stdin)["runs"]))')
    case " $states " in *" queued "* | *" running "*) sleep 0.25 ;; *) break ;; esac
done
assert_eq "$states" "done done" "the runs finished"
RUN2="$SHARED/net.sweep-1-2"
assert_dir "$RUN2"
ADMIN=$(as_user "$V" sed 's/^gitdir: //' "$RUN2/.git")

# The owner removes run 2's folder by hand; the other user plants one of theirs at its path.
as_user "$V" rm -rf "$RUN2"
as_user "$A" sh -c 'mkdir -m 777 "$1" && printf "gitdir: %s\n" "$2" >"$1/.git" && echo "planted weights" >"$1/weights.bin" &&
    printf "{\"loss\": -1000}\n" >"$1/metrics.json" && chmod 666 "$1/weights.bin" "$1/metrics.json"' sh "$RUN2" "$ADMIN"

# Status and the report do not take the planted metrics as the run's.
run_expect 0 as_user "$V" git -C repo model sweep status 1 --json
assert_not_contains "$OUT" "-1000" "sweep status shows the planted metrics"

# Promote of run 2 does not commit the planted file.
run_expect 1 as_user "$V" git -C "$SHARED/net" model sweep promote 1 --run 2 --no-push
assert_contains "$ERR" "run 2's worktree $RUN2 is no longer this repository's (another clone's worktree, or another user's folder"
run_expect 0 as_user "$V" git -C repo tag -l 'model/net/*'
assert_eq "$OUT" "" "no snapshot tagged from the planted metrics"
assert_eq "$(as_user "$V" git -C repo show feature/model-net:weights.bin 2>/dev/null || true)" "" "promote committed the planted weights"

# clean --branches --force: the planted file is not moved into the owner's shelf.
as_user "$V" git -C repo model sweep clean 1 --branches --force >"$TEST_DIR/clean.out" 2>&1 || true
OUT=$(cat "$TEST_DIR/clean.out")
SHELF="$VH/repo/.git/git-model/sweeps/1/runs/2.carried"
[ ! -e "$SHELF/weights.bin" ] || fail "the planted weights were shelved as run 2's: $(cat "$SHELF/weights.bin")"
assert_contains "$OUT" "run 1: its carried weights.bin is in $VH/repo/.git/git-model/sweeps/1/runs/1.carried"
assert_not_contains "$OUT" "run 2: its carried" "the planted file is not shelved"
[ ! -e "$RUN2/weights.bin" ] || assert_eq "$(cat "$RUN2/weights.bin")" "planted weights" "the other user's file is left"
# Run 1 (the owner's own worktree) is cleaned and its file shelved.
[ -f "$VH/repo/.git/git-model/sweeps/1/runs/1.carried/weights.bin" ] || fail "run 1's file was not shelved: $OUT"
