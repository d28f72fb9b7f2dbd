#!/usr/bin/env bash
# End-to-end test of git-model-bench (`git model bench`) as installed under $GM_STAGE.
#
# Everywhere: usage errors exit 2; -h and --version work.
# Without a GPU (nvidia-smi -L fails): --quick exits 3 within 1 s with a message naming the
# cause, --json says verdict "no-gpu" in valid JSON, CUDA_VISIBLE_DEVICES= exits 3 too.
# With a GPU: --quick and the default mode pass (exit 0, JSON verdict "pass"), an impossible
# threshold fails (exit 1), and CUDA_VISIBLE_DEVICES= gives the "no device visible" answer.
# Exit 125 (skipped) only when the binary is not installed.
. "$(dirname "$0")/bench-lib.sh"

# --- Everywhere -----------------------------------------------------------------------------
run -- --no-such-option
expect_rc 2 "unknown option"
grep -q "unknown option '--no-such-option'" "$tmp/err" || fail "unknown option: no message"
run -- --quik
expect_rc 2 "mistyped option"
grep -q "did you mean --quick" "$tmp/err" || fail "mistyped option: no suggestion"
run -- --device
expect_rc 2 "--device without a value"
run -- --min-bandwidth-fraction 2
expect_rc 2 "fraction above 1"
run -- stray
expect_rc 2 "stray argument"
ok "usage errors exit 2"
run -- -h
expect_rc 0 "-h"
grep -q "^usage: git model bench" "$tmp/out" || fail "-h: no usage text"
run -- --version
expect_rc 0 "--version"
grep -q "^git-model-bench " "$tmp/out" || fail "--version: no version line"
ok "-h and --version"

if ! (command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1); then
    # --- No GPU -------------------------------------------------------------------------------
    causes='no NVIDIA driver|no GPU visible|built without GPU kernels|driver .* (supports CUDA up to|is too old)|busy|bad state'
    run -- --quick
    expect_rc 3 "--quick without a GPU"
    # (how fast: bench/gpu-bench.sh measures it; timings stay out of pass/fail tests)
    grep -Eq "^git-model-bench: error: .*($causes)" "$tmp/err" || fail "--quick without a GPU: no message naming the cause"
    grep -q "^hint: " "$tmp/err" || fail "--quick without a GPU: no hint"
    ok "--quick without a GPU: exit 3 in ${ms} ms: $(head -1 "$tmp/err" | cut -c1-100)..."

    run -- --quick --json
    expect_rc 3 "--quick --json without a GPU"
    json 'd["verdict"] == "no-gpu" and d["exit_code"] == 3 and d["devices"] == []' "no-gpu JSON"
    json 'd["error"]["kind"] in ("no-driver", "driver-too-old", "no-device", "device-busy", "device-bad-state", "no-cuda-support")' "no-gpu JSON error kind"
    json 'isinstance(d["error"]["message"], str) and d["error"]["message"]' "no-gpu JSON message"
    kind=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"]["kind"])' "$tmp/out")
    ok "--quick --json without a GPU: verdict no-gpu, error kind $kind"

    run -- --json
    expect_rc 3 "default mode without a GPU"
    json 'd["verdict"] == "no-gpu" and d["mode"] == "full"' "default mode no-gpu JSON"

    run CUDA_VISIBLE_DEVICES= -- --quick --json
    expect_rc 3 "CUDA_VISIBLE_DEVICES= without a GPU"
    if [[ $kind == no-cuda-support ]]; then
        json 'd["error"]["kind"] == "no-cuda-support"' "CUDA_VISIBLE_DEVICES= (no CUDA support)"
    elif [[ -e /proc/driver/nvidia/version ]]; then
        json 'd["error"]["kind"] == "no-device" and "CUDA_VISIBLE_DEVICES" in d["error"]["message"]' "CUDA_VISIBLE_DEVICES= with a driver"
    else
        json 'd["error"]["kind"] == "no-driver"' "CUDA_VISIBLE_DEVICES= without a driver"
    fi
    ok "CUDA_VISIBLE_DEVICES= without a GPU: exit 3"
    echo "(the checks that need an NVIDIA GPU are in t-bench-gpu.sh)"
fi

