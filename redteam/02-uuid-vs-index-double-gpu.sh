#!/usr/bin/env bash
# Finding: with an NVIDIA driver loaded, leases name GPUs by UUID; a user whose nvidia-smi fails
# (e.g. "Driver/library version mismatch" after a driver upgrade, a 15 s timeout under load, or
# no nvidia-smi on their PATH) and who has model.gpus set falls back to "index-<n>" identities,
# which never collide with the UUID leases: the same GPU is handed to two users at once.
# A driver is faked in a private mount namespace (/proc/driver/nvidia/version, a tmpfs there)
# and nvidia-smi is a script on each user's PATH ("a mock stands only for a GPU").
# Exit 1: two users' runs hold GPU 0 at the same time. Exit 0: the second waits or is refused.
[ -n "${RT_IN_NS:-}" ] || RT_IN_NS=1 exec unshare -m --propagation private bash "$0" "$@"
mount -t tmpfs tmpfs /proc/driver && mkdir /proc/driver/nvidia &&
    echo "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.00 (fake)" >/proc/driver/nvidia/version || {
    echo "SETUP FAILED: cannot fake /proc/driver/nvidia in a mount namespace"; exit 2; }
. "$(dirname "$0")/rt-lib.sh"
git model gpus init --dir "$BOOK" >/dev/null || setup_failed "gpus init"
A=gmred-$$-a B=gmred-$$-b
rt_user "$A"
rt_user "$B"
rt_repo "$A" a
rt_repo "$B" b   # model.gpus 0, as the docs suggest where no driver lists the GPUs
mkdir -m 1777 "$RT_DIR/out"
for u in "$A" "$B"; do mkdir -p "$(user_home "$u")/bin"; done
printf '#!/bin/sh\necho "GPU 0: NVIDIA H200 (UUID: GPU-11111111-2222-3333-4444-555555555555)"\n' >"$(user_home "$A")/bin/nvidia-smi"
printf '#!/bin/sh\necho "Failed to initialize NVML: Driver/library version mismatch"\nexit 18\n' >"$(user_home "$B")/bin/nvidia-smi"
for u in "$A" "$B"; do chmod 755 "$(user_home "$u")/bin/nvidia-smi"; chown -R "$u:" "$(user_home "$u")/bin"; done
cmd='echo "$CUDA_VISIBLE_DEVICES" >"$0/$(id -un)"; sleep 30'
RT_USER_PATH="$(user_home "$A")/bin" as_user "$A" git -C "$(wt "$A" a)" model sweep start --no-container \
    --gpus-per-run 1 --grid x=1 -- sh -c "$cmd" "$RT_DIR/out" >/dev/null || setup_failed "A's sweep"
for _ in $(seq 100); do [ -s "$RT_DIR/out/$A" ] && break; sleep 0.1; done
[ -s "$RT_DIR/out/$A" ] || setup_failed "A's run never started"
RT_USER_PATH="$(user_home "$B")/bin" as_user "$B" git -C "$(wt "$B" b)" model sweep start --no-container \
    --gpus-per-run 1 --grid x=1 -- sh -c "$cmd" "$RT_DIR/out" || held_up "B's sweep was refused"
for _ in $(seq 50); do [ -s "$RT_DIR/out/$B" ] && break; sleep 0.1; done
echo "A's run sees CUDA_VISIBLE_DEVICES=$(cat "$RT_DIR/out/$A")"
echo "B's run sees CUDA_VISIBLE_DEVICES=$(cat "$RT_DIR/out/$B" 2>/dev/null || echo '(not started)')"
RT_USER_PATH="$(user_home "$A")/bin" as_user "$A" git -C repo model gpus
if [ -s "$RT_DIR/out/$B" ] && [ "$(cat "$RT_DIR/out/$B")" = 0 ] &&
    [ "$(cat "$RT_DIR/out/$A")" = GPU-11111111-2222-3333-4444-555555555555 ]; then
    reproduced "GPU 0 runs A's run (by UUID) and B's run (by index) at once"
fi
held_up "B's run did not get GPU 0 while A's held it"
