#!/usr/bin/env bash
# Red team (issue 29): in a repository a team shares through a group (git init --shared=group,
# umask 002), the sweep's runs/ folder is made 0755 (not group-writable). One an earlier version
# made group-writable lets a teammate put a link named
# runs/<k>.carried pointing to a folder of theirs, or a folder of theirs by that name, before the
# owner's `sweep clean --branches`. The shelf must be the caller's own folder, reached with no
# link: otherwise the run's carried files would be moved into the teammate's folder, where they
# could be read or deleted. Such a run is kept with its files where they were.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/users-lib.sh"

V=gmr29c-$$ A=gmr29d-$$ G=gmr29g-$$
make_user "$V"
make_user "$A"
make_group "$G" "$V" "$A"
AH=$(user_home "$A")
TEAM="$TEST_DIR/team"
mkdir -m 2775 "$TEAM"
chgrp "$G" "$TEAM"
as002() { local who=$1; shift; as_user "$who" sh -c 'umask 002; exec "$@"' sh "$@"; }

as002 "$V" git init -q --shared=group "$TEAM/repo"
as002 "$V" sh -c 'cd "$1" && cat >train.sh <<SH
head -c 4096 /dev/urandom > weights.bin
printf "{\"loss\": %s}\n" "\$GIT_MODEL_PARAM_LR" > metrics.json
SH
git add -A && git commit -qm train' sh "$TEAM/repo"
as002 "$V" git -C "$TEAM/repo" config model.installHooks never
run_expect 0 as002 "$V" git -C "$TEAM/repo" model start net
WT=$(as_user "$V" git -C "$TEAM/repo" worktree list --porcelain | sed -n 's/^worktree //p' | grep 'model-net$')
run_expect 0 as002 "$V" git -C "$WT" model sweep start --no-container --gpus-per-run 0 --carry weights.bin \
    --grid lr=1,2,3 -- sh train.sh
for _ in $(seq 240); do
    states=$(as_user "$V" git -C "$TEAM/repo" model sweep status 1 --json | python3 -c 'import json,sys; print(" ".join(r["state"] for r in json.load(sys.stdin)["runs"]))')
    case " $states " in *" queued "* | *" running "*) sleep 0.25 ;; *) break ;; esac
done
assert_eq "$states" "done done done" "the runs finished"
RUNS="$TEAM/repo/.git/git-model/sweeps/1/runs"
for k in 1 2 3; do cp "$WT.sweep-1-$k/weights.bin" "$TEST_DIR/weights-$k"; done

# The sweep's records are its starter's alone, whatever the umask: the teammate can plant nothing there.
MODE=$(stat -c %a "$RUNS")
assert_eq "${MODE: -3}" "755" "the runs/ folder's mode under umask 002"
run_expect 1 as_user "$A" mkdir "$RUNS/2.carried"
# A sweep an earlier git-model made under umask 002 has a group-writable runs/ (made so here):
# the owner's commands still never shelve into what a teammate put there.
as_user "$V" chmod 2775 "$RUNS"
# The teammate plants a link to a folder of theirs as run 1's shelf, and a folder of theirs as run 2's.
run_expect 0 as_user "$A" sh -c 'mkdir -m 777 "$1/steal" "$3" && ln -s "$1/steal" "$2"' sh "$AH" "$RUNS/1.carried" "$RUNS/2.carried"

as002 "$V" git -C "$TEAM/repo" model sweep clean 1 --branches >"$TEST_DIR/clean.out" 2>&1 || true
OUT=$(cat "$TEST_DIR/clean.out")
[ ! -e "$AH/steal/weights.bin" ] || fail "run 1's weights were moved into the teammate's folder: $OUT"
[ ! -e "$RUNS/2.carried/weights.bin" ] || fail "run 2's weights were moved into the teammate's folder: $OUT"
for k in 1 2; do
    cmp -s "$WT.sweep-1-$k/weights.bin" "$TEST_DIR/weights-$k" || fail "run $k's weights are not kept in its worktree: $OUT"
    assert_contains "$OUT" "run $k: kept feature/model-net.sweep-1-$k: its carried file weights.bin could not be shelved"
done
# Run 3's own shelf is made as before.
cmp -s "$RUNS/3.carried/weights.bin" "$TEST_DIR/weights-3" || fail "run 3's weights were not shelved: $OUT"
MODE=$(stat -c %a "$RUNS/3.carried")
assert_eq "${MODE: -3}" "700" "run 3's shelf is the owner's only"
assert_eq "$(stat -c %U "$RUNS/3.carried")" "$V" "run 3's shelf is the owner's"

# The teammate swaps run 3's shelf (theirs to rename in the group-writable runs/) for a link to a
# folder of theirs: promote of run 3 does not take their file as the run's.
run_expect 0 as_user "$A" sh -c 'mv "$2" "$2.moved" && mkdir -m 755 "$1/fake" && echo "teammate weights" >"$1/fake/weights.bin" &&
    ln -s "$1/fake" "$2"' sh "$AH" "$RUNS/3.carried"
run_expect 1 as002 "$V" git -C "$WT" model sweep promote 1 --run 3 --no-push
assert_contains "$ERR" "run 3 has no file weights.bin to carry"
assert_eq "$(as_user "$V" git -C "$TEAM/repo" show feature/model-net:weights.bin 2>/dev/null || true)" "" "the teammate's weights promoted"
run_expect 0 as002 "$V" git -C "$TEAM/repo" model sweep status 1
assert_not_contains "$OUT" "run 3: carried" "status names the teammate's folder as run 3's shelf"
