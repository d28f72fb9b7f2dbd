#!/usr/bin/env bash
# Red team s42a: rootless podman in the host's network (netns "host"), ports fixed and --bind-all as
# the man page says. While the container was still starting, another user listened on its port
# first: `env up` took their answer for the container's, said the environment was up and printed
# the URL (with Jupyter, its token would reach them). A listener of another account answering the
# probe now fails the start, naming them, and removes the container.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"
. "$(dirname "$0")/users-lib.sh"

A=gmpt-a-$$ B=gmpt-b-$$
make_user "$A"
make_user "$B"
user_import_image "$A"
PORT=$((20000 + $$ % 10000))
HOMEDIR=$(user_home "$A")
as_user "$A" git init -q "$HOMEDIR/repo"
as_user "$A" sh -c 'printf "image: %s\nports:\n  web: \"%s:%s\"\ncommand: [\"sh\", \"-c\", \"sleep 4; exec httpd -f -p %s -h /www\"]\n" "$1" "$2" "$2" "$2" >"$3/.modelenv.yaml" && git -C "$3" add -A && git -C "$3" commit -q -m env' \
    sh "$TEST_IMAGE" "$PORT" "$HOMEDIR/repo"
as_user "$A" git -C "$HOMEDIR/repo" config model.installHooks never
as_user "$A" git -C "$HOMEDIR/repo" config model.env.stopTimeout 1s
run_expect 0 as_user "$A" git -C "$HOMEDIR/repo" model start web
WT="$HOMEDIR/worktrees/feature/model-web"

as_user "$A" sh -c 'cd "$1" && exec git model env up --bind-all' sh "$WT" >"$TEST_DIR/up.out" 2>&1 &
up=$!
# The environment's own container, by its label: env up first runs a short one of its own to read
# the image's accounts, and a listener started then took the port before env up chose it.
env_container() { as_user "$A" podman ps -q --filter label=io.git-model.managed=1; }
for _ in $(seq 100); do [ -n "$(env_container)" ] && break; sleep 0.1; done
[ -n "$(env_container)" ] || fail "env up started no container: $(cat "$TEST_DIR/up.out")"
# B listens on the port first, and answers anyone who connects.
as_user "$B" python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(8); s.settimeout(20)
end = time.time() + 20
while time.time() < end:
    try: c, _ = s.accept(); c.close()
    except OSError: pass' "$PORT" 2>"$TEST_DIR/listener.err" &  # (its end at the cleanup: "Killed" there)
listener=$!
wait "$up" && rc=0 || rc=$?
kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null || true
OUT="" ERR=$(cat "$TEST_DIR/up.out")  # what a failure shows: env up's own words, not the start's
CHECKS=$((CHECKS + 1))
[ "$rc" = 1 ] || fail "env up exited $rc, not 1"
assert_contains "$ERR" "port $PORT answers, but from a process of user $B"
assert_not_contains "$ERR" "is up"
assert_eq "$(as_user "$A" podman ps -aq | wc -l)" "0" "the container was removed"
