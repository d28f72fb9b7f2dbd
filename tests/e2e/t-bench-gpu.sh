#!/usr/bin/env bash
# End-to-end test of git-model-bench (`git model bench`) as installed under $GM_STAGE.
#
# Everywhere: usage errors exit 2; -h and --version work.
# Without a GPU (nvidia-smi -L fails): --quick exits 3 within 1 s with a message naming the
# cause, --json says verdict "no-gpu" in valid JSON, CUDA_VISIBLE_DEVICES= exits 3 too.
# With a GPU: --quick and the default mode pass (exit 0, JSON verdict "pass"), an impossible
# threshold fails (exit 1), and CUDA_VISIBLE_DEVICES= gives the "no device visible" answer.
# Exit 125 (skipped) when the binary is not installed or no NVIDIA GPU is visible.
set -euo pipefail

bench="${GM_STAGE:-}/bin/git-model-bench"
if [[ -z "${GM_STAGE:-}" || ! -x "$bench" ]]; then
    echo "SKIP: no git-model-bench under GM_STAGE='${GM_STAGE:-}'" >&2
    exit 125
fi
command -v python3 >/dev/null || { echo "FAIL: python3 is needed to validate the JSON output" >&2; exit 1; }

base="${GM_TEST_TMP:-${TMPDIR:-/tmp}}"
mkdir -p "$base"
tmp="$(mktemp -d "$base/t-bench.XXXXXX")"
failed=0
trap 'if [[ $failed == 0 ]]; then rm -rf "$tmp"; else echo "kept $tmp for inspection" >&2; fi' EXIT

fail() {
    failed=1
    echo "FAIL: $*" >&2
    echo "--- stdout of the last run:" >&2; cat "$tmp/out" >&2 || true
    echo "--- stderr of the last run:" >&2; cat "$tmp/err" >&2 || true
    exit 1
}
ok() { echo "ok: $*"; }

# run [ENV=VALUE...] -- ARGS...: runs the bench, leaving $rc, $ms (wall time) and $tmp/out, $tmp/err.
run() {
    local env=()
    while [[ $1 != -- ]]; do env+=("$1"); shift; done
    shift
    local start end
    start=$(date +%s%N)
    set +e
    env "${env[@]}" "$bench" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    set -e
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
}

# expect_rc N WHAT: the last run exited N.
expect_rc() { [[ $rc == "$1" ]] || fail "$2: expected exit $1, got $rc"; }

# json EXPR WHAT: EXPR (Python, with d = the last run's stdout parsed as JSON) holds.
json() {
    python3 - "$tmp/out" "$1" <<'PY' || fail "$2: JSON check failed: $1"
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError as e:
    print(f"invalid JSON: {e}", file=sys.stderr)
    sys.exit(1)
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

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
json 'all(x["measurements"][k] is not None for x in d["devices"] for k in ("triad_gbps", "copy_gbps", "h2d_gbps", "d2h_gbps", "fp32_tflops", "triad_fraction", "fp32_fraction"))' "full JSON measurements"
python3 - "$tmp/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for x in d["devices"]:
    m = x["measurements"]
    print(f'ok: GPU {x["index"]} {x["name"]}: triad {m["triad_gbps"]} GB/s ({m["triad_fraction"]:.1%}), '
          f'FP32 {m["fp32_tflops"]} TFLOP/s ({m["fp32_fraction"]:.1%}), H2D {m["h2d_gbps"]} GB/s, D2H {m["d2h_gbps"]} GB/s')
PY
ok "default mode on a GPU: pass in ${ms} ms"

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
