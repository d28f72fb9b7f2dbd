#!/usr/bin/env bash
# The GPU code inside the installed git-model-bench, inspected with cuobjdump (NVIDIA's
# nvidia-cuda-cuobjdump wheel, which scripts/install-deps puts in .whl/venv): SASS for every
# architecture from Volta to Hopper (sm_70 sm_75 sm_80 sm_86 sm_89 sm_90), PTX for newer GPUs to
# JIT-compile whose ISA is at most 7.8 (so drivers from r520 on load it), the kernels the backend
# looks up by name, and --version telling the same. Fails when any of that is missing.
# Skips (125) when built with GM_WITH_CUDA=OFF, or when the build found no CUDA compiler or only
# nvcc (no NVRTC 11.8 wheels), except in CI (CI=true), where scripts/install-deps installs them.
. "$(dirname "$0")/bench-lib.sh"

compiler=${GM_BENCH_KERNELS_COMPILER:-}
if [[ $compiler == off ]]; then
    echo "SKIP: built with GM_WITH_CUDA=OFF: no GPU code to inspect" >&2
    exit 125
fi
if [[ $compiler != NVRTC* ]]; then
    why="git-model-bench was built ${compiler:+by $compiler }without NVIDIA's CUDA 11.8 wheels (run scripts/install-deps and rebuild)"
    [[ ${CI:-} == true ]] && { echo "FAIL: $why" >&2; exit 1; }
    echo "SKIP: $why" >&2
    exit 125
fi
cuobjdump=$(command -v cuobjdump || true)
for candidate in "${GM_CUDA11_VENV:-}"/lib/python3*/site-packages/nvidia/cu*/bin/cuobjdump; do
    [[ -z $cuobjdump && -x $candidate ]] && cuobjdump=$candidate
done
if [[ -z $cuobjdump ]]; then
    [[ ${CI:-} == true ]] && fail "no cuobjdump (the nvidia-cuda-cuobjdump wheel of scripts/install-deps)"
    echo "SKIP: no cuobjdump on PATH or in ${GM_CUDA11_VENV:-.whl/venv} (scripts/install-deps installs it)" >&2
    exit 125
fi

"$cuobjdump" --list-elf --list-ptx "$bench" >"$tmp/list" 2>"$tmp/err" || fail "cuobjdump cannot read $bench: $(cat "$tmp/err")"
for sm in 70 75 80 86 89 90; do
    grep -q "\.sm_$sm\.cubin\$" "$tmp/list" || fail "no SASS for sm_$sm in $bench: $(tr '\n' ' ' <"$tmp/list")"
done
ok "SASS for sm_70 sm_75 sm_80 sm_86 sm_89 sm_90"
ptx_count=$(grep -c "\.ptx\$" "$tmp/list" || true)
[[ $ptx_count -ge 1 ]] || fail "no PTX in $bench, so GPUs newer than sm_90 (Blackwell) would have no code"

"$cuobjdump" --dump-ptx "$bench" >"$tmp/ptx" 2>"$tmp/err" || fail "cuobjdump --dump-ptx: $(cat "$tmp/err")"
versions=$(sed -n 's/^\.version \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' "$tmp/ptx" | sort -u)
[[ -n $versions ]] || fail "the PTX has no .version line"
for v in $versions; do
    awk -v v="$v" 'BEGIN { split(v, p, "."); exit !(p[1] < 7 || (p[1] == 7 && p[2] <= 8)) }' ||
        fail "PTX ISA $v is above 7.8: drivers older than its CUDA version cannot JIT-compile it"
done
targets=$(sed -n 's/^\.target \(sm_[0-9]*\).*/\1/p' "$tmp/ptx" | sort -u | tr '\n' ' ')
ok "PTX ISA $(tr '\n' ' ' <<<"$versions")for $targets(at most 7.8)"

# Every kernel the driver backend looks up is in the PTX (and so in each SASS built from it).
for kernel in $(sed -n 's/.*get(k\.[a-z_]*, "\(gm_[a-z_]*\)");.*/\1/p' "${GM_SOURCE_DIR}/lib/gitmodel/gpu/driver_backend.cpp"); do
    grep -q "\.entry $kernel(" "$tmp/ptx" || fail "kernel $kernel, which the backend loads, is not in the PTX"
    found=$((${found:-0} + 1))
done
[[ ${found:-0} -ge 8 ]] || fail "found only ${found:-0} kernel names in driver_backend.cpp"
ok "the $found kernels the backend loads are in the binary"

run -- --version
expect_rc 0 "--version"
grep -q "sm_70 sm_75 sm_80 sm_86 sm_89 sm_90 compute_70" "$tmp/out" || fail "--version does not list the code: $(cat "$tmp/out")"
grep -q "kernels built with CUDA 11.8" "$tmp/out" || fail "--version does not name CUDA 11.8: $(cat "$tmp/out")"
ok "--version: $(cat "$tmp/out")"

# Nothing but glibc (and the C++ runtime, linked in) is needed: libcuda.so.1 is loaded at run time.
if command -v readelf >/dev/null; then
    needed=$(readelf -d "$bench" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    for lib in $needed; do
        case $lib in
        libc.so.6 | libm.so.6 | ld-linux-x86-64.so.2 | libdl.so.2 | libpthread.so.0 | librt.so.1) ;;
        libasan.so* | libubsan.so*) ;;  # the sanitizer build
        *) fail "git-model-bench needs $lib; it should need only glibc (needed: $needed)" ;;
        esac
    done
    ok "needs only $needed"
fi
