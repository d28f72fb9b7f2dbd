#!/usr/bin/env bash
# End-to-end test of git-model-bench (`git model bench`) as installed under $GM_STAGE.
#
# Everywhere: usage errors exit 2; -h and --version work.
# Without a GPU (nvidia-smi -L fails): --quick exits 3 within 1 s with a message naming the
# cause, --json says verdict "no-gpu" in valid JSON, CUDA_VISIBLE_DEVICES= exits 3 too.
# With a GPU: --quick and the default mode pass (exit 0, JSON verdict "pass"), the memory test
# runs in the default mode, the PTX path works (CUDA_FORCE_PTX_JIT=1 makes the driver JIT-compile
# the PTX instead of loading SASS: what a Blackwell GPU does), several GPUs of one model are
# compared, --results-cache records each GPU, an impossible threshold fails (exit 1), and
# CUDA_VISIBLE_DEVICES= gives the "no device visible" answer.
# Exit 125 (skipped) when the binary is not installed or no NVIDIA GPU is visible.
# bench/gpu-session.sh runs this with the other hardware checks of issue 15.
. "$(dirname "$0")/bench-lib.sh"

if ! (command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1); then
    echo "SKIP: no NVIDIA GPU here (nvidia-smi -L found none); these checks run on a GPU machine" >&2
    exit 125
fi

# --- With a GPU -----------------------------------------------------------------------------
run -- --quick
expect_rc 0 "--quick on a GPU"
grep -q "^verdict: pass" "$tmp/out" || fail "--quick on a GPU: no 'verdict: pass'"
ok "--quick on a GPU: pass in ${ms} ms"

run -- --quick --json
expect_rc 0 "--quick --json on a GPU"
json 'd["verdict"] == "pass" and d["exit_code"] == 0 and d["mode"] == "quick" and d["error"] is None' "quick JSON verdict"
json 'd["devices"] and all(x["verdict"] == "pass" and x["uuid"].startswith("GPU-") for x in d["devices"])' "quick JSON devices"
json 'all(c["passed"] for x in d["devices"] for c in x["checks"])' "quick JSON checks"
ok "--quick --json on a GPU: pass, $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["devices"]))' "$tmp/out") GPU(s)"

run -- --json
expect_rc 0 "default mode on a GPU"
json 'd["verdict"] == "pass" and d["mode"] == "full"' "full JSON verdict"
json 'all(x["measurements"][k] is not None for x in d["devices"] for k in ("triad_gbps", "copy_gbps", "h2d_gbps", "d2h_gbps", "fp32_tflops", "triad_fraction", "fp32_fraction", "memtest_ms"))' "full JSON measurements"
json 'all(c["passed"] for x in d["devices"] for c in x["checks"] if c["name"] == "memory-integrity") and all(x["measurements"]["memtest_bytes"] > 0 for x in d["devices"])' "memory integrity"
json 'all(x["peer"] is not None for x in d["devices"] if sum(y["name"] == x["name"] for y in d["devices"]) > 1)' "peers compared"
python3 - "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for x in d["devices"]:
    m = x["measurements"]
    print(f'ok: GPU {x["index"]} {x["name"]}: triad {m["triad_gbps"]} GB/s ({m["triad_fraction"]:.1%}), '
          f'FP32 {m["fp32_tflops"]} TFLOP/s ({m["fp32_fraction"]:.1%}), H2D {m["h2d_gbps"]} GB/s, D2H {m["d2h_gbps"]} GB/s, '
          f'memory test {m["memtest_bytes"] / 2**30:.1f} GiB in {m["memtest_ms"]} ms; warnings: {x["warnings"]}')
PY
ok "default mode on a GPU: pass in ${ms} ms"

# The PTX path: the driver JIT-compiles the compute_70 PTX (ISA 7.8), as on GPUs newer than sm_90.
run CUDA_FORCE_PTX_JIT=1 -- --quick --json
expect_rc 0 "--quick with the PTX JIT-compiled"
json 'd["verdict"] == "pass" and all(c["passed"] for x in d["devices"] for c in x["checks"])' "PTX JIT verdict"
ok "--quick with CUDA_FORCE_PTX_JIT=1 (the Blackwell path): pass in ${ms} ms"

run -- --quick --json --results-cache "$tmp/results.json"
expect_rc 0 "--results-cache"
python3 - "$tmp/results.json" "$tmp/out" <<'PY' || fail "--results-cache: not every GPU recorded"
import json, sys
cache, report = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert cache["format"] == 1
for x in report["devices"]:
    entry = cache["gpus"][x["uuid"]]["quick"]
    assert entry["name"] == x["name"] and entry["verdict"] == "pass", entry
PY
ok "--results-cache records every GPU by UUID"

run -- --quick --json --min-quick-bandwidth-fraction 1
expect_rc 1 "impossible bandwidth threshold"
json 'd["verdict"] == "fail" and any(c["name"] == "triad-bandwidth" and not c["passed"] for x in d["devices"] for c in x["checks"])' "impossible threshold JSON"
ok "an impossible threshold fails with exit 1"

run -- --quick --json --device 999
expect_rc 3 "--device 999"
json 'd["verdict"] == "no-gpu" and d["error"]["kind"] == "no-device"' "--device 999 JSON"
ok "--device 999: exit 3, no-device"

run CUDA_VISIBLE_DEVICES= -- --quick
expect_rc 3 "CUDA_VISIBLE_DEVICES= on a GPU machine"
grep -q "CUDA_VISIBLE_DEVICES is set to an empty value" "$tmp/err" || fail "CUDA_VISIBLE_DEVICES=: message does not name the cause"
run CUDA_VISIBLE_DEVICES= -- --quick --json
expect_rc 3 "CUDA_VISIBLE_DEVICES= --json on a GPU machine"
json 'd["verdict"] == "no-gpu" and d["error"]["kind"] == "no-device"' "CUDA_VISIBLE_DEVICES= JSON"
ok "CUDA_VISIBLE_DEVICES= on a GPU machine: exit 3, no device visible"
