#!/usr/bin/env bash
# `git model env up` killed outright (SIGKILL of its whole process group: an OOM kill, a CI job
# cancelled) while podman creates the container. podman runs in a group of its own and is not
# killed with it: it finishes, so what is left is a whole container that `env status` shows,
# that holds its GPU lease, and that `env down` removes with its network (no DNAT rule left
# behind to send the model's port to a dead address); a new `env up` while that client works is
# refused, naming it. A container that only podman's storage
# knows (what podman itself killed mid-create leaves; `podman ps -a` does not show it) no
# longer blocks every later `env up` with "name already in use": up removes it and says so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

cd "$TEST_DIR"
start_env_model alpha "gpus: 0" "ports:" "  jupyter: 8888"
wt=$WT
# The port forwarding rules of one container (CNI's portmap names the container's id in each):
# never counted across the machine, where other tests' containers come and go meanwhile.
dnat_rules() { iptables -t nat -S 2>/dev/null | grep 'dnat name' | grep -c -- "$1" || true; }

# A slow podman (a wrapper script, as some sites have), so that the kill surely lands while
# `podman run` works.
mkdir -p slow
cat >slow/podman <<SH
#!/bin/sh
if [ "\$1" = run ]; then : >"$TEST_DIR/running"; sleep 2; fi
exec /usr/bin/podman "\$@"
SH
chmod +x slow/podman
(cd "$wt" && PATH="$TEST_DIR/slow:$PATH" exec setsid git model env up >"$TEST_DIR/up.out" 2>&1) &
up=$!
for _ in $(seq 100); do [ -e running ] && break; sleep 0.05; done
[ -e running ] || fail "podman run was never called: $(cat up.out)"
kill -KILL -- "-$up"
wait "$up" || true
# A new start now would race the client the killed one left: refused, naming it.
run_expect 1 git -C "$wt" model env up
assert_contains "$ERR" "is still being made by podman (process"
assert_contains "$ERR" "which an earlier \`env up\` of this model started and left when it was killed"
for _ in $(seq 100); do [ -n "$(test_containers)" ] && break; sleep 0.1; done
name=$(test_containers)
[ -n "$name" ] || fail "podman, left alone, did not finish the container"
assert_eq "$(podman inspect -f '{{.State.Status}}' "$name")" "running" "the container podman finished runs"
run_expect 0 git -C "$wt" model env status
assert_contains "$OUT" "$name"
assert_contains "$OUT" "running"
id=$(podman inspect -f '{{.Id}}' "$name")
run_expect 0 git -C "$wt" model env down
assert_contains "$OUT" "$name removed"
assert_eq "$(test_containers)" "" "down removed the container the killed up left"
assert_eq "$(dnat_rules "$id")" "0" "no port forwarding of the removed container is left"
run_expect 0 git -C "$wt" model env up
run_expect 0 git -C "$wt" model env down
# A client in the foreground with the name (a sweep run's shape: --rm, not --detach) is no killed
# start's: not refused for that.
podman run --rm --name "$name" "$TEST_IMAGE" sleep 30 >/dev/null 2>&1 &
fg=$!
for _ in $(seq 100); do podman container exists "$name" && break; sleep 0.1; done
git -C "$wt" model env up >/dev/null 2>up.err || true
assert_not_contains "$(cat up.err)" "still being made"
podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
wait "$fg" 2>/dev/null || true
git -C "$wt" model env down >/dev/null 2>&1 || true

# podman itself killed while it creates the container (not git-model's doing, but it happens):
# tried until it leaves a storage-only container of the model's name. Without a network (a
# killed podman leaves its network namespace and firewall rules behind), and what else podman
# leaves (a conmon and `runc init` waiting for a start that never comes) is ended at the exit.
image=$TEST_IMAGE
left=""
end_podman_leftovers() {  # the conmon processes of containers named $name, and their children
    local monitor
    for monitor in $(pgrep -f -- "conmon .* -n $name " || true); do
        pkill -KILL -P "$monitor" 2>/dev/null || true
        kill -KILL "$monitor" 2>/dev/null || true
    done
}
# The containers podman makes here carry no git-model labels, so podman_cleanup does not see them:
# the test's own name goes too (a killed `podman run` can leave one "stopping" that a try's rm missed).
trap 'rc=$?; end_podman_leftovers; podman rm -f -t 0 "$name" >/dev/null 2>&1; podman_cleanup; on_exit $rc' EXIT
for try in $(seq 60); do
    delay=$(awk -v t="$try" 'BEGIN { printf "%.3f", 0.02 + (t % 12) * 0.02 }')
    podman run -d --network none --name "$name" "$image" sleep 600 >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if podman ps -a --external --format '{{.Names}} {{.Status}}' | grep -q "^$name Storage"; then left=yes; break; fi
    podman rm -f "$name" >/dev/null 2>&1 || true
done
if [ -z "$left" ]; then
    echo "t-env-up-killed: podman never left a storage-only container in 60 kills; that half not checked" >&2
    exit 0
fi
run_expect 0 git -C "$wt" model env up
assert_contains "$ERR" "removed what a killed start left of $name in podman's storage"
assert_eq "$(podman inspect -f '{{.State.Status}}' "$name")" "running" "the start after the leftover's removal runs"
run_expect 0 git -C "$wt" model env down
assert_eq "$(podman ps -a --external --format '{{.Names}}' | grep -c "^$name\$" || true)" "0" "nothing of the container is left"
