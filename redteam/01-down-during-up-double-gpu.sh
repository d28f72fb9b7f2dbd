#!/usr/bin/env bash
# Finding: `git model env down` run while an `env up` of the same model is still starting (its
# engine is slow: pulling an image) gives the "starting" lease back; the up then starts its
# container anyway, on that GPU, and another user's `env up` is handed the same GPU.
# Exit 1: two containers of two users run with the same CUDA_VISIBLE_DEVICES. Exit 0: they don't.
. "$(dirname "$0")/rt-lib.sh"
git model gpus init --dir "$BOOK" >/dev/null || setup_failed "gpus init"
V=gmred-$$-v W=gmred-$$-w
rt_user "$V" podman
rt_user "$W" podman
rt_repo "$V" m1
rt_repo "$W" w
# V's engine is slow to start a container (as when it pulls the image): 5 s before `podman run`.
slow="$(user_home "$V")/slow"
mkdir -p "$slow"
printf '#!/bin/sh\n[ "$1" = run ] && sleep 5\nexec /usr/bin/podman "$@"\n' >"$slow/podman"
chmod 755 "$slow/podman"
chown -R "$V:" "$slow"

RT_USER_PATH=$slow as_user "$V" git -C "$(wt "$V" m1)" model env up >"$RT_DIR/up.out" 2>&1 &
up=$!
RT_PIDS+=("$up")
for _ in $(seq 100); do compgen -G "$BOOK/*.lease" >/dev/null && break; sleep 0.1; done
compgen -G "$BOOK/*.lease" >/dev/null || setup_failed "V's up wrote no lease: $(cat "$RT_DIR/up.out")"
echo "--- V changes their mind while the up is starting: env down"
as_user "$V" git -C "$(wt "$V" m1)" model env down
echo "--- W: env up"
as_user "$W" git -C "$(wt "$W" w)" model env up | head -3
wait "$up"
echo "--- V's up (exit $?):"
cat "$RT_DIR/up.out"
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
[ -n "$dups" ] && reproduced "GPU $dups runs two users' containers: the down during the up freed a GPU the up then used"
held_up "no GPU runs two containers"
