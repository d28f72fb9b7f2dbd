#!/usr/bin/env bash
# The Debian package: built with CPack from this build, then installed with apt, dependencies
# and all, into a container made from a minimal Debian bookworm root (debootstrap
# --variant=minbase: no git, no C++ runtime beyond the base), where `git model --version`,
# `git model start` in a fresh repository, the hooks, the man pages (one per command) and the completion files
# must then work. Needs root, podman, debootstrap and Debian's mirror; skips (125) without them.
# The root is cached under the build folder ($GM_BUILD_DIR/test-cache), the image in podman.
# Slow (CTest label "slow"): about 1.5 minutes to make the root the first time, then ~1 minute.
. "$(dirname "$0")/lib.sh"

: "${GM_BUILD_DIR:?run through ctest}"
[ "$(id -u)" -eq 0 ] || { echo "needs root (debootstrap)"; exit 125; }
for tool in podman debootstrap cpack dpkg-deb dpkg-shlibdeps; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed"; exit 125; }
done
MIRROR=${GM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE="$GM_BUILD_DIR/test-cache"
ROOT_TAR="$CACHE/bookworm-minbase.tar"
IMAGE=localhost/gm-test-bookworm-minbase:1

export CONTAINERS_CONF="$TEST_DIR/containers.conf"
cat >"$CONTAINERS_CONF" <<'CONF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF

# 1. The package, from this build.
run_expect 0 cpack --config "$GM_BUILD_DIR/CPackConfig.cmake" -G DEB -B "$TEST_DIR/pkg"
deb=$(ls "$TEST_DIR"/pkg/git-model_*.deb)
run_expect 0 dpkg-deb -f "$deb" Package Depends Recommends
assert_contains "$OUT" "Package: git-model"
assert_contains "$OUT" "git (>= 1:2.25)"
assert_contains "$OUT" "libc6"                     # computed by dpkg-shlibdeps
assert_contains "$OUT" "Recommends: podman, catatonit, git-lfs"
run_expect 0 dpkg-deb -c "$deb"
for path in usr/bin/git-model usr/bin/git-model-env usr/bin/git-model-bench usr/share/git-model/hooks/pre-push \
    usr/share/man/man1/git-model.1 usr/share/man/man1/git-model-env.1 usr/share/man/man5/gitmodelenv.5 \
    usr/share/bash-completion/completions/git-model usr/share/zsh/vendor-completions/_git-model; do
    assert_contains "$OUT" "./$path"
done
# every man page (a page per command), and the link pages `git help model-<cmd>` and the
# commands sharing a page are found by
for source in "$GM_SOURCE_DIR"/man/*.adoc; do
    page=$(basename "$source" .adoc)
    assert_contains "$OUT" "./usr/share/man/man${page##*.}/$page"
done
for link in gitmodel-tag.1 gitmodel-env-up.1 git-model-env-shell.1 gitmodel-env-shell.1; do
    assert_contains "$OUT" "./usr/share/man/man1/$link"
done

# 2. A clean Debian: a minimal root, made once and kept.
if ! podman image exists "$IMAGE"; then
    if [ ! -s "$ROOT_TAR" ]; then
        mkdir -p "$CACHE"
        if ! debootstrap --variant=minbase bookworm "$TEST_DIR/root" "$MIRROR" >"$TEST_DIR/debootstrap.log" 2>&1; then
            tail -5 "$TEST_DIR/debootstrap.log"
            echo "debootstrap failed (no network to $MIRROR?)"
            exit 125
        fi
        rm -rf "$TEST_DIR/root/var/cache/apt/archives/"*.deb
        tar -C "$TEST_DIR/root" -cf "$ROOT_TAR.part" . && mv "$ROOT_TAR.part" "$ROOT_TAR"
        rm -rf "$TEST_DIR/root"
    fi
    run_expect 0 podman import -q "$ROOT_TAR" "$IMAGE"
fi

# 3. Install with apt (hard dependencies only) and use it, as a new user would.
cat >"$TEST_DIR/pkg/inside.sh" <<'INSIDE'
set -eu
export DEBIAN_FRONTEND=noninteractive
if command -v git >/dev/null; then echo "the clean root already has git"; exit 2; fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends /pkg/git-model_*.deb >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 3; }
echo "installed: $(dpkg-query -W -f='${Package} ${Version} ${Status}' git-model)"
echo "pulled in: $(dpkg-query -W -f='${Package}' git)"
git --version
git model --version
git model -h | head -n 1
cd /tmp && mkdir repo && cd repo
git init -q -b main .
git config user.name Ana && git config user.email ana@example.com
echo 'import torch' >train.py && git add train.py && git commit -q -m init
git model start resnet50
test -d /tmp/worktrees/feature/model-resnet50 && echo "worktree: present"
git model list
git model hooks install
git -C /tmp/worktrees/feature/model-resnet50 commit -q --allow-empty -m "a commit through the installed hook"
echo "hooked commit: ok"
git model doctor --no-bench || echo "doctor exit: $?"
ls /usr/share/man/man1/git-model.1 /usr/share/man/man1/git-model-tag.1 /usr/share/man/man1/git-model-env-up.1 /usr/share/bash-completion/completions/git-model /usr/share/zsh/vendor-completions/_git-model
stat -c 'lease book: %U %a' /var/lib/git-model/gpu-leases /var/lib/git-model/gpu-leases/.lock
git model tag --help >/tmp/help.out 2>&1 || echo "tag --help exit: $?"
cat /tmp/help.out
git model gpus
git model env status 2>&1 || echo "env exit: $?"
git model bench --quick >/dev/null 2>&1 || echo "bench exit: $?"
INSIDE
run_expect 0 podman run --rm -v "$TEST_DIR/pkg:/pkg:ro" "$IMAGE" sh /pkg/inside.sh
assert_contains "$OUT" "installed: git-model 0."
assert_contains "$OUT" "install ok installed"
assert_contains "$OUT" "pulled in: git"
assert_contains "$OUT" "git model version "
assert_contains "$OUT" "usage: git model <command>"
assert_contains "$OUT" "Started model 'resnet50' on branch feature/model-resnet50"
assert_contains "$OUT" "worktree: present"
assert_contains "$OUT" "resnet50"
assert_contains "$OUT" "hooked commit: ok"
assert_contains "$OUT" "ok    hooks"
assert_contains "$OUT" "/usr/share/man/man1/git-model.1"
assert_contains "$OUT" "/usr/share/man/man1/git-model-tag.1"
assert_contains "$OUT" "/usr/share/man/man1/git-model-env-up.1"
# no man in the minimal root: a command's --help says its page cannot be shown, then the usage
assert_contains "$OUT" "no manual page 'git-model-tag'"
assert_contains "$OUT" "usage: git model tag"
# the postinst prepared the machine's GPU lease book: root's, sticky, a lock every user can take
assert_contains "$OUT" "lease book: root 1777"
assert_contains "$OUT" "lease book: root 644"
assert_contains "$OUT" "This machine has no GPU pool"
# no container engine in the clean root (only recommended): env says so, with exit 3
assert_contains "$OUT$ERR" "env exit: 3"
# git-model-bench's runtime is in the binary: it starts, finds no GPU, says so with exit 3
assert_contains "$OUT" "bench exit: 3"
