#!/usr/bin/env bash
# Finding: a sweep run in a container whose `podman run` client process dies (kill -9, the OOM
# killer) is marked failed and its GPU lease given back at once, while its container keeps
# running on the GPU; the next take (here another user's `env up`) is handed the same GPU.
# Exit 1: the orphaned run container and the other user's container share a GPU. Exit 0: not.
. "$(dirname "$0")/rt-lib.sh"
git model gpus init --dir "$BOOK" >/dev/null || setup_failed "gpus init"
V=gmred-$$-v W=gmred-$$-w
rt_user "$V" podman
rt_user "$W" podman
rt_repo "$V" s
rt_repo "$W" w
as_user "$V" git -C "$(wt "$V" s)" model sweep start --gpus-per-run 1 --grid x=1 -- sleep 120 || setup_failed "sweep start"
run=""
for _ in $(seq 150); do
    run=$(as_user "$V" podman ps --filter label=io.git-model.sweep --format '{{.Names}}')
    [ -n "$run" ] && break
    sleep 0.2
done
[ -n "$run" ] || setup_failed "the sweep's run container never ran"
client=$(pgrep -u "$(id -u "$V")" -f "podman run --rm --name $run" | head -1)
[ -n "$client" ] || setup_failed "no podman client for $run"
echo "--- killing the run's podman client (pid $client); its container $run is left running"
kill -9 "$client"
sleep 3
as_user "$V" git -C "$(wt "$V" s)" model sweep status 1 | sed -n 1,2p
echo "--- W: env up"
as_user "$W" git -C "$(wt "$W" w)" model env up | head -3
seen=""
for u in "$V" "$W"; do
    for c in $(as_user "$u" podman ps --format '{{.Names}}'); do
        gpu=$(as_user "$u" podman exec "$c" sh -c 'echo $CUDA_VISIBLE_DEVICES')
        echo "$u $c: CUDA_VISIBLE_DEVICES=$gpu"
        seen+="$gpu"$'\n'
    done
done
dups=$(printf '%s' "$seen" | grep -v '^$' | sort | uniq -d)
[ -n "$dups" ] && reproduced "GPU $dups: the sweep run's container still runs on it, and it was handed to $W"
held_up "no GPU runs two containers"
