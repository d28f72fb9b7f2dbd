#!/usr/bin/env bash
# The installed git-model-bench on a fake NVIDIA driver: tests/support/fake_libcuda.cpp, found
# through LD_LIBRARY_PATH as libcuda.so.1, keeps "device memory" in host memory and runs the
# kernels' work on the CPU. So the real binary (its dlopen of the driver, its embedded kernels'
# image, every launch and copy, the memory test) runs here without a GPU, and each odd case a
# real driver reports (compute mode prohibited, ECC reset pending, MIG slice, a driver too old for
# the PTX, a libcuda lacking an entry point, a bad memory word) gets its verdict, exit code and fix.
# Skips (125) when the binary was built without GPU kernels.
. "$(dirname "$0")/bench-lib.sh"

fake=${GM_FAKE_DRIVER_DIR:-}
old=${GM_FAKE_OLD_DRIVER_DIR:-}
[[ -e $fake/libcuda.so.1 && -e $old/libcuda.so.1 ]] || { echo "SKIP: no fake driver built (GM_FAKE_DRIVER_DIR='$fake')" >&2; exit 125; }
"$bench" --version >"$tmp/out"
if grep -q "without GPU kernels" "$tmp/out"; then
    echo "SKIP: git-model-bench was built without GPU kernels (no CUDA compiler): nothing to load" >&2
    exit 125
fi
with_fake=(LD_LIBRARY_PATH="$fake${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")

# --- a healthy fake GPU -----------------------------------------------------------------------------
run "${with_fake[@]}" -- --quick --json
expect_rc 0 "--quick on the fake driver"
json 'd["verdict"] == "pass" and d["cuda_driver_version"] == "12.2" and d["kernels_cuda_version"] == "11.8"' "quick verdict"
json 'd["devices"][0]["name"] == "Fake GPU" and all(c["passed"] for c in d["devices"][0]["checks"])' "quick checks"
json '[c["name"] for c in d["devices"][0]["checks"]] == ["triad-result", "copy-result", "triad-bandwidth", "fma-result", "transfer-result"]' "quick check list"
ok "--quick on the fake driver: the embedded kernels load, every result verified"

run "${with_fake[@]}" -- --json
expect_rc 0 "full mode on the fake driver"
json 'd["verdict"] == "pass" and d["mode"] == "full"' "full verdict"
json 'any(c["name"] == "memory-integrity" and c["passed"] for c in d["devices"][0]["checks"])' "memory test ran"
json 'd["devices"][0]["measurements"]["memtest_bytes"] >= 16 << 20 and d["devices"][0]["memtest_errors"] == []' "memory test size"
ok "full mode on the fake driver, memory test included"

run "${with_fake[@]}" FAKE_CUDA_BAD_WORD=3 -- --json
expect_rc 1 "a bad memory word"
json 'not [c for c in d["devices"][0]["checks"] if c["name"] == "memory-integrity"][0]["passed"]' "memory-integrity fails"
json 'd["devices"][0]["memtest_errors"][0]["offset"] == 24 and d["devices"][0]["memtest_errors"][0]["test"] == "address-in-address"' "failing address"
run "${with_fake[@]}" FAKE_CUDA_BAD_WORD=3 -- 
expect_rc 1 "a bad memory word (table)"
grep -q "FAIL  memory-integrity .*(offset 24)" "$tmp/out" || fail "the table does not show the failing word"
ok "a bad word of memory fails with its address and offset"

run "${with_fake[@]}" FAKE_CUDA_DEVICE_COUNT=3 -- --quick --json
expect_rc 0 "three fake GPUs"
json 'len(d["devices"]) == 3 and all(x["peer"]["peers"] == 2 for x in d["devices"])' "peers compared"
ok "three GPUs of one model are compared with each other"

# --- odd hardware: its own verdict, exit 3, a fix ------------------------------------------------------
cannot_judge() {  # KIND HINT-PART ENV...: --quick exits 3, verdict cannot-judge, error kind KIND, a hint
    local kind=$1 hint=$2
    shift 2
    run "${with_fake[@]}" "$@" -- --quick --json
    expect_rc 3 "$kind"
    json "d['verdict'] == 'cannot-judge' and d['error']['kind'] == '$kind'" "$kind JSON"
    run "${with_fake[@]}" "$@" -- --quick
    expect_rc 3 "$kind (table)"
    grep -q "^git-model-bench: error: " "$tmp/err" || fail "$kind: no error line"
    grep -q "^hint: .*$hint" "$tmp/err" || fail "$kind: the hint lacks '$hint'"
    grep -q "^verdict: cannot-judge" "$tmp/out" || fail "$kind: no 'verdict: cannot-judge'"
    ok "$kind: exit 3, verdict cannot-judge, hint: $(sed -n 's/^hint: //p' "$tmp/err" | cut -c1-90)..."
}
cannot_judge compute-prohibited "nvidia-smi -i 0 -c DEFAULT" FAKE_CUDA_COMPUTE_MODE=2
cannot_judge ecc-pending "nvidia-smi -r -i 0" FAKE_CUDA_RETAIN_RESULT=214
cannot_judge device-busy "nvidia-smi" FAKE_CUDA_RETAIN_RESULT=46
cannot_judge mig-slice "disables MIG" FAKE_CUDA_MIG=1
cannot_judge driver-too-old "release 520 or newer" FAKE_CUDA_DRIVER_VERSION=11040 FAKE_CUDA_MODULE_RESULT=222 FAKE_CUDA_CC_MAJOR=10
grep -q "supports CUDA up to 11.4" "$tmp/err" || fail "driver-too-old: the message does not say what the driver supports"

run LD_LIBRARY_PATH="$old" -- --quick --json
expect_rc 3 "a libcuda lacking an entry point"
json 'd["verdict"] == "cannot-judge" and d["error"]["kind"] == "driver-too-old" and "lacks cuMemGetInfo_v2" in d["error"]["message"]' "old driver JSON"
ok "a libcuda.so.1 lacking an entry point: driver-too-old"

# A kernel that fails on the GPU is a broken GPU: exit 1, never "cannot judge".
run "${with_fake[@]}" FAKE_CUDA_LAUNCH_RESULT=700 -- --quick --json
expect_rc 1 "a failing launch"
json 'd["verdict"] == "fail" and any(c["name"] == "cuda-error" and not c["passed"] for c in d["devices"][0]["checks"])' "cuda-error"
ok "a launch failing with CUDA_ERROR_ILLEGAL_ADDRESS fails the GPU"
