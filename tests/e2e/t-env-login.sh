#!/usr/bin/env bash
# git model env login against a real registry (Debian's docker-registry, htpasswd users, on a
# port of this test's own): the password goes from standard input (or the terminal, unechoed) to
# the engine's stdin and never into a command line, an environment or the output; a wrong one,
# an empty one and a registry that does not answer are refused with exit 1; usage errors exit 2;
# Ctrl-C at the prompt gives the terminal its echo back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"
command -v docker-registry >/dev/null || { echo "docker-registry is not installed"; exit 125; }
command -v htpasswd >/dev/null || { echo "htpasswd (apache2-utils) is not installed"; exit 125; }

cd "$TEST_DIR"
password='s3cret-pw-'$RANDOM$RANDOM
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
silent_port=$(free_port)
registry="127.0.0.1:$port"
htpasswd -Bbn alice "$password" >htpasswd
cat >registry.yml <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $TEST_DIR/registry-data
http:
  addr: $registry
auth:
  htpasswd:
    realm: test
    path: $TEST_DIR/htpasswd
EOF
docker-registry serve registry.yml >registry.log 2>&1 &
registry_pid=$!
# A registry that accepts connections and never answers.
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
held = []
while True:
    c, _ = s.accept(); held.append(c)' "$silent_port" >/dev/null 2>&1 &
silent_pid=$!
trap 'gm_status=$?; kill "$registry_pid" "$silent_pid" 2>/dev/null; podman_cleanup; on_exit $gm_status' EXIT
for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$registry/v2/" 2>/dev/null)" = 401 ] && break
    sleep 0.1
done
export CONTAINERS_REGISTRIES_CONF="$TEST_DIR/registries.conf"   # plain HTTP for these two only
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' \
    "$registry" "$silent_port" >"$CONTAINERS_REGISTRIES_CONF"
export REGISTRY_AUTH_FILE="$TEST_DIR/auth.json"
make_repo repo

# --- the password on standard input --------------------------------------------------------------
printf '%s\n' "$password" >pw
run_expect 0 git -C repo model env login "$registry" --username alice <pw
assert_contains "$OUT" "Login Succeeded"
assert_not_contains "$OUT$ERR" "$password"
assert_eq "$(python3 -c 'import json, sys; print(sorted(json.load(open(sys.argv[1]))["auths"]))' "$REGISTRY_AUTH_FILE")" \
    "['$registry']" "the engine keeps the login"
assert_eq "$(stat -c %a "$REGISTRY_AUTH_FILE")" "600" "the engine's auth file is the user's alone"
printf 'wrong\n' >bad
run_expect 1 git -C repo model env login "$registry" --username alice <bad
assert_contains "$ERR" "invalid username/password"
run_expect 1 git -C repo model env login "$registry" --username alice </dev/null
assert_contains "$ERR" "no password on standard input"
run_expect 2 git -C repo model env login "$registry" </dev/null
assert_contains "$ERR" "name the registry and --username"
run_expect 2 git -C repo model env login --username alice -- -registry <pw
assert_contains "$ERR" "'-registry' is not a registry"

# --- a registry that never answers: the time limit ends it, and while it waits the password is in
# no process's command line or environment ------------------------------------------------------------
git -C repo config model.engineTimeout 3s
git -C repo model env login "127.0.0.1:$silent_port" --username alice <pw >silent.out 2>silent.err &
login_pid=$!
sleep 1.5
CHECKS=$((CHECKS + 1))
for proc in /proc/[0-9]*; do
    if { tr '\0' '\n' <"$proc/cmdline" | grep -qF -- "$password"; } 2>/dev/null ||
        { tr '\0' '\n' <"$proc/environ" | grep -qF -- "$password"; } 2>/dev/null; then
        fail "the password is in the command line or environment of $(tr '\0' ' ' <"$proc/cmdline")"
    fi
done
wait "$login_pid" && status=0 || status=$?
assert_eq "$status" "1" "a registry that does not answer"
assert_contains "$(cat silent.err)" "login to 127.0.0.1:$silent_port did not finish within 3 s"
git -C repo config --unset model.engineTimeout

# --- on a terminal: the typed password is not echoed, and Ctrl-C at the prompt restores the echo -----
cat >prompt-on-terminal.py <<'PY'
import os, pty, select, signal, sys, termios, time
mode, registry, password = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    for number in (signal.SIGINT, signal.SIGQUIT):  # as a terminal's shell starts it (a test may run in the background)
        signal.signal(number, signal.SIG_DFL)
    os.execvp("git", ["git", "-C", "repo", "model", "env", "login", registry, "--username", "alice"])
seen = b""
def read_until(token, seconds):
    global seen
    end = time.time() + seconds
    while token not in seen and time.time() < end:
        ready, _, _ = select.select([fd], [], [], max(0, min(0.05, end - time.time())))
        if not ready: continue
        try: seen += os.read(fd, 4096)
        except OSError: break
    return token in seen
if not read_until(b"Password: ", 20): print("no prompt"); sys.exit()
time.sleep(0.3)
os.write(fd, b"\x03" if mode == "interrupt" else password.encode() + b"\n")
status = None
for _ in range(300):
    read_until(b"\0", 0.05)  # returns at once when the terminal has closed (EIO)
    done, status = os.waitpid(pid, os.WNOHANG)
    if done: break
    time.sleep(0.05)
else:
    os.kill(pid, 9); print("still running"); sys.exit()
echo = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
read_until(b"\0", 0.2)
result = "exit %d" % os.WEXITSTATUS(status) if os.WIFEXITED(status) else "signal %d" % os.WTERMSIG(status)
print(result, "echo-on" if echo else "echo-off", "password-shown" if password.encode() in seen else "password-hidden",
      "succeeded" if b"Login Succeeded" in seen else "")
PY
assert_eq "$(python3 prompt-on-terminal.py type "$registry" "$password")" "exit 0 echo-on password-hidden succeeded" "typed at the prompt"
interrupted=$(python3 prompt-on-terminal.py interrupt "$registry" "$password")
CHECKS=$((CHECKS + 1))
case "$interrupted" in
    "exit 130 echo-on password-hidden "|"signal 2 echo-on password-hidden ") ;;
    *) fail "Ctrl-C at the prompt: $interrupted" ;;
esac

# --- Ctrl-Z at the prompt in an interactive shell, then fg: the password typed next is not echoed either ------
cat >suspend-at-prompt.py <<'PY'
import os, pty, select, signal, sys, time
registry, password = sys.argv[1:3]
pid, fd = pty.fork()
if pid == 0:
    for number in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(number, signal.SIG_DFL)
    os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
seen = b""
def read_for(seconds):
    global seen
    end = time.time() + seconds
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try: seen += os.read(fd, 4096)
            except OSError: return
def read_until(token, seconds):
    end = time.time() + seconds
    while token not in seen and time.time() < end: read_for(0.1)
    return token in seen
def send(text): os.write(fd, text.encode())
read_for(0.5)
send("PS1='$ '\n"); read_for(0.3)
send("git -C repo model env login %s --username alice\n" % registry)
if not read_until(b"Password: ", 20): print("no prompt"); sys.exit()
read_for(0.3)
send("\x1a"); read_for(1)
send("fg\n"); read_for(1)
after_fg = len(seen)
send(password + "\n")
read_until(b"Login Succeeded", 20)
send("exit\n"); read_for(0.5)
print("password-shown" if password.encode() in seen[after_fg:] else "password-hidden",
      "succeeded" if b"Login Succeeded" in seen else "failed")
PY
assert_eq "$(python3 suspend-at-prompt.py "$registry" "$password")" "password-hidden succeeded" "Ctrl-Z, fg, then the password"
