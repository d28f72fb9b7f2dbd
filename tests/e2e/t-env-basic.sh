#!/usr/bin/env bash
# git model env with a real podman: up, status, exec, logs, down; ports really
# reachable on 127.0.0.1; limits really applied; persist folders survive; git
# works inside; the Jupyter token stays out of argv; SSH is key-only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

cd "$TEST_DIR"
make_repo repo
git -C repo config model.installHooks never
git -C repo config model.env.stopTimeout 2s
write_modelenv repo "gpus: 0" "memory: 96m" "cpus: 0.5" "shm_size: 48m" \
    "ports:" "  web: 8080" "env:" "  LEARNING_RATE: 0.001" "  RUN_NAME: baseline" \
    'command: ["httpd", "-f", "-p", "8080", "-h", "/www"]'
run_expect 0 git -C repo model start alpha
wt="$TEST_DIR/worktrees/feature/model-alpha"
cd "$wt"

# --- check -------------------------------------------------------------------------------
run_expect 0 git model env check
assert_contains "$OUT" "$TEST_IMAGE"
run_expect 0 git model env check --json
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["memory_bytes"])')" "100663296" "check --json"

# --- up --------------------------------------------------------------------------------------
run_expect 0 git model env up
assert_contains "$OUT" "Environment of 'alpha' is up"
container=$(printf '%s\n' "$OUT" | sed -n "s/.*up: container \(.*\)$/\1/p")
assert_contains "$container" "gm-repo-alpha-"
url=$(printf '%s\n' "$OUT" | awk '$1 == "web" {print $2}')
assert_contains "$url" "http://127.0.0.1:"
assert_eq "$(http_get "$url")" "hello from the container" "port reachable"
port=${url##*:}; port=${port%/}
assert_contains "$(podman port "$container")" "127.0.0.1:$port" "bound to 127.0.0.1 only"
assert_not_contains "$(podman port "$container")" "0.0.0.0" "not on every interface"

# a repeated up says so and changes nothing
started=$(podman inspect -f '{{.State.StartedAt}}' "$container")
run_expect 0 git model env up
assert_contains "$OUT" "already running"
assert_eq "$(podman inspect -f '{{.State.StartedAt}}' "$container")" "$started" "second up changed nothing"

# --- inside: limits, env, mounts, labels ------------------------------------------------------
run_expect 0 git model env exec -- cat /sys/fs/cgroup/memory/memory.limit_in_bytes
assert_eq "$OUT" "100663296" "memory limit applied"
run_expect 0 git model env exec -- cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us
assert_eq "$OUT" "50000" "cpu limit applied"
run_expect 0 git model env exec alpha -- sh -c 'df -k /dev/shm | tail -1'
assert_contains "$OUT" "49152" "shm size applied"
run_expect 0 git model env exec -- sh -c 'echo "$LEARNING_RATE $RUN_NAME [$CUDA_VISIBLE_DEVICES] $GIT_MODEL_MODEL"; pwd'
assert_eq "$OUT" "$(printf '0.001 baseline [] alpha\n/workspace')" "env and workdir"
run_expect 0 git model env exec -- cat /workspace/train.py
assert_eq "$OUT" "$(cat "$wt/train.py")" "worktree mounted at workdir"
echo "from inside" | podman exec -i "$container" sh -c 'cat > /workspace/inside.txt'
assert_eq "$(cat "$wt/inside.txt")" "from inside" "worktree mounted read-write"
rm "$wt/inside.txt"
assert_eq "$(podman inspect -f '{{index .Config.Labels "io.git-model.branch"}}' "$container")" "feature/model-alpha" "branch label"
assert_eq "$(podman inspect -f '{{index .Config.Labels "io.git-model.worktree"}}' "$container")" "$wt" "worktree label"
assert_eq "$(podman inspect -f '{{index .Config.Labels "io.git-model.repo"}}' "$container")" "$TEST_DIR/repo/.git" "repo label"
assert_contains "$(podman inspect -f '{{.HostConfig.SecurityOpt}}' "$container")" "no-new-privileges"
run_expect 0 git model env exec -- sh -c 'ps -o pid,comm | head -3'
# the exit code is the command's; a signal to exec (SIGTERM from a script, no terminal) reaches the
# command and what it started in the container, which end, as a shell's job would
run_expect 7 git model env exec -- sh -c 'exit 7'
git model env exec -- sh -c 'trap "echo stopped > /workspace/stopped.txt; exit 5" TERM; sleep 600 & wait' \
    </dev/null >/dev/null 2>"$TEST_DIR/exec.err" &
exec_pid=$!
for _ in $(seq 100); do podman top "$container" args 2>/dev/null | grep -qE '^ *sleep 600' && break; sleep 0.1; done  # the sleep: its sh has set the trap
kill -TERM "$(pgrep -P "$exec_pid")"  # git-model-env, git's child
rc=0; wait "$exec_pid" || rc=$?
assert_eq "$rc" "5" "exec's exit code: the command's, after its TERM trap ran"
assert_eq "$(cat "$wt/stopped.txt")" "stopped" "the command got the signal"
rm "$wt/stopped.txt"
# the same through git itself (what `timeout` or a CI job's cancel signals): git passes it on to
# git-model-env and waits for it, then ends by the signal
git model env exec -- sh -c 'trap "echo stopped > /workspace/stopped.txt; exit 5" TERM; sleep 600 & wait' \
    </dev/null >/dev/null 2>"$TEST_DIR/exec.err" &
exec_pid=$!
for _ in $(seq 100); do podman top "$container" args 2>/dev/null | grep -qE '^ *sleep 600' && break; sleep 0.1; done  # the sleep: its sh has set the trap
kill -TERM "$exec_pid"
rc=0; wait "$exec_pid" || rc=$?
assert_eq "$rc" "143" "git ended by SIGTERM"
assert_eq "$(cat "$wt/stopped.txt")" "stopped" "the command got the signal"
rm "$wt/stopped.txt"
for _ in $(seq 50); do podman top "$container" args 2>/dev/null | grep -q 'sleep 600' || break; sleep 0.1; done
assert_not_contains "$(podman top "$container" args)" "sleep 600" "nothing the command started runs on"
# Ctrl-C without --tty (output piped): SIGINT to the whole foreground process group, the engine's
# client included, still reaches the command, and exec returns once the command's own shutdown ended
setsid env --default-signal=INT sh -c 'echo $$ > "$1/pgid"; exec git model env exec -- sh -c "trap \"sleep 2; echo interrupted > /workspace/stopped.txt; exit 4\" INT; while :; do sleep 0.2; done" </dev/null | cat >/dev/null' \
    sh "$TEST_DIR" &
exec_pid=$!
for _ in $(seq 100); do podman top "$container" args 2>/dev/null | grep -q 'sleep 0.2' && break; sleep 0.1; done
kill -INT -- "-$(cat "$TEST_DIR/pgid")"
wait "$exec_pid" || true
assert_eq "$(cat "$wt/stopped.txt" 2>/dev/null)" "interrupted" "the command got Ctrl-C, and exec waited for its shutdown"
rm "$wt/stopped.txt"

# SIGTERM to the whole process group (a CI job cancelled) calling git-model-env directly: the engine's
# client is out of the group's reach, so the exit code is the command's (killed: 143), never the
# client's own 0
setsid sh -c 'echo $$ > "$1/pgid"; exec git-model-env exec -- sh -c "sleep 30"' sh "$TEST_DIR" </dev/null &
exec_pid=$!
for _ in $(seq 100); do podman top "$container" args 2>/dev/null | grep -q 'sleep 30' && break; sleep 0.1; done
kill -TERM -- "-$(cat "$TEST_DIR/pgid")"
rc=0; wait "$exec_pid" || rc=$?
assert_eq "$rc" "143" "the killed command's exit code"
# another process on the host carrying the command's value (anyone can read it from the engine
# client's arguments) is neither signalled nor waited for: only processes in the container count
git-model-env exec -- sh -c 'trap "exit 6" TERM; sleep 30 & wait' </dev/null >/dev/null 2>&1 &
exec_pid=$!
for _ in $(seq 100); do podman top "$container" args 2>/dev/null | grep -q 'sleep 30' && break; sleep 0.1; done
mark=$(tr '\0' '\n' <"/proc/$(pgrep -f -n "exec --interactive --env GIT_MODEL_EXEC")/cmdline" | grep '^GIT_MODEL_EXEC=')
env -i "$mark" sh -c 'trap "echo signalled > $0/forged.txt" INT TERM HUP; while :; do sleep 0.1; done' "$TEST_DIR" &
forged=$!
kill -TERM "$exec_pid"
rc=0; wait "$exec_pid" || rc=$?
assert_eq "$rc" "6" "the command's exit code"
assert_no_path "$TEST_DIR/forged.txt"
kill -KILL "$forged"; wait "$forged" 2>/dev/null || true

# --- status, logs ---------------------------------------------------------------------------------
run_expect 0 git -C "$TEST_DIR/repo" model env status
assert_contains "$OUT" "alpha"
assert_contains "$OUT" "running"
assert_contains "$OUT" "$url"
run_expect 0 git model env list --json
assert_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; e=json.load(sys.stdin)["environments"]; print(len(e), e[0]["model"], e[0]["state"], e[0]["ports"][0]["url"])')" "1 alpha running $url" "status JSON"
http_get "$url" >/dev/null
run_expect 0 git model env logs
run_expect 0 git model env logs --tail 1
# A negative count was passed on, and the engine read it as "everything" (s41b): a usage error now.
run_expect 2 git model env logs --tail -5
assert_contains "$ERR" "--tail -5: expected a number of lines, 0 or more"
assert_contains "$ERR" "[--tail <n>]" "the usage names --tail"

# --- persist folders survive down; down gives everything back ----------------------------------
run_expect 0 git model env exec -- sh -c 'echo epoch-3 > /persist/checkpoints/last.txt; echo loss > "$GIT_MODEL_LOGS/train.log"'
persist="$TEST_DIR/repo/.git/git-model/persist/alpha"
run_expect 0 git model env down
assert_contains "$OUT" "persist folders kept"
assert_eq "$(test_containers)" "" "no container left"
assert_eq "$(cat "$persist/checkpoints/last.txt")" "epoch-3" "checkpoint survives down"
assert_eq "$(cat "$persist/logs/train.log")" "loss" "log survives down"
run_expect 0 git model env down
assert_contains "$OUT" "was not running"
run_expect 0 git model env up
run_expect 0 git model env exec -- cat /persist/checkpoints/last.txt
assert_eq "$OUT" "epoch-3" "persist folder back after up"
run_expect 0 git model env down

# --- git works inside (a linked worktree's .git points into the common dir) -----------------------
cd "$TEST_DIR"
build_image "$TEST_GIT_IMAGE" with-git
sed -i "s|^image: .*|image: $TEST_GIT_IMAGE|" "$wt/.modelenv.yaml"
run_expect 0 git -C "$wt" model env up
run_expect 0 git -C "$wt" model env exec -- git -C /workspace status --short --branch
assert_contains "$OUT" "## feature/model-alpha"
assert_contains "$OUT" " M .modelenv.yaml"
run_expect 0 git -C "$wt" model env exec -- git -C /workspace log -1 --format=%s
assert_eq "$OUT" "$(git -C "$wt" log -1 --format=%s)" "git log inside"
run_expect 0 git -C "$wt" model env down
git -C "$wt" checkout -q -- .modelenv.yaml

# --- Jupyter: a random token, kept 0600, shown once, never in argv ---------------------------------
run_expect 0 git -C repo model start nb
nb="$TEST_DIR/worktrees/feature/model-nb"
{ echo "image: $TEST_IMAGE"; echo "ports:"; echo "  jupyter: 8888"; } >"$nb/.modelenv.yaml"
run_expect 0 git -C "$nb" model env up
assert_contains "$OUT" "/lab?token="
token=$(printf '%s\n' "$OUT" | sed -n 's/.*token=\([0-9a-f]*\).*/\1/p')
assert_eq "${#token}" "48" "token length"
token_file="$TEST_DIR/repo/.git/git-model/env/nb/jupyter-token"
assert_eq "$(stat -c %a "$token_file")" "600" "token file mode"
assert_eq "$(cat "$token_file")" "$token" "token file"
assert_eq "$(stat -c %a "$TEST_DIR/repo/.git/git-model/env/nb/env")" "600" "env file mode"
nbc=$(git -C "$nb" model env status --json | python3 -c 'import json,sys; print([e["container"] for e in json.load(sys.stdin)["environments"] if e["model"]=="nb"][0])')
assert_not_contains "$(podman inspect -f '{{.Config.Cmd}} {{.Args}} {{.Path}}' "$nbc")" "$token" "token not in the container's command"
assert_not_contains "$(ps -eo args)" "$token" "token not in any process's argv"
run_expect 0 git -C "$nb" model env status
assert_not_contains "$OUT" "$token" "status does not show the token"
run_expect 0 git -C "$nb" model env logs
assert_contains "$OUT" "token of 48 characters" "the token reached the server through its environment"
run_expect 0 git -C "$nb" model env up
assert_not_contains "$OUT" "$token" "shown once"
run_expect 0 git -C "$nb" model env down

# --- SSH: key-only ----------------------------------------------------------------------------------
mkdir -p "$HOME/.ssh" && echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyOnly test@example" >"$HOME/.ssh/id_ed25519.pub"
{ echo "image: $TEST_IMAGE"; echo "ports:"; echo "  ssh: 2222"; echo 'command: ["httpd", "-f", "-p", "2222", "-h", "/www"]'; } >"$nb/.modelenv.yaml"
run_expect 0 git -C "$nb" model env up
assert_contains "$OUT" "ssh -p"
run_expect 0 git -C "$nb" model env exec -- cat /root/.ssh/authorized_keys
assert_contains "$OUT" "TestKeyOnly"
run_expect 0 git -C "$nb" model env exec -- cat /etc/ssh/sshd_config.d/git-model.conf
assert_contains "$OUT" "PasswordAuthentication no"
run_expect 0 git -C "$nb" model env down
rm "$HOME/.ssh/id_ed25519.pub"
run_expect 1 git -C "$nb" model env up
assert_contains "$ERR" "no public key"
assert_eq "$(test_containers)" "" "refused ssh: no container"
git -C "$nb" checkout -q -- . 2>/dev/null || true

# --- --bind-all is explicit and warned ---------------------------------------------------------------
run_expect 0 git -C "$wt" model env up --bind-all
assert_contains "$ERR" "every network interface"
assert_contains "$(podman port "$container")" "0.0.0.0"
run_expect 0 git -C "$wt" model env down
