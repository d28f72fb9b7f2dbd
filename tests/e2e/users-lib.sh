# Real Unix users for tests of a shared server: sourced after lib.sh (and after podman-lib.sh
# when the test uses podman). Needs root, useradd/userdel and runuser; skips (125) otherwise.
#
#   make_user NAME           a new user with a home, subordinate ids and a rootless podman of
#                            their own (netns "host": /dev/net/tun is closed to rootless slirp4netns
#                            here; cgroupfs, runc), git set up; names must be unique to the test
#                            (e.g. gmtl-a-$$)
#   as_user NAME CMD...      runs CMD as NAME in a clean environment (HOME, the staged suite
#                            first on PATH, git config isolated, USERS_ENV added)
#   user_import_image NAME   imports the test image (built by podman-lib.sh) into NAME's podman
#   make_group NAME USER...  a new group with those members
#
# Every user made is removed on exit, even when the test fails: their containers, then their
# processes (by pid), then the user with their home (userdel -r).

[ "$(id -u)" -eq 0 ] || { echo "SKIP: the multi-user tests need root (useradd)"; exit 125; }
for tool in useradd userdel groupadd groupdel runuser newuidmap; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (apt-get install passwd util-linux uidmap)"; exit 125; }
done

TEST_USERS=()
TEST_GROUPS=()
USERS_ENV=()  # extra NAME=value settings every as_user gets (GIT_MODEL_LEASE_DIR, ...)

# The folders the users reach must be open to them (mktemp made the test's 0700).
chmod 755 "$TEST_DIR"

make_user() {
    local name=$1 home
    useradd -m -s /bin/sh "$name" >/dev/null
    TEST_USERS+=("$name")
    home=$(getent passwd "$name" | cut -d: -f6)
    grep -q "^$name:" /etc/subuid || usermod --add-subuids 200000-265535 --add-subgids 200000-265535 "$name"
    mkdir -p "$home/.config/containers" "$home/.run"
    cat >"$home/.config/containers/containers.conf" <<'CONF'
[containers]
default_ulimits = []
netns = "host"
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
    chmod 700 "$home/.run"
    chown -R "$name:" "$home/.config" "$home/.run"
    as_user "$name" git config --global init.defaultBranch main
    as_user "$name" git config --global advice.detachedHead false
}

make_group() {
    local name=$1 user
    shift
    groupadd "$name"
    TEST_GROUPS+=("$name")
    for user in "$@"; do usermod -aG "$name" "$user"; done
}

# The home folder of a test user.
user_home() { getent passwd "$1" | cut -d: -f6; }

# The sanitizer builds' settings (scripts/test: the leak suppressions for libgit2's own leak, abort on
# error) reach the other users' runs too: `env -i` would drop them, and a run as another user would
# report a third-party leak the suite's own runs suppress.
SANITIZER_ENV=()
for sanitizer_variable in ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS; do
    if [ -n "${!sanitizer_variable:-}" ]; then SANITIZER_ENV+=("$sanitizer_variable=${!sanitizer_variable}"); fi
done
unset sanitizer_variable

# as_group_writer NAME COMMAND...: as_user with umask 002, as the writers of a group-shared
# repository (core.sharedRepository=group) work.
as_group_writer() {
    local name=$1
    shift
    as_user "$name" sh -c 'umask 002; exec "$@"' sh "$@"
}

as_user() {
    local name=$1 home
    shift
    home=$(user_home "$name")
    (cd "$home" && runuser -u "$name" -- env -i HOME="$home" USER="$name" LOGNAME="$name" \
        PATH="$GM_STAGE/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" LC_ALL=C.UTF-8 \
        XDG_RUNTIME_DIR="$home/.run" GIT_CONFIG_NOSYSTEM=1 \
        GIT_AUTHOR_NAME="$name" GIT_AUTHOR_EMAIL="$name@example.com" \
        GIT_COMMITTER_NAME="$name" GIT_COMMITTER_EMAIL="$name@example.com" \
        ${SANITIZER_ENV[@]+"${SANITIZER_ENV[@]}"} ${USERS_ENV[@]+"${USERS_ENV[@]}"} "$@")
}

# user_import_image NAME: the test image (podman-lib.sh's busybox) in NAME's own podman.
user_import_image() {
    local tar="$TEST_DIR/users-image.tar"
    if [ ! -f "$tar" ]; then
        podman save -q --format oci-archive -o "$tar" "$TEST_IMAGE" >/dev/null
        chmod 644 "$tar"
    fi
    as_user "$1" podman load -q -i "$tar" >/dev/null 2>&1
}

users_cleanup() {
    local name uid pid home
    for name in ${TEST_USERS[@]+"${TEST_USERS[@]}"}; do
        uid=$(id -u "$name" 2>/dev/null) || continue
        as_user "$name" podman rm -a -f -t 0 >/dev/null 2>&1 || true
        for pid in $(ps -o pid= -u "$uid" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        sleep 0.2
        userdel -r -f "$name" >/dev/null 2>&1 || true
        rm -rf "/tmp/podman-run-$uid" "/tmp/containers-user-$uid" "/tmp/run-$uid"
    done
    for name in ${TEST_GROUPS[@]+"${TEST_GROUPS[@]}"}; do groupdel "$name" >/dev/null 2>&1 || true; done
    return 0
}

if declare -F podman_cleanup >/dev/null; then
    trap 'gm_status=$?; users_cleanup; podman_cleanup; on_exit $gm_status' EXIT
else
    trap 'gm_status=$?; users_cleanup; on_exit $gm_status' EXIT
fi
