# Podman for end-to-end tests: sourced after lib.sh by the env and sweep tests.
#
# Uses a containers.conf of the test's own (never the machine's), a GPU lease
# folder of the test's own, and small local images built from busybox-static
# (no registry can be reached). Everything the test starts is removed on exit.

command -v podman >/dev/null || { echo "podman is not installed"; exit 125; }
[ -x /bin/busybox ] || { echo "busybox-static is not installed"; exit 125; }

export CONTAINERS_CONF="$TEST_DIR/containers.conf"
cat >"$CONTAINERS_CONF" <<'CONF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
export GIT_MODEL_LEASE_DIR="$TEST_DIR/leases"

# Stops what the test left running in its folder (a start in the background of a test that failed
# could make its container after the cleanup): every process whose working folder is in it, but
# this shell. SIGTERM first, which a start obeys by removing what it made.
stop_test_processes() {
    local pids=() p
    for p in $(find /proc/[0-9]*/cwd -maxdepth 0 \( -lname "$TEST_DIR" -o -lname "$TEST_DIR/*" \) 2>/dev/null); do
        p=${p#/proc/}
        p=${p%/cwd}
        [ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] || pids+=("$p")
    done
    [ ${#pids[@]} -eq 0 ] && return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    local alive
    for _ in $(seq 100); do
        alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && return 0
        sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    return 0
}

# Removes every container whose repository lives in this test's folder.
podman_cleanup() {
    local names
    stop_test_processes
    names=$(podman ps -a --filter label=io.git-model.managed=1 \
        --format '{{.Names}} {{index .Labels "io.git-model.repo"}}' 2>/dev/null | awk -v dir="$TEST_DIR" 'index($2, dir) == 1 {print $1}')
    [ -n "$names" ] && podman rm -f -t 0 $names >/dev/null 2>&1
    return 0
}
trap 'gm_status=$?; podman_cleanup; on_exit $gm_status' EXIT

# build_image NAME:TAG [with-git]: a busybox root, optionally with git and its libraries, imported once.
build_image() {
    local image=$1 with_git=${2:-}
    podman image exists "$image" && return 0
    local root="$TEST_DIR/image-root"
    rm -rf "$root"
    mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root" "$root/www"
    cp /bin/busybox "$root/bin/busybox"
    for applet in sh ash sleep cat env httpd ls echo wc mkdir id printf grep sed head tail kill ps nc true false touch stat df; do
        ln -sf busybox "$root/bin/$applet"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
    echo "hello from the container" >"$root/www/index.html"
    # A stand-in for Jupyter: serves HTTP on the --port it is given, and shows its token's length.
    cat >"$root/bin/jupyter" <<'JUPYTER'
#!/bin/sh
port=8888
for arg in "$@"; do case $arg in --port=*) port=${arg#--port=};; esac; done
echo "jupyter stand-in on port $port, token of ${#JUPYTER_TOKEN} characters"
exec httpd -f -p "$port" -h /www
JUPYTER
    chmod +x "$root/bin/jupyter"
    if [ -n "$with_git" ]; then
        mkdir -p "$root/usr/bin"
        cp "$(command -v git)" "$root/usr/bin/git"
        # git and its libraries, plus libm (git-model-bench needs it; it carries its C++ runtime)
        for lib in $(ldd "$(command -v git)" | awk '/=>/ {print $3} /ld-linux/ {print $1}') $(ldconfig -p | awk '/libm.so.6 .*x86-64/ {print $NF; exit}'); do
            mkdir -p "$root$(dirname "$lib")"
            cp -L "$lib" "$root$lib"
        done
    fi
    tar -C "$root" -cf "$TEST_DIR/image.tar" .
    podman import -q "$TEST_DIR/image.tar" "$image" >/dev/null
    rm -rf "$root" "$TEST_DIR/image.tar"
}

TEST_IMAGE=localhost/gm-test-busybox:3
TEST_GIT_IMAGE=localhost/gm-test-busybox-git:4
build_image "$TEST_IMAGE"

# write_modelenv DIR [EXTRA-YAML...]: a .modelenv.yaml on the test image, committed.
write_modelenv() {
    local dir=$1
    shift
    { echo "image: $TEST_IMAGE"; printf '%s\n' "$@"; } >"$dir/.modelenv.yaml"
    git -C "$dir" add .modelenv.yaml
    git -C "$dir" commit -q -m "environment"
}

# start_env_model MODEL [EXTRA-YAML...]: a repository "repo" (no hooks, a 1 s stop grace) whose
# committed .modelenv.yaml holds the extra lines, with MODEL started; its worktree is $WT.
start_env_model() {
    local model=$1
    shift
    make_repo repo
    git -C repo config model.installHooks never
    git -C repo config model.env.stopTimeout 1s
    write_modelenv repo "$@"
    run_expect 0 git -C repo model start "$model"
    WT="$TEST_DIR/worktrees/feature/model-$model"
}

# use_pull_engine: no registry can be reached here, so a podman of the test's own, first on
# PATH, really pulls $PULL_IMAGE (a name no registry has) from an OCI archive of the test image
# when asked to pull it: slowly (4 s first) while $TEST_DIR/slow-pull exists, failing with an
# "Error:" line while $TEST_DIR/fail-pull exists; each pull's pid is added to $TEST_DIR/pull.pids.
# While $TEST_DIR/slow-create (slow-start) exists, a `create` (`start`) waits 3 s first, its pid
# added to create.pids (start.pids).
# Sets PODMAN (the real one) and PULL_IMAGE, which is removed at exit.
use_pull_engine() {
    PODMAN=$(command -v podman)
    PULL_IMAGE="localhost/gm-test-pull-$(basename "$TEST_DIR" | tr 'A-Z.' 'a-z-'):1"
    local archive="$TEST_DIR/pull-image.tar"
    "$PODMAN" save --format oci-archive -o "$archive" "$TEST_IMAGE" >/dev/null 2>&1
    trap 'gm_status=$?; podman_cleanup; "$PODMAN" rmi -f "$PULL_IMAGE" >/dev/null 2>&1; on_exit $gm_status' EXIT
    mkdir -p "$TEST_DIR/engine"
    cat >"$TEST_DIR/engine/podman" <<SH
#!/bin/sh
if [ "\$1" = pull ] && [ "\$2" = "$PULL_IMAGE" ]; then
    echo \$\$ >>"$TEST_DIR/pull.pids"
    [ -e "$TEST_DIR/slow-pull" ] && sleep 4
    [ -e "$TEST_DIR/fail-pull" ] && { echo "Error: simulated: the registry refused the pull" >&2; exit 125; }
    id=\$("$PODMAN" pull "oci-archive:$archive") && exec "$PODMAN" tag "\$id" "$PULL_IMAGE"
    exit 125
fi
if [ "\$1" = create ] && [ -e "$TEST_DIR/slow-create" ]; then
    echo \$\$ >>"$TEST_DIR/create.pids"
    sleep 3
fi
if [ "\$1" = start ] && [ -e "$TEST_DIR/slow-start" ]; then
    echo \$\$ >>"$TEST_DIR/start.pids"
    sleep 3
fi
exec "$PODMAN" "\$@"
SH
    chmod +x "$TEST_DIR/engine/podman"
    export PATH="$TEST_DIR/engine:$PATH"
}

# http_get URL: the body, or fails.
http_get() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())' "$1"; }

# Our containers in this test, by name.
test_containers() {
    podman ps -a --filter label=io.git-model.managed=1 --format '{{.Names}} {{index .Labels "io.git-model.repo"}}' \
        | awk -v dir="$TEST_DIR" 'index($2, dir) == 1 {print $1}' | sort
}
