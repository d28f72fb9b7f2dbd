#!/usr/bin/env bash
# Finding: `env up` killed with -9 while its engine starts the container (slow: pulling an
# image) leaves a "starting" lease whose holder is dead; its `podman run` child lives on. The
# owner's next `env status` (or take) judges the lease gone because the container does not exist
# *yet* and removes it; another user takes the GPU; then the orphaned `podman run` starts the
# first container on the same GPU, with no lease at all.
# Exit 1: two users' containers share a GPU. Exit 0: they don't.
. "$(dirname "$0")/rt-lib.sh"
git model gpus init --dir "$BOOK" >/dev/null || setup_failed "gpus init"
V=gmred-$$-v W=gmred-$$-w
rt_user "$V" podman
rt_user "$W" podman
rt_repo "$V" m1
rt_repo "$W" w
slow="$(user_home "$V")/slow"
mkdir -p "$slow"
printf '#!/bin/sh\n[ "$1" = run ] && sleep 6\nexec /usr/bin/podman "$@"\n' >"$slow/podman"
chmod 755 "$slow/podman"
chown -R "$V:" "$slow"

RT_USER_PATH=$slow as_user "$V" git -C "$(wt "$V" m1)" model env up >"$RT_DIR/up.out" 2>&1 &
RT_PIDS+=("$!")
lease=""
for _ in $(seq 100); do lease=$(compgen -G "$BOOK/*.lease" | head -1) && [ -n "$lease" ] && break; sleep 0.1; done
[ -n "$lease" ] || setup_failed "V's up wrote no lease"
holder=$(pgrep -u "$(id -u "$V")" -x git-model-env | head -1)
[ -n "$holder" ] || setup_failed "no git-model-env process of V's up"
echo "--- kill -9 of V's env up (pid $holder, $(ps -o comm= -p "$holder")) while its podman run is starting"
kill -9 "$holder"
sleep 0.5
echo "--- V: env status"
as_user "$V" git -C repo model env status
echo "--- W: env up"
as_user "$W" git -C "$(wt "$W" w)" model env up | head -3
sleep 8   # the orphaned podman run finishes
seen=""
for u in "$V" "$W"; do
    for c in $(as_user "$u" podman ps --format '{{.Names}}'); do
        gpu=$(as_user "$u" podman exec "$c" sh -c 'echo $CUDA_VISIBLE_DEVICES')
        echo "$u $c: CUDA_VISIBLE_DEVICES=$gpu"
        seen+="$gpu"$'\n'
    done
done
echo "--- the book:"; ls "$BOOK"
dups=$(printf '%s' "$seen" | grep -v '^$' | sort | uniq -d)
[ -n "$dups" ] && reproduced "GPU $dups runs two users' containers after a killed env up"
held_up "no GPU runs two containers"
