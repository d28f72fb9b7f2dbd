# Shared setup for the red-team scripts of issue #12 (sourced; each script stays runnable alone).
#
#   rt_user NAME [podman]   a new Unix user (removed on exit), optionally with a rootless podman
#                           (netns "host", cgroupfs, runc) and the busybox test image imported
#   as_user NAME CMD...     CMD as NAME in a clean environment (installed suite first on PATH,
#                           GIT_CONFIG_NOSYSTEM=1, GIT_MODEL_LEASE_DIR=$BOOK, plus RT_ENV entries)
#   rt_repo NAME MODEL...   ~NAME/repo with .modelenv.yaml (image, gpus: 1), model.gpus 0 (RT_POOL), a worktree per model
#   reproduced MSG          prints "REPRODUCED: MSG" and exits 1
#   held_up MSG             prints "FIXED/HELD: MSG" and exits 0
#   setup_failed MSG        exits 2 (the script could not run its check)
# Everything it makes (users, their processes and containers, the scratch folder) goes on exit.
set -uo pipefail

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (useradd)"; exit 125; }
: "${GM_STAGE:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/stage}"
[ -x "$GM_STAGE/bin/git-model" ] || { echo "no git-model in $GM_STAGE/bin (cmake --install build/dev --prefix build/stage)"; exit 2; }

RT_DIR=$(mktemp -d /tmp/gmred.XXXXXX)
chmod 755 "$RT_DIR"
BOOK="$RT_DIR/book"
RT_USERS=()
RT_ENV=()
RT_POOL=${RT_POOL:-0}
RT_IMAGE=localhost/gmred-busybox-$$:1
export HOME="$RT_DIR/roothome" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$RT_DIR/roothome/.gitconfig"
mkdir -p "$HOME"
export PATH="$GM_STAGE/bin:$PATH" LC_ALL=C.UTF-8
export GIT_AUTHOR_NAME=root GIT_AUTHOR_EMAIL=root@example.com GIT_COMMITTER_NAME=root GIT_COMMITTER_EMAIL=root@example.com
export CONTAINERS_CONF="$RT_DIR/containers.conf"
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n' >"$CONTAINERS_CONF"
git config --global init.defaultBranch main

rt_cleanup() {
    local rc=$? name uid pid
    for name in ${RT_USERS[@]+"${RT_USERS[@]}"}; do
        uid=$(id -u "$name" 2>/dev/null) || continue
        as_user "$name" podman rm -a -f -t 0 >/dev/null 2>&1 || true
        for pid in $(ps -o pid= -u "$uid" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        sleep 0.3
        for pid in $(ps -o pid= -u "$uid" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        userdel -r -f "$name" >/dev/null 2>&1 || true
        rm -rf "/tmp/podman-run-$uid" "/tmp/containers-user-$uid" "/tmp/run-$uid"
    done
    for pid in ${RT_PIDS[@]+"${RT_PIDS[@]}"}; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$RT_DIR"
    exit "$rc"
}
RT_PIDS=()
trap rt_cleanup EXIT
trap 'exit 2' INT TERM

reproduced() { echo "REPRODUCED: $*"; exit 1; }
held_up() { echo "FIXED/HELD: $*"; exit 0; }
setup_failed() { echo "SETUP FAILED: $*" >&2; exit 2; }

user_home() { getent passwd "$1" | cut -d: -f6; }

as_user() {
    local name=$1 home
    shift
    home=$(user_home "$name")
    (cd "$home" && runuser -u "$name" -- env -i HOME="$home" USER="$name" LOGNAME="$name" \
        PATH="${RT_USER_PATH:+$RT_USER_PATH:}$GM_STAGE/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" LC_ALL=C.UTF-8 \
        XDG_RUNTIME_DIR="$home/.run" GIT_CONFIG_NOSYSTEM=1 GIT_MODEL_LEASE_DIR="$BOOK" \
        GIT_AUTHOR_NAME="$name" GIT_AUTHOR_EMAIL="$name@example.com" \
        GIT_COMMITTER_NAME="$name" GIT_COMMITTER_EMAIL="$name@example.com" \
        ${RT_ENV[@]+"${RT_ENV[@]}"} "$@")
}

rt_image_tar() {
    local tar="$RT_DIR/image.tar" root="$RT_DIR/image-root" applet
    [ -f "$tar" ] && return 0
    mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root"
    cp /bin/busybox "$root/bin/busybox"
    for applet in sh sleep cat env ls echo true false kill; do ln -sf busybox "$root/bin/$applet"; done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
    tar -C "$root" -cf "$tar" . && chmod 644 "$tar"
    rm -rf "$root"
}

rt_user() {
    local name=$1 with_podman=${2:-} home
    useradd -m -s /bin/sh "$name" >/dev/null || setup_failed "useradd $name"
    RT_USERS+=("$name")
    home=$(user_home "$name")
    mkdir -p "$home/.config/containers" "$home/.run"
    printf '[containers]\ndefault_ulimits = []\nnetns = "host"\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n' \
        >"$home/.config/containers/containers.conf"
    chmod 700 "$home/.run"
    chown -R "$name:" "$home/.config" "$home/.run"
    as_user "$name" git config --global init.defaultBranch main
    if [ "$with_podman" = podman ]; then
        grep -q "^$name:" /etc/subuid || setup_failed "no subordinate ids for $name"
        rt_image_tar
        as_user "$name" podman import -q "$RT_DIR/image.tar" "$RT_IMAGE" >/dev/null 2>&1 || setup_failed "podman import as $name"
    fi
}

# rt_repo USER MODEL...: ~/repo on the test image asking for one GPU, pool $RT_POOL, a worktree per model.
rt_repo() {
    local u=$1 m
    shift
    as_user "$u" git init -q repo
    as_user "$u" sh -c 'printf "image: %s\ngpus: 1\n" "$1" >repo/.modelenv.yaml && git -C repo add -A && git -C repo commit -q -m env' \
        sh "$RT_IMAGE"
    as_user "$u" git -C repo config model.installHooks never
    as_user "$u" git -C repo config model.gpus "$RT_POOL"
    as_user "$u" git -C repo config model.env.stopTimeout 1s
    for m in "$@"; do as_user "$u" git -C repo model start "$m" >/dev/null || setup_failed "model start $m as $u"; done
}
wt() { echo "$(user_home "$1")/worktrees/feature/model-$2"; }
