#!/usr/bin/env bash
# Red team (issue 17): `git model env up` interrupted while the engine starts the environment,
# by Ctrl-C (SIGINT to the foreground process group, as a terminal sends it) and by a plain
# SIGTERM to git-model-env alone. The engine's clients run in process groups of their own
# since issue 17 (a timeout kills them whole), out of the terminal's reach; the signal is obeyed
# once the client is done (podman cut half way leaves a broken container or network), and the
# start is undone: afterwards no engine client still runs, no container appears later, no GPU
# lease is left, and the next `env up` and `env down` work.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

cd "$TEST_DIR"
start_env_model alpha "gpus: 0" 'command: ["sleep", "600"]'
wt=$WT

# A slow engine, as when it pulls the image: each `podman run` waits 4 s first, in a child
# (sleep), then runs podman. slow.pids names each client; a client that leads a process group
# (as git-model's children do) has its sleep in that group.
mkdir -p slow
cat >slow/podman <<SH
#!/bin/sh
if [ "\$1" = run ]; then
    echo \$\$ >>"$TEST_DIR/slow.pids"
    sleep 4
fi
exec /usr/bin/podman "\$@"
SH
chmod +x slow/podman


interrupt_up() {  # SIGNAL HOW (group-int | term-env): an `env up` stopped while the slow engine starts it
    local how=$2 pgid up rc=0 pid target
    rm -f "$TEST_DIR/slow.pids"
    (cd "$wt" && PATH="$TEST_DIR/slow:$PATH" setsid env --default-signal=INT \
        bash -c 'echo $$ >"$0/pgid"; exec git model env up' "$TEST_DIR" >"$TEST_DIR/up.out" 2>&1) &
    up=$!
    for _ in $(seq 100); do [ -s "$TEST_DIR/slow.pids" ] && break; sleep 0.1; done
    [ -s "$TEST_DIR/slow.pids" ] || fail "$how: the engine was never called: $(cat "$TEST_DIR/up.out")"
    pgid=$(cat "$TEST_DIR/pgid")
    case $how in
        group-int) kill -INT -- "-$pgid" ;;
        term-env)
            target=$(pgrep -g "$pgid" -x git-model-env | head -1)
            [ -n "$target" ] || fail "$how: no git-model-env in the group"
            kill -TERM "$target" ;;
    esac
    wait "$up" || rc=$?
    CHECKS=$((CHECKS + 1))
    [ "$rc" -ne 0 ] || fail "$how: the interrupted up exited 0: $(cat "$TEST_DIR/up.out")"
    # The signal is obeyed once the engine's client is done (never cut half way), and the start undone.
    assert_contains "$(cat "$TEST_DIR/up.out")" "interrupted (signal $1): the start was undone, no container or GPU is kept"
    assert_eq "$(ls -A "$GIT_MODEL_LEASE_DIR" 2>/dev/null | grep -c lease || true)" "0" "$how: no GPU lease is left"
    sleep 1
    for pid in $(cat "$TEST_DIR/slow.pids"); do
        for member in $pid $(pgrep -g "$pid" || true); do
            CHECKS=$((CHECKS + 1))
            if alive "$member"; then
                ps -o pid,pgid,args -p "$member" >&2 || true
                fail "$how: the engine client $pid (or its child $member) still runs after the up ended"
            fi
        done
    done
    sleep 4  # longer than the slow engine's pause: an orphaned client would start the container now
    assert_eq "$(test_containers)" "" "$how: no container appeared after the interrupted up"
    # The next commands work: up starts it, down removes it.
    run_expect 0 git -C "$wt" model env up
    assert_contains "$OUT" "Environment of 'alpha' is up"
    run_expect 0 git -C "$wt" model env down
    assert_eq "$(test_containers)" "" "$how: down removed it"
}

interrupt_up 2 group-int
interrupt_up 15 term-env
