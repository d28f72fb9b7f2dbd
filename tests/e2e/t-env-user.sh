#!/usr/bin/env bash
# Files a container writes belong to the person who started it (`user:` in .modelenv.yaml):
# - a rootful engine reached by a non-root user through a socket (a root `podman system
#   service` on a unix socket owned by a test group, the user in that group, the repository's
#   model.engineHost naming the socket): env up, a container writing into the worktree and a
#   persist folder, every file there owned by the user, `env exec -- id -u` the user's uid,
#   their name and HOME inside, key-only SSH set up for their login, a sweep run the same
#   way, doctor naming the mode, `git model prune` removing the worktree without errors;
#   `user: image` keeps today's behaviour (root's files, which doctor then reports with the fix);
#   an explicit uid:gid; the engine's own errors shown as they are;
# - the same with the user's own rootless podman and --userns=keep-id; there, in the host's
#   network, ports are refused (podman drops --publish: each service is on every interface), unless
#   --bind-all with each host port fixed to its container port.
# The service, its containers, the users and their group are removed on exit, even on failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"
. "$(dirname "$0")/users-lib.sh"

U=gmeu-a-$$ G=gmeu-g-$$
make_user "$U"
make_group "$G" "$U"
uid=$(id -u "$U")
gid=$(id -g "$U")

# --- a root podman service on a socket the group may use ------------------------------------------
SOCK_DIR="$TEST_DIR/engine"
mkdir -p "$SOCK_DIR"
podman system service --time=0 "unix://$SOCK_DIR/podman.sock" >"$TEST_DIR/service.log" 2>&1 &
SERVICE_PID=$!
HOMEDIR=$(user_home "$U")
# Root's containers made through the socket for the user's repositories, then the service.
stop_service() {
    local names
    names=$(podman ps -a --filter label=io.git-model.managed=1 --format '{{.Names}} {{index .Labels "io.git-model.repo"}}' \
        2>/dev/null | awk -v dir="$HOMEDIR/" 'index($2, dir) == 1 {print $1}')
    [ -n "$names" ] && podman rm -f -t 0 $names >/dev/null 2>&1
    kill "$SERVICE_PID" 2>/dev/null && wait "$SERVICE_PID" 2>/dev/null
    return 0
}
trap 'gm_status=$?; stop_service; users_cleanup; podman_cleanup; on_exit $gm_status' EXIT
for _ in $(seq 100); do [ -S "$SOCK_DIR/podman.sock" ] && break; sleep 0.1; done
[ -S "$SOCK_DIR/podman.sock" ] || fail "the podman service did not make its socket: $(cat "$TEST_DIR/service.log")"
chgrp "$G" "$SOCK_DIR" "$SOCK_DIR/podman.sock"
chmod 770 "$SOCK_DIR"
chmod 660 "$SOCK_DIR/podman.sock"
SOCKET="unix://$SOCK_DIR/podman.sock"

u() { as_user "$U" "$@"; }
u git init -q repo
u sh -c 'printf "image: %s\n" "$1" >repo/.modelenv.yaml && printf "x\n" >repo/README && git -C repo add -A && git -C repo commit -q -m env' \
    sh "$TEST_IMAGE"
u git -C repo config model.installHooks never
u git -C repo config model.env.stopTimeout 1s
u git -C repo config model.env.readyTimeout 20s
u git -C repo config model.engineHost "$SOCKET"
# model_file MODEL LINES...: the model's .modelenv.yaml, committed on its branch.
model_file() {
    local m=$1
    shift
    u sh -c 'wt=$1; shift; printf "%s\n" "$@" >"$wt/.modelenv.yaml" && git -C "$wt" commit -q -am "env of $(basename "$wt")"' \
        sh "$HOMEDIR/worktrees/feature/model-$m" "image: $TEST_IMAGE" "$@"
}
wt() { echo "$HOMEDIR/worktrees/feature/model-$1"; }
# wait_sweep_as DIR ID LIMIT: waits (as the user) until no run of the sweep is queued or running.
wait_sweep_as() {
    local states
    for _ in $(seq "$(($3 * 4))"); do
        states=$(as_user "$U" git -C "$1" model sweep status "$2" --json |
            python3 -c 'import json,sys; print(" ".join(r["state"] for r in json.load(sys.stdin)["runs"]))')
        case " $states " in *" queued "* | *" running "*) sleep 0.25 ;; *) return 0 ;; esac
    done
    fail "sweep $2 unfinished after $3 s: $states"
}
in_wt() { local m=$1; shift; as_user "$U" sh -c 'cd "$1" && shift && exec "$@"' sh "$(wt "$m")" "$@"; }
# Everything under the folders that is not owned by the user.
foreign() { find "$@" ! -user "$U" -printf '%u %p\n' 2>/dev/null | sort; }

for m in alpha beta ids; do run_expect 0 u git -C repo model start "$m"; done
mkdir -p "$HOMEDIR/data" && chown "$U:" "$HOMEDIR/data"
model_file alpha "persist:" "  checkpoints: $HOMEDIR/data/{user}/{model}" "ports:" "  ssh: 2222" \
    'command: ["httpd", "-f", "-p", "2222", "-h", "/www"]'  # (no sshd in the test image: a stand-in on the port)
model_file beta "user: image"
model_file ids "user: '4242:4343'"
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUserKeyOnly $U@example" >"$HOMEDIR/key.pub"
chown -R "$U:" "$HOMEDIR/key.pub"
u git -C repo config model.sshAuthorizedKeys "$HOMEDIR/key.pub"

# --- user: host (the default) through the rootful socket -------------------------------------------
run_expect 0 in_wt alpha git model env up
assert_contains "$OUT" "Environment of 'alpha' is up"
assert_contains "$OUT" "user         $U (uid $uid, gid $gid)"
assert_contains "$OUT" "ssh -p"
assert_contains "$OUT" " $U@127.0.0.1"
container=$(printf '%s\n' "$OUT" | sed -n "s/.*up: container \(.*\)$/\1/p")
assert_eq "$(podman inspect -f '{{.Config.User}}' "$container")" "$uid:$gid" "root's engine runs it with --user"
run_expect 0 in_wt alpha git model env exec -- id -u
assert_eq "$OUT" "$uid" "env exec runs as the user"
run_expect 0 in_wt alpha git model env exec -- sh -c 'id -un; id -gn; echo "$HOME $USER"; touch "$HOME/.history"'
assert_eq "$OUT" "$(printf '%s\n%s\n%s' "$U" "$G-x" "/home/$U $U" | sed "s/^$G-x\$/$(id -gn "$U")/")" "name, group and HOME inside"
run_expect 0 in_wt alpha git model env exec -- cat /etc/ssh/git-model/sshd_config
assert_contains "$OUT" "AllowUsers $U"
assert_contains "$OUT" "PermitRootLogin no"
assert_contains "$OUT" "PasswordAuthentication no"
run_expect 0 in_wt alpha git model env exec -- cat /etc/ssh/git-model/authorized_keys
assert_contains "$OUT" "UserKeyOnly"
assert_contains "$(podman port "$container")" "127.0.0.1:" "the ssh port is on 127.0.0.1"
# The container writes into the worktree and the persist folder (and a subfolder of each).
run_expect 0 in_wt alpha git model env exec -- sh -c \
    'mkdir -p out/__pycache__ && echo w >out/__pycache__/m.pyc && echo c >/persist/checkpoints/ckpt.pt &&
     mkdir -p /persist/checkpoints/epoch1 && echo l >/persist/logs/train.log'
assert_eq "$(cat "$HOMEDIR/data/$U/alpha/ckpt.pt")" "c" "{user}/{model} expanded in persist"
assert_eq "$(foreign "$(wt alpha)" "$HOMEDIR/data" "$HOMEDIR/repo/.git/git-model")" "" "every file is the user's"
assert_dir "$(wt alpha)/out/__pycache__"
run_expect 0 in_wt alpha git model env status
assert_contains "$OUT" "alpha"
assert_contains "$OUT" "$TEST_IMAGE"
run_expect 1 in_wt alpha git model doctor --no-bench  # (1: no hooks, no user.name here)
assert_contains "$OUT" "mode: rootful through a socket ($SOCKET)"
assert_contains "$OUT" "was left by a container as root or one of your subordinate ids"

# --- a sweep runs the same way ------------------------------------------------------------------------------
run_expect 0 in_wt alpha git model sweep start --gpus-per-run 0 --grid n=1 -- sh -c 'id -u >sweep-uid.txt; echo s >/persist/checkpoints/s.txt'
wait_sweep_as "$(wt alpha)" 1 120
run1="$(wt alpha).sweep-1-1"
assert_eq "$(cat "$run1/sweep-uid.txt" 2>/dev/null)" "$uid" "a sweep's run writes as the user"
assert_eq "$(foreign "$run1" "$HOMEDIR/repo/.git/git-model")" "" "the sweep's files are the user's"

# --- an explicit uid:gid ------------------------------------------------------------------------------------
run_expect 0 in_wt ids git model env up
assert_contains "$OUT" "(uid 4242, gid 4343)"
run_expect 0 in_wt ids git model env exec -- sh -c 'id -u; id -g; echo $HOME'
assert_eq "$OUT" "$(printf '4242\n4343\n/home/%s' "$U")" "user: '4242:4343'"
# Another uid than the caller's can read the passwd made for it (0644) and write its HOME (a tmpfs).
run_expect 0 in_wt ids git model env exec -- sh -c 'id -un && echo h >"$HOME/.x" && cat "$HOME/.x"'
assert_eq "$OUT" "$(printf '%s\nh' "$U")" "uid 4242's name and HOME"
assert_eq "$(stat -c %a "$HOMEDIR/repo/.git/git-model/env/ids/passwd")" "644" "the passwd file's mode"
assert_eq "$(stat -c %a "$HOMEDIR/repo/.git/git-model/env/ids/env")" "600" "the env file's mode"
run_expect 0 in_wt ids git model env down

# --- user: image keeps today's behaviour: root's files, and doctor says so with the fix ---------------------------
run_expect 0 in_wt beta git model env up
assert_contains "$OUT" "user         the image's own user"
run_expect 0 in_wt beta git model env exec -- id -u
assert_eq "$OUT" "0" "user: image runs as the image's user (root)"
run_expect 0 in_wt beta git model env exec -- sh -c 'mkdir -p made && echo r >made/by-root.txt'
assert_eq "$(stat -c %u "$(wt beta)/made/by-root.txt")" "0" "root's engine writes root's files"
# A teammate's file (another real uid, not root's nor a subordinate id) is not doctor's business.
teammate="$HOMEDIR/repo/.git/git-model/persist/beta/checkpoints/teammate.pt"
echo t >"$teammate" && chown 4242:4343 "$teammate"
run_expect 1 in_wt beta git model doctor --no-bench  # (1: no hooks, no user.name here)
assert_contains "$OUT" "owned by root (uid 0)"
assert_contains "$OUT" "$(wt beta)"
assert_contains "$OUT" "sudo find $(wt beta) -uid 0 -exec chown $uid:$gid {} +"
assert_contains "$OUT" "podman run --rm --user 0:0 -v $(wt beta):/fix"
assert_contains "$OUT" "find /fix -uid 0 -exec chown $uid:$gid {} +"
assert_not_contains "$OUT" "chown -R"
assert_not_contains "$OUT" "(uid 4242)"
rm -f "$teammate"
run_expect 0 in_wt beta git model env down
rm -rf "$(wt beta)/made"

# --- the engine's errors are shown as they are ------------------------------------------------------------------
run_expect 1 u git -C "$(wt alpha)" -c model.engineHost="unix://$SOCK_DIR/none.sock" model env status
assert_contains "$ERR" "none.sock"

# --- prune removes the worktree the container wrote into ----------------------------------------------------------
run_expect 0 in_wt alpha git model env down
u git -C repo merge -q --no-ff -m "merge alpha" feature/model-alpha
run_expect 0 u git -C repo model prune --retention 0s --force
assert_contains "$OUT" "alpha"
assert_no_path "$(wt alpha)"
assert_eq "$(podman ps -a --filter "name=$container" --format '{{.Names}}')" "" "prune left no container"
assert_eq "$(cat "$HOMEDIR/data/$U/alpha/ckpt.pt")" "c" "persist folders survive prune"

# --- (s42a) a GPU lease taken through the socket is judged only by that engine: the user's own rootless
# podman, which has no such container, once called it gone and gave the GPU to the next taker --------------------
BOOK="$TEST_DIR/book"
run_expect 0 git model gpus init --dir "$BOOK"
USERS_ENV=("GIT_MODEL_LEASE_DIR=$BOOK")
u git -C repo config model.gpus 0
run_expect 0 u git -C repo model start delta
model_file delta "gpus: 1"
run_expect 0 in_wt delta git model env up
u git -C repo config --unset model.engineHost
run_expect 0 u git -C repo model gpus --json
assert_eq "$(json_get "$OUT" 'd["gpus"][0]["holders"][0]["engine_host"]')" "$SOCKET" "the lease names the engine it was taken through"
assert_eq "$(json_get "$OUT" 'd["gpus"][0]["holders"][0]["verdict"]')" "unknown" "another engine cannot call it gone"
assert_contains "$(json_get "$OUT" 'd["gpus"][0]["holders"][0]["why"]')" "runs in the engine at $SOCKET" "and says which"
run_expect 0 u git -C repo model env status
# (s42c) nor does a down through the other engine give it back: it names the engine to use.
run_expect 1 in_wt delta git model env down
assert_contains "$ERR" "the environment of 'delta' was started through another engine ($SOCKET; this is your own podman)"
assert_contains "$ERR" "git config model.engineHost $SOCKET"
run_expect 0 u git -C repo model gpus --json
assert_eq "$(json_get "$OUT" 'len(d["gpus"][0]["holders"]) + len(d["stale"])')" "1" "status and down in the other engine left the lease"
u git -C repo config model.engineHost "$SOCKET"
run_expect 0 in_wt delta git model env down
run_expect 0 u git -C repo model gpus --json
assert_eq "$(json_get "$OUT" 'len(d["gpus"][0]["holders"]) + len(d["stale"])')" "0" "its own engine's down gives it back"
u git -C repo config --unset model.gpus
USERS_ENV=()

# --- the user's own rootless podman: --userns=keep-id -------------------------------------------------------------
u git -C repo config --unset model.engineHost
user_import_image "$U"
run_expect 0 u git -C repo model start gamma
model_file gamma "persist:" "  logs: $HOMEDIR/data/{model}-logs"
run_expect 0 in_wt gamma git model env up
assert_contains "$OUT" "user         $U (uid $uid, gid $gid)"
gamma=$(printf '%s\n' "$OUT" | sed -n "s/.*up: container \(.*\)$/\1/p")
assert_contains "$(as_user "$U" podman inspect -f '{{json .Config.CreateCommand}}' "$gamma")" '"--userns=keep-id"' "rootless uses keep-id"
run_expect 0 in_wt gamma git model env exec -- id -u
assert_eq "$OUT" "$uid" "keep-id: the user's uid inside"
run_expect 0 in_wt gamma git model env exec -- sh -c 'mkdir -p out && echo k >out/k.txt && echo l >/persist/logs/l.txt && id -un'
assert_eq "$OUT" "$U" "the user's name inside"
assert_eq "$(foreign "$(wt gamma)" "$HOMEDIR/data/gamma-logs")" "" "keep-id: every file is the user's"
run_expect 1 in_wt gamma git model doctor --no-bench  # (1: no hooks, no user.name here)
assert_contains "$OUT" "mode: rootless"
run_expect 0 in_wt gamma git model env down
# Ports in the host's network (these users' containers.conf sets netns = "host", where podman drops
# --publish): refused, as the services would listen on every interface, and nothing is left; --bind-all
# accepts that.
model_file gamma "persist:" "  logs: $HOMEDIR/data/{model}-logs" "ports:" "  ssh: 2223" \
    'command: ["httpd", "-f", "-p", "2223", "-h", "/www"]'
run_expect 1 in_wt gamma git model env up
assert_contains "$ERR" "podman published none of the ports: it runs the container in network mode 'host'"
assert_contains "$ERR" "--bind-all"
assert_eq "$(as_user "$U" podman ps -aq | wc -l)" "0" "the refused up left no container"
run_expect 1 in_wt gamma git model env up --bind-all
assert_contains "$ERR" "fix each host port to its container port"
assert_eq "$(as_user "$U" podman ps -aq | wc -l)" "0" "the refused --bind-all left no container"
model_file gamma "persist:" "  logs: $HOMEDIR/data/{model}-logs" "ports:" '  ssh: "2223:2223"' \
    'command: ["httpd", "-f", "-p", "2223", "-h", "/www"]'
run_expect 0 in_wt gamma git model env up --bind-all
assert_contains "$ERR" "published on every network interface"
assert_contains "$OUT" "ssh -p 2223"
assert_contains "$(ss -Hltn 'sport = :2223')" ":2223" "the service listens on the port env up names"
run_expect 0 in_wt gamma git model env down
u git -C repo merge -q --no-ff -m "merge gamma" feature/model-gamma
run_expect 0 u git -C repo model prune --retention 0s --force
assert_no_path "$(wt gamma)"
