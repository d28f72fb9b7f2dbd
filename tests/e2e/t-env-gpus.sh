#!/usr/bin/env bash
# GPUs are leased exclusively from the machine's pool: never two environments
# on one GPU, across worktrees and repositories, even with eight `env up` at the
# same moment; a container removed behind the suite's back gives its GPU back.
# (No GPU here: the pool is configured with model.gpus, and CUDA_VISIBLE_DEVICES
# inside each container shows which GPU it got.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
git -C repo config model.gpus 0,1
git -C repo config model.env.stopTimeout 1s
write_modelenv repo "gpus: 1"
for m in a b c; do run_expect 0 git -C repo model start "$m"; done
wt() { echo "$TEST_DIR/worktrees/feature/model-$1"; }
visible() { git -C "$(wt "$1")" model env exec -- sh -c 'echo "$CUDA_VISIBLE_DEVICES/$NVIDIA_VISIBLE_DEVICES"'; }

# --- two worktrees up at once with a pool of two: distinct GPUs, seen inside -------------------------
run_expect 0 git -C "$(wt a)" model env up
assert_contains "$OUT" "gpus         0"
run_expect 0 git -C "$(wt b)" model env up
assert_contains "$OUT" "gpus         1"
assert_eq "$(visible a)" "0/0" "GPU of a inside its container"
assert_eq "$(visible b)" "1/1" "GPU of b inside its container"

# --- a third is refused, naming who holds each GPU; nothing is left behind ----------------------------
run_expect 1 git -C "$(wt c)" model env up
assert_contains "$ERR" "no GPU free for model 'c'"
assert_contains "$ERR" "GPU 0 (index-0) is held by model 'a'"
assert_contains "$ERR" "GPU 1 (index-1) is held by model 'b'"
assert_contains "$ERR" "--wait"
assert_eq "$(test_containers | wc -l)" "2" "refused up started nothing"

# --- ... and accepted after a down, on the freed GPU ---------------------------------------------------
run_expect 0 git -C "$(wt a)" model env down
run_expect 0 git -C "$(wt c)" model env up
assert_eq "$(visible c)" "0/0" "c gets the freed GPU"

# --- --wait waits until a GPU frees ---------------------------------------------------------------------
(sleep 3; git -C "$(wt b)" model env down >/dev/null 2>&1) &
run_expect 0 git -C "$(wt a)" model env up --wait=60s
assert_contains "$ERR" "waiting for a free GPU"
assert_eq "$(visible a)" "1/1" "a got b's GPU after waiting"
wait
run_expect 1 git -C "$(wt b)" model env up --wait=2s
assert_contains "$ERR" "gave up waiting"
# Ctrl-C while it waits ends the wait at once (not once a GPU frees), leaving nothing
(cd "$(wt b)" && setsid env --default-signal=INT bash -c 'echo $$ >"$0/pgid"; exec git model env up --wait' "$TEST_DIR" \
    >"$TEST_DIR/wait.out" 2>&1) &
waiter=$!
for _ in $(seq 100); do grep -q "waiting for a free GPU" "$TEST_DIR/wait.out" 2>/dev/null && break; sleep 0.1; done
assert_contains "$(cat "$TEST_DIR/wait.out")" "waiting for a free GPU"
kill -INT -- "-$(cat "$TEST_DIR/pgid")"
rc=0
for _ in $(seq 30); do kill -0 "$waiter" 2>/dev/null || break; sleep 0.1; done
kill -0 "$waiter" 2>/dev/null && { kill -KILL -- "-$(cat "$TEST_DIR/pgid")"; fail "Ctrl-C did not end the wait for a GPU within 3 s"; }
wait "$waiter" || rc=$?
assert_eq "$rc" "130" "Ctrl-C ends the wait by SIGINT"
assert_contains "$(cat "$TEST_DIR/wait.out")" "interrupted (signal 2): the start was undone, no container or GPU is kept"
assert_eq "$(ls "$GIT_MODEL_LEASE_DIR" | grep -c lease || true)" "2" "only a's and c's leases"
run_expect 0 git -C "$(wt a)" model env down
run_expect 0 git -C "$(wt c)" model env down
assert_eq "$(test_containers)" "" "all down"
assert_eq "$(ls "$GIT_MODEL_LEASE_DIR" | grep -c lease || true)" "0" "no lease left"

# --- a container killed behind the suite's back gives its GPU back ---------------------------------------
run_expect 0 git -C "$(wt a)" model env up
run_expect 0 git -C "$(wt b)" model env up
podman rm -f -t 0 "$(test_containers | grep -- '-a-')" >/dev/null
run_expect 0 git -C "$(wt c)" model env up
assert_contains "$ERR" "whose container is gone: released"
assert_eq "$(visible c)" "0/0" "c gets the GPU of the removed container"
# status heals too: kill b, and status alone gives its GPU back
podman rm -f -t 0 "$(test_containers | grep -- '-b-')" >/dev/null
run_expect 0 git -C repo model env status
assert_eq "$(ls "$GIT_MODEL_LEASE_DIR" | grep -c lease)" "1" "status released the dead container's lease"
run_expect 0 git -C "$(wt c)" model env down

# --- --recreate that could not start the new one leaves the running one as it is -------------------------
run_expect 0 git -C "$(wt a)" model env up
run_expect 0 git -C "$(wt b)" model env up
name_a=$(test_containers | grep -- '-a-')
id_a=$(podman inspect -f '{{.Id}}' "$name_a")
printf 'image: %s\ngpus: 2\n' "$TEST_IMAGE" >"$(wt a)/.modelenv.yaml"     # b holds the other GPU
run_expect 1 git -C "$(wt a)" model env up --recreate
assert_contains "$ERR" "no GPU free for model 'a':"
assert_contains "$ERR" "--recreate left the running environment of 'a' as it was"
assert_not_contains "$ERR" "removed"
assert_eq "$(podman inspect -f '{{.Id}} {{.State.Status}}' "$name_a")" "$id_a running" "GPUs: a still runs, the same container"
assert_eq "$(ls "$GIT_MODEL_LEASE_DIR" | grep -c lease)" "2" "a and b keep their GPUs"
printf 'image: %s\ngpus: 1\nmounts:\n  - {source: %s/no-data, target: /data}\n' "$TEST_IMAGE" "$TEST_DIR" >"$(wt a)/.modelenv.yaml"
run_expect 1 git -C "$(wt a)" model env up --recreate
assert_contains "$ERR" "$TEST_DIR/no-data does not exist"
assert_eq "$(podman inspect -f '{{.Id}} {{.State.Status}}' "$name_a")" "$id_a running" "a mount: a still runs, the same container"
run_expect 0 git -C "$(wt b)" model env down
printf 'image: %s\ngpus: 2\n' "$TEST_IMAGE" >"$(wt a)/.modelenv.yaml"     # both GPUs free now, but root's limit is 1
run_expect 0 git -C repo model gpus init --max-gpus-per-user 1
run_expect 1 git -C "$(wt a)" model env up --recreate
assert_contains "$ERR" "this machine allows 1 GPU per user (model.maxGpusPerUser, set by root in"
assert_contains "$ERR" "you hold 0 besides the container --recreate replaces and model 'a' asks for 2 more"
assert_contains "$ERR" "--recreate left the running environment of 'a' as it was"
assert_eq "$(podman inspect -f '{{.Id}} {{.State.Status}}' "$name_a")" "$id_a running" "the limit: a still runs, the same container"
rm "$GIT_MODEL_LEASE_DIR/config"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(); time.sleep(60)" &
listener=$!
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break; sleep 0.1; done
printf 'image: %s\ngpus: 1\nports:\n  web: "%s:8080"\n' "$TEST_IMAGE" "$port" >"$(wt a)/.modelenv.yaml"
run_expect 1 git -C "$(wt a)" model env up --recreate
assert_contains "$ERR" "--recreate: host port $port (web) that .modelenv.yaml fixes is taken; the environment of 'a' was left as it is"
assert_eq "$(podman inspect -f '{{.Id}} {{.State.Status}}' "$name_a")" "$id_a running" "a taken port: a still runs, the same container"
kill "$listener"; wait "$listener" 2>/dev/null || true
git -C "$(wt a)" checkout -q -- .modelenv.yaml
run_expect 0 git -C "$(wt a)" model env up --recreate                   # the file as committed: replaced
assert_contains "$ERR$OUT" "removed the running container"
[ "$(podman inspect -f '{{.Id}}' "$name_a")" != "$id_a" ] || fail "--recreate kept the old container"
run_expect 0 git -C "$(wt a)" model env down

# --- a refused --recreate leaves the running container's SSH keys as they were ---------------------------
echo "ssh-ed25519 AAAAOLDKEY old@example" >"$TEST_DIR/old.pub"
echo "ssh-ed25519 AAAANEWKEY new@example" >"$TEST_DIR/new.pub"
git -C repo config model.sshAuthorizedKeys "$TEST_DIR/old.pub"
printf 'image: %s\ngpus: 1\nports:\n  ssh: 22\ncommand: ["httpd", "-f", "-p", "22"]\n' "$TEST_IMAGE" >"$(wt a)/.modelenv.yaml"
run_expect 0 git -C "$(wt a)" model env up
run_expect 0 git -C "$(wt b)" model env up
keys_of_a() { podman exec "$(test_containers | grep -- '-a-')" sh -c 'cat /etc/ssh/git-model/authorized_keys /root/.ssh/authorized_keys 2>/dev/null'; }
assert_contains "$(keys_of_a)" "AAAAOLDKEY" "the running container's key"
git -C repo config model.sshAuthorizedKeys "$TEST_DIR/new.pub"
sed -i 's/^gpus: .*/gpus: 2/' "$(wt a)/.modelenv.yaml"
run_expect 1 git -C "$(wt a)" model env up --recreate
assert_contains "$ERR" "--recreate left the running environment of 'a' as it was"
assert_not_contains "$(keys_of_a)" "AAAANEWKEY" "a refused --recreate wrote no key into the running container"
git -C "$(wt a)" checkout -q -- .modelenv.yaml
git -C repo config --unset model.sshAuthorizedKeys
run_expect 0 git -C "$(wt a)" model env down
run_expect 0 git -C "$(wt b)" model env down

# --- --recreate hands its GPUs to the new container: a teammate's start during the old one's stop gets none --
# The old container stops for up to model.env.stopTimeout (its workload ignores SIGTERM): b's start lands in
# that window. a's GPU, and the second one its file now asks for, are taken before the old one goes.
git -C repo config model.env.stopTimeout 4s
printf 'image: %s\ngpus: 1\ncommand: ["sh", "-c", "trap \\"\\" TERM; while :; do sleep 1; done"]\n' "$TEST_IMAGE" \
    >"$(wt a)/.modelenv.yaml"
run_expect 0 git -C "$(wt a)" model env up
sed -i 's/^gpus: .*/gpus: 2/' "$(wt a)/.modelenv.yaml"
(rc=0; git -C "$(wt a)" model env up --recreate >"$TEST_DIR/recreate.out" 2>&1 || rc=$?; echo $rc >"$TEST_DIR/recreate.rc") &
recreator=$!
name_a=$(test_containers | grep -- '-a-')
for _ in $(seq 100); do [ "$(podman inspect -f '{{.State.Status}}' "$name_a" 2>/dev/null)" = stopping ] && break; sleep 0.05; done
assert_eq "$(podman inspect -f '{{.State.Status}}' "$name_a")" "stopping" "the old container of a is being stopped"
run_expect 1 git -C "$(wt b)" model env up
assert_contains "$ERR" "no GPU free for model 'b'"
run_expect 0 git -C repo model gpus
assert_eq "$(grep -c 'passes to the new container once the old one is gone' <<<"$OUT")" "1" \
    "gpus: the GPU in hand-over is marked once, on the new start's row: $OUT"
wait "$recreator"
assert_eq "$(cat "$TEST_DIR/recreate.rc")" "0" "--recreate with a teammate's start during the stop: $(cat "$TEST_DIR/recreate.out")"
assert_eq "$(visible a)" "0,1/0,1" "the new container of a has both GPUs"
assert_eq "$(ls "$GIT_MODEL_LEASE_DIR" | grep -c lease)" "2" "the old container's lease went with it"
run_expect 0 git -C "$(wt a)" model env down
sed -i 's/^gpus: .*/gpus: 1/' "$(wt a)/.modelenv.yaml"

# --- root's per-user limit counts GPUs, not leases: the GPU passing to a's new container counts once ------------
run_expect 0 git -C repo model gpus init --max-gpus-per-user 2
run_expect 0 git -C "$(wt a)" model env up
name_a=$(test_containers | grep -- '-a-')
(rc=0; git -C "$(wt a)" model env up --recreate >"$TEST_DIR/recreate.out" 2>&1 || rc=$?; echo $rc >"$TEST_DIR/recreate.rc") &
recreator=$!
for _ in $(seq 100); do [ "$(podman inspect -f '{{.State.Status}}' "$name_a" 2>/dev/null)" = stopping ] && break; sleep 0.05; done
run_expect 0 git -C "$(wt b)" model env up       # a holds GPU 0 twice (old and new), and b asks for 1 of 2
assert_eq "$(visible b)" "1/1" "b gets the other GPU within the limit of 2"
wait "$recreator"
assert_eq "$(cat "$TEST_DIR/recreate.rc")" "0" "the recreate: $(cat "$TEST_DIR/recreate.out")"
assert_eq "$(visible a)" "0/0" "a's new container has its GPU"
run_expect 0 git -C "$(wt b)" model env down
rm "$GIT_MODEL_LEASE_DIR/config"

# --- a --recreate killed outright (kill -9, an OOM kill) during the old one's stop leaves no GPU leased to
# nothing: its new leases name a container its start never made (the old one lacks the start's label)
name_a=$(test_containers | grep -- '-a-')
sed -i 's/^gpus: .*/gpus: 2/' "$(wt a)/.modelenv.yaml"
(git -C "$(wt a)" model env up --recreate >"$TEST_DIR/killed.out" 2>&1 || true) &
killed=$!
for _ in $(seq 100); do [ "$(podman inspect -f '{{.State.Status}}' "$name_a" 2>/dev/null)" = stopping ] && break; sleep 0.05; done
assert_eq "$(ls "$GIT_MODEL_LEASE_DIR" | grep -c lease)" "3" "the old lease and the two new ones"
for pid in $(pgrep -x git-model-env); do      # this test's only: ctest runs others beside it
    [ "$(readlink "/proc/$pid/cwd")" = "$(wt a)" ] && kill -KILL "$pid"
done
wait "$killed" || true
for _ in $(seq 100); do [ "$(podman inspect -f '{{.State.Status}}' "$name_a")" != stopping ] && break; sleep 0.1; done
run_expect 0 git -C "$(wt b)" model env up
assert_contains "$ERR$OUT" "released"
assert_eq "$(visible b)" "1/1" "b gets the GPU the killed recreate had taken"
assert_eq "$(ls "$GIT_MODEL_LEASE_DIR" | grep -c lease)" "2" "a's old container keeps GPU 0, b holds GPU 1"
run_expect 0 git -C "$(wt a)" model env down
run_expect 0 git -C "$(wt b)" model env down
git -C "$(wt a)" checkout -q -- .modelenv.yaml
git -C repo config model.env.stopTimeout 1s

# --- a --recreate whose engine stops the old container but cannot remove it says what that container is now --
mkdir -p "$TEST_DIR/badrm"
printf '#!/bin/sh\n[ "$1" = rm ] && { echo "Error: simulated: rm failed" >&2; exit 125; }\nexec %s "$@"\n' \
    "$(command -v podman)" >"$TEST_DIR/badrm/podman"
chmod +x "$TEST_DIR/badrm/podman"
run_expect 0 git -C "$(wt a)" model env up
name_a=$(test_containers | grep -- '-a-')
run_expect 1 env PATH="$TEST_DIR/badrm:$PATH" git -C "$(wt a)" model env up --recreate
assert_contains "$ERR" "cannot remove container $name_a"
assert_contains "$ERR" "--recreate could not remove the running container $name_a, which is exited now"
assert_not_contains "$ERR" "as it was"
assert_eq "$(ls "$GIT_MODEL_LEASE_DIR" | grep -c lease)" "1" "the old container keeps its lease, the new one is given back"
run_expect 0 git -C "$(wt a)" model env down

# --- across repositories: one pool per machine -------------------------------------------------------------
make_repo other
git -C other config model.installHooks never
git -C other config model.gpus 0,1
git -C other config model.worktreeRoot ../other-worktrees
write_modelenv other "gpus: 2"
run_expect 0 git -C other model start big
run_expect 0 git -C "$(wt a)" model env up
run_expect 1 git -C "$TEST_DIR/other-worktrees/feature/model-big" model env up
assert_contains "$ERR" "held by model 'a' of $TEST_DIR/repo/.git"
run_expect 0 git -C "$(wt a)" model env down
run_expect 0 git -C "$TEST_DIR/other-worktrees/feature/model-big" model env up
assert_eq "$(git -C "$TEST_DIR/other-worktrees/feature/model-big" model env exec -- sh -c 'echo $CUDA_VISIBLE_DEVICES')" "0,1" "both GPUs"
run_expect 0 git -C "$TEST_DIR/other-worktrees/feature/model-big" model env down

# --- eight concurrent ups on a pool of two: exactly two win, never a shared GPU, nothing leaks ---------------
for i in 1 2 3 4 5 6 7 8; do run_expect 0 git -C repo model start "race$i"; done
for i in 1 2 3 4 5 6 7 8; do
    (rc=0; git -C "$(wt "race$i")" model env up >"$TEST_DIR/race$i.out" 2>&1 || rc=$?; echo $rc >"$TEST_DIR/race$i.rc") &
done
wait
winners=0
for i in 1 2 3 4 5 6 7 8; do
    rc=$(cat "$TEST_DIR/race$i.rc")
    if [ "$rc" = 0 ]; then
        winners=$((winners + 1))
    else
        assert_eq "$rc" "1" "loser race$i exit code"
        assert_contains "$(cat "$TEST_DIR/race$i.out")" "no GPU free" "loser race$i message"
    fi
done
assert_eq "$winners" "2" "two winners"
assert_eq "$(test_containers | wc -l)" "2" "exactly two containers"
gpus=$(for c in $(test_containers); do podman exec "$c" sh -c 'echo $CUDA_VISIBLE_DEVICES'; done | sort | tr '\n' ' ')
assert_eq "$gpus" "0 1 " "the two winners hold distinct GPUs"
assert_eq "$(ls "$GIT_MODEL_LEASE_DIR" | grep -c lease)" "2" "two leases"

# --- no GPU pool at all: a clear error, exit 3 ---------------------------------------------------------------
for i in 1 2 3 4 5 6 7 8; do git -C "$(wt "race$i")" model env down >/dev/null; done
git -C repo config --unset model.gpus
run_expect 3 git -C "$(wt a)" model env up
assert_contains "$ERR" "no GPU pool"
assert_eq "$(test_containers)" "" "nothing started without a pool"
