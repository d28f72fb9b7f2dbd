#!/usr/bin/env bash
# Issues 19/20: `env up` killed -9 while the engine creates the container (its podman client dies with
# it, die_with_parent), then `env down`: podman forgets the container (podman ps -a shows nothing),
# but its conmon and `runc init` stay for ever, in runc's state "created" (runc list). Nothing of
# git-model's (env status, env down, prune) sees or removes them.
set -euo pipefail
export PATH=/work/rt-prefix/bin:$PATH
T=$(mktemp -d /tmp/rt19-11.XXXXXX); chmod 755 "$T"
IMG=localhost/rt19-orphan-$$:1
export CONTAINERS_CONF=$T/containers.conf GIT_MODEL_LEASE_DIR=$T/leases
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n' >"$CONTAINERS_CONF"
ours() { podman ps -a --filter label=io.git-model.managed=1 --format '{{.Names}} {{index .Labels "io.git-model.repo"}}' | awk -v d="$T" 'index($2,d)==1{print $1}'; }
orphans() { ps -eo pid=,args= | awk -v d="$T/" '/[c]onmon/ && index($0, d) {print $1}'; }
cleanup() {
    for c in $(ours); do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
    for pid in $(orphans); do   # the orphans this test made: their runc container, then conmon
        id=$(ps -o args= -p "$pid" | sed -n 's/.* -c \([0-9a-f]\{64\}\) .*/\1/p')
        [ -n "$id" ] && runc delete --force "$id" >/dev/null 2>&1
        kill "$pid" 2>/dev/null || true
    done
    podman rmi -f "$IMG" >/dev/null 2>&1 || true; rm -rf "$T"
}
trap cleanup EXIT
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8; mkdir -p "$HOME"
git config --global user.name t; git config --global user.email t@x; git config --global init.defaultBranch main
r=$T/root; mkdir -p "$r/bin" "$r/etc" "$r/tmp"; cp /bin/busybox "$r/bin/"; for a in sh sleep; do ln -s busybox "$r/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"; tar -C "$r" -cf "$T/i.tar" .; podman import -q "$T/i.tar" "$IMG" >/dev/null
git init -q "$T/repo"; cd "$T/repo"
printf 'image: %s\ngpus: 1\ncommand: ["sleep", "600"]\n' "$IMG" >.modelenv.yaml; git add -A; git commit -qm env
git config model.installHooks never; git config model.env.stopTimeout 1s; git config model.gpus 0,1
git model start m >/dev/null; cd "$T/worktrees/feature/model-m"
for d in 0.05 0.1 0.2 0.3 0.4 0.5 0.7 1.0 0.05 0.1 0.2 0.3 0.4 0.5 0.7 1.0; do
    git-model-env up >/dev/null 2>&1 & p=$!
    sleep $d; kill -9 $p 2>/dev/null || true; wait $p 2>/dev/null || true
    sleep 1; git model env status >/dev/null 2>&1 || true; git-model-env down >/dev/null 2>&1 || true
    [ -n "$(orphans)" ] && break
done
sleep 1
n=$(orphans | wc -l)
if [ "$n" -gt 0 ]; then
    echo "FINDING: after env up killed -9 (at ${d}s) and env down, $n conmon/runc-init orphan(s) remain that podman no longer lists:"
    echo "    podman ps -a: $(ours | wc -l) container(s) of this repo; runc list: $(runc list 2>/dev/null | awk '$3=="created"' | wc -l) in state created"
    echo "    git model env status: $(git model env status 2>&1 | head -1)"
    exit 1
fi
echo OK
