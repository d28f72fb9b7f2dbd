#!/usr/bin/env bash
# All the hardware proof of issue 15 in one go, for a session that has a GPU machine (a few
# minutes): built on a CPU machine, run on the GPU one with the staged install copied along
# (`cmake --install build/dev --prefix build/gpu-stage`, then `strip build/gpu-stage/bin/*` so
# that it fits the 64 MiB a device call carries; the run carries build/gpu-stage).
#
#   1. the machine: GPUs, driver, the binary's GPU code (--version);
#   2. tests/e2e/t-bench-gpu.sh: --quick and default mode pass, the memory test, the PTX path
#      (CUDA_FORCE_PTX_JIT=1), peers, --results-cache, thresholds, CUDA_VISIBLE_DEVICES=;
#   3. bench/gpu-bench.sh: wall times against nvidia-smi and the PyTorch one-liner, and the
#      figures against the issue's targets (--quick <= 300 ms, full < 1.5 s, triad >= 85%,
#      FP32 >= 80% of peak);
#   4. `git model env up --check` in a local image (glibc from this machine, busybox), in a model's
#      worktree, with podman from PATH, else the one bench/gpu-podman-pack.sh packed (carry
#      build/gpu-podman too), and a CDI spec written from the machine's /dev/nvidiaN and driver
#      libraries where nvidia-ctk wrote none; else a SKIP line says what is missing;
#   5. results follow the work on this GPU: the bench keeps its result in a test lease book's
#      bench-results/, a model whose lease names GPU 0 is tagged (the lease is written as
#      `env up` writes it, since no engine may be here), and the snapshot, `log` and `compare`
#      show the real GPU, driver and fractions.
# Prints every figure; ends with a summary line per step. Each step has a time limit.
#
# usage: bench/gpu-session.sh [STAGE]   (default: build/dev/stage)
# Exit: 0 every step passed or skipped, 1 a step failed, 125 no GPU here.
# shellcheck disable=SC2317  # the steps' functions run through bash -c "$(declare -f ...)"
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
stage=$(cd "${1:-build/dev/stage}" 2>/dev/null && pwd) || { echo "gpu-session: no stage folder ${1:-build/dev/stage}" >&2; exit 2; }
bench="$stage/bin/git-model-bench"
[[ -x $bench ]] || { echo "gpu-session: no $bench (cmake --install build/dev --prefix build/dev/stage)" >&2; exit 2; }
if ! (command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1); then
    echo "SKIP: gpu-session: no NVIDIA GPU here (nvidia-smi -L fails)" >&2
    "$bench" --quick >&2
    exit 125
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/gm-gpu-session.XXXXXX")
trap 'rm -rf "$work"' EXIT
declare -a summary=()
failed=0
step() {  # NAME SECONDS CMD...: runs CMD under a time limit, records its outcome
    local name=$1 limit=$2 rc start
    shift 2
    echo
    echo "=== $name"
    start=$(date +%s%N)
    timeout --kill-after=10 "$limit" "$@"
    rc=$?
    local seconds
    seconds=$(awk -v ns=$(( $(date +%s%N) - start )) 'BEGIN { printf "%.1f", ns / 1e9 }')
    case $rc in
    0) summary+=("pass  $name (${seconds} s)") ;;
    125) summary+=("skip  $name (${seconds} s)") ;;
    *) summary+=("FAIL  $name: exit $rc (${seconds} s)"); failed=1 ;;
    esac
}

echo "=== the machine"
date -u
nvidia-smi -L
nvidia-smi --query-gpu=index,name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit,compute_mode \
    --format=csv 2>/dev/null || true
"$bench" --version
uname -sr
for tool in git python3 podman cuobjdump; do
    printf '%-10s %s\n' "$tool" "$(command -v "$tool" || echo 'not installed')"
done

step "t-bench-gpu.sh" 150 env GM_STAGE="$stage" GM_TEST_TMP="$work" bash tests/e2e/t-bench-gpu.sh
step "bench/gpu-bench.sh" 150 bash bench/gpu-bench.sh -n 5 "$bench"
step "the bench's own report (default mode)" 40 "$bench"

# The engine for step 4: podman from PATH, else the one bench/gpu-podman-pack.sh packed (carried
# along: GPU machines often have no container engine and take no installs), unpacked into $work
# and run with its own libraries (RPATH, for it alone), configuration and storage. GM_PODMAN_FORCE_PACKED=1
# uses the packed one even where podman is installed (to try this on a machine without a GPU).
# Prints the busybox to build the image with.
engine_setup() {
    local packed=${GM_PODMAN_BUNDLE:-build/gpu-podman}/podman.tar.xz engine="$work/engine" busybox=/bin/busybox
    local engine_keys=""
    if ! command -v podman >/dev/null || [[ ${GM_PODMAN_FORCE_PACKED:-} == 1 ]]; then
        [[ -f $packed ]] || { echo "SKIP: podman is not installed here and none was packed ($packed: bench/gpu-podman-pack.sh)" >&2; return 125; }
        mkdir -p "$engine/path" "$engine/tmp" && tar -C "$engine" -xJf "$packed" || return 1
        ln -s ../bin/podman "$engine/path/podman"  # its libraries: an RPATH to ../lib
        engine_keys=$(printf 'conmon_path = ["%s/bin/conmon"]\ninit_path = "%s/bin/catatonit"\ntmp_dir = "%s/tmp"\n[engine.runtimes]\nrunc = ["%s/bin/runc"]' \
            "$engine" "$engine" "$engine" "$engine")
        busybox="$engine/bin/busybox"
        echo "using the packed $(cat "$engine/VERSION")" >&2
    fi
    [[ -x $busybox ]] || { echo "SKIP: $busybox (busybox-static) is not installed here" >&2; return 125; }
    # The host network (a packed engine has no network plugins); storage of the session's own.
    printf '[containers]\ndefault_ulimits = []\nnetns = "host"\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n%s\n' \
        "$engine_keys" >"$work/containers.conf"
    printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/storage"\nrunroot = "%s/storage-run"\n' "$work" "$work" >"$work/storage.conf"
    : >"$work/registries.conf"
    echo "$busybox"
}

# A CDI spec (what `nvidia-ctk cdi generate` writes) for the GPUs given as device files, with the
# driver's libraries found here, mounted into the image's library folder LIBDIR.
write_cdi_spec() {  # FILE LIBDIR DEVICE...
    local file=$1 libdir=$2 device lib path
    shift 2
    {
        printf 'cdiVersion: "0.3.0"\nkind: nvidia.com/gpu\ndevices:\n'
        for device in "$@"; do
            printf -- '- name: "%s"\n  containerEdits:\n    deviceNodes:\n    - path: %s\n' "${device#/dev/nvidia}" "$device"
        done
        printf 'containerEdits:\n  deviceNodes:\n'
        for device in /dev/nvidiactl /dev/nvidia-uvm /dev/nvidia-uvm-tools; do
            [[ -e $device ]] && printf '  - path: %s\n' "$device"
        done
        printf '  mounts:\n'
        for lib in libcuda.so.1 libnvidia-ml.so.1 libnvidia-ptxjitcompiler.so.1 libnvidia-nvvm.so.4; do
            path=$(driver_library "$lib")
            if [[ -n $path ]]; then
                printf '  - hostPath: %s\n    containerPath: %s/%s\n    options: [ro, nosuid, nodev, bind]\n' "$path" "$libdir" "$lib"
            fi
        done
        path=$(command -v nvidia-smi || true)
        if [[ -n $path ]]; then
            printf '  - hostPath: %s\n    containerPath: /usr/bin/nvidia-smi\n    options: [ro, nosuid, nodev, bind]\n' "$(readlink -f "$path")"
        fi
    } >"$file"
}

driver_library() {  # SONAME: the driver's file of that name here, followed to the real file
    local path
    path=$(ldconfig -p 2>/dev/null | awk -v l="$1" '$1 == l && /x86-64/ {print $NF; exit}')
    [[ -n $path ]] || path=$(find /usr/local/nvidia /usr/lib/x86_64-linux-gnu /usr/lib64 -name "$1" 2>/dev/null | head -1)
    [[ -n $path ]] && readlink -f "$path"
}

env_check() {  # `git model env up --check` in a local glibc image, then down
    local busybox rc=0
    made_cdi="" made_cdi_dir="" made_policy=""  # what this machine gets outside $work, taken away at the end
    trap '[[ -n $made_cdi ]] && rm -f "$made_cdi"; [[ -n $made_cdi_dir ]] && rmdir "$made_cdi_dir"; [[ -n $made_policy ]] && rm -f "$made_policy"; podman rmi -f "$image" >/dev/null 2>&1' EXIT
    busybox=$(engine_setup) || return $?
    export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_STORAGE_CONF="$work/storage.conf" \
        CONTAINERS_REGISTRIES_CONF="$work/registries.conf" GIT_MODEL_LEASE_DIR="$work/leases"
    export PATH="$work/engine/path:$PATH"
    image="localhost/gm-gpu-session:$$"
    local root="$work/root" libdir libcuda
    mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root"
    cp "$busybox" "$root/bin/busybox"
    for applet in sh sleep cat env ls echo true; do ln -sf busybox "$root/bin/$applet"; done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
    # glibc from this machine, all of one version: what the bench needs, and what libcuda needs.
    libcuda=$(driver_library libcuda.so.1)
    for lib in $({ ldd "$bench"; [[ -n $libcuda ]] && ldd "$libcuda"; } | awk '/=> \// {print $3} /ld-linux/ && !/=>/ {print $1}' | sort -u); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
    libdir=$(dirname "$(ldd "$bench" | awk '/libc.so/ {print $3}')")
    if ! ls /etc/cdi/nvidia*.yaml /var/run/cdi/nvidia*.yaml >/dev/null 2>&1; then
        local devices=(/dev/nvidia[0-9]*)
        [[ -e ${devices[0]} ]] || { echo "SKIP: no /dev/nvidiaN here for a CDI spec"; return 125; }
        [[ -d /var/run/cdi ]] || made_cdi_dir=/var/run/cdi
        mkdir -p /var/run/cdi && made_cdi=/var/run/cdi/nvidia-gm-gpu-session.yaml
        write_cdi_spec "$made_cdi" "$libdir" "${devices[@]}" || return 1
        echo "wrote the CDI spec $made_cdi:"
        cat "$made_cdi"
    fi
    if [[ ! -e /etc/containers/policy.json ]]; then  # podman import needs one; a bare machine has none
        mkdir -p /etc/containers && made_policy=/etc/containers/policy.json
        echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$made_policy"
    fi
    if tar -C "$root" -cf "$work/image.tar" . && podman import -q "$work/image.tar" "$image" >/dev/null; then
        export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$work/home/.gitconfig" PATH="$stage/bin:$PATH"
        mkdir -p "$HOME"
        git init -q -b main "$work/repo" && cd "$work/repo" || return 1
        printf 'image: %s\ngpus: 1\ncommand: [sleep, "600"]\n' "$image" >.modelenv.yaml
        git add .modelenv.yaml && git -c user.name=gpu -c user.email=gpu@example.com commit -q -m env
        git config model.gpus 0 && git config model.installHooks never
        git model start gpu >/dev/null || return 1
        cd "$work/worktrees/feature/model-gpu" || return 1
        local start
        start=$(date +%s%N)
        git model env up --check || rc=$?
        echo "env up --check: exit $rc in $(( ($(date +%s%N) - start) / 1000000 )) ms"
        git model env status || true
        git model env down || true
    else
        rc=1
    fi
    return "$rc"
}
step "git model env up --check in a local image" 120 bash -c "$(declare -f engine_setup write_cdi_spec driver_library env_check); work='$work' stage='$stage' bench='$bench'; env_check"

results_follow() {  # issue 15 point 8 on real hardware
    local book="$work/book" uuid common wa
    command -v git >/dev/null || { echo "SKIP: git is not installed here"; return 125; }
    export GIT_MODEL_LEASE_DIR="$book" XDG_CACHE_HOME="$work/cache" HOME="$work/home-results" GIT_CONFIG_NOSYSTEM=1 \
        GIT_CONFIG_GLOBAL="$work/home-results/.gitconfig" PATH="$stage/bin:$PATH"
    mkdir -p "$book" "$HOME" && chmod 0755 "$book"
    git config --global user.name gpu && git config --global user.email gpu@example.com
    git-model-bench >/dev/null || return 1
    ls -l "$book/bench-results/" || return 1
    uuid=$(nvidia-smi --query-gpu=uuid --format=csv,noheader | head -1)
    git init -q -b main "$work/results-repo" && cd "$work/results-repo" || return 1
    git commit -q --allow-empty -m base && git config model.installHooks never
    git model start alpha >/dev/null || return 1
    wa=$(git model list --json | python3 -c 'import json,sys; print([m["worktree"] for m in json.load(sys.stdin)["models"] if m["name"] == "alpha"][0])')
    common=$(cd .git && pwd -P)
    python3 "$OLDPWD/tests/e2e/write-lease.py" "$book" "$uuid" 0 alpha --pid $$ --repo "$common" >/dev/null || return 1
    git -C "$wa" commit -q --allow-empty -m "a run"
    git -C "$wa" model tag --metric acc=0.9 --no-push || return 1
    git -C "$wa" model log || return 1
    git -C "$wa" model log --json | python3 -c 'import json,sys; g=json.load(sys.stdin)["snapshots"][0]["gpus"]; print(g); assert g and g[0]["name"] and g[0]["triad_fraction"] and g[0]["fp32_fraction"], g' || return 1
    git -C "$wa" commit -q --allow-empty -m "a second run"
    git -C "$wa" model tag --metric acc=0.91 --no-push >/dev/null || return 1
    git -C "$wa" model compare v1 v2 | grep '^Hardware:' || return 1
}
step "results follow the work (tag, log, compare on this GPU)" 60 bash -c "$(declare -f results_follow); work='$work' stage='$stage'; cd '$PWD' && results_follow"

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
exit $failed
