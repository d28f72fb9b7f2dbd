#!/usr/bin/env bash
# Red team (issue 29): a sweep whose .modelenv.yaml names a relative persist folder (logs: logs)
# writes its runs' logs (and checkpoints) below the model's worktree. In a shared
# model.worktreeRoot, once that folder is gone another user can put one of theirs at its path
# (a .git file pointing back) with the run's log planted as a link to a file of the owner's:
# `sweep extend` (and resume, and retries) ran the new run and appended its log through the
# link, as the owner, and its checkpoints went into the other user's folder. Such a model
# worktree is refused before any run starts, naming its owner; the owner's file is untouched.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/users-lib.sh"

V=gmr29e-$$ A=gmr29f-$$
make_user "$V"
make_user "$A"
VH=$(user_home "$V")
SHARED="$TEST_DIR/shared"
mkdir -m 1777 "$SHARED"

as_user "$V" git init -q repo
as_user "$V" sh -c 'printf "image: localhost/gm-red29-logs:1\npersist:\n  logs: logs\n" >repo/.modelenv.yaml &&
    git -C repo add -A && git -C repo commit -qm env && echo "precious" >precious && chmod 600 precious'
as_user "$V" git -C repo config model.installHooks never
as_user "$V" git -C repo config model.worktreeRoot "$SHARED"
as_user "$V" git -C repo config model.worktreePath '{model}'
run_expect 0 as_user "$V" git -C repo model start net
run_expect 0 as_user "$V" git -C repo model sweep start net --no-container --gpus-per-run 0 --grid lr=1 -- true
wait_done() {
    for _ in $(seq 240); do
        states=$(as_user "$V" git -C repo model sweep status 1 --json | python3 -c 'import json,sys; print(" ".join(r["state"] for r in json.load(sys.stdin)["runs"]))')
        case " $states " in *" queued "* | *" running "*) sleep 0.25 ;; *) return 0 ;; esac
    done
}
wait_done
assert_eq "$states" "done" "run 1 finished"
[ -f "$SHARED/net/logs/sweep-1/run-1.log" ] || fail "the test's premise: the run's log is below the model's worktree"

# The owner removes the model's worktree folder; the other user plants one with run 2's log a link.
as_user "$V" rm -rf "$SHARED/net"
as_user "$A" sh -c 'mkdir -p "$1/logs/sweep-1" && chmod -R 777 "$1" && printf "gitdir: %s\n" "$2" >"$1/.git" &&
    ln -s "$3/precious" "$1/logs/sweep-1/run-2.log"' sh "$SHARED/net" "$VH/repo/.git/worktrees/net" "$VH"

as_user "$V" git -C repo model sweep extend 1 --grid lr=2 >"$TEST_DIR/extend.out" 2>&1 || true
wait_done
OUT=$(cat "$TEST_DIR/extend.out")
assert_eq "$(cat "$VH/precious")" "precious" "the owner's file written through the planted log link"
run_expect 0 as_user "$V" git -C repo model sweep status 1
assert_contains "$OUT" "lies in the model's worktree $SHARED/net, which belongs to $A"
assert_eq "$(ls "$SHARED/net/logs/sweep-1")" "run-2.log" "nothing written into the planted folder"
