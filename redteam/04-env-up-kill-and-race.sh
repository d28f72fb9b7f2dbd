#!/usr/bin/env bash
# Issues 19/20: `env up` killed -9 at different moments, and `env up` racing `env down`: afterwards a
# container must hold its GPU lease, and a GPU lease must belong to a live container or process.
# Finds: a container left running with no lease (its GPU handed out again), or a lease held for
# nothing (GPU lost until root releases it).
set -euo pipefail
export PATH=/work/rt-prefix/bin:$PATH
T=$(mktemp -d /tmp/rt19-04.XXXXXX); chmod 755 "$T"
IMG=localhost/rt19-sleep-$$:1
export CONTAINERS_CONF=$T/containers.conf GIT_MODEL_LEASE_DIR=$T/leases
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n' >"$CONTAINERS_CONF"
ours() { podman ps -a --filter label=io.git-model.managed=1 --format '{{.Names}} {{.State}} {{index .Labels "io.git-model.repo"}}' | awk -v d="$T" 'index($3,d)==1{print $1, $2}'; }
cleanup() {
    for c in $(ours | awk '{print $1}'); do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
    podman rmi -f "$IMG" >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8; mkdir -p "$HOME"
git config --global user.name t; git config --global user.email t@x; git config --global init.defaultBranch main
r=$T/root; mkdir -p "$r/bin" "$r/etc" "$r/tmp"; cp /bin/busybox "$r/bin/"; for a in sh cat id sleep echo env; do ln -s busybox "$r/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"; tar -C "$r" -cf "$T/i.tar" .; podman import -q "$T/i.tar" "$IMG" >/dev/null
git init -q "$T/repo"; cd "$T/repo"
printf 'image: %s\ngpus: 1\ncommand: ["sleep", "600"]\n' "$IMG" >.modelenv.yaml; git add -A; git commit -qm env
git config model.installHooks never; git config model.env.stopTimeout 1s; git config model.gpus 0,1
git model start m >/dev/null; W=$T/worktrees/feature/model-m; cd "$W"
found=0
leases() { git model gpus --json 2>/dev/null | python3 -c '
import json,sys
print(sum(len(g.get("holders") or []) for g in json.load(sys.stdin)["gpus"]))' 2>/dev/null || echo "?"; }
check() {  # WHAT
    local c n; c=$(ours | wc -l); n=$(leases)
    if [ "$c" -gt 0 ] && [ "$n" = 0 ]; then found=1; echo "FINDING ($1): container $(ours | tr '\n' ' ') runs with no GPU lease"; fi
    if [ "$c" = 0 ] && [ "$n" != 0 ] && [ "$n" != "?" ]; then found=1; echo "FINDING ($1): no container, but $n GPU lease(s) held:"; git model gpus 2>&1 | sed 's/^/    /'; fi
}
for d in 0.05 0.1 0.2 0.3 0.4 0.5 0.7 1.0; do
    git-model-env up >/dev/null 2>&1 & p=$!
    sleep $d; kill -9 $p 2>/dev/null || true; wait $p 2>/dev/null || true
    sleep 1
    git model env status >/dev/null 2>&1 || true   # lets the suite notice dead holders
    check "up killed after ${d}s"
    git-model-env down >/dev/null 2>&1 || true
    check "down after up killed after ${d}s"
done
for i in 1 2 3 4 5 6; do
    git-model-env up >"$T/u$i" 2>&1 & p=$!
    sleep 0.$((i * 1)); git-model-env down >"$T/d$i" 2>&1 || true
    wait $p || true
    check "up racing down #$i"
    git-model-env down >/dev/null 2>&1 || true
done
git-model-env up >/dev/null 2>&1; echo "sanity: held with one up = $(leases)"; git-model-env down >/dev/null 2>&1
[ $found = 0 ] && echo "OK"; exit $found
