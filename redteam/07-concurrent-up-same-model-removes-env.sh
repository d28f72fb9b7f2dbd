#!/usr/bin/env bash
# Finding: two `env up` of the same model at once (two terminals, a script and a person): both
# take a GPU, both ask podman to create the same container name; the loser's failure guard then
# removes the container *by name*, i.e. the winner's. The winner has printed "is up", but no
# environment runs (and its GPU lease is left behind).
# Exit 1: an up reported success but its container is gone. Exit 0: a reported success runs.
RT_POOL=0,1
. "$(dirname "$0")/rt-lib.sh"
git model gpus init --dir "$BOOK" >/dev/null || setup_failed "gpus init"
V=gmred-$$-v
rt_user "$V" podman
rt_repo "$V" m1
for attempt in 1 2 3; do
    for i in 1 2; do
        (as_user "$V" git -C "$(wt "$V" m1)" model env up >"$RT_DIR/up$i.out" 2>&1; echo $? >"$RT_DIR/up$i.rc") &
    done
    wait
    ok=0
    for i in 1 2; do
        echo "--- attempt $attempt, up $i: exit $(cat "$RT_DIR/up$i.rc")"
        head -2 "$RT_DIR/up$i.out"
        grep -q "is up: container" "$RT_DIR/up$i.out" && ok=1
    done
    running=$(as_user "$V" podman ps --format '{{.Names}}' | wc -l)
    echo "containers running: $running"
    if [ "$ok" = 1 ] && [ "$running" = 0 ]; then
        as_user "$V" git -C repo model gpus | head -4
        reproduced "an env up said the environment is up, but the concurrent one removed its container"
    fi
    as_user "$V" git -C "$(wt "$V" m1)" model env down >/dev/null 2>&1
done
held_up "every reported success left a running environment"
