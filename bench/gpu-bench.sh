#!/usr/bin/env bash
# Times `git model bench` against its peers on a GPU machine, in one go:
#   git-model-bench --quick, git-model-bench (default mode), the floor of any CUDA program (cuInit and a
#   context, bench/cuda-floor.c, when a C compiler is here), nvidia-smi, nvidia-smi -L, and
#   python3 -c "import torch; torch.cuda.is_available()" when Python has torch,
# each once untimed (caches, driver state) and then N times (default 5); prints the median wall
# time of each, its ratio to --quick, and the targets of the issue (--quick <= 300 ms, default
# mode <= 1.5 s, triad >= 85% and FP32 >= 80% of peak on the H100).
#
# usage: bench/gpu-bench.sh [-n RUNS] [PATH-TO-git-model-bench | BUILD-DIR]
#   Without a path: git-model-bench from PATH, else from ./build*/git-model-bench/.
# Exit: 0 done (targets are reported, not enforced), 1 a bench run failed, 2 usage, 125 no GPU.
set -euo pipefail

runs=5
while getopts "n:h" opt; do
    case $opt in
    n) runs=$OPTARG ;;
    h) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || { echo "gpu-bench: -n needs a positive number" >&2; exit 2; }

# Find the binary.
bench=""
if [[ $# -ge 1 ]]; then
    if [[ -d $1 ]]; then
        for candidate in "$1/git-model-bench/git-model-bench" "$1/bin/git-model-bench" "$1/git-model-bench"; do
            [[ -x $candidate && ! -d $candidate ]] && { bench=$candidate; break; }
        done
    elif [[ -x $1 ]]; then
        bench=$1
    fi
    [[ -n $bench ]] || { echo "gpu-bench: no git-model-bench at '$1'" >&2; exit 2; }
elif command -v git-model-bench >/dev/null; then
    bench=$(command -v git-model-bench)
else
    repo=$(cd "$(dirname "$0")/.." && pwd)
    for candidate in "$repo"/build*/git-model-bench/git-model-bench; do
        [[ -x $candidate ]] && { bench=$candidate; break; }
    done
    [[ -n $bench ]] || { echo "gpu-bench: git-model-bench is not on PATH and not built under $repo/build*/ (pass its path)" >&2; exit 2; }
fi

if ! (command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1); then
    echo "SKIP: gpu-bench: no NVIDIA GPU here (nvidia-smi -L fails): nothing to measure" >&2
    "$bench" --quick >&2 || true
    exit 125
fi

now_ns() { date +%s%N; }

# time_command NAME CMD...: runs CMD once untimed, then $runs times; records the median in ms.
declare -A median_ms=()
names=()
time_command() {
    local name=$1
    shift
    local samples=() start end status
    status=0
    "$@" >/dev/null 2>&1 || status=$?
    if [[ $status != 0 ]]; then
        echo "gpu-bench: '$*' failed (exit $status); its output:" >&2
        "$@" >&2 || true
        return 1
    fi
    for ((i = 0; i < runs; i++)); do
        start=$(now_ns)
        "$@" >/dev/null 2>&1 || { echo "gpu-bench: '$*' failed on run $((i + 1))" >&2; return 1; }
        end=$(now_ns)
        samples+=($(( (end - start) / 1000 )))  # microseconds
    done
    local sorted
    sorted=$(printf '%s\n' "${samples[@]}" | sort -n)
    local n=${#samples[@]} median
    if (( n % 2 )); then
        median=$(sed -n "$(( n / 2 + 1 ))p" <<<"$sorted")
    else
        median=$(( ( $(sed -n "$(( n / 2 ))p" <<<"$sorted") + $(sed -n "$(( n / 2 + 1 ))p" <<<"$sorted") ) / 2 ))
    fi
    median_ms[$name]=$(awk -v us="$median" 'BEGIN { printf "%.1f", us / 1000 }')
    names+=("$name")
    printf '  %-44s median %9s ms  (runs: %s us)\n' "$name" "${median_ms[$name]}" "$(tr '\n' ' ' <<<"$sorted")"
}

echo "gpu-bench: $("$bench" --version)"
echo "GPUs:"
nvidia-smi -L | sed 's/^/  /'
echo "timing each command once untimed, then $runs times:"
failed=0
time_command "git-model-bench --quick" "$bench" --quick || failed=1
time_command "git-model-bench (default mode)" "$bench" || failed=1
# The floor: a C program that only initialises CUDA and makes a context (bench/cuda-floor.c).
floor_bin="${TMPDIR:-/tmp}/gm-cuda-floor.$$"
if cc=$(command -v "${CC:-cc}" || command -v gcc) && "$cc" -O2 -o "$floor_bin" "$(dirname "$0")/cuda-floor.c" -ldl 2>/dev/null; then
    time_command "cuda-floor (cuInit + context, exit)" "$floor_bin" || failed=1
    rm -f "$floor_bin"
else
    echo "  (no C compiler here: the CUDA start-up floor, bench/cuda-floor.c, is skipped)"
fi
time_command "nvidia-smi" nvidia-smi || failed=1
time_command "nvidia-smi -L" nvidia-smi -L || failed=1
torch_line='import torch; torch.cuda.is_available()'
if command -v python3 >/dev/null && python3 -c 'import torch' >/dev/null 2>&1; then
    time_command "python3 -c \"$torch_line\"" python3 -c "$torch_line" || failed=1
else
    echo "  (python3 with torch not found: the PyTorch one-liner is skipped)"
fi

echo
printf '%-46s %12s %16s\n' "command" "median ms" "x --quick"
quick=${median_ms["git-model-bench --quick"]:-}
for name in "${names[@]}"; do
    ratio="-"
    [[ -n $quick ]] && ratio=$(awk -v a="${median_ms[$name]}" -v b="$quick" 'BEGIN { printf "%.2f", a / b }')
    printf '%-46s %12s %16s\n' "$name" "${median_ms[$name]}" "$ratio"
done

# The bench's own figures (one default-mode run) against the issue's targets.
echo
"$bench" --json >"${TMPDIR:-/tmp}/gpu-bench.$$.json" 2>/dev/null || failed=1
if command -v python3 >/dev/null; then
    python3 - "${TMPDIR:-/tmp}/gpu-bench.$$.json" "$quick" "${median_ms["git-model-bench (default mode)"]:-}" <<'PY' || true
import json, sys
d = json.load(open(sys.argv[1]))
quick, full = (float(x) if x else None for x in sys.argv[2:4])
def target(label, value, limit, better):
    if value is None:
        return
    met = value <= limit if better == "below" else value >= limit
    print(f"  {label:<38} {value:>10.3f}  target {'<=' if better == 'below' else '>='} {limit:<8} {'met' if met else 'MISSED'}")
print("targets (issue 15, for H100/H200; fractions are of the median repetition):")
target("--quick wall time (ms)", quick, 300, "below")
target("default mode wall time (ms)", full, 1500, "below")
for x in d.get("devices", []):
    m = x["measurements"]
    print(f"  GPU {x['index']} {x['name']}: triad {m['triad_gbps']} GB/s, copy {m['copy_gbps']} GB/s, "
          f"FP32 {m['fp32_tflops']} TFLOP/s, H2D {m['h2d_gbps']} GB/s, D2H {m['d2h_gbps']} GB/s")
    target(f"GPU {x['index']} triad / peak", m["triad_fraction"], 0.85, "above")
    target(f"GPU {x['index']} FP32 FMA / peak", m["fp32_fraction"], 0.80, "above")
print(f"verdict of that run: {d['verdict']}")
PY
fi
rm -f "${TMPDIR:-/tmp}/gpu-bench.$$.json"
exit $failed
