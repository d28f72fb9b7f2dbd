#!/usr/bin/env bash
# Issue 19: env up reads the image's /etc/passwd and /etc/group (`cat` run in the image) to write
# the passwd it mounts. A hostile image can
#  (1) make that read unbounded: the image's own `cat` (run as root by env up) prints forever; git-model-env buffers all of it in
#      memory until model.engineTimeout (60 s by default) -> gigabytes, the machine's OOM killer;
#  (x) [not shown here: needs a non-root caller] keep its own account for the caller's uid ahead of ours: a line with the uid written
#      "01000" is not dropped (string compare), and libc/busybox resolve uid 1000 to it (name, HOME,
#      shell of the image's choosing; AllowUsers of sshd then names a user that does not resolve).
# Runs as root with `user: "1000:1000"` (the same plan_user path a non-root caller takes in host mode).
set -euo pipefail
export PATH=/work/rt-prefix/bin:$PATH
T=$(mktemp -d /tmp/rt19-03.XXXXXX); chmod 755 "$T"
IMG1=localhost/rt19-zero-passwd-$$:1 IMG2=localhost/rt19-lead0-passwd-$$:1
export CONTAINERS_CONF=$T/containers.conf GIT_MODEL_LEASE_DIR=$T/leases
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n' >"$CONTAINERS_CONF"
cleanup() {
    for c in $(podman ps -a --filter label=io.git-model.managed=1 --format '{{.Names}} {{index .Labels "io.git-model.repo"}}' | awk -v d="$T" 'index($2,d)==1{print $1}'); do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
    podman rmi -f "$IMG1" "$IMG2" >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8; mkdir -p "$HOME" "$T/s"
git config --global user.name t; git config --global user.email t@x; git config --global init.defaultBranch main
mkimage() {  # NAME PASSWD-SETUP
    local r=$T/root; rm -rf "$r"; mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/home"
    cp /bin/busybox "$r/bin/"; for a in sh cat id sleep echo env; do ln -s busybox "$r/bin/$a"; done
    eval "$2"
    tar -C "$r" -cf "$T/i.tar" .; podman import -q "$T/i.tar" "$1" >/dev/null
}
mkimage "$IMG1" 'echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"; echo "root:x:0:" >"$r/etc/group"; rm "$r/bin/cat"; printf "#!/bin/sh\\nexec /bin/busybox yes root:x:0:0:root:/root:/bin/sh\\n" >"$r/bin/cat"; chmod +x "$r/bin/cat"'
mkimage "$IMG2" 'printf "root:x:0:0:root:/root:/bin/sh\nevil:x:01000:0:evil:/root:/bin/sh\n" >"$r/etc/passwd"; printf "root:x:0:\n" >"$r/etc/group"'
found=0
repo() {  # DIR IMAGE
    git init -q "$1"; printf 'image: %s\nuser: "1000:1000"\ncommand: ["sleep", "600"]\n' "$2" >"$1/.modelenv.yaml"
    git -C "$1" add -A; git -C "$1" commit -qm env; git -C "$1" config model.installHooks never
    git -C "$1" config model.env.stopTimeout 1s
    git -C "$1" model start m >/dev/null
}
# (1) /dev/zero passwd, engine timeout cut to 4 s so the machine survives the test
repo "$T/r1" "$IMG1"; git -C "$T/r1" config model.engineTimeout 4s
cd "$T/worktrees/feature/model-m"
/usr/bin/time -f '%M' -o "$T/rss" git-model-env up >"$T/up1" 2>&1 || true
rss=$(tail -1 "$T/rss")
head -c 600 "$T/up1"; echo; echo "max RSS of env up in 4 s: $((rss / 1024)) MiB"
if [ "$rss" -gt 262144 ]; then
    found=1; echo "FINDING: an image whose cat never stops makes env up buffer $((rss / 1024)) MiB in 4 s (unbounded read; 60 s by default)"
fi
ls -la "$T/r1/.git/git-model/env/.images/" 2>/dev/null | tail -n +4 | sed "s/^/    cached: /"
git-model-env down >/dev/null 2>&1 || true
# (2) user: "1000:1000" through a rootful engine (root here; the same for a socket user): the
#     passwd/group env up mounts are 0600 files of the caller, which uid 1000 inside cannot read.
repo "$T/s/r2" "$IMG2"; cd "$T/s/worktrees/feature/model-m"
git-model-env up >"$T/up2" 2>&1 || { cat "$T/up2"; }
grep 'user ' "$T/up2" || true
out=$(git-model-env exec -- sh -c 'id -un; cat /etc/passwd; touch $HOME/.x && echo home-writable' 2>&1 || true)
echo "inside: $out"
case $out in *"Permission denied"*|*"unknown ID"*)
    found=1; echo "FINDING: with user: \"1000:1000\" on a rootful engine the generated /etc/passwd is unreadable inside (mode $(stat -c %a "$T/s/r2/.git/git-model/env/m/passwd" 2>/dev/null || echo '?'), owner the caller): $(echo $out | head -c 150)";;
esac
git-model-env down >/dev/null 2>&1 || true
[ $found = 0 ] && echo OK
exit $found
